"""Key derivation, key wrapping and record encryption (AES-256-GCM).

Key hierarchy: one random data key per workspace; subkeys derived from it with
HKDF for records, the DNI index (HMAC) and the audit chain. Each password and
the recovery code unlock a wrapped copy of the data key (scrypt KEK)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import zlib
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.core.errors import IntegrityFailure

NONCE_LEN = 12
KEY_LEN = 32
# Blob format version byte: lets the cipher or framing change later.
_V1_RAW = b"\x01"
_V1_ZLIB = b"\x02"


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost; stored beside each wrapped key so it can be raised later."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def to_json(self) -> str:
        return json.dumps({"alg": "scrypt", **asdict(self)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> KdfParams:
        d = json.loads(text)
        return cls(n=int(d["n"]), r=int(d["r"]), p=int(d["p"]))


def random_key() -> bytes:
    return os.urandom(KEY_LEN)


def derive_kek(secret: str, salt: bytes, params: KdfParams) -> bytes:
    kdf = Scrypt(salt=salt, length=KEY_LEN, n=params.n, r=params.r, p=params.p)
    return kdf.derive(secret.encode("utf-8"))


def subkey(master: bytes, purpose: str) -> bytes:
    return HKDF(hashes.SHA256(), KEY_LEN, salt=None, info=purpose.encode()).derive(master)


def seal(key: bytes, plaintext: bytes, aad: bytes, *, compress: bool = False) -> bytes:
    """version byte | nonce | AES-GCM(ciphertext+tag). The version byte is authenticated."""
    if compress:
        version, body = _V1_ZLIB, zlib.compress(plaintext, 1)
    else:
        version, body = _V1_RAW, plaintext
    nonce = os.urandom(NONCE_LEN)
    return version + nonce + AESGCM(key).encrypt(nonce, body, version + aad)


class Sealer:
    """A reusable AES-GCM context for one key (avoids re-keying per record)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes, *, compress: bool = False) -> bytes:
        if compress:
            version, body = _V1_ZLIB, zlib.compress(plaintext, 1)
        else:
            version, body = _V1_RAW, plaintext
        nonce = os.urandom(NONCE_LEN)
        return version + nonce + self._aead.encrypt(nonce, body, version + aad)

    def open_fast(self, blob: bytes, aad: bytes) -> bytes | None:
        """Uncompressed blobs only; None instead of an exception when tampered."""
        if blob[:1] != _V1_RAW:
            return None
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], _V1_RAW + aad)
        except (InvalidTag, ValueError):
            return None

    def open(self, blob: bytes, aad: bytes) -> bytes:
        if not blob or blob[:1] not in (_V1_RAW, _V1_ZLIB) or len(blob) < 1 + NONCE_LEN + 16:
            raise IntegrityFailure(
                "unknown or truncated ciphertext", "Los datos guardados están dañados."
            )
        version, nonce, ct = blob[:1], blob[1 : 1 + NONCE_LEN], blob[1 + NONCE_LEN :]
        try:
            body = self._aead.decrypt(nonce, ct, version + aad)
        except InvalidTag:
            raise IntegrityFailure(
                "ciphertext failed authentication", "Los datos guardados están dañados."
            ) from None
        return zlib.decompress(body) if version == _V1_ZLIB else body


def unseal(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return Sealer(key).open(blob, aad)


def keyed_hash(key: bytes, value: str) -> bytes:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()


# Recovery codes: 20 symbols from an alphabet without look-alikes (~98 bits),
# shown as four groups of five so IT can copy them onto paper.
_RC_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_recovery_code() -> str:
    sym = "".join(secrets.choice(_RC_ALPHABET) for _ in range(20))
    return "-".join(sym[i : i + 5] for i in range(0, 20, 5))


def normalize_recovery_code(code: str) -> str:
    s = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return "-".join(s[i : i + 5] for i in range(0, len(s), 5))
