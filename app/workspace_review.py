"""Workspace operations for supervisors: review queue, dashboard, exports.

A mixin of app.workspace.Workspace: same lock, same audit, same role checks."""

from __future__ import annotations


class ReviewOps:
    """Filled by the supervisor issue (issue 7)."""
