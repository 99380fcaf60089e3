"""The centre part of the workspace (`ws.centre`, and `ws.sync(...)`): synchronisation
with the SIEE central server, over HTTP or USB files.

Two halves:
- `StorePorts` implements the narrow ports of app/sync/ports.py (device identity,
  outbox, inbox, sync log) over the store. The HTTP client (app/sync/client.py)
  sees the workspace only through them and never imports app.workspace. Every
  port method is a short local read or one transaction, so the window stays
  responsive while a sync runs on a worker thread; network I/O never happens here.
- `Centre` is what the window, the CLI and the tests call: it checks the role,
  then runs the client (`sync`, `enroll`, `export_usb`, `import_usb`...). Nobody
  outside the workspace builds a SyncClient.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.core import cases as cases_rules
from app.core.audit_actions import AuditAction
from app.core.batches import BatchState, ReceiptStatus
from app.core.errors import SieeError
from app.core.roles import Perm
from app.core.states import Action, State, next_state
from app.forms.library import FormLibrary
from app.store import cases as case_links
from app.store import device_keys, meta
from app.store.db import transaction
from app.store.records import RecordMeta
from app.sync import protocol as p
from app.sync.client import InboxImport, SizerConfig, SyncClient
from app.sync.model import (
    CancelFn,
    DeviceInfo,
    DeviceRevoked,
    NotEnrolled,
    ProgressFn,
    ReceiptOutcome,
    StoredBatch,
    SyncError,
    SyncLogEntry,
    SyncReport,
    SyncStatus,
    check_server_url,
    reason_text,
    results_text,
    split_reasons,
)
from app.workspace.context import Context
from app.workspace.settings import (
    SERVER_KEYS,
    Settings,
    centre_held,
    centre_held_text,
    check_value,
)

log = logging.getLogger("siee.sync")

CENTRE = "SIEE central"
_DEVICE_AAD = b"sync|device-key"
_ERROR_AAD = b"sync|last-error"


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_enrolled() -> NotEnrolled:
    return NotEnrolled(
        "device not enrolled",
        "Este equipo no está inscrito en el servidor del SIEE. Pida un código de "
        "inscripción a la sede central e inscríbalo (menú Sincronización).",
    )


class StorePorts:
    """The sync client's view of this workspace (app/sync/ports.py `SyncPorts`), over
    the store. Holds the workspace lock for each call, never across network I/O."""

    def __init__(self, ctx: Context, settings: Settings, forms: FormLibrary) -> None:
        self.ctx = ctx
        self._settings = settings
        self.forms = forms

    @property
    def data_dir(self) -> Path:
        return self.ctx.data_dir

    def settings(self) -> dict[str, Any]:
        return self._settings.values()

    # -- device identity ------------------------------------------------------------------
    def device(self) -> DeviceInfo | None:
        """The enrollment (public parts only); readable without logging in."""
        with self.ctx.lock:
            d = meta.get_json(self.ctx.db, meta.SYNC_DEVICE)
        if not d:
            return None
        d.pop("key", None)
        return DeviceInfo.from_dict(d)

    def device_key(self) -> Ed25519PrivateKey:
        """The device's private signing key, opened with the data key."""
        with self.ctx.lock:
            self.ctx.require(Perm.SYNC_RUN)
            d = meta.get_json(self.ctx.db, meta.SYNC_DEVICE)
            if not d:
                raise _not_enrolled()
            sealer = self.ctx.session.sealer
            assert sealer is not None  # require() above: logged in, so unlocked
            plain = sealer.open(p.b64d(d["key"]), _DEVICE_AAD + b"|" + d["device_id"].encode())
            return p.signing_key_from_bytes(plain)

    def check_can_run(self) -> None:
        """The one permission check of a sync run: SYNC_RUN, and a device not revoked."""
        with self.ctx.lock:
            self.ctx.require(Perm.SYNC_RUN)
            dev = self.device()
            if dev is not None and dev.revoked_at:
                raise DeviceRevoked(
                    "device revoked",
                    "La sede central dio de baja este equipo y ya no puede sincronizar. "
                    "Las fichas siguen guardadas; comuníquese con soporte para inscribirlo de "
                    "nuevo.",
                )

    def set_device(self, info: DeviceInfo, key: Ed25519PrivateKey) -> None:
        """Store a new enrollment (SETTINGS_MANAGE). Unsent work is kept: batches made for
        another device are set aside and their records go out again under the new
        identity (the server answers 'duplicate' for the ones it already holds)."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SETTINGS_MANAGE)
            sealer = ctx.session.sealer
            assert sealer is not None
            sealed = sealer.seal(p.private_bytes(key), _DEVICE_AAD + b"|" + info.device_id.encode())
            doc = {**info.to_dict(), "key": p.b64e(sealed)}
            with transaction(ctx.db) as conn:
                old = self.device()
                meta.put_json(conn, meta.SYNC_DEVICE, doc)
                meta.put(conn, meta.SYNC_INBOX_CURSOR, "0")
                n = ctx.session.outbox.abandon_other_devices(conn, info.device_id)
                self._settings.write(conn, {"server_url": info.server_url}, audited=[])
                ctx.audit(
                    conn,
                    AuditAction.SYNC_ENROLL,
                    detail={"device": info.device_id, "previous": old.device_id if old else None,
                            "ule": info.ule_ubigeo, "requeued_batches": n},
                )
                self._log_in(
                    conn,
                    f"Equipo inscrito en el servidor {info.server_url} (ULE {info.ule_ubigeo})."
                    + (" Las fichas pendientes del equipo anterior se enviarán de nuevo."
                       if n else ""),
                )

    def update_server_url(self, url: str) -> None:
        """Same server (same pinned keys) at another address (SETTINGS_MANAGE)."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SETTINGS_MANAGE)
            self._settings.check_unlocked(server_url=url)
            d = meta.get_json(ctx.db, meta.SYNC_DEVICE)
            if not d:
                return
            d["server_url"] = url
            with transaction(ctx.db) as conn:
                meta.put_json(conn, meta.SYNC_DEVICE, d)
                self._settings.write(conn, {"server_url": url})

    def _mark_revoked(self, conn: sqlite3.Connection, reason: str, at: str) -> None:
        d = meta.get_json(conn, meta.SYNC_DEVICE)
        if not d or d.get("revoked_at"):
            return
        d["revoked_at"], d["revoked_reason"] = at or _iso(self.ctx.clock()), reason or ""
        meta.put_json(conn, meta.SYNC_DEVICE, d)
        self.ctx.audit(conn, AuditAction.SYNC_REVOKED, detail={"device": d["device_id"]})
        self._log_in(
            conn,
            "La sede central dio de baja este equipo"
            + (f" (motivo: {reason})" if reason else "")
            + ". Ya no puede sincronizar; las fichas siguen guardadas. Comuníquese con soporte "
            "para inscribirlo de nuevo.",
            "error",
        )

    def mark_revoked(self, reason: str, at: str) -> None:
        with self.ctx.lock:
            self.ctx.me()
            with transaction(self.ctx.db) as conn:
                self._mark_revoked(conn, reason, at)

    def agreement_key(self) -> X25519PrivateKey:
        """The device's X25519 key-agreement key (app.store.device_keys), made on first use."""
        with self.ctx.lock:
            self.ctx.require(Perm.SYNC_RUN)
            sealer = self.ctx.session.sealer
            assert sealer is not None  # require() above: logged in, so unlocked
            with transaction(self.ctx.db) as conn:
                return device_keys.load_or_create(conn, sealer)

    def audit_head(self) -> tuple[int, str] | None:
        """(seq, MAC hex) of the audit chain's end (any logged-in user)."""
        with self.ctx.lock:
            self.ctx.me()
            head = self.ctx.session.audit.head(self.ctx.conn)
            return (head[0], head[1].hex()) if head else None

    # -- outbox ------------------------------------------------------------------------------
    def outbox_count(self) -> int:
        """QUEUED records waiting for a batch (any logged-in user may read the count)."""
        with self.ctx.lock:
            self.ctx.me()
            return self.ctx.session.outbox.count(self.ctx.conn)

    def take_outbox(self, limit: int) -> list[p.BatchRecord]:
        """Up to `limit` QUEUED records that no pending batch holds, oldest approval first,
        as the centre receives them (answers decrypted, in memory only). The form
        engine's part runs outside the workspace lock: the window stays responsive."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SYNC_RUN)
            conn = ctx.conn
            uuids = ctx.session.outbox.take(conn, limit)
            dev = self.device()
            settings_ule = self._settings.get("ule_ubigeo")
            metas = [ctx.session.records.meta(conn, uuid) for uuid in uuids]
            names = {uid: ctx.username(uid) or "desconocido"
                     for uid in {m.author_id for m in metas}}
            subs, todo = self._cached_submissions(metas)
            case_of = {m.uuid: case_links.case_of(conn, m.uuid) for m in metas}
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
                case_uuid=case_of[m.uuid] if case_of[m.uuid] not in (None, m.uuid) else None,
            )
            for m in metas
        ]

    def _cached_submissions(
        self, metas: list[RecordMeta]
    ) -> tuple[dict[str, dict[str, Any]], list[tuple[RecordMeta, dict[str, Any]]]]:
        """(submissions already computed for these revisions, [(meta, saved answers)] of
        the rest). Call with the lock held."""
        conn = self.ctx.conn
        s = self.ctx.session
        have: dict[str, dict[str, Any]] = {}
        todo = []
        for m in metas:
            sub = s.outbox.submission(conn, m)
            if sub is not None:
                have[m.uuid] = sub
            else:
                todo.append((m, s.records.answers(conn, m)))
        return have, todo

    def _compute_submissions(
        self, todo: list[tuple[RecordMeta, dict[str, Any]]]
    ) -> dict[str, dict[str, Any]]:
        """Run the form engine (without the lock), then keep the results sealed: every
        later send of the same revision carries exactly the same content."""
        out: dict[str, dict[str, Any]] = {}
        for m, answers in todo:
            try:
                out[m.uuid] = self.ctx.hooks.submission(m.form_id, m.form_version, answers,
                                                        m.completed_at)
            except Exception:  # noqa: BLE001 - one odd record must not stop the sync
                log.exception("submission of %s failed; answers sent as saved", m.uuid)
                out[m.uuid] = answers
        if todo:
            with self.ctx.lock, transaction(self.ctx.db) as tx:
                self.ctx.session.outbox.save_submissions(tx, [(m, out[m.uuid]) for m, _a in todo])
        return out

    def prepare(self, limit: int = 20) -> int:
        """Compute what up to `limit` queued records will send (the form engine's work),
        ahead of the sync; the window calls it while idle. Returns how many were done."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SYNC_RUN)
            uuids = ctx.session.outbox.unprepared(ctx.conn, limit)
            _have, todo = self._cached_submissions(
                [ctx.session.records.meta(ctx.conn, u) for u in uuids])
        self._compute_submissions(todo)
        return len(uuids)

    # -- batches -------------------------------------------------------------------------------
    def save_batch(self, env: p.Envelope, envelope: bytes, via: str = "http") -> None:
        """Keep a batch before it leaves the laptop (the exactly-once anchor)."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SYNC_RUN)
            with transaction(ctx.db) as conn:
                ctx.session.outbox.save_batch(
                    conn, batch_id=env.batch_id, device_id=env.device_id,
                    created_at=ctx.clock(), via=via, envelope=envelope,
                    sha256=p.sha256_hex(envelope), count=env.header.count,
                    items=[(e.uuid, e.revision) for e in env.header.records])

    def pending_batches(self) -> list[StoredBatch]:
        with self.ctx.lock:
            self.ctx.me()
            return [StoredBatch(*r) for r in self.ctx.session.outbox.pending(self.ctx.conn)]

    def batch(self, batch_id: str) -> StoredBatch | None:
        with self.ctx.lock:
            self.ctx.me()
            r = self.ctx.session.outbox.batch(self.ctx.conn, batch_id)
            return StoredBatch(*r) if r else None

    def batch_attempt(self, batch_id: str) -> None:
        with self.ctx.lock:
            self.ctx.require(Perm.SYNC_RUN)
            with transaction(self.ctx.db) as conn:
                self.ctx.session.outbox.attempt(conn, batch_id)

    def abandon_batch(self, batch_id: str) -> None:
        """Set a batch aside; its records go out again in a new batch (the server keeps
        one copy per record revision, so a copy it already holds comes back 'duplicate')."""
        with self.ctx.lock:
            self.ctx.require(Perm.SYNC_RUN)
            with transaction(self.ctx.db) as conn:
                self.ctx.session.outbox.abandon(conn, batch_id)

    def apply_receipt(self, receipt: p.Receipt, receipt_bytes: bytes) -> ReceiptOutcome:
        """Apply a verified receipt in one transaction. Applying it again changes nothing."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SYNC_RUN)
            out = ReceiptOutcome(receipt.batch_id)
            now = ctx.clock()
            with transaction(ctx.db) as conn:
                if ctx.session.outbox.batch_state(conn, receipt.batch_id) == BatchState.DONE:
                    out.already_applied = True
                    out.unchanged = len(receipt.results)
                    return out
                for res in receipt.results:
                    self._apply_result(conn, res, receipt.batch_id, now, out)
                ctx.session.outbox.done(conn, receipt.batch_id, receipt_bytes, now)
                ctx.audit(
                    conn,
                    AuditAction.SYNC,
                    detail={"batch": receipt.batch_id, "delivered": out.delivered,
                            "duplicate": out.duplicate, "returned": out.returned,
                            "conflict": out.conflict, "unchanged": out.unchanged},
                )
            return out

    def _apply_result(self, conn: sqlite3.Connection, res: p.RecordResult, batch_id: str,
                      now: float, out: ReceiptOutcome) -> None:
        ctx = self.ctx
        records = ctx.session.records
        head = records.head(conn, res.uuid)
        if head is None or head[0] != res.revision or head[1] != State.QUEUED:
            out.unchanged += 1  # already applied, or the record moved on (new revision)
            return
        state, quarantined = head[1], head[2]
        if res.delivered:
            new = next_state(state, Action.ACCEPTED)
            records.update_meta(conn, res.uuid, state=new, delivered_at=now, quarantined=0)
            ctx.session.outbox.drop_submission(conn, res.uuid)
            out.delivered += 1
            if res.status == ReceiptStatus.DUPLICATE:
                out.duplicate += 1
            ctx.audit(conn, AuditAction.DELIVERED, res.uuid,
                      detail={"batch": batch_id, "status": res.status})
            return
        m = records.meta(conn, res.uuid)
        notes = records.notes(conn, m)
        reasons = list(res.reasons) or ["El servidor no indicó el motivo."]
        if res.status == ReceiptStatus.INVALID:
            new = next_state(state, Action.SERVER_INVALID)
            notes.setdefault("returns", []).append(_return_entry(reasons, now, res.revision))
            records.write_notes(conn, m, notes)
            records.update_meta(conn, res.uuid, state=new, updated_at=now)
            out.returned += 1
            out.reasons += reasons
            ctx.audit(conn, AuditAction.RETURN, res.uuid,
                      detail={"reason": reason_text(reasons), "source": "server",
                              "batch": batch_id})
        else:  # conflict: kept as it is, set apart and shown; never deleted
            if quarantined:
                out.unchanged += 1
                return
            notes["quarantine"] = reason_text(reasons)
            records.write_notes(conn, m, notes)
            records.update_meta(conn, res.uuid, quarantined=1)
            out.conflict += 1
            ctx.audit(conn, AuditAction.QUARANTINE, res.uuid, detail={"batch": batch_id})

    # -- inbox ----------------------------------------------------------------------------------
    def inbox_cursor(self) -> int:
        with self.ctx.lock:
            self.ctx.me()
            return int(meta.get(self.ctx.db, meta.SYNC_INBOX_CURSOR) or 0)

    def apply_message(self, msg: p.InboxMessage, note: str | None = None) -> str | None:
        """Apply one verified inbox message and advance the cursor, in one transaction.
        Returns a Spanish line for the report (None when nothing visible changed).
        `note` is the caller's line for messages whose work happened outside (forms)."""
        ctx = self.ctx
        with ctx.lock:
            ctx.require(Perm.SYNC_RUN)
            if msg.cursor <= self.inbox_cursor():
                return None  # already processed
            now = ctx.clock()
            with transaction(ctx.db) as conn:
                text = self._apply_message(conn, msg, now) if note is None else note
                meta.put(conn, meta.SYNC_INBOX_CURSOR, str(msg.cursor))
                # results are counted by the caller and logged once per sync or file
                if text and msg.kind != "cse_result":
                    self._log_in(conn, text, "error" if msg.kind == "device_revoked" else "info")
            return text

    def _apply_message(self, conn: sqlite3.Connection, msg: p.InboxMessage,
                       now: float) -> str | None:
        pl = msg.payload
        if msg.kind in ("record_returned", "cse_result"):
            return self._apply_record_message(conn, msg.kind, pl, now)
        if msg.kind == "settings_changed":
            values = pl.get("settings") if isinstance(pl.get("settings"), dict) else {}
            known = {}
            for k, v in values.items():
                if k in SERVER_KEYS:
                    try:
                        known[k] = check_value(k, v)
                    except ValueError:
                        log.warning("centre sent an unusable value for setting %s", k)
            before = self._settings.values()
            held = centre_held(known, before, self._settings.file())
            self._settings.write(conn, known, by="server")
            meta.put_json(conn, meta.SYNC_SERVER_SETTINGS, values)
            lines = []
            if set(known) - set(held):
                lines.append("La sede central actualizó la configuración.")
            if held:
                # said, not silent (issue 17): in the report, the sync log and `doctor`
                lines.append(centre_held_text(held, before))
            return " ".join(lines) or None
        if msg.kind == "device_revoked":
            self._mark_revoked(conn, str(pl.get("reason") or ""), str(pl.get("revoked_at") or ""))
            return None  # _mark_revoked logs it
        return None

    def _apply_record_message(self, conn: sqlite3.Connection, kind: str, pl: dict[str, Any],
                              now: float) -> str | None:
        ctx = self.ctx
        records = ctx.session.records
        uuid, rev = str(pl.get("uuid", "")), pl.get("revision")
        head = records.head(conn, uuid)
        if head is None or head[0] != rev:
            return None  # another laptop's record, or an old revision
        m = records.meta(conn, uuid)
        state = m.state
        if state == State.QUEUED:
            # The centre holds it (its receipt may still be on a USB stick).
            state = next_state(state, Action.ACCEPTED)
            records.update_meta(conn, uuid, state=state, delivered_at=now)
        if state != State.DELIVERED:
            return None  # already handled
        notes = records.notes(conn, m)
        if kind == "record_returned":
            reasons = [str(x) for x in pl.get("reasons") or []] or ["Sin motivo indicado."]
            new = next_state(state, Action.SERVER_RETURN)
            entry = _return_entry(reasons, now, m.revision)
            entry["returned_at"] = pl.get("returned_at")
            notes.setdefault("returns", []).append(entry)
            records.write_notes(conn, m, notes)
            records.update_meta(conn, uuid, state=new, updated_at=now)
            ctx.audit(conn, AuditAction.RETURN, uuid,
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
        records.write_notes(conn, m, notes)
        records.update_meta(conn, uuid, state=new, updated_at=now)
        ctx.audit(conn, AuditAction.RESULT, uuid, detail={"category": pl.get("category")})
        return results_text(1)

    # -- log and status ---------------------------------------------------------------------------
    def _log_in(self, conn: sqlite3.Connection, text: str, level: str = "info") -> None:
        self.ctx.session.outbox.log_add(conn, self.ctx.clock(), level, text)

    def log_add(self, text: str, level: str = "info") -> None:
        with self.ctx.lock:
            self.ctx.me()
            with transaction(self.ctx.db) as conn:
                self._log_in(conn, text, level)

    def log(self, limit: int = 200) -> list[SyncLogEntry]:
        """Newest first, decrypted."""
        with self.ctx.lock:
            self.ctx.me()
            return [SyncLogEntry(ts, level, text)
                    for ts, level, text in self.ctx.session.outbox.log(self.ctx.conn, limit)]

    def finished(self, ok: bool, error: str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
        """Remember the end of a sync attempt (and its Spanish error when it failed)."""
        ctx = self.ctx
        with ctx.lock:
            ctx.me()
            now = ctx.clock()
            with transaction(ctx.db) as conn:
                meta.put(conn, meta.SYNC_LAST_ATTEMPT, repr(now))
                if ok:
                    meta.put(conn, meta.SYNC_LAST_OK, repr(now))
                    meta.put(conn, meta.SYNC_LAST_ERROR, "")
                else:
                    sealer = ctx.session.sealer
                    assert sealer is not None
                    sealed = sealer.seal((error or "").encode(), _ERROR_AAD)
                    meta.put(conn, meta.SYNC_LAST_ERROR, p.b64e(sealed))
                if detail is not None:
                    ctx.audit(conn, AuditAction.SYNC_RUN, detail={"ok": ok, **detail})

    def status(self) -> SyncStatus:
        ctx = self.ctx
        with ctx.lock:
            ctx.me()
            conn = ctx.conn
            dev = self.device()
            counts, quarantined, damaged = ctx.session.records.sync_counts(conn)
            # the household's forms delivered: what waits for a CSE result (a step of a
            # case, app.core.cases.CASE_STEPS, is delivered too and never gets one)
            forms = ctx.session.records.count_by_state(conn, quarantined=False,
                                                       exclude_forms=cases_rules.CASE_STEPS)
            err_raw = meta.get(conn, meta.SYNC_LAST_ERROR)
            err = None
            if err_raw and ctx.session.sealer is not None:
                try:
                    err = ctx.session.sealer.open(p.b64d(err_raw), _ERROR_AAD).decode()
                except (SieeError, ValueError):
                    err = None

            def _f(key: str) -> float | None:
                v = meta.get(conn, key)
                return float(v) if v else None

            return SyncStatus(
                enrolled=dev is not None,
                device_id=dev.device_id if dev else None,
                server_url=dev.server_url if dev else None,
                revoked=bool(dev and dev.revoked_at),
                pending=counts[State.QUEUED],
                delivered=counts[State.DELIVERED],
                returned=counts[State.RETURNED],
                quarantined=quarantined,
                result=counts[State.RESULT],
                in_flight=ctx.session.outbox.in_flight(conn),
                last_ok=_f(meta.SYNC_LAST_OK),
                last_attempt=_f(meta.SYNC_LAST_ATTEMPT),
                last_error=err or None,
                damaged=damaged,
                delivered_forms=min(forms[State.DELIVERED], counts[State.DELIVERED]),
            )


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


class Centre:
    """Synchronisation with the centre (`ws.centre`). Reads need a log-in; a sync, a USB
    export or import needs SYNC_RUN; enrolling needs SETTINGS_MANAGE (checked by the
    ports the client uses, once per operation)."""

    def __init__(self, ctx: Context, settings: Settings, forms: FormLibrary) -> None:
        self.ctx = ctx
        self.ports = StorePorts(ctx, settings, forms)
        self.settings = settings
        self.options: dict[str, Any] = {}
        self._last_inbox_request: Path | None = None

    # -- the client ------------------------------------------------------------------------
    def configure(
        self,
        *,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        sizer: SizerConfig | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        """Options of the HTTP client for the following operations (seconds; None keeps
        the client's default)."""
        given = {"connect_timeout": connect_timeout, "read_timeout": read_timeout,
                 "sizer": sizer, "lock_timeout": lock_timeout}
        self.options = {k: v for k, v in given.items() if v is not None}

    def client(self, **options: Any) -> SyncClient:
        """A new sync client over this workspace's ports (logged-in user needed), with the
        options of `configure` overridden by `options`. Each operation below uses its own
        client, so two at once meet the data folder's sync lock (SyncBusy), not each other."""
        self.ctx.me()
        return SyncClient(self.ports, **{**self.options, **options})

    # -- reads -----------------------------------------------------------------------------
    def device(self) -> DeviceInfo | None:
        """The enrollment (public parts only), or None; needs no log-in."""
        return self.ports.device()

    def status(self) -> SyncStatus:
        """Counts, enrollment and the last attempt, for the indicator and `sync status`."""
        return self.ports.status()

    def log(self, limit: int = 200) -> list[SyncLogEntry]:
        """The sync log, newest first (Spanish lines)."""
        return self.ports.log(limit)

    def outbox_count(self) -> int:
        """QUEUED records not yet in a batch."""
        return self.ports.outbox_count()

    def pending_batches(self) -> list[StoredBatch]:
        """Batches stored and waiting for their receipt."""
        return self.ports.pending_batches()

    def batch(self, batch_id: str) -> StoredBatch | None:
        return self.ports.batch(batch_id)

    def inbox_cursor(self) -> int:
        """The last inbox message applied (0: none)."""
        return self.ports.inbox_cursor()

    def reachable(self, timeout: float = 5.0) -> bool:
        """True when the server answers its health check (no signature, no lock)."""
        return self.client().reachable(timeout)

    # -- operations ------------------------------------------------------------------------
    def prepare(self, limit: int = 20) -> int:
        """The form engine's part of the next sync for up to `limit` records (idle time)."""
        return self.ports.prepare(limit)

    def sync(self, progress: ProgressFn | None = None,
             cancelled: CancelFn | None = None) -> SyncReport:
        """Send every queued record, then apply the inbox. Raises SyncError (transient
        ones mean: try again later; nothing is lost either way)."""
        self.ctx.require(Perm.SYNC_RUN)
        return self.client().sync(progress=progress, cancelled=cancelled)

    def enroll(self, server_url: str | None, code: str, label: str = "") -> DeviceInfo:
        """Enroll this laptop with a one-time code from the centre (SETTINGS_MANAGE).

        `server_url` None or empty: the address of the settings (IT's file or the
        settings screen); SieeError (Spanish) when there is none. A server address IT
        locked cannot be replaced by another one here (NotAllowed, before any network
        request). The laptop's ULE (setting `ule_ubigeo`) goes with the request: the
        centre refuses a code made for another ULE without using it up."""
        self.ctx.require(Perm.SETTINGS_MANAGE)
        settings = self.ports.settings()
        url = (server_url or "").strip() or settings.get("server_url") or ""
        if not url:
            raise SyncError(
                "enroll: no server address",
                "Falta la dirección del servidor del SIEE: indíquela con --server (o en la "
                "pantalla de inscripción), o pida a TI que la ponga en el archivo de "
                "configuración (server_url).",
            )
        url = check_server_url(url)
        self.settings.check_unlocked(server_url=url)
        return self.client().enroll(url, code, label, ule=settings.get("ule_ubigeo"))

    def update_server_url(self, url: str) -> None:
        """Same server (same pinned keys) at another address (SETTINGS_MANAGE)."""
        self.ports.update_server_url(url)

    def export_usb(self, folder: Path, progress: ProgressFn | None = None) -> list[Path]:
        """Write every queued record as batch files, and the inbox request, to `folder`."""
        self.ctx.require(Perm.SYNC_RUN)
        client = self.client()
        try:
            return client.export_batches(folder, progress)
        finally:
            self._last_inbox_request = client.last_inbox_request

    def last_inbox_request(self) -> Path | None:
        """The inbox request file the last `export_usb` wrote."""
        return self._last_inbox_request

    def import_usb(self, path: Path) -> ReceiptOutcome | InboxImport:
        """Apply a receipt or an inbox file brought from the centre."""
        self.ctx.require(Perm.SYNC_RUN)
        return self.client().import_usb_file(path)


