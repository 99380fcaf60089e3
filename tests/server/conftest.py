"""Fixtures: a real uvicorn server per test module, on SQLite and on PostgreSQL.

PostgreSQL runs when SIEE_TEST_PG_URL is set (scripts/ensure_postgres.sh prints
one). Without it the postgres variants are deselected locally, and fail loudly
when CI=true."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from server.testing import running_server
from tests.server.backends import BACKENDS, PG_ENV, db_url_for, in_ci
from tests.server.siee_client import Device


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PG_ENV) or in_ci():
        return
    here = str(Path(__file__).parent)
    keep, drop = [], []
    for it in items:
        is_pg = str(it.path).startswith(here) and "postgres" in it.keywords
        (drop if is_pg else keep).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """A test that runs `siee-server serve` or `setup_logging` in this process installs
    the server's JSON console handler on the root logger: it is taken away after the
    test, so later tests' log records do not spill JSON lines into pytest's output
    (caplog, which checks logging, keeps its own handler)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory):
    url, reset = db_url_for(backend, tmp_path_factory.mktemp("pg"))
    with running_server(db_url=url, reset_db=reset, log_level="warning") as srv:
        yield srv
        log = srv.log_text()
        assert "Traceback" not in log and "internal_error" not in log, log[-4000:]


@pytest.fixture
def device(server) -> Device:
    return Device.enroll(server.url, server.admin.enroll_code("150101"))
