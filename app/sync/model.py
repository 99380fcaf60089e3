"""Plain data of the sync client (no I/O): device identity, stored batches,
receipt outcomes, status, progress, and the Spanish sentences of the sync log."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.core.errors import SieeError


# --- errors --------------------------------------------------------------------------------
class SyncError(SieeError):
    """A sync that could not finish. `transient`: retrying later may work."""

    code = "sync"
    transient = False


class NetworkError(SyncError):
    """No answer, a cut connection, a timeout: the server may be unreachable right now."""

    code = "network"
    transient = True

    def __init__(self, message: str, user_message: str | None = None,
                 timeout: bool = False) -> None:
        super().__init__(
            message,
            user_message
            or "No se pudo conectar con el servidor del SIEE (no hay conexión o el servidor "
            "no responde). No se perdió nada: las fichas siguen guardadas en cola.",
        )
        self.timeout = timeout


class ServerBusy(SyncError):
    code = "busy"
    transient = True

    def __init__(self, message: str, user_message: str, retry_after: float = 0.0) -> None:
        super().__init__(message, user_message)
        self.retry_after = retry_after


class NotEnrolled(SyncError):
    code = "not_enrolled"


class DeviceRevoked(SyncError):
    code = "revoked"


class SyncBusy(SyncError):
    """Another sync (another window, or the command line) is running on this data folder."""

    code = "sync_busy"
    transient = True

    def __init__(self) -> None:
        super().__init__(
            "another sync holds the lock",
            "Ya hay una sincronización en curso en este equipo (en otra ventana o en la línea "
            "de comandos). Espere a que termine.",
        )


class Cancelled(SyncError):
    code = "cancelled"
    transient = True

    def __init__(self) -> None:
        super().__init__(
            "sync cancelled",
            "Sincronización cancelada. Lo que no se confirmó se enviará en la próxima.",
        )


class ServerRefused(SyncError):
    """The server answered with an error that retrying will not fix."""

    code = "refused"

    def __init__(self, message: str, user_message: str, status: int = 0,
                 server_code: str = "") -> None:
        super().__init__(message, user_message)
        self.status = status
        self.server_code = server_code


# --- URLs ----------------------------------------------------------------------------------
def is_loopback_host(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(url: str) -> str:
    """Normalized base URL; plain HTTP only to this computer (loopback)."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(
            f"bad server url {url!r}",
            "La dirección del servidor no es válida. Debe empezar con https:// "
            "(por ejemplo https://siee.midis.gob.pe).",
        )
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise SyncError(
            "plain http to a remote host refused",
            "Por seguridad, el servidor debe usar https://. Solo se permite http:// con un "
            "servidor en este mismo equipo.",
        )
    if parts.query or parts.fragment:
        raise SyncError("server url with query", "La dirección del servidor no es válida.")
    return url


# --- identity --------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    server_url: str
    ule_ubigeo: str
    server_signing_key: str
    server_encryption_key: str
    enrolled_at: float
    limits: dict[str, int] = field(default_factory=dict)
    label: str = ""
    revoked_at: str | None = None
    revoked_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DeviceInfo:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__ if k in d})

    @property
    def max_records(self) -> int:
        return int(self.limits.get("max_records") or 1000)

    @property
    def max_batch_bytes(self) -> int:
        return int(self.limits.get("max_batch_bytes") or 8 << 20)


@dataclass(frozen=True)
class StoredBatch:
    batch_id: str
    device_id: str
    state: str
    via: str
    envelope: bytes | None
    envelope_sha256: str
    size: int
    count: int
    attempts: int
    created_at: float


# --- outcomes ---------------------------------------------------------------------------------
@dataclass
class ReceiptOutcome:
    batch_id: str
    delivered: int = 0  # newly marked DELIVERED (accepted or duplicate)
    duplicate: int = 0  # of which the server already held
    returned: int = 0  # invalid -> RETURNED
    conflict: int = 0  # quarantined
    unchanged: int = 0  # receipt already applied, or the record moved on meanwhile
    reasons: list[str] = field(default_factory=list)  # Spanish, for the log (sealed there)
    already_applied: bool = False

    def add(self, other: ReceiptOutcome) -> None:
        self.delivered += other.delivered
        self.duplicate += other.duplicate
        self.returned += other.returned
        self.conflict += other.conflict
        self.unchanged += other.unchanged
        self.reasons += other.reasons

    @property
    def sent(self) -> int:
        return self.delivered + self.returned + self.conflict


@dataclass
class SyncReport:
    """What one sync did."""

    outcome: ReceiptOutcome = field(default_factory=lambda: ReceiptOutcome(""))
    batches: int = 0
    bytes_sent: int = 0
    messages: int = 0
    inbox_notes: list[str] = field(default_factory=list)  # Spanish lines
    pending_left: int = 0
    seconds: float = 0.0
    results: int = 0  # CSE results that arrived in this sync (one line in inbox_notes)

    def text(self) -> str:
        parts = [describe_outcome(self.outcome)] if self.outcome.sent else []
        parts += self.inbox_notes
        if not parts:
            parts.append("Sincronización completa: no había registros por enviar ni novedades.")
        if self.outcome.delivered:
            # The centre classifies later: the results never come back in the same sync.
            parts.append(RESULTS_LATER)
        if self.pending_left:
            parts.append(f"Quedan {registros(self.pending_left)} por enviar.")
        return " ".join(parts)


