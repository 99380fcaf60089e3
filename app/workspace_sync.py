"""Workspace operations for sync (outbox, receipts, inbox, device identity).

A mixin of app.workspace.Workspace: same lock, same audit, same role checks.
Network I/O never happens here (app/sync/client.py does it); every method is a
short local read or one transaction, so the window stays responsive while a
sync runs on a worker thread."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.core.errors import SieeError
from app.core.roles import Perm, require
from app.core.states import Action, State, next_state
from app.store.db import transaction
from app.store.integrity import ROW_OK_SQL, row_ok_sql
from app.sync import protocol as p
from app.sync.model import (
    DeviceInfo,
    DeviceRevoked,
    NotEnrolled,
    ReceiptOutcome,
    StoredBatch,
    SyncLogEntry,
    SyncStatus,
    reason_text,
    split_reasons,
)

if TYPE_CHECKING:
    import sqlite3

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.store.records import RecordMeta

log = logging.getLogger("siee.sync")

CENTRE = "SIEE central"
_DEVICE_AAD = b"sync|device-key"
_LOG_AAD = b"sync|log"
# Settings the centre may change on a laptop (the rest stay local decisions).
SERVER_SETTINGS = ("review_required", "autolock_minutes")


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SyncOps:
    """Everything the sync client reads from or writes to the local workspace."""

    # -- small helpers -------------------------------------------------------------------
    def _meta_get(self: Any, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _meta_put(conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", (key, value))

    def _log_in(self: Any, conn: sqlite3.Connection, text: str, level: str = "info") -> None:
        assert self._sealer is not None
        conn.execute(
            "INSERT INTO sync_log(ts, level, text) VALUES (?,?,?)",
            (self.clock(), level, self._sealer.seal(text.encode("utf-8"), _LOG_AAD)),
        )

    # -- device identity -------------------------------------------------------------------
    def sync_device(self: Any) -> DeviceInfo | None:
        """The enrollment (public parts only); readable without logging in."""
        with self._lock:
            raw = self._meta_get("sync_device")
        if not raw:
            return None
        d = json.loads(raw)
        d.pop("key", None)
        return DeviceInfo.from_dict(d)

    def sync_device_key(self: Any) -> Ed25519PrivateKey:
        """The device's private signing key, opened with the data key."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            raw = self._meta_get("sync_device")
            if not raw:
                raise NotEnrolled(
                    "device not enrolled",
                    "Este equipo no está inscrito en el servidor del SIEE. Pida un código de "
                    "inscripción a la sede central e inscríbalo (menú Sincronización).",
                )
            d = json.loads(raw)
            blob = p.b64d(d["key"])
            plain = self._sealer.open(blob, _DEVICE_AAD + b"|" + d["device_id"].encode())
            return p.signing_key_from_bytes(plain)

    def sync_set_device(self: Any, info: DeviceInfo, key: Ed25519PrivateKey) -> None:
        """Store a new enrollment. Unsent work is kept: batches made for another device
        are set aside and their records go out again under the new identity (the server
        answers 'duplicate' for the ones it already holds)."""
        with self._lock:
            require(self._me().role, Perm.SETTINGS_MANAGE)
            sealed = self._sealer.seal(
                p.private_bytes(key), _DEVICE_AAD + b"|" + info.device_id.encode()
            )
            doc = {**info.to_dict(), "key": p.b64e(sealed)}
            with transaction(self.db) as conn:
                old = self.sync_device()
                self._meta_put(conn, "sync_device", json.dumps(doc))
                self._meta_put(conn, "sync_inbox_cursor", "0")
                n = self._abandon_other_devices(conn, info.device_id)
                settings = self.settings()
                settings["server_url"] = info.server_url
                self._meta_put(conn, "settings", json.dumps(settings))
                self._audit_in(
                    conn,
                    "sync_enroll",
                    detail={"device": info.device_id, "previous": old.device_id if old else None,
                            "ule": info.ule_ubigeo, "requeued_batches": n},
                )
                self._log_in(
                    conn,
                    f"Equipo inscrito en el servidor {info.server_url} (ULE {info.ule_ubigeo})."
                    + (" Las fichas pendientes del equipo anterior se enviarán de nuevo."
                       if n else ""),
                )

    def _abandon_other_devices(self: Any, conn: sqlite3.Connection, device_id: str) -> int:
        rows = conn.execute(
            "SELECT batch_id FROM sync_batches WHERE state='pending' AND device_id<>?",
            (device_id,),
        ).fetchall()
        for (bid,) in rows:
            conn.execute("UPDATE sync_batches SET state='abandoned' WHERE batch_id=?", (bid,))
        return len(rows)

    def sync_update_server_url(self: Any, url: str) -> None:
        """Same server (same pinned keys) at another address."""
        with self._lock:
            require(self._me().role, Perm.SETTINGS_MANAGE)
            raw = self._meta_get("sync_device")
            if not raw:
                return
            d = json.loads(raw)
            d["server_url"] = url
            with transaction(self.db) as conn:
                self._meta_put(conn, "sync_device", json.dumps(d))
                settings = self.settings()
                settings["server_url"] = url
                self._meta_put(conn, "settings", json.dumps(settings))
                self._audit_in(conn, "settings", detail={"changed": ["server_url"]})

    def _mark_revoked(self: Any, conn: sqlite3.Connection, reason: str, at: str) -> None:
        raw = self._meta_get("sync_device")
        if not raw:
            return
        d = json.loads(raw)
        if d.get("revoked_at"):
            return
        d["revoked_at"], d["revoked_reason"] = at or _iso(self.clock()), reason or ""
        self._meta_put(conn, "sync_device", json.dumps(d))
        self._audit_in(conn, "sync_revoked", detail={"device": d["device_id"]})
        self._log_in(
            conn,
            "La sede central dio de baja este equipo"
            + (f" (motivo: {reason})" if reason else "")
            + ". Ya no puede sincronizar; las fichas siguen guardadas. Comuníquese con soporte "
            "para inscribirlo de nuevo.",
            "error",
        )

    def sync_mark_revoked(self: Any, reason: str, at: str) -> None:
        with self._lock, transaction(self.db) as conn:
            self._mark_revoked(conn, reason, at)

    # -- outbox -----------------------------------------------------------------------------
    _OUTBOX_WHERE = (
        f"state='QUEUED' AND quarantined=0 AND {ROW_OK_SQL} AND uuid NOT IN ("
        "SELECT i.uuid FROM sync_batch_items i JOIN sync_batches b USING (batch_id) "
        "WHERE b.state='pending')"
    )

    def sync_agreement_key(self: Any) -> Any:
        """The device's X25519 key-agreement key (app.store.device_keys), made on first use."""
        from app.store import device_keys

        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            with transaction(self.db) as conn:
                return device_keys.load_or_create(conn, self._sealer)

    def sync_audit_head(self: Any) -> tuple[int, str] | None:
        """(seq, MAC hex) of the audit chain's end, sent signed in each batch header."""
        with self._lock:
            head = self.audit.head(self.db.conn)
            return (head[0], head[1].hex()) if head else None

    def sync_outbox_count(self: Any) -> int:
        with self._lock:
            return int(
                self.db.execute(f"SELECT COUNT(*) FROM records WHERE {self._OUTBOX_WHERE}")
                .fetchone()[0]
            )

    def sync_take_outbox(self: Any, limit: int) -> list[p.BatchRecord]:
        """Up to `limit` QUEUED records that no pending batch holds, oldest approval first,
        as the centre receives them (answers decrypted, in memory only). The form
        engine's part runs outside the workspace lock: the window stays responsive."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            uuids = [
                r[0]
                for r in self.db.execute(
                    f"SELECT uuid FROM records WHERE {self._OUTBOX_WHERE} "
                    "ORDER BY approved_at, uuid LIMIT ?",
                    (int(limit),),
                )
            ]
            conn = self.db.conn
            dev = self.sync_device()
            settings_ule = self.settings().get("ule_ubigeo")
            metas = [self.records.meta(conn, uuid) for uuid in uuids]
            names = {uid: self._username(uid) or "desconocido"
                     for uid in {m.author_id for m in metas}}
            subs, todo = self._cached_submissions(metas)
        subs.update(self._compute_submissions(todo))
        return [
            p.BatchRecord(
                uuid=m.uuid,
                revision=int(m.revision),
                form_id=m.form_id,
                form_version=str(m.form_version),
                ule_ubigeo=m.ule_ubigeo or settings_ule or (dev.ule_ubigeo if dev else ""),
                author=names[m.author_id],
                answers=subs[m.uuid],
                completed_at=_iso(m.completed_at or m.updated_at) or "",
                approved_at=_iso(m.approved_at),
            )
            for m in metas
        ]

    def _cached_submissions(
        self: Any, metas: list[RecordMeta]
    ) -> tuple[dict[str, dict[str, Any]], list[tuple[RecordMeta, dict[str, Any]]]]:
        """(submissions already computed for these revisions, [(meta, saved answers)] of
        the rest). Call with the lock held."""
        conn = self.db.conn
        have: dict[str, dict[str, Any]] = {}
        todo = []
        for m in metas:
            row = conn.execute(
                "SELECT revision, answers FROM sync_submissions WHERE uuid=?", (m.uuid,)
            ).fetchone()
            if row is not None and int(row[0]) == m.revision:
                have[m.uuid] = self.records.open_part(m, "submission", row[1])
            else:
                todo.append((m, self.records.answers(conn, m)))
        return have, todo

    def _compute_submissions(
        self: Any, todo: list[tuple[RecordMeta, dict[str, Any]]]
    ) -> dict[str, dict[str, Any]]:
        """Run the form engine (without the lock), then keep the results sealed: every
        later send of the same revision carries exactly the same content."""
        out: dict[str, dict[str, Any]] = {}
        for m, answers in todo:
            try:
                out[m.uuid] = self.hooks.submission(m.form_id, m.form_version, answers)
            except Exception:  # noqa: BLE001 - one odd record must not stop the sync
                log.exception("submission of %s failed; answers sent as saved", m.uuid)
                out[m.uuid] = answers
        if todo:
            with self._lock:
                rows = [(m.uuid, m.revision,
                         self.records.seal_part(m, "submission", out[m.uuid], compress=True))
                        for m, _a in todo]
                with transaction(self.db) as tx:
                    tx.executemany(
                        "INSERT OR REPLACE INTO sync_submissions(uuid, revision, answers) "
                        "VALUES (?,?,?)", rows)
        return out

    def sync_prepare(self: Any, limit: int = 20) -> int:
        """Compute what up to `limit` queued records will send (the form engine's work),
        ahead of the sync; the window calls it while idle. Returns how many were done."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            uuids = [r[0] for r in self.db.execute(
                "SELECT r.uuid FROM records r LEFT JOIN sync_submissions s "
                "ON s.uuid = r.uuid AND s.revision = r.revision "
                f"WHERE r.state='QUEUED' AND r.quarantined=0 AND {row_ok_sql('r')} "
                "AND s.uuid IS NULL LIMIT ?",
                (int(limit),))]
            _have, todo = self._cached_submissions(
                [self.records.meta(self.db.conn, u) for u in uuids])
        self._compute_submissions(todo)
        return len(uuids)

    # -- batches -----------------------------------------------------------------------------
    def sync_save_batch(
        self: Any,
        env: p.Envelope,
        envelope: bytes,
        via: str = "http",
    ) -> None:
        """Keep a batch before it leaves the laptop (the exactly-once anchor)."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            with transaction(self.db) as conn:
                conn.execute(
                    "INSERT INTO sync_batches(batch_id, device_id, created_at, state, via, "
                    "envelope, envelope_sha256, size, count, attempts) "
                    "VALUES (?,?,?,?,?,?,?,?,?,0)",
                    (env.batch_id, env.device_id, self.clock(), "pending", via, envelope,
                     p.sha256_hex(envelope), len(envelope), env.header.count),
                )
                conn.executemany(
                    "INSERT INTO sync_batch_items(batch_id, uuid, revision) VALUES (?,?,?)",
                    [(env.batch_id, e.uuid, e.revision) for e in env.header.records],
                )

    _BATCH_COLS = ("batch_id, device_id, state, via, envelope, envelope_sha256, size, count, "
                   "attempts, created_at")

    def sync_pending_batches(self: Any) -> list[StoredBatch]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {self._BATCH_COLS} FROM sync_batches WHERE state='pending' "
                "ORDER BY created_at, batch_id"
            ).fetchall()
            return [StoredBatch(*r) for r in rows]

    def sync_batch(self: Any, batch_id: str) -> StoredBatch | None:
        with self._lock:
            r = self.db.execute(
                f"SELECT {self._BATCH_COLS} FROM sync_batches WHERE batch_id=?", (batch_id,)
            ).fetchone()
            return StoredBatch(*r) if r else None

    def sync_batch_attempt(self: Any, batch_id: str) -> None:
        with self._lock, transaction(self.db) as conn:
            conn.execute(
                "UPDATE sync_batches SET attempts=attempts+1 WHERE batch_id=?", (batch_id,)
            )

    def sync_abandon_batch(self: Any, batch_id: str) -> None:
        """Set a batch aside; its records go out again in a new batch (the server keeps
        one copy per record revision, so a copy it already holds comes back 'duplicate')."""
        with self._lock, transaction(self.db) as conn:
            conn.execute(
                "UPDATE sync_batches SET state='abandoned' WHERE batch_id=? AND state='pending'",
                (batch_id,),
            )

    def sync_apply_receipt(self: Any, receipt: p.Receipt, receipt_bytes: bytes) -> ReceiptOutcome:
        """Apply a verified receipt in one transaction. Applying it again changes nothing."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            out = ReceiptOutcome(receipt.batch_id)
            now = self.clock()
            with transaction(self.db) as conn:
                row = conn.execute(
                    "SELECT state FROM sync_batches WHERE batch_id=?", (receipt.batch_id,)
                ).fetchone()
                if row is not None and row[0] == "done":
                    out.already_applied = True
                    out.unchanged = len(receipt.results)
                    return out
                for res in receipt.results:
                    self._apply_result(conn, res, receipt.batch_id, now, out)
                conn.execute(
                    "UPDATE sync_batches SET state='done', receipt=?, envelope=NULL, done_at=? "
                    "WHERE batch_id=?",
                    (receipt_bytes, now, receipt.batch_id),
                )
                self._audit_in(
                    conn,
                    "sync",
                    detail={"batch": receipt.batch_id, "delivered": out.delivered,
                            "duplicate": out.duplicate, "returned": out.returned,
                            "conflict": out.conflict, "unchanged": out.unchanged},
                )
            return out

    def _apply_result(
        self: Any,
        conn: sqlite3.Connection,
        res: p.RecordResult,
        batch_id: str,
        now: float,
        out: ReceiptOutcome,
    ) -> None:
        r = conn.execute(
            "SELECT revision, state, quarantined FROM records WHERE uuid=?", (res.uuid,)
        ).fetchone()
        if r is None or int(r[0]) != res.revision or r[1] != State.QUEUED.value:
            out.unchanged += 1  # already applied, or the record moved on (new revision)
            return
        if res.delivered:
            new = next_state(r[1], Action.ACCEPTED)
            conn.execute(
                "UPDATE records SET state=?, delivered_at=?, quarantined=0 WHERE uuid=?",
                (new.value, now, res.uuid),
            )
            conn.execute("DELETE FROM sync_submissions WHERE uuid=?", (res.uuid,))
            out.delivered += 1
            if res.status == "duplicate":
                out.duplicate += 1
            self._audit_in(conn, "delivered", res.uuid, detail={"batch": batch_id,
                                                               "status": res.status})
            return
        m = self.records.meta(conn, res.uuid)
        notes = self.records.notes(conn, m)
        reasons = list(res.reasons) or ["El servidor no indicó el motivo."]
        if res.status == "invalid":
            new = next_state(r[1], Action.SERVER_INVALID)
            notes.setdefault("returns", []).append(self._return_entry(reasons, now, res.revision))
            self.records.write_notes(conn, m, notes)
            conn.execute(
                "UPDATE records SET state=?, updated_at=? WHERE uuid=?",
                (new.value, now, res.uuid),
            )
            out.returned += 1
            out.reasons += reasons
            self._audit_in(conn, "return", res.uuid,
                           detail={"reason": reason_text(reasons), "source": "server",
                                   "batch": batch_id})
        else:  # conflict: kept as it is, set apart and shown; never deleted
            if r[2]:
                out.unchanged += 1
                return
            notes["quarantine"] = reason_text(reasons)
            self.records.write_notes(conn, m, notes)
            conn.execute("UPDATE records SET quarantined=1 WHERE uuid=?", (res.uuid,))
            out.conflict += 1
            self._audit_in(conn, "quarantine", res.uuid, detail={"batch": batch_id})

    @staticmethod
    def _return_entry(reasons: list[str], now: float, revision: int) -> dict[str, Any]:
        _texts, paths = split_reasons(reasons)
        return {
            "by": CENTRE,
            "source": "server",
            "reason": reason_text(reasons) or "; ".join(reasons),
            "questions": paths,  # the questions the centre's reasons point at
            "reasons": reasons,  # as the server wrote them
            "at": now,
            "revision": revision,
        }

    # -- inbox --------------------------------------------------------------------------------
    def sync_inbox_cursor(self: Any) -> int:
        return int(self._meta_get("sync_inbox_cursor") or 0)

    def sync_apply_message(self: Any, msg: p.InboxMessage, note: str | None = None) -> str | None:
        """Apply one verified inbox message and advance the cursor, in one transaction.
        Returns a Spanish line for the report (None when nothing visible changed).
        `note` is the caller's line for messages whose work happened outside (forms)."""
        with self._lock:
            require(self._me().role, Perm.SYNC_RUN)
            if msg.cursor <= self.sync_inbox_cursor():
                return None  # already processed
            now = self.clock()
            with transaction(self.db) as conn:
                text = self._apply_message(conn, msg, now) if note is None else note
                self._meta_put(conn, "sync_inbox_cursor", str(msg.cursor))
                if text:
                    self._log_in(conn, text, "error" if msg.kind == "device_revoked" else "info")
            return text

    def _apply_message(
        self: Any, conn: sqlite3.Connection, msg: p.InboxMessage, now: float
    ) -> str | None:
        pl = msg.payload
        if msg.kind in ("record_returned", "cse_result"):
            return self._apply_record_message(conn, msg.kind, pl, now)
        if msg.kind == "settings_changed":
            values = pl.get("settings") if isinstance(pl.get("settings"), dict) else {}
            known = {k: v for k, v in values.items() if k in SERVER_SETTINGS}
            if known:
                settings = {**self.settings(), **known}
                self._meta_put(conn, "settings", json.dumps(settings))
            self._meta_put(conn, "sync_server_settings", json.dumps(values))
            self._audit_in(conn, "settings", detail={"changed": sorted(known), "by": "server"})
            return "La sede central actualizó la configuración." if known else None
        if msg.kind == "device_revoked":
            self._mark_revoked(conn, str(pl.get("reason") or ""), str(pl.get("revoked_at") or ""))
            return None  # _mark_revoked logs it
        return None

    def _apply_record_message(
        self: Any, conn: sqlite3.Connection, kind: str, pl: dict[str, Any], now: float
    ) -> str | None:
        uuid, rev = str(pl.get("uuid", "")), pl.get("revision")
        row = conn.execute(
            "SELECT revision, state FROM records WHERE uuid=?", (uuid,)
        ).fetchone()
        if row is None or int(row[0]) != rev:
            return None  # another laptop's record, or an old revision
        m: RecordMeta = self.records.meta(conn, uuid)
        state = State(m.state)
        if state == State.QUEUED:
            # The centre holds it (its receipt may still be on a USB stick).
            state = next_state(state, Action.ACCEPTED)
            conn.execute("UPDATE records SET state=?, delivered_at=? WHERE uuid=?",
                         (state.value, now, uuid))
        if state != State.DELIVERED:
            return None  # already handled
        notes = self.records.notes(conn, m)
        if kind == "record_returned":
            reasons = [str(x) for x in pl.get("reasons") or []] or ["Sin motivo indicado."]
            new = next_state(state, Action.SERVER_RETURN)
            entry = self._return_entry(reasons, now, m.revision)
            entry["returned_at"] = pl.get("returned_at")
            notes.setdefault("returns", []).append(entry)
            self.records.write_notes(conn, m, notes)
            conn.execute("UPDATE records SET state=?, updated_at=? WHERE uuid=?",
                         (new.value, now, uuid))
            self._audit_in(conn, "return", uuid,
                           detail={"reason": reason_text(reasons), "source": "server"})
            return f"La sede central devolvió 1 ficha: {reason_text(reasons)}"
        new = next_state(state, Action.RESULT)
        notes["result"] = {
            "category": pl.get("category"),
            "result_date": pl.get("result_date"),
            "valid_until": pl.get("valid_until"),
            "revision": m.revision,
            "received_at": now,
        }
        self.records.write_notes(conn, m, notes)
        conn.execute("UPDATE records SET state=?, updated_at=? WHERE uuid=?",
                     (new.value, now, uuid))
        self._audit_in(conn, "result", uuid, detail={"category": pl.get("category")})
        return "Llegó 1 resultado de clasificación socioeconómica (CSE)."

    # -- log and status -------------------------------------------------------------------------
    def sync_log_add(self: Any, text: str, level: str = "info") -> None:
        with self._lock:
            self._me()
            with transaction(self.db) as conn:
                self._log_in(conn, text, level)

    def sync_log(self: Any, limit: int = 200) -> list[SyncLogEntry]:
        """Newest first, decrypted."""
        with self._lock:
            self._me()
            out = []
            for ts, level, blob in self.db.execute(
                "SELECT ts, level, text FROM sync_log ORDER BY id DESC LIMIT ?", (int(limit),)
            ):
                try:
                    text = self._sealer.open(blob, _LOG_AAD).decode("utf-8")
                except SieeError:
                    text = "(entrada dañada)"
                out.append(SyncLogEntry(ts, level, text))
            return out

    def sync_finished(self: Any, ok: bool, error: str | None = None,
                      detail: dict[str, Any] | None = None) -> None:
        """Remember the end of a sync attempt (and its Spanish error when it failed)."""
        with self._lock:
            self._me()
            now = self.clock()
            with transaction(self.db) as conn:
                self._meta_put(conn, "sync_last_attempt", repr(now))
                if ok:
                    self._meta_put(conn, "sync_last_ok", repr(now))
                    self._meta_put(conn, "sync_last_error", "")
                else:
                    assert self._sealer is not None
                    sealed = self._sealer.seal((error or "").encode(), b"sync|last-error")
                    self._meta_put(conn, "sync_last_error", p.b64e(sealed))
                if detail is not None:
                    self._audit_in(conn, "sync_run", detail={"ok": ok, **detail})

    def sync_status(self: Any) -> SyncStatus:
        with self._lock:
            self._me()
            dev = self.sync_device()
            counts = dict.fromkeys(("QUEUED", "DELIVERED", "RETURNED", "RESULT"), 0)
            quarantined = damaged = 0
            # One pass: a row whose metadata fails its MAC counts only as damaged.
            for state, quar, ok, n in self.db.execute(
                f"SELECT state, quarantined, {ROW_OK_SQL}, COUNT(*) FROM records GROUP BY 1, 2, 3"
            ):
                if not ok:
                    damaged += n
                elif quar:
                    quarantined += n
                else:
                    counts[state] = counts.get(state, 0) + n
            in_flight = self.db.execute(
                "SELECT COUNT(*) FROM sync_batches WHERE state='pending'"
            ).fetchone()[0]
            err_raw = self._meta_get("sync_last_error")
            err = None
            if err_raw:
                try:
                    err = self._sealer.open(p.b64d(err_raw), b"sync|last-error").decode()
                except (SieeError, ValueError):
                    err = None

            def _f(key: str) -> float | None:
                v = self._meta_get(key)
                return float(v) if v else None

            return SyncStatus(
                enrolled=dev is not None,
                device_id=dev.device_id if dev else None,
                server_url=dev.server_url if dev else None,
                revoked=bool(dev and dev.revoked_at),
                pending=counts["QUEUED"],
                delivered=counts["DELIVERED"],
                returned=counts["RETURNED"],
                quarantined=int(quarantined),
                result=counts["RESULT"],
                in_flight=int(in_flight),
                last_ok=_f("sync_last_ok"),
                last_attempt=_f("sync_last_attempt"),
                last_error=err or None,
                damaged=int(damaged),
            )

    def sync_require_run(self: Any) -> None:
        with self._lock:
            me = self._me()
            require(me.role, Perm.SYNC_RUN)
            dev = self.sync_device()
            if dev is not None and dev.revoked_at:
                raise DeviceRevoked(
                    "device revoked",
                    "La sede central dio de baja este equipo y ya no puede sincronizar. "
                    "Las fichas siguen guardadas; comuníquese con soporte para inscribirlo de "
                    "nuevo.",
                )
