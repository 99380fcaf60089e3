"""Keys that do what they say, in every window the program opens: no two
Alt+letter mnemonics alike, Enter presses a focused button, F1 and «Ayuda»
show the guide of the screen in front."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMainWindow, QPushButton, QWidget

from app.ui.common.help_panel import GuideDialog
from app.ui.common.shortcuts import enter_presses_buttons, mnemonic_clashes, mnemonic_of
from app.ui.entry.form_window import FormWindow, create_record
from tests.review.conftest import Team


def test_mnemonic_reader():
    assert mnemonic_of("&Abrir (Enter)") == "a"
    assert mnemonic_of("Buscar por &DNI:") == "d"
    assert mnemonic_of("R&&D sin atajo") is None
    assert mnemonic_of("Ay&uda") == "u"
    assert mnemonic_of("&Ícono") == "i"


def _walk(win: QWidget, found: list[str]) -> None:
    win.show()
    QApplication.processEvents()
    found += mnemonic_clashes(win)


def test_no_window_has_two_things_on_one_alt_letter(shell, qtbot, ws_factory, clock):
    found: list[str] = []
    # the first-run wizard, page by page
    win = shell()
    win.start()
    wiz = win.wizard
    a = wiz.admin_page
    _walk(wiz, found)
    a.name.setText("Rosa Quispe")
    a.username.setText("rquispe")
    a.password.setText("clave-segura-1")
    a.password2.setText("clave-segura-1")
    wiz.next()
    _walk(wiz, found)
    wiz.ubigeo_page.picker.set_value("080108")
    wiz.next()
    _walk(wiz, found)
    code = wiz.recovery_code
    wiz.recovery_page.confirm.setText(code[-5:])
    wiz.recovery_page.ack.setChecked(True)
    wiz.next()
    _walk(wiz, found)
    wiz.accept()
    qtbot.waitUntil(lambda: win.isVisible())
    # log-in, then the records screen of an administrator, with its menus
    _walk(win, found)
    QTest.keyClicks(win.login_page.password, "clave-segura-1")
    QTest.keyClick(win.login_page.password, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.records_page
    _walk(win, found)
    ws = win.ws
    team = Team(ws, clock)
    ws.admin.add_user("sup", "supervisor", "clave-super-1", "Luz Condori", must_change=False)
    # the form windows
    for form_id in ("s100", "fsu"):
        w = FormWindow(ws, create_record(ws, form_id))
        qtbot.addWidget(w)
        _walk(w, found)
        w.close()
    # supervision, tab by tab, and the dialogs it opens
    from app.ui.shell.supervision import SupervisionWindow

    sup = SupervisionWindow(ws)  # deletes itself on close
    for i in range(sup.tabs.count()):
        sup.tabs.setCurrentIndex(i)
        _walk(sup, found)
    from app.ui.admin.account import ChangePasswordDialog, ForgotPasswordDialog
    from app.ui.admin.backup_dialog import BackupDialog, RestoreDialog
    from app.ui.admin.settings_dialog import SettingsDialog
    from app.ui.admin.users_admin import AdminResetDialog, NewUserDialog, ResetPasswordDialog
    from app.ui.review.export_dialog import ExportDialog
    from app.ui.sync.sync_dialogs import EnrollDialog
    from app.ui.sync.sync_panel import SyncPanel

    dialogs = [
        ExportDialog(ws, sup),
        NewUserDialog(ws, sup),
        ResetPasswordDialog(ws, "sup", sup),
        AdminResetDialog(ws, "sup", sup),
        ChangePasswordDialog(ws, win),
        ChangePasswordDialog(ws, win, forced=True),
        ForgotPasswordDialog(ws, "sup", win),
        ForgotPasswordDialog(ws, "admin", win),
        SettingsDialog(ws, win),
        BackupDialog(ws, win),
        RestoreDialog(None, win),
        EnrollDialog(win.sync_menu.ctl, win),
        SyncPanel(win.sync_menu.ctl, win),
    ]
    for d in dialogs:
        _walk(d, found)
        d.close()
    # the review window of a completed record
    from app.demo import households
    from app.ui.review.review_view import ReviewWindow

    uuid = team.fsu(households(1, seed=3)[0])
    rw = ReviewWindow(ws, uuid)  # deletes itself on close
    _walk(rw, found)
    rw.close()
    sup.close()
    assert found == [], "\n".join(found)


def test_enter_presses_the_focused_button(qtbot):
    box = QMainWindow()
    qtbot.addWidget(box)
    body = QWidget()
    a = QPushButton("Uno", body)
    b = QPushButton("Dos", body)
    b.move(0, 40)
    box.setCentralWidget(body)
    enter_presses_buttons(box)
    clicks: list[str] = []
    a.clicked.connect(lambda: clicks.append("uno"))
    b.clicked.connect(lambda: clicks.append("dos"))
    box.show()
    box.activateWindow()
    QTest.qWaitForWindowActive(box, 3000)
    b.setFocus()
    QTest.keyClick(b, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: clicks == ["dos"], timeout=2000)
    a.setFocus()
    QTest.keyClick(a, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(lambda: clicks == ["dos", "uno"], timeout=2000)


def test_enter_on_the_records_screen_buttons(logged_in, qtbot):
    win = logged_in
    win.show()
    win.activateWindow()
    QTest.qWaitForWindowActive(win, 3000)
    before = set(win.forms)
    btn = win.records_page.new_s100_btn
    btn.setFocus()
    QTest.keyClick(btn, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(set(win.forms) - before) == 1, timeout=5000)


def _guide_of(win: QWidget) -> GuideDialog | None:
    return getattr(win, "_guide_dialog", None)


def test_f1_and_the_help_menu_show_the_guide_of_the_screen(logged_in, qtbot):
    win = logged_in
    win.show()
    win.activateWindow()
    QTest.qWaitForWindowActive(win, 3000)
    titles = [a.text() for a in win.menuBar().actions()]
    assert "A&yuda" in titles
    QTest.keyClick(win.records_page.table, Qt.Key.Key_F1)
    g = _guide_of(win)
    assert g is not None and g.isVisible() and g.key == "records"
    text = g.text.toPlainText()
    assert "Nueva S100" in text and "Observada" in text  # what to do, what states mean
    g.close()
    # the menu entry does the same on the log-in screen
    win.logout()
    help_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "A&yuda")
    help_menu.actions()[0].trigger()
    assert _guide_of(win).key == "login" and _guide_of(win).isVisible()
    _guide_of(win).close()
    # the form window: F1 opens its side guide, with what to do and the keys
    ws = win.ws
    ws.login("admin", __import__("tests.conftest", fromlist=["ADMIN_PW"]).ADMIN_PW)
    w = FormWindow(ws, create_record(ws, "s100"))
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    assert not w.help.isVisible()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F1)
    assert w.help.isVisible()
    assert "Ctrl+Enter" in w.help.text.text() and "debajo de la pregunta" in w.help.text.text()
    assert any(a.text() == "A&yuda" for a in w.menuBar().actions())
    w.close()


def test_the_guide_names_every_state_as_the_screens_do():
    from app.core.states import STATE_LABELS
    from app.ui.common.help_texts import GUIDES, STATES, _check_state_names

    _check_state_names()
    for label in STATE_LABELS.values():
        assert f"<b>{label}</b>" in STATES
    for key in ("records", "review", "review_queue", "dashboard"):
        assert STATES in GUIDES[key][1]


def test_new_user_dialog_opens_in_its_first_field(logged_in, qtbot):
    from app.ui.admin.users_admin import NewUserDialog

    dlg = NewUserDialog(logged_in.ws, logged_in)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    QTest.qWaitForWindowActive(dlg, 3000)
    qtbot.waitUntil(lambda: dlg.focusWidget() is dlg.username, timeout=3000)
    QTest.keyClicks(dlg.focusWidget(), "mrojas")
    QTest.keyClick(dlg.focusWidget(), Qt.Key.Key_Tab)
    assert dlg.focusWidget() is dlg.display
    QTest.keyClicks(dlg.focusWidget(), "Maria Rojas")  # the space types a space
    assert dlg.isVisible()
    assert dlg.display.text() == "Maria Rojas"
    from PySide6.QtGui import QShortcut

    f1 = [sc for sc in dlg.findChildren(QShortcut) if sc.key().toString() == "F1"]
    assert len(f1) == 1
    f1[0].activated.emit()
    assert dlg._guide_dialog.key == "users"
    dlg.close()
