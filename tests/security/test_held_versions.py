"""Issue 19 item 6: a record whose form version the centre does not hold cannot be
validated, so it is held apart (never stored as a received, valid record), the
centre sees it (`siee-server held list`, /metrics) and the laptop is told: its
record stays set apart (quarantined) with the reason. The real server on loopback,
a real enrolled workspace."""

from __future__ import annotations

import contextlib
import io
import json
import time
import uuid as uuidlib

import requests
from sqlalchemy import text

from app.store.db import transaction
from app.store.records import RecordMeta
from app.sync import protocol as p
from server.cli import main as cli_main
from tests.server.siee_client import Device
from tests.sync.conftest import ULE, add_queued, fsu_version

UNHELD = "9999.9"


def _cli(server, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli_main([*args, "--data", str(server.data_dir), "--db", server.db_url])
    return rc, out.getvalue()


def _stored(server) -> set[str]:
    return {r["uuid"] for r in server.admin.list_records(limit=100000)}


def test_unknown_versions_are_held_not_accepted(server):
    """The attack of the issue: arbitrary answers under a made-up version, and empty
    answers under another; both used to be accepted as valid."""
    dev = Device.enroll(server.url, server.admin.enroll_code(ULE))
    forged = dev.record(form_id="fsu", form_version=UNHELD,
                        answers={"/fsu/cualquier": "cosa", "nombre": "Quispe"})
    empty = [dev.record(form_id="fsu", form_version="0.0.1", answers={}) for _ in range(3)]
    good = dev.record()  # the test form s100 version 1, published by running_server
    env = dev.batch([forged, *empty, good])
    receipt = p_verify(dev, dev.put_batch(env))
    status = {r.uuid: r for r in receipt.results}
    assert status[good.uuid].status == "accepted"
    for rec in (forged, *empty):
        res = status[rec.uuid]
        assert res.status == "conflict", res
        assert "no tiene la versión" in res.reasons[0] and rec.form_version in res.reasons[0]
    assert _stored(server) & {r.uuid for r in (forged, *empty)} == set()
    held = {h["uuid"]: h for h in server.admin.held_records(with_answers=True)}
    assert held[forged.uuid]["form_version"] == UNHELD
    assert held[forged.uuid]["answers"] == forged.answers
    assert held[forged.uuid]["device_id"] == dev.device_id
    assert all(held[r.uuid]["form_version"] == "0.0.1" for r in empty)
    # The same batch again: the same receipt, nothing held twice.
    again = dev.put_batch(env)
    assert again.status_code == 200 and again.content == dev.put_batch(env).content
    assert len([h for h in server.admin.held_records() if h["uuid"] == forged.uuid]) == 1
    # The centre sees them: command (Spanish) and the monitoring page.
    rc, out = _cli(server, "held", "list")
    assert rc == 0 and forged.uuid in out and f"fsu {UNHELD}" in out
    assert "siee-server forms publish" in out
    rc, out = _cli(server, "held", "list", "--json")
    assert {forged.uuid, *(r.uuid for r in empty)} <= {h["uuid"] for h in json.loads(out)}
    assert "answers" not in json.loads(out)[0]
    metrics = requests.get(server.url + "/metrics", timeout=30).text
    line = next(x for x in metrics.splitlines() if x.startswith("siee_held_records "))
    assert int(line.split()[1]) >= 4


def p_verify(dev: Device, r: requests.Response) -> p.Receipt:
    assert r.status_code == 200, r.text
    return p.verify_receipt(r.content, dev.server_signing_key)


def test_held_answers_are_sealed_at_rest(server):
    dev = Device.enroll(server.url, server.admin.enroll_code(ULE))
    marker = f"Huamani-{uuidlib.uuid4().hex[:8]}"
    rec = dev.record(form_id="fsu", form_version=UNHELD, answers={"jefe": marker})
    assert dev.send([rec]).results[0].status == "conflict"
    with server.admin.service.engine.connect() as c:
        raw = c.execute(text("SELECT answers FROM held_records WHERE uuid=:u"),
                        {"u": rec.uuid}).scalar_one()
    assert marker not in raw


def test_the_laptop_is_told_and_keeps_the_record_apart(ws, enrolled, server):
    (valid,) = add_queued(ws, 1, seed=11)
    now = time.time()
    m = RecordMeta(uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu", form_version=UNHELD,
                   state="QUEUED", created_at=now, updated_at=now, author_id=ws.user.id,
                   assignee_id=None, ule_ubigeo=ULE, completed_at=now, approved_at=now)
    with transaction(ws.db) as conn:
        ws.records.insert(conn, m, {"/fsu/lo_que_sea": "x"}, {})
    out = enrolled.sync().outcome
    assert out.delivered == 1 and out.conflict == 1
    st = ws.centre.status()
    assert st.quarantined == 1 and st.pending == 0
    kept = ws.get(m.uuid)
    assert kept.quarantined and kept.state.value == "QUEUED"
    notes = ws.records.notes(ws.db.conn, kept)
    assert UNHELD in notes["quarantine"] and "sede central" in notes["quarantine"]
    assert ws.get(valid).state.value == "DELIVERED"
    assert m.uuid not in _stored(server)
    assert m.uuid in {h["uuid"] for h in server.admin.held_records()}
    # Held at the centre, the record is not sent again by the next sync.
    assert enrolled.sync().outcome.sent == 0
    assert fsu_version() != UNHELD
