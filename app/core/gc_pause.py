"""Deferring CPython's cyclic garbage collector while a large object graph is built.

A record opened by the form engine is a tree of several hundred small objects that
point at each other (parent and children), built in one go. The collector's youngest
generation is scanned every 700 allocations, so building one 20-member FSU triggers
several scans, each walking the half-built tree again and promoting it to older
generations that are walked again later. Pausing the collector for the build and
letting it run once afterwards gives the same memory behaviour at a fraction of the
cost (bench/forms.py measures it: forms.from_json_ms). This is the documented use of
`gc.disable()` / `gc.enable()`; reference counting keeps freeing everything that is
not part of a cycle meanwhile.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body with the cyclic collector off, restoring its previous state.

    Safe across threads in the only sense that matters here: whoever found the
    collector on turns it back on, so it never stays off after the last body ends
    (a body that overlaps another merely runs with the collector already off)."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
