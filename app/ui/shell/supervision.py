"""The supervisor's window (review queue, dashboard, users, audit log, exports)
and the buttons the records screen shows for it, per role.

`SupervisionTools(page, top, actions)` is the one hook into the records screen:
it adds «Supervisión (F9)» for roles that review, export or administer, and
«Constancia…» for the selected FSU. Every window it opens closes when the
session ends (log-out or inactivity lock)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QMainWindow,
    QMenu,
    QPushButton,
    QTabWidget,
    QToolBar,
    QWidget,
)

from app.core.roles import ROLE_LABELS, Perm, can
from app.core.states import State
from app.ui.admin.account import install_account_menu
from app.ui.admin.audit_view import AuditPage
from app.ui.admin.users_admin import UsersPage
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import enter_presses_buttons, install_help
from app.ui.common.worker import show_error
from app.ui.review.constancia import print_constancia, save_constancia
from app.ui.review.d100_page import D100Page
from app.ui.review.dashboard import DashboardPage
from app.ui.review.export_dialog import ExportDialog
from app.ui.review.review_queue import ReviewQueuePage
from app.ui.review.review_view import ReviewWindow
from app.workspace import Workspace

if TYPE_CHECKING:
    from app.ui.shell.main_window import RecordsPage

log = logging.getLogger("siee.ui.supervision")

SUPERVISION_PERMS = (Perm.RECORD_APPROVE, Perm.RECORD_VIEW_ALL, Perm.USERS_MANAGE, Perm.AUDIT_VIEW)


def may_supervise(role: Any) -> bool:
    return any(can(role, p) for p in SUPERVISION_PERMS)


class SupervisionWindow(QMainWindow):
    """Tabs shown per role: Revisión, Tablero, Usuarios, Bitácora; Exportar in the bar."""

    changed = Signal()  # records changed state (the records screen reloads)
    closed = Signal()

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.ws = ws
        me = ws.user
        assert me is not None
        self.user_id = me.id
        name = me.display_name or me.username
        self.setWindowTitle(f"Supervisión — {name} ({ROLE_LABELS[me.role]}) — SIEE Campo")
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)
        self.queue = self.dashboard = self.users = self.audit = None

        if can(me.role, Perm.RECORD_APPROVE):
            self.queue = ReviewQueuePage(ws)
            self.queue.changed.connect(self.changed)
            self.tabs.addTab(self.queue, "&Revisión")
        if can(me.role, Perm.RECORD_VIEW_ALL):
            self.dashboard = DashboardPage(ws)
            self.dashboard.open_record.connect(self.open_record)
            self.tabs.addTab(self.dashboard, "&Tablero")
        self.d100 = None
        if can(me.role, Perm.D100_MANAGE):
            self.d100 = D100Page(ws)
            self.tabs.addTab(self.d100, "D&100")
        if can(me.role, Perm.USERS_MANAGE):
            self.users = UsersPage(ws)
            self.tabs.addTab(self.users, "&Usuarios")
        if can(me.role, Perm.AUDIT_VIEW):
            self.audit = AuditPage(ws)
            self.tabs.addTab(self.audit, "&Bitácora")
        self.tabs.currentChanged.connect(self._tab_changed)

        bar = QToolBar("Acciones")
        bar.setMovable(False)
        self.addToolBar(bar)
        self.export_action = QAction("E&xportar datos… (Ctrl+E)", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(self.open_export)
        self.export_action.setVisible(can(me.role, Perm.EXPORT))
        bar.addAction(self.export_action)
        close = QAction("Cerrar (Ctrl+W)", self)
        close.setShortcut(QKeySequence("Ctrl+W"))
        close.triggered.connect(self.close)
        bar.addAction(close)
        self.export_dialog: QWidget | None = None

        # The session guard: this window never outlives the session that opened it.
        self._guard = QTimer(self)
        self._guard.setInterval(1000)
        self._guard.timeout.connect(self.check_session)
        self._guard.start()
        self._loaded: set[int] = set()
        self._tab_changed(self.tabs.currentIndex())
        self.account_menu = install_account_menu(self, lambda: self.ws)  # own password
        install_help(self, self.show_guide)
        enter_presses_buttons(self)

    def show_guide(self) -> None:
        """F1 / Ayuda: the guide of the tab in front."""
        page = self.tabs.currentWidget()
        keys = {
            id(self.queue): "review_queue",
            id(self.dashboard): "dashboard",
            id(self.users): "users",
            id(self.audit): "audit",
        }
        show_guide(self, keys.get(id(page), "supervision"))

    def check_session(self) -> None:
        u = self.ws.user
        if u is None or u.id != self.user_id:
            self.close()

    def _tab_changed(self, index: int) -> None:
        page = self.tabs.widget(index)
        if page is not None and hasattr(page, "reload"):
            page.reload()
            self._loaded.add(index)

    def show_tab(self, page: QWidget | None) -> None:
        if page is not None:
            self.tabs.setCurrentWidget(page)

    def open_record(self, uuid: str) -> Any:
        try:
            w = ReviewWindow(self.ws, uuid, self)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            show_error(self, e)
            return None
        w.changed.connect(lambda _u: self._record_changed())
        w.resize(self.size())
        w.show()
        return w

    def _record_changed(self) -> None:
        self.changed.emit()  # the pages reload through the broadcast (on_changes)

    def open_export(self) -> Any:
        dlg = ExportDialog(self.ws, self)
        self.export_dialog = dlg
        dlg.open()
        return dlg

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._guard.stop()
        self.closed.emit()
        super().closeEvent(event)


class SupervisionTools(QObject):
    """The records screen's buttons for supervision and the constancia."""

    def __init__(self, page: RecordsPage, top: QBoxLayout, actions: QBoxLayout) -> None:
        super().__init__(page)
        self.page = page
        self.ws: Workspace = page.ws
        self.window: SupervisionWindow | None = None
        self.open_btn = QPushButton("Su&pervisión (F9)")
        self.open_btn.clicked.connect(self.open_supervision)
        top.insertWidget(max(0, top.count() - 1), self.open_btn)
        self.constancia_btn = QPushButton("Cons&tancia…")
        self.constancia_btn.setToolTip(
            "Constancia de empadronamiento del hogar (PDF o impresa), desde su FSU completa."
        )
        menu = QMenu(self.constancia_btn)
        menu.addAction("Guardar como PDF…", self.save_constancia)
        menu.addAction("Imprimir…", self.print_constancia)
        self.constancia_btn.setMenu(menu)
        actions.insertWidget(max(0, actions.count() - 2), self.constancia_btn)
        QShortcut(QKeySequence("F9"), page, self.open_supervision)
        page.table.selectionModel().selectionChanged.connect(self._selection_changed)
        page.model.modelReset.connect(self._selection_changed)
        self.on_login()

    def on_login(self) -> None:
        u = self.ws.user
        self.open_btn.setVisible(bool(u and may_supervise(u.role)))
        self._selection_changed()

    def selected_uuid(self) -> str | None:
        row = self.page.selected_row()
        return row.meta.uuid if row else None

    def _selection_changed(self, *_: Any) -> None:
        row = self.page.selected_row()
        ok = bool(
            row
            and row.meta.form_id == "fsu"
            and row.meta.state not in (State.DRAFT.value, State.RETURNED.value)
        )
        self.constancia_btn.setEnabled(ok)

    def open_supervision(self) -> SupervisionWindow | None:
        u = self.ws.user
        if u is None or not may_supervise(u.role):
            return None
        if self.window is not None and self.window.user_id == u.id:
            self.window.show()
            self.window.raise_()
            self.window.activateWindow()
            return self.window
        w = SupervisionWindow(self.ws)
        w.closed.connect(lambda: self._closed(w))
        self.window = w
        # The shell closes what it lists in `forms` when the session ends.
        forms = getattr(self.page.window(), "forms", None)
        if isinstance(forms, dict):
            forms[f"supervision:{id(w)}"] = w
        w.resize(self.page.window().size())
        w.show()
        w.activateWindow()
        return w

    def _closed(self, w: SupervisionWindow) -> None:
        forms = getattr(self.page.window(), "forms", None)
        if isinstance(forms, dict):
            forms.pop(f"supervision:{id(w)}", None)
        if self.window is w:
            self.window = None

    def save_constancia(self) -> None:
        uuid = self.selected_uuid()
        if uuid:
            save_constancia(self.page, self.ws, uuid)

    def print_constancia(self) -> None:
        uuid = self.selected_uuid()
        if uuid:
            print_constancia(self.page, self.ws, uuid)
