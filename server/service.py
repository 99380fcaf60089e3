"""The server's operations, independent of HTTP: enrollment, request
authentication, batch ingest, inbox, forms and the admin actions.

Errors are app.sync.protocol.ProtocolError (code, English detail, Spanish
message, HTTP status). Logs carry ids and counts, never answers or names."""

from __future__ import annotations

import csv
import json
import logging
import re
import secrets
import threading
import time
import uuid as uuid_mod
from collections import defaultdict, deque
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import audit_heads, validation
from server.db import batches, devices, enroll_codes, forms, make_engine, messages, nonces, records
from server.file_modes import make_private
from server.keys import ServerKeys, load_keys
from server.settings import Settings

log = logging.getLogger("siee.server")

CSE_CATEGORIES = ("pobre_extremo", "pobre", "no_pobre")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _now_iso() -> str:
    return p.utc_now_iso()


def normalize_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", str(code or "")).upper()


def _code_hash(code: str) -> str:
    return p.sha256_hex(("siee-enroll:" + normalize_code(code)).encode())


def admin_error(code: str, detail: str, message: str, status: int = 400) -> ProtocolError:
    return ProtocolError(code, detail, message, status)


class RateLimiter:
    """Sliding one-minute window of requests per key (in memory, per process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, now: float) -> float | None:
        """Record one request; return seconds to wait when over the limit."""
        if self.per_minute <= 0:
            return None
        with self._lock:
            q = self._hits[key]
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return max(1.0, 60 - (now - q[0]))
            q.append(now)
            return None


class Service:
    def __init__(self, settings: Settings, keys: ServerKeys | None = None) -> None:
        self.settings = settings
        make_private(settings.data_dir, settings.db_url)  # 0700 folder, 0600 SQLite files
        self.keys = keys or load_keys(settings.data_dir)
        self.engine = make_engine(settings.db_url)
        self.rate = RateLimiter(settings.rate_per_minute)
        self._ingest_lock = threading.Lock()
        self._last_purge = 0.0
        self.forms_dir = settings.data_dir / "forms"
        validation.set_published_forms(self.published_form_ids, self.published_form_path)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ helpers

    def _device(self, c: Connection, device_id: str) -> RowMapping | None:
        return c.execute(select(devices).where(devices.c.device_id == device_id)).mappings().first()

    def _post(self, c: Connection, device_id: str, kind: str, payload: dict[str, Any]) -> int:
        assert kind in p.MESSAGE_KINDS
        res = c.execute(
            insert(messages).values(
                device_id=device_id,
                kind=kind,
                created_at=_now_iso(),
                payload=p.canonical_json(payload).decode(),
            )
        )
        return int(res.inserted_primary_key[0])

    def _active_devices(self, c: Connection, ule: str | None = None) -> list[str]:
        q = select(devices.c.device_id).where(devices.c.status == "active")
        if ule:
            q = q.where(devices.c.ule_ubigeo == ule)
        return [r[0] for r in c.execute(q.order_by(devices.c.device_id))]

    # -------------------------------------------------------------- enrollment

    def create_enroll_code(self, ule: str, hours: int | None = None) -> tuple[str, str]:
        """A one-time code bound to a ULE ubigeo. Returns (code, expires_at ISO)."""
        ule = self._check_ule(ule)
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        expires = int(time.time()) + 3600 * (hours or self.settings.enroll_code_hours)
        with self.engine.begin() as c:
            c.execute(
                insert(enroll_codes).values(
                    code_hash=_code_hash(code), ule_ubigeo=ule, created_at=_now_iso(),
                    expires_at=expires,
                )
            )
        log.info("enrollment code created for ULE %s", ule)
        return code, p.utc_now_iso(expires)

    @staticmethod
    def _check_ule(ule: str) -> str:
        ule = str(ule or "").strip()
        if not re.fullmatch(r"\d{6}", ule):
            raise admin_error("bad_ubigeo", "ULE ubigeo must be 6 digits",
                              "El ubigeo de la ULE debe tener 6 dígitos (DDPPDD).")
        try:
            from app.core.ubigeo import catalog

            cat = catalog()
        except Exception:  # noqa: BLE001 - catalog unavailable: format check only
            return ule
        if len(cat) and cat.get(ule) is None:
            raise admin_error("bad_ubigeo", f"ubigeo {ule} not in the INEI catalog",
                              f"El ubigeo {ule} no existe en el catálogo del INEI.")
        return ule

    def enroll(self, body: Mapping[str, Any]) -> dict[str, Any]:
        code = str(body.get("code", ""))
        pub = str(body.get("device_public_key", ""))
        proof = str(body.get("proof", ""))
        label = str(body.get("label", "") or "")[:200]
        app_version = str(body.get("app_version", "") or "")[:64]
        if body.get("protocol_version", p.PROTOCOL_VERSION) != p.PROTOCOL_VERSION:
            raise ProtocolError(
                "unsupported_version", "protocol version not supported",
                "La versión del programa no es compatible con el servidor. Actualice SIEE Campo.",
                422,
            )
        p.verify_key_from_text(pub)  # raises bad_key 422
        p.verify_enrollment_proof(code, pub, proof)  # raises bad_signature 401
        device_id = "dev-" + uuid_mod.uuid4().hex[:16]
        now = int(time.time())
        bad_code = ProtocolError(
            "enroll_code_invalid", "enrollment code unknown, used or expired",
            "El código de inscripción no es válido, ya fue usado o venció. "
            "Pida un código nuevo a la sede central.", 403,
        )
        try:
            row = self._consume_code(code, pub, device_id, label, app_version, now, bad_code)
        except IntegrityError as exc:  # the same key enrolled concurrently with another code
            raise ProtocolError(
                "key_in_use", "device public key already enrolled",
                "Este equipo ya está inscrito. "
                "Genere una clave nueva para volver a inscribirlo.", 409,
            ) from exc
        log.info("device %s enrolled for ULE %s", device_id, row["ule_ubigeo"])
        return {
            "device_id": device_id,
            "ule_ubigeo": row["ule_ubigeo"],
            "server_signing_key": self.keys.signing_public,
            "server_encryption_key": self.keys.encryption_public,
            "protocol_version": p.PROTOCOL_VERSION,
            "server_time": time.time(),
            "limits": self.settings.limits(),
        }

    def _consume_code(self, code: str, pub: str, device_id: str, label: str,
                      app_version: str, now: int, bad_code: ProtocolError) -> RowMapping:
        with self.engine.begin() as c:
            row = c.execute(
                select(enroll_codes).where(enroll_codes.c.code_hash == _code_hash(code))
            ).mappings().first()
            if row is None or row["used_at"] is not None or row["expires_at"] < now:
                log.info("enrollment refused (code unknown, used or expired)")
                raise bad_code
            taken = c.execute(
                update(enroll_codes)
                .where(enroll_codes.c.code_hash == row["code_hash"],
                       enroll_codes.c.used_at.is_(None))
                .values(used_at=_now_iso(), device_id=device_id)
            )
            if taken.rowcount != 1:
                raise bad_code
            if c.execute(select(devices.c.device_id).where(devices.c.public_key == pub)).first():
                raise ProtocolError(
                    "key_in_use", "device public key already enrolled",
                    "Este equipo ya está inscrito. "
                    "Genere una clave nueva para volver a inscribirlo.",
                    409,
                )
            c.execute(
                insert(devices).values(
                    device_id=device_id, public_key=pub, ule_ubigeo=row["ule_ubigeo"],
                    label=label, app_version=app_version, status="active",
                    enrolled_at=_now_iso(),
                )
            )
        return row

    # ---------------------------------------------------------- authentication

    def revocation_notice(self, device_id: str) -> dict[str, Any] | None:
        """The signed device_revoked inbox message, to put in a 403 body."""
        with self.engine.connect() as c:
            row = c.execute(
                select(messages)
                .where(messages.c.device_id == device_id, messages.c.kind == "device_revoked")
                .order_by(messages.c.cursor.desc())
            ).mappings().first()
        return self._signed(row) if row else None

    def authenticate(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str],
        now: float | None = None,
    ) -> RowMapping:
        """Verify a signed request; returns the device row or raises ProtocolError."""
        now = time.time() if now is None else now
        req = p.parse_request_headers(headers)
        with self.engine.connect() as c:
            dev = self._device(c, req.device_id)
        if dev is None:
            raise ProtocolError(
                "unknown_device", "device is not enrolled",
                "Este equipo no está inscrito en el servidor. Inscríbalo con un código nuevo.",
                401,
            )
        p.verify_request(method, path, body, headers, dev["public_key"], now=now,
                         window=self.settings.timestamp_window)
        if dev["status"] != "active":
            raise ProtocolError(
                "device_revoked", "device has been revoked",
                "Este equipo fue dado de baja por la sede central y ya no puede sincronizar. "
                "Comuníquese con soporte.", 403,
            )
        wait = self.rate.hit(dev["device_id"], now)
        if wait is not None:
            raise ProtocolError(
                "rate_limited", f"more than {self.settings.rate_per_minute} requests per minute",
                f"Demasiadas solicitudes seguidas. Espere {int(wait)} s y vuelva a intentar.",
                429,
            )
        try:
            with self.engine.begin() as c:
                c.execute(insert(nonces).values(device_id=dev["device_id"], nonce=req.nonce,
                                                ts=req.timestamp))
                c.execute(update(devices).where(devices.c.device_id == dev["device_id"])
                          .values(last_seen_at=_now_iso()))
        except IntegrityError as exc:
            log.warning("replayed nonce from device %s", dev["device_id"])
            raise ProtocolError(
                "replayed_nonce", "nonce already used",
                "La solicitud ya fue recibida antes (repetida). Vuelva a intentar.", 401,
            ) from exc
        self._maybe_purge_nonces(now)
        return dev

    def _maybe_purge_nonces(self, now: float) -> None:
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        cutoff = int(now) - 2 * self.settings.timestamp_window - 60
        with self.engine.begin() as c:
            c.execute(nonces.delete().where(nonces.c.ts < cutoff))

    # ------------------------------------------------------------------ batches

    def ingest(
        self,
        data: bytes,
        source: str = "http",
        auth_device: Mapping[str, Any] | None = None,
        path_batch_id: str | None = None,
    ) -> bytes:
        """Ingest one envelope; return the signed receipt bytes (the same every time)."""
        s = self.settings
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
            with self.engine.connect() as c:
                auth_device = self._device(c, env.device_id)
            if auth_device is None:
                raise ProtocolError(
                    "unknown_device", "batch from a device that is not enrolled",
                    "El lote viene de un equipo que no está inscrito en este servidor.", 422,
                )
            if auth_device["status"] != "active":
                raise ProtocolError(
                    "device_revoked", "batch from a revoked device",
                    "El lote viene de un equipo dado de baja.", 403,
                )
        p.verify_envelope(env, auth_device["public_key"])
        recs = p.decrypt_envelope(env, self.keys.encryption, s.max_plain_bytes)
        check = validation.BatchValidator()
        reasons = {(r.uuid, r.revision): self._check_record(r, auth_device, check)
                   for r in recs}
        for _attempt in range(5):
            try:
                with self._ingest_lock, self.engine.begin() as c:
                    out = self._store_batch(c, env, recs, reasons, sha, len(data), source)
                break
            except IntegrityError:
                # Another process stored this batch or one of its records meanwhile.
                stored = self._stored_receipt(env.batch_id, sha, env.device_id)
                if stored is not None:
                    return stored
                time.sleep(0.05)
        else:
            raise ProtocolError("busy", "could not store the batch, retry",
                                "El servidor está ocupado. Vuelva a intentar en un momento.", 503)
        if isinstance(out, bytes):
            return out
        receipt, rbytes = out
        counts = receipt.to_dict()["counts"]
        log.info("batch %s from %s via %s: %d records %s", env.batch_id, env.device_id, source,
                 len(recs), counts)
        return rbytes

    def _check_record(self, r: p.BatchRecord, dev: Mapping[str, Any],
                      check: validation.BatchValidator) -> list[str]:
        reasons: list[str] = []
        if r.ule_ubigeo != dev["ule_ubigeo"]:
            reasons.append(
                f"El registro es de la ULE {r.ule_ubigeo}, pero este equipo está inscrito "
                f"en la ULE {dev['ule_ubigeo']}."
            )
        reasons += check(r.form_id, r.form_version, r.answers)
        return reasons

    def _stored_receipt(self, batch_id: str, sha: str, device_id: str) -> bytes | None:
        with self.engine.connect() as c:
            row = c.execute(
                select(batches.c.envelope_sha256, batches.c.device_id, batches.c.receipt)
                .where(batches.c.batch_id == batch_id)
            ).first()
        if row is None:
            return None
        if row.envelope_sha256 != sha or row.device_id != device_id:
            log.warning("batch id %s reused with a different body", batch_id)
            raise ProtocolError(
                "batch_conflict", "a different batch was already received under this id",
                "Ya se recibió otro lote con este mismo identificador. "
                "Genere el lote de nuevo.", 409,
            )
        return bytes(row.receipt)

    def _store_batch(
        self, c: Connection, env: p.Envelope, recs: list[p.BatchRecord],
        reasons: dict[tuple[str, int], list[str]], sha: str, size: int, source: str,
    ) -> tuple[p.Receipt, bytes] | bytes:
        row = c.execute(
            select(batches.c.envelope_sha256, batches.c.device_id, batches.c.receipt)
            .where(batches.c.batch_id == env.batch_id)
        ).first()
        if row is not None:
            if row.envelope_sha256 != sha or row.device_id != env.device_id:
                raise ProtocolError(
                    "batch_conflict", "a different batch was already received under this id",
                    "Ya se recibió otro lote con este mismo identificador. "
                    "Genere el lote de nuevo.", 409,
                )
            return bytes(row.receipt)
        now = _now_iso()
        have = self._stored_hashes(c, [(r.uuid, r.revision) for r in recs])
        results = []
        rows = []
        for r in recs:
            h = r.content_hash()
            stored = have.get((r.uuid, r.revision))
            if stored is not None:
                if stored == h:
                    results.append(p.RecordResult(r.uuid, r.revision, "duplicate"))
                else:
                    results.append(p.RecordResult(r.uuid, r.revision, "conflict", (
                        f"El servidor ya tiene la revisión {r.revision} de este registro con "
                        "otro contenido. Edite el registro para crear una revisión nueva.",
                    )))
                continue
            why = reasons[(r.uuid, r.revision)]
            if why:
                results.append(p.RecordResult(r.uuid, r.revision, "invalid", tuple(why)))
                continue
            rows.append(dict(
                uuid=r.uuid, revision=r.revision, content_sha256=h, form_id=r.form_id,
                form_version=r.form_version, ule_ubigeo=r.ule_ubigeo, author=r.author,
                answers=p.canonical_json(r.answers).decode(), completed_at=r.completed_at,
                approved_at=r.approved_at, device_id=env.device_id, batch_id=env.batch_id,
                received_at=now, status="received", status_at=now, return_reasons=None,
                result_category=None, result_date=None, result_valid_until=None,
            ))
            results.append(p.RecordResult(r.uuid, r.revision, "accepted"))
        if rows:
            c.execute(insert(records), rows)
        receipt = p.Receipt(env.batch_id, env.device_id, now, tuple(results), sha)
        rbytes = p.sign_receipt(receipt, self.keys.signing)
        c.execute(insert(batches).values(
            batch_id=env.batch_id, device_id=env.device_id, envelope_sha256=sha,
            envelope_bytes=size, record_count=len(recs), source=source, received_at=now,
            receipt=rbytes,
        ))
        audit_heads.note_head(c, env.header, now)  # a laptop whose audit log went backwards
        return receipt, rbytes

    @staticmethod
    def _stored_hashes(c: Connection, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """Content hashes already stored for these (uuid, revision) keys."""
        out: dict[tuple[str, int], str] = {}
        wanted = set(keys)
        uuids = sorted({u for u, _ in keys})
        for i in range(0, len(uuids), 500):
            chunk = uuids[i : i + 500]
            q = select(records.c.uuid, records.c.revision, records.c.content_sha256).where(
                records.c.uuid.in_(chunk))
            for u, rev, h in c.execute(q):
                if (u, rev) in wanted:
                    out[(u, rev)] = h
        return out

    def get_receipt(self, device_id: str, batch_id: str) -> bytes:
        with self.engine.connect() as c:
            row = c.execute(
                select(batches.c.receipt).where(batches.c.batch_id == batch_id,
                                                batches.c.device_id == device_id)
            ).first()
        if row is None:
            raise ProtocolError("not_found", "no such batch for this device",
                                "El servidor no recibió ese lote.", 404)
        return bytes(row[0])

    # -------------------------------------------------------------------- inbox

    def _signed(self, row: Mapping[str, Any]) -> dict[str, Any]:
        msg = p.InboxMessage(int(row["cursor"]), row["kind"], row["device_id"],
                             row["created_at"], json.loads(row["payload"]))
        return p.sign_message(msg, self.keys.signing)

    def inbox(self, device_id: str, after: int = 0, limit: int = 100) -> dict[str, Any]:
        limit = max(1, min(limit, self.settings.inbox_page))
        with self.engine.connect() as c:
            rows = c.execute(
                select(messages)
                .where(messages.c.device_id == device_id, messages.c.cursor > after)
                .order_by(messages.c.cursor)
                .limit(limit + 1)
            ).mappings().all()
        page = rows[:limit]
        return {
            "messages": [self._signed(r) for r in page],
            "next_cursor": int(page[-1]["cursor"]) if page else after,
            "has_more": len(rows) > limit,
        }

    def usb_inbox(self, request: bytes) -> tuple[p.InboxRequest, bytes, int]:
        """Answer a laptop's USB inbox request file: (request, inbox file bytes, number
        of messages). The request must be signed by the key registered for its device;
        a revoked device gets only its signed revocation notice."""
        req = p.parse_inbox_request(request)
        with self.engine.connect() as c:
            dev = self._device(c, req.device_id)
        if dev is None:
            raise ProtocolError(
                "unknown_device", "device is not enrolled",
                f"El equipo {req.device_id} no está inscrito en este servidor; no se puede "
                "responder su solicitud de novedades.", 401,
            )
        p.verify_inbox_request(request, dev["public_key"])
        entries: list[dict[str, Any]] = []
        after = req.after
        if dev["status"] != "active":
            notice = self.revocation_notice(req.device_id)
            entries = [notice] if notice and notice["cursor"] > after else []
        else:
            for _ in range(100000):
                page = self.inbox(req.device_id, after, self.settings.inbox_page)
                entries += page["messages"]
                after = int(page["next_cursor"])
                if not page["has_more"]:
                    break
        forms_out: list[tuple[str, str, bytes, str, str]] = []
        seen: set[tuple[str, str]] = set()
        for e in entries:
            if e["kind"] != "form_published":
                continue
            key = (str(e["payload"].get("form_id")), str(e["payload"].get("version")))
            if key in seen:
                continue
            seen.add(key)
            try:
                content, filename, sig = self.get_form(*key)
            except ProtocolError:
                continue  # announced but no longer stored: the laptop reports it
            forms_out.append((key[0], key[1], content, filename, sig))
        next_cursor = int(entries[-1]["cursor"]) if entries else req.after
        data = p.sign_inbox_file(req.device_id, req.after, entries, next_cursor,
                                 self.keys.signing, forms_out, req.nonce)
        if req.reply_key:  # sealed to the device: reasons never in clear on the stick
            data = p.seal_inbox_file(data, req.reply_key, req.device_id)
        log.info("usb inbox for %s after %d: %d messages", req.device_id, req.after,
                 len(entries))
        return req, data, len(entries)

    # -------------------------------------------------------------------- forms

    def published_form_ids(self) -> set[str]:
        with self.engine.connect() as c:
            return {r[0] for r in c.execute(select(forms.c.form_id).distinct())}

    def published_form_path(self, form_id: str, version: str) -> Path | None:
        with self.engine.connect() as c:
            row = c.execute(
                select(forms.c.content, forms.c.filename)
                .where(forms.c.form_id == form_id, forms.c.version == version)
            ).first()
        if row is None:
            return None
        suffix = Path(row.filename).suffix or ".xlsx"
        path = self.forms_dir / f"{form_id}-{version}{suffix}"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(row.content))
        return path

    def list_forms(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(forms.c.form_id, forms.c.version, forms.c.sha256, forms.c.filename,
                       forms.c.published_at).order_by(forms.c.form_id, forms.c.published_at)
            ).mappings().all()
        return [dict(r) for r in rows]

    def get_form(self, form_id: str, version: str) -> tuple[bytes, str, str]:
        """(content, filename, server signature)."""
        with self.engine.connect() as c:
            row = c.execute(
                select(forms.c.content, forms.c.filename)
                .where(forms.c.form_id == form_id, forms.c.version == version)
            ).first()
        if row is None:
            raise ProtocolError("not_found", "no such form version",
                                "Esa versión del formulario no está publicada.", 404)
        content = bytes(row.content)
        return content, row.filename, p.sign_form(form_id, version, content, self.keys.signing)

    def publish_form(self, path: Path) -> dict[str, Any]:
        """Check an XLSForm and publish it; every active device gets a message."""
        path = Path(path)
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise admin_error("not_found", f"cannot read {path}",
                              f"No se pudo leer el archivo {path}.") from exc
        form_id, version = check_xlsform(path, content)
        sha = p.sha256_hex(content)
        now = _now_iso()
        try:
            with self.engine.begin() as c:
                c.execute(insert(forms).values(
                    form_id=form_id, version=version, filename=path.name, sha256=sha,
                    content=content, published_at=now,
                ))
                payload = {"form_id": form_id, "version": version, "sha256": sha,
                           "filename": path.name, "url": f"/v1/forms/{form_id}/{version}"}
                targets = self._active_devices(c)
                for d in targets:
                    self._post(c, d, "form_published", payload)
        except IntegrityError as exc:
            raise admin_error(
                "already_published", f"{form_id} {version} (or identical file) already published",
                f"El formulario {form_id} versión {version} ya fue publicado. "
                "Cambie la versión en la hoja settings.", 409,
            ) from exc
        validation.set_published_forms(self.published_form_ids, self.published_form_path)
        log.info("form %s %s published to %d devices", form_id, version, len(targets))
        return {"form_id": form_id, "version": version, "sha256": sha, "devices": len(targets)}

    # ------------------------------------------------------------ admin actions

    def list_devices(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(devices).order_by(devices.c.enrolled_at)).mappings().all()
        return [dict(r) for r in rows]

    def revoke_device(self, device_id: str, reason: str = "") -> None:
        with self.engine.begin() as c:
            dev = self._device(c, device_id)
            if dev is None:
                raise admin_error("not_found", "no such device",
                                  f"No existe el equipo {device_id}.", 404)
            if dev["status"] == "revoked":
                raise admin_error("already_revoked", "device already revoked",
                                  f"El equipo {device_id} ya estaba dado de baja.", 409)
            now = _now_iso()
            c.execute(update(devices).where(devices.c.device_id == device_id)
                      .values(status="revoked", revoked_at=now, revoke_reason=reason))
            self._post(c, device_id, "device_revoked", {"reason": reason, "revoked_at": now})
        log.info("device %s revoked", device_id)

    def set_settings(self, values: dict[str, Any], ule: str | None = None) -> int:
        """Send new settings to the active devices (of one ULE, or all)."""
        with self.engine.begin() as c:
            targets = self._active_devices(c, ule)
            for d in targets:
                self._post(c, d, "settings_changed", {"settings": values})
        log.info("settings %s sent to %d devices", sorted(values), len(targets))
        return len(targets)

    def list_records(self, ule: str | None = None, status: str | None = None,
                     limit: int = 1000) -> list[dict[str, Any]]:
        cols = [c for c in records.c if c.name not in ("answers",)]
        q = select(*cols)
        if ule:
            q = q.where(records.c.ule_ubigeo == ule)
        if status:
            q = q.where(records.c.status == status)
        with self.engine.connect() as c:
            rows = c.execute(q.order_by(records.c.received_at, records.c.uuid,
                                        records.c.revision).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def _record_audience(self, c: Connection, row: Mapping[str, Any]) -> list[str]:
        """Who hears about a record: the device that sent it or, when that laptop was
        revoked (replaced, stolen), every active device of the record's ULE."""
        dev = self._device(c, row["device_id"])
        if dev is not None and dev["status"] == "active":
            return [row["device_id"]]
        return self._active_devices(c, row["ule_ubigeo"])

    def _record(self, c: Connection, uuid: str, revision: int | None) -> RowMapping:
        q = select(records).where(records.c.uuid == uuid)
        if revision is not None:
            q = q.where(records.c.revision == revision)
        row = c.execute(q.order_by(records.c.revision.desc())).mappings().first()
        if row is None:
            raise admin_error("not_found", "no such record",
                              f"No existe el registro {uuid}"
                              + (f" revisión {revision}." if revision else "."), 404)
        return row

    def get_record(self, uuid: str, revision: int | None = None) -> dict[str, Any]:
        with self.engine.connect() as c:
            row = dict(self._record(c, uuid, revision))
        row["answers"] = json.loads(row["answers"])
        if row["return_reasons"]:
            row["return_reasons"] = json.loads(row["return_reasons"])
        return row

    def return_record(self, uuid: str, revision: int | None, reasons: list[str]) -> int:
        reasons = [r.strip() for r in reasons if r and r.strip()]
        if not reasons:
            raise admin_error("no_reason", "a return needs at least one reason",
                              "Indique al menos un motivo para devolver el registro.")
        with self.engine.begin() as c:
            row = self._record(c, uuid, revision)
            if row["status"] != "received":
                raise admin_error("bad_state", f"record is {row['status']}",
                                  "Solo se puede devolver un registro recibido, sin resultado "
                                  "ni devolución previa.", 409)
            now = _now_iso()
            c.execute(update(records)
                      .where(records.c.uuid == uuid, records.c.revision == row["revision"])
                      .values(status="returned", status_at=now,
                              return_reasons=json.dumps(reasons, ensure_ascii=False)))
            payload = {"uuid": uuid, "revision": row["revision"], "form_id": row["form_id"],
                       "reasons": reasons, "returned_at": now}
            cursor = 0
            for target in self._record_audience(c, row):
                cursor = self._post(c, target, "record_returned", payload)
        log.info("record %s rev %s returned to %s", uuid, row["revision"], row["device_id"])
        return cursor

    def post_result(self, uuid: str, revision: int | None, category: str, result_date: str,
                    valid_until: str) -> int:
        category = category.strip().lower().replace(" ", "_")
        if category not in CSE_CATEGORIES:
            raise admin_error("bad_category", f"unknown CSE category {category}",
                              "La clasificación debe ser pobre_extremo, pobre o no_pobre.")
        d1, d2 = _check_date(result_date), _check_date(valid_until)
        if d2 <= d1:
            raise admin_error("bad_dates", "validity must end after the result date",
                              "La vigencia debe terminar después de la fecha del resultado.")
        with self.engine.begin() as c:
            row = self._record(c, uuid, revision)
            if row["status"] == "returned":
                raise admin_error("bad_state", "record was returned",
                                  "El registro fue devuelto; no se puede registrar su resultado.",
                                  409)
            c.execute(update(records)
                      .where(records.c.uuid == uuid, records.c.revision == row["revision"])
                      .values(status="result", status_at=_now_iso(), result_category=category,
                              result_date=result_date, result_valid_until=valid_until))
            payload = {"uuid": uuid, "revision": row["revision"], "form_id": row["form_id"],
                       "category": category, "result_date": result_date,
                       "valid_until": valid_until}
            cursor = 0
            for target in self._record_audience(c, row):
                cursor = self._post(c, target, "cse_result", payload)
        log.info("CSE result for record %s rev %s sent to %s", uuid, row["revision"],
                 row["device_id"])
        return cursor

    EXPORT_COLUMNS = (
        "uuid", "revision", "form_id", "form_version", "ule_ubigeo", "author", "device_id",
        "batch_id", "completed_at", "approved_at", "received_at", "status", "result_category",
        "result_date", "result_valid_until", "content_sha256", "answers",
    )

    def export_csv(self, out: IO[str], ule: str | None = None, with_answers: bool = True) -> int:
        cols = [c for c in self.EXPORT_COLUMNS if with_answers or c != "answers"]
        w = csv.writer(out)
        w.writerow(cols)
        q = select(*[records.c[c] for c in cols]).order_by(
            records.c.received_at, records.c.uuid, records.c.revision)
        if ule:
            q = q.where(records.c.ule_ubigeo == ule)
        n = 0
        with self.engine.connect() as c:
            for row in c.execute(q):
                w.writerow(["" if v is None else v for v in row])
                n += 1
        log.info("exported %d records", n)
        return n

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            return {
                "devices": c.execute(select(func.count()).select_from(devices)).scalar_one(),
                "records": c.execute(select(func.count()).select_from(records)).scalar_one(),
                "batches": c.execute(select(func.count()).select_from(batches)).scalar_one(),
            }


