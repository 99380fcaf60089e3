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
