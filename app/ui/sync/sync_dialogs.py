"""Dialogs of sync: enrollment of the laptop with a code from the centre, and the
texts shown after a USB export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.sync.model import DeviceInfo
from app.ui.common.fingerprint import (
    COMPARE_HINT,
    fingerprint_label,
    fingerprint_of,
)
from app.ui.common.wording import LOCKED_TIP, locked_note, plural
from app.ui.common.worker import Job, run_job, user_text


def export_message(paths: list[Path]) -> str:
    if not paths:
        return (
            "No hay registros en cola de envío. Se escribió la solicitud de novedades "
            "(siee-inbox-request-….json): llévela a la sede central, le darán un archivo de "
            "novedades (siee-inbox-….json) con las fichas observadas, resultados y avisos; "
            "impórtelo con «Importar recibo o novedades de USB…»."
        )
    folder = paths[0].parent
    return (
        plural(len(paths), "Se escribió 1 archivo de lote", "Se escribieron {n} archivos de lote")
        + f" y la solicitud de novedades en {folder}.\n\n"
        "Lleve la memoria USB a la sede central para que importen los lotes. Le darán un "
        "archivo de recibo (siee-receipt-….json) y uno de novedades (siee-inbox-….json): "
        "impórtelos con «Importar recibo o novedades de USB…». "
        "Hasta entonces las fichas siguen en cola; si vuelve la conexión se envían solas "
        "sin duplicarse."
    )


def enroll_intro(url_locked: bool, enrolled: bool) -> str:
    """The enrollment dialog's first lines: what to ask the centre for and what to type
    (only the code when IT locked the server address: the field cannot be edited)."""
    if url_locked:
        text = ("Pida a la sede central un código de inscripción (válido 72 horas) y "
                "escríbalo abajo. La dirección del servidor ya está puesta: la fijó TI en el "
                "archivo de configuración. Las fichas pendientes se conservan.")
    else:
        text = ("Pida a la sede central un código de inscripción (válido 72 horas) y escriba "
                "la dirección del servidor y el código. Las fichas pendientes se conservan.")
    if enrolled:
        text += ("\n\nEste equipo ya está inscrito: al inscribirlo de nuevo recibe una identidad "
                 "nueva, la sede central da de baja la anterior y sus fichas sin enviar se "
                 "envían con la nueva.")
    return text


class EnrollDialog(QDialog):
    """Server address + one-time code → enrolled; shows the pinned key's fingerprint."""

    def __init__(self, ctl: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.job: Job | None = None
        self.result_info: DeviceInfo | None = None
        self.setWindowTitle("Inscribir este equipo en el servidor del SIEE")
        ws = ctl.ws()
        dev = ws.centre.device() if ws is not None else None
        self.url = QLineEdit((ws.settings.values().get("server_url") if ws else "") or "https://")
        # A server address IT locked: shown read-only with the reason, as the settings
        # screen shows it (the enrollment refuses another address anyway).
        row = next((r for r in ws.settings.view() if r["key"] == "server_url"), None) if ws \
            else None
        self.url_locked = bool(row and row["locked"])
        self.intro = QLabel(enroll_intro(self.url_locked, dev is not None))
        self.intro.setWordWrap(True)
        intro = self.intro
        self.url_note = QLabel(locked_note(row["source"]) if self.url_locked else "")
        self.url_note.setObjectName("hint")
        self.url_note.setWordWrap(True)
        self.url_note.setVisible(self.url_locked)
        if self.url_locked:
            self.url.setReadOnly(True)
            self.url.setToolTip(LOCKED_TIP)
        self.code = QLineEdit()
        self.code.setPlaceholderText("XXXX-XXXX-XXXX")
        self.label = QLineEdit()
        self.label.setPlaceholderText("p. ej. Laptop ULE 1")
        form = QFormLayout()
        form.addRow("&Servidor:", self.url)
        form.addRow("", self.url_note)
        form.addRow("&Código:", self.code)
        form.addRow("&Nombre del equipo:", self.label)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        # The key fingerprint on a line of its own, never wrapped or cut: IT reads it
        # aloud against the centre's (`siee-server keys`).
        self.fingerprint = fingerprint_label()
        self.fingerprint.setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Inscribir")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cancelar")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.message)
        lay.addWidget(self.fingerprint)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.code.setFocus()

    def submit(self) -> None:
        url, code, label = self.url.text().strip(), self.code.text().strip(), self.label.text()
        if not code:
            self.message.setText("Escriba el código de inscripción.")
            return
        centre = self.ctl.centre()
        self.buttons.setEnabled(False)
        self.message.setText("Inscribiendo…")
        self.job = run_job(lambda _job: centre.enroll(url, code, label),
                           on_result=self._done, on_error=self._failed)

    def _done(self, info: DeviceInfo) -> None:
        self.result_info = info
        self.buttons.setEnabled(True)
        self.ctl.refresh()
        self.ctl.policy.request_now()
        self.message.setText(
            f"Equipo inscrito ({info.device_id}, ULE {info.ule_ubigeo}); enseguida se envían "
            f"las fichas en cola. {COMPARE_HINT}"
        )
        self.fingerprint.setText(fingerprint_of(info))
        self.fingerprint.setVisible(True)
        self.adjustSize()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Cerrar")

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(user_text(exc))


class EnrolledDialog(QDialog):
    """The result of an enrollment made without the enrollment dialog (the first-run
    wizard's server and code, or `run --server --enroll-code`, used at the first
    administrator log-in): which device, which ULE, which server, and the server key's
    fingerprint to compare with the centre's."""

    def __init__(self, info: DeviceInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Inscripción del equipo")
        self.message = QLabel(
            f"Este equipo quedó inscrito en el servidor del SIEE ({info.server_url}) como "
            f"{info.device_id}, ULE {info.ule_ubigeo}; enseguida se envían las fichas en "
            f"cola. {COMPARE_HINT}")
        self.message.setWordWrap(True)
        self.fingerprint = fingerprint_label(fingerprint_of(info))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Cerrar")
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.message)
        lay.addWidget(self.fingerprint)
        lay.addWidget(buttons)
        self.setMinimumWidth(560)