@dataclass(frozen=True)
class SyncProgress:
    phase: str  # "send" | "inbox" | "done"
    records_done: int
    records_total: int
    bytes_done: int
    bytes_total: int
    text: str = ""


# Callbacks of a long sync operation: progress reports, and "stop at the next safe point?".
ProgressFn = Callable[[SyncProgress], None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    device_id: str | None
    server_url: str | None
    revoked: bool
    pending: int  # QUEUED, not quarantined: every record the next sync sends
    delivered: int  # every record the centre accepted (household forms and case steps)
    returned: int
    quarantined: int
    result: int
    in_flight: int  # batches awaiting a receipt
    last_ok: float | None
    last_attempt: float | None
    last_error: str | None
    # Records whose clear metadata was edited outside the program (row MAC fails):
    # never sent, never counted above, shown so they are not silently skipped.
    damaged: int = 0
    # Delivered household forms (S100, FSU): the records that wait for a CSE result. A
    # step of a case (visit, desestimación) is delivered too but never gets one.
    delivered_forms: int = 0


@dataclass(frozen=True)
class SyncLogEntry:
    ts: float
    level: str
    text: str


# --- Spanish ----------------------------------------------------------------------------------
_PATH_PREFIX = re.compile(r"^(/[^\s:]+):\s+(.*)$", re.S)


def split_reasons(reasons: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The centre's reasons as people read them (without the question path, each once,
    without a final period) and the question paths they point at."""
    texts: dict[str, None] = {}
    paths: dict[str, None] = {}
    for r in reasons:
        r = str(r).strip()
        m = _PATH_PREFIX.match(r)
        if m:
            paths[m.group(1)] = None
            r = m.group(2).strip()
        r = r.rstrip(". ")
        if r:
            texts[r] = None
    return list(texts), list(paths)


def reason_text(reasons: list[str] | tuple[str, ...]) -> str:
    texts, _ = split_reasons(reasons)
    return "; ".join(texts) + "." if texts else ""


# Beside «Última sincronización correcta» when the laptop is not enrolled but synced
# once: the data came from a backup whose enrollment was dropped at restore (IT's day,
# issue 17), so that sync was the previous laptop's, not this one's.
PREVIOUS_ENROLLMENT = ("con la inscripción anterior, antes de restaurar la copia de "
                       "respaldo (la copia no conserva la inscripción): con este equipo aún "
                       "no se sincronizó; inscríbalo para enviar lo pendiente")


def previous_enrollment_sync(status: SyncStatus) -> bool:
    """Whether the status's last good sync belongs to an enrollment this laptop no longer
    has (not enrolled now, yet a sync is on record)."""
    return not status.enrolled and bool(status.last_ok)


RESULTS_LATER = ("Los resultados de la CSE llegan cuando el SIEE los publica; se traerán en "
                 "una próxima sincronización.")


def results_text(n: int) -> str:
    """The one line for `n` CSE results that arrived together (issue 16 item 8: «Llegaron
    2 resultados», never «Llegó 1 resultado» twice)."""
    if n == 1:
        return "Llegó 1 resultado de clasificación socioeconómica (CSE)."
    return f"Llegaron {n} resultados de clasificación socioeconómica (CSE)."


def awaiting_text(n: int) -> str:
    """What a person should expect for `n` delivered household forms (SyncStatus.
    delivered_forms) without a result yet."""
    if n == 1:
        head = "1 ficha entregada espera su resultado"
    else:
        head = f"{n} fichas entregadas esperan su resultado"
    return head + ": los resultados llegan cuando el SIEE los publica."


def fichas(n: int) -> str:
    return f"{n} ficha" if n == 1 else f"{n} fichas"


def registros(n: int) -> str:
    """`n` records of any form as they travel to the centre: the household's forms
    («fichas») and the steps of its case (visits, desestimaciones), which are not."""
    return f"{n} registro" if n == 1 else f"{n} registros"


def describe_outcome(o: ReceiptOutcome) -> str:
    """E.g. 'Se enviaron 12 registros; 1 fue observado: DNI repetido.' (records: fichas
    and steps of a case travel together)."""
    n = o.sent
    head = f"Se envió {registros(n)}" if n == 1 else f"Se enviaron {registros(n)}"
    bits = [head]
    if o.duplicate:
        # counted among the sent ones, never added to them ("4; 4 ya estaban" read as 8)
        if o.duplicate == n:
            bits.append("ya estaba en el servidor (no se duplicó)" if n == 1
                        else "todos ya estaban en el servidor (no se duplicaron)")
        else:
            bits.append("de ellos, 1 ya estaba en el servidor (no se duplicó)"
                        if o.duplicate == 1 else
                        f"de ellos, {o.duplicate} ya estaban en el servidor (no se duplicaron)")
    if o.returned:
        verb = "1 fue observado" if o.returned == 1 else f"{o.returned} fueron observados"
        texts, _ = split_reasons(o.reasons)
        why = "; ".join(texts)
        if len(why) > 400:
            why = why[:397] + "…"
        bits.append(f"{verb}: {why}" if why else verb)
    if o.conflict:
        bits.append(
            ("1 quedó" if o.conflict == 1 else f"{o.conflict} quedaron")
            + " en cuarentena (el servidor tiene otra versión con el mismo número de revisión)"
        )
    return "; ".join(bits) + "."


def human_bytes(n: float) -> str:
    if n < 1024:
        return f"{int(n)} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB".replace(".", ",")
    return f"{n / (1024 * 1024):.1f} MB".replace(".", ",")
