"""Append-only, hash-chained audit log with a sealed head.

Each entry's MAC is HMAC-SHA256(audit key, previous MAC | the entry's fields),
so the chain cannot be rewritten without the workspace key, and the table's
triggers refuse UPDATE and DELETE. Details are encrypted (they may hold reasons
typed by people).

A chain alone does not show a cut-off end (deleting the last N rows leaves a
valid shorter chain). So every append also writes the chain's head (last seq and
MAC), sealed with the data key, into ``meta`` under ``audit_head`` in the same
transaction: ``verify`` compares the chain's end with it and reports missing
entries. Chains begun by this program start from GENESIS_V2; a chain from
GENESIS (older program) gets its head at the first append after the upgrade."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from app.core.errors import IntegrityFailure
from app.store import meta
from app.store.crypto import Sealer

GENESIS = b"siee-campo audit v1"
# Chains started by a program that keeps the sealed head and record row MACs.
GENESIS_V2 = b"siee-campo audit v2"
HEAD_KEY = "audit_head"
# Written by append when the chain's end disagrees with the sealed head.
GAP_ACTION = "audit_gap"
_HEAD_AAD = b"meta|audit_head"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: float
    user_id: int | None
    action: str
    record_uuid: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ChainReport:
    """Result of a verification.

    ok: nothing wrong found; entries: how many entries verified from the start;
    first_bad_seq: the first entry whose MAC or position fails (None if none);
    missing_tail: entries the sealed head says existed after the last one found
    (a cut-off end); problem: "" or an English id ("truncated", "head_mismatch",
    "head_missing", "head_damaged", "empty", "broken"); damaged_records: uuids whose
    clear metadata fails its row MAC (filled by a workspace-wide check)."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    missing_tail: int = 0
    problem: str = ""
    damaged_records: tuple[str, ...] = ()
    head_seq: int | None = None

    @property
    def message(self) -> str:
        """A Spanish sentence for people (CLI and window)."""
        parts = []
        if self.problem == "broken":
            parts.append(
                f"¡La bitácora fue alterada! La cadena se rompe en el registro "
                f"{self.first_bad_seq} (después de {self.entries} registros válidos)."
            )
        elif self.problem == "truncated":
            parts.append(
                f"¡Faltan {self.missing_tail} registro(s) al final de un tramo de la bitácora! "
                f"Alguien los borró fuera del programa ({self.entries} registros "
                "verificados)."
            )
        elif self.problem == "empty":
            parts.append("¡La bitácora está vacía! Alguien borró todos sus registros.")
        elif self.problem in ("head_missing", "head_damaged", "head_mismatch"):
            parts.append(
                "¡El sello del final de la bitácora falta o no coincide! La bitácora "
                "fue alterada fuera del programa."
            )
        if self.damaged_records:
            parts.append(
                f"¡{len(self.damaged_records)} ficha(s) con datos modificados fuera del "
                "programa (estado, revisión u otros)! Se muestran como dañadas; restaure "
                "una copia de respaldo o avise a soporte."
            )
        if not parts:
            return f"Bitácora íntegra: {self.entries} registros verificados."
        return " ".join(parts)


def _mac(key: bytes, prev: bytes, seq: int, ts: float, user_id, action, uuid, detail) -> bytes:
    head = json.dumps([seq, repr(ts), user_id, action, uuid], separators=(",", ":")).encode()
    body = prev + b"|" + head + b"|" + hashlib.sha256(detail or b"").digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


