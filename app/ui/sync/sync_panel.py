"""Sync in the window: the «Sincronización» menu, the status-bar indicator, the
sync panel (progress, counts, last sync, the cumulative log) and the automatic
scheduler (a timer on the GUI thread; every probe and sync runs off it through
app.ui.common.worker).

`install_sync(window)` is the one hook (in AppWindow.__init__); like the admin
menu it follows the window's page stack to know when someone logs in or out."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import SieeError
from app.core.roles import Perm, can
from app.sync.client import InboxImport
from app.sync.model import (
    PREVIOUS_ENROLLMENT,
    Cancelled,
    DeviceInfo,
    SyncError,
    SyncProgress,
    SyncReport,
    SyncStatus,
    awaiting_text,
    describe_outcome,
    human_bytes,
    previous_enrollment_sync,
    registros,
)
from app.sync.scheduler import Backoff, Prepare, ProbeAndSync, SchedulePolicy, attempt
from app.ui.common.changes import RECORDS, REVIEW, SYNC, Change, broadcast, subscribe
from app.ui.common.wording import QUEUE_TIP, plural
from app.ui.common.worker import Job, run_job, show_error, user_text
from app.ui.sync.sync_dialogs import EnrollDialog, EnrolledDialog, export_message
from app.workspace.centre import Centre

log = logging.getLogger("siee.ui.sync")


# The send queue (QUEUE_TIP, app.ui.common.wording) is SyncStatus.pending, one figure.
# A «registro» is what travels: an approved ficha (S100, FSU) or a step of a case (a visit
# attempt, a desestimación or reopening), which is not a ficha (app.core.cases.CASE_STEPS).
BATCHES_TIP = ("Lotes enviados (o exportados a USB) cuyo recibo del SIEE aún no llegó. Sus "
               "registros se siguen contando en «Registros en cola de envío».")
DELIVERED_TIP = ("Fichas del hogar (S100, FSU) que el SIEE recibió y que esperan su resultado "
                 "de CSE. Los intentos de visita y las desestimaciones también se entregan, "
                 "pero no son fichas ni reciben resultado.")


def queue_text(n: int) -> str:
    """«1 registro en cola de envío», «3 registros en cola de envío»."""
    return f"{registros(n)} en cola de envío"


def when_text(ts: float | None) -> str:
    if not ts:
        return "nunca"
    d = datetime.fromtimestamp(ts)
    if d.date() == datetime.now().date():
        return "hoy a las " + d.strftime("%H:%M")
    return d.strftime("%d/%m/%Y %H:%M")


class SyncController(QObject):
    """State and actions of sync for one window. Signals arrive on the GUI thread."""

    status_changed = Signal(object)  # SyncStatus | None
    progressed = Signal(object)  # SyncProgress
    running_changed = Signal(bool)
    finished = Signal(object)  # SyncReport | SieeError
    log_changed = Signal()
    ticked = Signal()  # every second while logged in (the indicator's countdown)
    _w_progress = Signal(object)

    def __init__(self, window: QMainWindow, interval_s: float = 300.0,
                 backoff: Backoff | None = None, tick_ms: int = 1000) -> None:
        super().__init__(window)
        self.window_ = window
        self.policy = SchedulePolicy(interval_s, backoff or Backoff(base=5.0, cap=300.0))
        self.job: Job | None = None
        self.status: SyncStatus | None = None
        self.auto = True
        self.prep_job: Job | None = None
        self._prepared_pending = -1  # pending count when nothing was left to prepare
        # (server URL, one-time code) typed in the first-run wizard or handed to
        # `run --server --enroll-code`: used at an administrator's first log-in, when
        # the workspace key is available.
        self.pending_enrollment: tuple[str, str] | None = None
        self.enrolled_dialog: EnrolledDialog | None = None  # that enrollment's result
        self._w_progress.connect(self.progressed.emit)
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        subscribe(self, self.on_changes)

    def on_changes(self, change: Change) -> None:
        """An approval queues records, a return takes them out: the indicator's «N en
        cola» and the panel's counts follow every operation, not only syncs."""
        if change.origin is not self and change.touches(RECORDS, REVIEW, SYNC):
            self.refresh()

    # -- session --------------------------------------------------------------------------
    def ws(self) -> Any:
        ws = getattr(self.window_, "ws", None)
        return ws if ws is not None and ws.user is not None else None

    def on_login(self) -> None:
        self.policy = SchedulePolicy(self.policy.interval, self.policy.backoff)
        self.refresh()
        self.timer.start()
        self._wizard_enroll()

    def _wizard_enroll(self) -> None:
        pending, ws = self.pending_enrollment, self.ws()
        if pending is None or ws is None or not can(ws.user.role, Perm.SETTINGS_MANAGE):
            return
        self.pending_enrollment = None  # one attempt; the menu offers it again
        if ws.centre.device() is not None:
            return
        url, code = pending
        centre = self.centre()

        def failed(exc: BaseException) -> None:
            self.refresh()
            show_error(self.window_, exc, "Inscripción del equipo")

        run_job(
            lambda _job: centre.enroll(url, code, "SIEE Campo"),
            on_result=self._wizard_enrolled,
            on_error=failed,
        )

    def _wizard_enrolled(self, info: DeviceInfo) -> None:
        """The wizard's enrollment went through: sync now, and show IT the result with
        the server key's fingerprint (as the enrollment dialog and the console do)."""
        self.refresh()
        self.policy.request_now()
        parent = self.window_ if isinstance(self.window_, QWidget) else None
        self.enrolled_dialog = EnrolledDialog(info, parent)
        self.enrolled_dialog.show()  # not modal: the first sync goes on meanwhile

    def on_logout(self) -> None:
        self.timer.stop()
        self.cancel()
        self.status = None
        self.status_changed.emit(None)

    def centre(self) -> Centre:
        """The logged-in workspace's sync part (SieeError when nobody is logged in)."""
        ws = self.ws()
        if ws is None:
            raise SieeError("not logged in", "Inicie sesión para continuar.")
        return ws.centre

    @property
    def running(self) -> bool:
        """True from the start of a sync until its result was handled on the GUI thread
        (not only until the worker finished: a sync started in between would be
        cleared by the previous one's result)."""
        return self.job is not None

    # -- status ---------------------------------------------------------------------------
    def refresh(self) -> None:
        ws = self.ws()
        if ws is None:
            return
        try:
            self.status = ws.centre.status()
        except SieeError:
            return
        self.status_changed.emit(self.status)
        self.log_changed.emit()

    def can_sync(self) -> bool:
        ws = self.ws()
        return ws is not None and can(ws.user.role, Perm.SYNC_RUN)

    # -- the scheduler ------------------------------------------------------------------------
    def tick(self) -> None:
        """Every second: start a sync when one is due (probe first unless asked for);
        otherwise prepare a few queued records for sending."""
        if self.policy.online is False:
            self.ticked.emit()
        self._notice_outside_enrollment()
        if not self.auto or self.running or not self.can_sync():
            return
        st = self.status
        if st is None or not st.enrolled or st.revoked:
            self.policy.take_forced()
            return
        prep_idle = self.prep_job is None or self.prep_job.done
        action = self.policy.step(time.monotonic(), idle_work=bool(st.pending) and prep_idle)
        if isinstance(action, ProbeAndSync):
            if prep_idle:
                self.policy.started()
                self._start(forced=not action.probe)
        elif isinstance(action, Prepare):
            self._prepare()

    def _notice_outside_enrollment(self) -> None:
        """An enrollment made outside this window (the console's `sync enroll` on the same
        data folder) shows at once: while the indicator says «Sin inscribir», each tick
        reads the enrollment (one small read) and refreshes when it appeared."""
        st, ws = self.status, self.ws()
        if st is None or st.enrolled or ws is None or self.running:
            return
        try:
            enrolled = ws.centre.device() is not None
        except SieeError:
            return
        if enrolled:
            self.refresh()
            self.policy.request_now()

    def _prepare(self) -> None:
        """The form engine's part of the next sync (answers set aside by skips are not
        sent), done a few records at a time while the window is idle."""
        ws = self.ws()
        if ws is None or self._prepared_pending == self.status.pending:  # type: ignore[union-attr]
            return
        pending = self.status.pending  # type: ignore[union-attr]

        def done(n: int) -> None:
            if n == 0:
                self._prepared_pending = pending

        self.prep_job = run_job(lambda _job: ws.centre.prepare(20), on_result=done,
                                on_error=lambda e: log.warning("prepare failed: %s", e))

    def sync_now(self) -> None:
        """«Sincronizar ahora»: at once, without waiting for the next turn."""
        if self.running:
            return
        self._start(forced=True)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _start(self, forced: bool) -> None:
        try:
            centre = self.centre()
        except SieeError:
            return
        emit = self._w_progress.emit

        def work(job: Job) -> SyncReport | None:
            # None: offline; the policy waits and probes again.
            return attempt(centre, ProbeAndSync(probe=not forced), 5.0, progress=emit,
                           cancelled=lambda: job.cancelled)

        self.running_changed.emit(True)
        self.job = run_job(work, on_result=self._done, on_error=self._failed)

    def _done(self, report: SyncReport | None) -> None:
        self.policy.record(time.monotonic(), report)
        self.job = None
        self.running_changed.emit(False)
        self.refresh()
        if report is not None:
            self.finished.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.job = None
        self.running_changed.emit(False)
        if not isinstance(exc, SyncError):
            text = user_text(exc)
            exc = SyncError(f"unexpected {type(exc).__name__}", text)
            exc.transient = True
        self.policy.record(time.monotonic(), exc)
        self.refresh()
        self.finished.emit(exc)

    # -- USB ----------------------------------------------------------------------------------
    def export_to(self, folder: Path, on_done: Any = None, on_error: Any = None) -> Job:
        centre = self.centre()
        return run_job(lambda job: centre.export_usb(Path(folder)),
                       on_result=lambda r: (self.refresh(), on_done and on_done(r)),
                       on_error=on_error or (lambda e: self._message(user_text(e), True)))

    def import_files(self, files: list[Path], on_done: Any = None,
                     on_error: Any = None) -> Job:
        centre = self.centre()

        def work(_job: Job) -> list[str]:
            lines = []
            # Receipts before inbox files (a returned record is DELIVERED first).
            for f in sorted(files, key=lambda x: Path(x).name.startswith("siee-inbox-")):
                out = centre.import_usb(Path(f))
                if isinstance(out, InboxImport):
                    lines.append(f"{Path(f).name}: {out.text()}")
                    continue
                lines.append(f"{Path(f).name}: " + (
                    "ya había sido importado; no cambió nada." if out.already_applied
                    else describe_outcome(out)))
            return lines

        def imported(lines: list[str]) -> None:
            self.refresh()
            broadcast({SYNC, RECORDS, REVIEW}, origin=self)  # returns, results
            if on_done:
                on_done(lines)

        return run_job(work, on_result=imported,
                       on_error=on_error or (lambda e: self._message(user_text(e), True)))

    def _message(self, text: str, warning: bool = False) -> None:
        box = QMessageBox(self.window_)
        box.setIcon(QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information)
        box.setWindowTitle("Sincronización")
        box.setText(text)
        box.open()


