"""Encryption at rest of what can name people at the centre: record answers, return
reasons, inbox message payloads, receipts (their reasons may quote answers) and device
labels (issue 19 item 4).

AES-256-GCM (the `cryptography` package) with a data key kept apart from the database:
the SIEE_SERVER_DATA_KEY environment variable (base64url of 32 bytes) or the file
`server_data.key` (mode 0600) in the server's data folder, created on first use. Each
value is bound to its place (table, column, row id) as associated data, so a sealed
value copied into another row does not open. Values written before sealing existed
(no "s1:" prefix) are read as they are."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select, update

from server.db import batches, devices, messages, records
from server.keys import load_or_create_secret

KEY_ENV = "SIEE_SERVER_DATA_KEY"
KEY_FILE = "server_data.key"
PREFIX = "s1:"
BPREFIX = b"s1:"


class SealError(Exception):
    """A sealed value does not open: wrong data key, or the value was tampered with."""


def load_data_key(data_dir: Path) -> bytes:
    """The 32-byte data key: from SIEE_SERVER_DATA_KEY, else the key file (0600),
    created on first use. Raises RuntimeError for a malformed key."""
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        raw = base64.urlsafe_b64decode(env + "=" * (-len(env) % 4))
        if len(raw) != 32:
            raise RuntimeError(f"{KEY_ENV} must be base64url of 32 bytes")
        return raw
    return load_or_create_secret(Path(data_dir) / KEY_FILE, lambda: os.urandom(32))


class Sealer:
    """Seals and opens values of one server (one data key)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal_bytes(self, data: bytes, where: str) -> bytes:
        """b"s1:" + nonce + ciphertext of `data`, bound to `where` (e.g. "batches.receipt:ID")."""
        nonce = os.urandom(12)
        return BPREFIX + nonce + self._aead.encrypt(nonce, data, where.encode())

    def open_bytes(self, value: bytes | None, where: str) -> bytes | None:
        """The plain bytes of a sealed value (unsealed values pass through)."""
        if value is None:
            return None
        value = bytes(value)
        if not value.startswith(BPREFIX):
            return value
        try:
            return self._aead.decrypt(value[3:15], value[15:], where.encode())
        except InvalidTag as exc:
            raise SealError(f"sealed value at {where.split(':')[0]} does not open") from exc

    def seal(self, text: str | None, where: str) -> str | None:
        """A text value sealed as "s1:" + base64url (None stays None)."""
        if text is None:
            return None
        raw = self.seal_bytes(text.encode("utf-8"), where)[3:]
        return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii")

    def open(self, value: str | None, where: str) -> str | None:
        """The plain text of a sealed text value (unsealed values pass through)."""
        if value is None or not value.startswith(PREFIX):
            return value
        raw = base64.urlsafe_b64decode(value[3:])
        out = self.open_bytes(BPREFIX + raw, where)
        assert out is not None
        return out.decode("utf-8")


def seal_existing(engine: Engine, sealer: Sealer) -> int:
    """Seal every value written before sealing existed (an upgraded centre's old rows),
    then compact the database so the old plain pages are gone (SQLite VACUUM,
    PostgreSQL VACUUM FULL of those tables). Returns the number of values sealed."""
    n = 0
    with engine.begin() as c:
        for r in c.execute(select(records.c.uuid, records.c.revision, records.c.answers,
                                  records.c.return_reasons)).all():
            vals = {}
            if r.answers is not None and not r.answers.startswith(PREFIX):
                vals["answers"] = sealer.seal(r.answers, f"records.answers:{r.uuid}:{r.revision}")
            if r.return_reasons is not None and not r.return_reasons.startswith(PREFIX):
                vals["return_reasons"] = sealer.seal(
                    r.return_reasons, f"records.return_reasons:{r.uuid}:{r.revision}")
            if vals:
                c.execute(update(records).where(records.c.uuid == r.uuid,
                                                records.c.revision == r.revision).values(**vals))
                n += len(vals)
        for r in c.execute(select(messages.c.cursor, messages.c.device_id, messages.c.kind,
                                  messages.c.payload)).all():
            if not r.payload.startswith(PREFIX):
                c.execute(update(messages).where(messages.c.cursor == r.cursor).values(
                    payload=sealer.seal(r.payload, f"messages.payload:{r.device_id}:{r.kind}")))
                n += 1
        for r in c.execute(select(batches.c.batch_id, batches.c.receipt)).all():
            if not bytes(r.receipt).startswith(BPREFIX):
                c.execute(update(batches).where(batches.c.batch_id == r.batch_id).values(
                    receipt=sealer.seal_bytes(bytes(r.receipt), f"batches.receipt:{r.batch_id}")))
                n += 1
        for r in c.execute(select(devices.c.device_id, devices.c.label,
                                  devices.c.revoke_reason)).all():
            vals = {}
            if r.label is not None and not r.label.startswith(PREFIX):
                vals["label"] = sealer.seal(r.label, f"devices.label:{r.device_id}")
            if r.revoke_reason is not None and not r.revoke_reason.startswith(PREFIX):
                vals["revoke_reason"] = sealer.seal(r.revoke_reason,
                                                    f"devices.revoke_reason:{r.device_id}")
            if vals:
                c.execute(update(devices).where(devices.c.device_id == r.device_id)
                          .values(**vals))
                n += len(vals)
    if n:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            if c.dialect.name == "sqlite":
                c.exec_driver_sql("VACUUM")
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                c.exec_driver_sql("VACUUM FULL records, messages, batches, devices")
    return n
