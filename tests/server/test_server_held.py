"""`siee-server held release`: a record held because the centre did not hold its form
version is checked again and stored once that version is published (issue 20 session 4
item 3). The real server on loopback (SQLite and PostgreSQL), the real CLI."""

from __future__ import annotations

import contextlib
import io
import json
import logging

from app.sync import protocol as p
from server.cli import main as cli_main

VERSION = "7"
FORM_V7 = """
| survey |
| | type | name | label | constraint | constraint_message |
| | text | nota | Nota | | |
| | integer | edad | Edad | . < 130 | Edad imposible |

| settings |
| | form_id | name | version | form_title |
| | s100 | s100 | 7 | S100 de prueba, versión 7 |
"""


def _cli(server, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli_main([*args, "--data", str(server.data_dir), "--db", server.db_url])
    return rc, out.getvalue(), err.getvalue()


def _held(server) -> set[str]:
    return {h["uuid"] for h in server.admin.held_records()}


def _stored(server) -> dict[str, dict]:
    return {r["uuid"]: r for r in server.admin.list_records(limit=100000)}


def test_held_records_are_released_once_their_version_is_published(server, device, tmp_path,
                                                                    caplog):
    good = device.record(form_version=VERSION, answers={"/s100/nota": "Ñandú",
                                                        "/s100/edad": 41})
    bad = device.record(form_version=VERSION, answers={"/s100/edad": 200})
    receipt = device.send([good, bad])
    assert {r.status for r in receipt.results} == {"conflict"}
    assert {good.uuid, bad.uuid} <= _held(server)

    # Not yet: the version is still unknown, the record stays held.
    rc, _out, err = _cli(server, "held", "release", good.uuid)
    assert rc == 1 and "sigue sin la versión «7»" in err and "forms publish" in err
    assert good.uuid in _held(server) and good.uuid not in _stored(server)

    form = tmp_path / "s100-v7.md"
    form.write_text(FORM_V7, encoding="utf-8")
    server.admin.publish_form(form)

    caplog.set_level(logging.INFO, logger="siee.server.batches")
    rc, out, err = _cli(server, "held", "release", good.uuid)
    assert rc == 0, err
    assert f"Ficha {good.uuid} (revisión 1) registrada." in out
    stored = _stored(server)[good.uuid]
    assert (stored["device_id"], stored["form_version"], stored["status"]) == (
        device.device_id, VERSION, "received")
    assert stored["content_sha256"] == good.content_hash()
    assert server.admin.get_record(good.uuid)["answers"] == good.answers
    assert good.uuid not in _held(server)
    # audited: who released which record (ids only, no answers)
    line = next(r.getMessage() for r in caplog.records if "released by" in r.getMessage())
    assert good.uuid in line and "accepted" in line and "Ñandú" not in line

    # The laptop sending it again is told the centre holds it (delivered, not stored twice).
    again = device.send([good])
    assert again.results[0].status == "duplicate"
    assert list(_stored(server)).count(good.uuid) == 1

    # --all: the invalid one is checked with version 7 and stays held, with the reason.
    rc, out, _err = _cli(server, "held", "release", "--all", "--json")
    results = {r["uuid"]: r for r in json.loads(out)}
    assert rc == 1
    assert results[bad.uuid]["status"] == "held" and results[bad.uuid]["code"] == "invalid"
    assert "Edad imposible" in results[bad.uuid]["message"]
    assert bad.uuid in _held(server) and bad.uuid not in _stored(server)

    # Released already: nothing to release.
    rc, _out, err = _cli(server, "held", "release", good.uuid)
    assert rc == 1 and "No hay una ficha retenida" in err


def test_release_keeps_ownership_and_refuses_a_changed_revision(server, device, tmp_path):
    """A held revision the centre meanwhile holds with other content is not stored."""
    form = tmp_path / "s100-v7.md"
    form.write_text(FORM_V7, encoding="utf-8")
    if VERSION not in {f["version"] for f in server.admin.list_forms()
                       if f["form_id"] == "s100"}:
        server.admin.publish_form(form)
    rec = device.record(form_version="8", answers={"/s100/nota": "primera"})
    assert device.send([rec]).results[0].status == "conflict"  # held: version 8 unknown
    # The same uuid and revision stored with other content (version 7, known).
    other = p.BatchRecord(**{**rec.to_dict(), "form_version": VERSION,
                             "answers": {"/s100/nota": "otra"}})
    assert device.send([other]).results[0].status == "accepted"
    form8 = tmp_path / "s100-v8.md"
    form8.write_text(FORM_V7.replace("| s100 | s100 | 7 |", "| s100 | s100 | 8 |"), "utf-8")
    server.admin.publish_form(form8)
    rc, _out, err = _cli(server, "held", "release", rec.uuid)
    assert rc == 1 and "otro contenido" in err
    assert rec.uuid in _held(server)
    assert _stored(server)[rec.uuid]["content_sha256"] == other.content_hash()
