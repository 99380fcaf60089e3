"""The workspace settings, in one module: defaults, keys, Spanish labels, checks, IT's
settings files (TOML), their precedence, and the one write path (`Settings.write`).

The settings live as one JSON value in the database (meta key "settings"); three
sources change them: this laptop (settings screen, CLI: `Settings.save`), the
centre (sync's settings_changed message: only SERVER_KEYS) and IT's files.

Files, each optional, read in this order (a later file wins over an earlier one):
  1. the program folder: `siee-campo.toml` beside the executable (from source:
     the project folder);
  2. the machine-wide folder: platformdirs' site_config_dir, e.g.
     `C:\\ProgramData\\siee-campo\\siee-campo.toml` or `/etc/xdg/siee-campo/siee-campo.toml`.

Precedence of one setting, lowest to highest:
  default < program-folder file < machine-wide file
    < a change made on this laptop (settings screen, CLI, or the centre via sync)
    < a file that lists the setting under `locked` (IT always wins; the screen
      shows it read-only).
A file value reaches the workspace when the workspace's value is still the
default or is still the value a file gave it last time; a value changed on the
laptop is kept until IT locks the setting. `apply_file_settings` does this on
every start (`Settings.apply_file`), so the rest of the program only reads
`ws.settings.values()`."""

from __future__ import annotations

import ipaddress
import logging
import sqlite3
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from platformdirs import site_config_dir

from app.core.audit_actions import AuditAction
from app.core.errors import NotAllowed, SieeError, ValidationError
from app.core.roles import Perm
from app.core.ubigeo import catalog
from app.paths import APP_NAME
from app.store import meta
from app.store.db import transaction
from app.workspace.context import Context, locked

log = logging.getLogger("siee.settings")

SETTINGS_FILE = "siee-campo.toml"
KEYS = ("server_url", "ca_bundle", "ule_ubigeo", "autolock_minutes", "review_required",
        "practice_ready_accuracy", "desestimacion_motivos")
# Grounds to drop a request (desestimación, Directiva 001-2020-MIDIS §6.4); the list is
# TO CONFIRM with MIDIS (DOMAIN.md), so it is a setting IT or the centre may change.
DEFAULT_DROP_REASONS = [
    "Visitas fallidas reiteradas (hogar no ubicado o ausente)",
    "Negativa del hogar a ser empadronado",
    "El hogar no reside en la dirección declarada",
    "Fallecimiento del solicitante",
    "Solicitud duplicada",
    "Desistimiento del solicitante",
]
DEFAULTS: dict[str, Any] = {
    "ule_ubigeo": None,
    "review_required": True,
    "autolock_minutes": 10,
    "server_url": None,
    "ca_bundle": None,
    # practice mode (issue 18): a trainee is "ready" at this accuracy (percent) on the
    # 4-member data-entry exercise
    "practice_ready_accuracy": 98,
    "desestimacion_motivos": list(DEFAULT_DROP_REASONS),
}
# Settings the centre may change on a laptop (the rest stay local decisions).
SERVER_KEYS = ("review_required", "autolock_minutes", "desestimacion_motivos")
MAX_AUTOLOCK_MINUTES = 24 * 60

# Spanish labels, shared by the settings screen, `doctor` and the guide.
LABELS: dict[str, str] = {
    "server_url": "Dirección del servidor SIEE",
    "ca_bundle": "Certificado de seguridad del servidor (solo si TI lo indica)",
    "ule_ubigeo": "Ubigeo de la ULE",
    "autolock_minutes": "Bloqueo por inactividad (minutos)",
    "review_required": "Revisión del supervisor antes del envío",
    "practice_ready_accuracy": "Modo práctica: precisión mínima para estar listo (%)",
    "desestimacion_motivos": "Motivos para desestimar una solicitud",
}
SOURCE_DEFAULT = "predeterminado"
SOURCE_LOCAL = "este equipo"
SOURCE_LABELS = {"programa": "archivo de la carpeta del programa", "equipo": "archivo del equipo"}


