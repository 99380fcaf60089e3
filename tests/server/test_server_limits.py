"""Limits answered with clear 4xx JSON errors: batch bytes, records per batch, request rate."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
import requests

from app.sync import protocol as p
from server.testing import running_server
from tests.server.backends import db_url_for
from tests.server.siee_client import Device

MAX_BYTES = 64 * 1024
MAX_RECORDS = 5
RATE = 25


@pytest.fixture(scope="module")
def small(backend, tmp_path_factory):
    url, reset = db_url_for(backend, tmp_path_factory.mktemp("pg"))
    with running_server(db_url=url, reset_db=reset, max_batch_bytes=MAX_BYTES,
                        max_records=MAX_RECORDS, rate_per_minute=RATE,
                        log_level="warning") as srv:
        yield srv
        assert "Traceback" not in srv.log_text(), srv.log_text()[-4000:]


def _device(srv) -> Device:
    return Device.enroll(srv.url, srv.admin.enroll_code("150101"))


def test_oversized_batch_refused(small):
    dev = _device(small)
    noise = base64.b64encode(os.urandom(MAX_BYTES)).decode()
    env = dev.batch([dev.record(answers={"foto": noise})])
    assert len(env.to_bytes()) > MAX_BYTES
    r = dev.put_batch(env)
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "too_large" and "grande" in body["message"]
    # far over the limit: still a clean 413, not a reset connection
    r = dev.put_batch(os.urandom(3 * MAX_BYTES), batch_id=str(uuid.uuid4()))
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    # the device can go on with a small batch
    assert dev.send([dev.record()]).results[0].status == "accepted"


def test_too_many_records_refused(small):
    dev = _device(small)
    r = dev.put_batch(dev.batch([dev.record() for _ in range(MAX_RECORDS + 1)]))
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_many_records"
    assert str(MAX_RECORDS) in r.json()["message"]
    rc = dev.send([dev.record() for _ in range(MAX_RECORDS)])
    assert {x.status for x in rc.results} == {"accepted"}


def test_oversized_json_refused(small):
    r = requests.post(small.url + "/v1/enroll", data=b"{" + b" " * (200 * 1024) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "too_large"


def test_rate_limit_per_device(small):
    dev = _device(small)
    other = _device(small)
    codes = [dev.request("GET", "/v1/inbox").status_code for _ in range(RATE + 3)]
    assert codes[:RATE] == [200] * RATE
    assert set(codes[RATE:]) == {429}
    r = dev.request("GET", "/v1/inbox")
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited" and r.headers["Retry-After"]
    assert "Espere" in r.json()["message"]
    # other devices are not affected
    assert other.request("GET", "/v1/inbox").status_code == 200
    log = small.log_text()
    assert "Traceback" not in log


def test_limits_reported_at_enrollment(small):
    code = small.admin.enroll_code("150101")
    r = requests.post(small.url + "/v1/enroll",
                      json=p.enrollment_request(code, p.new_signing_key()), timeout=10)
    limits = r.json()["limits"]
    assert limits["max_batch_bytes"] == MAX_BYTES and limits["max_records"] == MAX_RECORDS
    assert limits["rate_per_minute"] == RATE
