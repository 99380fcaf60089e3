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


def _cut_labels(dlg) -> list[str]:
    """Word-wrapped labels of `dlg` shown shorter than their text needs (cut off)."""
    from PySide6.QtWidgets import QApplication, QLabel

    QApplication.processEvents()
    return [lab.text()[:50] for lab in dlg.findChildren(QLabel)
            if lab.isVisible() and lab.text() and lab.wordWrap()
            and (lab.height() < lab.heightForWidth(lab.width())
                 or lab.mapTo(dlg, lab.rect().bottomLeft()).y() > dlg.height())]


def test_backup_screen_proposes_a_folder_that_exists(window, tmp_path, qtbot, monkeypatch):
    """IT's day (issue 17): on a fresh Linux account ~/Documents does not exist; the
    screen proposed it and «Crear copia» then refused. It proposes the documents folder
    when it exists (the XDG one), else the home folder, and the copy is made there."""
    import app.paths
    from app.ui.admin.backup_dialog import BackupDialog

    real_media = app.paths.removable_media
    monkeypatch.setattr(app.paths, "removable_media",  # this machine's USB sticks: none
                        lambda roots=None: real_media([tmp_path / "sin-memorias"]))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    assert not (home / "Documents").exists()
    dlg = BackupDialog(window.ws, window)
    qtbot.addWidget(dlg)
    proposed = Path(dlg.path.text())
    assert proposed.parent == home, proposed
    dlg.start()
    qtbot.waitUntil(lambda: dlg.result_info is not None or bool(dlg.error.text()), timeout=20000)
    assert dlg.error.text() == "" and proposed.is_file()
    # a documents folder named by xdg-user-dirs (here in Spanish) is used when it exists
    docs = home / "Documentos"
    docs.mkdir()
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text(
        'XDG_DOCUMENTS_DIR="$HOME/Documentos"\n', "utf-8")
    dlg2 = BackupDialog(window.ws, window)
    qtbot.addWidget(dlg2)
    assert Path(dlg2.path.text()).parent == docs


def test_backup_and_restore_texts_are_never_cut_off(window, tmp_path, qtbot):
    """IT's day (issue 17): the backup screen's text was cut off once its error showed,
    and the restore screen's line under «Copia» was cut: a dialog grows to show a text
    that appears after it opened."""
    from app.ui.admin.backup_dialog import BackupDialog, RestoreDialog

    dlg = BackupDialog(window.ws, window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    height = dlg.height()
    dlg.path.setText(str(tmp_path / "no-existe" / "otra" / "copia.sieebak"))
    dlg.start()
    assert "no existe" in dlg.error.text()
    dlg.error.setText(dlg.error.text() + " " + dlg.error.text())  # a longer message yet
    assert _cut_labels(dlg) == [] and dlg.height() > height

    bak = tmp_path / "copia.sieebak"
    window.ws.admin.backup_to(bak)
    rd = RestoreDialog(tmp_path / "restaurados", window)
    qtbot.addWidget(rd)
    rd.show()
    qtbot.waitExposed(rd)
    rd.file.setText(str(bak))
    rd._inspect()
    assert "Administradores que pueden abrirla: admin" in rd.summary.text()
    rd.summary.setText(rd.summary.text() * 3)  # a backup with many states and admins
    assert _cut_labels(rd) == []
    rd.start()  # no recovery code: refused, the error shown in full too
    qtbot.waitUntil(lambda: bool(rd.error.text()), timeout=20000)
    assert _cut_labels(rd) == []
