"""The server's data folder and SQLite files readable by their owner only.

The folder holds the server's private keys (already 0600), its SQLite database
with the records, and the published forms. On POSIX the folder is made 0700 and
the database file 0600 before SQLite opens it (SQLite then creates the -wal and
-shm files with the database file's mode); files left by an older version are
tightened at start. With PostgreSQL the database files belong to the PostgreSQL
server and its own settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from app.core.private_files import make_private_dir, private_database_files


def sqlite_path(db_url: str) -> Path | None:
    """The database file of a sqlite URL; None for other databases or in-memory."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def make_private(data_dir: Path, db_url: str) -> None:
    """Create or tighten the data folder (0700) and the SQLite database files (0600)."""
    make_private_dir(Path(data_dir))
    path = sqlite_path(db_url)
    if path is not None:
        make_private_dir(path.parent)
        private_database_files(path)
