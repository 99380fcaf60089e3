"""The admin CLI (siee-server / python -m server) against a running server's storage."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid

import pytest

from app.sync import protocol as p
from server.cli import main
from server.testing import REPO_ROOT
from tests.server.siee_client import Device


def cli(server, capsys, *args: str) -> tuple[int, str, str]:
    rc = main([*args, "--data", str(server.data_dir), "--db", server.db_url])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_enroll_code_and_devices(server, capsys):
    rc, out, err = cli(server, capsys, "enroll-code", "--ule", "150101")
    assert rc == 0 and "150101" in err
    dev = Device.enroll(server.url, out.strip())
    rc, out, _ = cli(server, capsys, "devices", "list", "--json")
    assert rc == 0
    assert dev.device_id in {d["device_id"] for d in json.loads(out)}
    rc, out, _ = cli(server, capsys, "devices", "list")
    assert dev.device_id in out
    rc, out, _ = cli(server, capsys, "devices", "revoke", dev.device_id, "--reason", "Baja")
    assert rc == 0
    assert dev.request("GET", "/v1/inbox").status_code == 403
    rc, _, err = cli(server, capsys, "devices", "revoke", dev.device_id)
    assert rc == 1 and "ya estaba" in err
    rc, _, err = cli(server, capsys, "enroll-code", "--ule", "12")
    assert rc == 1 and "6 dígitos" in err


def test_records_commands(server, capsys, device):
    recs = [device.record() for _ in range(2)]
    device.send(recs)
    rc, out, _ = cli(server, capsys, "records", "list", "--json")
    assert rc == 0 and {r.uuid for r in recs} <= {x["uuid"] for x in json.loads(out)}
    assert "answers" not in json.loads(out)[0]
    rc, out, _ = cli(server, capsys, "records", "show", recs[0].uuid)
    assert rc == 0 and json.loads(out)["answers"] == recs[0].answers
    rc, _, _ = cli(server, capsys, "records", "return", recs[0].uuid, "--reason",
                   "Falta la firma", "--reason", "Revise la edad")
    assert rc == 0
    rc, _, _ = cli(server, capsys, "records", "result", recs[1].uuid, "--category",
                   "pobre_extremo", "--date", "2026-11-27", "--valid-until", "2029-11-27")
    assert rc == 0
    kinds = {m.kind: m for m in device.inbox()}
    assert kinds["record_returned"].payload["reasons"] == ["Falta la firma", "Revise la edad"]
    assert kinds["cse_result"].payload["category"] == "pobre_extremo"
    rc, out, _ = cli(server, capsys, "records", "list", "--status", "returned")
    assert recs[0].uuid in out and recs[1].uuid not in out
    rc, _, err = cli(server, capsys, "records", "show", str(uuid.uuid4()))
    assert rc == 1 and "No existe" in err


def test_forms_and_settings_commands(server, capsys, device, tmp_path):
    from tests.server.test_server_api import make_xlsform

    version = f"c{uuid.uuid4().hex[:8]}"
    f = make_xlsform(tmp_path / "f.xlsx", form_id="cli_form", version=version)
    rc, out, _ = cli(server, capsys, "forms", "publish", str(f))
    assert rc == 0 and version in out
    rc, out, _ = cli(server, capsys, "forms", "list")
    assert version in out
    rc, out, _ = cli(server, capsys, "settings", "set", "approval_required=false",
                     "sync_interval_min=15", "--ule", "150101")
    assert rc == 0
    msgs = device.inbox()
    assert any(m.kind == "form_published" and m.payload["version"] == version for m in msgs)
    sets = [m for m in msgs if m.kind == "settings_changed"]
    assert sets[-1].payload["settings"] == {"approval_required": False, "sync_interval_min": 15}


def test_export_csv(server, capsys, device, tmp_path):
    recs = [device.record() for _ in range(2)]
    device.send(recs)
    out_file = tmp_path / "export.csv"
    rc, _, err = cli(server, capsys, "export", "--out", str(out_file))
    assert rc == 0 and "exportados" in err
    rows = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    by = {r["uuid"]: r for r in rows}
    assert {r.uuid for r in recs} <= set(by)
    assert json.loads(by[recs[0].uuid]["answers"]) == recs[0].answers
    rc, out, _ = cli(server, capsys, "export", "--no-answers", "--ule", "150101")
    assert rc == 0 and "answers" not in out.splitlines()[0]


def test_keys_command(server, capsys):
    rc, out, _ = cli(server, capsys, "keys")
    assert rc == 0 and server.signing_public in out and server.encryption_public in out
    # IT's day (issue 17): the short value the laptop shows, in the laptop's words
    fp = p.key_fingerprint(server.signing_public)
    assert f"Huella de la clave del servidor: {fp} (la que muestra cada laptop" in out
    for name in ("server_x25519.key", "server_ed25519.key"):
        assert (server.data_dir / name).stat().st_mode & 0o777 == 0o600


def test_import_batch_usb_same_as_upload(server, device, tmp_path):
    """A USB batch file is ingested exactly like an upload, and the receipt file verifies."""
    recs = [device.record() for _ in range(3)]
    env = device.batch(recs)
    batch_file = tmp_path / f"siee-batch-{env.batch_id}.sieb"
    batch_file.write_bytes(env.to_bytes())
    cmd = [sys.executable, "-m", "server", "import-batch", str(batch_file),
           "--data", str(server.data_dir), "--db", server.db_url]
    env_vars = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    res = subprocess.run(cmd, capture_output=True, text=True, env=env_vars, timeout=120,
                         cwd=str(REPO_ROOT))
    assert res.returncode == 0, res.stderr
    assert "3 aceptados" in res.stdout
    receipt_file = tmp_path / f"siee-receipt-{env.batch_id}.json"
    rc = p.verify_receipt(receipt_file.read_bytes(), device.server_signing_key)
    assert [x.status for x in rc.results] == ["accepted"] * 3
    # the same batch later over HTTP: identical receipt, nothing stored twice
    r = device.put_batch(env)
    assert r.status_code == 200 and r.content == receipt_file.read_bytes()
    # importing again gives the same receipt too
    out2 = tmp_path / "again.json"
    res = subprocess.run(cmd + ["--receipt", str(out2)], capture_output=True, text=True,
                         env=env_vars, timeout=120, cwd=str(REPO_ROOT))
    assert res.returncode == 0 and out2.read_bytes() == receipt_file.read_bytes()


@pytest.mark.parametrize("content,expect", [
    (b"garbage", "dañado"),
])
def test_import_batch_refuses_bad_file(server, capsys, tmp_path, content, expect):
    f = tmp_path / "bad.sieb"
    f.write_bytes(content)
    rc, _, err = cli(server, capsys, "import-batch", str(f))
    assert rc == 1 and expect in err
    rc, _, err = cli(server, capsys, "import-batch", str(tmp_path / "missing.sieb"))
    assert rc == 1 and "No se pudo leer" in err


def test_import_batch_from_unknown_device(server, capsys, tmp_path):
    stranger = Device(server.url, "dev-stranger", p.new_signing_key(), "150101",
                      server.signing_public, server.encryption_public)
    f = tmp_path / "x.sieb"
    f.write_bytes(stranger.batch([stranger.record()]).to_bytes())
    rc, _, err = cli(server, capsys, "import-batch", str(f))
    assert rc == 1 and "no está inscrito" in err
