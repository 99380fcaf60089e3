"""Property-based fuzz of the HTTP API from its own OpenAPI document (schemathesis):
no input, signed or not, makes the server answer 5xx, and every answer conforms to
the document (status codes, content types, response schemas, Allow headers).

The one check left out is "schema-valid data must be accepted": a batch body is
binary that the schema can only call "a string of bytes", and a signed request
with a random body cannot be valid."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from server.app import openapi_document
from server.testing import running_server
from tests.server.siee_client import Device, SieeAuth

EXAMPLES = 40
EXCLUDED = [positive_data_acceptance]


@pytest.fixture(scope="module")
def fuzz_server():
    with running_server(rate_per_minute=1_000_000, log_level="warning") as srv:
        yield srv


@pytest.fixture(scope="module")
def fuzz_device(fuzz_server) -> Device:
    return Device.enroll(fuzz_server.url, fuzz_server.admin.enroll_code("150101"))


schema = schemathesis.openapi.from_dict(openapi_document())


def test_served_document_is_the_fuzzed_one(fuzz_server):
    assert requests.get(fuzz_server.url + "/openapi.json", timeout=10).json() == \
        openapi_document()

_FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=list(HealthCheck))


@schema.parametrize()
@_FUZZ_SETTINGS
def test_fuzz_unsigned(case, fuzz_server):
    response = case.call(base_url=fuzz_server.url, timeout=30)
    case.validate_response(response, excluded_checks=EXCLUDED)


@schema.parametrize()
@_FUZZ_SETTINGS
def test_fuzz_signed(case, fuzz_server, fuzz_device):
    """The same, with every request validly signed by an enrolled device, so the
    fuzzer reaches the handlers behind authentication."""
    session = requests.Session()
    session.auth = SieeAuth(fuzz_device.device_id, fuzz_device.key)
    for h in ("X-Siee-Device", "X-Siee-Timestamp", "X-Siee-Nonce", "X-Siee-Signature"):
        if case.headers:
            case.headers.pop(h, None)
    response = case.call(base_url=fuzz_server.url, session=session, timeout=30)
    case.validate_response(response, excluded_checks=EXCLUDED)


def test_fuzz_left_no_traceback(fuzz_server):
    log = fuzz_server.log_text()
    assert "Traceback" not in log, log[-3000:]
