"""Export for supervisors: the record list, the answers or the household members,
as CSV or Excel (XLSX), written only where the person chooses.

The export runs off the GUI thread with a progress bar and a cancel button; the
workspace checks the role and writes the audit entry."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core.states import STATE_LABELS, State
from app.ui.common.record_list import FORM_LABELS
from app.ui.common.wording import plural
from app.ui.common.worker import Job, run_job, user_text
from app.workspace import Workspace
from app.workspace.documents import ExportResult
from app.workspace.exports import KIND_LABELS, ExportCancelled

log = logging.getLogger("siee.ui.export")

FILE_STEMS = {"cases": "expedientes", "records": "fichas", "answers": "respuestas",
              "members": "integrantes"}


class ExportDialog(QDialog):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.job: Job | None = None
        self.result: ExportResult | None = None
        self.setWindowTitle("Exportar datos — SIEE Campo")
        self.setMinimumWidth(560)

        self.kind = QComboBox()
        for key, label in KIND_LABELS.items():
            self.kind.addItem(label, key)
        self.form = QComboBox()
        self.state = QComboBox()
        self.state.addItem("Todos los estados", "")
        for st in State:
            self.state.addItem(STATE_LABELS[st], st.value)
        self.csv_btn = QRadioButton("CSV (texto separado por comas, para cualquier programa)")
        self.xlsx_btn = QRadioButton("Excel (XLSX)")
        self.xlsx_btn.setChecked(True)
        self.fmt_group = QButtonGroup(self)
        self.fmt_group.addButton(self.csv_btn)
        self.fmt_group.addButton(self.xlsx_btn)
        fmt = QVBoxLayout()
        fmt.addWidget(self.xlsx_btn)
        fmt.addWidget(self.csv_btn)
        self.kind.currentIndexChanged.connect(self._kind_changed)

        form = QFormLayout()
        form.addRow("¿&Qué exportar?", self.kind)
        form.addRow("&Formulario:", self.form)
        form.addRow("&Estado:", self.state)
        form.addRow("Formato:", fmt)

        note = QLabel(
            "El archivo contendrá datos personales de los hogares. Guárdelo solo en una "
            "carpeta segura; la exportación queda registrada en la bitácora."
        )
        note.setObjectName("warning")
        note.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.hide()
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.export_btn = QPushButton("E&xportar…")
        self.export_btn.setObjectName("primary")
        self.export_btn.setDefault(True)
        self.export_btn.clicked.connect(self.choose_and_export)
        self.cancel_btn = QPushButton("Cancelar exportación")
        self.cancel_btn.clicked.connect(self.cancel)
        self.cancel_btn.hide()
        self.close_btn = QPushButton("Cerrar")
        self.close_btn.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_btn)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.close_btn)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.bar)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self._kind_changed()

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        current = self.form.currentData()
        self.form.clear()
        if kind in ("records", "cases"):
            self.form.addItem("Todos los formularios", "")
        for fid, label in FORM_LABELS.items():
            self.form.addItem(label, fid)
        i = self.form.findData(current if current is not None else "fsu")
        if kind not in ("records", "cases") and i < 0:
            i = self.form.findData("fsu")
        self.form.setCurrentIndex(max(0, i))

    def fmt(self) -> str:
        return "csv" if self.csv_btn.isChecked() else "xlsx"

    def suggested_name(self) -> str:
        kind = self.kind.currentData()
        form_id = self.form.currentData() or ""
        stem = FILE_STEMS.get(kind, "exportacion") + (f"-{form_id}" if form_id else "")
        return f"{stem}-{dt.date.today():%Y-%m-%d}.{self.fmt()}"

    def choose_and_export(self) -> None:
        fmt = self.fmt()
        filt = "Libro de Excel (*.xlsx)" if fmt == "xlsx" else "Texto CSV (*.csv)"
        name, _ = QFileDialog.getSaveFileName(
            self, "Guardar exportación", str(Path.home() / self.suggested_name()), filt
        )
        if name:
            if not name.lower().endswith("." + fmt):
                name += "." + fmt
            self.start_export(Path(name))

    def start_export(self, path: Path) -> Job:
        """Export to `path` in the background (the file dialog calls this)."""
        ws = self.ws
        kind, fmt = self.kind.currentData(), self.fmt()
        form_id = self.form.currentData() or None
        state = self.state.currentData() or None

        def work(job: Job) -> ExportResult:
            return ws.documents.export_data(
                kind, fmt, path, form_id, state, progress=job.progress,
                cancelled=lambda: job.cancelled,
            )

        self.result = None
        self.bar.setRange(0, 0)
        self.bar.show()
        self.message.setObjectName("")
        self.message.setText(f"Exportando a {path.name}…")
        self.export_btn.setEnabled(False)
        self.close_btn.setEnabled(False)
        self.cancel_btn.show()
        self.job = run_job(
            work, on_result=self._done, on_error=self._failed, on_progress=self._progress
        )
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.message.setText("Cancelando…")

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done} de {total} fichas")

    def _finish(self) -> None:
        self.job = None
        self.export_btn.setEnabled(True)
        self.close_btn.setEnabled(True)
        self.cancel_btn.hide()
        self.bar.hide()
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _done(self, res: ExportResult) -> None:
        self.result = res
        self.message.setObjectName("ok")
        done = plural(res.rows, "Se exportó 1 fila a:", "Se exportaron {n} filas a:")
        self.message.setText(f"{done}\n{res.path}")
        self._finish()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ExportCancelled):
            self.message.setObjectName("warning")
            self.message.setText("Exportación cancelada: no se escribió ningún archivo.")
        else:
            self.message.setObjectName("error")
            self.message.setText(user_text(exc))
        self._finish()

    def reject(self) -> None:
        if self.job is not None:  # closing cancels a running export
            self.job.cancel()
            self.job.wait(10)
        super().reject()
