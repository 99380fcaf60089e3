"""Supervisor's bulk approval: how long the window stops answering while 200 records
are approved.

A real workspace with 200 completed S100 requests, the real review queue page
(offscreen). The supervisor selects all and approves; the approvals run on the
background worker while a 5 ms QTimer on the GUI thread notes when the event loop
gets to run. The longest gap between two such moments (from the first approval to
the last) is the longest the window would not have reacted to a key or a click.

Prints:
  review.bulk_approve_200_max_gui_stall_ms: X ms   longest GUI-thread gap during the work
  review.bulk_approve_200_s: X s                   wall time of the 200 approvals
Exit code 1 when not all 200 were approved."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

N = 200
TICK_MS = 5


def main() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.demo import households
    from app.demo_answers import s100_answers
    from app.forms import bundled_form
    from app.store.crypto import KdfParams
    from app.ui.review.review_queue import ReviewQueuePage
    from app.workspace import Workspace

    _app = QApplication.instance() or QApplication([])  # alive for the whole run
    with tempfile.TemporaryDirectory(prefix="siee-bench-review-") as tmp:
        kdf = KdfParams(n=2**12)
        ws, _code = Workspace.create(Path(tmp) / "campo", "admin", "clave-bench-123", kdf=kdf)
        ws.admin.add_user("emp", "empadronador", "clave-emp-1234", must_change=False)
        ws.admin.add_user("sup", "supervisor", "clave-sup-1234", must_change=False)
        ws.logout()
        ws.login("emp", "clave-emp-1234")
        version = str(bundled_form("s100").version)
        for hh in households(N, seed=3):
            ws.complete(ws.new_record("s100", version, s100_answers(hh)))
        ws.logout()
        ws.login("sup", "clave-sup-1234")

        page = ReviewQueuePage(ws)
        page.resize(1200, 700)
        page.show()
        page.reload()
        _wait(lambda: page.model.rowCount() == N, 60)
        page.select_all()

        calls: list[float] = []
        approve = ws.review.approve

        def timed(uuid: str) -> None:
            calls.append(time.monotonic())
            approve(uuid)

        ws.review.approve = timed  # type: ignore[method-assign]
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start()
        job = page.approve_selected()
        if job is None:
            print("the approval did not start", file=sys.stderr)
            return 1
        _wait(lambda: page.approve_job is None, 300)
        end = time.monotonic()
        timer.stop()
        res = page.last_result
        approved = len(res.approved) if res is not None else 0
        if approved != N or len(calls) != N:
            print(f"approved {approved} of {N}", file=sys.stderr)
            return 1
        start, last = calls[0], calls[-1]
        during = [t for t in ticks if start <= t <= last]
        marks = [start, *during, last]
        stall = max(b - a for a, b in zip(marks, marks[1:], strict=False))
        print(f"review.bulk_approve_200_max_gui_stall_ms: {stall * 1000:.0f} ms")
        print(f"review.bulk_approve_200_s: {end - start:.2f} s")
        _wait(lambda: page.load_job is None or page.load_job.done, 30)
        page.close()
        ws.close()
    return 0


def _wait(cond: Callable[[], bool], timeout_s: float) -> None:
    """Run the GUI event loop until `cond()` holds (checked every 10 ms); RuntimeError
    after `timeout_s` seconds."""
    from PySide6.QtCore import QEventLoop, QTimer

    if cond():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timed_out: list[bool] = []

    def check() -> None:
        if cond():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if timed_out:
        raise RuntimeError("timed out")


if __name__ == "__main__":
    sys.exit(main())
