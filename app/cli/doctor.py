"""`siee-campo doctor`: a report for a support ticket, without personal data.

Needs no log-in (a forgotten password is a support case too): it reads only
what is stored in clear (states, counts, timestamps, versions, sizes) and never
opens an encrypted column. Log lines are English ids and counts by design."""

from __future__ import annotations

import platform
import sqlite3
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from app import __version__
from app.core.roles import ROLE_LABELS, Role
from app.core.states import STATE_LABELS, State
from app.paths import log_dir
from app.store.db import MIGRATIONS
from app.store.inspect import inspect_database
from app.workspace.settings import (
    DEFAULTS,
    KEYS,
    LABELS,
    centre_held,
    centre_held_text,
    default_locations,
    load_file_settings,
    machine_dir,
    merge,
    program_dir,
    sources,
    value_text,
)

LOG_TAIL = 15
# The batch states of the store (app/store/db.py, sync_batches.state) as IT reads them.
_BATCH_STATES = {"pending": "esperando recibo", "done": "con recibo",
                 "abandoned": "dejados de lado (reenviados con otra inscripción)"}
_ROLE_NAMES = {r.value: ROLE_LABELS[r] for r in Role}


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "no instalado"


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(ts)))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _log_tail(data_dir: Path) -> list[str]:
    f = log_dir(data_dir) / "siee-campo.log"
    try:
        lines = f.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return []
    worth = [ln for ln in lines if " WARNING " in ln or " ERROR " in ln or " CRITICAL " in ln]
    return worth[-LOG_TAIL:]


def doctor_report(data_dir: Path) -> dict[str, Any]:
    data_dir = Path(data_dir)
    fs = load_file_settings()
    db = inspect_database(data_dir)

    # What the program uses from its next start on (the files applied, as at start-up).
    stored = {**DEFAULTS, **db.get("settings", {})}
    effective, _ = merge(stored, db.get("settings_applied", {}), fs, DEFAULTS)
    return {
        "program": {
            "version": __version__,
            # the database schema this program writes (app.store.db's migrations): known
            # even when the data folder's database cannot be read
            "schema_version": len(MIGRATIONS),
            "packaged": bool(getattr(sys, "frozen", False)),
            "executable": sys.executable,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version,
            "pyside6": _dist_version("PySide6-Essentials"),
            "cryptography": _dist_version("cryptography"),
            "pyxform": _dist_version("pyxform"),
        },
        "paths": {
            "data": str(data_dir),
            "data_exists": data_dir.is_dir(),
            "logs": str(log_dir(data_dir)),
            "program_dir": str(program_dir()),
            "machine_config_dir": str(machine_dir()),
            "settings_files": [
                {"kind": k, "path": str(p), "exists": p.is_file()} for k, p in default_locations()
            ],
        },
        "settings": {
            "effective": {k: effective.get(k) for k in KEYS},
            "sources": sources(effective, fs, DEFAULTS),
            "locked": sorted(fs.locked),
            "errors": fs.errors,
            # the centre's values IT's locks keep from applying here (issue 17)
            "centre_not_applied": centre_held(db.get("settings_from_centre", {}), effective,
                                              fs),
        },
        "database": {k: v for k, v in db.items() if not k.startswith("settings")},
        "log_tail": _log_tail(data_dir),
    }


