"""Roles and what each may do. Checked in app/workspace.py, below any UI."""

from __future__ import annotations

from enum import StrEnum

from app.core.errors import NotAllowed


class Role(StrEnum):
    EMPADRONADOR = "empadronador"
    DIGITADOR = "digitador"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Perm(StrEnum):
    RECORD_CREATE = "record.create"
    RECORD_EDIT_OWN = "record.edit_own"
    RECORD_VIEW_ALL = "record.view_all"
    RECORD_APPROVE = "record.approve"
    RECORD_RETURN = "record.return"
    RECORD_REASSIGN = "record.reassign"
    EXPORT = "export"
    USERS_MANAGE = "users.manage"
    AUDIT_VIEW = "audit.view"
    SYNC_RUN = "sync.run"
    SETTINGS_MANAGE = "settings.manage"
    BACKUP = "backup"
    CASE_DROP = "case.drop"  # desestimar a request, and reopen a dropped one
    D100_MANAGE = "d100.manage"


ROLE_LABELS: dict[Role, str] = {
    Role.EMPADRONADOR: "Empadronador",
    Role.DIGITADOR: "Digitador",
    Role.SUPERVISOR: "Responsable de ULE (supervisor)",
    Role.ADMIN: "Administrador",
}

_FIELD = {Perm.RECORD_CREATE, Perm.RECORD_EDIT_OWN, Perm.SYNC_RUN}
_SUPERVISOR = _FIELD | {
    Perm.RECORD_VIEW_ALL,
    Perm.RECORD_APPROVE,
    Perm.RECORD_RETURN,
    Perm.RECORD_REASSIGN,
    Perm.EXPORT,
    Perm.AUDIT_VIEW,
    Perm.CASE_DROP,
    Perm.D100_MANAGE,
}

# In a small ULE the responsable is also the administrator, so admin holds
# every permission; "nobody approves their own record" still applies to all.
PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.EMPADRONADOR: frozenset(_FIELD),
    Role.DIGITADOR: frozenset(_FIELD),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(Perm),
}

_PERM_TEXT: dict[Perm, str] = {
    Perm.RECORD_CREATE: "crear fichas",
    Perm.RECORD_EDIT_OWN: "editar fichas",
    Perm.RECORD_VIEW_ALL: "ver las fichas de otros usuarios",
    Perm.RECORD_APPROVE: "aprobar fichas",
    Perm.RECORD_RETURN: "observar (devolver) fichas",
    Perm.RECORD_REASSIGN: "reasignar fichas",
    Perm.EXPORT: "exportar datos",
    Perm.USERS_MANAGE: "administrar usuarios",
    Perm.AUDIT_VIEW: "ver la bitácora",
    Perm.SYNC_RUN: "sincronizar",
    Perm.SETTINGS_MANAGE: "cambiar la configuración",
    Perm.BACKUP: "hacer copias de respaldo",
    Perm.CASE_DROP: "desestimar ni reabrir solicitudes",
    Perm.D100_MANAGE: "generar ni seguir la declaración jurada D100",
}


def can(role: Role | str, perm: Perm) -> bool:
    return perm in PERMISSIONS[Role(role)]


def require(role: Role | str, perm: Perm) -> None:
    if not can(role, perm):
        r = Role(role)
        raise NotAllowed(
            f"role {r.value} lacks permission {perm.value}",
            f"Su rol ({ROLE_LABELS[r]}) no permite {_PERM_TEXT[perm]}.",
        )
