"""The table of records the user may see, its row model and what a row shows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.core.identifiers import mask_dni
from app.core.states import STATE_LABELS, State
from app.core.ubigeo import catalog
from app.ui.common import styles
from app.ui.common.table_model import RowsModel
from app.workspace.documents import cse_label
from app.workspace.exports import format_date

if TYPE_CHECKING:
    from app.store.records import RecordMeta

COLUMNS = (
    "Jefe de hogar",
    "DNI",
    "Distrito",
    "Formulario",
    "Estado",
    "Última modificación",
    "Observación o resultado",
    "Expediente",
)

FORM_LABELS = {"s100": "S100 Solicitud", "fsu": "FSU Ficha socioeconómica",
               "visita": "Intento de visita", "desestimacion": "Desestimación"}


def form_label(form_id: str) -> str:
    return FORM_LABELS.get(form_id, form_id.upper())


def when_text(ts: float, now: float | None = None) -> str:
    t = dt.datetime.fromtimestamp(ts)
    today = dt.datetime.fromtimestamp(now).date() if now else dt.date.today()
    if t.date() == today:
        return f"hoy {t:%H:%M}"
    if t.date() == today - dt.timedelta(days=1):
        return f"ayer {t:%H:%M}"
    return f"{t:%d/%m/%Y %H:%M}"


def result_text(result: dict | None) -> str:
    """'CSE: No pobre · del 25/11/2026 · vigente hasta 25/11/2029' from the result
    the SIEE sent (the record's notes["result"]); '' without one."""
    if not result:
        return ""
    parts = [f"CSE: {cse_label(result.get('category')) or '?'}"]
    date = str(result.get("date") or result.get("result_date") or "")
    if date:
        parts.append(f"del {format_date(date)}")
    until = str(result.get("valid_until") or "")
    if until:
        parts.append(f"vigente hasta {format_date(until)}")
    return " · ".join(parts)


def district_name(ubigeo: str | None) -> str:
    d = catalog().get(ubigeo or "")
    return d.distrito if d else ""


@dataclass
class Row:
    meta: RecordMeta
    returns: list[dict] = field(default_factory=list)
    result: dict | None = None  # the CSE result of the record's case (one per case)
    case_uuid: str = ""  # the request (expediente) the record belongs to
    case_label: str = ""  # the case's state, in Spanish
    case_head: str = ""  # the household's name from its request (visits carry none)
    case_dni: str = ""  # the head's DNI from the case's request
    case_ubigeo: str = ""  # the household's district (ubigeo) from the case's request
    state_text: str = ""  # what the «Estado» column says instead of the record's state
    # (a visit attempt: its outcome, «Visita fallida: No ubicado / ausente»)
    held: bool = False  # a household form its dropped case holds (cases.held_by_drop)
    decision: str = ""  # a decision's action: desestimar | reabrir («» for other rows)

    @property
    def returned(self) -> bool:
        return self.meta.state == State.RETURNED.value

    @property
    def reasons_text(self) -> str:
        return " · ".join(r.get("reason", "") for r in self.returns[-1:]) if self.returns else ""

    def cells(self) -> list[str]:
        m = self.meta
        s = m.summary or {}
        name = s.get("head") or s.get("head_name") or self.case_head
        head = "(ficha dañada)" if m.damaged else (name or "(sin nombre aún)")
        dni = (mask_dni(s.get("dni") or s.get("head_dni") or self.case_dni or "")
               if not m.damaged else "")
        return [
            head,
            dni,
            district_name(s.get("ubigeo") or self.case_ubigeo or m.ule_ubigeo),
            form_label(m.form_id),
            self.state_text or STATE_LABELS.get(State(m.state), m.state),
            when_text(m.updated_at),
            self.reasons_text if self.returned else result_text(self.result),
            self.case_label,
        ]


class RecordTableModel(RowsModel[Row]):
    columns = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        self._bold = QFont()
        self._bold.setBold(True)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells()[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and row.returned:
            return QBrush(styles.RETURNED_BG)
        if role == Qt.ItemDataRole.ForegroundRole and row.returned and index.column() in (4, 6):
            return QBrush(QColor(styles.ERROR))
        if role == Qt.ItemDataRole.FontRole and row.returned and index.column() == 4:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and row.result and index.column() == 6:
            return QBrush(QColor(styles.OK))
        if role == Qt.ItemDataRole.ToolTipRole and row.returned and row.returns:
            return "\n".join(f"• {r.get('reason', '')}" for r in row.returns)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text of a cell cut to fit
            return row.cells()[index.column()] or None
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def row_at(self, i: int) -> Row | None:
        return self.rows[i] if 0 <= i < len(self.rows) else None
