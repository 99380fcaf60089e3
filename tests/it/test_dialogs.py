"""The administrators' screens: menu per role, settings, backup and restore."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.backup import restore_backup
from app.workspace.settings import load_file_settings
from tests.conftest import ADMIN_PW, FAST_KDF


@pytest.fixture
def window(qtbot, data_dir: Path, clock, ws_factory):
    from app.ui.shell.app_window import build

    ws = ws_factory(create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-123", must_change=False)
    code = ws.recovery_code
    ws.close()
    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock})
    qtbot.addWidget(win)
    win.start()
    win.recovery_code = code
    yield win
    win.close()


def login(win, user: str, pw: str) -> None:
    win.login_page.user.setCurrentText(user)
    win.login_page.password.setText(pw)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page


def test_menu_only_for_admins(window) -> None:
    menu = window.admin_menu
    assert not menu.menu_action.isVisible()  # log-in screen
    login(window, "admin", ADMIN_PW)
    assert menu.menu_action.isVisible() and menu.backup_action.isEnabled()
    window.logout()
    assert not menu.menu_action.isVisible()
    login(window, "ana", "clave-ana-123")
    assert not menu.menu_action.isVisible()


def test_settings_dialog_saves_and_respects_locks(window, qtbot, tmp_path: Path) -> None:
    from app.ui.admin.settings_dialog import SettingsDialog

    login(window, "admin", ADMIN_PW)
    ws = window.ws
    f = tmp_path / "siee-campo.toml"
    f.write_text('server_url = "https://siee.gob.pe"\nlocked = ["server_url"]\n', "utf-8")
    fs = load_file_settings([("equipo", f)])
    ws.settings.file = lambda: fs
    ws.settings.apply_file(fs)
    dlg = SettingsDialog(ws, window)
    qtbot.addWidget(dlg)
    assert not dlg.server_url.isEnabled()
    assert dlg.server_url.text() == "https://siee.gob.pe"
    assert "fijada por TI" in dlg.source_labels["server_url"].text()
    assert dlg.ule.value() == "150101"
    dlg.autolock.setValue(25)
    dlg.review.setChecked(False)
    assert dlg.changes() == {"autolock_minutes": 25, "review_required": False}
    dlg.save()
    assert dlg.result() == dlg.DialogCode.Accepted
    s = ws.settings.values()
    assert s["autolock_minutes"] == 25 and s["review_required"] is False
    assert s["server_url"] == "https://siee.gob.pe"
    assert window.autolock_ms() == 25 * 60_000

    dlg2 = SettingsDialog(ws, window)
    qtbot.addWidget(dlg2)
    dlg2.ca_bundle.setText(str(tmp_path / "no-existe.pem"))
    dlg2.save()
    assert "no existe el archivo" in dlg2.message.text()


def test_backup_then_restore_from_the_screens(window, qtbot, tmp_path: Path) -> None:
    from app.ui.admin.backup_dialog import BackupDialog, RestoreDialog

    login(window, "admin", ADMIN_PW)
    uuid = window.ws.new_record("demo", "1", {"/demo/x": "dato"})
    dlg = BackupDialog(window.ws, window)
    qtbot.addWidget(dlg)
    target = tmp_path / "copia.sieebak"
    dlg.path.setText(str(target))
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result_info is not None or bool(dlg.error.text()), timeout=20000)
    assert dlg.error.text() == "" and target.exists()
    assert "Copia creada" in dlg.status.text()
    dlg.start()  # the same name again is refused
    assert "Ya existe" in dlg.error.text()

    rd = RestoreDialog(tmp_path / "restaurado", window)
    qtbot.addWidget(rd)
    rd.file.setText(str(target))
    rd.code.setText("AAAAA-AAAAA-AAAAA-AAAAA")
    rd.start()
    qtbot.waitUntil(lambda: bool(rd.error.text()), timeout=20000)
    assert "no abren esta copia" in rd.error.text()
    assert "1 fichas (Borrador: 1)" in rd.summary.text() and "admin" in rd.summary.text()
    rd.use_admin.setChecked(True)
    rd.password.setText(ADMIN_PW)
    rd.start()
    qtbot.waitUntil(lambda: rd.result is not None, timeout=20000)
    assert rd.result.records == 1 and "Restauradas 1 fichas" in rd.status.text()
    # IT's day (issue 17): a restore from the menu goes to a folder apart, usually a test
    # of the copy: it is not to be enrolled (that would revoke the real laptop's id)
    assert "Es una carpeta aparte" in rd.status.text()
    assert "no la inscriba en el servidor" in rd.status.text()
    assert f"siee-campo --data {tmp_path / 'restaurado'}" in rd.status.text()
    assert "Inscriba este equipo" not in rd.status.text()
    from app.workspace import Workspace

    ws2 = Workspace.open(tmp_path / "restaurado", kdf=FAST_KDF)
    try:
        ws2.login("admin", ADMIN_PW)
        assert ws2.load_answers(uuid) == {"/demo/x": "dato"}
    finally:
        ws2.close()
    # a second restore into the now filled folder is refused, nothing changes
    with pytest.raises(Exception, match="not empty"):
        restore_backup(target, tmp_path / "restaurado", recovery_code=window.recovery_code)


def test_doctor_dialog(window, qtbot) -> None:
    login(window, "admin", ADMIN_PW)
    window.admin_menu.open_doctor()
    dlg = window.admin_menu.dialog
    assert dlg is not None
    text = dlg.text.toPlainText()
    assert "integridad (integrity_check): ok" in text and "Fichas por estado" in text
    window.logout()
    assert window.admin_menu.dialog is None


def test_window_applies_the_settings_file(
    qtbot, data_dir: Path, clock, ws_factory, monkeypatch, tmp_path: Path
) -> None:
    from app.ui.shell.app_window import build

    f = tmp_path / "siee-campo.toml"
    f.write_text("autolock_minutes = 2\n", "utf-8")
    monkeypatch.setattr("app.workspace.settings.default_locations", lambda: [("equipo", f)])
    ws_factory(create=True).close()
    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock})
    qtbot.addWidget(win)
    win.start()
    try:
        assert win.ws.settings.values()["autolock_minutes"] == 2
        login(win, "admin", ADMIN_PW)
        assert win.autolock_ms() == 2 * 60_000
    finally:
        win.close()
