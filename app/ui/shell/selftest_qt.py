"""The self-test's Qt check (offscreen): kept in app/ui, the only layer that imports Qt."""

from __future__ import annotations

import os

from PySide6 import __version__ as qt_version
from PySide6.QtWidgets import QApplication, QLabel


def check_qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication([])
    label = QLabel("SIEE Campo")
    label.show()
    app.processEvents()
    assert label.isVisible()
    label.close()
    return f"Qt {qt_version} ({app.platformName()})"