def program_dir() -> Path:
    """The folder of the executable (packaged) or the project folder (from source)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent.parent


def machine_dir() -> Path:
    return Path(site_config_dir(APP_NAME, appauthor=False))


def default_locations() -> list[tuple[str, Path]]:
    """(kind, path) in reading order; kind is "programa" or "equipo"."""
    return [
        ("programa", program_dir() / SETTINGS_FILE),
        ("equipo", machine_dir() / SETTINGS_FILE),
    ]


@dataclass
class FileSettings:
    """What the settings files say, already checked."""

    values: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # key -> "programa" | "equipo"
    locked: set[str] = field(default_factory=set)
    locked_by: dict[str, str] = field(default_factory=dict)  # key -> kind of the file
    files: list[Path] = field(default_factory=list)  # the files found and read
    errors: list[str] = field(default_factory=list)  # Spanish, one per problem

    def origin_text(self, key: str) -> str:
        kind = self.origin.get(key) or self.locked_by.get(key, "")
        return SOURCE_LABELS.get(kind, kind)

    def locked_changes(self, changes: dict[str, Any], current: dict[str, Any]) -> list[str]:
        """The keys of `changes` that would change a setting IT locked. A locked key
        keeps the file's value, or, when no file gives one, the value it has now."""
        return sorted(
            k for k, v in changes.items()
            if k in self.locked and v != self.values.get(k, current.get(k))
        )

    def lock_refusal(self, changes: dict[str, Any], current: dict[str, Any]) -> NotAllowed | None:
        """The Spanish refusal when `changes` would change a setting IT locked (None when
        nothing locked changes)."""
        keys = self.locked_changes(changes, current)
        if not keys:
            return None
        return NotAllowed(
            f"settings locked by file: {keys}",
            "TI fijó estas opciones en el archivo de configuración (siee-campo.toml) y no "
            "se pueden cambiar en el programa: "
            + ", ".join(f"{LABELS.get(k, k)} ({value_text(k, self.values.get(k, current.get(k)))})"
                        for k in keys)
            + ". Si hace falta otro valor, pida a TI que cambie el archivo.",
        )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server_url(value: Any) -> str | None:
    """A server address IT may set: https, or http only to this same computer."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("debe ser un texto como «https://servidor.gob.pe»")
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("debe empezar con https:// y tener un nombre de servidor")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("sin https solo se permite 127.0.0.1 o localhost")
    return url


def check_value(key: str, value: Any, base_dir: Path | None = None) -> Any:
    """The checked value of one setting; ValueError with a Spanish reason if wrong."""
    if key == "server_url":
        return check_server_url(value)
    if key == "ca_bundle":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("debe ser la ruta de un archivo .pem")
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            if base_dir is None:
                raise ValueError(f"no existe el archivo {path}")
            # read from IT's file (issue 17: the guide's example copied without its PEM)
            raise ValueError(
                f"no existe el archivo {path}: copie allí el certificado (PEM) que le dio "
                "la sede central, o borre la línea ca_bundle si el servidor usa un "
                "certificado de una autoridad pública (guía de TI, sección 4)")
        return str(path)
    if key == "ule_ubigeo":
        if value is None or value == "":
            return None
        try:
            return catalog().validate(str(value)).ubigeo
        except SieeError as e:
            raise ValueError(e.user_message) from None
    if key == "autolock_minutes":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("debe ser un número entero de minutos (0 = nunca)")
        if not 0 <= value <= MAX_AUTOLOCK_MINUTES:
            raise ValueError(f"debe estar entre 0 y {MAX_AUTOLOCK_MINUTES}")
        return value
    if key == "review_required":
        if not isinstance(value, bool):
            raise ValueError("debe ser true o false")
        return value
    if key == "practice_ready_accuracy":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("debe ser un porcentaje, por ejemplo 98")
        if not 50 <= value <= 100:
            raise ValueError("debe estar entre 50 y 100")
        return value
    if key == "desestimacion_motivos":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("debe ser una lista de textos, por ejemplo [\"Negativa del hogar\"]")
        reasons = [" ".join(v.split()) for v in value if v.strip()]
        if not reasons:
            raise ValueError("debe tener al menos un motivo")
        return reasons
    raise ValueError("opción desconocida")


def read_file(path: Path, kind: str, into: FileSettings) -> None:
    """Merge one file into `into`; problems become Spanish lines in `into.errors`."""
    try:
        data = tomllib.loads(path.read_text("utf-8-sig"))
    except tomllib.TOMLDecodeError as e:
        into.errors.append(f"{path}: no es un archivo TOML válido ({e}); se ignoró.")
        return
    except (OSError, UnicodeDecodeError) as e:
        into.errors.append(f"{path}: no se pudo leer ({type(e).__name__}); se ignoró.")
        return
    into.files.append(path)
    locked = data.pop("locked", [])
    if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
        into.errors.append(f"{path}: «locked» debe ser una lista de nombres de opciones.")
        locked = []
    for key in locked:
        if key in KEYS:
            into.locked.add(key)
            into.locked_by.setdefault(key, kind)
        else:
            into.errors.append(f"{path}: «locked» nombra una opción desconocida: {key}.")
    for key, raw in data.items():
        if key not in KEYS:
            into.errors.append(f"{path}: opción desconocida «{key}»; se ignoró.")
            continue
        try:
            into.values[key] = check_value(key, raw, path.parent)
        except ValueError as e:
            into.errors.append(f"{path}: {key}: {_clause(str(e))}; se ignoró.")
            continue
        into.origin[key] = kind


def _clause(text: str) -> str:
    """A sentence as the middle of a line: no final period, a lower-case first letter
    (unless it starts an acronym)."""
    text = text.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def load_file_settings(locations: list[tuple[str, Path]] | None = None) -> FileSettings:
    """Read every settings file that exists, in order (later files win)."""
    out = FileSettings()
    for kind, path in locations if locations is not None else default_locations():
        if Path(path).is_file():
            read_file(Path(path), kind, out)
    # A key locked by a file that does not set it locks the value of the other file;
    # when no file gives a value, it locks the value the laptop has (nobody changes it).
    return out


def merge(
    stored: dict[str, Any],
    applied: dict[str, Any],
    fs: FileSettings,
    defaults: dict[str, Any],
) -> tuple[dict[str, Any], list[str]]:
    """(new workspace settings, keys that change) under the precedence rule above.

    `stored` is the workspace's current settings, `applied` what the files gave it
    the last time (so a value changed since then on the laptop is recognised)."""
    new = dict(stored)
    for key, value in fs.values.items():
        current = stored.get(key, defaults.get(key))
        if key in fs.locked:
            new[key] = value
        elif key in applied:
            if current == applied[key]:
                new[key] = value
        elif current == defaults.get(key):
            new[key] = value
    changed = sorted(k for k in new if new.get(k) != stored.get(k))
    return new, changed


def sources(
    effective: dict[str, Any], fs: FileSettings, defaults: dict[str, Any]
) -> dict[str, str]:
    """Where each effective value comes from, in Spanish (for the screen and doctor)."""
    out = {}
    for key in KEYS:
        value = effective.get(key)
        if key in fs.locked:
            out[key] = f"fijada por TI ({fs.origin_text(key)})"
        elif key in fs.values and fs.values[key] == value:
            out[key] = fs.origin_text(key)
        elif value == defaults.get(key):
            out[key] = SOURCE_DEFAULT
        else:
            out[key] = SOURCE_LOCAL
    return out


def value_text(key: str, value: Any) -> str:
    """A setting's value as a person reads it."""
    if value is None or value == "":
        return "(sin definir)"
    if key == "review_required":
        return "sí" if value else "no"
    if key == "autolock_minutes":
        return "nunca" if value == 0 else f"{value} min"
    if key == "practice_ready_accuracy":
        return f"{value} %"
    if key == "desestimacion_motivos" and isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if key == "ule_ubigeo":
        d = catalog().get(str(value))
        return f"{value} — {d.label}" if d else str(value)
    return str(value)


