"""The server's refusals, each written once: code, English detail, Spanish message and
HTTP status (app.sync.protocol.ProtocolError). Resources raise these; the HTTP layer
turns them into JSON error bodies and the CLI prints their Spanish message."""

from __future__ import annotations

from app.sync.protocol import ProtocolError


def admin_error(code: str, detail: str, message: str, status: int = 400) -> ProtocolError:
    """A refusal of an admin action (CLI or test helper); status 400 unless given."""
    return ProtocolError(code, detail, message, status)


def unknown_device(device_id: str = "", via: str = "http") -> ProtocolError:
    """The device id is not enrolled here. `via`: "http" (a signed request, 401),
    "batch" (a USB batch file, 422) or "usb_inbox" (a USB inbox request, 401)."""
    if via == "batch":
        return ProtocolError(
            "unknown_device", "batch from a device that is not enrolled",
            "El lote viene de un equipo que no está inscrito en este servidor.", 422)
    if via == "usb_inbox":
        return ProtocolError(
            "unknown_device", "device is not enrolled",
            f"El equipo {device_id} no está inscrito en este servidor; no se puede "
            "responder su solicitud de novedades.", 401)
    return ProtocolError(
        "unknown_device", "device is not enrolled",
        "Este equipo no está inscrito en el servidor. Inscríbalo con un código nuevo.", 401)


def device_revoked(via: str = "http") -> ProtocolError:
    """The device was revoked by the centre (403); `via` as in unknown_device."""
    if via == "batch":
        return ProtocolError("device_revoked", "batch from a revoked device",
                             "El lote viene de un equipo dado de baja.", 403)
    return ProtocolError(
        "device_revoked", "device has been revoked",
        "Este equipo fue dado de baja por la sede central y ya no puede sincronizar. "
        "Comuníquese con soporte.", 403)


def batch_conflict() -> ProtocolError:
    """Another envelope (or another device) already used this batch id (409)."""
    return ProtocolError(
        "batch_conflict", "a different batch was already received under this id",
        "Ya se recibió otro lote con este mismo identificador. Genere el lote de nuevo.", 409)


def key_in_use() -> ProtocolError:
    """The device public key is already enrolled (409)."""
    return ProtocolError(
        "key_in_use", "device public key already enrolled",
        "Este equipo ya está inscrito. Genere una clave nueva para volver a inscribirlo.", 409)


class RetryLater(ProtocolError):
    """A refusal the client should retry after `retry_after` seconds (the HTTP layer
    sends it as the Retry-After header)."""

    def __init__(self, code: str, detail: str, message: str, status: int,
                 retry_after: float) -> None:
        super().__init__(code, detail, message, status)
        self.retry_after = max(1, int(retry_after + 0.999))


def busy(detail: str = "server busy, retry", retry_after: float = 5) -> RetryLater:
    """The server cannot take this request now; the client retries later (503)."""
    return RetryLater("busy", detail,
                      "El servidor está ocupado. Vuelva a intentar en un momento.", 503,
                      retry_after)


def rate_limited(per_minute: int, wait: float) -> RetryLater:
    """A device sent more than `per_minute` accepted requests in a minute (429)."""
    return RetryLater(
        "rate_limited", f"more than {per_minute} requests per minute",
        f"Demasiadas solicitudes seguidas. Espere {int(wait)} s y vuelva a intentar.", 429,
        wait)
