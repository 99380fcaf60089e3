"""The SIEE Campo wire protocol, version 1 (see docs/protocol.md).

The one implementation of the contract between laptops and the central SIEE
server: canonical encoding, request signing, the batch envelope (compressed,
encrypted to the server, signed by the device), receipts and inbox messages
(signed by the server), error bodies. Used by the client (app/sync) and by the
reference server (server/). Depends only on the standard library and
`cryptography`; no Qt, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import re
import struct
import time
import uuid as uuid_mod
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROTOCOL_VERSION = 1

# --- HTTP header names -------------------------------------------------------
H_DEVICE = "X-Siee-Device"
H_TIMESTAMP = "X-Siee-Timestamp"
H_NONCE = "X-Siee-Nonce"
H_SIGNATURE = "X-Siee-Signature"
H_SERVER_TIME = "X-Siee-Server-Time"
H_CONTENT_SHA256 = "X-Siee-Content-Sha256"
H_SERVER_SIGNATURE = "X-Siee-Server-Signature"
# Sent by servers since the backpressure addition (absent from older servers): the
# largest batch the server accepts now; the client's batch sizer never exceeds it.
H_MAX_RECORDS = "X-Siee-Max-Records"
H_MAX_BATCH_BYTES = "X-Siee-Max-Batch-Bytes"

BATCH_CONTENT_TYPE = "application/vnd.siee.batch"
RECEIPT_CONTENT_TYPE = "application/json"

# --- limits every side enforces while parsing --------------------------------
MAX_HEADER_BYTES = 1 << 20  # compressed header in an envelope
MAX_HEADER_PLAIN_BYTES = 4 << 20  # decompressed header
DEFAULT_MAX_PLAIN_BYTES = 64 << 20  # decompressed records payload
TIMESTAMP_WINDOW_S = 300
NONCE_MIN_LEN = 16
NONCE_MAX_LEN = 64

MAGIC = b"SIEB"
_FRAME_HEAD = struct.Struct(">4sBI")  # magic, version, header length
SIG_LEN = 64
GCM_NONCE_LEN = 12

RECORD_STATUSES = ("accepted", "duplicate", "invalid", "conflict")
MESSAGE_KINDS = (
    "record_returned",
    "cse_result",
    "form_published",
    "settings_changed",
    "device_revoked",
)

_REQ_DOMAIN = b"SIEE-v1 request"
_BATCH_DOMAIN = b"SIEE-v1 batch"
_RECEIPT_DOMAIN = b"SIEE-v1 receipt"
_MESSAGE_DOMAIN = b"SIEE-v1 message"
_ENROLL_DOMAIN = b"SIEE-v1 enroll"
_REPLACE_DOMAIN = b"SIEE-v1 enroll replaces"
_FORM_DOMAIN = b"SIEE-v1 form"
_INBOX_REQUEST_DOMAIN = b"SIEE-v1 inbox request"
_INBOX_FILE_DOMAIN = b"SIEE-v1 inbox file"
_HKDF_INFO = b"SIEE-v1 batch key"

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_UBIGEO_RE = re.compile(r"^\d{6}$")


# =============================================================================
# Errors
# =============================================================================


class ProtocolError(Exception):
    """A message that does not follow the protocol.

    `code` is a stable machine code, `detail` English (logs), `message` Spanish
    (people). `status` is the HTTP status the server answers with."""

    def __init__(self, code: str, detail: str, message: str, status: int = 422) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.message = message
        self.status = status

    def body(self, **extra: Any) -> dict[str, Any]:
        return error_body(self.code, self.detail, self.message, **extra)


def error_body(code: str, detail: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer: code, English detail, Spanish message."""
    body: dict[str, Any] = {"code": code, "detail": detail, "message": message}
    body.update(extra)
    return body


def _malformed(detail: str) -> ProtocolError:
    return ProtocolError(
        "malformed_envelope",
        detail,
        "El lote está dañado o incompleto. Vuelva a generarlo y envíelo de nuevo.",
        422,
    )


def _bad_signature(detail: str) -> ProtocolError:
    return ProtocolError(
        "bad_signature",
        detail,
        "La firma no es válida: el contenido fue alterado o la clave no corresponde.",
        401,
    )


# =============================================================================
# Encoding helpers
# =============================================================================


def canonical_json(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8, no NaN/Infinity."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64e(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_\-]*", text):
        raise ValueError("not url-safe base64")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not url-safe base64") from exc


def utc_now_iso(now: float | None = None) -> str:
    t = time.time() if now is None else now
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    def _no_const(name: str) -> Any:
        raise ValueError(f"non-finite number {name}")

    def _finite(text: str) -> float:
        v = float(text)
        if not math.isfinite(v):
            raise ValueError("number out of range")
        return v

    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_no_const, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _malformed(f"{what} is not valid JSON") from exc
    if not isinstance(obj, dict):
        raise _malformed(f"{what} is not a JSON object")
    return obj


def _bounded_inflate(data: bytes, limit: int, what: str) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise _malformed(f"{what} is not valid deflate data") from exc
    if len(out) > limit or d.unconsumed_tail:
        raise ProtocolError(
            "too_large",
            f"{what} expands beyond {limit} bytes",
            "El lote es demasiado grande una vez descomprimido. Envíe lotes más pequeños.",
            413,
        )
    if not d.eof or d.unused_data:
        raise _malformed(f"{what} deflate stream is truncated or has trailing data")
    return out


# =============================================================================
# Keys
# =============================================================================


def new_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def new_encryption_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    """The raw 32-byte private key (store it encrypted or with mode 0600)."""
    return key.private_bytes_raw()


def signing_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def encryption_key_from_bytes(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def public_key_text(key: Ed25519PrivateKey | X25519PrivateKey | Ed25519PublicKey
                    | X25519PublicKey) -> str:
    """A public key as URL-safe base64 of its raw 32 bytes (private keys: their public half)."""
    if isinstance(key, Ed25519PrivateKey | X25519PrivateKey):
        key = key.public_key()
    return b64e(key.public_bytes_raw())


def _raw32(text: str, what: str) -> bytes:
    try:
        raw = b64d(text)
    except ValueError as exc:
        raise ProtocolError(
            "bad_key", f"{what} is not base64", "La clave pública no es válida.", 422
        ) from exc
    if len(raw) != 32:
        raise ProtocolError(
            "bad_key", f"{what} is not 32 bytes", "La clave pública no es válida.", 422
        )
    return raw


def verify_key_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw32(text, "Ed25519 public key"))


