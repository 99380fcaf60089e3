"""The practice window: «Ejercicios» (start an exercise, print its paper FSU, score it)
and «Avance» (each trainee's results over time, who is ready, Excel and PDF), opened
from the records screen of a practice workspace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Perm, can
from app.core.states import STATE_LABELS, State
from app.practice.exercises import EXERCISES, READY_EXERCISE, score_record, start_entry
from app.practice.paper import paper_html
from app.practice.progress import COLUMNS, pct, progress, progress_html, table
from app.practice.report import write_progress_xlsx
from app.practice.review_exercise import review_sets, score_review, start_review
from app.ui.common.pdf import write_pdf
from app.ui.common.worker import show_error
from app.ui.practice.band import mark_window
from app.ui.practice.results import EntryResultDialog, ReviewResultDialog
from app.workspace import Workspace

# uuid -> (keys pressed, seconds typing) of an exercise's open form window, or None
KeyReader = Callable[[str], tuple[int, float | None] | None]


class ExercisesPage(QWidget):
    """Start, print and score exercises. Emits open_record(uuid) and open_review()."""

    open_record = Signal(str)
    open_review = Signal()

    def __init__(self, ws: Workspace, key_reader: KeyReader | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.key_reader = key_reader
        self.last_dialog: QWidget | None = None
        self.catalog = QListWidget()
        for ex in EXERCISES.values():
            item = QListWidgetItem(f"{ex.title}\n    {ex.summary}")
            item.setData(Qt.ItemDataRole.UserRole, ex.code)
            self.catalog.addItem(item)
        self.catalog.setCurrentRow(0)
        self.catalog.setMaximumHeight(220)
        self.start_btn = QPushButton("&Comenzar el ejercicio")
        self.start_btn.setObjectName("primary")
        self.start_btn.clicked.connect(lambda: self.start())
        self.mine = QTableWidget(0, 5)
        self.mine.setHorizontalHeaderLabels(["Ejercicio", "Comenzado", "Estado de la ficha",
                                             "Precisión", "N°"])
        self.mine.verticalHeader().hide()
        self.mine.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mine.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.mine.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.mine.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.mine.horizontalHeader().setStretchLastSection(True)
        self.mine.doubleClicked.connect(lambda _i: self.open_selected())
        self.paper_btn = QPushButton("&Imprimir la ficha de papel (PDF)…")
        self.paper_btn.clicked.connect(lambda: self.save_paper())
        self.open_btn = QPushButton("&Abrir")
        self.open_btn.clicked.connect(self.open_selected)
        self.score_btn = QPushButton("Ca&lificar")
        self.score_btn.clicked.connect(lambda: self.score_selected())
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.start_btn)
        top.addStretch(1)
        acts = QHBoxLayout()
        for b in (self.open_btn, self.paper_btn, self.score_btn):
            acts.addWidget(b)
        acts.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Elija un ejercicio:"))
        lay.addWidget(self.catalog)
        lay.addLayout(top)
        lay.addWidget(QLabel("Ejercicios comenzados:"))
        lay.addWidget(self.mine, 1)
        lay.addLayout(acts)
        lay.addWidget(self.status)
        self.rows: list[tuple[str, str, int]] = []  # (kind, uuid or set id, seed)
        self.reload()

    # -- the list -------------------------------------------------------------------------
    def reload(self) -> None:
        ws = self.ws
        if ws.user is None:
            return
        rows: list[tuple[str, list[str]]] = []
        self.rows = []
        for m in ws.list_records():
            info = ws.practice.exercise(m.uuid)
            if not info or info.get("kind") != "entry" or m.author_id != ws.user.id:
                continue
            ex = EXERCISES[str(info["code"])]
            acc = info.get("accuracy")
            rows.append((m.uuid, [ex.title, _when(info.get("started_at")),
                                  STATE_LABELS[State(m.state)],
                                  "" if acc is None else f"{pct(acc):.1f} %", str(info["seed"])]))
            self.rows.append(("entry", m.uuid, int(info["seed"])))
        if can(ws.user.role, Perm.RECORD_APPROVE):
            for set_id, uuids in review_sets(ws).items():
                done = sum(ws.get(u).state != State.COMPLETE for u in uuids)
                rows.append((set_id, ["Revisión de supervisor", "",
                                      f"{done} de {len(uuids)} revisadas", "", set_id]))
                self.rows.append(("review", set_id, 0))
        self.mine.setRowCount(len(rows))
        for r, (_key, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                self.mine.setItem(r, c, QTableWidgetItem(text))
        if rows and not self.mine.selectedItems():
            self.mine.selectRow(0)

    def selected(self) -> tuple[str, str, int] | None:
        r = self.mine.currentRow()
        return self.rows[r] if 0 <= r < len(self.rows) else None

    def select_key(self, key: str) -> None:
        for i, (_k, u, _s) in enumerate(self.rows):
            if u == key:
                self.mine.selectRow(i)

    # -- actions ------------------------------------------------------------------------------
    def start(self, code: str | None = None, seed: int | None = None) -> str | None:
        """Start exercise `code` (default: the one chosen); returns the record's uuid (data
        entry) or the set id (supervision)."""
        item = self.catalog.currentItem()
        code = code or (item.data(Qt.ItemDataRole.UserRole) if item else None)
        if not code:
            return None
        try:
            if EXERCISES[code].kind == "review":
                set_id = start_review(self.ws, seed)
                self.status.setText("La bandeja de revisión tiene fichas nuevas del "
                                    "empadronador ficticio. Revíselas en Supervisión (F9) y "
                                    "luego pulse «Calificar».")
                self.reload()
                self.select_key(set_id)
                self.open_review.emit()
                return set_id
            uuid = start_entry(self.ws, code, seed)
        except SieeError as e:
            show_error(self, e)
            return None
        self.reload()
        self.select_key(uuid)
        self.status.setText("Imprima la ficha de papel (o ábrala en pantalla) y digítela en la "
                            "ficha que se abrió. Al terminar, pulse «Calificar».")
        self.open_record.emit(uuid)
        return uuid

    def open_selected(self) -> None:
        sel = self.selected()
        if sel is None:
            return
        if sel[0] == "entry":
            self.open_record.emit(sel[1])
        else:
            self.open_review.emit()

    def save_paper(self, path: Path | str | None = None) -> Path | None:
        sel = self.selected()
        if sel is None or sel[0] != "entry":
            self.status.setText("Elija en la lista un ejercicio de digitación comenzado.")
            return None
        info = self.ws.practice.exercise(sel[1]) or {}
        code, seed = str(info["code"]), int(info["seed"])
        if path is None:
            name, _f = QFileDialog.getSaveFileName(
                self, "Guardar la ficha de papel", str(Path.home() / f"ficha-{code}-{seed}.pdf"),
                "Documento PDF (*.pdf)")
            if not name:
                return None
            path = name if name.lower().endswith(".pdf") else name + ".pdf"
        try:
            out = write_pdf(paper_html(code, seed), path, f"FSU de práctica {code}-{seed}")
        except SieeError as e:
            show_error(self, e)
            return None
        self.status.setText(f"Ficha de papel guardada en {out}. Imprímala y digítela.")
        return out

    def score_selected(self) -> QWidget | None:
        sel = self.selected()
        if sel is None:
            return None
        try:
            if sel[0] == "review":
                rscore = score_review(self.ws, sel[1])
                dlg: QWidget = ReviewResultDialog(rscore, self)
            else:
                measured = self.key_reader(sel[1]) if self.key_reader else None
                keys, secs = measured if measured else (None, None)
                score = score_record(self.ws, sel[1], seconds=secs, keys=keys)
                info = self.ws.practice.exercise(sel[1]) or {}
                ready = (float(self.ws.settings.get("practice_ready_accuracy") or 98)
                         if info.get("code") == READY_EXERCISE else None)
                dlg = EntryResultDialog(score, EXERCISES[str(info["code"])].title, ready, self)
        except SieeError as e:
            show_error(self, e)
            return None
        self.reload()
        self.last_dialog = dlg
        if self.ws.practice.enabled:
            mark_window(dlg)
        dlg.show()
        return dlg


class ProgressPage(QWidget):
    """Each trainee's results over time and who is ready; Excel and PDF."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.ready = QTableWidget(0, 4)
        self.ready.setHorizontalHeaderLabels(["Usuario", "Mejor precisión (FSU de 4)",
                                              "Intentos", "Estado"])
        self.ready.setMaximumHeight(180)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for t in (self.ready, self.table):
            t.verticalHeader().hide()
            t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            t.horizontalHeader().setStretchLastSection(True)
        self.xlsx_btn = QPushButton("Exportar a E&xcel…")
        self.xlsx_btn.clicked.connect(lambda: self.export("xlsx"))
        self.pdf_btn = QPushButton("Exportar a P&DF…")
        self.pdf_btn.clicked.connect(lambda: self.export("pdf"))
        self.threshold = QSpinBox()
        self.threshold.setRange(50, 100)
        self.threshold.setSuffix(" %")
        self.threshold_btn = QPushButton("&Guardar precisión mínima")
        self.threshold_btn.clicked.connect(lambda: self.save_threshold())
        acts = QHBoxLayout()
        acts.addWidget(self.xlsx_btn)
        acts.addWidget(self.pdf_btn)
        acts.addStretch(1)
        self.threshold_label = QLabel("Precisión mínima para estar listo:")
        self.threshold_label.setBuddy(self.threshold)
        acts.addWidget(self.threshold_label)
        acts.addWidget(self.threshold)
        acts.addWidget(self.threshold_btn)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        acts.addWidget(self.status)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.ready)
        lay.addWidget(QLabel("Todos los intentos, del más antiguo al más reciente:"))
        lay.addWidget(self.table, 1)
        lay.addLayout(acts)
        self.reload()

    def reload(self) -> None:
        if self.ws.user is None:
            return
        rows, ready, threshold = progress(self.ws)
        self.data = (rows, ready, threshold)
        everyone = can(self.ws.user.role, Perm.RECORD_VIEW_ALL)
        manage = can(self.ws.user.role, Perm.SETTINGS_MANAGE)
        for w in (self.threshold_label, self.threshold, self.threshold_btn):
            w.setVisible(manage)
        self.threshold.setValue(int(threshold))
        self.summary.setText(
            ("Avance de todas las personas en capacitación. " if everyone else "Su avance. ")
            + f"Una persona está lista cuando logra {threshold:g} % o más en la "
            "«FSU de 4 integrantes».")
        self.ready.setRowCount(len(ready))
        for r, x in enumerate(ready):
            cells = [x.username, "" if x.best is None else f"{pct(x.best):.1f} %", str(x.attempts),
                     "Lista(o)" if x.ready else "En práctica"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3 and x.ready:
                    item.setForeground(Qt.GlobalColor.darkGreen)
                self.ready.setItem(r, c, item)
        cells_rows = table(rows)
        self.table.setRowCount(len(cells_rows))
        for r, row in enumerate(cells_rows):
            for c, v in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(str(v)))

    def save_threshold(self, value: int | None = None) -> None:
        """The readiness threshold (setting practice_ready_accuracy; SETTINGS_MANAGE)."""
        try:
            self.ws.settings.save(practice_ready_accuracy=int(
                value if value is not None else self.threshold.value()))
        except SieeError as e:
            show_error(self, e)
            return
        self.reload()
        self.status.setText("Precisión mínima guardada.")

    def export(self, fmt: str, path: Path | str | None = None) -> Path | None:
        rows, ready, threshold = self.data
        if path is None:
            kind = "Libro de Excel (*.xlsx)" if fmt == "xlsx" else "Documento PDF (*.pdf)"
            name, _f = QFileDialog.getSaveFileName(
                self, "Exportar el avance", str(Path.home() / f"avance-practica.{fmt}"), kind)
            if not name:
                return None
            path = name if name.lower().endswith("." + fmt) else f"{name}.{fmt}"
        try:
            if fmt == "xlsx":
                out = write_progress_xlsx(rows, ready, threshold, path)
            else:
                out = write_pdf(progress_html(rows, ready, threshold), path,
                                "Avance de la capacitación")
        except SieeError as e:
            show_error(self, e)
            return None
        self.status.setText(f"Se guardó el archivo {out}.")
        return out


class PracticeWindow(QMainWindow):
    """The tabs «Ejercicios» and «Avance». `closed` when it closes."""

    closed = Signal()

    def __init__(self, ws: Workspace, key_reader: KeyReader | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.setWindowTitle("Ejercicios de práctica — SIEE Campo")
        self.tabs = QTabWidget()
        self.exercises = ExercisesPage(ws, key_reader)
        self.progress = ProgressPage(ws)
        self.tabs.addTab(self.exercises, "&Ejercicios")
        self.tabs.addTab(self.progress, "A&vance")
        self.tabs.currentChanged.connect(lambda _i: self.reload())
        self.setCentralWidget(self.tabs)
        self.resize(1100, 700)

    def reload(self) -> None:
        self.exercises.reload()
        self.progress.reload()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.closed.emit()
        super().closeEvent(event)


def _when(ts: object) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts)).strftime("%d/%m/%Y %H:%M")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
