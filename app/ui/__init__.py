"""Qt desktop program (PySide6). Talks only to app.workspace, app.forms and app.core."""

from __future__ import annotations

import sys


def _immortal_singletons() -> None:
    """Work around a PySide6 6.12 (abi3 build) reference bug on Python < 3.12.

    Each call of a void Qt method drops one reference to None, and each Python
    `signal.emit()` one to True; Python 3.12+ does not care (those objects are
    immortal there), but on 3.11 the interpreter aborts with "deallocating None"
    after a few thousand calls: minutes of typing. Giving the three singletons a
    huge reference count makes them immortal, as 3.12 does. Harmless otherwise."""
    if sys.version_info >= (3, 12):
        return
    import ctypes

    for obj in (None, True, False):
        ref = ctypes.c_ssize_t.from_address(id(obj))
        if ref.value < 1 << 40:
            ref.value += 1 << 40


_immortal_singletons()
