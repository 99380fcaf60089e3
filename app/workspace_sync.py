"""Workspace operations for sync (outbox, receipts, inbox, device identity).

A mixin of app.workspace.Workspace: same lock, same audit, same role checks."""

from __future__ import annotations


class SyncOps:
    """Filled by the sync client (issue 5)."""
