"""What the audit log records: every action as an enum member, with its Spanish label.

The values are the strings stored in `audit.action` since the first schema, so the
HMAC chain of existing logs stays valid. The labels are what the audit screen and
exports show (Spanish, Peru)."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """One kind of audit entry (stored as its value)."""

    INIT = "init"
    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET = "password_reset"
    SETTINGS = "settings"
    USER_ADD = "user_add"
    USER_ENABLE = "user_enable"
    USER_DISABLE = "user_disable"
    CREATE = "create"
    SAVE = "save"
    REOPEN = "reopen"
    COMPLETE = "complete"
    APPROVE = "approve"
    RETURN = "return"
    REASSIGN = "reassign"
    EXPORT = "export"
    CONSTANCIA = "constancia"
    BACKUP = "backup"
    RESTORE = "restore"
    SYNC = "sync"
    SYNC_RUN = "sync_run"
    SYNC_ENROLL = "sync_enroll"
    SYNC_REVOKED = "sync_revoked"
    DELIVERED = "delivered"
    QUARANTINE = "quarantine"
    RESULT = "result"
    PRACTICE_RESULT = "practice_result"
    VISIT = "visit"
    CASE_DROP = "case_drop"
    CASE_REOPEN = "case_reopen"
    NOTICE = "notice"
    D100 = "d100"


AUDIT_LABELS: dict[AuditAction, str] = {
    AuditAction.INIT: "Configuración inicial",
    AuditAction.LOGIN: "Inicio de sesión",
    AuditAction.LOGOUT: "Cierre de sesión",
    AuditAction.LOGIN_FAILED: "Ingreso fallido",
    AuditAction.PASSWORD_CHANGE: "Cambio de contraseña",
    AuditAction.PASSWORD_RESET: "Contraseña restablecida",
    AuditAction.SETTINGS: "Cambio de configuración",
    AuditAction.USER_ADD: "Usuario creado",
    AuditAction.USER_ENABLE: "Usuario activado",
    AuditAction.USER_DISABLE: "Usuario desactivado",
    AuditAction.CREATE: "Ficha creada",
    AuditAction.SAVE: "Ficha guardada",
    AuditAction.REOPEN: "Ficha reabierta (nueva revisión)",
    AuditAction.COMPLETE: "Ficha completada",
    AuditAction.APPROVE: "Ficha aprobada",
    AuditAction.RETURN: "Ficha observada",
    AuditAction.REASSIGN: "Ficha reasignada",
    AuditAction.EXPORT: "Exportación",
    AuditAction.CONSTANCIA: "Constancia emitida",
    AuditAction.BACKUP: "Copia de respaldo",
    AuditAction.RESTORE: "Restauración de una copia",
    AuditAction.SYNC: "Recibo de envío aplicado",
    AuditAction.SYNC_RUN: "Sincronización",
    AuditAction.SYNC_ENROLL: "Inscripción del equipo",
    AuditAction.SYNC_REVOKED: "Equipo dado de baja",
    AuditAction.DELIVERED: "Ficha entregada a la sede central",
    AuditAction.QUARANTINE: "Ficha apartada por conflicto",
    AuditAction.RESULT: "Resultado CSE recibido",
    AuditAction.PRACTICE_RESULT: "Resultado de un ejercicio de práctica",
    AuditAction.VISIT: "Intento de visita registrado",
    AuditAction.CASE_DROP: "Solicitud desestimada",
    AuditAction.CASE_REOPEN: "Solicitud reabierta",
    AuditAction.NOTICE: "Notificación de visita emitida",
    AuditAction.D100: "Declaración jurada D100",
}


def audit_label(action: str) -> str:
    """The Spanish label of a stored action (the raw value if unknown, e.g. from a newer
    version of the program)."""
    try:
        return AUDIT_LABELS[AuditAction(action)]
    except ValueError:
        return action
