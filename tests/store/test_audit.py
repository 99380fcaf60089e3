import sqlite3

import pytest

from app.store.db import DB_NAME
from tests.conftest import ADMIN_PW
from tests.store.hooks import PlainHooks


def test_chain_verifies_and_detects_tampering(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    for i in range(5):
        ws.new_record("fsu", "1", {"head": str(i)})
    rep = ws.admin.audit_verify()
    assert rep.ok and rep.entries == 1 + 5
    ws.close()
    con = sqlite3.connect(data_dir / DB_NAME)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE audit SET action='approve' WHERE seq=3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq=3")
    # Someone with raw file access drops the guard and edits history.
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET action='approve' WHERE seq=3")
    con.commit()
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.first_bad_seq == 3 and rep.entries == 2


def test_deleted_entry_breaks_chain(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    for i in range(3):
        ws.new_record("fsu", "1", {"head": str(i)})
    ws.close()
    con = sqlite3.connect(data_dir / DB_NAME)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE seq=2")
    con.commit()
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.first_bad_seq == 3


def test_details_are_encrypted(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.admin.add_user("sup", "supervisor", "clave-sup-1", must_change=False)
    ws.logout()
    ws.login("ana", "clave-ana-1")
    u = ws.new_record("fsu", "1", {"head": "A"})
    ws.complete(u)
    ws.logout()
    ws.login("sup", "clave-sup-1")
    ws.review.return_record(u, "Corregir apellido Huamanchumo")
    entry = ws.history(u)[0]
    assert entry.action == "return" and "Huamanchumo" in entry.detail["reason"]
    ws.close()
    for p in data_dir.rglob("*"):
        if p.is_file():
            assert b"Huamanchumo" not in p.read_bytes()
