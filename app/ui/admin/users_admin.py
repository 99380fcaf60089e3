"""User administration (admin role): create users with a role, disable or enable
them, and give a new password to someone who forgot theirs (they must change it
at their next log-in). The recovery code's dialog (`ResetPasswordDialog`) is the
log-in window's path when no administrator can log in.

The workspace refuses all of it to other roles; the screen is only shown to
those who may use it."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import ROLE_LABELS, Role
from app.ui.common import styles
from app.ui.common.changes import USERS, Change, broadcast, subscribe
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import install_help
from app.ui.common.worker import show_error, user_text
from app.workspace import Workspace

log = logging.getLogger("siee.ui.users")


def _password_field() -> QLineEdit:
    f = QLineEdit()
    f.setEchoMode(QLineEdit.EchoMode.Password)
    return f


class _FormDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.form = QFormLayout()
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancelar")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        install_help(self, lambda: show_guide(self, "users"))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Open with the cursor in the first field: typed text (a space in «María
        Rojas» included) goes there, never to a button."""
        super().showEvent(event)
        first = next(
            (
                self.form.itemAt(i).widget()
                for i in range(self.form.count())
                if isinstance(self.form.itemAt(i).widget(), QLineEdit)
            ),
            None,
        )
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:  # pragma: no cover - overridden
        self.accept()

    def fail(self, text: str, field: QWidget | None = None) -> None:
        self.error.setText(text)
        if field is not None:
            field.setFocus()


