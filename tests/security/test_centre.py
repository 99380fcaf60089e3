"""Attacks on the centre (issue 19, server side), against a real server on loopback:
record takeover by another device, replays spent against the genuine laptop, enrollment
guessing, huge files read whole."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from app.sync import protocol as p
from server.testing import REPO_ROOT, running_server
from tests.server.siee_client import Device

ULE_A, ULE_B = "150101", "150102"


@pytest.fixture(scope="module")
def srv():
    with running_server(log_level="warning", rate_per_minute=20, enroll_per_address=10,
                        enroll_per_minute=120) as s:
        yield s


def test_another_ule_cannot_take_over_a_record(srv):
    owner = Device.enroll(srv.url, srv.admin.enroll_code(ULE_A))
    intruder = Device.enroll(srv.url, srv.admin.enroll_code(ULE_B))
    rec = owner.record()
    assert owner.send([rec]).results[0].status == "accepted"
    # the uuid is not secret: the intruder sends it as revision 2 with its own ULE
    takeover = intruder.record(uuid=rec.uuid, revision=2, ule_ubigeo=ULE_B)
    res = intruder.send([takeover]).results[0]
    assert res.status != "accepted" and "otra ULE" in res.reasons[0]
    # the result goes to the owner, never to the intruder
    srv.admin.post_result(rec.uuid, None, "pobre", "2026-11-30", "2029-11-30")
    assert any(m.kind == "cse_result" and m.payload["uuid"] == rec.uuid
               for m in owner.inbox())
    assert not any(m.payload.get("uuid") == rec.uuid for m in intruder.inbox())
    # even after a return, only the owning ULE may send the new revision
    rec2 = owner.record()
    assert owner.send([rec2]).results[0].status == "accepted"
    srv.admin.return_record(rec2.uuid, None, ["Falta la firma."])
    res = intruder.send([intruder.record(uuid=rec2.uuid, revision=2, ule_ubigeo=ULE_B)])
    assert res.results[0].status != "accepted"
    for uuid in (rec.uuid, rec2.uuid):
        stored = srv.admin.get_record(uuid)
        assert stored["revision"] == 1 and stored["ule_ubigeo"] == ULE_A
    assert not any(m.payload.get("uuid") == rec2.uuid for m in intruder.inbox())


def test_same_ule_revision_only_after_a_return_and_replacement_laptop_works(srv):
    first = Device.enroll(srv.url, srv.admin.enroll_code(ULE_A))
    rec = first.record()
    assert first.send([rec]).results[0].status == "accepted"
    colleague = Device.enroll(srv.url, srv.admin.enroll_code(ULE_A))
    early = colleague.send([colleague.record(uuid=rec.uuid, revision=2)]).results[0]
    assert early.status == "conflict"
    assert srv.admin.get_record(rec.uuid)["revision"] == 1
    # the laptop is replaced (restored from backup on a new enrollment): after the
    # centre returns the record, the replacement sends the correction
    srv.admin.revoke_device(first.device_id, "reemplazada")
    replacement = Device.enroll(srv.url, srv.admin.enroll_code(ULE_A))
    srv.admin.return_record(rec.uuid, None, ["Corrija la dirección."])
    assert any(m.kind == "record_returned" for m in replacement.inbox())
    res = replacement.send([replacement.record(uuid=rec.uuid, revision=2)]).results[0]
    assert res.status == "accepted"
    assert srv.admin.get_record(rec.uuid)["revision"] == 2
    # an older revision after a newer one is refused
    res = replacement.send([replacement.record(uuid=rec.uuid, revision=1,
                                               answers={"x": "y"})]).results[0]
    assert res.status == "conflict"


def test_captured_request_replayed_does_not_lock_the_laptop_out(srv):
    dev = Device.enroll(srv.url, srv.admin.enroll_code(ULE_A))
    headers = p.sign_request("GET", "/v1/inbox", b"", dev.device_id, dev.key)
    assert requests.get(srv.url + "/v1/inbox", headers=headers, timeout=30).status_code == 200
    for _ in range(60):  # 3x the device's quota of 20 per minute
        r = requests.get(srv.url + "/v1/inbox", headers=headers, timeout=30)
        assert r.status_code == 401 and r.json()["code"] == "replayed_nonce"
    forged = Device(dev.base_url, dev.device_id, p.new_signing_key(), dev.ule,
                    dev.server_signing_key, dev.server_encryption_key)
    for _ in range(30):
        assert forged.request("GET", "/v1/inbox").json()["code"] == "bad_signature"
    assert dev.request("GET", "/v1/inbox").status_code == 200


def test_enrollment_guessing_is_limited(srv):
    key = p.new_signing_key()
    statuses = [requests.post(srv.url + "/v1/enroll", timeout=30,
                              json=p.enrollment_request(f"GUESS-{i:06d}", key, "x")).status_code
                for i in range(40)]
    assert 429 in statuses and statuses.count(403) <= 10
    last = requests.post(srv.url + "/v1/enroll", timeout=30,
                         json=p.enrollment_request("GUESS-LAST", key, "x"))
    assert last.status_code == 429 and "inscripción" in last.json()["message"]


# Runs `python -m server ...` and, on the way out, writes the process's own peak
# memory (VmHWM, KiB). ru_maxrss from wait4 would count the test runner's memory
# that the child held between fork and exec.
_MEASURED = """
import os, runpy, sys
sys.argv = ["server", *sys.argv[1:]]
try:
    runpy.run_module("server", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as f:
        hwm = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["SIEE_TEST_HWM_FILE"], "w") as out:
        out.write(hwm)
"""


def _run_measured(args: list[str], tmp_path) -> tuple[int, str, int]:
    """Run `python -m server ARGS`; (exit code, stderr, peak memory in KiB)."""
    hwm = tmp_path / "hwm.txt"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), SIEE_TEST_HWM_FILE=str(hwm))
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], cwd=str(REPO_ROOT),
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=300)
    return proc.returncode, proc.stderr.decode(errors="replace"), int(hwm.read_text())


def test_huge_usb_files_are_refused_before_reading(srv, tmp_path):
    big = tmp_path / "siee-lote-enorme.siee"
    with open(big, "wb") as fh:  # a sparse 1.5 GB file: no disk used, 1.5 GB if read
        fh.truncate(1536 << 20)
    rc, err, peak = _run_measured(["import-batch", str(big), "--data", str(srv.data_dir),
                                   "--db", srv.db_url], tmp_path)
    assert rc == 1 and "demasiado grande" in err and "MiB" in err
    assert peak < 400 * 1024, peak  # KiB: far below the file's size
    req = tmp_path / (p.INBOX_REQUEST_PREFIX + "dev-x.json")
    with open(req, "wb") as fh:
        fh.truncate(1536 << 20)
    rc, err, peak = _run_measured(["export-inbox", str(req), "--data", str(srv.data_dir),
                                   "--db", srv.db_url], tmp_path)
    assert rc == 1 and "demasiado grande" in err and "KiB" in err
    assert peak < 400 * 1024, peak
    form = tmp_path / "enorme.xlsx"
    with open(form, "wb") as fh:
        fh.truncate(1536 << 20)
    rc, err, _ = _run_measured(["forms", "publish", str(form), "--data", str(srv.data_dir),
                                "--db", srv.db_url], tmp_path)
    assert rc == 1 and "demasiado grande" in err
