"""Practice mode in the shell (issue 18): `open_practice(real_window)` opens the
practice workspace beside the real one (creating it the first time), in a
`PracticeAppWindow`: the same program, marked on every window, with the exercises
(F8), the key counting and the guided first survey's hints on its form windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QPushButton, QWidget

from app.core.errors import SieeError
from app.store.inspect import database_damage
from app.ui.common.worker import show_error
from app.ui.practice.band import PracticeMarker, mark_window
from app.ui.practice.hints import SectionHints
from app.ui.practice.keys import KeyCounter
from app.ui.practice.setup import PracticeSetupDialog
from app.ui.practice.window import PracticeWindow
from app.ui.shell.app_window import AppWindow, build
from app.workspace import Workspace
from app.workspace.practice import practice_dir


class PracticeAppWindow(AppWindow):
    """The program on a practice workspace. Refuses a real workspace."""

    def __init__(self, data_dir: Path, ws_kwargs: dict[str, Any] | None = None,
                 autolock_ms: int | None = None) -> None:
        super().__init__(data_dir, ws_kwargs, autolock_ms)
        self.marker = PracticeMarker(self, lambda w: w in self.forms.values())
        self.practice_window: PracticeWindow | None = None
        self.counters: dict[str, KeyCounter] = {}
        mark_window(self)

    def start(self) -> None:
        ws = Workspace.open(self.data_dir, **self.ws_kwargs)
        if not ws.practice.enabled:
            ws.close()
            raise SieeError("not a practice workspace",
                            "Esa carpeta no es un espacio de práctica.")
        self._attach(ws)
        self.show_login()
        self.showMaximized()

    def _attach(self, ws: Workspace) -> None:
        super()._attach(ws)
        assert self.login_page is not None and self.records_page is not None
        self.login_page.practice_btn.setText("&Salir del modo práctica")
        self.login_page.practice_requested.disconnect(self.practice_requested)
        self.login_page.practice_requested.connect(self.close)
        page = self.records_page
        self.exercises_btn = QPushButton("E&jercicios de práctica (F8)")
        self.exercises_btn.setObjectName("primary")
        self.exercises_btn.clicked.connect(self.open_exercises)
        page.layout().itemAt(0).layout().insertWidget(2, self.exercises_btn)
        QShortcut(QKeySequence("F8"), page, self.open_exercises)

    # -- exercises ------------------------------------------------------------------------------
    def open_exercises(self) -> PracticeWindow | None:
        if self.ws is None or self.ws.user is None:
            return None
        w = self.practice_window
        if w is None:
            w = PracticeWindow(self.ws, self.key_reading)
            w.exercises.open_record.connect(self.open_record)
            w.exercises.open_review.connect(self._open_review)
            w.closed.connect(lambda: setattr(self, "practice_window", None))
            self.forms[f"practice:{id(w)}"] = w
            self.practice_window = w
            mark_window(w)
        w.reload()
        w.show()
        w.raise_()
        w.activateWindow()
        return w

    def _open_review(self) -> None:
        if self.records_page is not None:
            w = self.records_page.supervision.open_supervision()
            if w is not None:
                mark_window(w)

    def key_reading(self, uuid: str) -> tuple[int, float | None] | None:
        c = self.counters.get(uuid)
        return (c.keys, c.seconds) if c is not None and c.keys else None

    def open_record(self, uuid: str) -> QWidget | None:
        w = super().open_record(uuid)
        if w is None or self.ws is None or getattr(w, "_practice_wired", False):
            return w  # None, or a window already open and wired (raised again)
        w._practice_wired = True  # type: ignore[attr-defined]
        mark_window(w)
        if not getattr(w, "_practice_hints", None) and getattr(w, "fd", None) is not None \
                and w.fd.form_id == "fsu":  # type: ignore[attr-defined]
            w._practice_hints = SectionHints(self.ws, w)  # type: ignore[attr-defined]
        try:
            info = self.ws.practice.exercise(uuid)
        except SieeError:
            info = None
        if info and info.get("kind") == "entry":
            # one counter per exercise, across reopenings of its form
            counter = self.counters.setdefault(uuid, KeyCounter(self))
            QTimer.singleShot(0, lambda: counter.watch(w.windowHandle()))
            counter.watch(w.windowHandle())
            # completing the exercise's form shows its score at once
            completed = getattr(w, "completed", None)
            if completed is not None:
                completed.connect(lambda _state, u=uuid: QTimer.singleShot(
                    0, lambda: self.show_score(u)))
        return w

    def show_score(self, uuid: str) -> QWidget | None:
        """Score the data-entry exercise `uuid` and show its result (after completion)."""
        pw = self.open_exercises()
        if pw is None:
            return None
        pw.exercises.select_key(uuid)
        return pw.exercises.score_selected()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.marker.stop()
        super().closeEvent(event)


def open_practice(real: AppWindow) -> PracticeAppWindow | None:
    """Open practice mode for the real window `real` (its data folder decides the
    practice folder: app.workspace.practice.practice_dir); the first time, ask who
    leads the practice. Returns the practice window, or None when cancelled."""
    existing = getattr(real, "practice_app", None)
    if isinstance(existing, PracticeAppWindow) and existing.isVisible():
        existing.raise_()
        existing.activateWindow()
        return existing
    folder = practice_dir(real.data_dir)
    if not Workspace.is_initialized(folder):
        ule = real.ws.settings.get("ule_ubigeo") if real.ws is not None else None
        dlg = PracticeSetupDialog(folder, ule, real.ws_kwargs, real)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
    win = PracticeAppWindow(folder, real.ws_kwargs)
    try:
        win.start()
    except SieeError as e:
        show_error(real, e)
        return None
    real.practice_app = win  # type: ignore[attr-defined]
    return win


def is_practice_folder(data_dir: Path) -> bool:
    """Whether `data_dir` holds a practice workspace (read without logging in)."""
    if not Workspace.is_initialized(data_dir):
        return False
    ws = Workspace.open(data_dir)
    try:
        return ws.practice.enabled
    finally:
        ws.close()


def window_for(data_dir: Path, **kw: Any) -> AppWindow:
    """The program's window for `data_dir`: a practice folder opened directly (e.g.
    `siee-campo run --data X-practica`) still gets the marked practice window; any other
    folder the ordinary one (`build`, with `kw`), whose log-in offers practice mode."""
    damage = database_damage(Path(data_dir))  # read-only; a damaged file is not opened
    if not damage and is_practice_folder(Path(data_dir)):
        return PracticeAppWindow(Path(data_dir))
    win = build(Path(data_dir), **kw)
    win.checked_damage = damage or ""  # start() shows it without reading the file again
    win.practice_requested.connect(lambda: open_practice(win))  # issue 18
    return win