def centre_held_text(held: dict[str, Any], kept: dict[str, Any]) -> str:
    """The Spanish line for the sync report, the sync log and `doctor` when the centre
    sent values for settings IT locked on this laptop: `held` is what the centre sent,
    `kept` the laptop's value (IT's). Issue 17, IT's day: it was ignored silently."""
    parts = ", ".join(
        f"{LABELS.get(k, k)}: «{value_text(k, v)}» (sigue «{value_text(k, kept.get(k))}»)"
        for k, v in sorted(held.items()))
    return (f"La sede central envió otro valor para opciones que TI fijó en este equipo, y "
            f"no se aplicó: {parts}. Gana el archivo de configuración de TI "
            "(siee-campo.toml, «locked»); si debe valer lo de la sede central, pida a TI "
            "que cambie el archivo.")


def centre_held(centre: dict[str, Any], effective: dict[str, Any],
                fs: FileSettings) -> dict[str, Any]:
    """The centre's last settings (`centre`, as its message sent them) that IT's lock
    keeps from applying on this laptop: key -> the centre's checked value, for the keys
    the centre may change (SERVER_KEYS) whose value differs from the effective one."""
    out = {}
    for k, v in centre.items():
        if k not in SERVER_KEYS or k not in fs.locked:
            continue
        try:
            value = check_value(k, v)
        except ValueError:
            continue
        if value != effective.get(k):
            out[k] = value
    return out


