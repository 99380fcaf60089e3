"""The vault: the workspace data key, wrapped once per user password and once
for the recovery code; users, their roles and the lock-out after wrong passwords."""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from app.core.errors import AccountLocked, AuthError, NotFound, ValidationError, wait_text
from app.core.roles import Role
from app.store import crypto
from app.store.db import transaction
from app.store.lockout import MAX_ATTEMPTS, seal_totals

BASE_LOCK_S = 30.0  # first lock; doubles with every further lock-out
MAX_LOCK_S = 3600.0
MIN_PASSWORD_LEN = 8
RECOVERY_SLOT = "recovery"


def _user_slot(user_id: int) -> str:
    return f"user:{user_id}"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: Role
    active: bool
    display_name: str = ""
    # The password is one an administrator gave: it must be changed before anything
    # else (app.workspace.context.Context.me enforces it).
    must_change_password: bool = False


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LEN:
        raise ValidationError(
            "password too short",
            f"La contraseña debe tener al menos {MIN_PASSWORD_LEN} caracteres.",
        )


def check_username(username: str) -> str:
    u = (username or "").strip().lower()
    if not u or not all(ch.isalnum() or ch in "._-" for ch in u) or len(u) > 32:
        raise ValidationError(
            "invalid username",
            "El usuario debe tener de 1 a 32 letras, números, punto, guion o guion bajo.",
        )
    return u