class AuditLog:
    """The chain for one unlocked workspace (audit subkey; sealer for details and head)."""

    def __init__(self, key: bytes, sealer: Sealer) -> None:
        self.key = key
        self.sealer = sealer

    # -- the sealed head ------------------------------------------------------------
    def _write_head(self, conn: sqlite3.Connection, seq: int, mac: bytes) -> None:
        sealed = self.sealer.seal(json.dumps([seq, mac.hex()]).encode(), _HEAD_AAD)
        value = json.dumps({"seq": seq, "sealed": _b64(sealed)})
        meta.put(conn, HEAD_KEY, value)

    def read_head(self, conn: sqlite3.Connection) -> tuple[int, bytes] | None:
        """(seq, mac) from the sealed head; None when absent. Raises IntegrityFailure
        when present but not authentic."""
        row = conn.execute("SELECT value FROM meta WHERE key=?", (HEAD_KEY,)).fetchone()
        if row is None:
            return None
        try:
            sealed = base64.b64decode(json.loads(row[0])["sealed"])
        except (ValueError, KeyError, TypeError):
            raise IntegrityFailure("audit head unreadable", "La bitácora está dañada.") from None
        seq, mac_hex = json.loads(self.sealer.open(sealed, _HEAD_AAD))
        return int(seq), bytes.fromhex(mac_hex)

    def head(self, conn: sqlite3.Connection) -> tuple[int, bytes] | None:
        """The chain's last (seq, mac) as stored (what a batch reports to the centre)."""
        row = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def chain_version(self, conn: sqlite3.Connection) -> int:
        """2 for a chain begun by this program, 1 for an older one, 0 if empty or unreadable."""
        row = conn.execute(
            "SELECT seq, ts, user_id, action, record_uuid, detail, mac FROM audit WHERE seq=1"
        ).fetchone()
        if row is None:
            return 0
        seq, ts, user_id, action, uuid, blob, mac = row
        for version, genesis in ((2, GENESIS_V2), (1, GENESIS)):
            if hmac.compare_digest(
                _mac(self.key, genesis, seq, ts, user_id, action, uuid, blob), mac or b""
            ):
                return version
        return 0

    def _gap(
        self, conn: sqlite3.Connection, last: tuple[int, bytes] | None
    ) -> tuple[int, str] | None:
        """Whether the chain's end disagrees with its sealed head: (seq the next entry
        must take, why) or None. Called before each append."""
        last_seq, last_mac = last if last else (0, b"")
        try:
            head = self.read_head(conn)
        except IntegrityFailure:
            return last_seq + 1, "head_damaged"
        if head is None:
            if last is None:
                # A new workspace has neither; one that was used has records or a
                # sealed log-in anchor (app.store.lockout).
                used = conn.execute(
                    "SELECT 1 FROM records LIMIT 1"
                ).fetchone() or conn.execute(
                    "SELECT 1 FROM meta WHERE key='auth_anchor'"
                ).fetchone()
                return (1, "emptied") if used else None
            if self.chain_version(conn) == 2 or conn.execute(
                "SELECT 1 FROM audit WHERE action='integrity_init' LIMIT 1"
            ).fetchone():
                return last_seq + 1, "head_missing"
            return None  # an older program's chain: anchored from this append on
        head_seq, head_mac = head
        if head_seq > last_seq:
            return head_seq + 1, "truncated"
        if head_seq < last_seq or not hmac.compare_digest(head_mac, last_mac):
            return last_seq + 1, "head_mismatch"
        return None

    def _insert(
        self, conn: sqlite3.Connection, seq: int, prev: bytes, ts: float, user_id: int | None,
        action: str, record_uuid: str | None, detail: dict[str, Any] | None,
    ) -> bytes:
        blob = None
        if detail:
            plain = json.dumps(detail, sort_keys=True, ensure_ascii=False).encode()
            blob = self.sealer.seal(plain, f"audit|{seq}".encode())
        mac = _mac(self.key, prev, seq, ts, user_id, action, record_uuid, blob)
        conn.execute(
            "INSERT INTO audit(seq, ts, user_id, action, record_uuid, detail, mac) "
            "VALUES (?,?,?,?,?,?,?)",
            (seq, ts, user_id, action, record_uuid, blob, mac),
        )
        return mac

    def append(
        self,
        conn: sqlite3.Connection,
        ts: float,
        user_id: int | None,
        action: str,
        record_uuid: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append inside the caller's transaction, so the entry lands with the change.

        If the chain no longer ends where its sealed head says (entries deleted
        outside the program), an ``audit_gap`` entry goes first, numbered after the
        real end, so the loss stays visible to every later verification."""
        row = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        last = (int(row[0]), bytes(row[1])) if row else None
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_V2)
        gap = self._gap(conn, last)
        if gap is not None:
            gap_seq, why = gap
            info = {"why": why, "missing": gap_seq - seq, "found_end": seq - 1}
            prev = self._insert(conn, gap_seq, prev, ts, None, GAP_ACTION, None, info)
            seq = gap_seq + 1
        mac = self._insert(conn, seq, prev, ts, user_id, action, record_uuid, detail)
        self._write_head(conn, seq, mac)
        return seq

    def verify(self, conn: sqlite3.Connection) -> ChainReport:
        """Walk the chain from its start, then compare its end with the sealed head.

        A gap recorded by ``append`` (an ``audit_gap`` entry) is verified like any
        entry and reported: entries were lost before it."""
        version = self.chain_version(conn)
        prev = GENESIS if version == 1 else GENESIS_V2
        count, expected_seq, last_mac = 0, 1, b""
        missing, gap_why = 0, ""
        cur = conn.execute(
            "SELECT seq, ts, user_id, action, record_uuid, detail, mac FROM audit ORDER BY seq"
        )
        for seq, ts, user_id, action, uuid, blob, mac in cur:
            linked = hmac.compare_digest(
                _mac(self.key, prev, seq, ts, user_id, action, uuid, blob), mac or b""
            )
            if action == GAP_ACTION and linked and seq >= expected_seq:
                missing += seq - expected_seq
                gap_why = gap_why or self._gap_why(seq, blob)
            elif not (linked and seq == expected_seq):
                return ChainReport(False, count, seq, problem="broken")
            prev, count, expected_seq, last_mac = mac, count + 1, seq + 1, mac
        try:
            head = self.read_head(conn)
        except IntegrityFailure:
            return ChainReport(False, count, problem="head_damaged")
        if head is None:
            if count == 0:
                return ChainReport(False, 0, problem="empty")
            if version == 2 or conn.execute(
                "SELECT 1 FROM audit WHERE action='integrity_init' LIMIT 1"
            ).fetchone():
                return ChainReport(False, count, problem="head_missing")
            return ChainReport(True, count)  # an older program's chain, not yet anchored
        head_seq, head_mac = head
        last_seq = expected_seq - 1
        if head_seq > last_seq:
            return ChainReport(
                False, count, None, missing + head_seq - last_seq,
                "empty" if count == 0 else "truncated", head_seq=head_seq,
            )
        if head_seq < last_seq or not hmac.compare_digest(head_mac, last_mac):
            return ChainReport(False, count, problem="head_mismatch", head_seq=head_seq)
        if gap_why:
            problem = "truncated" if gap_why in ("truncated", "emptied") else gap_why
            return ChainReport(False, count, None, missing, problem, head_seq=head_seq)
        return ChainReport(True, count, head_seq=head_seq)

    def _gap_why(self, seq: int, blob: bytes | None) -> str:
        try:
            return str(json.loads(self.sealer.open(blob or b"", f"audit|{seq}".encode()))["why"])
        except (IntegrityFailure, ValueError, KeyError, TypeError):
            return "truncated"

    def entries(
        self,
        conn: sqlite3.Connection,
        record_uuid: str | None = None,
        action: str | None = None,
        user_id: int | None = None,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        where, args = [], []
        for col, val in (("record_uuid", record_uuid), ("action", action), ("user_id", user_id)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        sql = "SELECT seq, ts, user_id, action, record_uuid, detail FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        out = []
        for seq, ts, uid, act, uuid, blob in conn.execute(sql, (*args, limit)):
            detail: dict[str, Any] = {}
            if blob:
                try:
                    detail = json.loads(self.sealer.open(blob, f"audit|{seq}".encode()))
                except Exception:
                    detail = {"error": "unreadable"}
            out.append(AuditEntry(seq, ts, uid, act, uuid, detail))
        return out
