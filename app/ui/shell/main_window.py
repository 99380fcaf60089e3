"""The records screen: counts per state, filters, DNI search, the list, the
reasons of returned records, and the actions that start or open a form."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import cases as cases_rules
from app.core.errors import SieeError
from app.core.roles import ROLE_LABELS, Perm, can
from app.core.states import STATE_LABELS, State
from app.store.records import RecordMeta
from app.ui.common.changes import RECORDS, Change, subscribe
from app.ui.common.empty_note import TableOrNote
from app.ui.common.record_list import COLUMNS, FORM_LABELS, RecordTableModel, Row, when_text
from app.ui.common.table_columns import ColumnFitter
from app.ui.common.wording import QUEUE_TIP, plural
from app.ui.common.worker import Job, run_job, show_error
from app.ui.review.case_dialog import CaseDialog
from app.ui.shell.supervision import SupervisionTools
from app.workspace import Workspace
from app.workspace.cases import Case

if TYPE_CHECKING:
    from app.sync.model import SyncStatus

log = logging.getLogger("siee.ui.main_window")


class RecordsPage(QWidget):
    """Emits open_record(uuid), new_record(form_id, from_uuid or "") and logout()."""

    open_record = Signal(str)
    new_record = Signal(str, str)
    logout_requested = Signal()

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.load_job: Job | None = None
        self._generation = 0
        self._select_uuid: str | None = None  # the row to select on the next load
        self._search_uuids: set[str] | None = None
        subscribe(self, self.on_changes)

        self.who = QLabel("")
        self.who.setObjectName("subtitle")
        self.logout_btn = QPushButton("Ce&rrar sesión")
        self.logout_btn.clicked.connect(self.logout_requested)
        top = QHBoxLayout()
        title = QLabel("Fichas")
        title.setObjectName("title")
        top.addWidget(title)
        top.addSpacing(16)
        top.addWidget(self.who, 1)
        top.addWidget(self.logout_btn)

        self.count_buttons: dict[str, QPushButton] = {}
        counts = QHBoxLayout()
        counts.setSpacing(6)
        for st in State:
            b = QPushButton(STATE_LABELS[st])
            b.setFlat(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, s=st.value: self.set_state_filter(s))
            self.count_buttons[st.value] = b
            counts.addWidget(b)
        counts.addStretch(1)
        self.count_buttons[State.QUEUED.value].setToolTip(
            QUEUE_TIP + " Es el mismo número que muestran la barra de estado y "
            "«Sincronización › Ver sincronización».")

        self.state_box = QComboBox()
        self.state_box.addItem("Todos los estados", "")
        for st in State:
            self.state_box.addItem(STATE_LABELS[st], st.value)
        self.form_box = QComboBox()
        self.form_box.addItem("Todos los formularios", "")
        for fid, label in FORM_LABELS.items():
            self.form_box.addItem(label, fid)
        self.dni = QLineEdit()
        self.dni.setPlaceholderText("DNI (8 dígitos)")
        self.dni.setMaxLength(10)
        self.dni.setMaximumWidth(150)
        self.dni.returnPressed.connect(self.search_dni)
        self.search_btn = QPushButton("&Buscar")
        self.search_btn.clicked.connect(self.search_dni)
        self.clear_btn = QPushButton("&Limpiar")
        self.clear_btn.clicked.connect(self.clear_filters)
        filters = QHBoxLayout()
        for text, w in (("&Estado:", self.state_box), ("&Formulario:", self.form_box)):
            lab = QLabel(text)
            lab.setBuddy(w)
            filters.addWidget(lab)
            filters.addWidget(w)
            filters.addSpacing(8)
        dlab = QLabel("Buscar por &DNI:")
        dlab.setBuddy(self.dni)
        filters.addWidget(dlab)
        filters.addWidget(self.dni)
        filters.addWidget(self.search_btn)
        filters.addWidget(self.clear_btn)
        filters.addStretch(1)
        self.state_box.currentIndexChanged.connect(self.reload)
        self.form_box.currentIndexChanged.connect(self.reload)

        self.returned_banner = QLabel("")
        self.returned_banner.setObjectName("returned")
        self.returned_banner.setWordWrap(True)
        self.returned_banner.hide()

        self.model = RecordTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(False)
        self.table.verticalHeader().hide()
        # «Observación o resultado» stays readable on a 1366 px screen; the others give way
        self.columns = ColumnFitter(self.table, main=COLUMNS.index("Observación o resultado"),
                                    main_max=430)  # a CSE result line; reasons: below
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.detail = QLabel("")
        self.detail.setObjectName("returned")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.hide()

        self.new_s100_btn = QPushButton("&Nueva S100 (Ctrl+N)")
        self.new_s100_btn.setObjectName("primary")
        self.new_s100_btn.clicked.connect(lambda: self.new_record.emit("s100", ""))
        self.new_fsu_btn = QPushButton("Nueva FS&U desde la S100 (Ctrl+U)")
        self.new_fsu_btn.clicked.connect(self.new_fsu_from_selected)
        self.open_btn = QPushButton("&Abrir (Enter)")
        self.open_btn.clicked.connect(self.open_selected)
        self.case_btn = QPushButton("E&xpediente (Ctrl+E)")
        self.case_btn.setToolTip("La solicitud de la ficha elegida: visitas, notificaciones, "
                                 "documentos, desestimación")
        self.case_btn.clicked.connect(self.open_case)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        # «9 fichas de 8 hogares (expedientes) · 4 visitas · 1 desestimación» wraps
        # rather than widening the window past a 1366-pixel screen
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        actions = QHBoxLayout()
        actions.addWidget(self.new_s100_btn)
        actions.addWidget(self.new_fsu_btn)
        actions.addWidget(self.open_btn)
        actions.addWidget(self.case_btn)
        actions.addSpacing(12)  # the supervision tools insert their button before it
        actions.addWidget(self.status, 1)  # right-aligned in what the buttons leave

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(counts)
        lay.addLayout(filters)
        lay.addWidget(self.returned_banner)
        self.table_area = TableOrNote(self.table)
        lay.addWidget(self.table_area, 1)
        lay.addWidget(self.detail)
        lay.addLayout(actions)

        QShortcut(QKeySequence("Ctrl+N"), self, lambda: self.new_record.emit("s100", ""))
        QShortcut(QKeySequence("Ctrl+U"), self, self.new_fsu_from_selected)
        QShortcut(QKeySequence("Ctrl+F"), self, self.dni.setFocus)
        QShortcut(QKeySequence("Ctrl+E"), self, self.open_case)
        QShortcut(QKeySequence("F5"), self, self.reload)
        for key in ("Return", "Enter"):
            sc = QShortcut(QKeySequence(key), self.table, self.open_selected)
            sc.setContext(Qt.ShortcutContext.WidgetShortcut)
        self._selection_changed()
        self.supervision = SupervisionTools(self, top, actions)  # review, exports, users

    # -- data -----------------------------------------------------------------------------
    def on_login(self) -> None:
        u = self.ws.user
        if u is None:
            return
        name = u.display_name or u.username
        self.who.setText(f"{name} — {ROLE_LABELS[u.role]}")
        can_create = can(u.role, Perm.RECORD_CREATE)
        self.new_s100_btn.setEnabled(can_create)
        self.supervision.on_login()
        self.clear_filters()

    def on_changes(self, change: Change) -> None:
        """Records changed on any screen (a decision, a reassignment): reload."""
        if change.touches(RECORDS):
            self.reload()

    def reload(self) -> None:
        """Load the list in the background; the table updates when it arrives."""
        if self.ws.user is None:
            return
        state = self.state_box.currentData() or None
        form_id = self.form_box.currentData() or None
        search = self._search_uuids
        ws = self.ws

        def load(_job: Job) -> tuple[list[Row], dict[str, int]]:
            metas = ws.list_records(state=state, form_id=form_id)
            case_of: dict[str, Case] = {}
            for c in ws.cases.list():
                for m in c.records:
                    case_of[m.uuid] = c
            if search is not None:
                metas = [m for m in metas if m.uuid in search]
            rows = []
            for m in metas:
                returns: list[dict] = []
                result: dict | None = None
                if m.state in (State.RETURNED.value, State.RESULT.value):
                    try:
                        notes = ws.notes(m.uuid)
                    except SieeError:
                        log.warning("could not read the notes of a record")
                        notes = {}
                    returns = notes.get("returns", []) if m.state == State.RETURNED.value else []
                    result = notes.get("result") if m.state == State.RESULT.value else None
                c = case_of.get(m.uuid)
                if c is not None and c.result:
                    result = c.result  # one result per case, on each of its rows
                rows.append(Row(m, returns, result, c.case_uuid if c else m.uuid,
                                c.state_label if c else "", c.head_name if c else "",
                                c.head_dni if c else "", _case_ubigeo(c),
                                _step_text(c, m), _held(c, m), _decision(c, m)))
            rows.sort(key=lambda r: (not r.returned, -r.meta.updated_at))
            return rows, ws.cases.form_counts()

        self.status.setText("Cargando…")
        self._generation += 1
        gen = self._generation
        self.load_job = run_job(
            load, on_result=lambda result: self._loaded(result, gen),
            on_error=lambda exc: self._load_failed(exc, gen),
        )

    def show_queue(self, status: SyncStatus | None) -> None:
        """«En cola de envío: N» with the laptop's send queue, from the sync status the
        status bar and the sync panel show (SyncController.status_changed): one figure,
        read once, never a count of this list's rows, which leaves out visits,
        desestimaciones and, for an empadronador, the records of others that the next
        sync sends all the same. None (nobody logged in): the label alone."""
        label = STATE_LABELS[State.QUEUED]
        self.count_buttons[State.QUEUED.value].setText(
            label if status is None else f"{label}: {status.pending}")

    def _load_failed(self, exc: BaseException, generation: int = 0) -> None:
        # The session ended while the list was loading (the load fails «Inicie sesión»),
        # or a newer load was started meanwhile: its failure is no news to anyone. A
        # failure that reached the screen after the next user logged in once showed them
        # a box over their new session (and stole the focus of their windows).
        if self.ws.user is None or (generation and generation != self._generation):
            return
        self.status.setText("")
        show_error(self, exc)

    def _loaded(self, result: tuple[list[Row], dict[str, int]], generation: int = 0) -> None:
        if self.ws.user is None or (generation and generation != self._generation):
            return  # the session ended, or a newer load was started meanwhile
        rows, counts = result
        selected = self.selected_row()
        # the record asked for (select_on_load), else the row selected before the load
        wanted = [self._select_uuid, selected.meta.uuid if selected else None]
        self._select_uuid = None
        found = {r.meta.uuid for r in rows}
        keep = next((u for u in wanted if u and u in found), None)
        self.model.set_rows(rows)
        for st, b in self.count_buttons.items():
            if st != State.QUEUED.value:  # the send queue's figure: show_queue
                b.setText(f"{STATE_LABELS[State(st)]}: {counts.get(st, 0)}")
        n_ret = counts.get(State.RETURNED.value, 0)
        if n_ret:
            self.returned_banner.setText(
                plural(
                    n_ret,
                    "Tiene 1 ficha observada por el supervisor o el SIEE: aparece primero, en "
                    "rojo. Ábrala, corrija lo indicado y vuelva a completarla.",
                    "Tiene {n} fichas observadas por el supervisor o el SIEE: aparecen "
                    "primero, en rojo. Ábralas, corrija lo indicado y vuelva a completarlas.",
                )
            )
        self.returned_banner.setVisible(bool(n_ret))
        self.table_area.show_rows(len(rows), self._empty_note(counts))
        self.status.setText(count_text(rows))
        target = 0
        for i, r in enumerate(rows):
            if r.meta.uuid == keep:
                target = i
        if rows:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(target, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self._selection_changed()

    def _empty_note(self, counts: dict[str, int]) -> str:
        """Why the list is empty and what to do: a DNI without a match, filters
        without a match, or no records yet."""
        if self._search_uuids is not None:
            return (f"Ninguna ficha con el DNI {self.dni.text().strip()}: revise el número "
                    "o pulse Limpiar (Alt+L) para ver todas.")
        if self.state_box.currentData() or self.form_box.currentData():
            what = " ".join(
                f"del formulario {box.currentText()}" if box is self.form_box
                else f"en estado «{box.currentText()}»"
                for box in (self.state_box, self.form_box) if box.currentData()
            )
            return f"Ninguna ficha {what}. Pulse Limpiar (Alt+L) para ver todas."
        u = self.ws.user
        if sum(counts.values()) == 0 and u is not None and can(u.role, Perm.RECORD_CREATE):
            if can(u.role, Perm.RECORD_VIEW_ALL):
                return ("Todavía no hay fichas en este equipo. Pulse «Nueva S100» (Ctrl+N) "
                        "para registrar la primera solicitud.")
            # the list shows only their own: the laptop may hold (and queue) others'
            return ("Usted todavía no tiene fichas. Pulse «Nueva S100» (Ctrl+N) para "
                    "registrar su primera solicitud.")
        return "No hay fichas que mostrar."

    # -- filters ------------------------------------------------------------------------
    def set_state_filter(self, state: str) -> None:
        self.state_box.setCurrentIndex(max(0, self.state_box.findData(state)))

    def clear_filters(self) -> None:
        self._search_uuids = None
        self.dni.clear()
        for box in (self.state_box, self.form_box):
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.reload()

    def search_dni(self) -> None:
        text = self.dni.text().strip()
        if not text:
            self._search_uuids = None
            self.reload()
            return
        try:
            found = self.ws.find_by_dni(text)
        except SieeError as e:
            show_error(self, e)
            return
        self._search_uuids = {m.uuid for m in found}
        self.reload()

    # -- selection and actions ----------------------------------------------------------------
    def select_on_load(self, uuid: str) -> None:
        """Select `uuid`'s row when the list next loads (a record just created or
        closed): keeping the row selected before would leave another household chosen
        for Ctrl+E, «Desestimar…» and Ctrl+U (found in a clerk walk-through). A row the
        filters hide leaves the selection as it was."""
        self._select_uuid = uuid

    def selected_row(self) -> Row | None:
        idx = self.table.selectionModel().currentIndex()
        return self.model.row_at(idx.row()) if idx.isValid() else None

    def _selection_changed(self, *_: Any) -> None:
        row = self.selected_row()
        u = self.ws.user
        self.open_btn.setEnabled(row is not None)
        self.case_btn.setEnabled(row is not None)
        self.new_fsu_btn.setEnabled(
            bool(row and row.meta.form_id == "s100" and u and can(u.role, Perm.RECORD_CREATE))
        )
        if row and row.returned and row.returns:
            items = "".join(
                f"<li><b>{_esc(r.get('reason', ''))}</b>"
                f" — {_esc(r.get('by', '') or 'SIEE')}, {when_text(r.get('at') or 0)}"
                + (
                    f"<br>Preguntas: {_esc(', '.join(r.get('questions') or []))}"
                    if r.get("questions")
                    else ""
                )
                + "</li>"
                for r in row.returns
            )
            self.detail.setText(f"Motivos de la observación:<ul>{items}</ul>")
            self.detail.show()
        else:
            self.detail.hide()

    def open_selected(self) -> None:
        row = self.selected_row()
        if row:
            self.open_record.emit(row.meta.uuid)

    def open_case(self) -> CaseDialog | None:
        """The expediente of the selected record's request."""
        row = self.selected_row()
        if row is None:
            return None
        try:
            dlg = CaseDialog(self.ws, row.meta.uuid, self)
        except SieeError as e:
            show_error(self, e)
            return None
        dlg.open()
        return dlg

    def new_fsu_from_selected(self) -> None:
        row = self.selected_row()
        if row and row.meta.form_id == "s100":
            self.new_record.emit("fsu", row.meta.uuid)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def count_text(rows: list[Row]) -> str:
    """What the list holds, under it: «3 fichas de 2 hogares (expedientes), 1 desestimada
    · 2 visitas · 1 desestimación · 1 reapertura». A «ficha» is a form of the household
    (S100, FSU), those a dropped case holds said apart as its rows say them; the steps of
    a case (app.core.cases.CASE_STEPS) are listed, and counted apart, never as fichas,
    and a decision is counted as what it decided."""
    forms = [r for r in rows if cases_rules.needs_review(r.meta.form_id)]
    held = sum(r.held for r in forms)
    visits = sum(r.meta.form_id == cases_rules.VISIT for r in rows)
    decisions = [r for r in rows if r.meta.form_id == cases_rules.DROP]
    reopenings = sum(r.decision == "reabrir" for r in decisions)
    text = plural(len(forms), "1 ficha", "{n} fichas")
    if rows:  # "0 fichas de 0 hogares" says nothing more than "0 fichas"
        homes = len({r.case_uuid for r in rows})
        text += " de " + plural(homes, "1 hogar (expediente)", "{n} hogares (expedientes)")
    if held:  # the «Desestimada (…)» household forms
        text += ", " + plural(held, "1 desestimada", "{n} desestimadas")
    if visits:  # the «Intento de visita» rows
        text += " · " + plural(visits, "1 visita", "{n} visitas")
    if len(decisions) - reopenings:  # the «Desestimación» rows that drop (or drafts)
        text += " · " + plural(len(decisions) - reopenings, "1 desestimación",
                               "{n} desestimaciones")
    if reopenings:
        text += " · " + plural(reopenings, "1 reapertura", "{n} reaperturas")
    return text


