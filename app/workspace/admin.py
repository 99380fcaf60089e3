"""The administration part of the workspace (`ws.admin`): users, the audit log, and
encrypted backups. Every operation checks the administrator's permission here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed
from app.core.roles import Perm, Role
from app.store import meta, unlock
from app.store.audit import AuditEntry, ChainReport
from app.store.backup import (
    BackupInfo,
    Progress,
    backup_target,
    form_files,
    note_pending,
    snapshot_database,
    write_backup,
)
from app.store.db import read_transaction, schema_version, transaction
from app.store.vault import User
from app.workspace.context import Context, locked
from app.workspace.settings import Settings

log = logging.getLogger("siee.admin")


class Admin:
    """Users, audit log and backup (`ws.admin`)."""

    def __init__(self, ctx: Context, settings: Settings) -> None:
        self.ctx = ctx
        self.settings = settings

    # -- users ------------------------------------------------------------------------------
    @locked
    def add_user(
        self, username: str, role: Role | str, password: str, display_name: str = "",
        *, must_change: bool = True,
    ) -> int:
        """A new user (USERS_MANAGE); returns their id. ValidationError (Spanish) for a
        taken username or a weak password. The administrator gave the password, so by
        default the person must change it at their first log-in (`must_change`; tests
        and simulations of people who already did pass False)."""
        ctx = self.ctx
        ctx.require(Perm.USERS_MANAGE)
        with transaction(ctx.db) as conn:
            uid = ctx.vault.add_user(conn, username, Role(role), password, ctx.session.key(), b"",
                                     must_change=must_change)
            if display_name:
                ctx.vault.set_display_name(conn, uid, ctx.session.seal_display(uid, display_name))
            ctx.audit(conn, AuditAction.USER_ADD,
                      detail={"user": username, "role": str(Role(role))})
        return uid

    @locked
    def list_users(self) -> list[User]:
        """Every user (any logged-in user may read the list: names for the screens)."""
        self.ctx.me()
        return self.ctx.users()

    @locked
    def reset_password(self, username: str, password: str) -> None:
        """An administrator gives `username` a new password (USERS_MANAGE), for a person
        who forgot theirs; they must change it at their next log-in. Nobody resets
        their own this way (NotAllowed: they change it, knowing the old one)."""
        ctx = self.ctx
        me = ctx.require(Perm.USERS_MANAGE)
        row = ctx.vault.user_row(username)
        if row["id"] == me.id:
            raise NotAllowed("reset own password",
                             "Para su propia cuenta use «Cambiar mi contraseña» en el menú "
                             "Cuenta.")
        with transaction(ctx.db) as conn:
            ctx.vault.set_password(conn, row["id"], password, ctx.session.key(), must_change=True)
            ctx.audit(conn, AuditAction.PASSWORD_RESET,
                      detail={"user": row["username"], "by": "admin"})

    @locked
    def set_user_active(self, username: str, active: bool) -> None:
        """Enable or disable a user (USERS_MANAGE); nobody disables their own account."""
        ctx = self.ctx
        me = ctx.require(Perm.USERS_MANAGE)
        row = ctx.vault.user_row(username)
        if row["id"] == me.id and not active:
            raise NotAllowed("cannot disable self", "No puede desactivar su propia cuenta.")
        with transaction(ctx.db) as conn:
            ctx.vault.set_active(conn, row["id"], active)
            ctx.audit(
                conn,
                AuditAction.USER_ENABLE if active else AuditAction.USER_DISABLE,
                detail={"user": row["username"]},
            )

    # -- audit log ----------------------------------------------------------------------------
    @locked
    def audit_verify(self) -> ChainReport:
        """Check the whole HMAC chain (AUDIT_VIEW); the report names the first broken entry."""
        self.ctx.require(Perm.AUDIT_VIEW)
        return unlock.full_check(self.ctx.db, self.ctx.session.audit, self.ctx.clock())

    @locked
    def audit_entries(self, **filters: Any) -> list[AuditEntry]:
        """Audit entries (AUDIT_VIEW); filters as app.store.audit.AuditLog.entries."""
        self.ctx.require(Perm.AUDIT_VIEW)
        return self.ctx.session.audit.entries(self.ctx.conn, **filters)

    # -- backup ---------------------------------------------------------------------------------
    def backup_to(self, target: Path, progress: Progress | None = None) -> BackupInfo:
        """An encrypted backup of the whole workspace (records, users, audit, sync state,
        installed forms) that the recovery code or an administrator's password opens.
        The file is `backup_target(target)`: `.sieebak` added when missing; a missing
        folder or an existing file is refused (ValidationError) before anything is read."""
        ctx = self.ctx
        target = backup_target(Path(target))
        with ctx.lock:
            ctx.require(Perm.BACKUP)
            data_key = ctx.session.key()
            # One read transaction: the header's counts describe exactly the snapshot,
            # even while another program writes to the same database.
            # The reads come first: the backup then copies inside the same read
            # transaction (it does not end a transaction it did not open).
            with read_transaction(ctx.db) as conn:
                slots, header = self._backup_header_parts()
                image = snapshot_database(conn)
            forms = form_files(ctx.data_dir)
            with transaction(ctx.db) as conn:  # finished or removed at next start if killed
                note_pending(conn, Path(target), add=True)
        info = write_backup(Path(target), data_key, image, forms, slots, header, progress)
        with ctx.lock, transaction(ctx.db) as conn:
            note_pending(conn, Path(target), add=False)
            ctx.audit(
                conn,
                AuditAction.BACKUP,
                detail={"backup": info.backup_id, "records": info.records, "file": info.path.name},
            )
        return info

    def _backup_header_parts(self) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Key slots that may open the backup (recovery code, active admins) and the
        clear facts of the header; read inside the snapshot's transaction."""
        ctx = self.ctx
        counts = ctx.session.records.count_by_state(ctx.conn)
        header = {
            "workspace_id": meta.get(ctx.db, meta.WORKSPACE_ID) or "",
            "schema_version": schema_version(ctx.db),
            "ule_ubigeo": self.settings.get("ule_ubigeo"),
            "counts": {s.value: n for s, n in counts.items() if n},
        }
        return ctx.vault.backup_slots(), header
