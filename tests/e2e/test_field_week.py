"""A week in a ULE, small: two working days of 12 households on three laptops, a real
server, the link in two 15-minute windows a day, a USB-only laptop, the centre returning
and classifying, and the three faults (a laptop killed mid-sync, the server restarted
mid-upload, a damaged batch file). See sim/field_week.py and docs/field-week.md."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.field_week import Config, Result, run_field_week


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Result, Result]:
    base = tmp_path_factory.mktemp("fieldweek")
    first = run_field_week(Config.small(), base / "a")
    second = run_field_week(Config.small(), base / "b")
    return first, second


def test_goals(runs):
    res = runs[0]
    f = res.figures
    assert f["households"] == 24
    assert f["delivered_exactly_once"] == 1
    assert f["lost"] == 0
    assert f["returns_reached_author"] == 1.0
    assert f["results_shown"] == 1.0
    # The link laptops went out in the first window they could (the scheduler's probe
    # and backoff cost minutes against hours of waiting for a window).
    assert res.extra["latency_vs_ideal_link"] <= 1.05
    assert math.isfinite(f["latency_vs_ideal"]) and f["latency_vs_ideal"] >= 1.0


def test_the_loop_was_exercised(runs):
    x = runs[0].extra
    assert (x["faults_kill"], x["faults_restart"], x["faults_corrupt"]) == (1, 1, 1)
    assert x["returned_by_centre"] >= 1 and x["results_posted"] >= 20
    # Every returned record came back as a new revision and was classified in the end.
    assert x["records_approved"] == 24 + x["returned_by_centre"]
    # The batches whose receipts the faults cut off were sent again, byte for byte.
    assert x["batches_resent"] >= 2
    assert x["unplanned_sync_failures"] == 0
    # The killed laptop's database and every laptop's audit chain are intact.
    assert x["audit_and_db_ok"] == 1
    assert x["anomalies"] == 0
    # Issue 15: absent households (every sixth: 4 of 24) and one request refused twice
    # and dropped; each of those records reached the centre exactly once (the goal
    # `delivered_exactly_once` above counts them) and the centre holds the case dropped.
    assert x["visits_failed"] == 4 + 2
    assert x["case_records"] == 4 + 2 + 1 + 1  # visits, the request and its desestimación
    assert x["cases_dropped_at_centre"] == 1
    days = runs[0].days
    assert sum(d["held_usb"] for d in days) > 0 and sum(d["held_link"] for d in days) > 0


def test_deterministic_for_a_seed(runs):
    a, b = runs
    assert a.figures == b.figures
    assert a.days == b.days
    assert a.trace == b.trace


def test_chart(runs, tmp_path: Path):
    from sim.chart import draw_chart

    out = draw_chart(runs[0], tmp_path / "week.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
