"""SIEE_STARTUP_PROBE=1: print one marker line when the first window (log-in or
first-run wizard) has been shown and painted, then quit. For bench/startup.py
and the packaging test; nothing happens without the variable."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

MARKER = "SIEE_STARTUP_READY"
_T0 = time.perf_counter()


class _Probe(QObject):
    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        self.fired = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            not self.fired
            and event.type() == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.isWindow()
        ):
            self.fired = True
            # Let the window paint once before saying it is there.
            QTimer.singleShot(0, lambda w=watched: self._done(w))
        return False

    def _done(self, window: QWidget) -> None:
        window.repaint()
        ms = (time.perf_counter() - _T0) * 1000
        title = window.windowTitle().replace("\n", " ")
        print(f"{MARKER} {ms:.0f} ms window={type(window).__name__} title={title}", flush=True)
        if os.environ.get("SIEE_STARTUP_PROBE_STAY") != "1":
            self.app.quit()


def install() -> QApplication:
    """Create the QApplication (run_gui reuses it) and watch for the first window."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.installEventFilter(_Probe(app))
    return app
