"""The program's shell: first-run wizard, log-in, records screen, the form
windows it opens, log-out and the automatic lock after inactivity.

`build(data_dir)` makes it for run_gui, the tests and the bench."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QStackedWidget, QWidget

from app.core.errors import SieeError
from app.demo_answers import load_demo
from app.store.inspect import database_damage
from app.ui.admin.account import ChangePasswordDialog, install_account_menu
from app.ui.admin.admin_menu import install_admin_menu
from app.ui.admin.wizard import FirstRunWizard
from app.ui.common.busy import busy
from app.ui.common.changes import RECORDS, broadcast
from app.ui.common.damaged import show_damaged_database
from app.ui.common.help_panel import show_guide
from app.ui.common.shortcuts import enter_presses_buttons, install_help
from app.ui.common.worker import Job, run_job, show_error
from app.ui.entry.form_window import FormWindow, create_record
from app.ui.shell.login import LoginPage
from app.ui.shell.main_window import RecordsPage
from app.ui.sync.sync_panel import install_sync
from app.workspace import Workspace

log = logging.getLogger("siee.ui.app")

_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
}


class InactivityWatch(QObject):
    """Restarts `timer` on any key or mouse activity in the program's windows.

    It filters the windows (QWindow), where all user input arrives first, not the
    whole application: an application-wide Python filter also runs for every
    internal event (cross-thread signal deliveries among them) and crashed PySide
    under load. Each window is watched when it first gets the focus."""

    def __init__(self, timer: QTimer) -> None:
        super().__init__(timer)
        self.timer = timer

    def watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)  # installing twice keeps one filter

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


class AppWindow(QMainWindow):
    practice_requested = Signal()  # the log-in's «Modo práctica» (app/ui/shell/practice_window.py)

    def __init__(
        self,
        data_dir: Path,
        ws_kwargs: dict[str, Any] | None = None,
        autolock_ms: int | None = None,
        demo: bool = False,
        enrollment: tuple[str, str] | None = None,
        ule: str | None = None,
    ) -> None:
        super().__init__()
        self.demo = demo
        self.enrollment = enrollment
        self.ule = ule
        self.data_dir = Path(data_dir)
        self.ws_kwargs = ws_kwargs or {}
        self.autolock_ms_override = autolock_ms
        self.ws: Workspace | None = None
        self.wizard: FirstRunWizard | None = None
        self.login_page: LoginPage | None = None
        self.records_page: RecordsPage | None = None
        self.forms: dict[str, QWidget] = {}
        self.setWindowTitle("SIEE Campo")
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.resize(1280, 720)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(lambda: self.lock(idle=True))
        self._watch = InactivityWatch(self.idle_timer)
        app = QApplication.instance()
        self._watching = isinstance(app, QGuiApplication)
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._watch.watch)
        self.admin_menu = install_admin_menu(self)  # settings, backup, support (admins)
        self.sync_menu = install_sync(self)  # menu, status-bar indicator, auto sync
        self.account_menu = install_account_menu(self, lambda: self.ws)  # own password
        self.password_dialog: ChangePasswordDialog | None = None
        self.damaged_box: QMessageBox | None = None  # start() on a damaged database
        # what window_for already found (app.store.inspect.database_damage; "" healthy)
        self.checked_damage: str | None = None
        install_help(self, self.show_guide)

    def show_guide(self) -> None:
        """F1 / Ayuda: the guide of the screen in front (log-in or records)."""
        key = "login" if self.stack.currentWidget() is self.login_page else "records"
        show_guide(self, key)

    # -- start-up -----------------------------------------------------------------------
    def start(self) -> None:
        """Show the wizard on a fresh data folder, else the log-in screen; a damaged
        database gets the message that says what to do, and is not opened (checked
        read-only first: nothing is written to it)."""
        damage = (database_damage(self.data_dir) if self.checked_damage is None
                  else self.checked_damage)
        if damage:
            self.damaged_box = show_damaged_database(None, self.data_dir, damage)
            return
        if not Workspace.is_initialized(self.data_dir):
            self.wizard = FirstRunWizard(self.data_dir, self.ws_kwargs)
            self.wizard.preset(self.enrollment, self.ule)
            self.wizard.accepted.connect(self._wizard_done)
            self.wizard.show()
            return
        if self.enrollment is not None:
            # used at an administrator's log-in when the laptop is not enrolled yet
            self.sync_menu.ctl.pending_enrollment = self.enrollment
        self._attach(Workspace.open(self.data_dir, **self.ws_kwargs))
        self.show_login()
        self.showMaximized()

    def _wizard_done(self) -> None:
        assert self.wizard is not None
        if self.wizard.restored is not None:
            res = self.wizard.restored
            self._attach(Workspace.open(self.data_dir, **self.ws_kwargs))
            self.show_login("", f"Copia restaurada ({res.records} fichas). Ingrese con su "
                            "usuario y contraseña de siempre."
                            + (" Luego inscriba este equipo en el servidor (menú "
                               "Sincronización) para enviar las fichas pendientes."
                               if res.enrollment_cleared else ""))
            self.showMaximized()
            return
        assert self.wizard.ws is not None
        ws = self.wizard.ws
        name = self.wizard.admin_username
        url = ws.settings.values().get("server_url") or ""
        if url and self.wizard.enrollment_code:
            self.sync_menu.ctl.pending_enrollment = (url, self.wizard.enrollment_code)
        ws.logout()
        self._attach(ws)
        self.show_login(
            name, "Configuración terminada. Ingrese con la contraseña que acaba de crear."
        )
        self.showMaximized()

    def _attach(self, ws: Workspace) -> None:
        self.ws = ws
        self.login_page = LoginPage(ws)
        self.records_page = RecordsPage(ws)
        self.login_page.logged_in.connect(self._logged_in)
        self.login_page.practice_requested.connect(self.practice_requested)
        self.records_page.open_record.connect(self.open_record)
        self.records_page.new_record.connect(self.new_record)
        self.records_page.logout_requested.connect(self.logout)
        # the list's «En cola de envío» counter shows the status bar's figure
        self.sync_menu.ctl.status_changed.connect(self.records_page.show_queue)
        self.records_page.show_queue(self.sync_menu.ctl.status)
        self.stack.addWidget(self.login_page)
        self.stack.addWidget(self.records_page)
        enter_presses_buttons(self.login_page)
        enter_presses_buttons(self.records_page)

    # -- session ---------------------------------------------------------------------------
    def show_login(self, username: str = "", notice: str = "") -> None:
        assert self.login_page is not None
        self.idle_timer.stop()
        self.login_page.refresh(username, notice)
        self.stack.setCurrentWidget(self.login_page)
        self.setWindowTitle("SIEE Campo — iniciar sesión")
        self.login_page.password.setFocus()

    def _logged_in(self, user: Any) -> None:
        assert self.ws is not None and self.login_page is not None
        typed = self.login_page.take_password()
        if self.ws.must_change_password:
            # The password is the one an administrator gave: the workspace refuses
            # everything else, so the records screen waits behind this dialog, which
            # does not ask again for the password just typed.
            dlg = ChangePasswordDialog(self.ws, self, forced=True, current=typed or None)
            dlg.accepted.connect(lambda: self._enter(self.ws.user))
            dlg.rejected.connect(lambda: self._end_session(
                "Para usar el programa debe elegir una contraseña propia. Ingrese de nuevo "
                "cuando pueda hacerlo."))
            self.password_dialog = dlg
            dlg.open()
            self._restart_idle()  # an unattended dialog locks like any screen
            return
        self._enter(user)

    def _enter(self, user: Any) -> None:
        """The records screen of the logged-in user."""
        assert self.records_page is not None and self.ws is not None
        self.password_dialog = None
        self.stack.setCurrentWidget(self.records_page)
        self.setWindowTitle(f"SIEE Campo — {user.display_name or user.username}")
        self.records_page.on_login()
        self.records_page.table.setFocus()
        self._restart_idle()
        if self.demo:
            self._load_demo()

    def _load_demo(self) -> None:
        """Demo mode: an empty workspace gets synthetic households (in the background)."""
        ws, page = self.ws, self.records_page
        assert ws is not None and page is not None
        self.demo = False
        if sum(ws.counts_by_state().values()):
            return

        def work(job: Job) -> int:
            return load_demo(ws, 12, seed=7, progress=job.progress)

        page.status.setText("Creando hogares de demostración…")
        run_job(
            work,
            on_result=lambda _n: page.reload(),
            on_progress=lambda i, n: page.status.setText(
                f"Creando hogares de demostración… {i} de {n}"
            ),
            error_parent=self,
        )

    def autolock_ms(self) -> int:
        if self.autolock_ms_override is not None:
            return self.autolock_ms_override
        assert self.ws is not None
        minutes = self.ws.settings.values().get("autolock_minutes") or 0
        return int(float(minutes) * 60_000)

    def _restart_idle(self) -> None:
        self._watch.watch(self.windowHandle())
        ms = self.autolock_ms()
        if ms > 0:
            self.idle_timer.start(ms)
        else:
            self.idle_timer.stop()

    def close_forms(self) -> None:
        for w in list(self.forms.values()):
            w.close()
        self.forms.clear()

    def logout(self) -> None:
        self._end_session("")

    def lock(self, idle: bool = False) -> None:
        if self.ws is None or self.ws.user is None:
            return
        log.info("session locked (idle=%s)", idle)
        self._end_session(
            "La sesión se cerró por inactividad; lo ingresado quedó guardado. "
            "Ingrese de nuevo para continuar."
            if idle
            else ""
        )

    def _end_session(self, notice: str) -> None:
        assert self.ws is not None
        name = self.ws.user.username if self.ws.user else ""
        if self.password_dialog is not None:
            dlg, self.password_dialog = self.password_dialog, None
            dlg.blockSignals(True)  # closing it is not a second log-out
            dlg.close()
        self.close_forms()
        self.ws.logout()
        self.show_login(name, notice)

    # -- records -------------------------------------------------------------------------------
    def open_record(self, uuid: str) -> QWidget | None:
        assert self.ws is not None
        if uuid in self.forms:
            w = self.forms[uuid]
            w.raise_()
            w.activateWindow()
            return w
        status = self.records_page.status if self.records_page is not None else None
        try:
            with busy(status, "Abriendo la ficha…"):
                w = FormWindow(self.ws, uuid)
        except SieeError as e:
            show_error(self, e)
            return None
        self.forms[uuid] = w
        w.closed.connect(lambda u=uuid: self._form_closed(u))
        w.resize(self.size())
        w.showMaximized()
        w.activateWindow()
        return w

    def _form_closed(self, uuid: str) -> None:
        self.forms.pop(uuid, None)
        if self.records_page is not None and self.ws is not None and self.ws.user is not None:
            self.records_page.select_on_load(uuid)  # the record just closed, not the one before
            self.records_page.reload()
            self.activateWindow()
            self.records_page.table.setFocus()

    def new_record(self, form_id: str, from_uuid: str = "") -> QWidget | None:
        assert self.ws is not None
        status = self.records_page.status if self.records_page is not None else None
        text = (
            "Preparando la FSU con los datos de la S100…" if from_uuid else "Creando la ficha…"
        )
        try:
            with busy(status, text):
                uuid = create_record(self.ws, form_id, from_uuid or None)
        except SieeError as e:
            show_error(self, e)
            return None
        if self.records_page is not None:
            self.records_page.select_on_load(uuid)  # the list shows it chosen
        broadcast({RECORDS}, origin=self)  # the list, the dashboard, the log show it
        return self.open_record(uuid)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            # back to the window: a console command (sync enroll, sync now) may have
            # changed what the status bar shows
            self.sync_menu.ctl.refresh()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.close_forms()
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        app = QApplication.instance()
        if isinstance(app, QGuiApplication) and self._watching:
            # once: a second close (a dialog of this window still open) would make
            # PySide warn about a connection already gone
            self._watching = False
            try:
                app.focusWindowChanged.disconnect(self._watch.watch)
            except (RuntimeError, TypeError):
                pass
        super().closeEvent(event)


def build(
    data_dir: Path,
    ws_kwargs: dict[str, Any] | None = None,
    autolock_ms: int | None = None,
    demo: bool = False,
    enrollment: tuple[str, str] | None = None,
    ule: str | None = None,
) -> AppWindow:
    """The application window, not yet started (call `.start()`). `enrollment`
    (server URL, one-time code) and `ule`: see AppWindow.start / run_gui."""
    return AppWindow(data_dir, ws_kwargs, autolock_ms, demo, enrollment, ule)
