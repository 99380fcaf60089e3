"""One's own account (issue 16 item 10): «Cambiar mi contraseña» in every role's
window (the «Cuenta» menu), the change a person must make when their password is
still the one an administrator gave, and the log-in window's «¿Olvidó su
contraseña?» (the recovery code for an administrator; whom to ask for anyone else).

The rule that an initial password allows nothing else lives in the workspace
(`Context.me`); these dialogs are only the way through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Role
from app.ui.admin.users_admin import ResetPasswordDialog, _FormDialog, _password_field
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import install_help
from app.ui.common.worker import user_text
from app.workspace import Workspace

ACCOUNT_MENU_TITLE = "&Cuenta"


class ChangePasswordDialog(_FormDialog):
    """The logged-in user chooses a new password. `forced`: right after logging in
    with a password an administrator gave; cancelling ends the session (the
    workspace would refuse everything else anyway)."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None,
                 forced: bool = False, current: str | None = None) -> None:
        """`current`: the password the person has just typed at the log-in (the forced
        change right after it); when given, the dialog does not ask for it again (a
        new clerk found that second question pointless) and keeps it in memory only
        until the change is made or the dialog closes."""
        super().__init__("Elija su contraseña" if forced else "Cambiar mi contraseña", parent)
        self.ws = ws
        self.forced = forced
        self._current = current or None
        me = ws.user
        name = (me.display_name or me.username) if me is not None else ""
        if forced:
            text = (f"Bienvenido(a), {name}. La contraseña con la que ingresó se la dio el "
                    "administrador: elija ahora una contraseña propia, que solo usted "
                    "conozca. Sin este paso no se puede usar el programa.")
        else:
            text = (f"Cuenta de {name}. Escriba su contraseña actual y la nueva dos veces. "
                    "La necesitará la próxima vez que ingrese.")
        self.intro = QLabel(text)
        self.intro.setWordWrap(True)
        self.old = _password_field()
        self.new = _password_field()
        self.new2 = _password_field()
        self.form.addRow(self.intro)
        if self._current is None:
            self.form.addRow(
                "Contraseña que le &dieron:" if forced else "Contraseña &actual:", self.old)
        else:
            self.old.setParent(self)  # kept out of the form: typed at the log-in already,
            self.old.hide()           # so not asked twice
        self.form.addRow("&Nueva contraseña:", self.new)
        self.form.addRow("Re&pita la nueva:", self.new2)
        hint = QLabel("Al menos 8 caracteres, distinta de la anterior.")
        hint.setObjectName("hint")
        self.form.addRow("", hint)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Guardar contraseña")
        if forced:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(
                "Cancelar y salir")
        self.done_ok = False

    def submit(self) -> None:
        if not self.new.text():
            self.fail("Escriba la nueva contraseña.", self.new)
            return
        if self.new.text() != self.new2.text():
            self.fail("Las contraseñas nuevas no coinciden. Escríbalas de nuevo.", self.new2)
            return
        current = self._current if self._current is not None else self.old.text()
        try:
            self.ws.change_password(current, self.new.text())
        except SieeError as e:
            wrong_old = e.code in ("auth", "locked")
            self.fail(user_text(e), self.old if wrong_old and self._current is None
                      else self.new)
            return
        self._current = None
        self.done_ok = True
        self.accept()

    def done(self, result: int) -> None:
        """Closing forgets the log-in password the dialog was given."""
        self._current = None
        super().done(result)


