"""Accounts a ULE runs alone (issue 16 item 10) in the real window: the change a
person must make after logging in with a password an administrator gave, «Cambiar
mi contraseña» in every role's window, «¿Olvidó su contraseña?» on the log-in
screen, and «Restablecer contraseña…» under Supervisión › Usuarios."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.errors import PasswordChangeRequired
from tests.conftest import ADMIN_PW


def _log_in(win, username: str, password: str) -> None:
    page = win.login_page
    page.user.setCurrentText(username)
    page.password.setText(password)
    page.submit()


def test_a_given_password_is_changed_before_the_records_screen(shell, ws_factory, qtbot):
    ws = ws_factory(create=True)
    ws.admin.add_user("mrojas", "empadronador", "clave-inicial-1", "María Rojas")
    ws.close()
    win = shell()
    win.start()
    _log_in(win, "mrojas", "clave-inicial-1")
    dlg = win.password_dialog
    assert dlg is not None and dlg.isVisible() and dlg.forced
    assert win.stack.currentWidget() is win.login_page  # nothing behind it yet
    assert "María Rojas" in dlg.intro.text() and "administrador" in dlg.intro.text()
    # cancelling ends the session: the workspace is locked again, the notice says why
    dlg.reject()
    assert win.ws.user is None and win.stack.currentWidget() is win.login_page
    assert "contraseña propia" in win.login_page.notice.text()
    # again, and this time the person types a new password (keyboard only); the
    # password just typed at the log-in is not asked a second time
    _log_in(win, "mrojas", "clave-inicial-1")
    dlg = win.password_dialog
    assert dlg.old.isHidden() and dlg.form.labelForField(dlg.old) is None
    assert win.login_page.take_password() == ""  # the log-in page kept no copy
    qtbot.waitUntil(lambda: dlg.focusWidget() is dlg.new, timeout=3000)
    with qtbot.assertNotEmitted(dlg.accepted):
        QTest.keyClicks(dlg.new, "clave-inicial-1")
        dlg.new2.setText("clave-inicial-1")
        dlg.submit()
    assert "distinta" in dlg.error.text() and win.ws.must_change_password
    dlg.new.setText("clave-de-maria-9")
    dlg.new2.setText("clave-de-maria-9")
    QTest.keyClick(dlg.new2, Qt.Key.Key_Return)
    assert not dlg.isVisible() and dlg.done_ok
    assert win.stack.currentWidget() is win.records_page
    assert "María Rojas" in win.records_page.who.text()
    assert not win.ws.must_change_password
    win.logout()
    _log_in(win, "mrojas", "clave-de-maria-9")
    assert win.password_dialog is None and win.stack.currentWidget() is win.records_page


def test_every_role_window_has_change_my_password(logged_in, qtbot):
    win = logged_in
    menu = win.account_menu
    assert menu.menu_action.isVisible() and menu.menu_action.text() == "&Cuenta"
    dlg = menu.change_password()
    dlg.old.setText("equivocada-1")
    dlg.new.setText("clave-nueva-admin")
    dlg.new2.setText("clave-nueva-admin")
    dlg.submit()
    assert dlg.isVisible() and "incorrectos" in dlg.error.text()
    dlg.old.setText(ADMIN_PW)
    dlg.submit()
    assert dlg.done_ok and "Contraseña cambiada" in win.statusBar().currentMessage()
    # the supervision window (supervisor, administrator) has it too
    sup = win.records_page.supervision.open_supervision()
    assert sup.account_menu.menu_action.isVisible()
    d2 = sup.account_menu.change_password()
    assert d2 is not None and not d2.forced
    d2.reject()
    win.logout()
    assert not menu.menu_action.isVisible()
    _log_in(win, "admin", "clave-nueva-admin")
    assert win.stack.currentWidget() is win.records_page


def test_forgot_password_for_an_administrator_and_for_an_enumerator(shell, ws_factory):
    ws = ws_factory(create=True)
    code = ws.recovery_code
    ws.admin.add_user("ana", "empadronador", "clave-ana-123", must_change=False)
    ws.close()
    win = shell()
    win.start()
    page = win.login_page
    assert page.forgot_btn.text() == "¿&Olvidó su contraseña?"
    # an enumerator is told whom to ask, and where the administrator finds it
    page.user.setCurrentText("ana")
    dlg = page.forgot()
    assert not dlg.is_admin
    assert "«admin»" in dlg.text.text() and "Supervisión › Usuarios" in dlg.text.text()
    dlg.reject()
    # an administrator uses the recovery code
    page.user.setCurrentText("admin")
    dlg = page.forgot()
    assert dlg.is_admin and "código de recuperación" in dlg.text.text()
    reset = dlg.use_recovery_code()
    reset.code.setText("AAAAA-BBBBB-CCCCC-DDDDD")
    reset.password.setText("clave-recuperada-1")
    reset.password2.setText("clave-recuperada-1")
    reset.submit()
    assert reset.isVisible() and "no es correcto" in reset.error.text()
    reset.code.setText(code)
    reset.submit()
    assert dlg.done_ok and not dlg.isVisible()
    assert "Ingrese con la nueva" in page.message.text()
    assert page.user.currentText() == "admin"
    _log_in(win, "admin", "clave-recuperada-1")
    assert win.stack.currentWidget() is win.records_page  # chosen by the person: no change


def test_the_users_screen_resets_and_the_person_must_change(logged_in, qtbot):
    from app.ui.admin.users_admin import UsersPage

    win = logged_in
    ws = win.ws
    ws.admin.add_user("ana", "empadronador", "clave-ana-123", must_change=False)
    # where an administrator looks: Administración › Usuarios y contraseñas…
    assert win.admin_menu.users_action.isVisible()
    sup = win.admin_menu.open_users()
    users = sup.users
    assert isinstance(users, UsersPage) and sup.tabs.currentWidget() is users
    qtbot.waitUntil(lambda: users.table.rowCount() == 2, timeout=5000)  # ana is listed
    users.select("ana")
    dlg = users.reset_password()
    dlg.password.setText("clave-temporal-1")
    dlg.password2.setText("clave-temporal-1")
    dlg.submit()
    assert "deberá cambiarla" in users.status.text()
    win.logout()
    _log_in(win, "ana", "clave-temporal-1")
    assert win.password_dialog is not None and win.password_dialog.forced
    with pytest.raises(PasswordChangeRequired):  # below the window too
        ws.list_records()
    win.password_dialog.reject()


def test_the_password_dialog_locks_after_inactivity(shell, ws_factory, qtbot):
    ws = ws_factory(create=True)
    ws.admin.add_user("ana", "empadronador", "clave-inicial-1")
    ws.close()
    win = shell(autolock_ms=300)
    win.start()
    _log_in(win, "ana", "clave-inicial-1")
    dlg = win.password_dialog
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(lambda: win.ws.user is None, timeout=5000)
    assert not dlg.isVisible() and win.password_dialog is None
    assert "inactividad" in win.login_page.notice.text()
