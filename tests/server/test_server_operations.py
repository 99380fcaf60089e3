"""Operations of the centre: backpressure (bounded ingest per process, quick 503 with
Retry-After), the largest accepted batch in every answer, enrollment limits shared in
the database, liveness/readiness, Prometheus metrics and JSON logs with request ids."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from app.sync import protocol as p
from server import observe
from server.testing import running_server
from tests.server.siee_client import Device

MAX_RECORDS = 40


@pytest.fixture(scope="module")
def srv():
    with running_server(log_level="info", max_records=MAX_RECORDS, max_inflight_ingest=1,
                        max_waiting_ingest=0, enroll_per_address=4,
                        enroll_per_minute=6) as s:
        yield s


@contextmanager
def database_held(db_url: str):
    """Hold SQLite's write lock from outside the server: an ingest that started waits on
    it while keeping its slot (a slow database, made deterministic)."""
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=30,
                          isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_busy_server_answers_at_once_with_retry_after(srv):
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    first_env = dev.batch([dev.record() for _ in range(3)])
    second_env = dev.batch([dev.record() for _ in range(3)])
    out: dict[str, requests.Response] = {}
    with database_held(srv.db_url):
        t = threading.Thread(target=lambda: out.setdefault("first", dev.put_batch(first_env)))
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _ingesting(srv):
            time.sleep(0.05)  # until the first upload holds the only slot
        busy = Device(dev.base_url, dev.device_id, dev.key, dev.ule, dev.server_signing_key,
                      dev.server_encryption_key).put_batch(second_env)
        assert busy is not None and busy.status_code == 503
        assert busy.json()["code"] == "busy" and int(busy.headers["Retry-After"]) >= 1
        assert "ocupado" in busy.json()["message"]
    t.join(60)
    assert out["first"].status_code == 200
    # the refused batch was not stored: sent again later it is accepted, once
    rc = p.verify_receipt(dev.put_batch(second_env).content, dev.server_signing_key)
    assert rc.to_dict()["counts"]["accepted"] == 3
    metrics = requests.get(srv.url + "/metrics", timeout=10).text
    assert 'siee_rejections_total{reason="busy"}' in metrics


def _ingesting(srv) -> bool:
    text = requests.get(srv.url + "/metrics", timeout=10).text
    return "siee_ingest_inflight 1.0" in text


def test_every_answer_tells_the_largest_batch(srv):
    for r in (requests.get(srv.url + "/v1/health", timeout=10),
              requests.get(srv.url + "/v1/nothing", timeout=10)):
        assert r.headers[p.H_MAX_RECORDS] == str(MAX_RECORDS)
        assert int(r.headers[p.H_MAX_BATCH_BYTES]) > 0


def test_liveness_readiness_and_metrics(srv):
    h = requests.get(srv.url + "/v1/health", timeout=10)
    assert h.status_code == 200 and h.json()["status"] == "ok"
    r = requests.get(srv.url + "/v1/ready", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ready"
    m = requests.get(srv.url + "/metrics", timeout=10)
    assert m.status_code == 200
    for name in ("siee_http_requests_total", "siee_ingest_records_total",
                 "siee_http_inflight_requests", "siee_receipt_seconds_bucket",
                 "siee_rejections_total"):
        assert name in m.text, name
    assert 'siee_ingest_records_total{result="accepted"}' in m.text


def test_logs_are_json_with_request_ids_and_no_answers(srv):
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    rid = "test-request-0001"
    r = dev.request("GET", "/v1/inbox", headers={"X-Request-Id": rid})
    assert r.headers["X-Request-Id"] == rid
    rec = dev.record(answers={"tipo_solicitud": "determinacion", "nota": "Quispe Mamani"})
    assert dev.send([rec]).results[0].status == "accepted"
    lines = [ln for ln in srv.log_text().splitlines() if ln.startswith("{")]
    assert lines
    parsed = [json.loads(ln) for ln in lines]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(d) for d in parsed)
    assert any(d["request_id"] != "-" for d in parsed if d["logger"].startswith("siee"))
    # uvicorn's own lines are there (info level) without their ANSI-coloured copy
    assert any(d["logger"].startswith("uvicorn") for d in parsed)
    assert not any("color_message" in d for d in parsed)
    assert "\x1b[" not in srv.log_text() and "\\u001b" not in srv.log_text()
    assert "Quispe" not in srv.log_text()


def test_enrollment_limited_per_address_and_in_total(srv):
    key = p.new_signing_key()
    codes = []
    for i in range(8):
        body = p.enrollment_request(f"WRONG-CODE-{i:04d}", key, "x")
        codes.append(requests.post(srv.url + "/v1/enroll", json=body, timeout=10))
    # earlier tests of this module enrolled from this address too (last test of the module:
    # the limit then stays for a minute): at most 4 per minute
    statuses = [r.status_code for r in codes]
    assert 429 in statuses and set(statuses) <= {403, 429}
    first_429 = statuses.index(429)
    assert all(s == 429 for s in statuses[first_429:])
    r = codes[-1]
    assert r.json()["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
    assert "intentos de inscripción" in r.json()["message"]
    # a genuine code is refused too while the limit lasts (the guesser cannot tell)
    body = p.enrollment_request(srv.admin.enroll_code("150101"), p.new_signing_key(), "x")
    assert requests.post(srv.url + "/v1/enroll", json=body, timeout=10).status_code == 429


def test_enrollment_total_limit_counts_every_address():
    with running_server(log_level="warning", enroll_per_address=100,
                        enroll_per_minute=3) as s:
        key = p.new_signing_key()
        statuses = [requests.post(s.url + "/v1/enroll", timeout=10,
                                  json=p.enrollment_request(f"NOPE-{i:04d}", key, "x"))
                    .status_code for i in range(5)]
        assert statuses[:3] == [403] * 3 and statuses[3:] == [429, 429]


def test_log_handler_follows_stderr_after_it_is_swapped_and_closed():
    """`serve` run in-process (tests/server/test_server_migrations.py) used to leave a
    root handler on pytest's captured stderr, closed after that test: every later log
    line printed "Logging error ... I/O operation on closed file"."""
    root = logging.getLogger()
    saved_handlers, saved_level, saved_stderr = list(root.handlers), root.level, sys.stderr
    try:
        first = io.StringIO()
        sys.stderr = first
        observe.setup_logging("info", "text")
        sys.stderr = later = io.StringIO()
        first.close()
        logging.getLogger("siee.test").warning("after the swap %s", 42)
        out = later.getvalue()
        assert "after the swap 42" in out and "Logging error" not in out
    finally:
        sys.stderr = saved_stderr
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved_handlers:
            root.addHandler(h)
        root.setLevel(saved_level)


def test_setup_logging_keeps_the_hosts_handlers(caplog):
    """`serve` in-process (a test, an embedding program) replaces only console handlers:
    pytest's caplog keeps receiving the server's records, which still go out as JSON
    lines on stderr (tests/server/conftest.py removes that handler after each test)."""
    root = logging.getLogger()
    saved_stderr = sys.stderr
    caplog.set_level(logging.INFO)
    try:
        sys.stderr = out = io.StringIO()
        observe.setup_logging("info", "json")
        logging.getLogger("siee.server.batches").info("batch %s stored", "b-42")
    finally:
        sys.stderr = saved_stderr
    assert caplog.handler in root.handlers
    assert any(r.getMessage() == "batch b-42 stored" for r in caplog.records)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["message"] == "batch b-42 stored" and line["logger"] == "siee.server.batches"
    assert sum(isinstance(h, observe.StderrHandler) for h in root.handlers) == 1


@contextmanager
def served_in_thread(app):
    """A real uvicorn server for `app` on a loopback port, in a thread of this process
    (so that the test sees the app's per-process state); yields its base URL."""
    import socket

    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    t = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        t.join(30)
        sock.close()


@pytest.mark.parametrize("workers", [2, 1])
def test_a_process_with_batches_queued_hands_the_connection_back(tmp_path, workers):
    """One of several processes on a shared socket closes a kept-alive connection after
    a receipt while other batches wait for its ingest slot, so that the laptop's next
    batch may reach an idle process; with nothing queued, or as the only process, it
    keeps the connection."""
    from server.app import create_app
    from server.service import Service
    from server.settings import Settings
    from server.testing import publish_forms, test_forms

    settings = Settings(data_dir=tmp_path, max_inflight_ingest=1, max_waiting_ingest=4,
                        enroll_per_address=0, enroll_per_minute=0)
    service = Service(settings)
    publish_forms(service, test_forms())
    try:
        with served_in_thread(create_app(settings, service, workers=workers)) as url:
            dev = Device.enroll(url, service.create_enroll_code("150101", None)[0])
            other = Device(url, dev.device_id, dev.key, dev.ule, dev.server_signing_key,
                           dev.server_encryption_key)
            first_env, second_env = (dev.batch([dev.record()]) for _ in range(2))
            out: dict[str, requests.Response] = {}
            with database_held(settings.db_url):
                t1 = threading.Thread(
                    target=lambda: out.setdefault("first", dev.put_batch(first_env)))
                t1.start()
                _wait_metric(url, "siee_ingest_inflight 1.0")
                t2 = threading.Thread(
                    target=lambda: out.setdefault("second", other.put_batch(second_env)))
                t2.start()
                _wait_metric(url, "siee_ingest_waiting 1.0")
            t1.join(60)
            t2.join(60)
    finally:
        service.close()
    assert out["first"].status_code == out["second"].status_code == 200
    closed = out["first"].headers.get("connection", "").lower() == "close"
    assert closed == (workers > 1)
    assert out["second"].headers.get("connection", "").lower() != "close"


def _wait_metric(url: str, line: str) -> None:
    deadline = time.monotonic() + 30
    while line not in requests.get(url + "/metrics", timeout=10).text:
        assert time.monotonic() < deadline, line
        time.sleep(0.02)
