"""Which database backends the server tests run on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PG_ENV = "SIEE_TEST_PG_URL"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def db_url_for(backend: str, tmp: Path | None = None) -> tuple[str | None, bool]:
    """(db_url, reset_db) for a backend; None = SQLite in the server's data dir."""
    if backend == "sqlite":
        return None, False
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.fail(f"{PG_ENV} is not set but CI=true: PostgreSQL tests must run in CI "
                    "(run scripts/ensure_postgres.sh as root and export its output)")
    return url, True
