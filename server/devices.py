"""Devices resource: enrollment codes, enrollment, request authentication, revocation.

Queries on the `devices`, `enroll_codes` and `nonces` tables live here; the checks
"is this device enrolled" and "is it still active" are written once (`require`,
`check_active`) and used by every other resource."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server import errors
from server.context import Context, now_iso
from server.db import devices, enroll_codes, nonces
from server.messages import post
from server.throttle import Throttle

log = logging.getLogger("siee.server.devices")

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# ------------------------------------------------------------------- queries


def get(c: Connection, device_id: str) -> RowMapping | None:
    """The device row, or None when the id is not enrolled."""
    return c.execute(select(devices).where(devices.c.device_id == device_id)).mappings().first()


def active_ids(c: Connection, ule: str | None = None) -> list[str]:
    """Ids of the active devices (of one ULE ubigeo, or all), sorted."""
    q = select(devices.c.device_id).where(devices.c.status == "active")
    if ule:
        q = q.where(devices.c.ule_ubigeo == ule)
    return [r[0] for r in c.execute(q.order_by(devices.c.device_id))]


def require(engine: Engine, device_id: str, via: str = "http",
            allow_revoked: bool = False) -> RowMapping:
    """The enrolled device's row; raises unknown_device (see errors.unknown_device for
    `via`) and, unless allow_revoked, device_revoked."""
    with engine.connect() as c:
        dev = get(c, device_id)
    if dev is None:
        raise errors.unknown_device(device_id, via)
    if not allow_revoked:
        check_active(dev, via)
    return dev


def check_active(dev: Mapping[str, Any], via: str = "http") -> None:
    """Raise device_revoked unless the device is active."""
    if dev["status"] != "active":
        raise errors.device_revoked(via)


def normalize_code(code: str) -> str:
    """An enrollment code as typed (spaces, dashes, lower case) in canonical form."""
    return re.sub(r"[\s\-]", "", str(code or "")).upper()


def code_hash(code: str) -> str:
    """What is stored of an enrollment code (never the code itself)."""
    return p.sha256_hex(("siee-enroll:" + normalize_code(code)).encode())


def check_ule(ule: str) -> str:
    """A ULE ubigeo (6 digits, in the INEI catalog when it is available); raises
    bad_ubigeo (400) otherwise."""
    ule = str(ule or "").strip()
    if not re.fullmatch(r"\d{6}", ule):
        raise errors.admin_error("bad_ubigeo", "ULE ubigeo must be 6 digits",
                                 "El ubigeo de la ULE debe tener 6 dígitos (DDPPDD).")
    try:
        from app.core.ubigeo import catalog  # deferred on purpose: large table

        cat = catalog()
    except Exception:  # noqa: BLE001 - catalog unavailable: format check only
        return ule
    if len(cat) and cat.get(ule) is None:
        raise errors.admin_error("bad_ubigeo", f"ubigeo {ule} not in the INEI catalog",
                                 f"El ubigeo {ule} no existe en el catálogo del INEI.")
    return ule


# ------------------------------------------------------------------ resource


class Devices:
    """Enrollment (codes and devices), authentication of signed requests, revocation."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.throttle = Throttle(ctx.engine)
        self._last_purge = 0.0

    # -- enrollment ---------------------------------------------------------------------
    def create_enroll_code(self, ule: str, hours: int | None = None) -> tuple[str, str]:
        """A one-time code bound to a ULE ubigeo. Returns (code, expires_at ISO)."""
        ule = check_ule(ule)
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        expires = int(time.time()) + 3600 * (hours or self.ctx.settings.enroll_code_hours)
        with self.ctx.engine.begin() as c:
            c.execute(insert(enroll_codes).values(
                code_hash=code_hash(code), ule_ubigeo=ule, created_at=now_iso(),
                expires_at=expires,
            ))
        log.info("enrollment code created for ULE %s", ule)
        return code, p.utc_now_iso(expires)

    def check_enroll_rate(self, client: str, now: float | None = None) -> None:
        """Count one enrollment attempt from a client address against the per-address
        and the total limits (both shared by every process); raises rate_limited (429)
        with a Spanish message when either is exceeded."""
        s = self.ctx.settings
        if s.enroll_per_address <= 0 and s.enroll_per_minute <= 0:
            return
        now = time.time() if now is None else now
        with self.ctx.engine.begin() as c:
            waits = [self.throttle.hit("enroll:ip:" + client[:80], s.enroll_per_address, now, c),
                     self.throttle.hit("enroll:all", s.enroll_per_minute, now, c)]
        self.throttle.purge_if_due(now)
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            log.warning("enrollment attempts over the limit (address or total)")
            raise errors.RetryLater(
                "rate_limited", "too many enrollment attempts",
                f"Demasiados intentos de inscripción seguidos. Espere {int(wait)} s, revise "
                "el código y vuelva a intentar.", 429, wait)

    def enroll(self, body: Mapping[str, Any], client: str | None = None) -> dict[str, Any]:
        """Enroll a device with a one-time code (body as EnrollRequest); returns the
        enrollment answer (device id, server keys, limits). `client`: the caller's
        network address, counted against the enrollment limits (None: not counted,
        e.g. the admin CLI)."""
        if client is not None:
            self.check_enroll_rate(client)
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
        replaces = (str(body.get("replaces") or "")[:40], str(body.get("replaces_proof") or ""))
        try:
            row = self._consume_code(code, pub, device_id, label, app_version, int(time.time()),
                                     str(body.get("ule_ubigeo") or "")[:6], replaces)
        except IntegrityError as exc:  # the same key enrolled concurrently with another code
            raise errors.key_in_use() from exc
        log.info("device %s enrolled for ULE %s", device_id, row["ule_ubigeo"])
        return {
            "device_id": device_id,
            "ule_ubigeo": row["ule_ubigeo"],
            "server_signing_key": self.ctx.keys.signing_public,
            "server_encryption_key": self.ctx.keys.encryption_public,
            "protocol_version": p.PROTOCOL_VERSION,
            "server_time": time.time(),
            "limits": self.ctx.settings.limits(),
        }

    def _consume_code(self, code: str, pub: str, device_id: str, label: str,
                      app_version: str, now: int, laptop_ule: str = "",
                      replaces: tuple[str, str] = ("", "")) -> RowMapping:
        bad_code = ProtocolError(
            "enroll_code_invalid", "enrollment code unknown, used or expired",
            "El código de inscripción no es válido, ya fue usado o venció. "
            "Pida un código nuevo a la sede central.", 403,
        )
        with self.ctx.engine.begin() as c:
            row = c.execute(
                select(enroll_codes).where(enroll_codes.c.code_hash == code_hash(code))
            ).mappings().first()
            if row is None or row["used_at"] is not None or row["expires_at"] < now:
                log.info("enrollment refused (code unknown, used or expired)")
                raise bad_code
            if laptop_ule and laptop_ule != row["ule_ubigeo"]:
                log.info("enrollment refused (code of ULE %s, device of ULE %s)",
                         row["ule_ubigeo"], laptop_ule)
                raise p.enroll_code_other_ule(str(row["ule_ubigeo"]), laptop_ule)
            taken = c.execute(
                update(enroll_codes)
                .where(enroll_codes.c.code_hash == row["code_hash"],
                       enroll_codes.c.used_at.is_(None))
                .values(used_at=now_iso(), device_id=device_id)
            )
            if taken.rowcount != 1:
                raise bad_code
            if c.execute(select(devices.c.device_id).where(devices.c.public_key == pub)).first():
                raise errors.key_in_use()
            c.execute(insert(devices).values(
                device_id=device_id, public_key=pub, ule_ubigeo=row["ule_ubigeo"],
                label=self.ctx.sealer.seal(label, f"devices.label:{device_id}"),
                app_version=app_version, status="active", enrolled_at=now_iso(),
            ))
            self._retire_replaced(c, code, pub, device_id, *replaces)
        return row

    def _retire_replaced(self, c: Connection, code: str, pub: str, device_id: str,
                         old_id: str, proof: str) -> None:
        """The laptop enrolled again (`replaces` in the request): revoke its previous
        device in the enrollment's own transaction, so the centre never holds two active
        ids for one laptop. Needs the previous key's proof (bad_signature otherwise, and
        nothing is enrolled); an id unknown here (enrolled at another server) or already
        revoked is left as it is."""
        if not old_id:
            return
        old = get(c, old_id)
        if old is None or old["status"] != "active":
            return
        if not proof:
            raise ProtocolError("bad_signature", "replacement without proof",
                                "La solicitud de inscripción no es válida. Vuelva a "
                                "intentar; si se repite, avise a soporte.", 401)
        p.verify_replacement_proof(code, pub, old_id, old["public_key"], proof)
        now = now_iso()
        reason = f"reemplazado por {device_id} (el mismo equipo se inscribió de nuevo)"
        c.execute(update(devices).where(devices.c.device_id == old_id).values(
            status="revoked", revoked_at=now,
            revoke_reason=self.ctx.sealer.seal(reason, f"devices.revoke_reason:{old_id}")))
        post(c, self.ctx.sealer, old_id, "device_revoked", {"reason": reason, "revoked_at": now})
        log.info("device %s revoked: replaced by %s", old_id, device_id)

    # -- authentication -----------------------------------------------------------------
    def authenticate(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str],
        now: float | None = None,
    ) -> RowMapping:
        """Verify a signed request; returns the device row or raises ProtocolError."""
        now = time.time() if now is None else now
        req = p.parse_request_headers(headers)
        dev = require(self.ctx.engine, req.device_id, allow_revoked=True)
        p.verify_request(method, path, body, headers, dev["public_key"], now=now,
                         window=self.ctx.settings.timestamp_window)
        check_active(dev)
        # Replay first, rate second: a refused replay (or a bad signature, above) never
        # counts against the genuine device.
        try:
            with self.ctx.engine.begin() as c:
                c.execute(insert(nonces).values(device_id=dev["device_id"], nonce=req.nonce,
                                                ts=req.timestamp))
                wait = self.throttle.hit("dev:" + dev["device_id"],
                                         self.ctx.settings.rate_per_minute, now, c)
                if wait is None:
                    c.execute(update(devices).where(devices.c.device_id == dev["device_id"])
                              .values(last_seen_at=now_iso()))
        except IntegrityError as exc:
            log.warning("replayed nonce from device %s", dev["device_id"])
            raise ProtocolError(
                "replayed_nonce", "nonce already used",
                "La solicitud ya fue recibida antes (repetida). Vuelva a intentar.", 401,
            ) from exc
        self.throttle.purge_if_due(now)
        self._maybe_purge_nonces(now)
        if wait is not None:
            raise errors.rate_limited(self.ctx.settings.rate_per_minute, wait)
        return dev

    def _maybe_purge_nonces(self, now: float) -> None:
        if now - self._last_purge < 60:
            return
        self._last_purge = now
        cutoff = int(now) - 2 * self.ctx.settings.timestamp_window - 60
        with self.ctx.engine.begin() as c:
            c.execute(nonces.delete().where(nonces.c.ts < cutoff))

    # -- admin --------------------------------------------------------------------------
    def list(self) -> list[dict[str, Any]]:
        """Every device row, oldest enrollment first."""
        with self.ctx.engine.connect() as c:
            rows = c.execute(select(devices).order_by(devices.c.enrolled_at)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["label"] = self.ctx.sealer.open(d["label"], f"devices.label:{d['device_id']}")
            d["revoke_reason"] = self.ctx.sealer.open(
                d["revoke_reason"], f"devices.revoke_reason:{d['device_id']}")
            out.append(d)
        return out

    def revoke(self, device_id: str, reason: str = "") -> str:
        """Revoke a device; it gets a signed device_revoked message. The id is read as
        IT may type it (spaces around it, upper case: `DEV-3F2A…` is `dev-3f2a…`, the
        form the centre gives every id). Raises not_found (404) or already_revoked
        (409). Returns the id revoked."""
        typed = str(device_id or "").strip()
        with self.ctx.engine.begin() as c:
            dev = get(c, typed) or get(c, typed.lower())
            if dev is None:
                raise errors.admin_error(
                    "not_found", "no such device",
                    f"No existe el equipo {typed}. Un identificador tiene la forma "
                    "dev-3f2a9c1d0e4b5a67 (16 cifras y letras de la a a la f); cópielo de "
                    "«siee-server devices list» y repita la orden.", 404)
            device_id = dev["device_id"]
            if dev["status"] == "revoked":
                raise errors.admin_error("already_revoked", "device already revoked",
                                         f"El equipo {device_id} ya estaba dado de baja.", 409)
            now = now_iso()
            c.execute(update(devices).where(devices.c.device_id == device_id).values(
                status="revoked", revoked_at=now,
                revoke_reason=self.ctx.sealer.seal(reason, f"devices.revoke_reason:{device_id}")))
            post(c, self.ctx.sealer, device_id, "device_revoked",
                 {"reason": reason, "revoked_at": now})
        log.info("device %s revoked", device_id)
        return device_id
