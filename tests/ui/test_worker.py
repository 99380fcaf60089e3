"""The background helper: results, progress and errors come back on the GUI
thread; cancel is seen by the work; errors end in one Spanish message box."""

from __future__ import annotations

import logging
import threading

from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.errors import NotAllowed
from app.ui.common.worker import GENERIC_ERROR, SerialSaver, run_job


def boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    gui = threading.get_ident()
    seen: list[tuple] = []

    def work(job):
        assert threading.get_ident() != gui
        for i in range(1, 4):
            job.progress(i, 3)
        return "hecho"

    job = run_job(
        work,
        on_result=lambda r: seen.append(("result", r, threading.get_ident() == gui)),
        on_progress=lambda i, n: seen.append(("progress", i, threading.get_ident() == gui)),
    )
    qtbot.waitUntil(lambda: any(s[0] == "result" for s in seen), timeout=5000)
    assert job.done and job.result == "hecho"
    assert seen[-1] == ("result", "hecho", True)
    assert [s[1] for s in seen if s[0] == "progress"] == [1, 2, 3]
    assert all(s[2] for s in seen)


def test_cancel_is_seen_by_the_work(qtbot):
    started = threading.Event()

    def work(job):
        started.set()
        while not job.cancelled:
            pass
        return "cancelada"

    done: list[str] = []
    job = run_job(work, on_result=done.append)
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: done == ["cancelada"], timeout=5000)


def test_errors_become_one_spanish_message(qtbot, caplog):
    def refused(_job):
        raise NotAllowed("role lacks permission", "Su rol no permite aprobar fichas.")

    def broken(_job):
        raise KeyError("internal detail")

    run_job(refused)
    qtbot.waitUntil(lambda: len(boxes()) == 1, timeout=5000)
    assert boxes()[0].text() == "Su rol no permite aprobar fichas."
    boxes()[0].close()
    with caplog.at_level(logging.ERROR, logger="siee.ui.worker"):
        run_job(broken)
        qtbot.waitUntil(lambda: len(boxes()) == 1, timeout=5000)
    box = boxes()[0]
    assert box.text() == GENERIC_ERROR and "internal detail" not in box.text()
    assert any("unexpected error" in r.message and r.exc_info for r in caplog.records)
    box.close()


def test_serial_saver_keeps_order_and_coalesces(qtbot):
    gate, entered = threading.Event(), threading.Event()
    saved: list[int] = []

    def save(answers: dict) -> int:
        entered.set()
        gate.wait(5)
        saved.append(answers["n"])
        return answers["n"]

    saver = SerialSaver(save)
    saver.request({"n": 1})
    assert entered.wait(5)
    for n in range(2, 6):
        saver.request({"n": n})
    assert not saver.idle
    gate.set()
    assert saver.flush(5)
    # the first save was running; 2..4 were replaced by the newest while it ran
    assert saved == [1, 5]
