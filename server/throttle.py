"""Request counters kept in the database, so that every server process (and every
worker of `siee-server serve --workers N`) sees the same limits.

A limit is "at most N hits per key per minute", counted in one-minute windows with
the previous window weighted by how much of it still overlaps the last 60 s (a
sliding-window estimate that needs one row per key and minute)."""

from __future__ import annotations

import math
import time

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from server.db import rate_counters


def count_hit(c: Connection, key: str, now: float) -> float:
    """Count one hit for `key` at `now` (unix seconds) in the caller's transaction and
    return the hits of the last 60 s (estimate, this one included)."""
    window = int(now // 60)
    ins = (pg_insert if c.dialect.name == "postgresql" else sqlite_insert)(rate_counters)
    stmt = ins.values(key=key, window=window, hits=1).on_conflict_do_update(
        index_elements=[rate_counters.c.key, rate_counters.c.window],
        set_={"hits": rate_counters.c.hits + 1},
    ).returning(rate_counters.c.hits)
    current = int(c.execute(stmt).scalar_one())
    prev = c.execute(select(rate_counters.c.hits).where(
        rate_counters.c.key == key, rate_counters.c.window == window - 1)).scalar()
    overlap = 1.0 - (now - window * 60) / 60.0
    return current + (prev or 0) * overlap


def wait_seconds(hits: float, per_minute: int, now: float) -> float | None:
    """Seconds to wait when `hits` in the last minute exceed `per_minute` (None: go)."""
    if per_minute <= 0 or hits <= per_minute:
        return None
    return float(max(1, math.ceil(60 - (now % 60))))


class Throttle:
    """Per-key limits on one database (device requests, enrollment attempts)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_purge = 0.0

    def hit(self, key: str, per_minute: int, now: float | None = None,
            c: Connection | None = None) -> float | None:
        """Count one hit; return seconds to wait when over `per_minute`, else None.
        With `c`, counts inside the caller's transaction (who then calls purge_if_due
        once that transaction is over)."""
        now = time.time() if now is None else now
        if per_minute <= 0:
            return None
        if c is not None:
            return wait_seconds(count_hit(c, key, now), per_minute, now)
        with self.engine.begin() as conn:
            hits = count_hit(conn, key, now)
        self.purge_if_due(now)
        return wait_seconds(hits, per_minute, now)

    def purge_if_due(self, now: float) -> None:
        """Delete counters older than two minutes, at most once a minute per process."""
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        with self.engine.begin() as c:
            c.execute(delete(rate_counters).where(rate_counters.c.window < int(now // 60) - 2))
