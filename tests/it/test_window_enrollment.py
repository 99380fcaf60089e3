"""Issue 17, IT walk-through items 2 and 9: a laptop enrolled through the first-run
wizard shows the server key's fingerprint (in the enrollment's result and on the
settings screen, in the same words and form as the enrollment dialog and the console),
and the enrollment dialog shows a server address IT locked as locked. Real server on
loopback, real widgets."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.sync.protocol import key_fingerprint
from app.ui.common.fingerprint import FINGERPRINT_WORDS
from app.ui.common.wording import LOCKED_TIP
from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv


def _window(qtbot, data_dir: Path, ws_factory, clock, settings: dict, enrollment=None):
    from app.ui.shell.app_window import build

    ws = ws_factory(create=True)
    ws.settings.update(ule_ubigeo=ULE, **settings)
    ws.close()
    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock}, enrollment=enrollment)
    qtbot.addWidget(win)
    win.start()
    win.login_page.user.setCurrentText("admin")
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    return win


def test_wizard_enrollment_shows_the_fingerprint_and_settings_keep_it(
        qtbot, data_dir, ws_factory, clock, server):
    from app.ui.admin.settings_dialog import SettingsDialog

    code = server.admin.enroll_code(ULE)
    win = _window(qtbot, data_dir, ws_factory, clock, {"server_url": server.url},
                  enrollment=(server.url, code))  # as the wizard (or run --enroll-code) leaves it
    ctl = win.sync_menu.ctl
    qtbot.waitUntil(lambda: ctl.enrolled_dialog is not None, timeout=30000)
    dlg = ctl.enrolled_dialog
    qtbot.addWidget(dlg)
    expected = key_fingerprint(server.signing_public)
    assert dlg.isVisible() and dlg.fingerprint.text() == expected
    said = dlg.message.text()
    assert FINGERPRINT_WORDS.lower() in said and "siee-server keys" in said
    dev = win.ws.centre.device()
    assert dev.device_id in dlg.message.text() and server.url in dlg.message.text()
    qtbot.waitUntil(dlg.fingerprint.isVisible, timeout=5000)
    assert dlg.fingerprint.width() >= dlg.fingerprint.sizeHint().width()  # not cut off
    dlg.reject()

    settings = SettingsDialog(win.ws, win)
    qtbot.addWidget(settings)
    settings.show()
    assert settings.fingerprint.text() == expected and settings.fingerprint.isVisible()
    assert dev.device_id in settings.enrollment.text()
    assert FINGERPRINT_WORDS.lower() in settings.enrollment.text()
    win.close()


def test_settings_screen_of_a_laptop_not_enrolled_says_how(qtbot, data_dir, ws_factory, clock):
    from app.ui.admin.settings_dialog import SettingsDialog

    win = _window(qtbot, data_dir, ws_factory, clock, {})
    settings = SettingsDialog(win.ws, win)
    qtbot.addWidget(settings)
    assert "no está inscrito" in settings.enrollment.text()
    assert "Inscribir equipo" in settings.enrollment.text()
    assert settings.fingerprint.isHidden()
    win.close()


def _it_file(monkeypatch, tmp_path: Path, text: str) -> None:
    f = tmp_path / "xdg" / "siee-campo" / "siee-campo.toml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text, "utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))


def test_enroll_dialog_shows_a_locked_server_address_as_locked(
        qtbot, data_dir, ws_factory, clock, monkeypatch, tmp_path):
    from app.ui.sync.sync_dialogs import EnrollDialog

    _it_file(monkeypatch, tmp_path,
             'server_url = "https://siee.midis.gob.pe"\nlocked = ["server_url"]\n')
    win = _window(qtbot, data_dir, ws_factory, clock, {})
    win.ws.settings.apply_file()
    dlg = EnrollDialog(win.sync_menu.ctl, win)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.url.text() == "https://siee.midis.gob.pe"
    assert dlg.url.isReadOnly() and dlg.url.toolTip() == LOCKED_TIP
    assert dlg.url_note.isVisible()
    note = dlg.url_note.text()
    assert "fijada por TI (archivo del equipo)" in note and LOCKED_TIP in note
    assert "No se puede cambiar aquí" in note
    # IT's day (issue 17): the first lines do not ask to type an address that is locked
    intro = dlg.intro.text()
    assert "escriba la dirección" not in intro
    assert "La dirección del servidor ya está puesta: la fijó TI" in intro
    assert "escríbalo abajo" in intro
    win.close()


def test_enroll_dialog_leaves_an_unlocked_address_editable(
        qtbot, data_dir, ws_factory, clock, monkeypatch, tmp_path):
    from app.ui.sync.sync_dialogs import EnrollDialog

    _it_file(monkeypatch, tmp_path, 'server_url = "https://siee.midis.gob.pe"\n')
    win = _window(qtbot, data_dir, ws_factory, clock, {})
    win.ws.settings.apply_file()
    dlg = EnrollDialog(win.sync_menu.ctl, win)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.url.isReadOnly() and not dlg.url_note.isVisible()
    assert "escriba la dirección del servidor y el código" in dlg.intro.text()
    assert "la fijó TI" not in dlg.intro.text()
    win.close()
