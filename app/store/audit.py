"""Append-only, hash-chained audit log.

Each entry's MAC is HMAC-SHA256(audit key, previous MAC | the entry's fields),
so the chain cannot be rewritten without the workspace key, and the table's
triggers refuse UPDATE and DELETE. Details are encrypted (they may hold reasons
typed by people)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from app.store.crypto import Sealer

GENESIS = b"siee-campo audit v1"


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
    ok: bool
    entries: int
    first_bad_seq: int | None = None


def _mac(key: bytes, prev: bytes, seq: int, ts: float, user_id, action, uuid, detail) -> bytes:
    head = json.dumps([seq, repr(ts), user_id, action, uuid], separators=(",", ":")).encode()
    body = prev + b"|" + head + b"|" + hashlib.sha256(detail or b"").digest()
    return hmac.new(key, body, hashlib.sha256).digest()


class AuditLog:
    def __init__(self, key: bytes, sealer: Sealer) -> None:
        self.key = key
        self.sealer = sealer

    def append(
        self,
        conn: sqlite3.Connection,
        ts: float,
        user_id: int | None,
        action: str,
        record_uuid: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        """Append inside the caller's transaction, so the entry lands with the change."""
        row = conn.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
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
        return seq

    def verify(self, conn: sqlite3.Connection) -> ChainReport:
        prev, count, expected_seq = GENESIS, 0, 1
        cur = conn.execute(
            "SELECT seq, ts, user_id, action, record_uuid, detail, mac FROM audit ORDER BY seq"
        )
        for seq, ts, user_id, action, uuid, blob, mac in cur:
            good = seq == expected_seq and hmac.compare_digest(
                _mac(self.key, prev, seq, ts, user_id, action, uuid, blob), mac or b""
            )
            if not good:
                return ChainReport(False, count, seq)
            prev, count, expected_seq = mac, count + 1, seq + 1
        return ChainReport(True, count)

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
