"""The device's X25519 key-agreement key (issue 19 item 8), kept beside its signing key.

The centre seals each USB inbox file to its public half (app.sync.protocol.
seal_inbox_file), so return reasons and results never travel in clear on a
stick. The private half is stored only sealed with the data key (meta entry
``sync_agreement_key``), made on first use: laptops enrolled before this key
existed get one the first time they write an inbox request, which carries the
public half signed by the device's signing key."""

from __future__ import annotations

import base64
import sqlite3

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.store import meta
from app.store.crypto import Sealer

META_KEY = "sync_agreement_key"
_AAD = b"sync|agreement-key"


def load(conn: sqlite3.Connection, sealer: Sealer) -> X25519PrivateKey | None:
    """The stored key, or None. Raises IntegrityFailure if it was altered."""
    row = conn.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
    if row is None:
        return None
    raw = sealer.open(base64.b64decode(row[0]), _AAD)
    return X25519PrivateKey.from_private_bytes(raw)


def load_or_create(conn: sqlite3.Connection, sealer: Sealer) -> X25519PrivateKey:
    """The stored key; a new one is made and stored (inside the caller's transaction)."""
    key = load(conn, sealer)
    if key is None:
        key = X25519PrivateKey.generate()
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        meta.put(conn, META_KEY, base64.b64encode(sealer.seal(raw, _AAD)).decode("ascii"))
    return key
