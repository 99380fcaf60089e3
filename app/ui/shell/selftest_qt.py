"""The self-test's window check: kept in app/ui, the only layer that imports Qt.

It runs in a child process of the self-test (`selftest --qt-probe`) on the
platform the program will really use, so that a platform Qt cannot load fails
the check instead of aborting the self-test."""

from __future__ import annotations

from PySide6 import __version__ as qt_version
from PySide6.QtWidgets import QApplication, QLabel


def check_qt() -> str:
    """Show a label on the platform of this process; "Qt X (platform)"."""
    app = QApplication.instance() or QApplication([])
    label = QLabel("SIEE Campo")
    label.show()
    app.processEvents()
    assert label.isVisible()
    label.close()
    return f"Qt {qt_version} ({app.platformName()})"