class Vault:
    def __init__(
        self,
        db: sqlite_utils.Database,
        clock: Callable[[], float] = time.time,
        kdf: crypto.KdfParams | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.kdf = kdf or crypto.KdfParams()

    # -- key slots ---------------------------------------------------------
    def _wrap_into(self, conn, slot: str, secret: str, data_key: bytes) -> None:
        salt = os.urandom(16)
        kek = crypto.derive_kek(secret, salt, self.kdf)
        wrapped = crypto.seal(kek, data_key, slot.encode())
        conn.execute(
            "INSERT OR REPLACE INTO key_slots(slot, salt, kdf, wrapped) VALUES (?,?,?,?)",
            (slot, salt, self.kdf.to_json(), wrapped),
        )

    def _unwrap(self, slot: str, secret: str) -> bytes | None:
        row = self.db.execute(
            "SELECT salt, kdf, wrapped FROM key_slots WHERE slot=?", (slot,)
        ).fetchone()
        if row is None:
            return None
        salt, kdf_json, wrapped = row
        kek = crypto.derive_kek(secret, salt, crypto.KdfParams.from_json(kdf_json))
        try:
            return crypto.unseal(kek, wrapped, slot.encode())
        except Exception:
            return None

    # -- set-up --------------------------------------------------------------
    def initialize(self, admin_username: str, admin_password: str) -> tuple[bytes, str, int]:
        """New data key, first admin and recovery code. Returns (key, code, admin id)."""
        username = check_username(admin_username)
        check_password_policy(admin_password)
        data_key = crypto.random_key()
        code = crypto.new_recovery_code()
        with transaction(self.db) as conn:
            cur = conn.execute(
                "INSERT INTO users(username, role, active, created_at) VALUES (?,?,1,?)",
                (username, Role.ADMIN.value, self.clock()),
            )
            uid = int(cur.lastrowid)
            self._wrap_into(conn, _user_slot(uid), admin_password, data_key)
            self._wrap_into(conn, RECOVERY_SLOT, crypto.normalize_recovery_code(code), data_key)
        return data_key, code, uid

    # -- users ---------------------------------------------------------------
    def user_row(self, username: str) -> dict:
        row = self.db.execute(
            "SELECT id, username, role, active, failed_attempts, locked_until, lockouts, "
            "must_change_password FROM users WHERE username=?",
            (check_username(username),),
        ).fetchone()
        if row is None:
            raise NotFound(f"no user {username!r}", "El usuario no existe.")
        keys = ("id", "username", "role", "active", "failed_attempts", "locked_until", "lockouts",
                "must_change_password")
        return dict(zip(keys, row, strict=True))

    def usernames(self, active_only: bool = True) -> list[str]:
        sql = "SELECT username FROM users" + (" WHERE active=1" if active_only else "")
        return [r[0] for r in self.db.execute(sql + " ORDER BY username")]

    def add_user(
        self, conn, username: str, role: Role, password: str, data_key: bytes, display: bytes,
        must_change: bool = False,
    ) -> int:
        """A new user whose password unlocks a copy of `data_key`; `must_change`: the
        password was given by someone else and must be changed at first log-in."""
        username = check_username(username)
        check_password_policy(password)
        if conn.execute("SELECT 1 FROM users WHERE username=?", (username,)).fetchone():
            raise ValidationError("duplicate username", f"El usuario «{username}» ya existe.")
        cur = conn.execute(
            "INSERT INTO users(username, role, display_name, active, created_at, "
            "must_change_password) VALUES (?,?,?,1,?,?)",
            (username, Role(role).value, display, self.clock(), int(must_change)),
        )
        uid = int(cur.lastrowid)
        self._wrap_into(conn, _user_slot(uid), password, data_key)
        return uid

    def set_password(self, conn, user_id: int, password: str, data_key: bytes,
                     must_change: bool = False) -> None:
        """A new password for `user_id` (lock-out cleared). `must_change`: it was set by
        someone else (an administrator's reset) and must be changed at the next log-in;
        False when the person chose it."""
        check_password_policy(password)
        self._wrap_into(conn, _user_slot(user_id), password, data_key)
        conn.execute(
            "UPDATE users SET failed_attempts=0, locked_until=0, lockouts=0, "
            "must_change_password=? WHERE id=?",
            (int(must_change), user_id),
        )
        # The lock-out was cleared by the program: the sealed anchor moves with it.

        seal_totals(conn, crypto.Sealer(crypto.subkey(data_key, "records")))

    # -- unlocking -------------------------------------------------------------
    def unlock(self, username: str, password: str) -> tuple[bytes, dict]:
        """The data key for a correct password; counts failures and locks out."""
        try:
            row = self.user_row(username)
        except (NotFound, ValidationError):
            raise AuthError(
                "unknown user", "Usuario o contraseña incorrectos. Revise e intente de nuevo."
            ) from None
        if not row["active"]:
            raise AuthError(
                "user disabled",
                "Esta cuenta está desactivada. Pida al administrador que la reactive.",
            )
        now = self.clock()
        if row["locked_until"] and now < row["locked_until"]:
            left = row["locked_until"] - now
            raise AccountLocked(
                "account locked",
                "La cuenta está bloqueada por varios intentos fallidos. "
                f"Espere {wait_text(left)} e intente de nuevo.",
                left,
            )
        key = self._unwrap(_user_slot(row["id"]), password)
        if key is not None:
            with transaction(self.db) as conn:
                conn.execute(
                    "UPDATE users SET failed_attempts=0, locked_until=0, lockouts=0 WHERE id=?",
                    (row["id"],),
                )
            return key, row
        failed = row["failed_attempts"] + 1
        if failed >= MAX_ATTEMPTS:
            delay = min(MAX_LOCK_S, BASE_LOCK_S * 2 ** row["lockouts"])
            with transaction(self.db) as conn:
                conn.execute(
                    "UPDATE users SET failed_attempts=0, locked_until=?, lockouts=lockouts+1, "
                    "failures_total=failures_total+1 WHERE id=?",
                    (now + delay, row["id"]),
                )
            raise AccountLocked(
                "too many failed attempts; locked",
                f"Contraseña incorrecta. Por seguridad la cuenta quedó bloqueada "
                f"{wait_text(delay)}.",
                delay,
            )
        with transaction(self.db) as conn:
            # failures_total is never lowered: app.store.lockout compares it at log-in.
            conn.execute(
                "UPDATE users SET failed_attempts=?, failures_total=failures_total+1 WHERE id=?",
                (failed, row["id"]),
            )
        left = MAX_ATTEMPTS - failed
        raise AuthError(
            "wrong password",
            f"Usuario o contraseña incorrectos. Le quedan {left} intento(s) "
            "antes de que la cuenta se bloquee.",
        )

    def unlock_with_recovery(self, code: str) -> bytes:
        key = self._unwrap(RECOVERY_SLOT, crypto.normalize_recovery_code(code))
        if key is None:
            raise AuthError(
                "wrong recovery code",
                "El código de recuperación no es correcto. Revíselo letra por letra.",
            )
        return key

    # -- users: the workspace's reads and writes ----------------------------------------
    def is_initialized(self) -> bool:
        """True once a first administrator (and so a data key) exists."""
        return bool(self.db.execute("SELECT 1 FROM key_slots LIMIT 1").fetchone())

    @staticmethod
    def set_display_name(conn: sqlite3.Connection, uid: int, sealed: bytes) -> None:
        """Store a user's display name (sealed by the caller with the data key)."""
        conn.execute("UPDATE users SET display_name=? WHERE id=?", (sealed, uid))

    def display_name_blob(self, uid: int) -> bytes | None:
        row = self.db.execute("SELECT display_name FROM users WHERE id=?", (uid,)).fetchone()
        return row[0] if row else None

    @staticmethod
    def set_active(conn: sqlite3.Connection, uid: int, active: bool) -> None:
        conn.execute("UPDATE users SET active=? WHERE id=?", (int(active), uid))

    def users(self) -> list[tuple[int, str, str, bool, bytes | None, bool]]:
        """(id, username, role, active, sealed display name, must change password) of
        every user, by username."""
        return [
            (r[0], r[1], r[2], bool(r[3]), r[4], bool(r[5]))
            for r in self.db.execute(
                "SELECT id, username, role, active, display_name, must_change_password "
                "FROM users ORDER BY username"
            )
        ]

    def admin_usernames(self) -> list[str]:
        """Usernames of the active administrators (clear: the log-in window names them
        to a person who forgot their password)."""
        return [r[0] for r in self.db.execute(
            "SELECT username FROM users WHERE role=? AND active=1 ORDER BY username",
            (Role.ADMIN.value,))]

    def username(self, uid: int) -> str:
        """The username of `uid`, or "" if there is no such user."""
        row = self.db.execute("SELECT username FROM users WHERE id=?", (uid,)).fetchone()
        return row[0] if row else ""

    @staticmethod
    def add_auth_event(conn: sqlite3.Connection, ts: float, username: str, event: str) -> None:
        """Queue a log-in failure seen while locked (no key yet to write the audit log)."""
        conn.execute(
            "INSERT INTO auth_events(ts, username, event) VALUES (?,?,?)",
            (ts, (username or "")[:32], event),
        )

    @staticmethod
    def take_auth_events(conn: sqlite3.Connection) -> list[tuple[float, str, str]]:
        """The queued log-in failures, oldest first, removed from the queue."""
        rows = conn.execute("SELECT ts, username, event FROM auth_events ORDER BY id").fetchall()
        conn.execute("DELETE FROM auth_events")
        return [(r[0], r[1], r[2]) for r in rows]

    def backup_slots(self) -> list[dict[str, str]]:
        """Key slots that may open a backup: the recovery code and every active
        administrator's (base64 fields; "username" on an administrator's slot)."""
        admins = {
            _user_slot(uid): name
            for uid, name in self.db.execute(
                "SELECT id, username FROM users WHERE role=? AND active=1", (Role.ADMIN.value,)
            )
        }
        slots = []
        for slot, salt, kdf, wrapped in self.db.execute(
            "SELECT slot, salt, kdf, wrapped FROM key_slots ORDER BY slot"
        ):
            if slot != RECOVERY_SLOT and slot not in admins:
                continue
            entry = {
                "slot": slot,
                "salt": base64.b64encode(salt).decode(),
                "kdf": kdf,
                "wrapped": base64.b64encode(wrapped).decode(),
            }
            if slot in admins:
                entry["username"] = admins[slot]
            slots.append(entry)
        return slots