def format_report(r: dict[str, Any]) -> str:
    """The report as Spanish text for a support ticket."""
    p, paths, st, db = r["program"], r["paths"], r["settings"], r["database"]
    lines = [
        "SIEE Campo — diagnóstico para soporte (no contiene datos personales)",
        f"Fecha: {_when(time.time())}",
        "",
        "Programa",
        f"  versión: {p['version']} ({'empaquetado' if p['packaged'] else 'desde el código'})",
        f"  ejecutable: {p['executable']}",
        f"  Python {p['python']}, SQLite {p['sqlite']}, PySide6 {p['pyside6']}, "
        f"cryptography {p['cryptography']}, pyxform {p['pyxform']}",
        f"  sistema: {p['platform']}",
        "",
        "Carpetas",
        f"  datos: {paths['data']}",
        f"  registros (logs): {paths['logs']}",
        f"  programa: {paths['program_dir']}",
    ]
    for f in paths["settings_files"]:
        state = "existe" if f["exists"] else "no existe"
        lines.append(f"  configuración ({f['kind']}): {f['path']} — {state}")
    lines += ["", "Configuración"]
    for k in KEYS:
        lines.append(f"  {LABELS[k]}: {value_text(k, st['effective'].get(k))} [{st['sources'][k]}]")
    for e in st["errors"]:
        lines.append(f"  ¡problema! {e}")
    if st.get("centre_not_applied"):
        lines.append(f"  aviso: {centre_held_text(st['centre_not_applied'], st['effective'])}")
    lines += ["", "Base de datos"]
    if not db.get("exists") and not paths.get("data_exists", True):
        lines.append(f"  no hay datos: la carpeta {paths['data']} no existe (el diagnóstico "
                     "no la creó). Revise la ruta indicada con --data; si es la carpeta por "
                     "defecto, el programa aún no se configuró en esta cuenta.")
    elif not db.get("exists"):
        lines.append(f"  no hay datos en {paths['data']} (programa sin configurar: ábralo "
                     "para usar el asistente, o «siee-campo init»)")
    else:
        mb = db["size_bytes"] / 1e6
        lines += [
            f"  archivo: {db['path']} ({mb:.1f} MB; WAL {db['wal_bytes'] / 1e6:.1f} MB)",
            f"  integridad (integrity_check): {db.get('integrity_check', '?')}",
            _schema_line(db.get("schema_version"), p["schema_version"]),
            f"  id del espacio de trabajo: {db.get('workspace_id') or '—'}",
            "  usuarios activos por rol: " + _pairs(
                {_ROLE_NAMES.get(k, k): v for k, v in db.get("users", {}).items()}),
            f"  registros de bitácora: {db.get('audit_entries', '?')}",
        ]
        if db.get("restored_from"):
            rf = db["restored_from"]
            lines.append(f"  restaurado de la copia {rf.get('backup_id')} el {_when(rf.get('at'))}")
        if db.get("error"):
            lines.append(f"  ¡error al leer! {_db_error_text(db['error'])}")
        if damaged(db):
            lines += DAMAGED_NEXT_STEPS
        rec = db.get("records", {})
        lines += ["", "Fichas por estado"]
        for s in State:
            lines.append(f"  {STATE_LABELS[s]}: {rec.get(s.value, 0)}")
        lines.append(f"  En cuarentena: {db.get('quarantined', 0)}")
        lines += ["", "Integridad (datos alterados fuera del programa)"]
        lines += _integrity_lines(db.get("integrity", {}))
        sy = db.get("sync", {})
        lines += ["", "Sincronización"]
        if sy.get("device_id"):
            lines.append(f"  equipo inscrito: {sy['device_id']} en {sy.get('server_url') or '—'}")
            if sy.get("revoked_at"):
                lines.append(f"  ¡equipo revocado por el servidor! ({sy['revoked_at']})")
        else:
            lines.append("  equipo no inscrito en el servidor (se inscribe con «siee-campo sync "
                         "enroll --code CÓDIGO», guía de TI sección 5)")
        if "batches" in sy:
            batches = {_BATCH_STATES.get(k, k): v for k, v in sy["batches"].items()}
            lines.append(f"  lotes por estado: {_pairs(batches, 'aún no hay lotes')}")
            lines.append(f"  último acuse recibido: {_when(sy.get('last_receipt_at'))}")
        if "last_errors_at" in sy:
            errs = ", ".join(_when(t) for t in sy["last_errors_at"]) or "ninguno"
            lines.append(f"  últimos errores de sincronización: {errs}")
    lines += ["", f"Últimas advertencias y errores del registro ({LOG_TAIL} como máximo)"]
    lines += [f"  {ln}" for ln in r["log_tail"]] or ["  ninguna advertencia ni error"]
    return "\n".join(lines)


def _schema_line(found: int | None, program: int) -> str:
    """The database's schema version beside this program's, with what a difference
    means for IT."""
    if found is None:
        return f"  versión del esquema: no se pudo leer (este programa: {program})"
    line = f"  versión del esquema: {found} (este programa: {program})"
    if found > program:
        line += (" — los datos son de una versión más nueva del programa: instale esa "
                 "versión (guía de TI, sección 10)")
    elif found < program:
        line += " — se actualiza sola al abrir el programa"
    return line


