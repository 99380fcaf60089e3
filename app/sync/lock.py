"""One sync at a time per data folder, across windows, threads and processes.

The lock is an open SQLite connection holding BEGIN EXCLUSIVE on
DATA_DIR/sync.lock: the operating system releases it when the process ends,
even when killed, and SQLite's file locking works the same on Windows."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from types import TracebackType

from app.sync.model import SyncBusy

LOCK_NAME = "sync.lock"
# How long a try waits for the lock file at least: two windows trying at the same moment
# each hold it briefly while starting (the journal-mode statement reads the file), and
# without a wait both gave up and neither synced.
GRACE_S = 0.5


class SyncLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._conn: sqlite3.Connection | None = None
        self._mutex = threading.Lock()

    def acquire(self, timeout: float = 0.0) -> None:
        """Take the lock or raise SyncBusy (after waiting up to `timeout` seconds, and
        at least GRACE_S: of two windows trying at once, one gets it)."""
        with self._mutex:
            if self._conn is not None:
                raise SyncBusy()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=max(GRACE_S, timeout),
                                   isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("BEGIN EXCLUSIVE")
                # An exclusive lock is only really held once the file is written to.
                conn.execute("CREATE TABLE IF NOT EXISTS holder(x)")
            except sqlite3.OperationalError:
                conn.close()
                raise SyncBusy() from None
            self._conn = conn

    def release(self) -> None:
        with self._mutex:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute("ROLLBACK")
            finally:
                conn.close()

    @property
    def held(self) -> bool:
        return self._conn is not None

    def __enter__(self) -> SyncLock:
        self.acquire()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
