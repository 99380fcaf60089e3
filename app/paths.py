"""Where things live on disk, and logging that never carries personal data."""

from __future__ import annotations

import ctypes
import getpass
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from platformdirs import user_data_dir, user_documents_dir

APP_NAME = "siee-campo"


def default_data_dir() -> Path:
    return Path(user_data_dir(APP_NAME, appauthor=False))


def log_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "logs"


_configured: set[Path] = set()


def _private_dirs(data_dir: Path, logs: Path) -> None:
    """The data folder (when made here) and its logs folder, owner-only (0700 on POSIX,
    as app.core.private_files does for the rest of the data folder; this room imports
    nothing of app). The logs folder is tightened also when an older run or a
    cancelled first-run wizard left it readable by others."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.mkdir(mode=0o700, exist_ok=True)
    if os.name == "posix":
        os.chmod(logs, 0o700)


def setup_logging(data_dir: Path, level: int = logging.INFO) -> None:
    """Rotating English log under the data folder. Callers log ids and counts only."""
    d = log_dir(data_dir)
    if d in _configured:
        return
    try:
        _private_dirs(Path(data_dir), d)
        handler = logging.handlers.RotatingFileHandler(
            d / "siee-campo.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        if os.name == "posix":
            os.chmod(d / "siee-campo.log", 0o600)
    except OSError:
        return  # a read-only or missing folder must not stop the program
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("siee")
    root.setLevel(level)
    root.addHandler(handler)
    _configured.add(d)


def removable_media(roots: list[Path] | None = None) -> list[Path]:
    """Writable folders of mounted removable media (USB sticks), best first.

    Linux mounts them under /media/USER/ or /run/media/USER/, macOS under /Volumes/;
    on Windows they are the drive letters Windows reports as removable. `roots`: the
    mount folders to look in (tests), default the platform's."""
    if roots is None and sys.platform.startswith("win"):
        return _windows_removable()
    if roots is None:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = ""
        roots = [Path("/media") / who, Path("/run/media") / who, Path("/media"),
                 Path("/Volumes")] if who else [Path("/media"), Path("/Volumes")]
    found: list[Path] = []
    for root in roots:
        try:
            children = sorted(p for p in root.iterdir() if p.is_dir())
        except OSError:
            continue
        for p in children:
            if p.is_mount() and os.access(p, os.W_OK) and p not in found:
                found.append(p)
    return found


def _windows_removable() -> list[Path]:  # pragma: no cover - Windows only
    drive_removable = 2
    kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
    out = []
    for letter in "DEFGHIJKLMNOPQRSTUVWXYZ":
        root = f"{letter}:\\"
        if kernel.GetDriveTypeW(root) == drive_removable and os.access(root, os.W_OK):
            out.append(Path(root))
    return out


def same_disk(a: Path, b: Path) -> bool:
    """True when `a` (or its nearest existing parent) is on the same disk as `b`."""
    a = Path(a)
    while not a.exists() and a != a.parent:
        a = a.parent
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def backup_folder(data_dir: Path, media_roots: list[Path] | None = None) -> tuple[Path, bool]:
    """Where the backup screen proposes to write: (folder, off the laptop?).

    A mounted removable medium first (the guide: keep backups off the laptop);
    otherwise the user's documents folder (the XDG one on Linux) when it exists, else
    the home folder (a fresh Linux account has no ~/Documents, and a backup into a
    missing folder is refused: issue 17, IT's day), never the data folder; and False,
    so the screen warns that the copy must then be moved off the laptop."""
    media = removable_media(media_roots)
    if media:
        return media[0], True
    docs = Path(user_documents_dir())
    data = Path(data_dir).resolve()
    if not docs.is_dir() or docs.resolve() == data or data in docs.resolve().parents:
        docs = Path.home()
    return docs, False