class NewUserDialog(_FormDialog):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__("Nuevo usuario", parent)
        self.ws = ws
        self.username = QLineEdit()
        self.username.setPlaceholderText("por ejemplo: rquispe")
        self.display = QLineEdit()
        self.display.setPlaceholderText("Nombres y apellidos")
        self.role = QComboBox()
        for role in (Role.EMPADRONADOR, Role.DIGITADOR, Role.SUPERVISOR, Role.ADMIN):
            self.role.addItem(ROLE_LABELS[role], role.value)
        self.password = _password_field()
        self.password2 = _password_field()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Crear usuario")
        self.form.addRow("&Usuario:", self.username)
        self.form.addRow("&Nombre:", self.display)
        self.form.addRow("&Rol:", self.role)
        self.form.addRow("&Contraseña inicial:", self.password)
        self.form.addRow("Re&pita la contraseña:", self.password2)
        hint = QLabel("Al menos 8 caracteres. Entréguela a la persona en privado: al ingresar "
                      "por primera vez, el programa le pedirá que elija una propia.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        self.form.addRow("", hint)
        self.created: str | None = None

    def submit(self) -> None:
        if self.password.text() != self.password2.text():
            self.fail("Las contraseñas no coinciden. Escríbalas de nuevo.", self.password2)
            return
        try:
            self.ws.admin.add_user(
                self.username.text().strip(),
                self.role.currentData(),
                self.password.text(),
                self.display.text().strip(),
            )
        except SieeError as e:
            self.fail(user_text(e), self.username)
            return
        self.created = self.username.text().strip().lower()
        self.accept()


class AdminResetDialog(_FormDialog):
    """An administrator gives `username` a new password (forgotten password); the
    person must change it when they next log in (ws.admin.reset_password)."""

    def __init__(self, ws: Workspace, username: str, parent: QWidget | None = None) -> None:
        super().__init__("Restablecer contraseña", parent)
        self.ws = ws
        self.username = username
        intro = QLabel(
            f"Nueva contraseña inicial para <b>{username}</b>. Entréguesela en privado: "
            "al ingresar, el programa le pedirá que elija una propia. Sus fichas no cambian."
        )
        intro.setWordWrap(True)
        self.password = _password_field()
        self.password2 = _password_field()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restablecer")
        self.form.addRow(intro)
        self.form.addRow("&Nueva contraseña:", self.password)
        self.form.addRow("Re&pita la contraseña:", self.password2)
        self.done_ok = False

    def submit(self) -> None:
        if self.password.text() != self.password2.text():
            self.fail("Las contraseñas no coinciden. Escríbalas de nuevo.", self.password2)
            return
        try:
            self.ws.admin.reset_password(self.username, self.password.text())
        except SieeError as e:
            self.fail(user_text(e), self.password)
            return
        self.done_ok = True
        self.accept()


class ResetPasswordDialog(_FormDialog):
    def __init__(self, ws: Workspace, username: str, parent: QWidget | None = None) -> None:
        super().__init__("Restablecer contraseña", parent)
        self.ws = ws
        self.username = username
        intro = QLabel(
            f"Nueva contraseña para <b>{username}</b>. Escriba el código de recuperación que "
            "se mostró al configurar este equipo (lo guarda el área de soporte)."
        )
        intro.setWordWrap(True)
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXXX-XXXXX-XXXXX-XXXXX")
        self.password = _password_field()
        self.password2 = _password_field()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Restablecer")
        self.form.addRow(intro)
        self.form.addRow("Código de &recuperación:", self.code)
        self.form.addRow("&Nueva contraseña:", self.password)
        self.form.addRow("Re&pita la contraseña:", self.password2)
        self.done_ok = False

    def submit(self) -> None:
        if self.password.text() != self.password2.text():
            self.fail("Las contraseñas no coinciden. Escríbalas de nuevo.", self.password2)
            return
        try:
            self.ws.reset_password_with_recovery(
                self.username, self.code.text().strip(), self.password.text()
            )
        except SieeError as e:
            self.fail(user_text(e), self.code)
            return
        self.done_ok = True
        self.accept()


class UsersPage(QWidget):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.dialog: QDialog | None = None
        title = QLabel("Usuarios de este equipo")
        title.setObjectName("title")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Usuario", "Nombre", "Rol", "Estado"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.new_btn = QPushButton("&Nuevo usuario…")
        self.new_btn.setObjectName("primary")
        self.new_btn.clicked.connect(self.new_user)
        self.toggle_btn = QPushButton("&Desactivar")
        self.toggle_btn.clicked.connect(self.toggle_active)
        self.reset_btn = QPushButton("Re&stablecer contraseña…")
        self.reset_btn.clicked.connect(self.reset_password)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        actions = QHBoxLayout()
        for b in (self.new_btn, self.toggle_btn, self.reset_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        note = QLabel(
            "Una cuenta desactivada no puede ingresar, pero sus fichas y su historial se "
            "conservan. Para reasignar sus fichas use la revisión de fichas."
        )
        note.setObjectName("hint")
        note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(self.table, 1)
        lay.addWidget(note)
        lay.addLayout(actions)
        lay.addWidget(self.status)
        self._users: list[Any] = []
        self._selection_changed()
        subscribe(self, self.on_changes)

    def on_changes(self, change: Change) -> None:
        """Users changed (here or in another window): show the new list."""
        if change.touches(USERS) and self.ws.user is not None:
            self.reload()

    def reload(self) -> None:
        if self.ws.user is None:
            return
        try:
            users = self.ws.admin.list_users()
        except SieeError as e:
            show_error(self, e)
            return
        keep = self.selected_username()
        self._users = users
        self.table.setRowCount(len(users))
        for r, u in enumerate(users):
            state = "Activo" if u.active else "Desactivado"
            if u.active and u.must_change_password:
                state = "Activo — debe cambiar su contraseña al ingresar"
            cells = [u.username, u.display_name, ROLE_LABELS[u.role], state]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if not u.active:
                    it.setForeground(QBrush(QColor(styles.MUTED)))
                if c == 3 and not u.active:
                    it.setForeground(QBrush(QColor(styles.ERROR)))
                self.table.setItem(r, c, it)
            if u.username == keep:
                self.table.selectRow(r)
        self._selection_changed()

    def selected_username(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        it = self.table.item(rows[0].row(), 0)
        return it.text() if it else None

    def select(self, username: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == username:
                self.table.selectRow(r)
                return

    def _selected_user(self) -> Any | None:
        name = self.selected_username()
        return next((u for u in self._users if u.username == name), None)

    def _selection_changed(self) -> None:
        u = self._selected_user()
        me = self.ws.user
        not_me = u is not None and (me is None or u.id != me.id)
        self.toggle_btn.setEnabled(not_me)
        # one's own password: «Cuenta › Cambiar mi contraseña»
        self.reset_btn.setEnabled(not_me)
        self.toggle_btn.setText("&Activar" if u is not None and not u.active else "&Desactivar")

    def new_user(self) -> NewUserDialog:
        dlg = NewUserDialog(self.ws, self)
        dlg.accepted.connect(lambda: self._created(dlg))
        self.dialog = dlg
        dlg.open()
        return dlg

    def _created(self, dlg: NewUserDialog) -> None:
        broadcast({USERS}, origin=self)  # this page reloads through on_changes
        if dlg.created:
            self.select(dlg.created)
            self.status.setText(f"Usuario «{dlg.created}» creado.")

    def toggle_active(self) -> None:
        u = self._selected_user()
        if u is None:
            return
        if u.active:
            box = QMessageBox(self)
            box.setWindowTitle("Desactivar usuario")
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(
                f"¿Desactivar la cuenta «{u.username}»? No podrá ingresar hasta que se active "
                "de nuevo."
            )
            yes = box.addButton("Desactivar", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Cancelar", QMessageBox.ButtonRole.RejectRole)
            if not self.confirm(box) or box.clickedButton() is not yes:
                return
        try:
            self.ws.admin.set_user_active(u.username, not u.active)
        except SieeError as e:
            show_error(self, e)
            return
        self.status.setText(
            f"Cuenta «{u.username}» {'desactivada' if u.active else 'activada'}."
        )
        broadcast({USERS}, origin=self)

    def _reset_done(self, name: str) -> None:
        self.status.setText(f"Contraseña de «{name}» restablecida: deberá cambiarla al "
                            "ingresar.")
        broadcast({USERS}, origin=self)

    def confirm(self, box: QMessageBox) -> bool:
        """Runs a confirmation box (tests replace it)."""
        box.exec()
        return True

    def reset_password(self) -> AdminResetDialog | None:
        name = self.selected_username()
        if name is None:
            return None
        dlg = AdminResetDialog(self.ws, name, self)
        dlg.accepted.connect(lambda: self._reset_done(name))
        self.dialog = dlg
        dlg.open()
        return dlg


