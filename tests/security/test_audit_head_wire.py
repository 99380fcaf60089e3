"""Issue 19 item 3 (centre side): each signed batch carries the laptop's audit chain
head; the real server on loopback records it per device and flags a laptop whose
log went backwards — the case the laptop cannot see by itself (its chain cut
back to an earlier point together with the sealed head of that time)."""

from __future__ import annotations

import contextlib
import io
import json
import time
import zlib

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.sync import protocol as p
from server import audit_heads
from server.cli import main as cli_main
from tests.security.conftest import raw
from tests.sync.conftest import add_queued, fsu_version


def _batch(head):
    rec = p.BatchRecord(uuid="0" * 8 + "-0000-4000-8000-" + "0" * 12, revision=1,
                        form_id="fsu", form_version="1", ule_ubigeo="150101", author="a",
                        answers={}, completed_at="2026-01-01T00:00:00Z", approved_at=None)
    return p.build_batch([rec], "dev-1", Ed25519PrivateKey.generate(),
                         X25519PrivateKey.generate().public_key(), audit_head=head)


def test_header_field_is_optional_and_checked():
    env = p.parse_envelope(_batch((42, "ab" * 32)).to_bytes())
    assert env.header.audit_head == (42, "ab" * 32)
    old = p.parse_envelope(_batch(None).to_bytes())  # what older programs send
    assert old.header.audit_head is None
    bad = _batch(None)
    d = p.BatchHeader.to_dict(bad.header)
    for value in ({"seq": -1, "mac": "ab" * 32}, {"seq": 1, "mac": "xyz"}, {"seq": "1"}, 5):
        with pytest.raises(p.ProtocolError) as e:
            p.BatchHeader.from_dict({**d, "audit_head": value})
        assert e.value.code == "malformed_envelope"
    # The head is inside the signed header bytes.
    assert b"audit_head" in zlib.decompress(p.parse_envelope(
        _batch((1, "cd" * 32)).to_bytes()).header_bytes)


def _head_meta(w):
    return w.db.execute("SELECT value FROM meta WHERE key='audit_head'").fetchone()[0]


def test_centre_flags_a_log_that_went_backwards(ws, enrolled, server):
    engine = server.admin.service.engine
    add_queued(ws, 2, seed=3)
    assert enrolled.sync().outcome.delivered == 2
    s1 = ws.centre.ports.audit_head()[0]
    old_head = _head_meta(ws)
    for _ in range(15):  # work done after that sync, then sent
        ws.new_record("fsu", fsu_version(), {})
    add_queued(ws, 1, seed=4)
    assert enrolled.sync().outcome.delivered == 1
    assert audit_heads.alerts(engine) == []
    rc, out = _cli(server, "devices", "alerts")
    assert rc == 0 and "Ningún equipo tiene alertas de bitácora." in out
    assert "siee_audit_alert_devices 0" in _metrics(server)
    dev = ws.centre.device().device_id

    # Someone with the file cuts the log back to the first sync, head included.
    con = raw(ws.data_dir)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE seq > ?", (s1,))
    con.execute("UPDATE meta SET value=? WHERE key='audit_head'", (old_head,))
    con.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
                "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")
    con.close()
    # The laptop alone cannot tell (a consistent older state): that is the centre's part.
    assert ws.admin.audit_verify().ok

    time.sleep(1.1)  # batch times are whole seconds: this batch is the newer one
    add_queued(ws, 1, seed=5)
    assert enrolled.sync().outcome.delivered == 1
    found = audit_heads.alerts(engine)
    assert [a["device_id"] for a in found] == [dev]
    assert found[0]["alerts"] == 1 and "went backwards" in found[0]["last_alert"]
    # The centre's admin sees it: a command (Spanish) and the monitoring page.
    rc, out = _cli(server, "devices", "alerts")
    assert rc == 1, "a script must notice the alert by the exit code"
    assert "1 equipo(s) con alertas de bitácora" in out and dev in out
    assert "la bitácora retrocedió" in out and "went backwards" not in out
    rc, out = _cli(server, "devices", "alerts", "--json")
    assert rc == 1 and [a["device_id"] for a in json.loads(out)] == [dev]
    text = _metrics(server)
    assert "siee_audit_alert_devices 1" in text and "siee_audit_alerts 1" in text


def _cli(server, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli_main([*args, "--data", str(server.data_dir), "--db", server.db_url])
    return rc, out.getvalue()


def _metrics(server) -> str:
    return requests.get(server.url + "/metrics", timeout=30).text


def test_alert_texts_in_spanish():
    assert audit_heads.describe_es(
        "audit log rewritten: batch b2 reports entry 7 with another MAC than batch b1"
    ) == "la bitácora fue reescrita: el lote b2 informa la entrada 7 con otro sello que el lote b1"
    assert audit_heads.describe_es("something new") == "something new"
