"""The supervisor's dashboard: records per state, per enumerator and per day;
what is queued, delivered, returned by the centre, with results; and the
households waiting longest against the official targets (visit within 8
business days of the S100 request, result within 25)."""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.cases import HELD
from app.core.states import STATE_LABELS, State
from app.ui.common import styles
from app.ui.common.changes import RECORDS, REVIEW, SYNC, Change, subscribe
from app.ui.common.wording import QUEUE_TIP, plural
from app.ui.common.worker import Job, run_job, show_error
from app.ui.review.review_view import ts_text
from app.workspace import Workspace
from app.workspace.documents import Dashboard

log = logging.getLogger("siee.ui.dashboard")

WEEKDAYS = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
OVERDUE_BG = QColor("#fde8e6")
SOON_BG = QColor("#fff4ce")


def _day_text(d: dt.date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {d:%d/%m}"


class Tile(QFrame):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(120)
        self.value = QLabel("—")
        f = QFont(self.value.font())
        f.setPointSize(18)
        f.setBold(True)
        self.value.setFont(f)
        self.caption = QLabel(title)
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.value)
        lay.addWidget(self.caption)

    def set(self, value: object, color: str | None = None) -> None:
        self.value.setText(str(value))
        self.value.setStyleSheet(f"color: {color};" if color else "")


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    hh = t.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    hh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return t


def _cell(text: object, align_right: bool = False) -> QTableWidgetItem:
    it = QTableWidgetItem(str(text))
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


