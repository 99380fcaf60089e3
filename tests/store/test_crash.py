"""SIGKILL at random moments during saves: nothing that returned is lost,
the file stays sound and the audit chain verifies."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF, ROOT
from tests.store.hooks import PlainHooks


def _run_and_kill(data_dir: Path, seed: int, min_saves: int) -> dict[str, int]:
    """Start the child, kill -9 it at a random moment after min_saves; return the
    last acknowledged save number per record."""
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_child", str(data_dir), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    acked: dict[str, int] = {}
    count = 0
    target = min_saves + rng.randint(0, 60)
    lines: list[str] = []

    def reader() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while len(lines) < target and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.002)
    time.sleep(rng.random() * 0.02)  # land somewhere inside a later save
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t.join(5)
    for line in lines:
        if line.endswith("\n"):
            u, i = line.split()
            acked[u] = int(i)
            count += 1
    assert count >= min_saves, f"child made only {count} saves"
    return acked


def test_sigkill_during_saves_loses_nothing(tmp_path):
    data_dir = tmp_path / "d"
    ws, _ = Workspace.create(data_dir, "admin", ADMIN_PW, kdf=FAST_KDF, hooks=PlainHooks())
    ws.close()
    total = 0
    all_acked: dict[str, int] = {}
    for trial in range(5):
        acked = _run_and_kill(data_dir, seed=trial, min_saves=50)
        total += len(acked)
        all_acked.update(acked)
        ws = Workspace.open(data_dir, kdf=FAST_KDF, hooks=PlainHooks())
        assert ws.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ws.login("admin", ADMIN_PW)
        for u, i in all_acked.items():
            # The save after the last acknowledged one may have landed too.
            assert ws.load_answers(u)["i"] >= i
        rep = ws.admin.audit_verify()
        assert rep.ok, rep
        ws.close()
    saves = sum(1 for _ in all_acked)
    assert saves > 10 and total > 0