# What IT does with a damaged database (also in docs/guia-it.md, section 12).
DAMAGED_NEXT_STEPS = [
    "  LA BASE DE DATOS ESTÁ DAÑADA: no siga trabajando con estos datos. Qué hacer:",
    "    1. Cierre el programa en esta laptop.",
    "    2. Copie la carpeta de datos completa (arriba) a una memoria USB, como evidencia;",
    "       no la borre.",
    "    3. Restaure la copia de respaldo más reciente en una carpeta nueva:",
    "       siee-campo restore ARCHIVO.sieebak --data CARPETA-NUEVA",
    "       (guía de TI, sección 9) y abra el programa con esa carpeta (--data).",
    "    4. Envíe este diagnóstico a soporte. Lo hecho después de esa copia que ya se",
    "       envió está en el servidor; lo demás hay que volver a registrarlo.",
]


def damaged(db: dict[str, Any]) -> bool:
    """The database section says the file is damaged (not merely busy or unreadable)."""
    err = str(db.get("error") or "").lower()
    check = db.get("integrity_check")
    return (any(w in err for w in ("malformed", "corrupt", "not a database"))
            or (check is not None and check != "ok"))


def _db_error_text(error: str) -> str:
    """The Spanish reading of a database error (the technical text stays, for support)."""
    low = error.lower()
    if "malformed" in low or "corrupt" in low:
        what = "el archivo de la base de datos está dañado"
    elif "not a database" in low:
        what = "el archivo no es una base de datos de SIEE Campo, o está dañado"
    elif "locked" in low or "busy" in low:
        what = ("otro programa tiene la base de datos ocupada; cierre SIEE Campo y repita "
                "el diagnóstico")
    elif "permission" in low or "readonly" in low or "unable to open" in low:
        what = "no se pudo abrir el archivo (permisos o disco)"
    else:
        what = "no se pudo leer la base de datos"
    return f"{what} (detalle técnico: {error})"


def integrity_alarm(report: dict[str, Any]) -> bool:
    """Whether the report shows data altered outside the program (doctor exits 1)."""
    it = report.get("database", {}).get("integrity", {})
    last = it.get("last_check") or {}
    return bool(
        last.get("damaged_count") or last.get("audit_ok") is False
        or it.get("records_without_mac") or it.get("chain_findings")
        or ("audit_head_seq" in it and it["audit_head_seq"] != it["audit_last_seq"])
    )


def _integrity_lines(it: dict[str, Any]) -> list[str]:
    out = []
    last = it.get("last_check")
    if last and not last.get("unreadable"):
        n = int(last.get("damaged_count", 0))
        when = _when(last.get("checked_at"))
        out.append(f"  último control (al iniciar sesión o verificar): {when}")
        if n:
            shown = ", ".join(last.get("damaged_records", [])[:10])
            out.append(f"  ¡{n} ficha(s) con datos alterados fuera del programa! {shown}")
        else:
            out.append("  fichas: ninguna alterada")
        if last.get("audit_ok", True):
            out.append("  bitácora y contadores de acceso: sin alteraciones")
        else:
            why = last.get("audit_problem")
            out.append(f"  ¡bitácora o contadores de acceso alterados! ({why})")
    else:
        out.append("  aún no hay un control con sesión iniciada")
    if "chain_findings" in it:
        out.append("  alteraciones anotadas en la bitácora: "
                   + _pairs(it["chain_findings"], "ninguna"))
    if it.get("records_without_mac"):
        out.append(f"  ¡{it['records_without_mac']} ficha(s) sin sello de integridad!")
    if "audit_head_seq" in it and it["audit_head_seq"] != it["audit_last_seq"]:
        out.append(
            f"  ¡la bitácora termina en el N° {it['audit_last_seq']} pero su sello dice "
            f"N° {it['audit_head_seq']}!"
        )
    return out


def _pairs(d: dict[str, Any], none: str = "ninguno") -> str:
    """`k: v, …` sorted, or `none` (worded to agree with what is counted)."""
    return ", ".join(f"{k}: {v}" for k, v in sorted(d.items())) or none
