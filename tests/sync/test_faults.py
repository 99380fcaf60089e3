"""Exactly once under faults, against the real server on loopback: a fault-injecting
proxy (refused connections, resets mid-request and mid-response, truncated answers,
stalls), the client killed with SIGKILL at random points, the server killed and
restarted in the middle of batches. Every record ends on the server once and
DELIVERED on the laptop."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time

import pytest

from app.sync.client import SizerConfig, SyncClient
from app.sync.model import SyncError
from devtools.netsim import NetProxy
from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, add_queued, assert_exactly_once, server_rows, states

SMALL = SizerConfig(start_bytes=4000, grow_below_s=0.0)  # ~8 records a batch, never grows


def _sync_until_done(c: SyncClient, ws, deadline_s: float, pause: float = 0.0) -> int:
    """Keep syncing (as the scheduler would) until nothing is left; returns attempts."""
    end = time.monotonic() + deadline_s
    attempts = 0
    while time.monotonic() < end:
        attempts += 1
        try:
            rep = c.sync(inbox=False)
            if rep.pending_left == 0:
                return attempts
        except SyncError as e:
            assert e.transient, e
            time.sleep(pause)
    raise AssertionError(f"not done after {attempts} attempts; status {ws.centre.status()}")


@pytest.fixture
def own_server():
    """A server of its own: killed at the end (a graceful stop would wait for the
    half-open connections the faults leave behind)."""
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv
        assert "Traceback" not in srv.log_text()
        srv.process.kill()


def test_fault_proxy_hundreds_of_records(ws, own_server):
    server = own_server
    c = ws.centre.client(connect_timeout=1.0, read_timeout=0.8, sizer=SMALL)
    c.enroll(server.url, server.admin.enroll_code(ULE))
    uuids = add_queued(ws, 240, seed=101)
    host, port = server.url.rsplit(":", 1)
    weights = {"refuse": 1.0, "reset_request": 1.0, "reset_response": 1.5, "truncate": 1.0,
               "stall": 0.3}
    # Connections are kept alive across batches: a fault strikes somewhere within the
    # first tens of KB of a connection, so most sync attempts get a few batches through.
    with NetProxy(("127.0.0.1", int(port)), fault_rate=0.8, weights=weights, stall_s=2.0,
                  seed=7, cut_span=(40000, 6000), script=[*weights, None]) as proxy:
        ws.centre.update_server_url(proxy.url)
        # The server goes away entirely for a moment too.
        proxy.set_online(False)
        with pytest.raises(SyncError) as e:
            c.sync()
        assert e.value.transient
        proxy.set_online(True)
        attempts = _sync_until_done(c, ws, 90)
        for kind in weights:
            assert proxy.faults[kind] >= 1, proxy.faults
    assert attempts > 5
    assert_exactly_once(server, ws, uuids)
    # Answers lost after the server stored a batch were recovered by resending it.
    rows = ws.db.execute("SELECT attempts FROM sync_batches WHERE state='done'").fetchall()
    assert any(a > 1 for (a,) in rows)
    assert ws.centre.status().in_flight == 0


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _child_sync(data_dir, kill_at: str | None = None) -> None:
    """Sync in this (forked) process; with `kill_at`, the process kills itself at that
    point of its first batch: "built" (the batch is saved, nothing sent), "upload"
    (part of the envelope sent), "answer" (the server stored the batch and answered;
    the receipt is not applied)."""
    from app.sync import client as client_mod
    from app.sync import transport as transport_mod
    from app.workspace import Workspace

    if kill_at == "built":
        build = client_mod.SyncClient._build

        def _build(self, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
            out = build(self, *a, **kw)
            _die()
            return out

        client_mod.SyncClient._build = _build
    elif kill_at == "upload":
        read = transport_mod.ProgressBody.read

        def _read(self, n: int = -1) -> bytes:  # noqa: ANN001
            if self.pos > 0:  # the first 256 bytes went out, the rest never will
                _die()
            return read(self, 256)

        transport_mod.ProgressBody.read = _read
    elif kill_at == "answer":
        put = transport_mod.Transport.put_batch

        def _put(self, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
            put(self, *a, **kw)
            _die()

        transport_mod.Transport.put_batch = _put
    w = Workspace.open(data_dir, kdf=FAST_KDF)
    w.login("admin", ADMIN_PW)
    c = w.centre.client(sizer=SizerConfig(start_bytes=1500, grow_below_s=0.0))
    try:
        c.sync()
    except SyncError:
        pass


def _run_child(ws, kill_at: str | None, rng: random.Random) -> None:
    pid = os.fork()
    if pid == 0:  # the client, in its own process
        code = 0
        try:
            _child_sync(ws.data_dir, kill_at)
        except BaseException:
            code = 1
        os._exit(code)
    if kill_at is None:  # killed from outside, wherever it is by then
        time.sleep(rng.uniform(0.0, 0.35))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if kill_at is not None:
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (kill_at,
                                                                                   status)


def test_client_killed_at_random_points(ws, server):
    """The laptop's process dies (SIGKILL) at given points of a batch, then at random
    moments; nothing is lost or stored twice. The given points do not depend on timing
    or load: each is checked to leave the state it names."""
    c = ws.centre.client(sizer=SMALL)
    c.enroll(server.url, server.admin.enroll_code(ULE))
    rng = random.Random(2026)
    uuids: list[str] = []
    for trial, kill_at in enumerate(["built", "upload", "answer"] * 3):
        new = add_queued(ws, 12, seed=1000 + trial)
        uuids += new
        before = set(server_rows(server))
        _run_child(ws, kill_at, rng)
        # A batch is left awaiting its receipt, whichever point the process died at.
        assert ws.centre.status().in_flight > 0, kill_at
        rows = set(server_rows(server))
        on_server = {u for u, _ in rows}
        if kill_at == "built":  # the new batch never left the laptop
            assert not on_server & set(new)
        elif kill_at == "upload":  # the centre got no whole batch
            assert rows == before
        else:  # stored at the centre; the laptop never saw the receipt
            st = states(ws)
            assert any(st[u] != "DELIVERED" for u in on_server & set(uuids))
    for trial in range(9):  # killed from outside, wherever it is by then
        uuids += add_queued(ws, 12, seed=2000 + trial)
        _run_child(ws, None, rng)
    # The next syncs resend what was left without a receipt.
    _sync_until_done(c, ws, 60)
    assert_exactly_once(server, ws, uuids)
    assert ws.centre.status().in_flight == 0
    assert ws.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ws.admin.audit_verify().ok


def test_server_restarted_mid_batch(ws, tmp_path):
    data = tmp_path / "server"
    srv = running_server(data_dir=data, log_level="warning", rate_per_minute=0)
    s = srv.__enter__()
    proxy = NetProxy(("127.0.0.1", s.port))
    try:
        c = ws.centre.client(connect_timeout=1.0, read_timeout=2.0, sizer=SMALL)
        c.enroll(proxy.url, s.admin.enroll_code(ULE))
        uuids = add_queued(ws, 160, seed=303)
        result: dict[str, object] = {}

        def run() -> None:
            try:
                result["attempts"] = _sync_until_done(c, ws, 120, pause=0.1)
            except BaseException as e:  # noqa: BLE001 - reported below
                result["error"] = e

        th = threading.Thread(target=run)
        th.start()
        for delay in (0.4, 0.25):
            time.sleep(delay)
            s.process.kill()  # SIGKILL in the middle of whatever it was doing
            s.process.wait()
            srv.__exit__(None, None, None)
            srv = running_server(data_dir=data, log_level="warning", rate_per_minute=0)
            s = srv.__enter__()
            proxy.upstream = ("127.0.0.1", s.port)
        th.join(150)
        assert not th.is_alive()
        assert "error" not in result, result.get("error")
        assert_exactly_once(s, ws, uuids)
    finally:
        proxy.close()
        srv.__exit__(None, None, None)
