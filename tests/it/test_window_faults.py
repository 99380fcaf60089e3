"""Issue 17 item 10: the small window faults IT met — the enrollment dialog shows the
whole key fingerprint, the status bar follows an enrollment made in the console, and
the backup screen proposes a place off the laptop's data folder (warning otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.paths import backup_folder, same_disk
from app.sync.protocol import key_fingerprint
from app.workspace import Workspace
from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv


@pytest.fixture
def window(qtbot, data_dir: Path, clock, ws_factory):
    from app.ui.shell.app_window import build

    ws = ws_factory(create=True)
    ws.settings.update(ule_ubigeo=ULE)
    ws.close()
    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock})
    qtbot.addWidget(win)
    win.start()
    win.login_page.user.setCurrentText("admin")
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    yield win
    win.close()


def test_enroll_dialog_shows_the_whole_fingerprint(window, server, qtbot):
    from app.ui.sync.sync_dialogs import EnrollDialog

    dlg = EnrollDialog(window.sync_menu.ctl, window)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.url.setText(server.url)
    dlg.code.setText(server.admin.enroll_code(ULE))
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result_info is not None or "No se" in dlg.message.text(),
                    timeout=30000)
    assert dlg.result_info is not None, dlg.message.text()
    fp = dlg.fingerprint
    qtbot.waitUntil(fp.isVisible, timeout=5000)
    assert fp.text() == key_fingerprint(server.signing_public)
    assert fp.width() >= fp.sizeHint().width()  # not cut off
    assert fp.geometry().right() <= dlg.width()


def test_status_bar_follows_an_enrollment_made_in_the_console(window, server, data_dir, qtbot):
    indicator = window.sync_menu.indicator
    qtbot.waitUntil(lambda: indicator.text() == "Sin inscribir en el servidor", timeout=10000)
    console = Workspace.open(data_dir, kdf=FAST_KDF)  # what `siee-campo sync enroll` does
    try:
        console.login("admin", ADMIN_PW)
        console.centre.enroll(server.url, server.admin.enroll_code(ULE))
    finally:
        console.close()
    qtbot.waitUntil(lambda: "Sin inscribir" not in indicator.text(), timeout=20000)
    assert window.sync_menu.ctl.status.enrolled


def test_backup_screen_proposes_a_place_off_the_data_folder(window, data_dir, tmp_path, qtbot):
    from app.ui.admin.backup_dialog import BackupDialog

    folder, off = backup_folder(data_dir, media_roots=[tmp_path / "sin-memorias"])
    assert not off and data_dir.resolve() not in [folder.resolve(), *folder.resolve().parents]
    dlg = BackupDialog(window.ws, window)
    qtbot.addWidget(dlg)
    proposed = Path(dlg.path.text())
    assert data_dir.resolve() not in proposed.resolve().parents
    # a file beside the data folder stays on this laptop: warned, not refused
    dlg.path.setText(str(data_dir.parent / "copia.sieebak"))
    assert same_disk(data_dir.parent, data_dir)
    assert "queda en esta laptop" in dlg.where.text()
    dlg.path.setText(str(data_dir / "copia.sieebak"))
    assert "dentro de la carpeta de datos" in dlg.where.text()
