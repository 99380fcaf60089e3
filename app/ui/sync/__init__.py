"""Sync room: sending and receiving batches.

The sync panel and its dialogs. Imports app.ui.common only (of app.ui)."""
