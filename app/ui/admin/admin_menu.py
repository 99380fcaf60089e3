"""The «Administración» menu of the main window: settings, backup, restore and
the support report. Shown only while an administrator is logged in.

`install_admin_menu(window)` is the one hook (in AppWindow.__init__); it follows
the window's page stack to know when someone logs in or out."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.cli.doctor import doctor_report, format_report
from app.core.errors import SieeError
from app.core.roles import Perm, can
from app.ui.admin.backup_dialog import BackupDialog, RestoreDialog
from app.ui.admin.handover_dialog import HandoverDialog
from app.ui.admin.settings_dialog import SettingsDialog
from app.ui.common.worker import show_error

log = logging.getLogger("siee.ui.admin")


class AdminMenu(QMenu):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__("Ad&ministración", window)
        self.window_ = window
        self.users_action = self.addAction("&Usuarios y contraseñas…", self.open_users)
        self.settings_action = self.addAction("&Configuración…", self.open_settings)
        self.backup_action = self.addAction("Copia de &respaldo…", self.open_backup)
        self.restore_action = self.addAction("Res&taurar una copia…", self.open_restore)
        self.addSeparator()
        self.doctor_action = self.addAction("&Diagnóstico para soporte…", self.open_doctor)
        self.handover_action = self.addAction("&Lista de entrega del cargo…", self.open_handover)
        self.menu_action: QAction = window.menuBar().addMenu(self)
        self.dialog: QDialog | None = None
        self._applied: set[int] = set()
        stack = getattr(window, "stack", None)
        if stack is not None:
            stack.currentChanged.connect(lambda _i: self.refresh())
        self.refresh()

    def _ws(self) -> Any:
        return getattr(self.window_, "ws", None)

    def refresh(self) -> None:
        ws = self._ws()
        if ws is not None and id(ws) not in self._applied:
            # IT's settings file also reaches a workspace the first-run wizard just made.
            self._applied.add(id(ws))
            try:
                ws.settings.apply_file()
            except Exception:  # a bad file must not stop the program
                log.exception("could not apply the settings file")
        user = ws.user if ws is not None else None
        role = user.role if user is not None else None
        visible = role is not None and (can(role, Perm.SETTINGS_MANAGE) or can(role, Perm.BACKUP)
                                        or can(role, Perm.USERS_MANAGE))
        self.menu_action.setVisible(bool(visible))
        if role is not None:
            self.users_action.setVisible(can(role, Perm.USERS_MANAGE))
            self.settings_action.setEnabled(can(role, Perm.SETTINGS_MANAGE))
            self.backup_action.setEnabled(can(role, Perm.BACKUP))
            self.restore_action.setEnabled(can(role, Perm.BACKUP))
        if not visible and self.dialog is not None:
            self.dialog.close()  # a dialog never outlives the session
            self.dialog = None

    def _show(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()

    def open_users(self) -> Any:
        """«Usuarios y contraseñas…»: the supervision window on its Usuarios tab (new
        users, a forgotten password). Found through the window, which puts the rooms
        together (this room does not import the shell)."""
        tools = getattr(getattr(self.window_, "records_page", None), "supervision", None)
        w = tools.open_supervision() if tools is not None else None
        if w is not None and getattr(w, "users", None) is not None:
            w.show_tab(w.users)
        return w

    def open_settings(self) -> None:
        try:
            self._show(SettingsDialog(self._ws(), self.window_))
        except SieeError as e:
            show_error(self.window_, e)

    def open_backup(self) -> None:
        try:
            self._show(BackupDialog(self._ws(), self.window_))
        except SieeError as e:
            show_error(self.window_, e)

    def open_restore(self) -> None:
        ws = self._ws()
        target = ws.data_dir.parent / f"{ws.data_dir.name}-restaurados" if ws else None
        self._show(RestoreDialog(target, self.window_))

    def open_doctor(self) -> None:
        ws = self._ws()
        if ws is None:
            return
        self._show(DoctorDialog(format_report(doctor_report(ws.data_dir)), self.window_))


    def open_handover(self) -> None:
        """The checklist for a new responsable de ULE (issue 18), from this workspace."""
        try:
            self._show(HandoverDialog(self._ws(), self.window_))
        except SieeError as e:
            show_error(self.window_, e)


class DoctorDialog(QDialog):
    """The support report, selectable, to paste into a ticket."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("SIEE Campo — diagnóstico para soporte")
        self.resize(760, 560)
        self.text = QPlainTextEdit(text)
        self.text.setReadOnly(True)
        buttons = QDialogButtonBox()
        copy = buttons.addButton("&Copiar", QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton("Cerrar", QDialogButtonBox.ButtonRole.RejectRole)
        copy.clicked.connect(self._copy)
        close.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)

    def _copy(self) -> None:
        self.text.selectAll()
        self.text.copy()


def install_admin_menu(window: QMainWindow) -> AdminMenu:
    return AdminMenu(window)
