"""Fixtures of the sync client tests: a real server on loopback, real workspaces."""

from __future__ import annotations

import time
import uuid as uuidlib
from pathlib import Path

import pytest

from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF

ULE = "150101"


def fsu_version() -> str:
    from app.forms import bundled_form

    return str(bundled_form("fsu").version)


def add_queued(ws, n: int, seed: int = 1, ule: str = ULE, mutate=None) -> list[str]:
    """n approved FSU records (valid demo answers) straight into the store, QUEUED."""
    from app.demo import households
    from app.demo_answers import fsu_answers
    from app.store.db import transaction
    from app.store.records import RecordMeta

    ver = fsu_version()
    now = time.time()
    out = []
    # the workspace's own lock first, as every workspace write takes it: a window's
    # background read holds it while it waits for the connection (a full run hung here)
    with ws.ctx.lock, transaction(ws.db) as conn:
        for i, hh in enumerate(households(n, seed)):
            answers = fsu_answers(hh)
            if mutate:
                answers = mutate(i, answers)
            m = RecordMeta(
                uuid=str(uuidlib.uuid4()), revision=1, form_id="fsu", form_version=ver,
                state="QUEUED", created_at=now, updated_at=now, author_id=ws.user.id,
                assignee_id=None, ule_ubigeo=ule, completed_at=now, approved_at=now + i,
            )
            ws.records.insert(conn, m, answers, {})
            out.append(m.uuid)
    return out


def states(ws) -> dict[str, str]:
    return {r[0]: r[1] for r in ws.db.execute("SELECT uuid, state FROM records")}


def server_rows(srv) -> list[tuple[str, int]]:
    return [(r["uuid"], r["revision"]) for r in srv.admin.list_records(limit=100000)]


def assert_exactly_once(srv, ws, uuids: list[str]) -> None:
    rows = server_rows(srv)
    assert len(rows) == len(set(rows)), "a record is stored twice on the server"
    held = {u for u, _ in rows}
    assert set(uuids) <= held, f"{len(set(uuids) - held)} records missing on the server"
    st = states(ws)
    bad = [u for u in uuids if st[u] != "DELIVERED"]
    assert not bad, f"{len(bad)} records not DELIVERED"


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv
        log = srv.log_text()
        assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def ws(tmp_path: Path):
    from app.workspace import Workspace

    w, _code = Workspace.create(tmp_path / "campo", "admin", ADMIN_PW, ule_ubigeo=ULE,
                                kdf=FAST_KDF)
    yield w
    w.close()


@pytest.fixture
def enrolled(ws, server):

    c = ws.centre.client(read_timeout=20)
    c.enroll(server.url, server.admin.enroll_code(ULE))
    return c
