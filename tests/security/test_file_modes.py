"""Issue 19 item 4 (file modes): the laptop's data folder, database, WAL and SHM,
backups and restored folders, and the server's data folder and SQLite files, are
readable by their owner only (POSIX; on Windows the profile folder is private)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.store.backup import restore_backup
from app.store.db import DB_NAME
from server.testing import running_server
from tests.conftest import ADMIN_PW
from tests.store.hooks import PlainHooks

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def _assert_db_files_private(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        f = Path(str(db) + suffix)
        assert f.exists(), f
        assert mode(f) == 0o600, (f, oct(mode(f)))


def test_laptop_folder_database_wal_shm_and_backups(ws_factory, data_dir, tmp_path):
    old = os.umask(0o022)  # the usual desktop umask: files would be 0644
    try:
        ws = ws_factory(hooks=PlainHooks(), create=True)
        ws.new_record("fsu", "1", {"head": "A"})
        assert mode(data_dir) == 0o700
        _assert_db_files_private(data_dir / DB_NAME)
        (tmp_path / "copias").mkdir()  # a backup goes to an existing folder (a USB stick)
        info = ws.admin.backup_to(tmp_path / "copias" / "respaldo.sieebak")
        assert mode(info.path) == 0o600
        ws.close()
        res = restore_backup(info.path, tmp_path / "restaurado", username="admin",
                             password=ADMIN_PW)
        assert mode(res.target) == 0o700
        assert mode(res.target / DB_NAME) == 0o600
    finally:
        os.umask(old)


def test_files_of_an_older_program_are_tightened(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.new_record("fsu", "1", {"head": "A"})
    ws.close()
    for p in (data_dir, data_dir / DB_NAME):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    ws.new_record("fsu", "1", {"head": "B"})
    assert mode(data_dir) == 0o700
    _assert_db_files_private(data_dir / DB_NAME)


def test_server_data_folder_and_sqlite_files(tmp_path):
    old = os.umask(0o022)
    try:
        data = tmp_path / "servidor"
        with running_server(data_dir=data, log_level="warning", rate_per_minute=0) as srv:
            srv.admin.enroll_code("150101")  # a write: the WAL exists
            assert mode(data) == 0o700
            _assert_db_files_private(data / "siee-server.db")
    finally:
        os.umask(old)
