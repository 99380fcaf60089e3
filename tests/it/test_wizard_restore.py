"""Issue 17 item 7: the first-run wizard offers «Restaurar una copia» before the data
folder is filled; the restored laptop opens to the log-in with the old passwords."""

from __future__ import annotations

from pathlib import Path

from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import add_queued


def test_wizard_restores_a_backup_into_the_empty_data_folder(qtbot, tmp_path, data_dir, clock):
    from app.ui.shell.app_window import build

    old, code = Workspace.create(tmp_path / "vieja", "admin", ADMIN_PW, kdf=FAST_KDF)
    (uuid,) = add_queued(old, 1, seed=1707)
    bak = tmp_path / "respaldo.sieebak"
    old.admin.backup_to(bak)
    old.close()

    win = build(data_dir, {"kdf": FAST_KDF, "clock": clock})
    qtbot.addWidget(win)
    win.start()
    wiz = win.wizard
    assert wiz is not None and wiz.currentPage() is wiz.admin_page
    assert "Restaurar una copia" in wiz.admin_page.restore_btn.text().replace("&", "")
    wiz.admin_page.restore_btn.click()
    rd = wiz.restore_dialog
    assert rd is not None and rd.isVisible()
    assert Path(rd.target.text()) == data_dir and rd.target.isReadOnly()
    assert not Workspace.is_initialized(data_dir)  # nothing written before the restore
    rd.file.setText(str(bak))
    rd.code.setText(code)
    rd.start()
    qtbot.waitUntil(lambda: rd.result is not None or bool(rd.error.text()), timeout=30000)
    assert rd.result is not None, rd.error.text()
    assert rd.program_folder and "carpeta aparte" not in rd.status.text()  # the real folder
    rd.close_btn.click()  # «Terminar»
    qtbot.waitUntil(lambda: win.login_page is not None and win.isVisible(), timeout=5000)
    assert not wiz.isVisible()
    assert "Copia restaurada (" in win.login_page.notice.text()
    win.login_page.user.setCurrentText("admin")
    win.login_page.password.setText(ADMIN_PW)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page
    assert [m.uuid for m in win.ws.list_records()] == [uuid]
    win.close()
