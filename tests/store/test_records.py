import sqlite3

import pytest

from app.core.errors import IntegrityFailure, NotAllowed, ValidationError
from app.store.db import DB_NAME
from tests.conftest import ADMIN_PW
from tests.store.hooks import PlainHooks

SECRET_NAMES = ["Zacarías Huamanchumo", "Filomena Quispicondori"]
SECRET_DNIS = ["40123456", "71234567"]


def _seed(ws, n=30):
    uuids = []
    for i in range(n):
        answers = {
            "head": f"{SECRET_NAMES[i % 2]} {i}",
            "dnis": [SECRET_DNIS[i % 2]] if i < 2 else [f"{50000000 + i}"],
            "direccion": "Jr. Huallaga 123",
        }
        u = ws.new_record("fsu", "1", answers)
        ws.save_answers(u, {**answers, "extra": "x" * 500})
        uuids.append(u)
    return uuids


def test_nothing_readable_on_disk(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    _seed(ws)
    ws.review.return_record  # noqa: B018 - keep the connection open so the WAL exists
    needles = [s.encode() for s in SECRET_NAMES + SECRET_DNIS + ["Huallaga"]]
    needles += [s.encode("utf-16-le") for s in SECRET_NAMES]
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith("-wal") for p in files)
    for p in files:
        blob = p.read_bytes()
        for needle in needles:
            assert needle not in blob, f"{needle!r} readable in {p.name}"
    ws.close()
    for p in (x for x in data_dir.rglob("*") if x.is_file()):
        for needle in needles:
            assert needle not in p.read_bytes()


def test_find_by_dni_uses_keyed_hash(ws_factory):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    uuids = _seed(ws)
    found = ws.find_by_dni("40123456-5")
    assert [m.uuid for m in found] == [uuids[0]]
    assert found[0].summary["head"].startswith(SECRET_NAMES[0])
    assert ws.find_by_dni("12345678") == []
    macs = ws.db.execute("SELECT mac FROM dni_index").fetchall()
    assert all(len(m[0]) == 32 for m in macs)


def test_find_by_dni_matches_other_digit_forms(ws_factory):
    """The same person typed with full-width digits is the same DNI in the index."""
    ws = ws_factory(hooks=PlainHooks(), create=True)
    u = ws.new_record("fsu", "1", {"head": "Ana", "dnis": ["４０１２３４５６"]})
    assert [m.uuid for m in ws.find_by_dni("40123456")] == [u]
    assert [m.uuid for m in ws.find_by_dni("４０１２３４５６")] == [u]


def test_flipped_byte_breaks_only_that_record(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    uuids = _seed(ws, 5)
    ws.close()
    con = sqlite3.connect(data_dir / DB_NAME)
    blob = bytearray(
        con.execute("SELECT answers FROM records WHERE uuid=?", (uuids[2],)).fetchone()[0]
    )
    blob[20] ^= 0x01
    sblob = bytearray(
        con.execute("SELECT summary FROM records WHERE uuid=?", (uuids[2],)).fetchone()[0]
    )
    sblob[-1] ^= 0x80
    con.execute(
        "UPDATE records SET answers=?, summary=? WHERE uuid=?",
        (bytes(blob), bytes(sblob), uuids[2]),
    )
    con.commit()
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    with pytest.raises(IntegrityFailure) as e:
        ws.load_answers(uuids[2])
    assert "dañada" in e.value.user_message
    listed = {m.uuid: m for m in ws.list_records()}
    assert listed[uuids[2]].damaged and not listed[uuids[1]].damaged
    for u in uuids[:2] + uuids[3:]:
        assert ws.load_answers(u)["direccion"] == "Jr. Huallaga 123"


def test_ciphertext_cannot_be_swapped_between_records(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    a, b = _seed(ws, 2)
    ws.close()
    con = sqlite3.connect(data_dir / DB_NAME)
    blob = con.execute("SELECT answers FROM records WHERE uuid=?", (a,)).fetchone()[0]
    con.execute("UPDATE records SET answers=? WHERE uuid=?", (blob, b))
    con.commit()
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    ws.load_answers(a)
    with pytest.raises(IntegrityFailure):
        ws.load_answers(b)


def test_return_round_trip_makes_a_new_revision(ws_factory):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.admin.add_user("sup", "supervisor", "clave-sup-1", must_change=False)
    ws.logout()
    ws.login("ana", "clave-ana-1")
    u = ws.new_record("fsu", "1", {"head": "Mamani", "bad": True})
    with pytest.raises(ValidationError) as e:
        ws.complete(u)
    assert e.value.errors == [{"path": "/x", "message": "falta"}]
    ws.save_answers(u, {"head": "Mamani", "odd": True})
    state, warnings = ws.complete(u)
    assert state == "COMPLETE" and len(warnings) == 1
    with pytest.raises(NotAllowed):
        ws.save_answers(u, {"head": "cambio"})
    ws.logout()
    ws.login("sup", "clave-sup-1")
    assert ws.get(u).warnings == 1
    with pytest.raises(ValidationError):
        ws.review.return_record(u, "   ")
    ws.review.return_record(
        u, "Falta la fecha de nacimiento del hijo", ["/fsu/integrantes[2]/fecha"]
    )
    ws.logout()
    ws.login("ana", "clave-ana-1")
    m = ws.get(u)
    assert m.state == "RETURNED" and m.revision == 1
    notes = ws.notes(u)
    assert notes["returns"][0]["reason"].startswith("Falta la fecha")
    assert notes["returns"][0]["questions"] == ["/fsu/integrantes[2]/fecha"]
    m = ws.save_answers(u, {"head": "Mamani", "fecha": "2010-01-01"})
    assert m.state == "DRAFT" and m.revision == 2
    assert ws.notes(u)["returns"][0]["revision"] == 1  # reasons stay with the record
    ws.complete(u)
    ws.logout()
    ws.login("sup", "clave-sup-1")
    ws.review.approve(u)
    m = ws.get(u)
    assert m.state == "QUEUED" and m.revision == 2
    assert ws.load_answers(u) == {"head": "Mamani", "fecha": "2010-01-01"}
    kept = ws.db.execute("SELECT revision FROM record_revisions WHERE uuid=?", (u,)).fetchall()
    assert kept == [(1,)]
    actions = [e.action for e in reversed(ws.history(u))]
    assert actions == [
        "create",
        "save",
        "complete",
        "return",
        "reopen",
        "save",
        "complete",
        "approve",
    ]
