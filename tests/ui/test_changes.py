"""Screens show the new truth after every operation (issue 16 item 9, issue 13
item 11): the application-wide change broadcast, the review window's header after
a decision made there or elsewhere, and the entry window's error count beside an
error shown inline."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

from app.core.errors import SieeError
from app.core.states import STATE_LABELS, State
from app.demo import households
from app.ui.common.changes import RECORDS, REVIEW, SYNC, Change, broadcast, changes, subscribe
from app.ui.common.worker import run_job
from app.ui.entry.form_window import FormWindow, create_record
from app.ui.review.review_queue import ReviewQueuePage
from app.ui.review.review_view import ReviewWindow
from tests.review.conftest import PASSWORDS, Team


@pytest.fixture
def team(ws_factory, clock) -> Team:
    ws = ws_factory(create=True)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    return Team(ws, clock)


def test_a_job_broadcasts_its_changes_after_success_and_never_after_failure(qtbot):
    seen: list[Change] = []
    screen = QWidget()
    qtbot.addWidget(screen)
    subscribe(screen, seen.append)

    with qtbot.waitSignal(changes().changed, timeout=5000):
        job = run_job(lambda job: 1, changes={RECORDS, SYNC}, origin=screen)
    assert job.result == 1
    assert seen == [Change(frozenset({RECORDS, SYNC}), screen)]
    assert seen[0].touches(SYNC) and not seen[0].touches(REVIEW)

    def fails(job):
        raise SieeError("no", user_message="No se pudo.")

    failed: list[BaseException] = []
    job = run_job(fails, changes={RECORDS}, on_error=failed.append)
    qtbot.waitUntil(lambda: bool(failed), timeout=5000)
    assert len(seen) == 1  # nothing changed, nothing told
    with pytest.raises(ValueError):
        broadcast({"record"})  # a misspelt topic is an error, not a silent no-op


def test_a_closed_screen_is_not_told_any_more(qtbot):
    seen: list[Change] = []
    screen = QWidget()
    subscribe(screen, seen.append)
    broadcast({RECORDS})
    assert len(seen) == 1
    screen.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not isValid(screen)
    broadcast({RECORDS})
    assert len(seen) == 1


def test_the_review_header_shows_the_state_after_approval(team, qtbot):
    team.as_("emp")
    uuid = team.fsu(households(1, seed=5)[0])
    ws = team.as_("sup")
    w = ReviewWindow(ws, uuid)
    qtbot.addWidget(w)
    assert f"estado: {STATE_LABELS[State.COMPLETE]}" in w.header.text()
    w.approve()
    assert ws.get(uuid).state == State.QUEUED.value
    assert f"estado: {STATE_LABELS[State.QUEUED]}" in w.header.text()
    assert STATE_LABELS[State.COMPLETE] not in w.header.text()
    assert not w.approve_btn.isEnabled()


def test_an_open_review_window_follows_an_approval_made_in_the_queue(team, qtbot):
    team.as_("emp")
    uuid = team.fsu(households(1, seed=6)[0])
    ws = team.as_("sup")
    w = ReviewWindow(ws, uuid)
    qtbot.addWidget(w)
    assert w.approve_btn.isEnabled()
    page = ReviewQueuePage(ws)
    qtbot.addWidget(page)
    page.show()
    page.reload()
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10000)
    job = page.approve([uuid])  # the bulk approval, on the worker thread
    qtbot.waitUntil(lambda: job.done and page.approve_job is None, timeout=20000)
    # nobody wired the queue to this window: the broadcast told it
    qtbot.waitUntil(lambda: f"estado: {STATE_LABELS[State.QUEUED]}" in w.header.text(),
                    timeout=5000)
    assert not w.approve_btn.isEnabled()


def test_the_error_count_counts_an_error_shown_beside_a_question(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = FormWindow(ws, create_record(ws, "fsu"))
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    path = "/fsu/hogar/habitaciones"
    w.jump(path)
    field = QApplication.focusWidget()
    assert w._row_of(field).path == path
    qtbot.keyClicks(field, "x")  # not a number: refused beside the question
    QTest.keyClick(field, Qt.Key.Key_Return)
    row = w.current_row
    assert row.message.isVisible() and "números enteros" in row.message.text()
    assert w.issues_title.text().startswith("Errores: 1 ")
    texts = [w.issues.item(i).text() for i in range(w.issues.count())]
    assert any("números enteros" in t for t in texts)
    # corrected: the inline error and its count go away together
    field.clear()
    qtbot.keyClicks(field, "3")
    QTest.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not row.message.text().startswith("✗"), timeout=3000)
    w.update_issues()
    assert not any("números enteros" in w.issues.item(i).text()
                   for i in range(w.issues.count()))
    w.close()
