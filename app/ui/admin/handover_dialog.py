"""The handover checklist for a new responsable de ULE (issue 18 item 6), from the
real workspace's state (app/practice/handover.py): shown, and saved as a PDF to
print and sign."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.practice.handover import handover_html, handover_text
from app.ui.common.pdf import write_pdf
from app.ui.common.worker import show_error
from app.workspace import Workspace


class HandoverDialog(QDialog):
    """The checklist as text, with «Guardar PDF…» (to print and sign)."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.setWindowTitle("Lista de entrega del cargo de responsable de ULE")
        self.resize(820, 600)
        self.text = QPlainTextEdit(handover_text(ws))
        self.text.setReadOnly(True)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        buttons = QDialogButtonBox()
        save = buttons.addButton("&Guardar PDF para imprimir…",
                                 QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton("Cerrar", QDialogButtonBox.ButtonRole.RejectRole)
        save.clicked.connect(lambda: self.save_pdf())
        close.clicked.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(self.status)
        lay.addWidget(buttons)

    def save_pdf(self, path: Path | str | None = None) -> Path | None:
        if path is None:
            name, _f = QFileDialog.getSaveFileName(
                self, "Guardar la lista de entrega", str(Path.home() / "lista-de-entrega.pdf"),
                "Documento PDF (*.pdf)")
            if not name:
                return None
            path = name if name.lower().endswith(".pdf") else name + ".pdf"
        try:
            out = write_pdf(handover_html(self.ws), path, "Lista de entrega del cargo")
        except SieeError as e:
            show_error(self, e)
            return None
        self.status.setText(f"Guardada en {out}. Imprímala y fírmenla quien entrega y quien "
                            "recibe.")
        return out
