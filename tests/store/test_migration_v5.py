"""Store schema 5: record MACs move from ``records.row_mac`` to the side table
``record_macs``. A database made by the previous program (schema 4, made by
tests/store/data/make_schema4_db.py with main at 3e45be4) opens, keeps every
record and its state, verifies clean, and an edit made before the upgrade is
still reported after it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from app.cli.doctor import doctor_report, format_report
from app.core.states import State
from app.store.db import DB_NAME, MIGRATIONS, schema_version
from tests.conftest import ADMIN_PW
from tests.store.hooks import PlainHooks

FIXTURE = Path(__file__).parent / "data" / "schema4-main.db"
HEADS = {"A": State.DRAFT, "B": State.COMPLETE, "C": State.QUEUED, "D": State.QUEUED,
         "E2": State.DRAFT, "F": State.QUEUED}


@pytest.fixture
def old_db(data_dir: Path) -> sqlite3.Connection:
    """The schema-4 database in the data folder, opened outside the program."""
    data_dir.mkdir(parents=True)
    shutil.copyfile(FIXTURE, data_dir / DB_NAME)
    con = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 4
    yield con
    con.close()


def _uuid_of(con: sqlite3.Connection, state: str, revision: int = 1) -> str:
    return con.execute("SELECT uuid FROM records WHERE state=? AND revision=? ORDER BY uuid",
                       (state, revision)).fetchone()[0]


def test_schema4_database_migrates_with_its_macs(old_db, ws_factory, data_dir):
    old_macs = dict(old_db.execute("SELECT uuid, row_mac FROM records"))
    assert len(old_macs) == 6 and all(old_macs.values())
    old_db.close()
    ws = ws_factory(hooks=PlainHooks())
    assert schema_version(ws.db) == len(MIGRATIONS) == 5
    cols = {r[1] for r in ws.db.execute("PRAGMA table_info(records)")}
    assert "row_mac" not in cols
    assert dict(ws.db.execute("SELECT uuid, mac FROM record_macs")) == old_macs
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert rep.ok and rep.damaged_records == (), rep.message
    assert ws.admin.audit_entries(action="integrity_init") == []  # nothing re-sealed
    heads = {m.summary["head"]: m for m in ws.list_records()}
    assert {h: m.state for h, m in heads.items()} == HEADS
    assert not any(m.damaged for m in heads.values())
    st = ws.centre.status()
    assert st.pending == 3 and st.damaged == 0
    # The migrated workspace keeps working: saves, approvals and a new record stay sound.
    ws.review.approve(heads["B"].uuid)
    u = ws.new_record("fsu", "1", {"head": "G"})
    assert ws.load_answers(heads["E2"].uuid) == {"head": "E2"}
    assert ws.find_by_dni("10000001")[0].uuid == heads["A"].uuid
    ws.logout()
    ws.login("ana", "clave-ana-1")  # the other user's key slot came through too
    ws.save_answers(heads["A"].uuid, {"head": "A1"})
    ws.complete(heads["E2"].uuid)
    ws.logout()
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert rep.ok and rep.damaged_records == (), rep.message
    assert ws.get(u).state == State.DRAFT and ws.centre.status().pending == 4
    assert ws.get(heads["E2"].uuid).state == State.COMPLETE
    assert ws.load_answers(heads["A"].uuid) == {"head": "A1"}
    ws.close()
    assert "sin sello" not in format_report(doctor_report(data_dir))


def test_edit_made_before_the_upgrade_is_still_reported(old_db, ws_factory, data_dir):
    """The stored MACs are moved as they are: the migration never re-seals a row."""
    draft = _uuid_of(old_db, "DRAFT")
    queued = _uuid_of(old_db, "QUEUED")
    for (name,) in old_db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")\
            .fetchall():
        old_db.execute(f"DROP TRIGGER {name}")
    old_db.execute("UPDATE records SET state='QUEUED', approved_at=1 WHERE uuid=?", (draft,))
    old_db.execute("UPDATE records SET state='DELIVERED' WHERE uuid=?", (queued,))
    old_db.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and sorted(rep.damaged_records) == sorted([draft, queued])
    st = ws.centre.status()
    assert st.damaged == 2 and st.pending == 2 and st.delivered == 0
    assert queued not in [r.uuid for r in ws.centre.ports.take_outbox(10)]
    assert draft not in [r.uuid for r in ws.centre.ports.take_outbox(10)]
    ws.close()
    assert draft in format_report(doctor_report(data_dir))


def test_doctor_reads_a_schema4_database_before_it_is_opened(old_db, data_dir):
    old_db.execute("UPDATE records SET row_mac=NULL WHERE uuid=?", (_uuid_of(old_db, "DRAFT"),))
    old_db.close()
    rep = doctor_report(data_dir)
    assert "¡1 ficha(s) sin sello de integridad!" in format_report(rep)
