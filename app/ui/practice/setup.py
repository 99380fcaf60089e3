"""The first opening of practice mode on a laptop: who trains (the instructor or the
trainee, administrator of the practice workspace only), with a password of their
own. The practice workspace is created in its own folder, encrypted, with the real
workspace's ULE; nothing of the real workspace is copied into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.ui.common.busy import busy
from app.ui.common.dialogs import ok_cancel
from app.ui.common.worker import user_text
from app.workspace import Workspace


class PracticeSetupDialog(QDialog):
    """Creates the practice workspace in `folder`; `username` holds who was created."""

    def __init__(self, folder: Path, ule: str | None, ws_kwargs: dict[str, Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.ule = ule
        self.ws_kwargs = ws_kwargs or {}
        self.username = ""
        self.setWindowTitle("Modo práctica — primera vez")
        intro = QLabel(
            "El modo práctica es un espacio aparte para aprender: tiene sus propios usuarios "
            "y hogares ficticios, y nada de lo que se haga allí se envía al SIEE ni toca las "
            "fichas reales. Cree el usuario de quien dirige la práctica (instructor o "
            "responsable de la ULE); luego podrá agregar a cada persona en capacitación.")
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel("")
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Nombre:", self.name)
        form.addRow("&Usuario:", self.user)
        form.addRow("&Contraseña:", self.password)
        form.addRow("&Repita la contraseña:", self.again)
        buttons = ok_cancel(self, "Crear el espacio de práctica", self.create)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.resize(560, 320)

    def create(self) -> None:
        user = self.user.text().strip()
        if not user:
            self.message.setText("Escriba un nombre de usuario.")
            return
        if self.password.text() != self.again.text():
            self.message.setText("Las contraseñas no coinciden. Escríbalas de nuevo.")
            return
        try:
            with busy(self.message, "Creando el espacio de práctica…"):
                ws, _code = Workspace.create(self.folder, user, self.password.text(),
                                             ule_ubigeo=self.ule,
                                             display_name=self.name.text().strip(),
                                             practice=True, **self.ws_kwargs)
        except SieeError as e:
            self.message.setText(user_text(e))
            return
        ws.close()
        self.username = user.lower()
        self.accept()