class Settings:
    """The settings part of the workspace (`ws.settings`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def values(self) -> dict[str, Any]:
        """The effective settings: the defaults overlaid with what is stored."""
        return {**DEFAULTS, **(meta.get_json(self.ctx.db, meta.SETTINGS) or {})}

    def get(self, key: str) -> Any:
        return self.values().get(key)

    def write(
        self,
        conn: sqlite3.Connection,
        changes: dict[str, Any],
        by: str | None = None,
        audited: list[str] | None = None,
        check_locks: bool = True,
    ) -> dict[str, Any]:
        """The one write path: overlay `changes` on the stored settings inside the
        caller's transaction and audit the keys in `audited` (default: every key of
        `changes`; an empty list writes no audit entry). `by` names who changed them
        when not the logged-in user ("server", "settings_file"). Returns the new
        settings. Values must already be checked.

        Every write but IT's files' (`by="settings_file"`) and the workspace's creation
        (`check_locks=False`) respects `locked`: a person's change of a locked setting
        raises NotAllowed (Spanish), the centre's is left out."""
        if check_locks and by != "settings_file":
            fs, current = self.file(), self.values()
            held = fs.locked_changes(changes, current)
            if held and by == "server":
                # the centre's change of a setting IT locked on this laptop: IT wins
                changes = {k: v for k, v in changes.items() if k not in held}
                log.warning("centre's change of locked settings not applied: %s",
                            ",".join(held))
            elif held:
                raise fs.lock_refusal(changes, current)  # type: ignore[misc]
        new = {**self.values(), **changes}
        meta.put_json(conn, meta.SETTINGS, new)
        keys = sorted(changes) if audited is None else audited
        if audited is None or audited:
            detail: dict[str, Any] = {"changed": keys}
            if by:
                detail["by"] = by
            self.ctx.audit(conn, AuditAction.SETTINGS, detail=detail)
        return new

    @locked
    def update(self, **changes: Any) -> dict[str, Any]:
        """Change settings as the logged-in administrator (needs SETTINGS_MANAGE); values
        are checked against the known keys and the ubigeo catalog."""
        self.ctx.require(Perm.SETTINGS_MANAGE)
        unknown = set(changes) - set(DEFAULTS)
        if unknown:
            raise ValidationError(f"unknown settings {sorted(unknown)}", "Opción desconocida.")
        if changes.get("ule_ubigeo"):
            catalog().validate(changes["ule_ubigeo"])
        refusal = self.file().lock_refusal(changes, self.values())
        if refusal is not None:
            raise refusal
        with transaction(self.ctx.db) as conn:
            return self.write(conn, changes)

    def file(self) -> FileSettings:
        """What IT's settings files say (read now)."""
        return load_file_settings()

    def check_unlocked(self, **changes: Any) -> None:
        """Raise NotAllowed (Spanish) when `changes` would change a setting IT locked;
        for paths that must refuse before doing anything else (enrollment)."""
        refusal = self.file().lock_refusal(changes, self.values())
        if refusal is not None:
            raise refusal

    def save(self, **changes: Any) -> dict[str, Any]:
        """The settings screen's save: checks values, refuses keys IT locked."""
        fs = self.file()
        locked_keys = sorted(set(changes) & fs.locked)
        if locked_keys:
            raise NotAllowed(
                f"settings locked by file: {locked_keys}",
                "TI fijó estas opciones en el archivo de configuración y no se pueden cambiar "
                "aquí: " + ", ".join(LABELS.get(k, k) for k in locked_keys) + ".",
            )
        checked = {}
        for k, v in changes.items():
            if k not in LABELS:
                raise ValidationError(f"unknown setting {k}", "Opción desconocida.")
            try:
                checked[k] = check_value(k, v)
            except ValueError as e:
                raise ValidationError(f"bad value for {k}", f"{LABELS[k]}: {e}.") from None
        return self.update(**checked)

    def view(self) -> list[dict[str, Any]]:
        """For the settings screen: each key with its value, source and whether IT locked it."""
        fs = self.file()
        eff = self.values()
        src = sources(eff, fs, DEFAULTS)
        return [
            {
                "key": k,
                "label": LABELS[k],
                "value": eff.get(k),
                "source": src[k],
                "locked": k in fs.locked,
                "file_value": fs.values.get(k),
                "in_file": k in fs.values,
            }
            for k in KEYS
        ]

    def apply_file(self, fs: FileSettings | None = None) -> list[str]:
        """Bring the settings files' values into the workspace (see the precedence above).
        Needs no log-in: it runs at every start. Returns the keys that changed."""
        fs = fs if fs is not None else load_file_settings()
        for e in fs.errors:
            log.warning("settings file problem: %s", e)
        with self.ctx.lock:
            applied = meta.get_json(self.ctx.db, meta.SETTINGS_FILE_APPLIED) or {}
            stored = self.values()
            new, changed = merge(stored, applied, fs, DEFAULTS)
            if not changed and applied == fs.values:
                return []
            audited = changed if self.ctx.session.unlocked else []
            with transaction(self.ctx.db) as conn:
                self.write(conn, {k: new[k] for k in changed}, by="settings_file",
                           audited=audited)
                meta.put_json(conn, meta.SETTINGS_FILE_APPLIED, fs.values)
        if changed:
            log.info("settings from file applied: %s", ",".join(changed))
        return changed
