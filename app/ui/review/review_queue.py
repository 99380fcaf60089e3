"""The review queue: the household forms waiting for the supervisor (ws.review.queue:
not the visit attempts and decisions of a case, nor the forms of a dropped case),
oldest first, with the enumerator, the completion date and the number of soft warnings.

Approving many records runs off the GUI thread (app.ui.common.worker) with a progress
dialog that can be cancelled; each refusal is reported with its reason."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import cases as cases_rules
from app.core.errors import SieeError
from app.core.identifiers import case_reference, mask_dni
from app.ui.common import styles
from app.ui.common.changes import RECORDS, REVIEW, Change, subscribe
from app.ui.common.empty_note import TableOrNote
from app.ui.common.record_list import FORM_LABELS, form_label
from app.ui.common.table_columns import ColumnFitter
from app.ui.common.table_model import RowsModel
from app.ui.common.wording import plural
from app.ui.common.worker import Job, run_job, show_error
from app.ui.review.review_view import ReviewWindow, ask_reassign, ts_text
from app.workspace import ApproveResult, Workspace
from app.workspace.review import QueueItem

log = logging.getLogger("siee.ui.review_queue")

COLUMNS = (
    "Jefe de hogar / solicitante",
    "DNI",
    "Formulario",
    "Empadronador(a)",
    "Completada",
    "Advertencias",
    "Revisión",
    "Expediente",
)


class QueueModel(RowsModel[QueueItem]):
    columns = COLUMNS

    def cells(self, it: QueueItem) -> list[str]:
        return [
            it.head_name or "(sin nombre)",
            mask_dni(it.head_dni),
            form_label(it.form_id),
            it.enumerator + (" — usted" if it.own else ""),
            ts_text(it.completed_at),
            str(it.warnings) if it.warnings else "—",
            str(it.revision),
            case_reference(it.case_uuid),
        ]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        it = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cells(it)[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            if it.own:
                return QBrush(QColor(styles.MUTED))
            if col == 5 and it.warnings:
                return QBrush(QColor(styles.WARNING))
        if role == Qt.ItemDataRole.BackgroundRole and col == 5 and it.warnings:
            return QBrush(QColor("#fff4ce"))
        if role == Qt.ItemDataRole.ToolTipRole and it.own:
            return "Usted registró o tiene a su cargo esta ficha: debe aprobarla otro supervisor."
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text of a cell cut to fit
            return self.cells(it)[col] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (5, 6):
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.UserRole:
            return it
        return None


class ReviewQueuePage(QWidget):
    """Emits changed() after approvals, returns or reassignments."""

    changed = Signal()

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.load_job: Job | None = None
        self.approve_job: Job | None = None
        self.progress: QProgressDialog | None = None
        subscribe(self, self.on_changes)
        self.last_result: ApproveResult | None = None
        self.windows: dict[str, ReviewWindow] = {}
        self._focus_on_load = False  # set when shown: the next load focuses the table

        title = QLabel("Fichas completas por revisar")
        title.setObjectName("title")
        self.form_box = QComboBox()
        self.form_box.addItem("Todos los formularios", "")
        for fid, label in FORM_LABELS.items():
            if cases_rules.needs_review(fid):  # a visit or a decision is never reviewed
                self.form_box.addItem(label, fid)
        self.form_box.currentIndexChanged.connect(self.reload)
        form_label_w = QLabel("&Formulario:")
        form_label_w.setBuddy(self.form_box)
        self.refresh_btn = QPushButton("Actualizar (F5)")
        self.refresh_btn.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(form_label_w)
        top.addWidget(self.form_box)
        top.addWidget(self.refresh_btn)

        hint = QLabel(
            "Seleccione una o varias fichas (Ctrl o Mayús + clic). Abra una ficha para verla "
            "completa con sus advertencias antes de aprobarla u observarla."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        self.model = QueueModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.columns = ColumnFitter(self.table, main=0)  # the household's name
        self.table.doubleClicked.connect(lambda _i: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.open_btn = QPushButton("&Ver ficha (Enter)")
        self.open_btn.clicked.connect(self.open_selected)
        self.approve_btn = QPushButton("&Aprobar seleccionadas")
        self.approve_btn.setObjectName("primary")
        self.approve_btn.clicked.connect(self.approve_selected)
        self.return_btn = QPushButton("&Observar…")
        self.return_btn.clicked.connect(self.return_selected)
        self.reassign_btn = QPushButton("Rea&signar…")
        self.reassign_btn.clicked.connect(self.reassign_selected)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        actions = QHBoxLayout()
        for b in (self.open_btn, self.approve_btn, self.return_btn, self.reassign_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        actions.addWidget(self.status)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(hint)
        self.table_area = TableOrNote(self.table)
        lay.addWidget(self.table_area, 1)
        lay.addLayout(actions)

        QShortcut(QKeySequence("F5"), self, self.reload)
        for key in ("Return", "Enter"):
            QShortcut(QKeySequence(key), self.table, self.open_selected)
        self._selection_changed()

    # -- data -----------------------------------------------------------------------------
    def on_changes(self, change: Change) -> None:
        """A record or a decision changed on any screen: reload the queue."""
        if change.touches(RECORDS, REVIEW):
            self.reload()

    def reload(self) -> None:
        if self.ws.user is None:
            return
        form_id = self.form_box.currentData() or None
        ws = self.ws
        self.status.setText("Cargando…")
        self.load_job = run_job(
            lambda _job: ws.review.queue(form_id), on_result=self._loaded, on_error=self._failed
        )

    def _failed(self, exc: BaseException) -> None:
        if self.ws.user is None:
            return
        self.status.setText("")
        show_error(self, exc)

    def _loaded(self, items: list[QueueItem]) -> None:
        if self.ws.user is None:
            return
        keep = {it.uuid for it in self.selected_items()}
        self.model.set_rows(items)
        self.table_area.show_rows(len(items), (
            "No hay fichas del formulario elegido por revisar." if self.form_box.currentData()
            else "No hay fichas por revisar: las fichas que el personal completa aparecen "
            "aquí para aprobarlas u observarlas."))
        n_warn = sum(1 for it in items if it.warnings)
        extra = f", {n_warn} con advertencias" if n_warn else ""
        self.status.setText(
            plural(len(items), "1 ficha por revisar", "{n} fichas por revisar") + extra
        )
        sel = self.table.selectionModel()
        kept = [row for row, it in enumerate(items) if it.uuid in keep]
        if items:
            # the keyboard starts on a row: the first kept one, else the first of the queue
            sel.setCurrentIndex(self.model.index(kept[0] if kept else 0, 0),
                                sel.SelectionFlag.ClearAndSelect | sel.SelectionFlag.Rows)
        for row in kept[1:]:
            sel.select(self.model.index(row, 0),
                       sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
        if self._focus_on_load and items and self.isVisible():
            self._focus_on_load = False
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        self._selection_changed()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """Shown (the window opened, or its tab chosen): the next load puts the keyboard
        on the table, on its first row, so ↓, Enter and Alt+A work at once (a clerk
        found the queue opened with the keyboard nowhere)."""
        super().showEvent(event)
        self._focus_on_load = True
        if self.model.rows and self.table.isVisible():
            self._focus_on_load = False
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def selected_items(self) -> list[QueueItem]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r] for r in rows if r < len(self.model.rows)]

    def select_all(self) -> None:
        self.table.selectAll()

    def _selection_changed(self, *_: Any) -> None:
        items = self.selected_items()
        approvable = [it for it in items if not it.own]
        self.open_btn.setEnabled(len(items) == 1)
        self.return_btn.setEnabled(len(items) == 1)
        self.reassign_btn.setEnabled(len(items) == 1)
        self.approve_btn.setEnabled(bool(approvable) and self.approve_job is None)
        n = f" ({len(approvable)})" if approvable else ""
        self.approve_btn.setText(f"&Aprobar seleccionadas{n}")

    # -- actions ----------------------------------------------------------------------------
    def open_record(self, uuid: str, focus_reason: bool = False) -> ReviewWindow | None:
        w = self.windows.get(uuid)
        if w is None:
            try:
                w = ReviewWindow(self.ws, uuid, self.window())
            except SieeError as e:
                show_error(self, e)
                return None
            self.windows[uuid] = w
            w.changed.connect(lambda _u: self._after_change())
            w.closed.connect(lambda u=uuid: self.windows.pop(u, None))
            w.resize(self.window().size())
        w.show()
        w.raise_()
        w.activateWindow()
        if focus_reason:
            w.reason.setFocus()
        return w

    def open_selected(self) -> ReviewWindow | None:
        items = self.selected_items()
        return self.open_record(items[0].uuid) if len(items) == 1 else None

    def return_selected(self) -> ReviewWindow | None:
        items = self.selected_items()
        return self.open_record(items[0].uuid, focus_reason=True) if len(items) == 1 else None

    def reassign_selected(self) -> None:
        items = self.selected_items()
        if len(items) == 1 and ask_reassign(self, self.ws, items[0].uuid):
            self._after_change()

    def _after_change(self) -> None:
        self.changed.emit()  # the reload comes with the broadcast (on_changes)

    def approve_selected(self) -> Job | None:
        uuids = [it.uuid for it in self.selected_items() if not it.own]
        if not uuids or self.approve_job is not None:
            return None
        return self.approve(uuids)

    def approve(self, uuids: list[str]) -> Job:
        """Approve in the background; the progress dialog can cancel what is left."""
        ws = self.ws
        dlg = QProgressDialog(
            plural(len(uuids), "Aprobando 1 ficha…", "Aprobando {n} fichas…"),
            "Cancelar",
            0,
            len(uuids),
            self,
        )
        dlg.setWindowTitle("Aprobar fichas")
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(300)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setValue(0)  # starts the timer that shows it if approving takes a while
        self.progress = dlg

        def work(job: Job) -> ApproveResult:
            return ws.review.approve_many(uuids, job.progress, lambda: job.cancelled)

        job = run_job(
            work,
            on_result=self._approved,
            on_error=self._approve_failed,
            on_progress=self._approve_progress,
            changes={RECORDS, REVIEW},
            origin=self,
        )
        dlg.canceled.connect(job.cancel)
        self.approve_job = job
        self.status.setText(plural(len(uuids), "Aprobando 1 ficha…", "Aprobando {n} fichas…"))
        self._selection_changed()
        return job

    def _approve_progress(self, done: int, total: int) -> None:
        dlg = self.progress
        if dlg is not None:
            # setValue() of a modal progress dialog processes events: the job may end
            # (and the dialog go) inside it, so everything else is set first.
            dlg.setLabelText(f"Aprobando fichas: {done} de {total}")
            dlg.setMaximum(total)
            dlg.setValue(done)

    def _finish_progress(self) -> None:
        if self.progress is not None:
            self.progress.reset()
            self.progress.hide()
            self.progress.deleteLater()
            self.progress = None
        self.approve_job = None

    def _approved(self, res: ApproveResult) -> None:
        self._finish_progress()
        self.last_result = res
        text = plural(
            len(res.approved),
            "Se aprobó 1 ficha; quedó en cola de envío al SIEE.",
            "Se aprobaron {n} fichas; quedaron en cola de envío al SIEE.",
            zero="No se aprobó ninguna ficha.",
        )
        if res.refused:
            reasons: dict[str, int] = {}
            for why in res.refused.values():
                reasons[why] = reasons.get(why, 0) + 1
            lines = "\n".join(
                "• " + plural(n, "1 ficha", "{n} fichas") + f": {why}" for why, n in reasons.items()
            )
            text += f"\n\nNo se aprobaron {len(res.refused)}:\n{lines}"
        self.status.setText(f"Aprobadas: {len(res.approved)}")
        box = QMessageBox(self)
        box.setWindowTitle("Aprobar fichas")
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(text)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.button(QMessageBox.StandardButton.Ok).setText("Aceptar")
        box.open()
        self.result_box = box
        self._after_change()

    def _approve_failed(self, exc: BaseException) -> None:
        self._finish_progress()
        show_error(self, exc)
        self._after_change()

