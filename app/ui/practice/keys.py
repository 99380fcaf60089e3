"""Counting the keys a trainee presses while typing an exercise (the window's keys,
modifiers included, as bench/entry.py counts them) and the typing time (first key
to last key, in seconds)."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QWindow


class KeyCounter(QObject):
    """Install on a window with `watch(window.windowHandle())`; `keys` and `seconds`."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.keys = 0
        self.first: float | None = None
        self.last: float | None = None

    def watch(self, window: QWindow | None) -> None:
        if window is not None:
            window.installEventFilter(self)

    @property
    def seconds(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        return self.last - self.first

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.KeyPress:
            self.keys += 1
            now = time.monotonic()
            self.first = self.first if self.first is not None else now
            self.last = now
        return False
