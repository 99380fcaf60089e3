"""Making a reset of the log-in lock-out counters visible.

Threat model (see docs/security.md): the lock-out (5 wrong passwords, then a
growing wait) slows a person guessing at the log-in window. It cannot stop
someone who has the database file: they can attack the scrypt key slots
offline at full speed, which is far faster than any log-in window, so resetting
the counters with sqlite3 gives them nothing they did not already have. What is
meaningful is that such a reset does not pass unnoticed. Before a log-in the
program holds no secret (the data key is what is being guessed, and a key kept
beside the file in the OS keyring is open to the same account), so the counters
cannot be sealed when a failure happens. Instead:

* ``users.failures_total`` counts every failed password and is never lowered
  by the program (a successful log-in resets only the lock-out columns);
* at each successful log-in the data key is known: the current totals are
  compared with the totals sealed at the previous log-in (``meta`` entry
  ``auth_anchor``, sealed with the data key). A total lower than the sealed one,
  or more failures than the ``auth_events`` rows that remain (failures wait there
  for the key), means the counters or the failure log were edited outside the
  program: an ``auth_tampered`` entry goes into the audit chain, and the
  integrity findings (``doctor``) show it;
* the totals are then sealed again.

Not detected: rolling every counter back to exactly the state of the last
successful log-in and deleting the failure rows made since (it erases the trace
of online guesses, which an attacker holding the file did not need)."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any

from app.core.errors import SieeError
from app.store import meta
from app.store.crypto import Sealer

MAX_ATTEMPTS = 5  # wrong passwords before a lock-out (app.store.vault applies it)

ANCHOR_KEY = "auth_anchor"
_AAD = b"meta|auth_anchor"
# auth_events.event values written for a refused password (AuthError.code values).
COUNTED_EVENTS = ("auth", "locked")


def _read_anchor(conn: sqlite3.Connection, sealer: Sealer) -> dict[str, int] | None:
    row = conn.execute("SELECT value FROM meta WHERE key=?", (ANCHOR_KEY,)).fetchone()
    if row is None:
        return None
    try:
        return {str(k): int(v) for k, v in json.loads(
            sealer.open(base64.b64decode(row[0]), _AAD)).items()}
    except (SieeError, ValueError, TypeError, AttributeError):
        return {}


def check_and_anchor(
    conn: sqlite3.Connection,
    sealer: Sealer,
    audit: Any,
    now: float,
    user_row: dict[str, Any] | None = None,
) -> list[str]:
    """Compare the failure totals with the sealed anchor, note tampering, seal again.

    Call inside the log-in transaction, before auth_events are moved into the audit
    chain. For every user, failures since the anchor can be at most
    lockouts * MAX_ATTEMPTS + failed_attempts, or the lock-out columns were reset
    outside the program; `user_row` is the logging-in user's row as read before the
    successful unlock cleared them (Vault.unlock returns it). Returns the usernames
    found edited (each audited here as ``auth_tampered``)."""

    anchor = _read_anchor(conn, sealer)
    users = conn.execute(
        "SELECT id, username, failures_total, failed_attempts, lockouts FROM users"
    ).fetchall()
    found: list[str] = []
    if anchor is not None:
        for uid, name, total, failed, lockouts in users:
            if user_row is not None and user_row.get("id") == uid:
                # The values before this successful log-in cleared them.
                failed, lockouts = user_row.get("failed_attempts"), user_row.get("lockouts")
            before = anchor.get(str(uid))
            if before is None:
                continue
            total = int(total or 0)
            events = conn.execute(
                "SELECT COUNT(*) FROM auth_events "
                "WHERE lower(trim(username))=? AND event IN (?, ?)",
                (name, *COUNTED_EVENTS),
            ).fetchone()[0]
            why = ""
            if total < before:
                why = "counter_lowered"
            elif total - before > events:
                why = "failures_erased"
            elif int(lockouts or 0) * MAX_ATTEMPTS + int(failed or 0) < total - before:
                # Only a successful log-in or a new password clears these, and both
                # move the anchor: fewer than the failures since means a reset.
                why = "lockout_reset"
            if why:
                found.append(name)
                audit.append(
                    conn, now, None, "auth_tampered", None,
                    {"user": name, "why": why, "sealed": before, "now": total, "events": events},
                )
    if anchor == {}:  # present but not authentic
        audit.append(conn, now, None, "auth_tampered", None, {"why": "anchor_damaged"})
        found.append("*")
    seal_totals(conn, sealer)
    return found


def seal_totals(conn: sqlite3.Connection, sealer: Sealer) -> None:
    """Seal every user's failure total as the new anchor (log-in, or a password set
    by an administrator or the recovery code, which also clears the lock-out)."""
    totals = {
        str(uid): int(total or 0)
        for uid, total in conn.execute("SELECT id, failures_total FROM users")
    }
    sealed = sealer.seal(json.dumps(totals, sort_keys=True).encode(), _AAD)
    meta.put(conn, ANCHOR_KEY, base64.b64encode(sealed).decode("ascii"))
