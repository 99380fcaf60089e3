"""Batches resource: ingest of signed, encrypted envelopes (HTTP upload or USB file)
and their signed receipts, served again as stored.

Queries on the `batches` table live here; "is this batch id already used" is
checked in one place (`receipt_of`)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import audit_heads, errors
from server import cases as case_q
from server import devices as device_q
from server import held as held_q
from server import records as record_q
from server.context import Context, now_iso
from server.db import batches
from server.observe import INGEST_RECORDS
from server.sealing import Sealer
from server.validation import BatchCheck, Validator

log = logging.getLogger("siee.server.batches")


# SQLSTATEs after which the same transaction may simply be run again (PostgreSQL).
_RETRY_SQLSTATES = ("40P01", "40001")  # deadlock_detected, serialization_failure


def _retryable(exc: OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES


# ------------------------------------------------------------------- queries


def receipt_place(batch_id: str) -> str:
    """Where a receipt is sealed (associated data)."""
    return f"batches.receipt:{batch_id}"


def receipt_of(c: Connection, sealer: Sealer, batch_id: str, sha: str,
               device_id: str) -> bytes | None:
    """The stored receipt of this very batch, None when the id is new; raises
    batch_conflict when the id was used by another body or another device."""
    row = c.execute(
        select(batches.c.envelope_sha256, batches.c.device_id, batches.c.receipt)
        .where(batches.c.batch_id == batch_id)
    ).first()
    if row is None:
        return None
    if row.envelope_sha256 != sha or row.device_id != device_id:
        log.warning("batch id %s reused with a different body", batch_id)
        raise errors.batch_conflict()
    return sealer.open_bytes(row.receipt, receipt_place(batch_id))


def ownership_refusal(head: tuple[str, int, str] | None, revision: int,
                      sender_ule: str) -> tuple[str, tuple[str, ...]] | None:
    """Why a new revision of a stored record is refused, as (status, reasons), or None.

    The rule (docs/protocol.md, "Ownership"): a record belongs to the ULE that first
    sent it; a new revision comes only from a device of that ULE (any of them: a laptop
    that replaces another keeps working) and only once the centre returned the latest
    revision for correction."""
    if head is None:
        return None
    owner, latest, status = head
    if owner != sender_ule:
        return "invalid", ("Este registro pertenece a otra ULE; este equipo no puede "
                           "enviar revisiones de él.",)
    if revision < latest:
        return "conflict", (f"El servidor ya tiene la revisión {latest} de este registro, "
                            "más nueva que esta.",)
    if status != "returned":
        return "conflict", ("La sede central ya recibió este registro y no lo devolvió; "
                            "solo se acepta una revisión nueva de un registro devuelto.",)
    return None


# ------------------------------------------------------------------ resource


class Batches:
    """Ingest and receipts."""

    def __init__(self, ctx: Context, validator: Validator) -> None:
        self.ctx = ctx
        self.validator = validator
        # SQLite has one writer: threads of a process queue here instead of on the file
        # lock. PostgreSQL writes concurrently; batches with the same id meet on an
        # advisory lock held by the storing transaction (shared by every process).
        self._sqlite = ctx.engine.dialect.name == "sqlite"
        self._local_lock = threading.Lock() if self._sqlite else None

    def _stored_receipt(self, batch_id: str, sha: str, device_id: str) -> bytes | None:
        with self.ctx.engine.connect() as c:
            return receipt_of(c, self.ctx.sealer, batch_id, sha, device_id)

    def ingest(
        self,
        data: bytes,
        source: str = "http",
        auth_device: Mapping[str, Any] | None = None,
        path_batch_id: str | None = None,
    ) -> bytes:
        """Ingest one envelope; return the signed receipt bytes (the same every time).

        source: "http" (auth_device is the authenticated sender) or "usb" (the sender is
        looked up from the envelope). Raises ProtocolError for a refused envelope."""
        s = self.ctx.settings
        env = p.parse_envelope(data, s.max_batch_bytes)
        if path_batch_id is not None and path_batch_id != env.batch_id:
            raise ProtocolError(
                "batch_id_mismatch", "batch id in the path differs from the envelope",
                "El identificador del lote no coincide con su contenido.", 422,
            )
        if auth_device is not None and auth_device["device_id"] != env.device_id:
            raise ProtocolError(
                "device_mismatch", "envelope was made by another device",
                "El lote fue generado por otro equipo.", 403,
            )
        if env.header.count > s.max_records:
            raise ProtocolError(
                "too_many_records", f"{env.header.count} records exceed {s.max_records}",
                f"El lote tiene demasiados registros (máximo {s.max_records}). "
                "Envíe lotes más pequeños.", 413,
            )
        sha = p.sha256_hex(data)
        stored = self._stored_receipt(env.batch_id, sha, env.device_id)
        if stored is not None:
            log.info("batch %s from %s received again: same receipt", env.batch_id, env.device_id)
            return stored
        if auth_device is None:
            auth_device = device_q.require(self.ctx.engine, env.device_id, via="batch")
        p.verify_envelope(env, auth_device["public_key"])
        recs = p.decrypt_envelope(env, self.ctx.keys.encryption, s.max_plain_bytes)
        check = self.validator.batch()
        reasons = {(r.uuid, r.revision): self._check_record(r, auth_device, check)
                   for r in recs}
        # Valid as far as can be told, but of a form version the centre does not hold.
        held = {(r.uuid, r.revision) for r in recs if not reasons[(r.uuid, r.revision)]
                and not check.can_validate(r.form_id, r.form_version)}
        for _attempt in range(5):
            try:
                ule = str(auth_device["ule_ubigeo"])
                if self._local_lock is not None:
                    with self._local_lock, self.ctx.engine.begin() as c:
                        out = self._store(c, env, recs, reasons, sha, len(data), source, ule,
                                          held)
                else:
                    with self.ctx.engine.begin() as c:
                        c.execute(select(func.pg_advisory_xact_lock(
                            func.hashtextextended("siee-batch:" + env.batch_id, 0))))
                        out = self._store(c, env, recs, reasons, sha, len(data), source, ule,
                                          held)
                break
            except (IntegrityError, OperationalError) as exc:
                # Another process stored this batch or one of its records meanwhile, or
                # PostgreSQL chose this transaction to break a deadlock with another
                # batch (two batches touching the same cases): store again.
                if isinstance(exc, OperationalError) and not _retryable(exc):
                    raise
                stored = self._stored_receipt(env.batch_id, sha, env.device_id)
                if stored is not None:
                    return stored
                time.sleep(0.05)
        else:
            raise errors.busy("could not store the batch, retry")
        if isinstance(out, bytes):
            return out
        receipt, rbytes = out
        counts = receipt.to_dict()["counts"]
        for result, n in counts.items():
            if n:
                INGEST_RECORDS.labels(result).inc(n)
        log.info("batch %s from %s via %s: %d records %s", env.batch_id, env.device_id, source,
                 len(recs), counts)
        # read by bench/server.py (server.validation_share); keep the wording
        log.info("batch %s: form validation %.3f ms CPU for %d records", env.batch_id,
                 check.cpu_ms, check.checked)
        return rbytes

    @staticmethod
    def _check_record(r: p.BatchRecord, dev: Mapping[str, Any], check: BatchCheck) -> list[str]:
        reasons: list[str] = []
        if r.ule_ubigeo != dev["ule_ubigeo"]:
            reasons.append(
                f"El registro es de la ULE {r.ule_ubigeo}, pero este equipo está inscrito "
                f"en la ULE {dev['ule_ubigeo']}."
            )
        reasons += case_q.case_refusal(r)
        reasons += check(r.form_id, r.form_version, r.answers, r.completed_at)
        return reasons

    def _store(
        self, c: Connection, env: p.Envelope, recs: list[p.BatchRecord],
        reasons: dict[tuple[str, int], list[str]], sha: str, size: int, source: str,
        sender_ule: str, held: set[tuple[str, int]] | None = None,
    ) -> tuple[p.Receipt, bytes] | bytes:
        stored = receipt_of(c, self.ctx.sealer, env.batch_id, sha, env.device_id)
        if stored is not None:
            return stored
        now = now_iso()
        have, heads = record_q.known(c, [(r.uuid, r.revision) for r in recs])
        # Each record's content hash, as signed in the header (decrypt_envelope checked
        # that every record hashes to its header entry, so it is not computed again).
        signed = {(e.uuid, e.revision): e.sha256 for e in env.header.records}
        results = []
        rows = []
        accepted: list[p.BatchRecord] = []
        to_hold = []
        for r in recs:
            h = signed[(r.uuid, r.revision)]
            prior = have.get((r.uuid, r.revision))
            if prior is not None:
                if prior == h:
                    results.append(p.RecordResult(r.uuid, r.revision, "duplicate"))
                else:
                    results.append(p.RecordResult(r.uuid, r.revision, "conflict", (
                        f"El servidor ya tiene la revisión {r.revision} de este registro con "
                        "otro contenido. Edite el registro para crear una revisión nueva.",
                    )))
                continue
            refused = ownership_refusal(heads.get(r.uuid), r.revision, sender_ule)
            if refused is not None:
                results.append(p.RecordResult(r.uuid, r.revision, *refused))
                continue
            why = reasons[(r.uuid, r.revision)]
            if why:
                results.append(p.RecordResult(r.uuid, r.revision, "invalid", tuple(why)))
                continue
            if held and (r.uuid, r.revision) in held:
                to_hold.append((r, h))
                results.append(p.RecordResult(r.uuid, r.revision, "conflict",
                                              (held_q.reason(r.form_id, r.form_version),)))
                continue
            rows.append(self._record_row(r, h, env.device_id, env.batch_id, now))
            accepted.append(r)
            results.append(p.RecordResult(r.uuid, r.revision, "accepted"))
        record_q.insert_many(c, rows)
        case_q.note_accepted(c, accepted, now)
        held_q.hold(c, self.ctx.sealer, to_hold, env.device_id, env.batch_id, now)
        receipt = p.Receipt(env.batch_id, env.device_id, now, tuple(results), sha)
        rbytes = p.sign_receipt(receipt, self.ctx.keys.signing)
        c.execute(insert(batches).values(
            batch_id=env.batch_id, device_id=env.device_id, envelope_sha256=sha,
            envelope_bytes=size, record_count=len(recs), source=source, received_at=now,
            receipt=self.ctx.sealer.seal_bytes(rbytes, receipt_place(env.batch_id)),
        ))
        audit_heads.note_head(c, env.header, now)  # a laptop whose audit log went backwards
        return receipt, rbytes

    def _record_row(self, r: p.BatchRecord, sha: str, device_id: str, batch_id: str,
                    now: str) -> dict[str, Any]:
        """The `records` row of an accepted record (answers sealed)."""
        return dict(
            uuid=r.uuid, revision=r.revision, content_sha256=sha, form_id=r.form_id,
            form_version=r.form_version, ule_ubigeo=r.ule_ubigeo, author=r.author,
            answers=self.ctx.sealer.seal(r.answers_json.decode(),
                                         record_q.answers_place(r.uuid, r.revision)),
            completed_at=r.completed_at, approved_at=r.approved_at, device_id=device_id,
            batch_id=batch_id, received_at=now, status="received", status_at=now,
            return_reasons=None, result_category=None, result_date=None,
            result_valid_until=None, case_uuid=r.case_uuid,
        )

    # -------------------------------------------------------------- held records

    def release_held(self, uuid: str, revision: int | None = None,
                     by: str = "") -> dict[str, Any]:
        """Store a held record (server.held) now that its form version is known: it is
        checked as at ingest (content hash, case rules, the form engine on its version,
        ownership) and, when it passes, stored as received from the device and batch
        that sent it and removed from the held records, in one transaction.

        revision: None = the newest held revision of `uuid`. by: who released it (for
        the log). Returns {uuid, revision, form_id, form_version, status}, status
        "accepted" (stored now) or "duplicate" (the centre already held this exact
        record: only the held copy is removed). Raises ProtocolError (Spanish message):
        not_found (404); version_unknown, invalid, conflict, incomplete, damaged (409;
        the record stays held)."""
        with self.ctx.engine.connect() as c:
            row = held_q.find(c, uuid, revision)
        rec = self._held_record(row)
        check = self.validator.batch()
        if not check.can_validate(rec.form_id, rec.form_version):
            raise errors.admin_error(
                "version_unknown", f"form {rec.form_id} {rec.form_version} still not held",
                f"La sede central sigue sin la versión «{rec.form_version}» del formulario "
                f"«{rec.form_id}». Publíquela primero (siee-server forms publish ARCHIVO) "
                "y vuelva a intentar.", 409)
        for _attempt in range(3):
            try:
                with self.ctx.engine.begin() as c:
                    out = self._release(c, rec, row, check)
                break
            except IntegrityError:
                continue  # the same record stored meanwhile by a batch: look again
        else:
            raise errors.busy("could not store the released record, retry")
        log.info("held record %s rev %s (%s %s) released by %s: %s", rec.uuid, rec.revision,
                 rec.form_id, rec.form_version, by or "unknown", out["status"])
        if out["status"] == "accepted":
            INGEST_RECORDS.labels("accepted").inc()
        return out

    def _held_record(self, row: Mapping[str, Any]) -> p.BatchRecord:
        """The record as the laptop sent it, rebuilt from its held row; raises incomplete
        (held before migration 0007) or damaged (does not hash to what was sent)."""
        if row["completed_at"] is None:
            raise errors.admin_error(
                "incomplete", "held before the release columns existed",
                "Esta ficha se retuvo con una versión anterior del servidor, que no guardaba "
                "todos sus datos: no se puede registrar desde aquí. Pida a la ULE que la "
                "envíe otra vez (una revisión nueva).", 409)
        plain = self.ctx.sealer.open(row["answers"],
                                     held_q.answers_place(row["uuid"], row["revision"]))
        rec = p.BatchRecord(
            uuid=row["uuid"], revision=row["revision"], form_id=row["form_id"],
            form_version=row["form_version"], ule_ubigeo=row["ule_ubigeo"],
            author=row["author"], answers=json.loads(plain or "null"),
            completed_at=row["completed_at"], approved_at=row["approved_at"],
            case_uuid=row["case_uuid"])
        if not isinstance(rec.answers, dict) or rec.content_hash() != row["content_sha256"]:
            log.error("held record %s rev %s does not match its content hash", rec.uuid,
                      rec.revision)
            raise errors.admin_error(
                "damaged", "held record does not match its content hash",
                "La ficha retenida no coincide con lo que envió la laptop (dañada): no se "
                "registra. Avise a soporte.", 409)
        return rec

    def _release(self, c: Connection, rec: p.BatchRecord, row: Mapping[str, Any],
                 check: BatchCheck) -> dict[str, Any]:
        key = (rec.uuid, rec.revision)
        out = {"uuid": rec.uuid, "revision": rec.revision, "form_id": rec.form_id,
               "form_version": rec.form_version}
        if not held_q.take(c, rec.uuid, rec.revision):  # locked until commit
            raise errors.admin_error("not_found", "released meanwhile",
                                     f"La ficha {rec.uuid} ya no está retenida.", 404)
        have, heads = record_q.known(c, [key])
        if key in have:
            if have[key] != row["content_sha256"]:
                raise errors.admin_error(
                    "conflict", "another content is stored under this revision",
                    f"La sede central ya tiene la revisión {rec.revision} de esta ficha con "
                    "otro contenido; la retenida no se registra.", 409)
            return {**out, "status": "duplicate"}
        dev = device_q.get(c, row["device_id"])
        sender_ule = str(dev["ule_ubigeo"]) if dev is not None else rec.ule_ubigeo
        why = self._check_record(rec, {"ule_ubigeo": sender_ule}, check)
        refused = ownership_refusal(heads.get(rec.uuid), rec.revision, sender_ule)
        if refused is not None:
            why = [*why, *refused[1]]
        if why:
            raise errors.admin_error(
                "invalid", f"held record refused: {len(why)} reasons",
                "La ficha retenida no pasa la revisión y sigue retenida: " + " ".join(why),
                409)
        now = now_iso()
        record_q.insert_many(c, [self._record_row(rec, row["content_sha256"],
                                                  row["device_id"], row["batch_id"], now)])
        case_q.note_accepted(c, [rec], now)
        return {**out, "status": "accepted"}

    def get_receipt(self, device_id: str, batch_id: str) -> bytes:
        """The stored receipt of a device's batch; raises not_found (404)."""
        with self.ctx.engine.connect() as c:
            row = c.execute(
                select(batches.c.receipt).where(batches.c.batch_id == batch_id,
                                                batches.c.device_id == device_id)
            ).first()
        if row is None:
            raise ProtocolError("not_found", "no such batch for this device",
                                "El servidor no recibió ese lote.", 404)
        out = self.ctx.sealer.open_bytes(row[0], receipt_place(batch_id))
        assert out is not None
        return out
