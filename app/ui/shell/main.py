"""Entry point of the desktop program: `run_gui(data_dir)`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.paths import setup_logging
from app.ui.common import styles
from app.ui.common.translations import install_qt_spanish
from app.ui.shell.practice_window import window_for

log = logging.getLogger("siee.ui")


def run_gui(
    data_dir: Path,
    demo: bool = False,
    enrollment: tuple[str, str] | None = None,
    ule: str | None = None,
) -> int:
    """Show the first-run wizard on a new data folder, else the log-in window.
    With `demo`, a new folder gets the demo households once the wizard ends.
    `enrollment` (server URL, one-time code): enroll this laptop at an administrator's
    first log-in, as if typed in the wizard (AppWindow). `ule`: the district (6-digit
    ubigeo) the wizard proposes."""
    data_dir = Path(data_dir)
    setup_logging(data_dir)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("SIEE Campo")
    app.setOrganizationName("SIEE")
    styles.apply(app)
    install_qt_spanish(app)  # Qt's dialogs and standard buttons in Spanish
    win = window_for(data_dir, demo=demo, enrollment=enrollment, ule=ule)
    win.start()
    log.info("GUI started")
    return app.exec()
