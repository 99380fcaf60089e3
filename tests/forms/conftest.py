"""Fixtures for the form engine tests (no Qt)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.forms import FormSession, bundled_form, load_form
from app.forms.xpath import compile_expr, substitute_refs, to_string

DATA = Path(__file__).parent / "data"
TODAY = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def fixed_clock() -> datetime:
    return TODAY


@contextmanager
def time_zone(name: str) -> Iterator[None]:
    """Run the body with the process's local time zone set to `name` (e.g.
    "America/Lima"), restoring the previous one afterwards."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture(scope="session")
def demo_def():
    return load_form(DATA / "demo.md")


@pytest.fixture(scope="session")
def fsu_def():
    return bundled_form("fsu")


@pytest.fixture(scope="session")
def s100_def():
    return bundled_form("s100")


@pytest.fixture
def fsu_answers() -> dict[str, Any]:
    return json.loads((DATA / "fsu_example.json").read_text("utf-8"))


@pytest.fixture
def fsu(fsu_def, fsu_answers) -> FormSession:
    return FormSession(fsu_def, fsu_answers, clock=fixed_clock)


def evaluate(session: FormSession, expr: str, at: str | None = None) -> Any:
    """Evaluate an expression as if it were bound to the node at `at`."""
    node = session._find(at) if at else session.root
    names = session.formdef.names
    src = substitute_refs(expr, lambda n: "/" + "/".join(names[n]))
    compiled = compile_expr(src, node.defn.path)
    return compiled.fn(node, session.env.at(node))


def ev_str(session: FormSession, expr: str, at: str | None = None) -> str:
    return to_string(evaluate(session, expr, at))
