"""The audit log (bitácora): who did what to which record and when, with
filters, and the check of its hash chain ("Verificar cadena")."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.audit_actions import AUDIT_LABELS, audit_label
from app.core.errors import SieeError
from app.core.states import STATE_LABELS, State
from app.store.audit import AuditEntry, ChainReport
from app.ui.common import styles
from app.ui.common.changes import USERS, Change, subscribe
from app.ui.common.empty_note import TableOrNote
from app.ui.common.record_list import form_label
from app.ui.common.wording import plural
from app.ui.common.worker import Job, run_job, show_error
from app.workspace import Workspace
from app.workspace.exports import KIND_LABELS

log = logging.getLogger("siee.ui.audit")

DETAIL_LABELS = {
    "reason": "motivo",
    "source": "origen",
    "user": "usuario",
    "role": "rol",
    "rows": "filas",
    "file": "archivo",
    "kind": "tipo",
    "warnings": "advertencias",
    "rev": "revisión",
    "form": "formulario",
    "v": "versión",
    "why": "causa",
    "by": "por",
    "auto": "automática",
    "changed": "cambió",
    "from": "de",
    "to": "a",
    "batches": "lotes",
    "conflict": "en conflicto",
    "delivered": "entregadas",
    "duplicate": "duplicadas",
    "error": "error",
    "messages": "mensajes",
    "ok": "correcta",
    "returned": "observadas",
    "record": "ficha",
    "enumerator": "empadronador(a)",
    "result": "resultado",
    "visit": "visita",
    "case": "expediente",
    "attempt": "intento",
    "device": "equipo",
    "count": "cantidad",
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def action_label(action: str) -> str:
    return audit_label(action)


def export_kind_text(kind: str) -> str:
    """'answers:fsu:todos:xlsx' (as Workspace.export_data logs it) in Spanish."""
    parts = str(kind).split(":")
    if len(parts) != 4:
        return str(kind)
    what, form_id, state, fmt = parts
    try:
        state_text = STATE_LABELS[State(state)] if state != "todos" else "todos los estados"
    except ValueError:
        state_text = state
    form_text = form_label(form_id) if form_id != "todos" else "todos los formularios"
    return f"{KIND_LABELS.get(what, what)}, {form_text}, {state_text}, {fmt.upper()}"


def detail_text(detail: dict[str, Any], action: str = "") -> str:
    parts = []
    for k, v in detail.items():
        if k == "kind" and action == "export":
            v = export_kind_text(v)
        if isinstance(v, list):
            v = ", ".join(str(x) for x in v)
        elif v is True:
            v = "sí"
        elif v is False:
            v = "no"
        elif v is None:
            v = "—"
        elif isinstance(v, str) and _UUID.match(v):
            v = v[:8]  # the short code the lists show and the filter takes
        parts.append(f"{DETAIL_LABELS.get(k, k)}: {v}")
    return "; ".join(parts)


class AuditPage(QWidget):
    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.load_job: Job | None = None
        self.verify_job: Job | None = None
        self.entries: list[AuditEntry] = []
        self.names: dict[int, str] = {}

        title = QLabel("Bitácora")
        title.setObjectName("title")
        self.action = QComboBox()
        self.action.addItem("Todas las acciones", "")
        for key, label in AUDIT_LABELS.items():
            self.action.addItem(label, key)
        self.user = QComboBox()
        self.user.addItem("Todos los usuarios", None)
        self.record = QLineEdit()
        self.record.setPlaceholderText("Código de ficha (opcional)")
        self.record.setClearButtonEnabled(True)
        self.record.returnPressed.connect(self.reload)
        self.limit = QComboBox()
        for n in (200, 1000, 5000):
            self.limit.addItem(f"Últimas {n}", n)
        self.apply_btn = QPushButton("&Filtrar")
        self.apply_btn.clicked.connect(self.reload)
        self.action.currentIndexChanged.connect(self.reload)
        self.user.currentIndexChanged.connect(self.reload)
        self.limit.currentIndexChanged.connect(self.reload)
        self.verify_btn = QPushButton("&Verificar cadena")
        self.verify_btn.setToolTip(
            "Comprueba que ningún registro de la bitácora fue alterado ni borrado."
        )
        self.verify_btn.clicked.connect(self.verify)
        self.verify_label = QLabel("")
        self.verify_label.setWordWrap(True)

        filters = QHBoxLayout()
        for w in (self.action, self.user, self.record, self.limit, self.apply_btn):
            filters.addWidget(w)
        filters.setStretchFactor(self.record, 1)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.verify_label, 2)
        top.addWidget(self.verify_btn)

        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(
            ["N°", "Fecha y hora", "Usuario", "Acción", "Ficha", "Detalle"]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel("")
        self.status.setObjectName("hint")

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(filters)
        self.table_area = TableOrNote(self.table)
        lay.addWidget(self.table_area, 1)
        lay.addWidget(self.status)
        subscribe(self, self.on_changes)

    def on_changes(self, change: Change) -> None:
        """Every operation writes the log: show its entries while the page is shown."""
        if change.topics and self.isVisible():
            if change.touches(USERS):
                self._fill_users()
            self.reload()

    def _fill_users(self) -> None:
        try:
            users = self.ws.admin.list_users()
        except SieeError:
            return
        self.names = {u.id: u.username for u in users}
        current = self.user.currentData()
        self.user.blockSignals(True)
        self.user.clear()
        self.user.addItem("Todos los usuarios", None)
        for u in users:
            self.user.addItem(u.display_name or u.username, u.id)
        i = self.user.findData(current)
        self.user.setCurrentIndex(max(0, i))
        self.user.blockSignals(False)

    def reload(self) -> None:
        if self.ws.user is None:
            return
        if self.user.count() <= 1:
            self._fill_users()
        filters = {
            "action": self.action.currentData() or None,
            "user_id": self.user.currentData(),
            "record_uuid": self.record.text().strip() or None,
            "limit": int(self.limit.currentData()),
        }
        ws = self.ws
        self.status.setText("Cargando…")
        self.load_job = run_job(
            lambda _job: ws.admin.audit_entries(**filters),
            on_result=self._loaded,
            on_error=self._failed,
        )

    def _failed(self, exc: BaseException) -> None:
        if self.ws.user is None:
            return
        self.status.setText("")
        show_error(self, exc)

    def _loaded(self, entries: list[AuditEntry]) -> None:
        if self.ws.user is None:
            return
        self.entries = entries
        t = self.table
        t.setRowCount(len(entries))
        for r, e in enumerate(entries):
            who = self.names.get(e.user_id, "") if e.user_id else "(sistema)"
            if e.action == "login_failed":
                who = str(e.detail.get("user", "")) or who
            cells = [
                str(e.seq),
                dt.datetime.fromtimestamp(e.ts).strftime("%d/%m/%Y %H:%M:%S"),
                who,
                action_label(e.action),
                (e.record_uuid or "")[:8],
                detail_text(e.detail, e.action),
            ]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c == 4 and e.record_uuid:
                    it.setToolTip(e.record_uuid)
                if c == 5:
                    it.setToolTip(text)
                if e.action in ("login_failed", "user_disable") and c == 3:
                    it.setForeground(QBrush(QColor(styles.ERROR)))
                t.setItem(r, c, it)
        self.status.setText(plural(len(entries), "1 registro", "{n} registros"))
        self.table_area.show_rows(len(entries), (
            "Ningún registro de la bitácora con estos filtros. Cambie la acción, el usuario "
            "o el código de ficha."))

    def verify(self) -> Job:
        ws = self.ws
        self.verify_label.setObjectName("hint")
        self.verify_label.setText("Verificando…")
        self.verify_btn.setEnabled(False)
        self.verify_job = run_job(
            lambda _job: ws.admin.audit_verify(),
            on_result=self._verified,
            on_error=self._verify_failed,
        )
        return self.verify_job

    def _restyle(self) -> None:
        self.verify_label.style().unpolish(self.verify_label)
        self.verify_label.style().polish(self.verify_label)

    def _verified(self, rep: ChainReport) -> None:
        self.verify_btn.setEnabled(True)
        if rep.ok:
            self.verify_label.setObjectName("ok")
            self.verify_label.setText(
                plural(
                    rep.entries,
                    "Cadena íntegra: 1 registro verificado, sin alteraciones.",
                    "Cadena íntegra: {n} registros verificados, ninguno alterado.",
                )
            )
        else:
            self.verify_label.setObjectName("error")
            if rep.problem == "broken":
                text = (
                    f"¡Cadena rota en el registro N° {rep.first_bad_seq}! La bitácora fue "
                    "alterada después de "
                    + plural(rep.entries, "1 registro válido", "{n} registros válidos") + "."
                )
            else:  # a cut-off end, a missing seal, records edited outside the program
                text = rep.message
            self.verify_label.setText(
                text + " Avise a soporte y conserve el equipo sin modificar."
            )
        self._restyle()

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_btn.setEnabled(True)
        self.verify_label.setText("")
        show_error(self, exc)