class ForgotPasswordDialog(QDialog):
    """«¿Olvidó su contraseña?» from the log-in window. An administrator resets it
    with the recovery code shown at set-up; anyone else is told whom to ask (the
    administrators of this laptop, by user name), and support staff holding the
    recovery code can still use it."""

    def __init__(self, ws: Workspace, username: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.username = username
        self.setWindowTitle("¿Olvidó su contraseña?")
        self.setMinimumWidth(520)
        self.reset_dialog: ResetPasswordDialog | None = None
        self.done_ok = False
        role = ws.role_of(username) if username else None
        self.is_admin = role == Role.ADMIN
        admins = ", ".join(f"«{a}»" for a in ws.admin_usernames()) or "el administrador"
        if self.is_admin:
            text = (f"«{username}» es administrador(a): puede elegir una contraseña nueva con "
                    "el código de recuperación que se mostró al configurar este equipo "
                    "(lo guarda el área de soporte o la jefatura de la ULE). Ninguna ficha "
                    "se pierde.")
        else:
            who = f"Usuario «{username}»: p" if username else "P"
            text = (f"{who}ida al administrador de la ULE ({admins}) que le restablezca la "
                    "contraseña: lo hace en Supervisión › Usuarios › «Restablecer "
                    "contraseña…». Le dará una contraseña inicial, que usted cambiará al "
                    "ingresar. Ninguna ficha se pierde.")
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.recovery_btn = QPushButton(
            "&Usar el código de recuperación…" if self.is_admin
            else "Soy de soporte: tengo el código de &recuperación…")
        self.recovery_btn.setObjectName("primary" if self.is_admin else "")
        self.recovery_btn.clicked.connect(self.use_recovery_code)
        self.close_btn = QPushButton("Cerrar" if self.is_admin else "&Entendido")
        self.close_btn.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        buttons.addButton(self.recovery_btn, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.close_btn, QDialogButtonBox.ButtonRole.RejectRole)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        install_help(self, lambda: show_guide(self, "login"))
        (self.recovery_btn if self.is_admin else self.close_btn).setDefault(True)

    def use_recovery_code(self) -> ResetPasswordDialog | None:
        if not self.username:
            self.text.setText("Escriba o elija primero su usuario en la ventana de ingreso.")
            return None
        dlg = ResetPasswordDialog(self.ws, self.username, self)
        dlg.accepted.connect(self._reset_done)
        self.reset_dialog = dlg
        dlg.open()
        return dlg

    def _reset_done(self) -> None:
        self.done_ok = True
        self.accept()


class AccountMenu(QMenu):
    """The «Cuenta» menu of a window: change one's own password. Shown while
    someone is logged in (`ws_of()` returns the window's workspace or None)."""

    def __init__(self, window: QMainWindow, ws_of: Callable[[], Any]) -> None:
        super().__init__(ACCOUNT_MENU_TITLE, window)
        self.window_ = window
        self.ws_of = ws_of
        self.change_action = self.addAction("Cambiar mi &contraseña…", self.change_password)
        self.menu_action: QAction = window.menuBar().addMenu(self)
        self.dialog: ChangePasswordDialog | None = None
        self.follow()

    def follow(self) -> None:
        ws = self.ws_of()
        self.menu_action.setVisible(ws is not None and ws.user is not None)
        if (ws is None or ws.user is None) and self.dialog is not None:
            self.dialog.close()  # a dialog never outlives the session
            self.dialog = None

    def change_password(self) -> ChangePasswordDialog | None:
        ws = self.ws_of()
        if ws is None or ws.user is None:
            return None
        dlg = ChangePasswordDialog(ws, self.window_)
        dlg.accepted.connect(self._changed)
        self.dialog = dlg
        dlg.open()
        return dlg

    def _changed(self) -> None:
        bar = self.window_.statusBar()
        bar.showMessage("Contraseña cambiada. Úsela la próxima vez que ingrese.", 15000)


def install_account_menu(window: QMainWindow, ws_of: Callable[[], Any]) -> AccountMenu:
    """Add the «Cuenta» menu to `window`; it follows the window's page stack when
    the window has one (log-in and log-out)."""
    menu = AccountMenu(window, ws_of)
    stack = getattr(window, "stack", None)
    if stack is not None:
        stack.currentChanged.connect(lambda _i: menu.follow())
    return menu
