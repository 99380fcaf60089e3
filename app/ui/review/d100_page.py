"""The D100 sworn statements (issue 15): generate one for the cases sent in a period
(a PDF with the mayor's signature block) and track it: generada → firmada → enviada,
because the centre needs it signed. `ws.cases` checks the role below this screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.ui.common.date_field import DateField
from app.ui.common.worker import show_error
from app.ui.review.papers import write_d100_pdf
from app.workspace import Workspace

STATE_TEXT = {"generado": "Generada", "firmado": "Firmada", "enviado": "Enviada"}


def _ts(value: float | None) -> str:
    return dt.datetime.fromtimestamp(value).strftime("%d/%m/%Y %H:%M") if value else ""


class D100Page(QWidget):
    """List, generate and track D100 statements."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        today = dt.date.fromtimestamp(ws.clock())
        start = today.replace(day=1)
        # typed as dd/mm/aaaa and kept as typed; `generate` refuses a wrong period
        self.date_from = DateField(start, "La fecha «Desde»")
        self.date_to = DateField(today, "La fecha «Hasta»")
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.generate_btn = QPushButton("&Generar D100 (PDF)…")
        self.generate_btn.clicked.connect(lambda: self.generate())
        top = QHBoxLayout()
        for text, w in (("&Desde:", self.date_from), ("&Hasta:", self.date_to)):
            lab = QLabel(text)
            lab.setBuddy(w)
            top.addWidget(lab)
            top.addWidget(w)
        top.addWidget(self.generate_btn)
        top.addStretch(1)
        hint = QLabel("La D100 lista los expedientes enviados en el periodo. Imprímala, hágala "
                      "firmar por el alcalde o el gerente autorizado y márquela como firmada y "
                      "luego como enviada a la sede central.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(
            ["N°", "Periodo", "Expedientes", "Estado", "Firmada", "Enviada"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.pdf_btn = QPushButton("Guardar &PDF…")
        self.pdf_btn.clicked.connect(lambda: self.save_pdf())
        self.signed_btn = QPushButton("Marcar &firmada")
        self.signed_btn.clicked.connect(lambda: self.mark("firmado"))
        self.sent_btn = QPushButton("Marcar &enviada")
        self.sent_btn.clicked.connect(lambda: self.mark("enviado"))
        row = QHBoxLayout()
        for b in (self.pdf_btn, self.signed_btn, self.sent_btn):
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.error)
        lay.addWidget(hint)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        self.reload()

    def reload(self) -> None:
        try:
            rows = self.ws.cases.d100_list()
        except SieeError as e:
            show_error(self, e)
            return
        self.table.setRowCount(len(rows))
        for r, d in enumerate(rows):
            period = (f"{dt.date.fromisoformat(d.period_from):%d/%m/%Y} – "
                      f"{dt.date.fromisoformat(d.period_to):%d/%m/%Y}")
            for c, text in enumerate((str(d.id), period, str(len(d.cases)),
                                      STATE_TEXT.get(d.state, d.state), _ts(d.signed_at),
                                      _ts(d.sent_at))):
                it = QTableWidgetItem(text)
                if c == 0:
                    it.setData(Qt.ItemDataRole.UserRole, d.id)
                self.table.setItem(r, c, it)
        if rows:
            self.table.selectRow(0)

    def selected(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        it = self.table.item(rows[0].row(), 0) if rows else None
        return int(it.data(Qt.ItemDataRole.UserRole)) if it else None

    def generate(self, path: str | Path | None = None) -> Path | None:
        """A new D100 for the period, saved as a PDF (asks where, unless `path`).
        A period that is not two real dates, ends after today or ends before it starts
        is refused with a message above the list, the focus on the wrong date."""
        today = dt.date.fromtimestamp(self.ws.clock())
        start = self.date_from.date()
        problem = self.date_from.problem(None, today)
        field = self.date_from
        if problem is None:
            problem = self.date_to.problem(start, today, "a la fecha «Desde»")
            field = self.date_to
        end = self.date_to.date()
        if problem or start is None or end is None:
            self.error.setText(problem or "")
            self.error.setVisible(bool(problem))
            field.setFocus()
            return None
        self.error.hide()
        try:
            data = self.ws.cases.d100_generate(start, end)
        except SieeError as e:
            show_error(self, e)
            return None
        self.reload()
        return self._write(data.id, path)

    def save_pdf(self, path: str | Path | None = None) -> Path | None:
        d100_id = self.selected()
        return None if d100_id is None else self._write(d100_id, path)

    def _write(self, d100_id: int, path: str | Path | None) -> Path | None:
        try:
            data = self.ws.cases.d100(d100_id)
            if path is None:
                name, _ = QFileDialog.getSaveFileName(
                    self, "Guardar declaración jurada D100",
                    str(Path.home() / f"D100-{d100_id}.pdf"), "Documento PDF (*.pdf)")
                if not name:
                    return None
                path = name if name.lower().endswith(".pdf") else name + ".pdf"
            return write_d100_pdf(data, path)
        except SieeError as e:
            show_error(self, e)
            return None

    def mark(self, state: str) -> bool:
        d100_id = self.selected()
        if d100_id is None:
            return False
        try:
            self.ws.cases.d100_mark(d100_id, state)
        except SieeError as e:
            show_error(self, e)
            return False
        self.reload()
        return True
