"""A visible «working» state for operations that run on the GUI thread.

Some steps must finish before the next screen can be shown (log-in with its
key derivation, creating the data folder in the first-run wizard, a new FSU
built from an S100, opening a large form). They take from a fraction of a second
to a few seconds; without a sign the program looks frozen. `busy()` shows the
wait cursor and a short Spanish text in a label (if given), paints them before
the work starts, and restores both afterwards, also when the work raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

_depth = 0


def is_busy() -> bool:
    """True while a `busy()` block runs (the wait cursor is up)."""
    return _depth > 0


@contextmanager
def busy(label: QLabel | None = None, text: str = "Un momento…") -> Iterator[None]:
    """Wait cursor (and `text` in `label`) for the duration of the block."""
    global _depth
    before = label.text() if label is not None else ""
    QGuiApplication.setOverrideCursor(QCursor(Qt.CursorShape.WaitCursor))
    _depth += 1
    # let the cursor reach the screen before the work blocks (pending results,
    # e.g. a list that finished loading, are shown now, not over our text)
    QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    if label is not None:
        label.setText(text)
        label.repaint()  # painted at once: no event runs until the work is done
    try:
        yield
    finally:
        _depth -= 1
        QGuiApplication.restoreOverrideCursor()
        if label is not None:
            try:
                if label.text() == text:
                    label.setText(before)
            except RuntimeError:  # the label's window closed meanwhile
                pass
