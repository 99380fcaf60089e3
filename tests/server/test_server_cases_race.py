"""Two batches opening the same case at the same moment (two server processes, or two
threads of one on PostgreSQL) both store: the case is added once, neither batch fails
on the `cases` table's key (issue 20 session 4 item 2). Real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid as uuidlib

import pytest
from sqlalchemy import select, text

from app.sync import protocol as p
from server import cases as case_q
from server.db import cases, drop_all, make_engine
from tests.server.backends import BACKENDS, db_url_for

NOW = "2026-11-30T10:00:00Z"


def _visit(case_uuid: str, completed_at: str = "2026-11-29T10:00:00Z",
           form_id: str = "visita", answers: dict | None = None) -> p.BatchRecord:
    return p.BatchRecord(uuid=str(uuidlib.uuid4()), revision=1, form_id=form_id,
                         form_version="1", ule_ubigeo="150101", author="enum01",
                         answers=answers or {}, completed_at=completed_at,
                         case_uuid=case_uuid)


def _wait_until_blocked(engine, backend: str, th: threading.Thread) -> None:
    """Until the second transaction waits on the first one's lock (PostgreSQL: seen in
    pg_stat_activity; SQLite, which cannot show it: a moment for the thread to reach
    its write and wait on the file lock)."""
    if backend == "sqlite":
        th.join(0.5)
        return
    for _ in range(600):
        with engine.connect() as c:
            waiting = c.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar_one()
        if waiting:
            return
        th.join(0.05)
    pytest.fail("the second transaction never waited on the first")


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_transactions_open_the_same_case_at_once(backend, tmp_path):
    url, reset = db_url_for(backend, tmp_path)
    url = url or f"sqlite:///{tmp_path / 'race.db'}"
    if reset:
        drop_all(url)
    engine = make_engine(url)
    try:
        case_uuid = str(uuidlib.uuid4())
        drop = _visit(case_uuid, "2026-11-29T12:00:00Z", "desestimacion",
                      {"/desestimacion/decision/accion": "desestimar"})
        first = engine.connect()
        tx = first.begin()
        case_q.note_accepted(first, [_visit(case_uuid)], NOW)  # added, not committed
        errors: list[BaseException] = []

        def second() -> None:
            try:
                with engine.begin() as c:
                    case_q.note_accepted(c, [_visit(case_uuid), drop], NOW)
            except BaseException as e:  # noqa: BLE001 - asserted below
                errors.append(e)

        th = threading.Thread(target=second)
        th.start()
        _wait_until_blocked(engine, backend, th)
        tx.commit()
        first.close()
        th.join(60)
        assert not th.is_alive()
        assert errors == []
        with engine.connect() as c:
            rows = c.execute(select(cases).where(cases.c.case_uuid == case_uuid)).all()
        assert len(rows) == 1
        # the second transaction's desestimación applied to the case the first added
        assert (rows[0].state, rows[0].state_record) == (case_q.DROPPED, drop.uuid)
    finally:
        engine.dispose()
        if reset:
            drop_all(url)


def test_an_older_decision_does_not_undo_a_newer_one(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'order.db'}")
    try:
        case_uuid = str(uuidlib.uuid4())
        newer = _visit(case_uuid, "2026-11-29T12:00:00Z", "desestimacion",
                       {"/desestimacion/decision/accion": "reabrir"})
        older = _visit(case_uuid, "2026-11-29T09:00:00Z", "desestimacion",
                       {"/desestimacion/decision/accion": "desestimar"})
        with engine.begin() as c:  # newest first in the batch, then the older one
            case_q.note_accepted(c, [newer, older], NOW)
        with engine.begin() as c:  # and the older one again in a later batch
            case_q.note_accepted(c, [older], NOW)
        with engine.connect() as c:
            row = c.execute(select(cases).where(cases.c.case_uuid == case_uuid)).one()
        assert (row.state, row.state_at, row.state_record) == (
            case_q.OPEN, newer.completed_at, newer.uuid)
    finally:
        engine.dispose()