class DashboardPage(QWidget):
    """Emits open_record(uuid) when a waiting household is double-clicked."""

    open_record = Signal(str)

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.load_job: Job | None = None
        self.data: Dashboard | None = None

        title = QLabel("Tablero de la ULE")
        title.setObjectName("title")
        self.updated = QLabel("")
        self.updated.setObjectName("hint")
        self.refresh_btn = QPushButton("Actualizar (F5)")
        self.refresh_btn.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.updated, 1)
        top.addWidget(self.refresh_btn)

        self.tiles: dict[str, Tile] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        for i, st in enumerate(State):
            # the send queue holds steps of a case too: the same figure as the records
            # list's «En cola de envío» and the status bar, in the same words
            t = Tile("Registros en cola de envío" if st == State.QUEUED
                     else f"Fichas: {STATE_LABELS[st].lower()}")
            if st == State.QUEUED:
                t.setToolTip(QUEUE_TIP)
            self.tiles[st.value] = t
            grid.addWidget(t, 0, i)
        # Cases (issue 15): one household counted once, whatever its number of forms.
        self.tiles["households"] = Tile("Hogares (expedientes)")
        grid.addWidget(self.tiles["households"], 0, len(State))
        self.tiles["dropped"] = Tile("Solicitudes desestimadas (sin plazo)")
        grid.addWidget(self.tiles["dropped"], 0, len(State) + 1)
        extra = (
            ("returned_centre", "Devueltas por el SIEE"),
            ("returned_sup", "Observadas por el supervisor"),
            ("visits", "Visitas pendientes (meta: 8 días hábiles)"),
            ("results", "Hogares sin resultado (meta: 25 días hábiles)"),
        )
        for i, (key, text) in enumerate(extra):
            t = Tile(text)
            self.tiles[key] = t
            grid.addWidget(t, 1, i)
        self.results_tile = Tile("Resultados de CSE recibidos (por hogar)")
        grid.addWidget(self.results_tile, 1, len(extra), 1, 2)
        self.delivery = QLabel("")
        self.delivery.setWordWrap(True)
        grid.addWidget(self.delivery, 1, len(extra) + 2, 1, len(State) - len(extra))

        # «Desestimada»: the forms a dropped case holds, apart from their state (HELD)
        self.enum_table = _table(["Empadronador(a)"] + [STATE_LABELS[s] for s in State]
                                 + ["Desestimada", "Total"])
        self.day_table = _table(["Día", "Registradas", "Completadas", "Aprobadas", "Entregadas"])
        self.wait_table = _table(
            [
                "Hogar",
                "Etapa",
                "Desde",
                "Días hábiles",
                "Meta",
                "Vence",
                "Situación",
                "Empadronador(a)",
            ]
        )
        self.wait_table.cellDoubleClicked.connect(self._wait_open)

        def boxed(label: str, w: QWidget) -> QWidget:
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lab = QLabel(label)
            lab.setObjectName("question")
            lay.addWidget(lab)
            lay.addWidget(w, 1)
            return box

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(boxed("Fichas por empadronador(a)", self.enum_table))
        upper.addWidget(boxed("Últimos 14 días", self.day_table))
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        self.wait_title = QLabel("Hogares que más esperan")
        self.wait_title.setObjectName("question")
        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.wait_title)
        wait_hint = QLabel(
            "Meta oficial: visita dentro de 8 días hábiles de la solicitud S100; resultado "
            "dentro de 25 días hábiles. En rojo, los vencidos; en amarillo, los que vencen en "
            "2 días hábiles o menos. Doble clic para ver la ficha."
        )
        wait_hint.setObjectName("hint")
        wait_hint.setWordWrap(True)
        ll.addWidget(wait_hint)
        ll.addWidget(self.wait_table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(grid)
        lay.addWidget(split, 1)
        QShortcut(QKeySequence("F5"), self, self.reload)
        subscribe(self, self.on_changes)

    def on_changes(self, change: Change) -> None:
        """Records, decisions or a sync changed the counts: recount while shown (the
        supervision window reloads a tab when it is brought to the front)."""
        if change.touches(RECORDS, REVIEW, SYNC) and self.isVisible():
            self.reload()

    def reload(self) -> None:
        if self.ws.user is None:
            return
        ws = self.ws
        self.updated.setText("Calculando…")
        self.load_job = run_job(
            lambda _job: ws.documents.dashboard(), on_result=self.show_data, on_error=self._failed
        )

    def _failed(self, exc: BaseException) -> None:
        if self.ws.user is None:
            return
        self.updated.setText("")
        show_error(self, exc)

    def show_data(self, d: Dashboard) -> None:
        if self.ws.user is None:
            return
        self.data = d
        self.updated.setText(f"Datos al {d.today:%d/%m/%Y}")
        for st in State:
            self.tiles[st.value].set(d.queue if st == State.QUEUED else d.counts.get(st.value, 0))
        self.tiles["returned_centre"].set(
            d.returned_by_centre, styles.ERROR if d.returned_by_centre else None
        )
        self.tiles["returned_sup"].set(d.returned_by_supervisor)
        self.tiles["households"].set(d.households)
        self.tiles["households"].setToolTip(
            "\n".join(f"{k}: {v}" for k, v in sorted(d.cases.items())) or "Ningún expediente")
        self.tiles["dropped"].set(d.dropped)
        held = d.counts.get(HELD, 0)
        self.tiles["dropped"].setToolTip(
            "Sin plazo y fuera de la revisión. "
            + plural(held, "Guardan 1 ficha sin enviar (no se cuenta como borrador ni "
                     "como completa).", "Guardan {n} fichas sin enviar (no se cuentan "
                     "como borradores ni como completas)."))
        self.tiles["visits"].set(
            f"{d.visits_pending} ({d.visits_overdue} vencidas)",
            styles.ERROR if d.visits_overdue else None,
        )
        self.tiles["results"].set(
            f"{d.results_pending} ({d.results_overdue} vencidos)",
            styles.ERROR if d.results_overdue else None,
        )
        if d.results:
            self.results_tile.set(
                " · ".join(f"{k}: {v}" for k, v in sorted(d.results.items())), styles.OK
            )
        else:
            self.results_tile.set("ninguno aún")
        lines = []
        if d.cases:
            lines.append("Expedientes: " + " · ".join(f"{k}: {v}" for k, v in sorted(
                d.cases.items())))
        if d.oldest_complete_at:
            lines.append(f"Completa más antigua sin revisar: {ts_text(d.oldest_complete_at)}")
        if d.oldest_queued_at:
            lines.append(f"En cola de envío desde: {ts_text(d.oldest_queued_at)}")
        if d.quarantined:
            lines.append(
                f"Apartadas por conflicto con el SIEE: {d.quarantined} (avise a soporte)"
            )
        self.delivery.setText("\n".join(lines) or "Nada espera revisión ni envío.")

        t = self.enum_table
        t.setRowCount(len(d.by_enumerator))
        for r, row in enumerate(d.by_enumerator):
            t.setItem(r, 0, _cell(row.name))
            for c, st in enumerate(State, 1):
                n = row.counts.get(st.value, 0)
                it = _cell(n or "·", True)
                if st == State.RETURNED and n:
                    it.setForeground(QBrush(QColor(styles.ERROR)))
                t.setItem(r, c, it)
            t.setItem(r, len(State) + 1, _cell(row.counts.get(HELD, 0) or "·", True))
            t.setItem(r, len(State) + 2, _cell(row.total, True))

        t = self.day_table
        days = list(reversed(d.by_day))
        t.setRowCount(len(days))
        for r, day in enumerate(days):
            t.setItem(r, 0, _cell(_day_text(day.day) + (" (hoy)" if day.day == d.today else "")))
            for c, n in enumerate((day.created, day.completed, day.approved, day.delivered), 1):
                t.setItem(r, c, _cell(n or "·", True))

        t = self.wait_table
        t.setRowCount(len(d.waiting))
        for r, w in enumerate(d.waiting):
            cells = [
                w.head_name,
                w.stage,
                w.since.strftime("%d/%m/%Y"),
                w.elapsed,
                w.target,
                w.due.strftime("%d/%m/%Y"),
                w.status,
                w.enumerator,
            ]
            bg = None
            if w.overdue:
                bg = OVERDUE_BG
            elif w.target - w.elapsed <= 2:
                bg = SOON_BG
            for c, value in enumerate(cells):
                it = _cell(value, c in (3, 4))
                if c == 0:
                    it.setData(Qt.ItemDataRole.UserRole, w.uuid)
                if bg is not None:
                    it.setBackground(QBrush(bg))
                if c == 6 and w.overdue:
                    it.setForeground(QBrush(QColor(styles.ERROR)))
                t.setItem(r, c, it)
        n_late = sum(1 for w in d.waiting if w.overdue)
        self.wait_title.setText(
            f"Hogares que más esperan ({len(d.waiting)} mostrados, {n_late} fuera de la meta)"
            if d.waiting
            else "Ningún hogar espera visita ni resultado."
        )

    def _wait_open(self, row: int, _col: int) -> None:
        it = self.wait_table.item(row, 0)
        if it is not None:
            self.open_record.emit(it.data(Qt.ItemDataRole.UserRole))
