"""The `meta` table: the workspace's small key-value facts (workspace id, settings,
device enrollment, inbox cursor, last sync times). The one writer of that table."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

# The keys in use, in one place (values are text; JSON where noted).
WORKSPACE_ID = "workspace_id"
SETTINGS = "settings"  # JSON: the workspace settings (app/workspace/settings.py)
SETTINGS_FILE_APPLIED = "settings_file_applied"  # JSON: what IT's files gave last time
SYNC_DEVICE = "sync_device"  # JSON: the enrollment, private key sealed
SYNC_INBOX_CURSOR = "sync_inbox_cursor"
SYNC_SERVER_SETTINGS = "sync_server_settings"  # JSON: the centre's last settings message
SYNC_LAST_ATTEMPT = "sync_last_attempt"
SYNC_LAST_OK = "sync_last_ok"
SYNC_LAST_ERROR = "sync_last_error"  # sealed, base64
PRACTICE = "practice"  # "1": a practice workspace (app/workspace/practice.py), for good
PRACTICE_RESULTS = "practice_results"  # sealed, base64: the trainees' exercise results
PRACTICE_HINTS = "practice_hints"  # JSON: user id -> the sections whose hint they closed


Conn = sqlite3.Connection | sqlite_utils.Database


def get(conn: Conn, key: str) -> str | None:
    """The value of `key`, or None when it was never written."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Write `key` inside the caller's transaction (replaces any earlier value)."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", (key, value))


def get_json(conn: Conn, key: str) -> Any:
    """The JSON value of `key`, or None."""
    raw = get(conn, key)
    return json.loads(raw) if raw else None


def put_json(conn: sqlite3.Connection, key: str, value: Any) -> None:
    """Write `value` as JSON inside the caller's transaction."""
    put(conn, key, json.dumps(value))
