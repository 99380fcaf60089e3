"""Errors with an English message for logs and a Spanish one for people."""

from __future__ import annotations


class SieeError(Exception):
    """Base error. `str(e)` is English (logs); `e.user_message` is Spanish (people)."""

    code = "error"

    def __init__(self, message: str, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message or "Ocurrió un error inesperado. Intente de nuevo."


class ValidationError(SieeError):
    code = "invalid"


class NotAllowed(SieeError):
    """The logged-in role may not do this, or the record is not in a state that allows it."""

    code = "forbidden"


class AuthError(SieeError):
    code = "auth"


class PasswordChangeRequired(AuthError):
    """The logged-in user still has the password an administrator gave them: nothing
    but changing it is allowed (issue 16 item 10)."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__(
            "password change required",
            "Su contraseña es la que le dio el administrador: antes de continuar, elija "
            "una contraseña propia (menú Cuenta › Cambiar mi contraseña, o al ingresar "
            "al programa).",
        )


class AccountLocked(AuthError):
    code = "locked"

    def __init__(self, message: str, user_message: str, seconds_left: float) -> None:
        super().__init__(message, user_message)
        self.seconds_left = seconds_left


class NotFound(SieeError):
    code = "not_found"


class IntegrityFailure(SieeError):
    """Stored data failed authentication (tampered or corrupted)."""

    code = "integrity"


def wait_text(seconds: float) -> str:
    """A remaining wait in plain Spanish, e.g. '2 min 5 s'."""
    s = max(1, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s} s" if s else f"{m} min"
    h, m = divmod(m, 60)
    return f"{h} h {m} min"
