"""Bounded work per server process: at most `limit` batches are validated and stored
at once, at most `max_waiting` wait (first come, first served) for at most
`max_wait` seconds; beyond that the request is answered at once with 503 and a
Retry-After, instead of every batch finishing late together."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from server import errors
from server.observe import INGEST_INFLIGHT, INGEST_WAITING


class IngestGate:
    """The ingest slots of one process (one asyncio event loop)."""

    def __init__(self, limit: int, max_waiting: int, max_wait: float) -> None:
        self.limit = max(1, limit)
        self.max_waiting = max(0, max_waiting)
        self.max_wait = max_wait
        self.waiting = 0
        self.active = 0
        self._sem: asyncio.Semaphore | None = None

    def retry_after(self) -> float:
        """Seconds a refused client should wait: grows with the queue, with jitter so that
        refused laptops do not come back together."""
        base = 1.0 + 4.0 * min(1.0, self.waiting / max(1, self.max_waiting))
        return base + random.uniform(0.0, base)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one ingest slot; raises busy (503, Retry-After) when none comes in time."""
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.limit)
        sem = self._sem
        if sem.locked() and self.waiting >= self.max_waiting:
            raise errors.busy("ingest queue full", self.retry_after())
        self.waiting += 1
        INGEST_WAITING.inc()
        try:
            await asyncio.wait_for(sem.acquire(), self.max_wait)
        except TimeoutError:
            raise errors.busy("no ingest slot in time", self.retry_after()) from None
        finally:
            self.waiting -= 1
            INGEST_WAITING.dec()
        self.active += 1
        INGEST_INFLIGHT.inc()
        try:
            yield
        finally:
            self.active -= 1
            INGEST_INFLIGHT.dec()
            sem.release()
