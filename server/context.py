"""What every resource of the server shares: settings, keys, the database engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from app.sync import protocol as p
from server.keys import ServerKeys
from server.sealing import Sealer
from server.settings import Settings


@dataclass(frozen=True)
class Context:
    """The server's shared parts, handed to each resource (devices, batches, inbox,
    forms, records). One per Service; the engine's pool is shared by all threads.
    `sealer` encrypts what can name people before it reaches the database."""

    settings: Settings
    keys: ServerKeys
    engine: Engine
    sealer: Sealer


def now_iso() -> str:
    """The server's clock as an ISO-8601 UTC string (stored in *_at columns)."""
    return p.utc_now_iso()