class SyncIndicator(QPushButton):
    """The status-bar indicator; a click opens the sync panel."""

    def __init__(self, ctl: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.setFlat(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setToolTip("Estado de la sincronización con el SIEE (clic para ver detalles)")
        self.progress: SyncProgress | None = None
        ctl.status_changed.connect(lambda _s: self.render())
        ctl.running_changed.connect(lambda _r: self.render())
        ctl.progressed.connect(self._progressed)
        ctl.ticked.connect(self.render)
        self.render()

    def _progressed(self, pr: SyncProgress) -> None:
        self.progress = pr
        self.render()

    def render(self) -> None:
        st, ctl = self.ctl.status, self.ctl
        if st is None:
            self.setText("")
            self.setVisible(False)
            return
        self.setVisible(True)
        if not st.enrolled:
            text = "Sin inscribir en el servidor"
        elif st.revoked:
            text = "Equipo dado de baja: no sincroniza"
        elif ctl.running:
            pr = self.progress
            text = "Sincronizando…" + (
                f" {pr.records_done}/{pr.records_total}" if pr and pr.records_total else "")
        elif ctl.policy.online is False:
            left = ctl.policy.seconds_left(time.monotonic())
            text = f"Sin conexión — reintento en {int(left)} s · {queue_text(st.pending)}"
        else:
            text = (f"{queue_text(st.pending)} · última sincronización: "
                    f"{when_text(st.last_ok)}")
        if st.quarantined:
            text += f" · {st.quarantined} en conflicto con el SIEE (avise a soporte)"
        if st.damaged:
            text += " · ¡" + plural(st.damaged, "1 dañada", "{n} dañadas") + "!"
        self.setText(text)


class SyncPanel(QDialog):
    """Progress (records and bytes), counts, last sync and the cumulative log."""

    def __init__(self, ctl: SyncController, parent: QWidget | None = None,
                 extra: list[QAction] | None = None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.setWindowTitle("Sincronización con el SIEE")
        self.resize(720, 520)
        self.server = QLabel("")
        self.server.setWordWrap(True)
        self.bar = QProgressBar()
        self._phase: str | None = None  # of the sync in progress (None: none yet)
        self._total = 0
        self._bar(0, 1, "Sin envíos en curso")
        self.bytes = QLabel("")
        self.bytes.setObjectName("hint")
        self.counts: dict[str, QLabel] = {}
        grid = QGridLayout()
        tips = {"pending": QUEUE_TIP, "in_flight": BATCHES_TIP,
                "delivered_forms": DELIVERED_TIP}
        for i, (key, label) in enumerate((
            ("pending", "Registros en cola de envío"), ("delivered_forms", "Fichas entregadas"),
            ("returned", "Observadas"), ("quarantined", "En conflicto (avise a soporte)"),
            ("result", "Con resultado"), ("in_flight", "Lotes sin recibo del SIEE"),
            ("damaged", "Dañadas (alteradas fuera del programa)"),
        )):
            name = QLabel(label + ":")
            value = QLabel("0")
            value.setObjectName("count_" + key)
            for w in (name, value):
                w.setToolTip(tips.get(key, ""))
            self.counts[key] = value
            grid.addWidget(name, i // 3, (i % 3) * 2)
            grid.addWidget(value, i // 3, (i % 3) * 2 + 1)
        self.awaiting = QLabel("")
        self.awaiting.setObjectName("hint")
        self.awaiting.setWordWrap(True)
        self.last = QLabel("")
        self.last.setWordWrap(True)  # the note on a previous enrollment is long
        self.problem = QLabel("")
        self.problem.setObjectName("returned")
        self.problem.setWordWrap(True)
        self.log = QListWidget()
        self.log.setWordWrap(True)
        self.now_btn = QPushButton("Sincronizar &ahora")
        self.now_btn.setObjectName("primary")
        self.now_btn.clicked.connect(ctl.sync_now)
        self.cancel_btn = QPushButton("&Cancelar")
        self.cancel_btn.clicked.connect(ctl.cancel)
        self.close_btn = QPushButton("Ce&rrar")
        self.close_btn.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.now_btn)
        buttons.addWidget(self.cancel_btn)
        buttons.addStretch(1)
        self.extra_btns: list[QPushButton] = []
        for action in extra or []:
            b = QPushButton(action.text().replace("&", "").replace("…", "") + "…")
            b.clicked.connect(action.trigger)
            b.setVisible(action.isVisible())
            self.extra_btns.append(b)
            buttons.addWidget(b)
        buttons.addWidget(self.close_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(self.server)
        lay.addWidget(self.bar)
        lay.addWidget(self.bytes)
        lay.addLayout(grid)
        lay.addWidget(self.awaiting)
        lay.addWidget(self.last)
        lay.addWidget(self.problem)
        title = QLabel("Bitácora de sincronización")
        title.setObjectName("subtitle")
        lay.addWidget(title)
        lay.addWidget(self.log, 1)
        lay.addLayout(buttons)
        ctl.status_changed.connect(self.show_status)
        ctl.progressed.connect(self.show_progress)
        ctl.running_changed.connect(self.show_running)
        ctl.log_changed.connect(self.reload_log)
        self.show_status(ctl.status)
        self.show_running(ctl.running)
        self.reload_log()

    def show_status(self, st: SyncStatus | None) -> None:
        if st is None:
            return
        if not st.enrolled:
            self.server.setText("Este equipo no está inscrito en el servidor del SIEE. Use "
                                "«Inscribir equipo…» en el menú Sincronización.")
        else:
            # the device id is for support (Diagnóstico); staff see that it is enrolled
            self.server.setText(f"Servidor: {st.server_url} — equipo inscrito"
                                + (" — DADO DE BAJA" if st.revoked else ""))
            self.server.setToolTip(f"Identificador del equipo (para soporte): {st.device_id}")
        for key, lab in self.counts.items():
            lab.setText(str(getattr(st, key)))
        self.awaiting.setText(awaiting_text(st.delivered_forms) if st.delivered_forms else "")
        self.awaiting.setVisible(bool(st.delivered_forms))
        self.last.setText(f"Última sincronización correcta: {when_text(st.last_ok)}"
                          + (f" — {PREVIOUS_ENROLLMENT}." if previous_enrollment_sync(st)
                             else ""))
        self.problem.setText(f"Último problema: {st.last_error}" if st.last_error else "")
        self.problem.setVisible(bool(st.last_error))
        self.now_btn.setEnabled(st.enrolled and not st.revoked and not self.ctl.running)

    # -- the progress bar: its text always says where this sync is (issue 16 item 8) ----
    def _bar(self, value: int, maximum: int, text: str) -> None:
        self.bar.setMaximum(max(1, maximum))
        self.bar.setValue(value)
        self.bar.setFormat(text)

    def show_progress(self, pr: SyncProgress) -> None:
        self._phase = pr.phase
        total = pr.records_total
        if pr.phase == "send":
            self._total = total
            if total:
                self._bar(pr.records_done, total,
                          plural(total, "%v de 1 registro enviado", "%v de %m registros enviados"))
            else:
                self._bar(0, 1, "Nada que enviar")
            self.bytes.setText(f"{human_bytes(pr.bytes_done)} de {human_bytes(pr.bytes_total)} "
                               "enviados")
        elif pr.phase == "done":
            if total:
                self._bar(total, total, plural(total, "Listo: 1 registro enviado",
                                               "Listo: %m registros enviados"))
                self.bytes.setText(f"{human_bytes(pr.bytes_done)} enviados")
            else:
                self._bar(1, 1, "Listo: no había registros por enviar")
                self.bytes.setText("")
        else:
            if not self._total:
                self._bar(0, 1, "Recibiendo novedades del SIEE…")
            self.bytes.setText(pr.text)

    def show_running(self, running: bool) -> None:
        self.cancel_btn.setEnabled(running)
        st = self.ctl.status
        self.now_btn.setEnabled(not running and bool(st and st.enrolled and not st.revoked))
        if running:
            self._phase, self._total = "start", 0
            self._bar(0, 1, "Conectando con el SIEE…")
            self.bytes.setText("")
        elif self._phase not in ("done", None):
            # offline, cancelled or failed: never a finished-looking «0 de 1»
            sent = self.bar.value() if self._total else 0
            done = (plural(sent, "1 registro enviado", "%v registros enviados") if sent
                    else "no se envió nada")
            self._bar(sent, max(1, self._total), f"Sin terminar: {done} — se reintentará")
            self._phase = None

    def reload_log(self) -> None:
        ws = self.ctl.ws()
        if ws is None:
            return
        try:
            entries = ws.centre.log(200)
        except SieeError:
            return
        self.log.clear()
        for e in entries:
            item = QListWidgetItem(f"{when_text(e.ts)} — {e.text}")
            if e.level in ("error", "warning"):
                item.setForeground(Qt.GlobalColor.darkRed)
            self.log.addItem(item)


class SyncMenu(QMenu):
    """The «Sincronización» menu, the indicator and the panel of one window."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__("&Sincronización", window)
        self.window_ = window
        self.ctl = SyncController(window)
        self.now_action = QAction("Sincronizar &ahora", self)
        self.now_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.now_action.triggered.connect(self.ctl.sync_now)
        self.addAction(self.now_action)
        self.panel_action = self.addAction("&Ver sincronización…", self.open_panel)
        self.addSeparator()
        self.enroll_action = self.addAction("&Inscribir equipo…", self.open_enroll)
        self.export_action = self.addAction("E&xportar lote a USB…", self.ask_export)
        self.import_action = self.addAction("I&mportar recibo o novedades de USB…", self.ask_import)
        self.menu_action: QAction = window.menuBar().addMenu(self)
        self.indicator = SyncIndicator(self.ctl)
        self.indicator.clicked.connect(self.open_panel)
        window.statusBar().addPermanentWidget(self.indicator)
        self.panel: SyncPanel | None = None
        self.ctl.finished.connect(self._finished)
        self._logged = False
        stack = getattr(window, "stack", None)
        if stack is not None:
            stack.currentChanged.connect(lambda _i: self.follow())
        self.follow()

    def follow(self) -> None:
        ws = self.ctl.ws()
        logged = ws is not None
        self.menu_action.setVisible(logged and can(ws.user.role, Perm.SYNC_RUN))
        if logged:
            self.enroll_action.setVisible(can(ws.user.role, Perm.SETTINGS_MANAGE))
        if logged and not self._logged:
            self._logged = True
            self.ctl.on_login()
        elif not logged and self._logged:
            self._logged = False
            self.ctl.on_logout()
            if self.panel is not None:
                self.panel.close()
                self.panel = None

    def open_panel(self) -> SyncPanel | None:
        if self.ctl.ws() is None:
            return None
        if self.panel is None:
            self.panel = SyncPanel(self.ctl, self.window_,
                                   [self.export_action, self.import_action])
        self.ctl.refresh()
        self.panel.show()
        self.panel.raise_()
        return self.panel

    def open_enroll(self) -> QDialog | None:
        ws = self.ctl.ws()
        if ws is None:
            return None
        dlg = EnrollDialog(self.ctl, self.window_)
        dlg.open()
        return dlg

    def ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window_, "Elija la carpeta de la memoria USB donde guardar el lote")
        if folder:
            self.ctl.export_to(Path(folder), on_done=self._exported)

    def _exported(self, paths: list[Path]) -> None:
        self.ctl._message(export_message(paths))

    def ask_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self.window_, "Elija el recibo y las novedades traídos de la sede central", "",
            "Recibos y novedades del SIEE (siee-receipt-*.json siee-inbox-*.json);;"
            "Todos los archivos (*)")
        if files:
            self.ctl.import_files([Path(f) for f in files],
                                  on_done=lambda lines: self.ctl._message("\n".join(lines)))

    def _finished(self, result: object) -> None:
        win = self.window_
        bar = win.statusBar()
        if isinstance(result, SyncReport):
            text = result.text()
            st = self.ctl.status
            quiet = not result.outcome.sent and not result.inbox_notes
            if st is not None and st.delivered_forms and quiet and not result.pending_left:
                # nothing new: say what is still expected (one line fits the bar)
                text = "Sin novedades del SIEE. " + awaiting_text(st.delivered_forms)
            bar.showMessage(text, 30000)
            if result.outcome.sent or result.messages:
                # every open screen shows the new states (records, review, dashboard)
                broadcast({SYNC, RECORDS, REVIEW}, origin=self.ctl)
        elif isinstance(result, Cancelled):
            bar.showMessage(result.user_message, 10000)
        elif isinstance(result, SieeError):
            bar.showMessage("Sincronización sin éxito: " + result.user_message, 15000)


def install_sync(window: QMainWindow) -> SyncMenu:
    return SyncMenu(window)


__all__ = ["SyncController", "SyncIndicator", "SyncMenu", "SyncPanel",
           "install_sync", "queue_text"]
