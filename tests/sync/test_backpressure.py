"""Backpressure end to end: a busy server answers 503 with Retry-After at once; the
real sync client waits, sends the same batch again (no link failure, no smaller
batches) and never builds a batch larger than the server says it accepts."""

from __future__ import annotations

import sqlite3
import threading
import time

import requests
from sqlalchemy import select

from app.sync import protocol as p
from app.sync.client import AdaptiveSizer, SizerConfig
from server.db import batches
from server.testing import running_server
from tests.server.siee_client import Device
from tests.sync.conftest import ULE, add_queued, assert_exactly_once

MAX_RECORDS = 7


def _metric(srv, needle: str) -> bool:
    return needle in requests.get(srv.url + "/metrics", timeout=10).text


def test_client_waits_for_a_busy_server_and_resends(ws):
    with running_server(log_level="warning", rate_per_minute=0, max_records=MAX_RECORDS,
                        max_inflight_ingest=1, max_waiting_ingest=0) as srv:
        c = ws.centre.client(read_timeout=30, sizer=SizerConfig(start_bytes=1 << 20))
        c.enroll(srv.url, srv.admin.enroll_code(ULE))
        uuids = add_queued(ws, 12, seed=2020)
        other = Device.enroll(srv.url, srv.admin.enroll_code(ULE))
        env = other.batch([other.record(ule_ubigeo=ULE) for _ in range(2)])
        db = sqlite3.connect(srv.db_url.removeprefix("sqlite:///"), timeout=30,
                             isolation_level=None)
        db.execute("BEGIN IMMEDIATE")  # a slow database: the other upload keeps the slot
        held = True
        try:
            t_other = threading.Thread(target=other.put_batch, args=(env,))
            t_other.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _metric(srv, "siee_ingest_inflight 1.0"):
                time.sleep(0.05)
            result: dict[str, object] = {}

            def run() -> None:
                try:
                    result["report"] = c.sync()
                except Exception as e:  # noqa: BLE001 - reported below
                    result["error"] = e

            t_sync = threading.Thread(target=run)
            t_sync.start()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _metric(
                    srv, 'siee_rejections_total{reason="busy"}'):
                time.sleep(0.05)
            db.execute("ROLLBACK")
            held = False
            t_sync.join(120)
            t_other.join(60)
        finally:
            if held:
                db.execute("ROLLBACK")
            db.close()
        assert "error" not in result, result.get("error")
        assert c.busy_waited >= 1.0  # it waited as told instead of failing
        assert_exactly_once(srv, ws, uuids)
        # the server's largest batch came with every answer and the sizer keeps to it
        assert c.last_transport is not None
        assert c.last_transport.server_limits is not None
        assert c.last_transport.server_limits[0] == MAX_RECORDS
        assert c.sizer is not None and c.sizer.max_records <= MAX_RECORDS
        sizes = [r["record_count"] for r in _batches(srv)]
        assert sizes and max(sizes) <= MAX_RECORDS


def _batches(srv) -> list[dict]:
    with srv.admin.service.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(batches.c.record_count)).mappings()]


def test_sizer_never_exceeds_the_server_limit():
    s = AdaptiveSizer(1000, 8 << 20, SizerConfig(start_bytes=1 << 20, est_record_bytes=100))
    assert s.next_count() == 1000
    s.cap(250, 2 << 20)
    assert s.next_count() <= 250
    for _ in range(10):
        s.success(250 * 100, 250, 0.1)  # fast uploads would double the budget
    assert s.next_count() <= 250 and s.max_bytes <= int(0.8 * (2 << 20))
    assert p.H_MAX_RECORDS.startswith("X-Siee-")


def _rejections(srv, reason: str) -> float:
    for line in requests.get(srv.url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(f'siee_rejections_total{{reason="{reason}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_no_batch_over_a_limit_lowered_after_enrollment(ws, tmp_path):
    """Enrolled when the server took 50 records a batch; it now takes 5. The laptop's
    batches built under the old limit are not sent as they are, and new ones keep to
    the new limit: the server never refuses a batch for its size."""
    data = tmp_path / "server"
    with running_server(data_dir=data, log_level="warning", rate_per_minute=0,
                        max_records=50) as srv:
        c = ws.centre.client(sizer=SizerConfig(start_bytes=1 << 20))
        c.enroll(srv.url, srv.admin.enroll_code(ULE))
    uuids = add_queued(ws, 30, seed=4040)
    # One batch built (stored, as before an upload that never happened) under the old
    # limit: 30 records in one envelope.
    old = ws.centre.client(sizer=SizerConfig(start_bytes=1 << 20))
    dev, key = old._identity()
    env, _data = old._build(dev, key, 30, "http")
    assert env.header.count == 30 and ws.centre.status().in_flight == 1
    with running_server(data_dir=data, log_level="warning", rate_per_minute=0,
                        max_records=5) as srv:
        ws.centre.update_server_url(srv.url)
        c = ws.centre.client(sizer=SizerConfig(start_bytes=1 << 20))
        c.sync()
        assert _rejections(srv, "too_many_records") == 0
        sizes = [r["record_count"] for r in _batches(srv)]
        assert sizes and max(sizes) <= 5
        assert_exactly_once(srv, ws, uuids)
        assert ws.centre.status().in_flight == 0


def test_rate_limited_is_a_wait_not_a_failure(ws, tmp_path):
    """Over its request quota (429 with Retry-After) the laptop stops sending, keeps
    every record, and its scheduler waits as told: no failure counted, still online."""
    from app.sync.model import ServerBusy
    from app.sync.scheduler import Backoff, SchedulePolicy

    data = tmp_path / "server"
    small = SizerConfig(start_bytes=3000, grow_below_s=0.0)
    with running_server(data_dir=data, log_level="warning", rate_per_minute=3) as srv:
        c = ws.centre.client(sizer=small)
        c.enroll(srv.url, srv.admin.enroll_code(ULE))
        uuids = add_queued(ws, 40, seed=5050)
        try:
            c.sync(inbox=False)
        except ServerBusy as e:
            busy = e
        else:
            raise AssertionError("3 requests a minute did not stop 40 records in small "
                                 "batches")
        assert busy.transient and getattr(busy, "server_code", "") == "rate_limited"
        assert 1.0 <= busy.retry_after <= 60.0
        assert _rejections(srv, "rate_limited") >= 1
        policy = SchedulePolicy(interval=300, backoff=Backoff(base=5, cap=300), now=0.0)
        policy.record(100.0, busy)
        assert policy.failures == 0 and policy.online is True and policy.last_error is None
        assert policy.next_at == 100.0 + max(1.0, busy.retry_after)
        sent = {u for u, _ in ((r["uuid"], 0) for r in srv.admin.list_records(limit=1000))}
        assert sent < set(uuids)  # some went, the rest wait on the laptop
    with running_server(data_dir=data, log_level="warning", rate_per_minute=0) as srv:
        ws.centre.update_server_url(srv.url)
        c.sync(inbox=False)
        assert_exactly_once(srv, ws, uuids)
