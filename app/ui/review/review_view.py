"""The supervisor's read-only view of one whole survey: every answer as the
household gave it (choice labels), soft warnings highlighted, earlier returns,
and the decisions: approve, return with a reason (optionally pinned to
questions, which the enumerator then sees on the record), reassign, constancia.

Every decision is checked again by the workspace; the buttons only follow it."""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Perm, can
from app.core.states import STATE_LABELS, State
from app.ui.common import styles
from app.ui.common.changes import RECORDS, REVIEW, Change, broadcast, subscribe
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import enter_presses_buttons, install_help
from app.ui.common.worker import show_error
from app.ui.review.constancia import print_constancia, save_constancia
from app.workspace import Workspace
from app.workspace.documents import cse_label
from app.workspace.review import ReviewDetail, ReviewLine

log = logging.getLogger("siee.ui.review")

WARNING_BG = QColor("#fff4ce")
ERROR_BG = QColor("#fde8e6")
SECTION_BG = QColor("#eef1f5")
PATH_ROLE = Qt.ItemDataRole.UserRole


def ts_text(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%d/%m/%Y %H:%M") if ts else "—"


def esc(text: object) -> str:
    return str(text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ask_reassign(parent: QWidget, ws: Workspace, uuid: str) -> bool:
    """Pick another enumerator for the record; True when it was reassigned."""
    try:
        users = ws.review.assignable_users()
    except SieeError as e:
        show_error(parent, e)
        return False
    if not users:
        return False
    shown = [s for _u, s in users]
    choice, ok = QInputDialog.getItem(
        parent,
        "Reasignar ficha",
        "La ficha pasará a estar a cargo de:",
        shown,
        0,
        False,
    )
    if not ok or not choice:
        return False
    username = users[shown.index(choice)][0]
    try:
        ws.review.reassign(uuid, username)
    except SieeError as e:
        show_error(parent, e)
        return False
    broadcast({RECORDS, REVIEW}, origin=parent)
    return True


def header_text(d: ReviewDetail) -> str:
    """'FSU · revisión 1 · estado: Aprobada · empadronador(a): … · completada: …'."""
    state = STATE_LABELS.get(State(d.state), d.state)
    return (
        f"{d.form_title} · revisión {d.revision} · estado: {state} · "
        f"empadronador(a): {d.enumerator} · completada: {ts_text(d.completed_at)}"
    )


class ReviewWindow(QMainWindow):
    """Emits changed(uuid) after a decision (approve, return, reassign), and
    broadcasts it (app.ui.common.changes); any change to records or review, made
    here or on another screen, redraws the header and the buttons."""

    changed = Signal(str)
    closed = Signal()

    def __init__(self, ws: Workspace, uuid: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.ws = ws
        self.uuid = uuid
        self.detail: ReviewDetail = ws.review.detail(uuid)
        d = self.detail
        self.setWindowTitle(f"Revisión — {d.head_name or d.form_title} — SIEE Campo")

        title = QLabel(d.head_name or "(sin nombre)")
        title.setObjectName("title")
        sub = self.header = QLabel(header_text(d))
        sub.setObjectName("subtitle")
        sub.setWordWrap(True)

        self.history = QLabel("")
        self.history.setObjectName("returned")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        if d.returns:
            items = "".join(
                f"<li>{esc(r.get('reason'))} — "
                f"{esc(r.get('by') or 'SIEE')}, {ts_text(r.get('at'))}, "
                f"revisión {r.get('revision', '?')}</li>"
                for r in d.returns
            )
            self.history.setText(f"Observaciones anteriores:<ul>{items}</ul>")
        self.history.setVisible(bool(d.returns))
        self.result_label = QLabel("")
        self.result_label.setObjectName("ok")
        if d.result:
            r = d.result
            self.result_label.setText(
                f"Resultado del SIEE: {cse_label(r.get('category'))} — vigente hasta "
                f"{r.get('valid_until', '?')}"
            )
        self.result_label.setVisible(bool(d.result))

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Pregunta", "Respuesta", "Advertencia o error"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(False)
        hdr = self.tree.header()
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        hdr.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        hdr.setStretchLastSection(True)
        self.tree.setColumnWidth(0, 380)
        self.tree.setColumnWidth(1, 300)
        self.items: dict[str, QTreeWidgetItem] = {}
        self._fill(d.lines)
        # answers such as «Red pública de desagüe dentro de la vivienda» are shown whole
        self.tree.resizeColumnToContents(1)
        self.tree.setColumnWidth(1, max(300, min(self.tree.columnWidth(1) + 12, 520)))
        self.tree.itemChanged.connect(self._pins_changed)

        n_warn, n_err = len(d.warnings), len(d.errors)
        self.warn_title = QLabel(
            f"Advertencias: {n_warn}" + (f" · errores: {n_err}" if n_err else "")
            + (" — clic para ir a la pregunta" if n_warn or n_err else "")
        )
        self.warn_title.setObjectName("warning" if n_warn or n_err else "ok")
        self.warn_list = QListWidget()
        self.warn_list.setMaximumHeight(90)
        for ln in d.errors + d.warnings:
            it = QListWidgetItem(f"{ln.label}: {ln.error or ln.warning}")
            it.setData(PATH_ROLE, ln.path)
            it.setForeground(QBrush(QColor(styles.ERROR if ln.error else styles.WARNING)))
            self.warn_list.addItem(it)
        self.warn_list.itemActivated.connect(lambda it: self.jump(it.data(PATH_ROLE)))
        self.warn_list.itemClicked.connect(lambda it: self.jump(it.data(PATH_ROLE)))
        self.warn_list.setVisible(bool(n_warn or n_err))

        # the decision panel
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText(
            "Motivo de la observación para el empadronador (qué debe revisar o corregir)"
        )
        self.reason.setMaximumHeight(90)
        reason_label = QLabel("&Motivo de la observación:")
        reason_label.setBuddy(self.reason)
        self.pins_label = QLabel("")
        self.pins_label.setObjectName("hint")
        self.pins_label.setWordWrap(True)
        self.return_btn = QPushButton("&Observar y devolver")
        self.return_btn.clicked.connect(self.return_record)
        self.approve_btn = QPushButton("&Aprobar (Ctrl+Enter)")
        self.approve_btn.setObjectName("primary")
        self.approve_btn.clicked.connect(self.approve)
        self.reassign_btn = QPushButton("&Reasignar…")
        self.reassign_btn.clicked.connect(self.reassign)
        self.pdf_btn = QPushButton("Constancia &PDF…")
        self.pdf_btn.clicked.connect(self.save_constancia)
        self.print_btn = QPushButton("&Imprimir constancia…")
        self.print_btn.clicked.connect(self.print_constancia)
        self.close_btn = QPushButton("Cerrar (Esc)")
        self.close_btn.clicked.connect(self.close)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)

        # why no decision can be taken here, when none can (kept by _update_buttons)
        self.note = QLabel("")
        self.note.setObjectName("warning")
        self.note.setWordWrap(True)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.note)
        sl.addWidget(self.approve_btn)
        sl.addSpacing(12)
        sl.addWidget(reason_label)
        sl.addWidget(self.reason)
        sl.addWidget(self.pins_label)
        sl.addWidget(self.return_btn)
        sl.addSpacing(12)
        sl.addWidget(self.reassign_btn)
        sl.addWidget(self.pdf_btn)
        sl.addWidget(self.print_btn)
        sl.addStretch(1)
        sl.addWidget(self.status)
        sl.addWidget(self.close_btn)
        side.setMinimumWidth(300)
        side.setMaximumWidth(360)

        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.tree, 1)
        cl.addWidget(self.warn_title)
        cl.addWidget(self.warn_list)
        split = QSplitter()
        split.addWidget(center)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setChildrenCollapsible(False)

        body = QWidget()
        bl = QVBoxLayout(body)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.result_label)
        bl.addLayout(head)
        bl.addWidget(sub)
        bl.addWidget(self.history)
        bl.addWidget(split, 1)
        self.setCentralWidget(body)

        QShortcut(QKeySequence("Ctrl+Return"), self, self.approve)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.approve)
        QShortcut(QKeySequence("Escape"), self, self.close)
        install_help(self, lambda: show_guide(self, "review"))
        enter_presses_buttons(self)
        subscribe(self, self.on_changes)
        self._update_buttons()
        self._pins_changed()

    # -- the survey -----------------------------------------------------------------------
    def _fill(self, lines: list[ReviewLine]) -> None:
        bold = QFont()
        bold.setBold(True)
        parents: list[QTreeWidgetItem] = []
        section_depth: list[int] = []
        for ln in lines:
            while section_depth and section_depth[-1] >= ln.depth:
                section_depth.pop()
                parents.pop()
            parent = parents[-1] if parents else None
            item = QTreeWidgetItem(parent) if parent else QTreeWidgetItem(self.tree)
            item.setText(0, ln.label)
            item.setData(0, PATH_ROLE, ln.path)
            if ln.kind in ("section", "member"):
                item.setFont(0, bold)
                for c in range(3):
                    item.setBackground(c, QBrush(SECTION_BG))
                item.setFirstColumnSpanned(True)
                parents.append(item)
                section_depth.append(ln.depth)
                item.setExpanded(True)
                continue
            if ln.kind == "note":
                item.setForeground(0, QBrush(QColor(styles.MUTED)))
                continue
            item.setText(1, ln.text if ln.text else "(sin respuesta)")
            if not ln.text:
                item.setForeground(1, QBrush(QColor(styles.MUTED)))
            item.setToolTip(1, ln.text)
            # a check box pins the question to the observation
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            if ln.error or ln.warning:
                bg = ERROR_BG if ln.error else WARNING_BG
                for c in range(3):
                    item.setBackground(c, QBrush(bg))
                item.setText(2, ln.error or ln.warning or "")
                item.setToolTip(2, ln.error or ln.warning or "")
                item.setForeground(
                    2, QBrush(QColor(styles.ERROR if ln.error else styles.WARNING))
                )
            self.items[ln.path] = item
        self.tree.expandAll()

    def jump(self, path: str) -> None:
        item = self.items.get(path)
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    def pinned(self) -> list[str]:
        """Concrete paths of the questions checked for the observation, in form order."""
        out = []
        it = QTreeWidgetItemIterator(self.tree)
        while it.value():
            item = it.value()
            if item.checkState(0) == Qt.CheckState.Checked:
                out.append(item.data(0, PATH_ROLE))
            it += 1
        return out

    def set_pinned(self, path: str, on: bool = True) -> None:
        item = self.items[path]
        item.setCheckState(0, Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _pins_changed(self, *_: object) -> None:
        pins = self.pinned()
        if pins:
            names = ", ".join(self.items[p].text(0) for p in pins[:4])
            more = f" y {len(pins) - 4} más" if len(pins) > 4 else ""
            self.pins_label.setText(f"Preguntas señaladas ({len(pins)}): {names}{more}")
        else:
            self.pins_label.setText(
                "Marque las casillas de las preguntas que el empadronador debe revisar "
                "(opcional)."
            )

    def _update_buttons(self) -> None:
        d = self.detail
        self.approve_btn.setEnabled(d.can_approve)
        self.return_btn.setEnabled(d.can_return)
        self.reason.setEnabled(d.can_return)
        me = self.ws.user
        note = d.note  # the workspace's reason (a dropped case), else the four eyes
        if not note and d.state == State.COMPLETE.value and not d.can_approve and me:
            note = "Usted registró o tiene a su cargo esta ficha: debe aprobarla otro supervisor."
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.reassign_btn.setVisible(bool(me and can(me.role, Perm.RECORD_REASSIGN)))
        constancia_ok = d.form_id == "fsu" and d.state not in (
            State.DRAFT.value,
            State.RETURNED.value,
        )
        self.pdf_btn.setEnabled(constancia_ok)
        self.print_btn.setEnabled(constancia_ok)

    def _reload(self) -> None:
        try:
            self.detail = self.ws.review.detail(self.uuid)
        except SieeError as e:
            show_error(self, e)
            return
        self.header.setText(header_text(self.detail))
        self._update_buttons()

    def on_changes(self, change: Change) -> None:
        """A record or a review decision changed somewhere: show the new truth."""
        if change.touches(RECORDS, REVIEW) and self.ws.user is not None:
            self._reload()

    def _decided(self, told: bool = False) -> None:
        self.changed.emit(self.uuid)
        if not told:
            broadcast({RECORDS, REVIEW}, origin=self)  # this window redraws through it too

    # -- decisions ---------------------------------------------------------------------------
    def approve(self) -> None:
        if not self.approve_btn.isEnabled():
            return
        try:
            self.ws.review.approve(self.uuid)
        except SieeError as e:
            show_error(self, e)
            return
        self.status.setText("Ficha aprobada: quedó en cola de envío al SIEE.")
        self._decided()

    def return_record(self) -> None:
        reason = self.reason.toPlainText().strip()
        if not reason:
            self.status.setText("Escriba el motivo de la observación para el empadronador.")
            self.reason.setFocus()
            return
        try:
            self.ws.review.return_record(self.uuid, reason, self.pinned())
        except SieeError as e:
            show_error(self, e)
            return
        self.status.setText("Ficha observada y devuelta al empadronador.")
        self.reason.clear()
        self._decided()

    def reassign(self) -> None:
        if ask_reassign(self, self.ws, self.uuid):
            self.status.setText("Ficha reasignada.")
            self._decided(told=True)  # ask_reassign broadcast it

    def save_constancia(self) -> None:
        save_constancia(self, self.ws, self.uuid)

    def print_constancia(self) -> None:
        print_constancia(self, self.ws, self.uuid)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.closed.emit()
        super().closeEvent(event)