def _case_ubigeo(c: Case | None) -> str:
    """The household's district from the case's request (a visit carries none)."""
    if c is None or c.request is None or c.request.damaged:
        return ""
    return str((c.request.summary or {}).get("ubigeo") or "")


def _held(c: Case | None, m: RecordMeta) -> bool:
    """Whether the row is a household form its dropped case holds (held_by_drop)."""
    return c is not None and cases_rules.held_by_drop(m.form_id, m.state, c.dropped)


def _decision(c: Case | None, m: RecordMeta) -> str:
    """A decision row's action (desestimar | reabrir), «» for any other row."""
    d = next((d for d in c.decisions if d.uuid == m.uuid), None) if c is not None else None
    return d.action if d is not None else ""


def _step_text(c: Case | None, m: RecordMeta) -> str:
    """What a row says in «Estado» instead of the record's state («Completa» said
    nothing of it, or read as «por revisar»): a visit attempt its outcome, a decision
    what was decided («Desestimada», «Reabierta») and whether it reached the centre, a
    household form its dropped case holds (app.core.cases.held_by_drop) that the
    request was dropped."""
    if c is None:
        return ""
    if cases_rules.held_by_drop(m.form_id, m.state, c.dropped):
        return _HELD_TEXT[State(m.state)]
    v = next((v for v in c.visits if v.uuid == m.uuid), None)
    if v is not None:
        what = v.result_label or v.result_code or "sin resultado"
        return f"Visita fallida: {what}" if v.failed else f"Visita realizada: {what}"
    d = next((d for d in c.decisions if d.uuid == m.uuid), None)
    if d is None and m.form_id == cases_rules.DROP:  # a decision not taken yet (a draft)
        return "Desestimación en borrador"
    if d is None:
        return ""
    what = "Desestimada" if d.action == "desestimar" else "Reabierta"
    sent = _DECISION_SENT.get(State(m.state), "")
    return f"{what} ({sent})" if sent else what


# A household form held by its case's desestimación: nobody reviews it until reopened.
_HELD_TEXT = {State.DRAFT: "Desestimada (borrador)", State.COMPLETE: "Desestimada (sin revisar)"}
# Where a decision is on its way to the centre, as its row says it.
_DECISION_SENT = {State.QUEUED: "por enviar", State.DELIVERED: "enviada a la sede central",
                  State.RETURNED: "observada por la sede central"}
