"""Attack suite fixtures: real SQLite files edited with the sqlite3 module, as an
attacker holding the laptop's files would; real workspaces and (where the centre
is involved) the real reference server on loopback (tests/sync/conftest.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.store.db import DB_NAME
from tests.sync.conftest import enrolled, server, ws  # noqa: F401 - the sync fixtures


def raw(data_dir: Path) -> sqlite3.Connection:
    """The workspace database opened outside the program (no keyed functions)."""
    return sqlite3.connect(Path(data_dir) / DB_NAME, isolation_level=None)


def drop_guards(con: sqlite3.Connection) -> None:
    """What an attacker does first: remove the triggers that refuse or re-seal edits."""
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
