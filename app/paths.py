"""Where things live on disk, and logging that never carries personal data."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "siee-campo"


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def log_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "logs"


_configured: set[Path] = set()


def setup_logging(data_dir: Path, level: int = logging.INFO) -> None:
    """Rotating English log under the data folder. Callers log ids and counts only."""
    d = log_dir(data_dir)
    if d in _configured:
        return
    try:
        d.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            d / "siee-campo.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return  # a read-only or missing folder must not stop the program
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("siee")
    root.setLevel(level)
    root.addHandler(handler)
    _configured.add(d)
