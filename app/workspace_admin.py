"""Workspace operations for IT: settings file, backup and restore, diagnostics.

A mixin of app.workspace.Workspace: same lock, same audit, same role checks."""

from __future__ import annotations


class AdminOps:
    """Filled by the packaging and IT issue (issue 8)."""
