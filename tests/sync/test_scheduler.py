"""The scheduler: notices the server coming back, backs off with jitter, runs at
once on request, one sync at a time, cancellation without harm."""

from __future__ import annotations

import random
import threading
import time

import pytest

from app.sync.client import SizerConfig, SyncClient
from app.sync.model import Cancelled, NetworkError, SyncBusy, SyncError
from app.sync.scheduler import Backoff, SchedulePolicy, SyncScheduler
from devtools.netsim import NetProxy
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, add_queued, assert_exactly_once


def _wait(cond, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_backoff_grows_with_jitter_and_a_cap():
    b = Backoff(base=2.0, cap=60.0, rng=random.Random(1))
    for n in range(1, 12):
        step = min(60.0, 2.0 * 2 ** (n - 1))
        d = [b.delay(n) for _ in range(50)]
        assert all(step / 2 <= x <= step for x in d)
        assert len(set(d)) > 10  # jittered
    assert b.delay(0) == 0.0
    assert b.delay(1, retry_after=30) == 30


def test_policy_decisions():
    p = SchedulePolicy(interval=100, backoff=Backoff(base=1, cap=8, rng=random.Random(2)),
                       now=0.0)
    assert p.due(0.0)
    p.on_offline(0.0)
    p.on_offline(0.0)
    p.on_offline(0.0)
    assert p.failures == 3 and 2.0 <= p.next_at <= 4.0 and p.online is False
    p.on_success(10.0)
    assert p.failures == 0 and p.next_at == 110.0 and not p.due(50.0)
    p.request_now()
    assert p.due(50.0) and p.take_forced() and not p.due(50.0)
    p.on_failure(20.0, NetworkError("x"))
    assert 20.5 <= p.next_at <= 21.0 and p.last_error
    p.on_failure(20.0, SyncError("refused", "No"))  # permanent: no hammering
    assert p.next_at >= 120.0
    p.on_failure(20.0, Cancelled())
    assert p.next_at == 120.0 and p.failures == 2


def test_notices_the_server_coming_back(ws, server):
    c = ws.centre.client(connect_timeout=0.5, read_timeout=5)
    c.enroll(server.url, server.admin.enroll_code(ULE))
    host, port = server.url.rsplit(":", 1)
    proxy = NetProxy(("127.0.0.1", int(port)))
    events: list[str] = []
    sched = SyncScheduler(
        c, SchedulePolicy(interval=3600, backoff=Backoff(base=0.05, cap=0.3)),
        on_event=lambda kind, data: events.append(kind), probe_timeout=0.5,
    )
    try:
        ws.centre.update_server_url(proxy.url)
        proxy.set_online(False)
        uuids = add_queued(ws, 20, seed=401)
        sched.start()
        assert _wait(lambda: events.count("offline") >= 3, 10)
        assert sched.policy.failures >= 3 and ws.centre.status().pending == 20
        proxy.set_online(True)  # the connection comes back: it syncs by itself
        assert _wait(lambda: "ok" in events, 10), events
        assert_exactly_once(server, ws, uuids)
        assert sched.policy.failures == 0
        # Nothing is due for an hour: the idle scheduler prepares the new records, and
        # "Sincronizar ahora" runs at once.
        more = add_queued(ws, 3, seed=402)
        assert _wait(lambda: ws.db.execute("SELECT COUNT(*) FROM sync_submissions")
                     .fetchone()[0] == 3, 10)
        n = events.count("ok")
        sched.sync_now()
        assert _wait(lambda: events.count("ok") > n, 10)
        assert_exactly_once(server, ws, uuids + more)
    finally:
        sched.stop()
        proxy.close()


def test_cancel_mid_sync_is_harmless(ws, server):
    c = ws.centre.client(sizer=SizerConfig(start_bytes=3000, grow_below_s=0.0))
    c.enroll(server.url, server.admin.enroll_code(ULE))
    host, port = server.url.rsplit(":", 1)
    # A slow link (64 KB/s) so that the sync is still running when cancelled.
    with NetProxy(("127.0.0.1", int(port)), rate_bps=64_000) as proxy:
        ws.centre.update_server_url(proxy.url)
        uuids = add_queued(ws, 80, seed=403)
        events: list[tuple[str, object]] = []
        sched = SyncScheduler(c, SchedulePolicy(interval=3600),
                              on_event=lambda k, d: events.append((k, d)))
        th = threading.Thread(target=sched.run_once)
        th.start()
        assert _wait(lambda: any(k == "progress" and d.records_done >= 8
                                 for k, d in list(events)), 20)
        sched.cancel()
        th.join(20)
        failed = [d for k, d in events if k == "failed"]
        assert failed and isinstance(failed[0], Cancelled)
        assert "cancelada" in failed[0].user_message
        st = ws.centre.status()
        assert 0 < st.delivered < 80
        assert "cancelada" in ws.centre.log()[0].text
        ws.centre.update_server_url(server.url)
    assert c.sync().pending_left == 0
    assert_exactly_once(server, ws, uuids)


def test_two_windows_never_sync_at_once(ws, server):
    from app.workspace import Workspace

    c1 = ws.centre.client()
    c1.enroll(server.url, server.admin.enroll_code(ULE))
    uuids = add_queued(ws, 60, seed=404)
    ws2 = Workspace.open(ws.data_dir, kdf=FAST_KDF)  # a second window on the same folder
    ws2.login("admin", ADMIN_PW)
    c2 = ws2.centre.client()
    results: list[object] = []
    barrier = threading.Barrier(2)

    def run(c: SyncClient) -> None:
        barrier.wait()
        try:
            results.append(c.sync())
        except SyncBusy as e:
            results.append(e)

    try:
        ths = [threading.Thread(target=run, args=(c,)) for c in (c1, c2)]
        for t in ths:
            t.start()
        for t in ths:
            t.join(30)
        busy = [r for r in results if isinstance(r, SyncBusy)]
        assert len(results) == 2 and len(busy) <= 1
        assert_exactly_once(server, ws, uuids)
    finally:
        ws2.close()


def test_scheduler_survives_permanent_errors(ws):
    c = ws.centre.client()  # never enrolled
    events: list[tuple[str, object]] = []
    sched = SyncScheduler(c, SchedulePolicy(interval=50),
                          on_event=lambda k, d: events.append((k, d)))
    assert sched.run_once() is None
    (err,) = [d for k, d in events if k == "failed"]
    assert "no está inscrito" in err.user_message
    assert sched.policy.seconds_left(time.monotonic()) > 40
    with pytest.raises(SyncError):
        c.sync()
