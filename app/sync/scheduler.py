"""When to sync: as soon as the server is reachable, again every few minutes, at
once on "Sincronizar ahora", and after failures with exponential backoff and
jitter.

One loop, three runners. `SchedulePolicy.step(now)` is the pure decision (time
passed in): `Wait`, `Prepare` (idle work) or `ProbeAndSync`. `attempt()` carries out
a ProbeAndSync on any thread and `SchedulePolicy.record()` feeds its outcome back.
The background thread (`SyncScheduler`, headless and `sync watch`), the window's
timer (app/ui/sync/sync_panel.py SyncController.tick) and the field-week simulation
(sim/field_week.py) all run exactly these three calls."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from app.sync.model import (
    CancelFn,
    Cancelled,
    ProgressFn,
    ServerBusy,
    SyncBusy,
    SyncError,
    SyncProgress,
    SyncReport,
)

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


@dataclass(frozen=True)
class Wait:
    """Nothing to do for `seconds` (a runner may wake earlier on "Sincronizar ahora")."""

    seconds: float


@dataclass(frozen=True)
class Prepare:
    """Idle: do the form engine's part of the next sync (a few records)."""


@dataclass(frozen=True)
class ProbeAndSync:
    """A sync is due: probe the server first (`probe`), unless a person asked for it."""

    probe: bool


Step = Wait | Prepare | ProbeAndSync


class SyncTarget(Protocol):
    """What the loop drives: the workspace's `ws.centre` (or a SyncClient in tests)."""

    def reachable(self, timeout: float = 5.0) -> bool: ...

    def sync(self, progress: ProgressFn | None = None,
             cancelled: CancelFn | None = None) -> SyncReport: ...

    def prepare(self, limit: int = 20) -> int: ...


# The outcome of one attempt: a report, None (the probe found the server offline), or
# the SyncError that stopped it.
Outcome = SyncReport | SyncError | None


def attempt(target: SyncTarget, action: ProbeAndSync, probe_timeout: float = 5.0,
            progress: ProgressFn | None = None,
            cancelled: CancelFn | None = None) -> SyncReport | None:
    """Carry out a ProbeAndSync (any thread): None when the probe finds the server
    offline, else the sync's report. Raises SyncError as the sync does."""
    if action.probe and not target.reachable(probe_timeout):
        return None
    return target.sync(progress=progress, cancelled=cancelled)


def as_sync_error(e: BaseException, user_message: str) -> SyncError:
    """An unexpected exception as a transient SyncError (a bug must not stop the loop)."""
    if isinstance(e, SyncError):
        return e
    err = SyncError(f"unexpected {type(e).__name__}", user_message)
    err.transient = True
    return err


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

    def step(self, now: float, idle_work: bool = False) -> Step:
        """The next thing to do at `now` (seconds on the runner's clock). `idle_work`:
        whether preparing records could help while no sync is due. Pure: call
        `started()` when acting on a ProbeAndSync, `record()` with its outcome."""
        if self.due(now):
            return ProbeAndSync(probe=not self.forced)
        if idle_work:
            return Prepare()
        return Wait(self.seconds_left(now))

    def started(self) -> None:
        """A ProbeAndSync is being carried out: a pending request is served."""
        self.forced = False

    def record(self, now: float, outcome: Outcome) -> None:
        """Feed back the outcome of `attempt` (None: offline)."""
        if outcome is None:
            self.on_offline(now)
        elif isinstance(outcome, SyncError):
            self.on_failure(now, outcome)
        else:
            self.on_success(now)

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
        if isinstance(error, ServerBusy):
            # The server answered and asked for a wait (503 busy beyond the client's own
            # waits, 429 over this device's quota, both with Retry-After): the link is
            # fine and nothing failed. Try again when it says, not after a growing backoff.
            self.online = True
            self.last_error = None
            self.next_at = now + min(self.backoff.cap,
                                     max(1.0, error.retry_after or self.backoff.base))
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
    """Runs the policy's steps on a thread (headless use, `sync watch`). `target` is
    usually `ws.centre`. Events: ("offline", None), ("started", forced),
    ("progress", SyncProgress), ("ok", SyncReport), ("failed", SyncError)."""

    def __init__(self, target: SyncTarget, policy: SchedulePolicy | None = None,
                 on_event: Event | None = None, probe_timeout: float = 5.0) -> None:
        self.target = target
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
        self._idle_work = True  # until a Prepare step finds nothing to do

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
        try:
            return bool(self.target.prepare(20))
        except SyncError:
            return False
        except Exception:  # noqa: BLE001 - preparing is an optimisation only
            log.exception("prepare failed")
            return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            action = self.policy.step(time.monotonic(), self.prepare_idle and self._idle_work)
            if isinstance(action, Prepare):
                self._idle_work = self._prepare()
                continue
            if isinstance(action, Wait):
                self._wake.wait(min(1.0, action.seconds))
                self._wake.clear()
                self._idle_work = True  # new records may have been queued meanwhile
                continue
            self.policy.started()
            if action.probe and not self.target.reachable(self.probe_timeout):
                self.policy.record(time.monotonic(), None)
                self.on_event("offline", None)
                continue
            self.run_once(forced=not action.probe)

    def run_once(self, forced: bool = True) -> SyncReport | None:
        """One sync now, without a probe (`forced`: a person asked for it; reported in
        the "started" event). Returns the report, or None when it failed."""
        self.policy.started()
        self._cancel.clear()
        self._busy.set()
        self.runs += 1
        self.on_event("started", forced)
        outcome: Outcome
        try:
            outcome = attempt(self.target, ProbeAndSync(probe=False), self.probe_timeout,
                              progress=lambda pr: self.on_event("progress", pr),
                              cancelled=self._cancel.is_set)
        except SyncError as e:
            outcome = e
        except Exception as e:  # noqa: BLE001 - a bug must not kill the scheduler
            log.exception("sync crashed")
            outcome = as_sync_error(e, "Ocurrió un error inesperado al sincronizar. "
                                       "Se reintentará.")
        finally:
            self._busy.clear()
        self.policy.record(time.monotonic(), outcome)
        if isinstance(outcome, SyncError):
            log.info("sync failed (%s); next in %.0f s", outcome.code,
                     self.policy.seconds_left(time.monotonic()))
            self.on_event("failed", outcome)
            return None
        self.on_event("ok", outcome)
        return outcome


__all__ = ["Backoff", "Prepare", "ProbeAndSync", "SchedulePolicy", "SyncProgress",
           "SyncScheduler", "SyncTarget", "Wait", "attempt"]
