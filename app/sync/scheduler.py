"""When to sync: as soon as the server is reachable, again every few minutes, at
once on "Sincronizar ahora", and after failures with exponential backoff and
jitter. `SchedulePolicy` is the decision (pure, time passed in; the window uses
it with a timer); `SyncScheduler` runs it on a thread for headless use."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.sync.model import Cancelled, SyncBusy, SyncError, SyncReport

log = logging.getLogger("siee.sync.scheduler")


@dataclass
class Backoff:
    base: float = 5.0
    cap: float = 300.0
    factor: float = 2.0
    rng: random.Random | None = None

    def delay(self, failures: int, retry_after: float = 0.0) -> float:
        """Seconds to wait after `failures` failures in a row ("equal jitter": between
        half and all of the exponential step, so laptops of one ULE do not retry in step)."""
        if failures <= 0:
            return 0.0
        step = min(self.cap, self.base * self.factor ** (failures - 1))
        r = (self.rng or random).uniform(step / 2, step)
        return max(r, retry_after)


class SchedulePolicy:
    """The scheduler's state: when the next attempt is due and why."""

    def __init__(self, interval: float = 300.0, backoff: Backoff | None = None,
                 now: float | None = None) -> None:
        self.interval = interval
        self.backoff = backoff or Backoff()
        self.failures = 0
        self.next_at = time.monotonic() if now is None else now  # first check right away
        self.forced = False
        self.online: bool | None = None
        self.last_error: str | None = None

    def due(self, now: float) -> bool:
        return self.forced or now >= self.next_at

    def request_now(self) -> None:
        self.forced = True

    def take_forced(self) -> bool:
        f, self.forced = self.forced, False
        return f

    def on_success(self, now: float) -> None:
        self.failures = 0
        self.online = True
        self.last_error = None
        self.next_at = now + self.interval

    def on_offline(self, now: float) -> None:
        """The health probe failed: try again after a growing, jittered wait."""
        self.failures += 1
        self.online = False
        self.next_at = now + self.backoff.delay(self.failures)

    def on_failure(self, now: float, error: SyncError) -> None:
        if isinstance(error, Cancelled):
            self.next_at = now + self.interval
            return
        if isinstance(error, SyncBusy):
            self.next_at = now + min(30.0, self.backoff.base)  # another sync is on it
            return
        self.failures += 1
        self.last_error = error.user_message
        if error.transient:
            self.online = False
            self.next_at = now + self.backoff.delay(self.failures,
                                                     getattr(error, "retry_after", 0.0))
        else:
            # Not enrolled, revoked, refused: retrying soon will not help.
            self.next_at = now + max(self.interval, self.backoff.cap)

    def seconds_left(self, now: float) -> float:
        return 0.0 if self.forced else max(0.0, self.next_at - now)


Event = Callable[[str, Any], None]


class SyncScheduler:
    """Runs `SchedulePolicy` on a thread. `client` is an app.sync.client.SyncClient.
    Events: ("offline", None), ("started", forced), ("progress", SyncProgress),
    ("ok", SyncReport), ("failed", SyncError)."""

    def __init__(self, client: Any, policy: SchedulePolicy | None = None,
                 on_event: Event | None = None, probe_timeout: float = 5.0) -> None:
        self.client = client
        self.policy = policy or SchedulePolicy()
        self.on_event = on_event or (lambda kind, data: None)
        self.probe_timeout = probe_timeout
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.prepare_idle = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="siee-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._cancel.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def sync_now(self) -> None:
        """Start a sync at once (or right after the one running)."""
        self.policy.request_now()
        self._wake.set()

    def cancel(self) -> None:
        """Stop the running sync at the next safe point; nothing is lost."""
        self._cancel.set()

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def _prepare(self) -> bool:
        """Idle time: the form engine's part of the next sync, a few records at a time."""
        ws = getattr(self.client, "ws", None)
        if ws is None or not self.prepare_idle:
            return False
        try:
            return bool(ws.sync_prepare(20))
        except SyncError:
            return False
        except Exception:  # noqa: BLE001 - preparing is an optimisation only
            log.exception("prepare failed")
            return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            if not self.policy.due(now):
                if self._prepare():
                    continue
                self._wake.wait(min(1.0, self.policy.seconds_left(now)))
                self._wake.clear()
                continue
            forced = self.policy.take_forced()
            if not forced and not self.client.reachable(self.probe_timeout):
                self.policy.on_offline(time.monotonic())
                self.on_event("offline", None)
                continue
            self.run_once(forced)

    def run_once(self, forced: bool = True) -> SyncReport | None:
        self._cancel.clear()
        self._busy.set()
        self.runs += 1
        self.on_event("started", forced)
        try:
            report = self.client.sync(
                progress=lambda pr: self.on_event("progress", pr),
                cancelled=self._cancel.is_set,
            )
        except SyncError as e:
            self.policy.on_failure(time.monotonic(), e)
            log.info("sync failed (%s); next in %.0f s", e.code,
                     self.policy.seconds_left(time.monotonic()))
            self.on_event("failed", e)
            return None
        except Exception as e:  # noqa: BLE001 - a bug must not kill the scheduler
            log.exception("sync crashed")
            err = SyncError(f"unexpected {type(e).__name__}",
                            "Ocurrió un error inesperado al sincronizar. Se reintentará.")
            err.transient = True
            self.policy.on_failure(time.monotonic(), err)
            self.on_event("failed", err)
            return None
        finally:
            self._busy.clear()
        self.policy.on_success(time.monotonic())
        self.on_event("ok", report)
        return report
