"""The practice band: «PRÁCTICA — nada se envía al SIEE» across the top of every window
of a practice workspace, and the same word in front of every window title.

`mark_window(w)` marks one window (a QMainWindow gets the band as a fixed tool bar, a
dialog in front of its layout); `PracticeMarker` marks every window of the program that
gets the focus while practice mode is open, so a window added later is marked too."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMainWindow, QToolBar, QWidget

from app.workspace.practice import BAND_TEXT

BAND_STYLE = ("QLabel#practiceBand { background: #f6a313; color: #1a1a1a; font-weight: 700; "
              "font-size: 12pt; padding: 6px; border-bottom: 2px solid #b06f00; }")
TITLE_PREFIX = "PRÁCTICA — "
_MARKED = "sieePracticeMarked"


def band() -> QLabel:
    """A new band label."""
    lab = QLabel(BAND_TEXT)
    lab.setObjectName("practiceBand")
    lab.setStyleSheet(BAND_STYLE)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setAccessibleName(BAND_TEXT)
    return lab


def _retitle(w: QWidget) -> None:
    title = w.windowTitle()
    if not title.startswith(TITLE_PREFIX):
        w.setWindowTitle(TITLE_PREFIX + (title or "SIEE Campo"))


def mark_window(w: QWidget) -> None:
    """Put the band on `w` (once) and keep «PRÁCTICA — » in front of its title."""
    if w.property(_MARKED):
        return
    w.setProperty(_MARKED, True)
    if isinstance(w, QMainWindow):
        bar = QToolBar("Modo práctica", w)
        bar.setObjectName("practiceBandBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)
        lab = band()
        lab.setSizePolicy(lab.sizePolicy().horizontalPolicy().Expanding,
                          lab.sizePolicy().verticalPolicy())
        bar.addWidget(lab)
        w.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        w.insertToolBarBreak(bar)
    elif isinstance(w, QDialog) and w.layout() is not None:
        lay = w.layout()
        insert = getattr(lay, "insertWidget", None)
        if insert is not None:
            insert(0, band())
    _retitle(w)
    w.windowTitleChanged.connect(lambda _t, w=w: _retitle(w))


def marked(w: QWidget) -> bool:
    return bool(w.property(_MARKED))


class PracticeMarker(QObject):
    """Marks every top-level window of practice mode that gets the focus: a window or
    dialog whose parent chain reaches a marked window, or one `owns(w)` claims (windows
    the practice shell opened without a parent). The real program's windows, open in
    the same process, are left alone."""

    def __init__(self, parent: QObject, owns: Callable[[QWidget], bool]) -> None:
        super().__init__(parent)
        self.owns = owns
        app = QApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._focus)

    def _focus(self, window: QWindow | None) -> None:
        if window is None:
            return
        for w in QApplication.topLevelWidgets():
            if w.windowHandle() is window and isinstance(w, QMainWindow | QDialog) \
                    and self._practice(w):
                mark_window(w)

    def _practice(self, w: QWidget) -> bool:
        if self.owns(w):
            return True
        p = w.parentWidget()
        while p is not None:
            if marked(p.window()):
                return True
            p = p.parentWidget()
        return False

    def stop(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QGuiApplication):
            try:
                app.focusWindowChanged.disconnect(self._focus)
            except (RuntimeError, TypeError):
                pass
