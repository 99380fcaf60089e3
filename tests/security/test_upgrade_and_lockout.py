"""Issue 19 item 2, continued: a database written by the program before row MACs
gets them once, at its first unlock (the key is not known earlier), and never
again; a reset of the log-in lock-out counters is noticed at the next log-in."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from app.cli.doctor import doctor_report, format_report, integrity_alarm
from app.core.errors import AuthError
from app.store import crypto
from app.store.audit import GENESIS, _mac
from app.store.db import DB_NAME, MIGRATIONS, schema_version
from app.store.records import RecordMeta, RecordStore
from app.store.vault import Vault
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.security.conftest import drop_guards, raw
from tests.store.hooks import PlainHooks


def _old_workspace(data_dir: Path, n: int) -> list[str]:
    """A data folder as the program before migration 4 left it: schema 3, records
    without row_mac, an audit chain from the first genesis value and no sealed head."""
    data_dir.mkdir(parents=True)
    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    db = sqlite_utils.Database(conn)
    for version, m in enumerate(MIGRATIONS[:3], 1):
        m(db)
        conn.execute(f"PRAGMA user_version={version}")
    key, _code, uid = Vault(db, kdf=FAST_KDF).initialize("admin", ADMIN_PW)
    sealer = crypto.Sealer(crypto.subkey(key, "records"))
    akey = crypto.subkey(key, "audit")
    store = RecordStore(sealer, crypto.subkey(key, "dni-index"))
    prev, seq, now = GENESIS, 0, time.time()

    def old_append(action: str, uuid: str | None) -> None:
        nonlocal prev, seq
        seq += 1
        mac = _mac(akey, prev, seq, now, uid, action, uuid, None)
        conn.execute("INSERT INTO audit(seq, ts, user_id, action, record_uuid, detail, mac) "
                     "VALUES (?,?,?,?,?,?,?)", (seq, now, uid, action, uuid, None, mac))
        prev = mac

    conn.execute("INSERT INTO meta(key, value) VALUES ('workspace_id', 'w-old')")
    conn.execute("INSERT INTO meta(key, value) VALUES ('settings', ?)",
                 (json.dumps({"ule_ubigeo": "150101"}),))
    old_append("init", None)
    out = []
    for i in range(n):
        m = RecordMeta(uuid=f"00000000-0000-4000-8000-{i:012d}", revision=1, form_id="fsu",
                       form_version="1", state="QUEUED" if i % 2 else "DRAFT",
                       created_at=now, updated_at=now, author_id=uid, assignee_id=None,
                       ule_ubigeo="150101", approved_at=now if i % 2 else None)
        store.insert(conn, m, {"head": str(i)}, {"head": str(i)})
        old_append("create", m.uuid)
        out.append(m.uuid)
    conn.close()
    return out


def test_old_database_is_sealed_once_at_first_unlock(ws_factory, data_dir):
    uuids = _old_workspace(data_dir, 6)
    ws = ws_factory(hooks=PlainHooks())
    assert schema_version(ws.db) == len(MIGRATIONS)
    # Before a log-in nothing can be sealed: the rows still have no MAC.
    assert ws.db.execute("SELECT COUNT(*) FROM records WHERE row_mac IS NULL").fetchone()[0] == 6
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert rep.ok, rep.message
    init = ws.admin.audit_entries(action="integrity_init")
    assert len(init) == 1 and init[0].detail == {"rows": 6}
    assert ws.centre.status().pending == 3 and ws.centre.status().damaged == 0
    assert not any(m.damaged for m in ws.list_records())
    ws.close()

    # After the switch, a row stripped of its MAC (to get it re-sealed) is damage.
    con = raw(data_dir)
    drop_guards(con)
    con.execute("UPDATE records SET state='DELIVERED', row_mac=NULL WHERE uuid=?", (uuids[1],))
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    assert len(ws.admin.audit_entries(action="integrity_init")) == 1
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.damaged_records == (uuids[1],)
    assert ws.centre.status().damaged == 1


def test_old_database_edited_before_upgrade_is_not_sealed(ws_factory, data_dir):
    """A chain that fails before the upgrade gives no ground to trust the rows."""
    _old_workspace(data_dir, 2)
    con = raw(data_dir)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET action='approve' WHERE seq=2")
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    assert ws.admin.audit_entries(action="integrity_init") == []
    rep = ws.admin.audit_verify()
    assert not rep.ok and len(rep.damaged_records) == 2


@pytest.fixture
def with_ana(ws_factory):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws_factory.code = ws.recovery_code
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.logout()
    ws.login("admin", ADMIN_PW)  # the failure totals are sealed at each log-in
    ws.close()
    ws = ws_factory(hooks=PlainHooks())
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong password"):
            ws.login("ana", "mala-clave")
    ws.close()
    return ws_factory


@pytest.mark.parametrize(
    "edit, why",
    [
        ("UPDATE users SET failed_attempts=0, locked_until=0 WHERE username='ana'",
         "lockout_reset"),
        ("UPDATE users SET failed_attempts=0, failures_total=1 WHERE username='ana'",
         "counter_lowered"),
        ("DELETE FROM auth_events", "failures_erased"),
    ],
)
def test_counter_reset_is_noticed_at_next_log_in(with_ana, data_dir, edit, why):
    if why == "counter_lowered":
        ws = with_ana(hooks=PlainHooks())
        ws.login("admin", ADMIN_PW)  # seals ana's 3 failures as the anchor
        ws.close()
    con = raw(data_dir)
    con.execute(edit)
    con.close()
    ws = with_ana(hooks=PlainHooks())
    ws.login("ana", "clave-ana-1")
    ws.logout()
    ws.login("admin", ADMIN_PW)
    found = ws.admin.audit_entries(action="auth_tampered")
    assert len(found) == 1 and found[0].detail["why"] == why and found[0].detail["user"] == "ana"
    assert ws.admin.audit_verify().ok  # the chain itself is intact: it holds the finding
    ws.close()
    text = format_report(doctor_report(data_dir))
    assert "alteraciones anotadas en la bitácora: auth_tampered: 1" in text


def test_untouched_counters_raise_no_alarm(with_ana, data_dir):
    ws = with_ana(hooks=PlainHooks())
    ws.login("ana", "clave-ana-1")
    ws.logout()
    ws.login("admin", ADMIN_PW)
    assert ws.admin.audit_entries(action="auth_tampered") == []
    assert len(ws.admin.audit_entries(action="login_failed")) == 3
    assert ws.admin.audit_verify().ok
    ws.close()
    report = doctor_report(data_dir)
    assert "alteraciones anotadas en la bitácora: ninguna" in format_report(report)
    assert not integrity_alarm(report)


def test_a_password_reset_by_it_is_not_a_counter_reset(with_ana):
    """The recovery code's reset clears the lock-out through the program: no alarm."""
    ws = with_ana(hooks=PlainHooks())
    ws.reset_password_with_recovery("ana", with_ana.code, "clave-ana-2")
    ws.login("ana", "clave-ana-2")
    ws.logout()
    ws.login("admin", ADMIN_PW)
    assert ws.admin.audit_entries(action="auth_tampered") == []