def encryption_public_from_text(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(_raw32(text, "X25519 public key"))


def key_fingerprint(public_text: str) -> str:
    """Short human-comparable fingerprint of a public key (first 16 hex of sha256)."""
    return sha256_hex(public_text.encode("ascii"))[:16]


def _as_verify_key(key: Ed25519PublicKey | str) -> Ed25519PublicKey:
    return verify_key_from_text(key) if isinstance(key, str) else key


# =============================================================================
# Request signing
# =============================================================================


def new_nonce() -> str:
    return b64e(os.urandom(18))


def request_string(
    method: str, path: str, timestamp: str, nonce: str, device_id: str, body: bytes
) -> bytes:
    """The bytes a device signs for one request. `path` includes the query string."""
    return b"\n".join(
        [
            _REQ_DOMAIN,
            method.upper().encode("ascii"),
            path.encode("utf-8"),
            timestamp.encode("ascii"),
            nonce.encode("ascii"),
            device_id.encode("ascii"),
            sha256_hex(body).encode("ascii"),
        ]
    )


def sign_request(
    method: str,
    path: str,
    body: bytes,
    device_id: str,
    private_key: Ed25519PrivateKey,
    now: float | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Headers that authenticate one request. `now` is the client's corrected clock
    (local time + the offset learned from the server's X-Siee-Server-Time)."""
    ts = str(int(time.time() if now is None else now))
    nonce = nonce or new_nonce()
    sig = private_key.sign(request_string(method, path, ts, nonce, device_id, body))
    return {H_DEVICE: device_id, H_TIMESTAMP: ts, H_NONCE: nonce, H_SIGNATURE: b64e(sig)}


@dataclass(frozen=True, slots=True)
class SignedRequest:
    device_id: str
    timestamp: int
    nonce: str
    signature: bytes


def _unsigned(detail: str) -> ProtocolError:
    return ProtocolError(
        "unsigned",
        detail,
        "La solicitud no está firmada. Este equipo debe estar inscrito en el servidor.",
        401,
    )


def parse_request_headers(headers: Mapping[str, str]) -> SignedRequest:
    """Read the signing headers (case-insensitive mapping); structural checks only."""
    lower = {k.lower(): v for k, v in headers.items()}
    vals = {}
    for name in (H_DEVICE, H_TIMESTAMP, H_NONCE, H_SIGNATURE):
        v = lower.get(name.lower())
        if not v:
            raise _unsigned(f"missing header {name}")
        vals[name] = v
    device_id = vals[H_DEVICE]
    if not _ID_RE.match(device_id):
        raise _unsigned("malformed device id")
    if not re.fullmatch(r"\d{1,12}", vals[H_TIMESTAMP]):
        raise _unsigned("malformed timestamp")
    nonce = vals[H_NONCE]
    if not (NONCE_MIN_LEN <= len(nonce) <= NONCE_MAX_LEN) or not re.fullmatch(
        r"[A-Za-z0-9_\-]+", nonce
    ):
        raise _unsigned("malformed nonce")
    try:
        sig = b64d(vals[H_SIGNATURE])
    except ValueError as exc:
        raise _bad_signature("signature is not base64") from exc
    if len(sig) != SIG_LEN:
        raise _bad_signature("signature has the wrong length")
    return SignedRequest(device_id, int(vals[H_TIMESTAMP]), nonce, sig)


def check_timestamp(timestamp: int, now: float, window: int = TIMESTAMP_WINDOW_S) -> None:
    if abs(now - timestamp) > window:
        raise ProtocolError(
            "stale_timestamp",
            f"timestamp off by {int(timestamp - now)} s (window {window} s)",
            "La hora del equipo no coincide con la del servidor. "
            "Se corregirá automáticamente; intente de nuevo.",
            401,
        )


def verify_request(
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    public_key: Ed25519PublicKey | str,
    now: float | None = None,
    window: int = TIMESTAMP_WINDOW_S,
) -> SignedRequest:
    """Verify signature and timestamp window. Nonce reuse and device status are the
    server's job (it needs storage); it must check them after this returns."""
    req = parse_request_headers(headers)
    check_timestamp(req.timestamp, time.time() if now is None else now, window)
    msg = request_string(method, path, str(req.timestamp), req.nonce, req.device_id, body)
    try:
        _as_verify_key(public_key).verify(req.signature, msg)
    except InvalidSignature as exc:
        raise _bad_signature("request signature does not verify") from exc
    return req


# =============================================================================
# Enrollment
# =============================================================================


def enrollment_proof_bytes(code: str, device_public_key: str) -> bytes:
    return b"\n".join([_ENROLL_DOMAIN, code.encode("utf-8"), device_public_key.encode("ascii")])


def replacement_proof_bytes(code: str, device_public_key: str, old_device_id: str) -> bytes:
    """What the laptop's previous device key signs when it enrolls again: this code, the
    new key and the id it replaces (so the proof serves no other enrollment)."""
    return b"\n".join([_REPLACE_DOMAIN, code.encode("utf-8"), device_public_key.encode("ascii"),
                       old_device_id.encode("ascii")])


def verify_replacement_proof(code: str, device_public_key: str, old_device_id: str,
                             old_public_key: str, proof: str) -> None:
    """Check that the holder of the enrolled device `old_device_id` (its key
    `old_public_key`) asked for this enrollment to replace it; raises bad_signature."""
    key = verify_key_from_text(old_public_key)
    try:
        key.verify(b64d(proof), replacement_proof_bytes(code, device_public_key, old_device_id))
    except (InvalidSignature, ValueError) as exc:
        raise _bad_signature("replacement proof does not verify") from exc


def enrollment_request(
    code: str, private_key: Ed25519PrivateKey, label: str = "", app_version: str = "",
    ule_ubigeo: str | None = None,
    replaces: tuple[str, Ed25519PrivateKey] | None = None,
) -> dict[str, Any]:
    """Body of POST /v1/enroll: proves possession of the device key. `ule_ubigeo`: the
    laptop's ULE when it has one; the server refuses (409 enroll_code_other_ule) a code
    made for another ULE, without using the code up. `replaces`: (device id, key) of
    this laptop's current enrollment, when it enrolls again; the centre revokes that
    device in the same transaction that enrolls the new one (docs/protocol.md §4)."""
    pub = public_key_text(private_key)
    body = {
        "code": code,
        "device_public_key": pub,
        "proof": b64e(private_key.sign(enrollment_proof_bytes(code, pub))),
        "label": label,
        "app_version": app_version,
        "protocol_version": PROTOCOL_VERSION,
    }
    if ule_ubigeo:
        body["ule_ubigeo"] = ule_ubigeo
    if replaces is not None:
        old_id, old_key = replaces
        body["replaces"] = old_id
        body["replaces_proof"] = b64e(old_key.sign(replacement_proof_bytes(code, pub, old_id)))
    return body


def other_ule_message(code_ule: str, laptop_ule: str) -> str:
    """Spanish: an enrollment code made for ULE `code_ule` typed on a laptop of ULE
    `laptop_ule` (said by the server, and by the client if a server did not check)."""
    return (
        f"Este código de inscripción es de la ULE {code_ule}, pero este equipo es de la "
        f"ULE {laptop_ule}: no se inscribió (el código sigue sin usar). Pida a la sede "
        f"central un código para la ULE {laptop_ule}; si el equipo es de la ULE "
        f"{code_ule}, corrija primero el ubigeo en Administración → Configuración."
    )


def enroll_code_other_ule(code_ule: str, laptop_ule: str) -> ProtocolError:
    """The refusal (409) of a code made for another ULE; the code stays unused."""
    return ProtocolError("enroll_code_other_ule",
                         f"enrollment code is for ULE {code_ule}, device says {laptop_ule}",
                         other_ule_message(code_ule, laptop_ule), 409)


def verify_enrollment_proof(code: str, device_public_key: str, proof: str) -> None:
    key = verify_key_from_text(device_public_key)
    try:
        key.verify(b64d(proof), enrollment_proof_bytes(code, device_public_key))
    except (InvalidSignature, ValueError) as exc:
        raise _bad_signature("enrollment proof does not verify") from exc


# =============================================================================
# Records and the batch envelope
# =============================================================================


@dataclass(frozen=True)
class BatchRecord:
    """One record as sent to the centre. `answers` is the form's canonical answers object.

    `case_uuid` (issue 15, additive): the uuid of the request (S100) whose case the
    record belongs to; absent for a request itself and for records of laptops
    before cases, so their content hash is unchanged (see docs/protocol.md §6)."""

    uuid: str
    revision: int
    form_id: str
    form_version: str
    ule_ubigeo: str
    author: str
    answers: dict[str, Any]
    completed_at: str
    approved_at: str | None = None
    case_uuid: str | None = None

    FIELDS = (
        "uuid",
        "revision",
        "form_id",
        "form_version",
        "ule_ubigeo",
        "author",
        "answers",
        "completed_at",
        "approved_at",
    )
    OPTIONAL = ("case_uuid",)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.FIELDS}
        for k in self.OPTIONAL:
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d

    @cached_property
    def answers_json(self) -> bytes:
        """canonical_json(answers), computed once per record (the centre hashes it and
        stores it sealed). A record is frozen: its answers are not changed after use."""
        return canonical_json(self.answers)

    def canonical(self) -> bytes:
        """canonical_json(to_dict()), built from `answers_json` and the other fields:
        "answers" sorts before every other field name, so the canonical object is
        '{"answers":' + answers + ',' + the canonical object of the rest minus its "{"."""
        d = self.to_dict()
        del d["answers"]
        return b'{"answers":' + self.answers_json + b"," + canonical_json(d)[1:]

    def content_hash(self) -> str:
        return sha256_hex(self.canonical())

    @classmethod
    def from_dict(cls, d: Any) -> BatchRecord:
        if (not isinstance(d, dict) or not set(cls.FIELDS) <= set(d)
                or not set(d) <= set(cls.FIELDS) | set(cls.OPTIONAL)):
            raise _malformed("record has missing or unknown fields")
        rec = cls(**{k: d[k] for k in cls.FIELDS + cls.OPTIONAL if k in d})
        if "case_uuid" in d and d["case_uuid"] is None:
            raise _malformed("record case_uuid is null")
        rec.check()
        return rec

    def check(self) -> None:
        """Structural checks (types and formats); the form engine checks the answers."""
        if not isinstance(self.uuid, str) or not _UUID_RE.match(self.uuid):
            raise _malformed("record uuid is not a lowercase UUID")
        if not _is_int(self.revision) or not (1 <= self.revision < 2**31):
            raise _malformed("record revision is not a positive integer")
        for name in ("form_id", "form_version", "author"):
            v = getattr(self, name)
            if not isinstance(v, str) or not _ID_RE.match(v):
                raise _malformed(f"record {name} is malformed")
        if not isinstance(self.ule_ubigeo, str) or not _UBIGEO_RE.match(self.ule_ubigeo):
            raise _malformed("record ule_ubigeo is not 6 digits")
        if not isinstance(self.answers, dict):
            raise _malformed("record answers is not an object")
        if not isinstance(self.completed_at, str) or not self.completed_at:
            raise _malformed("record completed_at missing")
        if self.approved_at is not None and not isinstance(self.approved_at, str):
            raise _malformed("record approved_at malformed")
        if self.case_uuid is not None and (
            not isinstance(self.case_uuid, str) or not _UUID_RE.match(self.case_uuid)
        ):
            raise _malformed("record case_uuid is not a lowercase UUID")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class HeaderEntry:
    uuid: str
    revision: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"uuid": self.uuid, "revision": self.revision, "sha256": self.sha256}


@dataclass(frozen=True)
class BatchHeader:
    """The clear, signed part of a batch: who sent it and which records it holds."""

    batch_id: str
    device_id: str
    created_at: str
    records: tuple[HeaderEntry, ...]
    ephemeral_public_key: str  # X25519, base64url
    nonce: str  # AES-GCM nonce, base64url
    version: int = PROTOCOL_VERSION
    compression: str = "zlib"
    cipher: str = "X25519-HKDF-SHA256-AES256GCM"
    # Optional (additive): the laptop's audit chain head when the batch was built,
    # (last sequence number, hex of its MAC); the centre notices a log that went
    # backwards. Absent in batches of older programs.
    audit_head: tuple[int, str] | None = None

    @property
    def count(self) -> int:
        return len(self.records)

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "batch_id": self.batch_id,
            "device_id": self.device_id,
            "created_at": self.created_at,
            "count": self.count,
            "records": [e.to_dict() for e in self.records],
            "epk": self.ephemeral_public_key,
            "nonce": self.nonce,
            "compression": self.compression,
            "cipher": self.cipher,
            **({"audit_head": {"seq": self.audit_head[0], "mac": self.audit_head[1]}}
               if self.audit_head is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BatchHeader:
        keys = {"v", "batch_id", "device_id", "created_at", "count", "records", "epk", "nonce",
                "compression", "cipher"}
        if set(d) - {"audit_head"} != keys:
            raise _malformed("header has missing or unknown fields")
        audit_head = None
        if "audit_head" in d:
            h = d["audit_head"]
            if (not isinstance(h, dict) or set(h) != {"seq", "mac"} or not _is_int(h["seq"])
                    or not (0 <= h["seq"] < 2**53) or not isinstance(h["mac"], str)
                    or not _HEX64_RE.match(h["mac"])):
                raise _malformed("audit_head malformed")
            audit_head = (int(h["seq"]), h["mac"])
        if d["v"] != PROTOCOL_VERSION:
            raise ProtocolError(
                "unsupported_version",
                f"protocol version {d['v']!r} not supported",
                "La versión del programa no es compatible con el servidor. Actualice SIEE Campo.",
                422,
            )
        if d["compression"] != "zlib" or d["cipher"] != "X25519-HKDF-SHA256-AES256GCM":
            raise _malformed("unknown compression or cipher")
        if not isinstance(d["batch_id"], str) or not _UUID_RE.match(d["batch_id"]):
            raise _malformed("batch_id is not a lowercase UUID")
        if not isinstance(d["device_id"], str) or not _ID_RE.match(d["device_id"]):
            raise _malformed("device_id malformed")
        if not isinstance(d["created_at"], str) or len(d["created_at"]) > 40:
            raise _malformed("created_at malformed")
        recs = d["records"]
        if not isinstance(recs, list) or not _is_int(d["count"]) or d["count"] != len(recs):
            raise _malformed("record list and count disagree")
        entries = []
        seen = set()
        for e in recs:
            if not isinstance(e, dict) or set(e) != {"uuid", "revision", "sha256"}:
                raise _malformed("header entry malformed")
            if not isinstance(e["uuid"], str) or not _UUID_RE.match(e["uuid"]):
                raise _malformed("header entry uuid malformed")
            if not _is_int(e["revision"]) or not (1 <= e["revision"] < 2**31):
                raise _malformed("header entry revision malformed")
            if not isinstance(e["sha256"], str) or not _HEX64_RE.match(e["sha256"]):
                raise _malformed("header entry sha256 malformed")
            k = (e["uuid"], e["revision"])
            if k in seen:
                raise _malformed("the same record appears twice in the batch")
            seen.add(k)
            entries.append(HeaderEntry(e["uuid"], e["revision"], e["sha256"]))
        for name in ("epk", "nonce"):
            if not isinstance(d[name], str):
                raise _malformed(f"{name} malformed")
        try:
            epk = b64d(d["epk"])
            nonce = b64d(d["nonce"])
        except ValueError as exc:
            raise _malformed("epk or nonce is not base64") from exc
        if len(epk) != 32 or len(nonce) != GCM_NONCE_LEN:
            raise _malformed("epk or nonce has the wrong length")
        return cls(
            batch_id=d["batch_id"],
            device_id=d["device_id"],
            created_at=d["created_at"],
            records=tuple(entries),
            ephemeral_public_key=d["epk"],
            nonce=d["nonce"],
            audit_head=audit_head,
        )


@dataclass(frozen=True)
class Envelope:
    """A parsed (not yet verified) batch envelope.

    Wire framing: MAGIC "SIEB" | u8 version | u32 big-endian header length |
    header (zlib of canonical header JSON) | 64-byte Ed25519 signature | ciphertext."""

    header: BatchHeader
    header_bytes: bytes  # as transmitted (compressed)
    signature: bytes
    ciphertext: bytes

    def signed_bytes(self) -> bytes:
        return _batch_signed_bytes(self.header_bytes, self.ciphertext)

    def to_bytes(self) -> bytes:
        return (
            _FRAME_HEAD.pack(MAGIC, PROTOCOL_VERSION, len(self.header_bytes))
            + self.header_bytes
            + self.signature
            + self.ciphertext
        )

    @classmethod
    def from_bytes(cls, data: bytes, max_bytes: int | None = None) -> Envelope:
        """Same as parse_envelope()."""
        return parse_envelope(data, max_bytes)

    @property
    def batch_id(self) -> str:
        return self.header.batch_id

    @property
    def device_id(self) -> str:
        return self.header.device_id


def _batch_signed_bytes(header_bytes: bytes, ciphertext: bytes) -> bytes:
    return b"\n".join(
        [
            _BATCH_DOMAIN,
            hashlib.sha256(header_bytes).digest(),
            hashlib.sha256(ciphertext).digest(),
        ]
    )


def _derive_key(shared: bytes, epk: bytes, server_pub: bytes, batch_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=epk + server_pub,
        info=_HKDF_INFO + b"\n" + batch_id.encode("ascii"),
    ).derive(shared)


def build_batch(
    records: Iterable[BatchRecord],
    device_id: str,
    device_key: Ed25519PrivateKey,
    server_public_key: X25519PublicKey | str,
    batch_id: str | None = None,
    created_at: str | None = None,
    level: int = 9,
    audit_head: tuple[int, str] | None = None,
) -> Envelope:
    """Compress, encrypt to the server and sign a batch of records.

    `audit_head`: (seq, MAC hex) of the laptop's audit chain end, signed with the
    header (optional field "audit_head" of the header, see docs/protocol.md)."""
    recs = list(records)
    for r in recs:
        r.check()
    batch_id = batch_id or str(uuid_mod.uuid4())
    if isinstance(server_public_key, str):
        server_public_key = encryption_public_from_text(server_public_key)
    eph = X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes_raw()
    spk = server_public_key.public_bytes_raw()
    gcm_nonce = os.urandom(GCM_NONCE_LEN)
    header = BatchHeader(
        batch_id=batch_id,
        device_id=device_id,
        created_at=created_at or utc_now_iso(),
        records=tuple(HeaderEntry(r.uuid, r.revision, r.content_hash()) for r in recs),
        ephemeral_public_key=b64e(epk),
        nonce=b64e(gcm_nonce),
        audit_head=audit_head,
    )
    header_bytes = zlib.compress(canonical_json(header.to_dict()), level)
    payload = canonical_json({"records": [r.to_dict() for r in recs]})
    key = _derive_key(eph.exchange(server_public_key), epk, spk, batch_id)
    ciphertext = AESGCM(key).encrypt(gcm_nonce, zlib.compress(payload, level), header_bytes)
    signature = device_key.sign(_batch_signed_bytes(header_bytes, ciphertext))
    return Envelope(header, header_bytes, signature, ciphertext)


def parse_envelope(data: bytes, max_bytes: int | None = None) -> Envelope:
    """Structural parse of an envelope. Verifies nothing cryptographic."""
    if max_bytes is not None and len(data) > max_bytes:
        raise ProtocolError(
            "too_large",
            f"envelope of {len(data)} bytes exceeds {max_bytes}",
            "El lote es demasiado grande. Envíe lotes más pequeños.",
            413,
        )
    if len(data) < _FRAME_HEAD.size:
        raise _malformed("envelope shorter than its frame header")
    magic, version, hlen = _FRAME_HEAD.unpack_from(data)
    if magic != MAGIC:
        raise _malformed("not a SIEE batch (bad magic)")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(
            "unsupported_version",
            f"envelope version {version} not supported",
            "La versión del programa no es compatible con el servidor. Actualice SIEE Campo.",
            422,
        )
    if hlen == 0 or hlen > MAX_HEADER_BYTES:
        raise _malformed("header length out of range")
    start = _FRAME_HEAD.size
    if len(data) < start + hlen + SIG_LEN + 16:
        raise _malformed("envelope truncated")
    header_bytes = data[start : start + hlen]
    signature = data[start + hlen : start + hlen + SIG_LEN]
    ciphertext = data[start + hlen + SIG_LEN :]
    plain_header = _bounded_inflate(header_bytes, MAX_HEADER_PLAIN_BYTES, "header")
    header = BatchHeader.from_dict(_parse_json_object(plain_header, "header"))
    return Envelope(header, header_bytes, signature, ciphertext)


def verify_envelope(env: Envelope, device_public_key: Ed25519PublicKey | str) -> None:
    """Check the device's signature over header and ciphertext."""
    try:
        _as_verify_key(device_public_key).verify(env.signature, env.signed_bytes())
    except InvalidSignature as exc:
        raise _bad_signature("batch signature does not verify") from exc


def decrypt_envelope(
    env: Envelope,
    server_private_key: X25519PrivateKey,
    max_plain_bytes: int = DEFAULT_MAX_PLAIN_BYTES,
) -> list[BatchRecord]:
    """Decrypt, decompress and check the records against the signed header.
    Call verify_envelope first."""
    epk_raw = b64d(env.header.ephemeral_public_key)
    try:
        epk = X25519PublicKey.from_public_bytes(epk_raw)
        shared = server_private_key.exchange(epk)
    except ValueError as exc:
        raise _malformed("ephemeral key unusable") from exc
    spk = server_private_key.public_key().public_bytes_raw()
    key = _derive_key(shared, epk_raw, spk, env.header.batch_id)
    try:
        compressed = AESGCM(key).decrypt(
            b64d(env.header.nonce), env.ciphertext, env.header_bytes
        )
    except InvalidTag as exc:
        raise ProtocolError(
            "decrypt_failed",
            "batch does not decrypt with this server's key",
            "El servidor no pudo abrir el lote: fue cifrado para otro servidor o está dañado.",
            422,
        ) from exc
    payload = _parse_json_object(
        _bounded_inflate(compressed, max_plain_bytes, "payload"), "payload"
    )
    if set(payload) != {"records"} or not isinstance(payload["records"], list):
        raise _malformed("payload has no record list")
    recs = [BatchRecord.from_dict(d) for d in payload["records"]]
    if len(recs) != env.header.count:
        raise _malformed("payload and header list different numbers of records")
    for r, e in zip(recs, env.header.records, strict=True):
        if (r.uuid, r.revision, r.content_hash()) != (e.uuid, e.revision, e.sha256):
            raise _malformed(f"record {r.uuid} does not match the signed header")
    return recs


def open_batch(
    data: bytes,
    server_private_key: X25519PrivateKey,
    device_key_lookup: Callable[[str], Ed25519PublicKey | str],
    max_bytes: int | None = None,
    max_plain_bytes: int = DEFAULT_MAX_PLAIN_BYTES,
) -> tuple[Envelope, list[BatchRecord]]:
    """parse + verify + decrypt in one call. `device_key_lookup(device_id)` returns the
    device's public key or raises ProtocolError."""
    env = parse_envelope(data, max_bytes)
    verify_envelope(env, device_key_lookup(env.device_id))
    return env, decrypt_envelope(env, server_private_key, max_plain_bytes)


# =============================================================================
# Receipts
# =============================================================================


@dataclass(frozen=True)
class RecordResult:
    uuid: str
    revision: int
    status: str  # accepted | duplicate | invalid | conflict
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "revision": self.revision,
            "status": self.status,
            "reasons": list(self.reasons),
        }

    @property
    def delivered(self) -> bool:
        """True when the centre holds this exact record (the laptop may mark it DELIVERED)."""
        return self.status in ("accepted", "duplicate")


@dataclass(frozen=True)
class Receipt:
    batch_id: str
    device_id: str
    received_at: str
    results: tuple[RecordResult, ...]
    envelope_sha256: str
    version: int = PROTOCOL_VERSION

    def to_dict(self) -> dict[str, Any]:
        counts = {s: 0 for s in RECORD_STATUSES}
        for r in self.results:
            counts[r.status] += 1
        return {
            "v": self.version,
            "batch_id": self.batch_id,
            "device_id": self.device_id,
            "received_at": self.received_at,
            "envelope_sha256": self.envelope_sha256,
            "counts": counts,
            "results": [r.to_dict() for r in self.results],
        }

    def result_for(self, uuid: str, revision: int) -> RecordResult | None:
        for r in self.results:
            if r.uuid == uuid and r.revision == revision:
                return r
        return None

    @classmethod
    def from_dict(cls, d: Any) -> Receipt:
        try:
            results = tuple(
                RecordResult(
                    str(x["uuid"]), int(x["revision"]), str(x["status"]),
                    tuple(str(s) for s in x["reasons"]),
                )
                for x in d["results"]
            )
            if any(r.status not in RECORD_STATUSES for r in results):
                raise ValueError("unknown status")
            return cls(
                batch_id=str(d["batch_id"]),
                device_id=str(d["device_id"]),
                received_at=str(d["received_at"]),
                results=results,
                envelope_sha256=str(d["envelope_sha256"]),
                version=int(d["v"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _malformed("receipt malformed") from exc


def sign_receipt(receipt: Receipt, server_key: Ed25519PrivateKey) -> bytes:
    """The receipt as sent over HTTP and written as a USB receipt file (JSON bytes)."""
    body = receipt.to_dict()
    sig = server_key.sign(_RECEIPT_DOMAIN + b"\n" + canonical_json(body))
    return canonical_json({"receipt": body, "signature": b64e(sig)})


def verify_receipt(
    data: bytes,
    server_public_key: Ed25519PublicKey | str,
    envelope: bytes | Envelope | None = None,
) -> Receipt:
    """Check a receipt (HTTP body or USB file) against the pinned server key; when the
    sent `envelope` is given, also that the receipt is for exactly those bytes."""
    obj = _parse_json_object(data, "receipt")
    if set(obj) != {"receipt", "signature"} or not isinstance(obj["receipt"], dict):
        raise _malformed("receipt file malformed")
    try:
        sig = b64d(obj["signature"])
        _as_verify_key(server_public_key).verify(
            sig, _RECEIPT_DOMAIN + b"\n" + canonical_json(obj["receipt"])
        )
    except (InvalidSignature, ValueError) as exc:
        raise _bad_signature("receipt signature does not verify") from exc
    receipt = Receipt.from_dict(obj["receipt"])
    if envelope is not None:
        raw = envelope.to_bytes() if isinstance(envelope, Envelope) else envelope
        if receipt.envelope_sha256 != sha256_hex(raw):
            raise ProtocolError(
                "receipt_mismatch", "receipt is for other envelope bytes",
                "El recibo no corresponde a este lote.", 422,
            )
    return receipt


# =============================================================================
# USB files
# =============================================================================

BATCH_FILE_SUFFIX = ".sieb"
RECEIPT_FILE_SUFFIX = ".json"


def batch_filename(batch_id: str) -> str:
    """Name of a batch written to a USB stick: the envelope bytes as they are."""
    return f"siee-batch-{batch_id}{BATCH_FILE_SUFFIX}"


def receipt_filename(batch_id: str) -> str:
    """Name of the receipt file the server writes for an imported batch."""
    return f"siee-receipt-{batch_id}{RECEIPT_FILE_SUFFIX}"


# =============================================================================
# Inbox messages
# =============================================================================


@dataclass(frozen=True)
class InboxMessage:
    cursor: int
    kind: str
    device_id: str
    created_at: str
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "kind": self.kind,
            "device_id": self.device_id,
            "created_at": self.created_at,
            "payload": self.payload,
        }

    @classmethod
    def from_dict(cls, d: Any) -> InboxMessage:
        try:
            if d["kind"] not in MESSAGE_KINDS or not _is_int(d["cursor"]):
                raise ValueError("bad kind or cursor")
            if not isinstance(d["payload"], dict):
                raise ValueError("payload")
            return cls(int(d["cursor"]), str(d["kind"]), str(d["device_id"]),
                       str(d["created_at"]), d["payload"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _malformed("inbox message malformed") from exc


def sign_message(msg: InboxMessage, server_key: Ed25519PrivateKey) -> dict[str, Any]:
    """One inbox entry as served: the message fields plus the server's signature."""
    body = msg.to_dict()
    sig = server_key.sign(_MESSAGE_DOMAIN + b"\n" + canonical_json(body))
    return {**body, "signature": b64e(sig)}


def verify_message(
    entry: Mapping[str, Any], server_public_key: Ed25519PublicKey | str, device_id: str
) -> InboxMessage:
    """Verify one inbox entry and that it is addressed to `device_id`."""
    if not isinstance(entry, Mapping) or "signature" not in entry:
        raise _malformed("inbox entry without signature")
    body = {k: v for k, v in entry.items() if k != "signature"}
    try:
        _as_verify_key(server_public_key).verify(
            b64d(entry["signature"]), _MESSAGE_DOMAIN + b"\n" + canonical_json(body)
        )
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise _bad_signature("inbox message signature does not verify") from exc
    msg = InboxMessage.from_dict(body)
    if msg.device_id != device_id:
        raise _bad_signature("inbox message addressed to another device")
    return msg


# =============================================================================
# Form downloads
# =============================================================================


def form_signed_bytes(form_id: str, version: str, content_sha256: str) -> bytes:
    return b"\n".join(
        [_FORM_DOMAIN, form_id.encode(), version.encode(), content_sha256.encode("ascii")]
    )


def sign_form(form_id: str, version: str, content: bytes, server_key: Ed25519PrivateKey) -> str:
    return b64e(server_key.sign(form_signed_bytes(form_id, version, sha256_hex(content))))


def verify_form(
    form_id: str,
    version: str,
    content: bytes,
    signature: str,
    server_public_key: Ed25519PublicKey | str,
) -> None:
    try:
        _as_verify_key(server_public_key).verify(
            b64d(signature), form_signed_bytes(form_id, version, sha256_hex(content))
        )
    except (InvalidSignature, ValueError) as exc:
        raise _bad_signature("form signature does not verify") from exc


# =============================================================================
# USB inbox files
# =============================================================================

INBOX_REQUEST_PREFIX = "siee-inbox-request-"
INBOX_FILE_PREFIX = "siee-inbox-"
MAX_INBOX_FILE_BYTES = 64 << 20
# A receipt lists one short result per record of a batch: far below this.
MAX_RECEIPT_FILE_BYTES = 16 << 20


def inbox_request_filename(device_id: str) -> str:
    """Name of the inbox request a laptop writes beside its batch files."""
    return f"{INBOX_REQUEST_PREFIX}{device_id}.json"


def inbox_filename(device_id: str, after: int) -> str:
    """Name of the inbox file the centre writes for one request."""
    return f"{INBOX_FILE_PREFIX}{device_id}-{int(after)}.json"


def _bad_usb_file(detail: str, message: str) -> ProtocolError:
    return ProtocolError("malformed_envelope", detail, message, 422)


@dataclass(frozen=True)
class InboxRequest:
    """A laptop's signed request for its inbox, carried to the centre on a USB stick."""

    device_id: str
    after: int
    created_at: str
    nonce: str
    version: int = PROTOCOL_VERSION
    # Optional (additive): the device's X25519 key-agreement public key; the centre
    # then seals the inbox file to it (seal_inbox_file). Signed with the request.
    reply_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "device_id": self.device_id,
            "after": self.after,
            "created_at": self.created_at,
            "nonce": self.nonce,
            **({"reply_key": self.reply_key} if self.reply_key is not None else {}),
        }


def sign_inbox_request(
    device_id: str, after: int, device_key: Ed25519PrivateKey,
    created_at: str | None = None, nonce: str | None = None, reply_key: str | None = None,
) -> bytes:
    """The inbox request file's bytes: the request fields plus the device's signature.
    `reply_key`: the device's X25519 public key text, to get a sealed inbox file."""
    req = InboxRequest(device_id, int(after), created_at or utc_now_iso(), nonce or new_nonce(),
                       reply_key=reply_key)
    body = req.to_dict()
    sig = device_key.sign(_INBOX_REQUEST_DOMAIN + b"\n" + canonical_json(body))
    return canonical_json({**body, "signature": b64e(sig)})


def parse_inbox_request(data: bytes) -> InboxRequest:
    """Structural parse of an inbox request file; call verify_inbox_request with the
    key registered for `device_id` before answering it."""
    bad = "El archivo de solicitud de novedades está dañado o no es de SIEE Campo."
    if len(data) > 64 * 1024:
        raise _bad_usb_file("inbox request too large", bad)
    try:
        obj = _parse_json_object(data, "inbox request")
    except ProtocolError as exc:
        raise _bad_usb_file(exc.detail, bad) from exc
    if set(obj) - {"reply_key"} != {"v", "device_id", "after", "created_at", "nonce",
                                     "signature"}:
        raise _bad_usb_file("inbox request fields", bad)
    reply_key = obj.get("reply_key")
    if reply_key is not None:
        try:
            encryption_public_from_text(reply_key)
        except (ProtocolError, TypeError, ValueError) as exc:
            raise _bad_usb_file("inbox request reply_key", bad) from exc
    if obj["v"] != PROTOCOL_VERSION or not _is_int(obj["v"]):
        raise ProtocolError(
            "unsupported_version", f"inbox request version {obj['v']!r}",
            "La versión del programa del equipo no es compatible con el servidor.", 422,
        )
    dev, after, nonce = obj["device_id"], obj["after"], obj["nonce"]
    if (not isinstance(dev, str) or not _ID_RE.match(dev) or not _is_int(after) or after < 0
            or not isinstance(nonce, str) or not isinstance(obj["created_at"], str)
            or not isinstance(obj["signature"], str)):
        raise _bad_usb_file("inbox request field types", bad)
    return InboxRequest(dev, int(after), obj["created_at"], nonce, reply_key=reply_key)


def verify_inbox_request(data: bytes, device_public_key: Ed25519PublicKey | str) -> InboxRequest:
    """Parse an inbox request file and check its signature with the device's key."""
    req = parse_inbox_request(data)
    sig = _parse_json_object(data, "inbox request")["signature"]
    try:
        _as_verify_key(device_public_key).verify(
            b64d(sig), _INBOX_REQUEST_DOMAIN + b"\n" + canonical_json(req.to_dict())
        )
    except (InvalidSignature, ValueError) as exc:
        raise ProtocolError(
            "bad_signature", "inbox request signature does not verify",
            "La solicitud de novedades no está firmada por el equipo que dice ser: "
            "el archivo fue alterado o proviene de otro equipo.", 401,
        ) from exc
    return req


@dataclass(frozen=True)
class InboxFile:
    """The centre's answer to an inbox request: verified messages in cursor order and the
    published forms the messages announce (content + form signature)."""

    device_id: str
    after: int
    next_cursor: int
    created_at: str
    messages: tuple[InboxMessage, ...]
    forms: dict[tuple[str, str], tuple[bytes, str, str]]  # (id, version) -> content, file, sig


def sign_inbox_file(
    device_id: str, after: int, entries: list[dict[str, Any]], next_cursor: int,
    server_key: Ed25519PrivateKey,
    forms: Iterable[tuple[str, str, bytes, str, str]] = (),
    request_nonce: str = "", created_at: str | None = None,
) -> bytes:
    """The inbox file's bytes. `entries` are signed inbox messages exactly as
    GET /v1/inbox returns them; `forms` are (form_id, version, content, filename,
    form signature). The whole file is signed too, so no message can be dropped."""
    body = {
        "v": PROTOCOL_VERSION,
        "device_id": device_id,
        "after": int(after),
        "next_cursor": int(next_cursor),
        "created_at": created_at or utc_now_iso(),
        "request_nonce": request_nonce,
        "messages": list(entries),
        "forms": [
            {"form_id": fid, "version": ver, "filename": fn, "content": b64e(content),
             "signature": sig}
            for fid, ver, content, fn, sig in forms
        ],
    }
    sig = server_key.sign(_INBOX_FILE_DOMAIN + b"\n" + canonical_json(body))
    return canonical_json({"inbox": body, "signature": b64e(sig)})


def looks_like_inbox_file(data: bytes) -> bool:
    """True when the bytes are shaped like an inbox file, sealed or not (not a receipt);
    no checks."""
    head = data.lstrip()
    return head[:10] == b'{"inbox":{' or head[:17] == b'{"inbox_sealed":{'


_INBOX_SEAL_INFO = b"SIEE-v1 inbox file key"


def _inbox_seal_key(shared: bytes, epk: bytes, device_pub: bytes, device_id: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=epk + device_pub,
        info=_INBOX_SEAL_INFO + b"\n" + device_id.encode("ascii"),
    ).derive(shared)


def seal_inbox_file(signed: bytes, reply_key: str, device_id: str) -> bytes:
    """Encrypt a signed inbox file to the device's X25519 key (ephemeral-static X25519,
    HKDF-SHA256, AES-256-GCM; the clear header is the AAD). The server's signature stays
    inside, checked after decryption: return reasons and results never travel in clear."""
    dev_pub = encryption_public_from_text(reply_key)
    eph = X25519PrivateKey.generate()
    epk = eph.public_key().public_bytes_raw()
    nonce = os.urandom(GCM_NONCE_LEN)
    head = {"v": PROTOCOL_VERSION, "device_id": device_id, "epk": b64e(epk),
            "nonce": b64e(nonce), "cipher": "X25519-HKDF-SHA256-AES256GCM"}
    key = _inbox_seal_key(eph.exchange(dev_pub), epk, dev_pub.public_bytes_raw(), device_id)
    ct = AESGCM(key).encrypt(nonce, zlib.compress(signed, 6), canonical_json(head))
    # Keys sorted: "inbox_sealed" comes first, so the file's kind shows in its head.
    return canonical_json({"inbox_sealed": head, "sealed": b64e(ct)})


def open_inbox_file(data: bytes, device_key: X25519PrivateKey | None, device_id: str) -> bytes:
    """The signed inbox file inside a sealed one (or `data` itself when not sealed);
    verify it with verify_inbox_file afterwards."""
    if not data.lstrip().startswith(b'{"inbox_sealed":'):
        return data
    bad = ("El archivo de novedades no se pudo abrir con la clave de este equipo "
           "(es para otro equipo o está dañado).")
    try:
        obj = _parse_json_object(data, "sealed inbox file")
        head = obj["inbox_sealed"]
        if set(obj) != {"inbox_sealed", "sealed"} or not isinstance(head, dict):
            raise ValueError("fields")
        if head.get("device_id") != device_id:
            raise ProtocolError(
                "bad_signature", "sealed inbox file for another device",
                f"Este archivo de novedades es para otro equipo ({head.get('device_id')}); "
                "no se importó.", 401,
            )
        if device_key is None:
            raise ValueError("no key-agreement key on this device")
        epk, nonce = b64d(head["epk"]), b64d(head["nonce"])
        key = _inbox_seal_key(device_key.exchange(X25519PublicKey.from_public_bytes(epk)), epk,
                              device_key.public_key().public_bytes_raw(), device_id)
        plain = AESGCM(key).decrypt(nonce, b64d(obj["sealed"]), canonical_json(head))
        return _bounded_inflate(plain, MAX_INBOX_FILE_BYTES, "inbox file")
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, InvalidTag) as exc:
        raise _bad_usb_file(f"sealed inbox file: {type(exc).__name__}", bad) from exc


def verify_inbox_file(
    data: bytes, server_public_key: Ed25519PublicKey | str, device_id: str
) -> InboxFile:
    """Check an inbox file: the server's signature over the whole file, every message
    (signature and address, as verify_message) and every form's signature."""
    bad = ("El archivo no es un archivo de novedades válido del servidor del SIEE "
           "(firma incorrecta o archivo dañado).")
    if len(data) > MAX_INBOX_FILE_BYTES:
        raise _bad_usb_file("inbox file too large", bad)
    try:
        obj = _parse_json_object(data, "inbox file")
    except ProtocolError as exc:
        raise _bad_usb_file(exc.detail, bad) from exc
    if set(obj) != {"inbox", "signature"} or not isinstance(obj["inbox"], dict):
        raise _bad_usb_file("inbox file fields", bad)
    body = obj["inbox"]
    try:
        _as_verify_key(server_public_key).verify(
            b64d(obj["signature"]), _INBOX_FILE_DOMAIN + b"\n" + canonical_json(body)
        )
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise ProtocolError("bad_signature", "inbox file signature does not verify", bad,
                            401) from exc
    try:
        if body["v"] != PROTOCOL_VERSION:
            raise ValueError("version")
        if body["device_id"] != device_id:
            raise ProtocolError(
                "bad_signature", "inbox file for another device",
                "Este archivo de novedades es para otro equipo "
                f"({body['device_id']}); no se importó.", 401,
            )
        after, nxt = body["after"], body["next_cursor"]
        if not (_is_int(after) and _is_int(nxt)) or not isinstance(body["messages"], list):
            raise ValueError("cursors")
        msgs = tuple(verify_message(e, server_public_key, device_id) for e in body["messages"])
        cursors = [m.cursor for m in msgs]
        if cursors != sorted(set(cursors)) or any(c <= after for c in cursors):
            raise ValueError("message order")
        forms: dict[tuple[str, str], tuple[bytes, str, str]] = {}
        for f in body["forms"]:
            fid, ver, fn, sig = (str(f["form_id"]), str(f["version"]), str(f["filename"]),
                                 str(f["signature"]))
            content = b64d(f["content"])
            verify_form(fid, ver, content, sig, server_public_key)
            forms[(fid, ver)] = (content, fn, sig)
        return InboxFile(device_id, int(after), int(nxt), str(body["created_at"]), msgs, forms)
    except ProtocolError as exc:
        if exc.message == bad or "otro equipo" in exc.message:
            raise
        raise ProtocolError(exc.code, exc.detail, bad, exc.status) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad_usb_file(f"inbox file malformed: {exc}", bad) from exc


# =============================================================================
# Clock offset
# =============================================================================


def clock_offset(server_time: str | float, local_time: float | None = None) -> float:
    """Seconds to add to the local clock to get the server's (from X-Siee-Server-Time)."""
    try:
        st = float(server_time)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(st):
        return 0.0
    return st - (time.time() if local_time is None else local_time)
