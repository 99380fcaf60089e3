"""Qt desktop program (PySide6). Talks only to app.workspace, app.forms and app.core.

PySide6 is pinned below 6.12: 6.12.0's abi3 build drops references to None and
True on Python 3.11 and aborts the interpreter after a few thousand Qt calls
(tests/ui/test_qt_refcount.py guards this)."""
