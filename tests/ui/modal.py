"""Answering a modal dialog a click opens, without a test that can hang.

`answer_modal(cls, act)` polls, from Qt timers, until the application's active modal
widget is a `cls`, then calls `act(widget)` (typing, pressing keys). The poll ends at
a deadline in seconds, not after a count of ticks (a loaded machine shows a dialog
late); and if the dialog is still open long after `act` ran (the keys did not close
it), it is rejected, so the click that opened it returns and the test fails on its
assertions instead of waiting for ever."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

POLL_MS = 20


def answer_modal(cls: type[QWidget], act: Callable[[Any], None], seconds: float = 60.0
                 ) -> list[QWidget]:
    """Schedule the answer; returns the list the answered dialog is appended to (empty
    when none came before the deadline)."""
    answered: list[QWidget] = []
    deadline = time.monotonic() + seconds

    def poll() -> None:
        w = QApplication.activeModalWidget()
        if not isinstance(w, cls):
            if time.monotonic() < deadline:
                QTimer.singleShot(POLL_MS, poll)
            return
        answered.append(w)
        act(w)
        QTimer.singleShot(int(seconds * 1000), lambda: _close_if_open(w))

    QTimer.singleShot(0, poll)
    return answered


def _close_if_open(w: QWidget) -> None:
    try:
        if w.isVisible() and isinstance(w, QDialog):
            w.reject()
    except RuntimeError:
        pass  # already deleted: it closed
