"""What every part of the workspace shares: the database, the lock, the clock, the
form library and the session (who is logged in, with which keys).

Each part (review, documents, admin, settings, centre) receives one `Context`;
no part reaches into another part's private state."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import sqlite_utils

from app.core.audit_actions import AuditAction
from app.core.errors import AuthError, PasswordChangeRequired, SieeError
from app.core.roles import Perm, Role, require
from app.store import crypto, integrity, unlock
from app.store.audit import AuditLog
from app.store.outbox import OutboxStore
from app.store.records import RecordStore
from app.store.vault import User, Vault


class FormHooks(Protocol):
    """What the workspace needs from the form engine (app/workspace/hooks.py holds the
    real one; storage tests pass a plain one that needs no form)."""

    def facts(self, form_id: str, version: str, answers: dict) -> tuple[dict, list[str]]:
        """(summary for the list view, every DNI in the record)."""
        ...

    def validate(self, form_id: str, version: str, answers: dict) -> tuple[list[dict], list[dict]]:
        """(hard errors, soft warnings), each a list of {"path", "message"}."""
        ...

    def submission(self, form_id: str, version: str, answers: dict,
                   completed_at: float | None = None) -> dict:
        """What leaves the laptop for these answers; `completed_at` (epoch seconds):
        when the record was completed, the day its rules read as today()."""
        ...


class Session:
    """The logged-in user and what their log-in unlocked (None while locked)."""

    def __init__(self) -> None:
        self.user: User | None = None
        self.data_key: bytes | None = None
        self.sealer: crypto.Sealer | None = None
        self._records: RecordStore | None = None
        self._audit: AuditLog | None = None
        self._outbox: OutboxStore | None = None

    def unlock(self, data_key: bytes) -> None:
        """Open the stores with the data key (the user is set by the caller)."""
        self.data_key = data_key
        self.sealer = crypto.Sealer(crypto.subkey(data_key, "records"))
        self._records = RecordStore(self.sealer, crypto.subkey(data_key, "dni-index"))
        self._audit = AuditLog(crypto.subkey(data_key, "audit"), self.sealer)
        self._outbox = OutboxStore(self._records, self.sealer)

    def clear(self) -> None:
        self.user = None
        self.data_key = self.sealer = None
        self._records = self._audit = self._outbox = None

    @property
    def unlocked(self) -> bool:
        return self._audit is not None

    def _need(self, obj: Any) -> Any:
        if obj is None:
            raise AuthError("workspace locked", "Inicie sesión para continuar.")
        return obj

    @property
    def records(self) -> RecordStore:
        return self._need(self._records)  # type: ignore[no-any-return]

    @property
    def audit(self) -> AuditLog:
        return self._need(self._audit)  # type: ignore[no-any-return]

    @property
    def outbox(self) -> OutboxStore:
        return self._need(self._outbox)  # type: ignore[no-any-return]

    def key(self) -> bytes:
        return self._need(self.data_key)  # type: ignore[no-any-return]

    def seal_display(self, uid: int, name: str) -> bytes:
        sealer: crypto.Sealer = self._need(self.sealer)
        return sealer.seal(name.encode(), f"user|{uid}|display".encode())

    def open_display(self, uid: int, blob: bytes | None) -> str:
        if not blob or self.sealer is None:
            return ""
        try:
            return self.sealer.open(blob, f"user|{uid}|display".encode()).decode()
        except SieeError:
            return ""


@dataclass
class Context:
    """The shared parts of one open workspace."""

    data_dir: Path
    db: sqlite_utils.Database
    vault: Vault
    clock: Callable[[], float]
    hooks: FormHooks
    lock: threading.RLock = field(default_factory=threading.RLock)
    session: Session = field(default_factory=Session)

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def unlock(self, data_key: bytes) -> None:
        """Open the stores with the data key and arm the store's tamper checks (row
        MACs, app.store.unlock); the user is set by the caller."""
        self.session.unlock(data_key)
        unlock.on_unlock(self.db, self.session.records, self.session.audit, data_key,
                         self.clock())

    def relock(self) -> None:
        """Forget the keys: the session ends and the row-MAC function refuses again."""
        self.session.clear()
        integrity.install(self.db.conn, None)

    def me(self, pending_change_ok: bool = False) -> User:
        """The logged-in user; AuthError (Spanish: log in) when nobody is, and
        PasswordChangeRequired while their password is still the one an administrator
        gave (only changing it, `pending_change_ok`, is allowed then). Every operation
        of the workspace passes here, so the rule holds for the window, the command
        line and scripts alike."""
        user = self.session.user
        if user is None:
            raise AuthError("not logged in", "Inicie sesión para continuar.")
        if user.must_change_password and not pending_change_ok:
            raise PasswordChangeRequired()
        return user

    def require(self, perm: Perm) -> User:
        """The logged-in user if their role has `perm`; NotAllowed otherwise."""
        me = self.me()
        require(me.role, perm)
        return me

    def audit(
        self,
        conn: sqlite3.Connection,
        action: AuditAction,
        uuid: str | None = None,
        detail: dict[str, Any] | None = None,
        user_id: int | None = -1,
    ) -> None:
        """Append one audit entry inside the caller's transaction (by the logged-in
        user unless `user_id` is given; None = the system)."""
        uid = (self.session.user.id if self.session.user else None) if user_id == -1 else user_id
        self.session.audit.append(conn, self.clock(), uid, action, uuid, detail)

    def username(self, uid: int | None) -> str:
        """The username of `uid` ("" for None or an unknown id)."""
        return self.vault.username(uid) if uid is not None else ""

    def users(self) -> list[User]:
        """Every user with their display name opened (empty while locked)."""
        s = self.session
        return [
            User(uid, name, Role(role), active, s.open_display(uid, disp), must_change)
            for uid, name, role, active, disp, must_change in self.vault.users()
        ]

    def people(self) -> dict[int, str]:
        """user id -> "Display name (username)", or the username without a display name."""
        return {
            u.id: f"{u.display_name} ({u.username})" if u.display_name else u.username
            for u in self.users()
        }


class HasContext(Protocol):
    ctx: Context


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=HasContext)


def locked(fn: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run a part's method holding the workspace lock (re-entrant)."""

    @functools.wraps(fn)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.ctx.lock:
            return fn(self, *args, **kwargs)

    return wrapper
