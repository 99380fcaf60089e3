"""`python -m app sync ...` as IT runs it, against the real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from server.cli import import_batch
from tests.conftest import ADMIN_PW
from tests.sync.conftest import ULE, add_queued, assert_exactly_once

ROOT = Path(__file__).resolve().parents[2]


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": ADMIN_PW}
    return subprocess.run([sys.executable, "-m", "app", "sync", *args, "--data", str(data)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_sync_commands(ws, server, tmp_path):
    data = ws.data_dir
    r = _cli(data, "status")
    assert r.returncode == 0 and "no inscrito" in r.stdout
    r = _cli(data, "enroll", "--server", server.url, "--code", "XXXX-YYYY-ZZZZ")
    assert r.returncode == 1 and "código de inscripción no es válido" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli(data, "enroll", "--server", server.url, "--code", server.admin.enroll_code(ULE))
    assert r.returncode == 0 and "Equipo inscrito" in r.stdout, r.stderr
    uuids = add_queued(ws, 15, seed=501)
    r = _cli(data, "now")
    assert r.returncode == 0 and "Se enviaron 15 registros." in r.stdout, r.stderr
    more = add_queued(ws, 4, seed=502)
    usb = tmp_path / "usb"
    usb.mkdir()
    r = _cli(data, "export-batch", str(usb))
    assert r.returncode == 0, r.stderr
    (batch,) = [Path(x) for x in r.stdout.split()]
    assert import_batch(server.admin.service, batch, None) == 0
    receipt = next(usb.glob("siee-receipt-*.json"))
    r = _cli(data, "import-receipt", str(receipt))
    assert r.returncode == 0 and "Se enviaron 4 registros" in r.stdout, r.stderr
    r = _cli(data, "import-receipt", str(receipt))
    assert "no cambió nada" in r.stdout
    r = _cli(data, "status", "--json")
    st = json.loads(r.stdout)
    assert st["delivered"] == 19 and st["pending"] == 0 and st["enrolled"]
    r = _cli(data, "log")
    assert "Se enviaron 15 registros." in r.stdout
    assert_exactly_once(server, ws, uuids + more)
