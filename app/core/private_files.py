"""Files readable by their owner only (0600 files, 0700 folders on POSIX; on Windows
the user's profile folder is already private): the laptop's database, backups and
data folder, and the centre's SQLite files and data folder (issue 19 item 4)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def make_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if missing; the folder itself readable by its owner
    only (0700 on POSIX; on Windows the user's profile folder is already private)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(path, PRIVATE_DIR)
    return path


def make_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if missing, else restrict it to 0600 (POSIX)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
        os.close(fd)
    except FileExistsError:
        if stat.S_IMODE(os.stat(path).st_mode) != PRIVATE_FILE:
            os.chmod(path, PRIVATE_FILE)


def private_database_files(path: Path) -> None:
    """The database and its -wal/-shm/-journal files readable by the owner only.

    SQLite creates the -wal and -shm files with the main file's mode, so a 0600
    database gets 0600 companions; ones left by an older program are tightened."""
    make_private_file(path)
    if os.name == "posix":
        for suffix in ("-wal", "-shm", "-journal"):
            extra = Path(str(path) + suffix)
            if extra.exists() and stat.S_IMODE(extra.stat().st_mode) != PRIVATE_FILE:
                os.chmod(extra, PRIVATE_FILE)