def _check_date(value: str) -> date:
    try:
        if not _DATE_RE.match(value or ""):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise admin_error("bad_date", f"bad date {value!r}",
                          f"La fecha «{value}» no es válida; use AAAA-MM-DD.") from exc


def check_xlsform(path: Path, content: bytes) -> tuple[str, str]:
    """Check that a file is a valid XLSForm with an id and version; return them."""
    try:
        from pyxform.xls2xform import convert

        result = convert(content, file_type=path.suffix.lower() or None)
        data = result._pyxform or {}
    except Exception as exc:  # noqa: BLE001 - pyxform raises many kinds
        raise admin_error(
            "bad_form", f"XLSForm does not convert: {type(exc).__name__}: {exc}"[:500],
            f"El archivo no es un XLSForm válido: {exc}"[:500], 422,
        ) from exc
    form_id = str(data.get("id_string") or "")
    version = str(data.get("version") or "")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", form_id) or not re.fullmatch(
        r"[A-Za-z0-9_.\-]{1,64}", version
    ):
        raise admin_error(
            "bad_form", "XLSForm needs form_id and version in its settings sheet",
            "El XLSForm debe indicar form_id y version (letras, números, . _ -) "
            "en la hoja settings.", 422,
        )
    try:
        import app.forms as engine

        if hasattr(engine, "load_form"):
            engine.load_form(path)
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise admin_error(
            "bad_form", f"form engine refuses the form: {type(exc).__name__}"[:300],
            f"El formulario no se puede usar en SIEE Campo: {exc}"[:500], 422,
        ) from exc
    return form_id, version
