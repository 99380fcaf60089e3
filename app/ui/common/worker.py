"""The one helper for work off the GUI thread.

`run_job(fn, ...)` runs `fn(job)` on the shared QThreadPool; `fn` may call
`job.progress(done, total)` and check `job.cancelled`. Results, progress and
errors come back on the GUI thread through signals. With `changes={RECORDS, ...}`
(app.ui.common.changes) a successful job tells every screen what changed. Errors go to one place,
`show_error`: a SieeError shows its Spanish `user_message`, anything else is
logged with its traceback and shown as a generic Spanish message.

`SerialSaver` keeps saves of one record in order on a single worker thread and
coalesces them: while a save runs, only the newest pending answers are kept."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget
from shiboken6 import isValid

from app.core.errors import SieeError
from app.ui.common.changes import broadcast
from app.ui.common.damaged import damaged_steps, damaged_text

log = logging.getLogger("siee.ui.worker")

GENERIC_ERROR = (
    "Ocurrió un error inesperado. Sus datos guardados no se perdieron. "
    "Intente de nuevo; si se repite, avise a soporte."
)


def user_text(exc: BaseException) -> str:
    """The Spanish message a person reads for `exc` (logs unexpected errors)."""
    if isinstance(exc, SieeError):
        log.warning("operation refused: %s", exc)
        return exc.user_message
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        # damage found while working (a page read for the first time): the same
        # message and steps as at start, never a generic «unexpected error»
        log.error("database damaged: %s", exc)
        return f"{damaged_text(None)}\n\n{damaged_steps(None)}"
    log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return GENERIC_ERROR


def show_error(parent: QWidget | None, exc: BaseException, title: str = "SIEE Campo") -> None:
    """The one place where a failure becomes a message box."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title)
    box.setText(user_text(exc))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.button(QMessageBox.StandardButton.Ok).setText("Aceptar")
    _open_boxes.add(box)  # a box without a parent would be garbage-collected at once
    box.finished.connect(lambda _r: _open_boxes.discard(box))
    box.open()


_open_boxes: set[QMessageBox] = set()


class Job(QObject):
    """Handle of one background call. Its public signals are emitted on the GUI
    thread (the worker thread emits private signals into the job's own slots)."""

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()
    _w_progress = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self._w_progress.connect(self._on_progress)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def progress(self, done: int, total: int) -> None:
        """Called by the work function from its thread."""
        self._w_progress.emit(done, total)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the call ended (for shutdown and tests)."""
        return self._done.wait(timeout)

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progressed.emit(done, total)

    def _on_done(self) -> None:
        if self.error is not None:
            self.failed.emit(self.error)
        else:
            self.succeeded.emit(self.result)
        self.finished.emit()


class _Dispatcher(QObject):
    """Lives on the GUI thread. A finished job travels to it as the argument of a
    queued signal, so the queued event holds the job: the worker thread never drops
    the last reference (a QObject must not be destroyed on a thread that does not
    own it while the GUI thread may be delivering an event to it)."""

    done = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver)

    @Slot(object)
    def _deliver(self, job: Job) -> None:
        if isValid(job):  # a saver's job goes with its (closed) window
            job._on_done()


_dispatcher: _Dispatcher | None = None


def _get_dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: Callable[[Job], Any]) -> None:
        super().__init__()
        self.job: Job | None = job
        self.fn = fn
        self.dispatcher = _get_dispatcher()  # created on the GUI thread
        self.setAutoDelete(True)

    def run(self) -> None:
        job, self.job = self.job, None
        assert job is not None
        try:
            job.result = self.fn(job)
        except BaseException as e:  # noqa: BLE001 - reported through the signal
            job.error = e
        job._done.set()
        try:
            self.dispatcher.done.emit(job)
        except RuntimeError:  # application already gone at shutdown
            pass


_live_jobs: set[Job] = set()


def run_job(
    fn: Callable[[Job], Any],
    *,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    error_parent: QWidget | None = None,
    pool: QThreadPool | None = None,
    changes: Iterable[str] = (),
    origin: object | None = None,
) -> Job:
    """Run `fn(job)` off the GUI thread; callbacks run on the GUI thread.
    Without `on_error`, failures go to `show_error(error_parent, ...)`.
    `changes`: the topics the work changes (app.ui.common.changes); after it
    succeeded, and after `on_result`, every subscribed screen is told, with
    `origin` (the screen that asked) so it can tell its own changes apart. A failed
    job broadcasts nothing."""
    topics = frozenset(changes)
    job = Job()
    _live_jobs.add(job)
    if on_result:
        job.succeeded.connect(on_result)
    if topics:
        job.succeeded.connect(lambda _r: broadcast(topics, origin))
    if on_progress:
        job.progressed.connect(on_progress)
    if on_error:
        job.failed.connect(on_error)
    else:
        job.failed.connect(lambda e: show_error(error_parent, e))
    job.finished.connect(lambda: _live_jobs.discard(job))
    (pool or QThreadPool.globalInstance()).start(_Runnable(job, fn))
    return job


class SerialSaver(QObject):
    """Durable, ordered, coalescing saves of one record's answers.

    `request(answers)` returns at once; `flush()` blocks until everything asked
    for is on disk (used when the window closes)."""

    saved = Signal(object)  # what save_fn returned (GUI thread)
    failed = Signal(object)
    _w_saved = Signal(object)
    _w_failed = Signal(object)

    def __init__(self, save_fn: Callable[[dict], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._save_fn = save_fn
        self._lock = threading.Lock()
        self._pending: dict | None = None
        self._running = False
        self._idle = threading.Event()
        self._idle.set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        # One job object owned here, on the GUI thread: a Job referenced only by its
        # runnable would be destroyed on the worker thread while its queued "done"
        # signal is still pending on the GUI thread (a crash).
        self._job = Job(self)
        self.saves = 0
        # receiver-bound slots: Qt drops queued results once the saver is deleted
        self._w_saved.connect(self._on_saved)
        self._w_failed.connect(self._on_failed)

    @Slot(object)
    def _on_saved(self, result: Any) -> None:
        self.saved.emit(result)

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self.failed.emit(exc)

    def request(self, answers: dict) -> None:
        with self._lock:
            self._pending = answers
            self._idle.clear()
            if self._running:
                return
            self._running = True
        self._pool.start(_Runnable(self._job, self._drain))

    def _drain(self, _job: Job) -> None:
        while True:
            with self._lock:
                answers, self._pending = self._pending, None
                if answers is None:
                    self._running = False
                    self._idle.set()
                    return
            try:
                result = self._save_fn(answers)
            except BaseException as e:  # noqa: BLE001 - reported through the signal
                log.warning("autosave failed: %s", type(e).__name__)
                self._report(self._w_failed, e)
                continue
            self.saves += 1
            self._report(self._w_saved, result)

    @staticmethod
    def _report(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the window (and this saver) was deleted meanwhile
            pass

    @property
    def idle(self) -> bool:
        return self._idle.is_set()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every requested save ended; True when nothing is left.

        Also waits for the worker to leave the runnable, so the saver (and its
        window) can be deleted right after without a thread still touching it."""
        if not self._idle.wait(timeout):
            return False
        return self._pool.waitForDone(max(1, int(timeout * 1000)))
