"""What changed, told to every screen: one application-wide broadcast.

After an operation that changes stored data, its caller says which topics it
touched (`broadcast({RECORDS, REVIEW}, origin=self)`, or `run_job(...,
changes={RECORDS})`, which broadcasts once the work succeeded). Screens subscribe
once (`subscribe(self, self.on_changes)`) and refresh themselves when a topic they
show is in the set, instead of pages wiring each other by hand. The model is
Anki's `CollectionOp` + `operation_did_execute` hook: the operation reports its
changes, every open screen decides whether to redraw.

Topics: RECORDS (a record's answers or state), REVIEW (review decisions, the
queue), USERS, SETTINGS, SYNC (outbox, batches, device)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

RECORDS = "records"
REVIEW = "review"
USERS = "users"
SETTINGS = "settings"
SYNC = "sync"
TOPICS = frozenset({RECORDS, REVIEW, USERS, SETTINGS, SYNC})


@dataclass(frozen=True)
class Change:
    """One broadcast: the topics touched and the object that made the change
    (`origin`, often the screen; None when unknown). A screen may skip a change it
    made itself when it already shows the result."""

    topics: frozenset[str]
    origin: object | None = None

    def touches(self, *topics: str) -> bool:
        """True when any of `topics` changed."""
        return not self.topics.isdisjoint(topics)


class Changes(QObject):
    """The application-wide broadcaster (one per process, see `changes()`).
    `changed(Change)` is emitted on the GUI thread."""

    changed = Signal(object)

    def broadcast(self, topics: Iterable[str], origin: object | None = None) -> Change:
        """Tell every subscriber that `topics` changed. Raises ValueError for a
        topic not in TOPICS (a typo would otherwise refresh nothing, silently)."""
        t = frozenset(topics)
        unknown = t - TOPICS
        if unknown:
            raise ValueError(f"unknown change topics: {sorted(unknown)}")
        change = Change(t, origin)
        if t:
            self.changed.emit(change)
        return change


_changes: Changes | None = None


def changes() -> Changes:
    """The one broadcaster of the application (made on first use, GUI thread)."""
    global _changes
    if _changes is None:
        _changes = Changes()
    return _changes


def broadcast(topics: Iterable[str], origin: object | None = None) -> Change:
    """Shorthand for `changes().broadcast(topics, origin)`."""
    return changes().broadcast(topics, origin)


def subscribe(screen: QObject, handler: Callable[[Change], None]) -> None:
    """Call `handler(change)` after every broadcast while `screen` lives. The
    connection goes with the screen: a closed (deleted) screen is never called."""

    def deliver(change: Change) -> None:
        if isValid(screen):
            handler(change)

    changes().changed.connect(deliver)
    screen.destroyed.connect(lambda *_: _disconnect(deliver))


def _disconnect(slot: Callable[[Change], None]) -> None:
    try:
        changes().changed.disconnect(slot)
    except (RuntimeError, TypeError):  # already gone at shutdown
        pass
