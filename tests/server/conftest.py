"""Fixtures: a real uvicorn server per test module, on SQLite and on PostgreSQL.

PostgreSQL runs when SIEE_TEST_PG_URL is set (scripts/ensure_postgres.sh prints
one). Without it the postgres variants are deselected locally, and fail loudly
when CI=true."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from siee_client import Device  # noqa: E402

from server.testing import running_server  # noqa: E402

PG_ENV = "SIEE_TEST_PG_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PG_ENV) or _in_ci():
        return
    here = str(Path(__file__).parent)
    keep, drop = [], []
    for it in items:
        is_pg = str(it.path).startswith(here) and "postgres" in it.keywords
        (drop if is_pg else keep).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def db_url_for(backend: str, tmp: Path) -> tuple[str | None, bool]:
    if backend == "sqlite":
        return None, False
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set but CI=true: PostgreSQL tests must run in CI "
                    "(run scripts/ensure_postgres.sh as root and export its output)")
    return url, True


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory):
    url, reset = db_url_for(backend, tmp_path_factory.mktemp("pg"))
    with running_server(db_url=url, reset_db=reset, log_level="warning") as srv:
        yield srv


@pytest.fixture
def device(server) -> Device:
    return Device.enroll(server.url, server.admin.enroll_code("150101"))
