"""Several server processes on one PostgreSQL database: every piece of shared state
(nonces, rate limits, ingest) lives in the database, so any process can answer any
request (issue 20 item 1, issue 19 item 5)."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
import requests

from app.sync import protocol as p
from server.testing import another_process, running_server
from tests.server.backends import PG_ENV
from tests.server.siee_client import Device

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set (scripts/ensure_postgres.sh)")
    return url


@pytest.fixture(scope="module")
def pair(pg_url):
    """Two independent server processes on the same keys and PostgreSQL database."""
    with running_server(db_url=pg_url, reset_db=True, log_level="warning",
                        rate_per_minute=30) as srv:
        with another_process(srv, "--rate-per-minute", "30") as url2:
            yield srv, url2


def _on(dev: Device, url: str) -> Device:
    return Device(url, dev.device_id, dev.key, dev.ule, dev.server_signing_key,
                  dev.server_encryption_key)


def test_replay_refused_by_the_other_process(pair):
    srv, url2 = pair
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    headers = p.sign_request("GET", "/v1/inbox", b"", dev.device_id, dev.key)
    first = requests.get(srv.url + "/v1/inbox", headers=headers, timeout=30)
    assert first.status_code == 200
    again = requests.get(url2 + "/v1/inbox", headers=headers, timeout=30)
    assert again.status_code == 401 and again.json()["code"] == "replayed_nonce"
    # and the other way round
    headers = p.sign_request("GET", "/v1/device", b"", dev.device_id, dev.key)
    assert requests.get(url2 + "/v1/device", headers=headers, timeout=30).status_code == 200
    r = requests.get(srv.url + "/v1/device", headers=headers, timeout=30)
    assert r.status_code == 401 and r.json()["code"] == "replayed_nonce"


def test_exactly_once_ingest_across_processes(pair):
    srv, url2 = pair
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    devices = [dev, _on(dev, url2)]
    envs = [dev.batch([dev.record() for _ in range(5)]) for _ in range(6)]
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send(d: Device, env: p.Envelope) -> None:
        r = Device(d.base_url, d.device_id, d.key, d.ule, d.server_signing_key,
                   d.server_encryption_key).put_batch(env)
        with lock:
            answers.append((r.status_code, r.content))

    threads = [threading.Thread(target=send, args=(d, env)) for env in envs
               for d in devices for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == len(threads)
    assert {code for code, _ in answers} == {200}
    by_batch: dict[str, set[bytes]] = {}
    for _, body in answers:
        rc = p.verify_receipt(body, dev.server_signing_key)
        by_batch.setdefault(rc.batch_id, set()).add(body)
    # every batch has one receipt, whichever process answered, however often it was sent
    assert set(by_batch) == {e.batch_id for e in envs}
    assert all(len(v) == 1 for v in by_batch.values())
    counts = [p.verify_receipt(next(iter(v)), dev.server_signing_key).to_dict()["counts"]
              for v in by_batch.values()]
    assert all(c["accepted"] == 5 for c in counts)
    stored = srv.admin.list_records(limit=100000)
    mine = [r for r in stored if r["device_id"] == dev.device_id]
    assert len(mine) == 30 and len({(r["uuid"], r["revision"]) for r in mine}) == 30


def test_rate_limit_is_shared_and_replays_do_not_count(pair):
    srv, url2 = pair
    dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    other = _on(dev, url2)
    _wait_for_fresh_minute()
    # a captured request replayed many times (to both processes) is refused as a replay
    headers = p.sign_request("GET", "/v1/inbox", b"", dev.device_id, dev.key)
    assert requests.get(srv.url + "/v1/inbox", headers=headers, timeout=30).status_code == 200
    for url in (srv.url, url2) * 30:
        r = requests.get(url + "/v1/inbox", headers=headers, timeout=30)
        assert r.json()["code"] == "replayed_nonce"
    # ... and bad signatures neither
    bad = Device(dev.base_url, dev.device_id, p.new_signing_key(), dev.ule,
                 dev.server_signing_key, dev.server_encryption_key)
    for _ in range(10):
        assert bad.request("GET", "/v1/inbox").json()["code"] == "bad_signature"
    # the genuine device still has its quota (30/min, one used), split over both processes
    codes = [(dev if i % 2 else other).request("GET", "/v1/inbox").status_code
             for i in range(34)]
    assert codes[:29] == [200] * 29 and codes[29:] == [429] * 5


def test_workers_option_serves_with_shared_limits(pg_url):
    with running_server(db_url=pg_url, reset_db=True, log_level="warning", workers=2,
                        rate_per_minute=12, startup_timeout=120) as srv:
        dev = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
        _wait_for_fresh_minute()
        codes = []
        for _ in range(16):  # a new connection each time: the kernel spreads them
            with requests.Session() as s:
                dev.session = s
                codes.append(dev.request("GET", "/v1/inbox").status_code)
        assert codes == [200] * 12 + [429] * 4
        dev2 = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
        rc = dev2.send([dev2.record() for _ in range(3)])
        assert rc.to_dict()["counts"]["accepted"] == 3
        assert requests.get(srv.url + "/v1/ready", timeout=10).json()["status"] == "ready"


def _wait_for_fresh_minute() -> None:
    """Counters are kept per minute: start a counted run early in a minute, so that it
    does not straddle two windows."""
    if time.time() % 60 > 40:
        time.sleep(61 - time.time() % 60)


def test_batches_touching_the_same_cases_at_once_in_two_processes(pair):
    """Two laptops' batches name the same cases (expedientes) and reach the two
    processes at the same moment: both are stored, each case once (the race on the
    `cases` table; tests/server/test_server_cases_race.py pins it down)."""
    from app.demo import households
    from app.demo_answers import fsu_answers
    from app.forms import bundled_form

    srv, url2 = pair
    a = Device.enroll(srv.url, srv.admin.enroll_code("150101"))
    b = _on(Device.enroll(srv.url, srv.admin.enroll_code("150101")), url2)
    version = str(bundled_form("fsu").version)
    homes = iter(households(36, seed=77))
    all_cases: set[str] = set()
    for _round in range(3):
        case_ids = [str(uuid.uuid4()) for _ in range(6)]
        all_cases |= set(case_ids)
        envs = [d.batch([d.record(form_id="fsu", form_version=version, case_uuid=c,
                                  answers=fsu_answers(next(homes)))
                         for c in (case_ids if d is a else case_ids[::-1])])
                for d in (a, b)]
        answers: list[requests.Response] = []
        lock = threading.Lock()

        def send(d: Device, env: p.Envelope, out: list = answers, lk=lock) -> None:  # noqa: ANN001
            r = d.put_batch(env)
            with lk:
                out.append(r)

        threads = [threading.Thread(target=send, args=(d, e))
                   for d, e in zip((a, b), envs, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        for r in answers:
            counts = p.verify_receipt(r.content, a.server_signing_key).to_dict()["counts"]
            assert counts["accepted"] == 6, counts
    listed = [c["case_uuid"] for c in srv.admin.cases.list() if c["case_uuid"] in all_cases]
    assert sorted(listed) == sorted(all_cases)  # each case once
    assert all(c["records"] == 2 for c in srv.admin.cases.list()
               if c["case_uuid"] in all_cases)
