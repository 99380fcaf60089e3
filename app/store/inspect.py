"""Read a data folder's database without its key, for `siee-campo doctor`: only what
is stored in clear (states, counts, timestamps, versions, sizes), never an encrypted
column. Opens the file read-only-minded (no writes) even when the program is running."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from app.core.states import State
from app.store.audit import GAP_ACTION, HEAD_KEY
from app.store.db import DB_NAME, MIGRATIONS
from app.store.integrity import FINDINGS_KEY
from app.store.meta import SYNC_SERVER_SETTINGS


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def database_damage(data_dir: Path) -> str | None:
    """Why the database in `data_dir` cannot be trusted, or None when it reads well (or
    does not exist). Read-only: opens the file with mode=ro and runs SQLite's
    `quick_check` (every page read once; about 0.5 s for 200 MB), never writing to a
    file that may be damaged. The answer is SQLite's English text, for the log and
    support; what a person reads is the caller's."""
    path = Path(data_dir) / DB_NAME
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as e:
        return f"{type(e).__name__}: {e}"
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        result = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.OperationalError as e:
        if "locked" in str(e).lower() or "busy" in str(e).lower():
            return None  # another program is writing: busy, not damaged
        return f"{type(e).__name__}: {e}"
    except sqlite3.DatabaseError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return None if result == ["ok"] else "quick_check: " + "; ".join(result)


def inspect_database(data_dir: Path) -> dict[str, Any]:
    """Sizes, schema, integrity, counts, settings and sync facts of the database in
    `data_dir` (an "error" key when it cannot be read)."""
    path = data_dir / DB_NAME
    out: dict[str, Any] = {
        "path": str(path),
        "exists": path.exists(),
        "size_bytes": _size(path),
        "wal_bytes": _size(path.with_name(DB_NAME + "-wal")),
    }
    if not path.exists():
        return out
    try:
        conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as e:
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        out["integrity_check"] = "; ".join(
            r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()[:5]
        )
        out["schema_version"] = int(conn.execute("PRAGMA user_version").fetchone()[0])
        out["schema_expected"] = len(MIGRATIONS)
        out["journal_mode"] = conn.execute("PRAGMA journal_mode").fetchone()[0]
        tables = _tables(conn)
        meta = (
            dict(conn.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        )
        out["workspace_id"] = meta.get("workspace_id")
        if meta.get("restored_from"):
            out["restored_from"] = json.loads(meta["restored_from"])
        if "users" in tables:
            out["users"] = dict(
                conn.execute(
                    "SELECT role, COUNT(*) FROM users WHERE active=1 GROUP BY role"
                ).fetchall()
            )
        if "audit" in tables:
            out["audit_entries"] = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        if "records" in tables:
            counts = {s.value: 0 for s in State}
            counts.update(
                conn.execute("SELECT state, COUNT(*) FROM records GROUP BY state").fetchall()
            )
            out["records"] = counts
            out["quarantined"] = conn.execute(
                "SELECT COUNT(*) FROM records WHERE quarantined=1"
            ).fetchone()[0]
        out["integrity"] = _integrity(conn, tables, meta)
        out["settings"] = json.loads(meta["settings"]) if meta.get("settings") else {}
        applied = meta.get("settings_file_applied")
        out["settings_applied"] = json.loads(applied) if applied else {}
        # the centre's last settings message, as received (before IT's locks)
        centre = json.loads(meta[SYNC_SERVER_SETTINGS]) if meta.get(SYNC_SERVER_SETTINGS) \
            else {}
        out["settings_from_centre"] = centre if isinstance(centre, dict) else {}
        out["sync"] = _sync(conn, tables, meta)
    except (sqlite3.Error, ValueError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return out


def _integrity(conn: sqlite3.Connection, tables: set[str], meta: dict[str, str]) -> dict[str, Any]:
    """Tamper evidence without the key: what the last check while logged in found
    (app.store.unlock keeps it in meta), and rows that carry no MAC at all."""
    out: dict[str, Any] = {}
    raw = meta.get(FINDINGS_KEY)
    if raw:
        try:
            out["last_check"] = json.loads(raw)
        except ValueError:
            out["last_check"] = {"unreadable": True}
    cols = {r[1] for r in conn.execute("PRAGMA table_info(records)")} if "records" in tables \
        else set()
    if "row_mac" in cols and meta.get(HEAD_KEY):
        out["records_without_mac"] = conn.execute(
            "SELECT COUNT(*) FROM records WHERE row_mac IS NULL"
        ).fetchone()[0]
    if meta.get(HEAD_KEY):
        try:
            head_seq = int(json.loads(meta[HEAD_KEY])["seq"])
        except (ValueError, KeyError, TypeError):
            head_seq = -1
        last = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0] or 0
        out["audit_head_seq"], out["audit_last_seq"] = head_seq, last
    if "audit" in tables:
        # Findings the program wrote into the chain (actions are clear, details sealed).
        out["chain_findings"] = dict(conn.execute(
            "SELECT action, COUNT(*) FROM audit WHERE action IN (?, ?) GROUP BY action",
            (GAP_ACTION, "auth_tampered"),
        ).fetchall())
    return out


def _sync(conn: sqlite3.Connection, tables: set[str], meta: dict[str, str]) -> dict[str, Any]:
    """Enrollment, batches per state and when the last errors happened. The sync
    log's texts are sealed (they may quote a reason with a DNI): only times here."""
    out: dict[str, Any] = {}
    if meta.get("sync_device"):
        try:
            d = json.loads(meta["sync_device"])
        except ValueError:
            d = {}
        out["device_id"] = d.get("device_id")
        out["server_url"] = d.get("server_url")
        out["enrolled_at"] = d.get("enrolled_at")
        out["revoked_at"] = d.get("revoked_at")
    else:
        out["device_id"] = None
    if "sync_batches" in tables:
        out["batches"] = dict(
            conn.execute("SELECT state, COUNT(*) FROM sync_batches GROUP BY state").fetchall()
        )
        row = conn.execute("SELECT MAX(done_at) FROM sync_batches").fetchone()
        out["last_receipt_at"] = row[0] if row else None
    if "sync_log" in tables:
        out["last_errors_at"] = [
            r[0]
            for r in conn.execute(
                "SELECT ts FROM sync_log WHERE level='error' ORDER BY id DESC LIMIT 5"
            )
        ]
    return out
