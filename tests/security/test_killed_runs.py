"""Issue 19 item 9: a demo-data run killed at any moment leaves whole households
(one transaction per household), and a backup run killed after writing its
complete ``.parcial`` file is finished at the next start (an incomplete one is
removed). Real processes killed with SIGKILL; real files."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from app.store.backup import inspect_backup, restore_backup
from app.store.db import DB_NAME
from tests.conftest import ADMIN_PW, ROOT

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "SIEE_USER": "admin",
            "SIEE_PASSWORD": ADMIN_PW, "QT_QPA_PLATFORM": "offscreen"}


def _counts(data_dir) -> dict[str, int]:
    con = sqlite3.connect(f"file:{data_dir / DB_NAME}?mode=ro", uri=True, timeout=10)
    try:
        return dict(con.execute("SELECT form_id, COUNT(*) FROM records GROUP BY form_id"))
    finally:
        con.close()


def test_killed_demo_data_leaves_whole_households(ws_factory, data_dir):
    ws_factory(create=True).close()
    rng = random.Random(19)
    for _run in range(3):
        before = sum(_counts(data_dir).values())
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "demo-data", "--data", str(data_dir),
             "--households", "400"],
            env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while sum(_counts(data_dir).values()) < before + 6 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.5))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        c = _counts(data_dir)
        assert sum(c.values()) > before, "the run was killed before it wrote anything"
        assert c.get("s100", 0) == c.get("fsu", 0), c
    ws = ws_factory()
    ws.login("admin", ADMIN_PW)
    assert ws.admin.audit_verify().ok


_KILLED_BACKUP = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import app.store.backup as b
    from app.workspace import Workspace

    def die(src, dst):  # killed after the complete partial file, before the rename
        os.kill(os.getpid(), 9)

    b.os.replace = die
    ws = Workspace.open(Path(sys.argv[1]))
    ws.login("admin", os.environ["SIEE_PASSWORD"])
    ws.admin.backup_to(Path(sys.argv[2]))
""")


def _killed_backup(data_dir, target) -> None:
    p = subprocess.run([sys.executable, "-c", _KILLED_BACKUP, str(data_dir), str(target)],
                       env=_env(), cwd=ROOT, capture_output=True, timeout=120)
    assert p.returncode == -9, p.stderr.decode()[-2000:]


def test_complete_partial_backup_is_finished_at_next_start(ws_factory, data_dir, tmp_path):
    ws = ws_factory(create=True)
    ws.new_record("fsu", "1", {})
    ws.close()
    target = tmp_path / "usb" / "respaldo.sieebak"
    target.parent.mkdir()
    _killed_backup(data_dir, target)
    partial = target.with_name(target.name + ".parcial")
    assert partial.exists() and not target.exists()
    ws = ws_factory()
    ws.login("admin", ADMIN_PW)
    assert target.exists() and not partial.exists()
    stale = ws.admin.audit_entries(action="backup_stale")
    assert [e.detail["outcome"] for e in stale] == ["finished"]
    assert inspect_backup(target).counts == {"DRAFT": 1}
    ws.close()
    res = restore_backup(target, tmp_path / "restaurado", username="admin", password=ADMIN_PW)
    assert res.records == 1


def test_incomplete_partial_backup_is_removed_at_next_start(ws_factory, data_dir, tmp_path):
    ws = ws_factory(create=True)
    ws.new_record("fsu", "1", {})
    ws.close()
    target = tmp_path / "respaldo.sieebak"
    _killed_backup(data_dir, target)
    partial = target.with_name(target.name + ".parcial")
    with open(partial, "r+b") as f:  # as if killed in the middle of writing
        f.truncate(partial.stat().st_size // 2)
    ws = ws_factory()
    ws.login("admin", ADMIN_PW)
    assert not partial.exists() and not target.exists()
    stale = ws.admin.audit_entries(action="backup_stale")
    assert [e.detail["outcome"] for e in stale] == ["removed"]
    ws.logout()
    ws.login("admin", ADMIN_PW)  # handled once
    assert len(ws.admin.audit_entries(action="backup_stale")) == 1
