"""The server address and enrollment code typed in the first-run wizard enroll the
laptop at the administrator's first log-in (against the real reference server)."""

import pytest
from PySide6.QtWidgets import QCheckBox, QLineEdit

from server.testing import running_server
from tests.conftest import FAST_KDF


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv


def _to_recovery_page(wiz, qtbot) -> None:
    page = wiz.currentPage()
    page.name.setText("Rosa Quispe")
    page.password.setText("clave-admin-1")
    page.password2.setText("clave-admin-1")
    wiz.next()
    picker = wiz.currentPage().picker
    picker.dep.setCurrentIndex(picker.dep.findData("08"))
    picker.prov.setCurrentIndex(picker.prov.findData("0801"))
    picker.dist.setCurrentIndex(picker.dist.findData("080108"))
    wiz.next()
    qtbot.waitUntil(lambda: wiz.ws is not None, timeout=5000)


def test_wizard_code_enrolls_at_first_login(qtbot, data_dir, server):
    from app.ui.shell.app_window import build

    win = build(data_dir, {"kdf": FAST_KDF})
    qtbot.addWidget(win)
    win.start()
    wiz = win.wizard
    _to_recovery_page(wiz, qtbot)
    # recovery page: type the last group and tick the box, as a person must
    rec = wiz.currentPage()
    for child in rec.findChildren(QLineEdit):
        child.setText(wiz.recovery_code.split("-")[-1])
    for box in rec.findChildren(QCheckBox):
        box.setChecked(True)
    assert rec.isComplete()
    wiz.next()
    wiz.server_page.url.setText(server.url)
    wiz.server_page.code.setText(server.admin.enroll_code("080108"))
    wiz.accept()
    qtbot.waitUntil(lambda: win.login_page is not None and win.login_page.isVisible(), timeout=5000)
    assert win.ws.centre.device() is None  # nothing happens before someone logs in
    win.login_page.password.setText("clave-admin-1")
    win.login_page.submit()
    qtbot.waitUntil(lambda: win.ws.centre.device() is not None, timeout=15000)
    dev = win.ws.centre.device()
    assert dev.server_url == server.url and dev.ule_ubigeo == "080108"
    win.close()
