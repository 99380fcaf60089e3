"""A function of one text, kept by that text in a plain dict emptied when full.

For the form engine's hot little functions (a date text read, a DNI checked), whose
same arguments come back within a record and across records: functools.lru_cache
keeps order for eviction, and on this project's records its miss cost as much as the
work itself (measured in session 6, docs/forms.md); emptying a full dict costs nothing
per call and loses only what comes back anyway."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")

_UNSEEN = object()


def memo_by_text(size: int = 20_000) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Decorator: `fn(text)` computed once per text while fewer than `size` (entries)
    are kept; the whole store is emptied when full. `fn` must be pure; what it raises is
    not kept. Thread-safe under the GIL (dict get and set are atomic)."""

    def wrap(fn: Callable[[str], T]) -> Callable[[str], T]:
        kept: dict[str, T] = {}

        @wraps(fn)
        def memo(text: str) -> T:
            hit = kept.get(text, _UNSEEN)
            if hit is not _UNSEEN:
                return hit  # type: ignore[return-value]
            value = fn(text)
            if len(kept) >= size:
                kept.clear()
            kept[text] = value
            return value

        return memo

    return wrap


__all__ = ["memo_by_text"]
