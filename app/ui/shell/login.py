"""Log-in on a shared laptop: pick or type the user, password, clear messages
for a wrong password and for a locked account (with a live countdown)."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import AccountLocked, SieeError, wait_text
from app.core.ubigeo import catalog
from app.ui.admin.account import ForgotPasswordDialog
from app.ui.common.busy import busy
from app.ui.common.worker import user_text
from app.workspace import Workspace

log = logging.getLogger("siee.ui.login")


class LoginPage(QWidget):
    logged_in = Signal(object)  # app.store.vault.User
    practice_requested = Signal()  # «Modo práctica» (issue 18): the shell opens it

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self._locked_until = 0.0
        self._just_typed = ""  # the password of a log-in while it is being signalled
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)

        self.title = QLabel("SIEE Campo")
        self.title.setObjectName("title")
        self.place = QLabel("")
        self.place.setObjectName("subtitle")
        self.notice = QLabel("")
        self.notice.setObjectName("warning")
        self.notice.setWordWrap(True)
        # A wrapped label in a form row gets the height of one line unless told:
        # room for two lines at the message's width (hidden, it takes no space).
        self.notice.setMinimumWidth(380)
        self.notice.setMinimumHeight(self.notice.fontMetrics().lineSpacing() * 2 + 4)
        self.user = QComboBox()
        self.user.setEditable(True)
        self.user.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.user.setMinimumWidth(260)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.submit)
        self.button = QPushButton("&Ingresar")
        self.button.setObjectName("primary")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.forgot_btn = QPushButton("¿&Olvidó su contraseña?")
        self.forgot_btn.setFlat(True)
        self.forgot_btn.setObjectName("link")
        self.forgot_btn.clicked.connect(self.forgot)
        self.forgot_dialog: ForgotPasswordDialog | None = None
        self.message = QLabel("")
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(380)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3 + 4)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMaximumWidth(520)
        form = QFormLayout(box)
        form.setContentsMargins(24, 24, 24, 24)
        form.addRow(self.title)
        form.addRow(self.place)
        form.addRow(self.notice)
        for text, field in (("&Usuario:", self.user), ("&Contraseña:", self.password)):
            lab = QLabel(text)
            lab.setBuddy(field)
            form.addRow(lab, field)
        form.addRow("", self.button)
        form.addRow("", self.forgot_btn)
        form.addRow(self.message)
        self.practice_btn = QPushButton("Modo &práctica (capacitación)…")
        self.practice_btn.setToolTip(
            "Abre un espacio de práctica separado, con sus propios usuarios y hogares "
            "ficticios: nada se envía al SIEE.")
        self.practice_btn.clicked.connect(self.practice_requested)
        form.addRow("", self.practice_btn)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.refresh()

    def refresh(self, username: str = "", notice: str = "") -> None:
        """Reload the user list and reset the fields (after log-out or lock)."""
        names = self.ws.usernames()
        self.user.clear()
        self.user.addItems(names)
        if username:
            self.user.setCurrentText(username)
        elif len(names) == 1:
            self.user.setCurrentIndex(0)
        ubigeo = self.ws.settings.values().get("ule_ubigeo") or ""
        d = catalog().get(ubigeo)
        self.place.setText(f"ULE de {d.label}" if d else "")
        self.notice.setText(notice)
        self.notice.setVisible(bool(notice))
        self.password.clear()
        self.message.clear()
        self.password.setFocus()

    def submit(self) -> None:
        if self._locked_until and time.monotonic() < self._locked_until:
            return
        username = self.user.currentText().strip()
        if not username:
            self.message.setText("Escriba o elija su usuario.")
            self.user.setFocus()
            return
        try:
            with busy(self.message, "Verificando la contraseña…"):
                user = self.ws.login(username, self.password.text())
        except AccountLocked as e:
            self.notice.hide()
            self._start_lock(e)
            return
        except SieeError as e:
            self.notice.hide()  # a set-up notice must not sit beside the error
            self.message.setText(user_text(e))
            self.password.selectAll()
            self.password.setFocus()
            return
        # The shell reads it once (take_password) for the change a given password
        # needs, so the person is not asked again what they just typed.
        self._just_typed = self.password.text()
        self.password.clear()
        self.message.clear()
        self.notice.clear()
        self.logged_in.emit(user)
        self._just_typed = ""

    def take_password(self) -> str:
        """The password of the log-in being signalled (only while `logged_in` is being
        emitted; "" afterwards). It is forgotten once read."""
        value, self._just_typed = self._just_typed, ""
        return value

    def forgot(self) -> ForgotPasswordDialog:
        """«¿Olvidó su contraseña?»: the recovery code for an administrator, whom to
        ask for anyone else."""
        self.notice.hide()
        dlg = ForgotPasswordDialog(self.ws, self.user.currentText().strip(), self)
        dlg.accepted.connect(lambda: self._recovered(dlg.username))
        self.forgot_dialog = dlg
        dlg.open()
        return dlg

    def _recovered(self, username: str) -> None:
        self.refresh(username)
        self.message.setText(f"Contraseña de «{username}» cambiada. Ingrese con la nueva.")

    def _start_lock(self, e: AccountLocked) -> None:
        self._lock_message = e.user_message
        self._locked_until = time.monotonic() + e.seconds_left
        self.password.clear()
        self.button.setEnabled(False)
        self._tick()
        self._countdown.start()

    def _tick(self) -> None:
        left = self._locked_until - time.monotonic()
        if left <= 0:
            self._countdown.stop()
            self._locked_until = 0.0
            self.button.setEnabled(True)
            self.message.setText("Ya puede intentar de nuevo.")
            self.password.setFocus()
            return
        self.message.setText(f"{self._lock_message}\nTiempo restante: {wait_text(left)}.")
