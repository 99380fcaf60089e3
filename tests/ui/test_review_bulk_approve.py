"""Bulk approval of 200 records runs off the GUI thread: every approval runs on the
worker, the button stays disabled meanwhile, all 200 are approved and the queue
reloads. How long the GUI thread may stall meanwhile depends on the machine's load,
so it is a benchmark figure, not an assertion: bench/review.py
(`review.bulk_approve_200_max_gui_stall_ms`)."""

from __future__ import annotations

import threading
import time

from PySide6.QtWidgets import QPushButton

from app.core.states import State
from app.demo import households
from app.ui.review.review_queue import ReviewQueuePage
from tests.review.conftest import PASSWORDS, Team

N = 200


def test_bulk_approve_of_200_keeps_the_window_responsive(qtbot, ws_factory, clock):
    ws = ws_factory(create=True)
    team = Team(ws, clock)
    for name in ("sup", "emp"):
        ws.admin.add_user(name, "supervisor" if name == "sup" else "empadronador", PASSWORDS[name],
                          must_change=False)
    team.as_("emp")
    for hh in households(N, seed=3):
        team.s100(hh)
    team.as_("sup")

    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == N, timeout=20_000)
    page.select_all()
    assert page.approve_btn.isEnabled() and f"({N})" in page.approve_btn.text()

    # where and when each approval really runs
    calls: list[tuple[float, bool]] = []
    approve = ws.review.approve

    def spy(uuid: str) -> None:
        calls.append((time.monotonic(), threading.current_thread() is threading.main_thread()))
        approve(uuid)

    ws.review.approve = spy  # type: ignore[method-assign]
    progress: list[int] = []
    job = page.approve_selected()
    assert job is not None
    job.progressed.connect(lambda done, _total: progress.append(done))
    assert not page.approve_btn.isEnabled()  # no second run while this one works
    assert page.approve_selected() is None  # nor through the shortcut
    qtbot.waitUntil(lambda: page.approve_job is None, timeout=60_000)

    # every approval ran on the worker, none on the GUI thread
    assert len(calls) == N and not any(on_gui for _t, on_gui in calls)
    # one progress report per record; the order they reach this slot is not fixed (the
    # progress dialog's setValue() runs the event loop and may deliver later ones first)
    assert sorted(progress) == list(range(1, N + 1))
    res = page.last_result
    assert res is not None and len(res.approved) == N and not res.refused
    assert "Se aprobaron 200" in page.result_box.text()
    assert ws.counts_by_state()[State.QUEUED.value] == N
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)  # queue reloaded
    qtbot.waitUntil(lambda: page.load_job is None or page.load_job.done, timeout=10_000)


def test_cancel_stops_the_bulk_approval(qtbot, ws_factory, clock):
    ws = ws_factory(create=True)
    team = Team(ws, clock)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], must_change=False)
    team.as_("emp")
    uuids = [team.s100(hh) for hh in households(30, seed=4)]
    team.as_("admin")
    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    approve = ws.review.approve
    gate = threading.Event()

    def slow(uuid: str) -> None:
        gate.wait(5)
        approve(uuid)

    ws.review.approve = slow  # type: ignore[method-assign]
    job = page.approve(uuids)
    cancel = page.progress.findChild(QPushButton)
    assert cancel.text() == "Cancelar"
    cancel.click()  # the person presses «Cancelar»
    gate.set()
    qtbot.waitUntil(lambda: page.approve_job is None, timeout=20_000)
    res = page.last_result
    assert res is not None and len(res.approved) <= 1
    assert ws.counts_by_state()[State.COMPLETE.value] >= 29
    assert job.done
    qtbot.waitUntil(lambda: page.load_job is None or page.load_job.done, timeout=10_000)
