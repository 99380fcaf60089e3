"""siee-server: run the reference server and administer it.

    siee-server serve --db URL --host 127.0.0.1 --port 8080
    siee-server enroll-code --ule 150101
    siee-server devices list | devices revoke DEVICE_ID [--reason TEXT] | devices alerts
    siee-server held list [--json] [--answers] | held release UUID [--revision N] | --all
    siee-server records list | show UUID | return UUID --reason TEXT | result UUID ...
    siee-server forms publish FILE | forms list
    siee-server settings set KEY=VALUE ... [--ule UBIGEO]
    siee-server import-batch FILE [--receipt OUT]
    siee-server export-inbox REQUEST_FILE [--to DIR]
    siee-server export [--out FILE]
    siee-server keys

Every command takes --data DIR (server keys, default SQLite file) and --db URL; without
them, the environment variables SIEE_SERVER_DATA and SIEE_DB (so a password stays off
the command line, /proc/PID/cmdline). An empty value is refused (server.startup)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from app.core.cli_spanish import SpanishArgumentParser
from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server.files import read_bounded
from server.settings import Settings, default_data_dir
from server.startup import (
    KeyState,
    StartupRefused,
    check_data_key,
    created_keys_notice,
    data_dir_from,
    database_error,
    db_url_from,
    key_state,
    new_sqlite_notice,
    sqlite_file_of,
)

receipt_filename = p.receipt_filename


def _common() -> argparse.ArgumentParser:
    c = SpanishArgumentParser(add_help=False)
    c.add_argument("--data", metavar="CARPETA", default=None,
                   help="carpeta de datos del servidor (claves; base SQLite si no hay otra). "
                   "Sin esta opción: la variable de entorno SIEE_SERVER_DATA")
    c.add_argument("--db", metavar="URL", default=None,
                   help="base de datos (postgresql+psycopg://USUARIO:CLAVE@HOST/BASE o "
                   "sqlite:///archivo.db). Sin esta opción: la variable de entorno SIEE_DB "
                   "(así la clave no queda en la línea de órdenes); sin ninguna de las dos, "
                   "un archivo SQLite en la carpeta de datos (solo pruebas)")
    return c


# Spanish help of the limit options of `serve` (server/settings.py holds their defaults).
_LIMIT_HELP = {
    "max_batch_bytes": "tamaño máximo de un lote (bytes)",
    "max_records": "fichas por lote como máximo",
    "rate_per_minute": "solicitudes por minuto de un equipo",
    "timestamp_window": "diferencia de hora aceptada en una firma (segundos)",
    "enroll_per_address": "intentos de inscripción por minuto desde una dirección",
    "enroll_per_minute": "intentos de inscripción por minuto en total",
    "max_inflight_ingest": "lotes procesándose a la vez",
    "max_waiting_ingest": "lotes esperando turno",
    "max_queue_wait": "segundos de espera en la cola antes de responder «ocupado»",
    "max_inflight_requests": "solicitudes atendiéndose a la vez",
}


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    ap = SpanishArgumentParser(
        prog="siee-server",
        description="Servidor de referencia del SIEE: atender a las laptops y administrarlo.")
    sub = ap.add_subparsers(dest="cmd", required=True, title="órdenes", metavar="ORDEN")

    s = sub.add_parser("serve", parents=[common], help="atender a las laptops (HTTP, uvicorn)")
    s.add_argument("--host", metavar="DIRECCIÓN", default="127.0.0.1",
                   help="dirección donde escuchar (por defecto: %(default)s)")
    s.add_argument("--port", metavar="PUERTO", type=int, default=8080,
                   help="puerto (por defecto: %(default)s; 0: cualquiera libre)")
    s.add_argument("--port-file", metavar="ARCHIVO", type=Path, default=None,
                   help="escribir aquí el puerto elegido cuando ya escucha (útil con --port 0)")
    s.add_argument("--log-level", metavar="NIVEL", default="info",
                   help="detalle del registro: debug, info, warning, error")
    s.add_argument("--log-format", metavar="FORMATO", choices=["json", "text"], default="json",
                   help="registro en JSON (por defecto) o texto: json, text")
    s.add_argument("--workers", metavar="N", type=int, default=1,
                   help="procesos que comparten el puerto y la base (más de uno: PostgreSQL)")
    s.add_argument("--forwarded-allow-ips", metavar="DIRECCIONES", default=None,
                   help="direcciones del proxy inverso cuyo X-Forwarded-For se acepta "
                   "(p. ej. 127.0.0.1); esa dirección cuenta en el límite de inscripciones")
    for name in _LIMIT_ARGS:
        s.add_argument("--" + name.replace("_", "-"), metavar="N",
                       type=_LIMIT_TYPES.get(name, int), help=_LIMIT_HELP.get(name))

    db = sub.add_parser("db", help="esquema de la base de datos").add_subparsers(
        dest="sub", required=True, metavar="ORDEN")
    db.add_parser("upgrade", parents=[common],
                  help="llevar la base al esquema de esta versión (migraciones Alembic)")
    db.add_parser("status", parents=[common], help="mostrar la versión del esquema de la base")

    e = sub.add_parser("enroll-code", parents=[common],
                       help="crear un código de inscripción de un solo uso")
    e.add_argument("--ule", metavar="UBIGEO", required=True,
                   help="ubigeo INEI de la ULE (6 dígitos)")
    e.add_argument("--hours", metavar="HORAS", type=int, default=None,
                   help="validez en horas (por defecto 72)")

    d = sub.add_parser("devices", help="listar o dar de baja equipos").add_subparsers(
        dest="sub", required=True, metavar="ORDEN")
    d.add_parser("list", parents=[common], help="listar los equipos inscritos").add_argument(
        "--json", action="store_true", help="en JSON")
    d.add_parser("alerts", parents=[common],
                 help="equipos cuya bitácora de auditoría retrocedió").add_argument(
        "--json", action="store_true", help="en JSON")
    dr = d.add_parser("revoke", parents=[common], help="dar de baja un equipo")
    dr.add_argument("device_id", metavar="EQUIPO",
                    help="identificador (dev-…, como en «list»; sin importar mayúsculas)")
    dr.add_argument("--reason", metavar="MOTIVO", default="", help="motivo (p. ej. laptop robada)")

    r = sub.add_parser("records", help="fichas recibidas").add_subparsers(
        dest="sub", required=True, metavar="ORDEN")
    rl = r.add_parser("list", parents=[common], help="listar las fichas recibidas")
    rl.add_argument("--ule", metavar="UBIGEO", help="solo las de esta ULE")
    rl.add_argument("--status", metavar="ESTADO", choices=["received", "returned", "result"],
                    help="solo las de este estado: «received» (recibidas), «returned» "
                    "(observadas), «result» (con resultado)")
    rl.add_argument("--json", action="store_true", help="en JSON")
    rs = r.add_parser("show", parents=[common], help="mostrar una ficha")
    rs.add_argument("uuid", metavar="UUID")
    rs.add_argument("--revision", metavar="N", type=int, help="revisión (por defecto: la última)")
    rr = r.add_parser("return", parents=[common], help="observar una ficha (vuelve a su equipo)")
    rr.add_argument("uuid", metavar="UUID")
    rr.add_argument("--revision", metavar="N", type=int, help="revisión (por defecto: la última)")
    rr.add_argument("--reason", metavar="MOTIVO", action="append", required=True,
                    help="motivo en castellano (repítalo para varios)")
    rc = r.add_parser("result", parents=[common],
                      help="publicar el resultado de la CSE de una ficha")
    rc.add_argument("uuid", metavar="UUID")
    rc.add_argument("--revision", metavar="N", type=int, help="revisión (por defecto: la última)")
    rc.add_argument("--category", metavar="CATEGORÍA", required=True,
                    help="pobre_extremo | pobre | no_pobre")
    rc.add_argument("--date", metavar="FECHA", required=True, help="fecha del resultado AAAA-MM-DD")
    rc.add_argument("--valid-until", metavar="FECHA", required=True,
                    help="fin de la vigencia AAAA-MM-DD")

    ca = sub.add_parser("cases", help="expedientes: una solicitud y sus fichas"
                        ).add_subparsers(dest="sub", required=True, metavar="ORDEN")
    cl = ca.add_parser("list", parents=[common], help="listar los expedientes")
    cl.add_argument("--ule", metavar="UBIGEO", help="solo los de esta ULE")
    cl.add_argument("--state", choices=["abierto", "desestimado"], help="solo en este estado")
    cl.add_argument("--json", action="store_true", help="en JSON")
    cr = ca.add_parser("return", parents=[common],
                       help="observar (devolver) las fichas recibidas de un expediente")
    cr.add_argument("case_uuid", metavar="EXPEDIENTE")
    cr.add_argument("--reason", metavar="MOTIVO", action="append", required=True,
                    help="motivo en castellano (repítalo para varios)")
    cc = ca.add_parser("result", parents=[common],
                       help="publicar el resultado de la CSE de un expediente")
    cc.add_argument("case_uuid", metavar="EXPEDIENTE")
    cc.add_argument("--category", metavar="CATEGORÍA", required=True,
                    help="pobre_extremo | pobre | no_pobre")
    cc.add_argument("--date", metavar="FECHA", required=True, help="fecha del resultado AAAA-MM-DD")
    cc.add_argument("--valid-until", metavar="FECHA", required=True,
                    help="fin de la vigencia AAAA-MM-DD")

    h = sub.add_parser("held",
                       help="fichas retenidas: versión de formulario que el centro no tiene"
                       ).add_subparsers(dest="sub", required=True, metavar="ORDEN")
    hl = h.add_parser("list", parents=[common], help="listar las fichas retenidas")
    hl.add_argument("--json", action="store_true", help="en JSON")
    hl.add_argument("--answers", action="store_true", help="con las respuestas (solo JSON)")
    hr = h.add_parser("release", parents=[common],
                      help="registrar fichas retenidas cuya versión de formulario ya se "
                      "publicó (se revisan de nuevo)")
    hr.add_argument("uuid", metavar="UUID", nargs="?", help="la ficha retenida")
    hr.add_argument("--revision", type=int, default=None,
                    help="su revisión (por defecto la más reciente retenida)")
    hr.add_argument("--all", action="store_true",
                    help="todas las retenidas (las que aún no se pueden revisar siguen "
                    "retenidas)")
    hr.add_argument("--json", action="store_true", help="en JSON")

    f = sub.add_parser("forms", help="formularios publicados").add_subparsers(
        dest="sub", required=True, metavar="ORDEN")
    f.add_parser("publish", parents=[common], help="publicar un formulario (XLSForm)").add_argument(
        "file", metavar="ARCHIVO", type=Path)
    f.add_parser("list", parents=[common], help="listar los formularios publicados")

    st = sub.add_parser("settings", help="enviar configuración a los equipos").add_subparsers(
        dest="sub", required=True, metavar="ORDEN")
    ss = st.add_parser("set", parents=[common], help="enviar opciones a los equipos")
    ss.add_argument("pairs", metavar="CLAVE=VALOR", nargs="+",
                    help="opción y valor (el valor se lee como JSON si se puede)")
    ss.add_argument("--ule", metavar="UBIGEO", help="solo a los equipos de esta ULE")

    i = sub.add_parser("import-batch", parents=[common],
                       help="recibir un archivo de lote traído en USB y escribir su recibo")
    i.add_argument("file", metavar="ARCHIVO", type=Path)
    i.add_argument("--receipt", metavar="DESTINO", type=Path, default=None,
                   help="archivo o carpeta del recibo (por defecto: junto al lote)")

    xi = sub.add_parser("export-inbox", parents=[common],
                        help="responder la solicitud de novedades (USB) de una laptop")
    xi.add_argument("request", metavar="SOLICITUD", type=Path,
                    help="siee-inbox-request-EQUIPO.json")
    xi.add_argument("--to", metavar="CARPETA", type=Path, default=None,
                    help="carpeta del archivo de novedades (por defecto: junto a la solicitud)")

    x = sub.add_parser("export", parents=[common], help="CSV de las fichas recibidas")
    x.add_argument("--out", metavar="ARCHIVO", type=Path, default=None,
                   help="archivo (por defecto: la salida estándar)")
    x.add_argument("--ule", metavar="UBIGEO", help="solo las de esta ULE")
    x.add_argument("--no-answers", action="store_true", help="sin las respuestas")
    x.add_argument("--cases", action="store_true", help="una fila por expediente (hogar)")

    k = sub.add_parser("keys", parents=[common], help="mostrar las claves públicas del servidor")
    k.add_argument("--data-key-env", action="store_true",
                   help="imprimir la línea SIEE_SERVER_DATA_KEY=... con la clave de datos "
                   "(para el archivo de variables del servicio o un gestor de secretos)")
    return ap


_LIMIT_ARGS = ("max_batch_bytes", "max_records", "rate_per_minute", "timestamp_window",
               "enroll_per_address", "enroll_per_minute", "max_inflight_ingest",
               "max_waiting_ingest", "max_queue_wait", "max_inflight_requests")
_LIMIT_TYPES: dict[str, type] = {"max_queue_wait": float}


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The command's settings: --data/--db, else SIEE_SERVER_DATA/SIEE_DB, else the
    service user's folder and a SQLite file in it. Raises StartupRefused for an empty
    --db/--data or variable."""
    data = data_dir_from(args.data) or default_data_dir()
    kw: dict[str, Any] = {"data_dir": data, "db_url": db_url_from(args.db)}
    for name in _LIMIT_ARGS:
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    return Settings(**kw)


# Column headers and values of the text tables as IT reads them (--json keeps the
# field names and values of the API).
HEADERS = {
    "device_id": "equipo", "ule_ubigeo": "ULE", "status": "estado", "label": "nombre",
    "enrolled_at": "inscrito el", "last_seen_at": "último contacto", "uuid": "ficha",
    "revision": "revisión", "form_id": "formulario", "received_at": "recibida el",
    "result_category": "resultado CSE", "case_uuid": "expediente", "state": "estado",
    "records": "fichas", "forms": "formularios", "version": "versión",
    "published_at": "publicado el", "sha256": "sha256",
}
VALUES = {
    "status": {"active": "activo", "revoked": "dado de baja", "received": "recibida",
               "returned": "observada", "result": "con resultado"},
}


def _print_table(rows: list[dict[str, Any]], cols: list[str], empty: str = "(ninguno)") -> None:
    """`rows` as a text table of `cols`, Spanish headers and values; `empty` when none."""
    if not rows:
        print(empty)
        return

    def cell(r: dict[str, Any], c: str) -> str:
        v = str(r.get(c) or "")
        return VALUES.get(c, {}).get(v, v)

    heads = [HEADERS.get(c, c) for c in cols]
    widths = [max(len(h), *(len(cell(r, c)) for r in rows)) for c, h in zip(cols, heads,
                                                                            strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for r in rows:
        print("  ".join(cell(r, c).ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip())


def _parse_value(v: str) -> Any:
    try:
        return json.loads(v)
    except ValueError:
        return v


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.cmd == "serve":
        return serve(settings, args.host, args.port, args.log_level, args.port_file,
                     workers=args.workers, log_format=args.log_format,
                     forwarded_allow_ips=args.forwarded_allow_ips)
    before = key_state(settings.data_dir)
    db_file = sqlite_file_of(settings.db_url)
    db_existed = db_file is not None and db_file.exists()
    try:
        if args.cmd == "db":
            return db_command(settings, args.sub)
        svc = open_service(settings)
        try:
            return _dispatch(svc, args, before)
        finally:
            svc.close()
    finally:
        for notice in (created_keys_notice(before), new_sqlite_notice(db_file, db_existed)):
            if notice:
                print(notice, file=sys.stderr)


def preflight(settings: Settings) -> None:
    """Before a command opens the service: the database answers and the data key opens
    what it holds sealed (server.startup.check_data_key). Creates nothing (not even the
    SQLite file's tables); raises StartupRefused."""
    from sqlalchemy.exc import SQLAlchemyError

    from server import db

    try:
        engine = db._create_engine(settings.db_url)
    except Exception as exc:  # a URL SQLAlchemy cannot parse, an unknown driver
        raise database_error(settings.db_url, exc) from exc
    try:
        check_data_key(engine, settings.data_dir)
    except SQLAlchemyError as exc:
        raise database_error(settings.db_url, exc) from exc
    finally:
        engine.dispose()


def open_service(settings: Settings) -> Any:
    """server.service.Service on `settings` after the preflight; a database error while
    preparing the schema is a StartupRefused too."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.service import Service

    preflight(settings)
    try:
        return Service(settings)
    except SQLAlchemyError as exc:
        raise database_error(settings.db_url, exc) from exc


def _dispatch(svc: Any, args: argparse.Namespace, before: KeyState) -> int:
    cmd, sub = args.cmd, getattr(args, "sub", None)
    if cmd == "enroll-code":
        code, expires = svc.create_enroll_code(args.ule, args.hours)
        print(code)
        print(f"ULE {args.ule}; vence {expires}", file=sys.stderr)
    elif cmd == "devices" and sub == "list":
        rows = svc.list_devices()
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        else:
            _print_table(rows, ["device_id", "ule_ubigeo", "status", "label", "enrolled_at",
                                "last_seen_at"])
    elif cmd == "devices" and sub == "revoke":
        device_id = svc.revoke_device(args.device_id, args.reason)
        print(f"Equipo {device_id} dado de baja.")
    elif cmd == "devices" and sub == "alerts":
        return _print_alerts(svc.audit_alerts(), args.json)
    elif cmd == "held" and sub == "list":
        return _print_held(svc.held_records(args.answers), args.json)
    elif cmd == "held" and sub == "release":
        return _release_held(svc, args)
    elif cmd == "records" and sub == "list":
        rows = svc.list_records(args.ule, args.status)
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        else:
            _print_table(rows, ["uuid", "revision", "form_id", "ule_ubigeo", "device_id",
                                "status", "received_at", "result_category"])
    elif cmd == "records" and sub == "show":
        print(json.dumps(svc.get_record(args.uuid, args.revision), indent=1,
                         ensure_ascii=False))
    elif cmd == "records" and sub == "return":
        svc.return_record(args.uuid, args.revision, args.reason)
        print(f"Registro {args.uuid} devuelto.")
    elif cmd == "records" and sub == "result":
        svc.post_result(args.uuid, args.revision, args.category, args.date, args.valid_until)
        print(f"Resultado registrado para {args.uuid}.")
    elif cmd == "cases" and sub == "list":
        rows = svc.cases.list(args.ule, args.state)
        if args.json:
            print(json.dumps(rows, indent=1, ensure_ascii=False))
        else:
            _print_table(rows, ["case_uuid", "ule_ubigeo", "state", "records", "forms",
                                "result_category"])
    elif cmd == "cases" and sub == "return":
        n = len(svc.cases.return_case(args.case_uuid, args.reason))
        print(f"Expediente {args.case_uuid}: {n} registro(s) devuelto(s).")
    elif cmd == "cases" and sub == "result":
        svc.cases.post_result(args.case_uuid, args.category, args.date, args.valid_until)
        print(f"Resultado registrado para el expediente {args.case_uuid}.")
    elif cmd == "forms" and sub == "publish":
        info = svc.publish_form(args.file)
        print(f"Publicado {info['form_id']} versión {info['version']} "
              f"({info['devices']} equipos avisados).")
    elif cmd == "forms" and sub == "list":
        _print_table(svc.list_forms(), ["form_id", "version", "published_at", "sha256"])
    elif cmd == "settings" and sub == "set":
        values = {}
        for pair in args.pairs:
            if "=" not in pair:
                print(f"Use CLAVE=VALOR: {pair}", file=sys.stderr)
                return 2
            k, v = pair.split("=", 1)
            values[k.strip()] = _parse_value(v)
        n = svc.set_settings(values, args.ule)
        print(f"Configuración enviada a {n} equipos.")
        # the server cannot know a laptop's IT file: say what a locked laptop does
        print("Una laptop donde TI fijó alguna de estas opciones (siee-campo.toml, «locked») "
              "no la cambia: conserva el valor de TI y lo anota al sincronizar (resultado de "
              "la sincronización, «siee-campo sync log» y «siee-campo doctor»).")
    elif cmd == "import-batch":
        return import_batch(svc, args.file, args.receipt)
    elif cmd == "export-inbox":
        return export_inbox(svc, args.request, args.to)
    elif cmd == "export" and getattr(args, "cases", False):
        if args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as fh:
                n = svc.cases.export_csv(fh, args.ule)
            print(f"{n} expedientes exportados a {args.out}.", file=sys.stderr)
        else:
            svc.cases.export_csv(sys.stdout, args.ule)
    elif cmd == "export":
        if args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as fh:
                n = svc.export_csv(fh, args.ule, not args.no_answers)
            print(f"{n} registros exportados a {args.out}.", file=sys.stderr)
        else:
            svc.export_csv(sys.stdout, args.ule, not args.no_answers)
    elif cmd == "keys" and args.data_key_env:
        return _print_data_key(svc, before)
    elif cmd == "keys":
        if before.missing():
            print(f"Claves RECIÉN CREADAS en {svc.settings.data_dir} "
                  f"({', '.join(before.missing())}; esa carpeta no las tenía): si el "
                  "servidor ya tenía las suyas, esta no es su carpeta.")
        signing = p.key_fingerprint(svc.keys.signing_public)
        print(f"firma (Ed25519):    {svc.keys.signing_public}  [{signing}]")
        print(f"cifrado (X25519):   {svc.keys.encryption_public}  "
              f"[{p.key_fingerprint(svc.keys.encryption_public)}]")
        # the laptop shows only this short value, in these words (app/cli/sync.py and the
        # window's enrollment): the one IT compares
        print(f"Huella de la clave del servidor: {signing} (la que muestra cada laptop al "
              "inscribirse; compárelas)")
    else:  # pragma: no cover - argparse prevents it
        return 2
    return 0


def _print_data_key(svc: Any, before: KeyState) -> int:
    """`keys --data-key-env`: the line to put in server.env for SIEE_SERVER_DATA_KEY."""
    import base64

    from server.sealing import load_data_key

    text = base64.urlsafe_b64encode(load_data_key(svc.settings.data_dir)).decode().rstrip("=")
    print(f"SIEE_SERVER_DATA_KEY={text}")
    source = ("de la variable SIEE_SERVER_DATA_KEY" if before.data_key_env
              else f"del archivo {svc.settings.data_dir / 'server_data.key'}")
    print(f"Clave de datos {source}. Guarde esa línea en /etc/siee/server.env (root:siee "
          "0640) o en su gestor de secretos, y en la copia cifrada de las claves; no la "
          "pegue en la línea de órdenes ni en un ticket.", file=sys.stderr)
    return 0


def _print_alerts(rows: list[dict[str, Any]], as_json: bool) -> int:
    """`devices alerts`: exit 0 when no device has an alert, 1 otherwise (for scripts)."""
    if as_json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 1 if rows else 0
    if not rows:
        print("Ningún equipo tiene alertas de bitácora.")
        return 0
    print(f"{len(rows)} equipo(s) con alertas de bitácora (su registro de auditoría volvió "
          "atrás: datos borrados o una copia antigua restaurada). Revise esos equipos "
          "antes de confiar en lo que envían:")
    for r in rows:
        print(f"- {r['device_id']}: {r['alerts']} alerta(s); última el {r['last_alert_at']}: "
              f"{r['last_alert_es']}.")
    return 1


def _release_held(svc: Any, args: argparse.Namespace) -> int:
    """`held release UUID | --all`: store held records whose form version is now known.
    Exit 0 when every one asked for was stored, 1 when some stay held."""
    import getpass

    by = getpass.getuser()
    if args.all == bool(args.uuid):
        print("Indique una ficha (UUID) o --all, no ambos.", file=sys.stderr)
        return 2
    if args.all:
        results = svc.release_all_held(by)
    else:
        results = [svc.release_held(args.uuid, args.revision, by)]
    if args.json:
        print(json.dumps(results, indent=1, ensure_ascii=False))
    elif not results:
        print("No hay fichas retenidas.")
    for r in results if not args.json else ():
        what = f"{r['uuid']} (revisión {r['revision']})"
        if r["status"] == "accepted":
            print(f"Ficha {what} registrada.")
        elif r["status"] == "duplicate":
            print(f"Ficha {what}: la sede central ya la tenía; se quitó de las retenidas.")
        else:
            print(f"Ficha {what} sigue retenida: {r['message']}")
    return 1 if any(r["status"] == "held" for r in results) else 0


def _print_held(rows: list[dict[str, Any]], as_json: bool) -> int:
    """`held list`: records whose form version the centre must publish."""
    if as_json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    if not rows:
        print("No hay fichas retenidas.")
        return 0
    versions = sorted({(r["form_id"], r["form_version"]) for r in rows})
    print(f"{len(rows)} ficha(s) retenida(s): la sede central no tiene su versión del "
          "formulario. Publique la versión con «siee-server forms publish ARCHIVO.xlsx»: "
          + ", ".join(f"{f} {v}" for f, v in versions) + ".")
    _print_table(rows, ["uuid", "revision", "form_id", "form_version", "ule_ubigeo",
                        "device_id", "held_at"])
    return 0


def import_batch(svc: Any, file: Path, receipt: Path | None) -> int:
    """Ingest a USB batch file exactly as an upload, write the receipt file; then answer
    every inbox request file found beside the batch file (inbox file beside the receipt)."""
    if receipt is None:
        out_dir = file.parent
    elif receipt.is_dir():
        out_dir = receipt
    else:
        out_dir = receipt.parent
    rc = 0
    try:
        rc = _ingest_file(svc, file, receipt)
    except ProtocolError as exc:
        print(exc.message, file=sys.stderr)
        logging.getLogger("siee.server").debug("error %s: %s", exc.code, exc.detail)
        rc = 1
    for request in sorted(file.parent.glob(p.INBOX_REQUEST_PREFIX + "*.json")):
        rc = max(rc, export_inbox(svc, request, out_dir))
    return rc


def _ingest_file(svc: Any, file: Path, receipt: Path | None) -> int:
    try:
        data = read_bounded(file, svc.settings.max_batch_bytes, "batch")
    except OSError:
        print(f"No se pudo leer el archivo {file}.", file=sys.stderr)
        return 1
    env = p.parse_envelope(data, svc.settings.max_batch_bytes)
    rbytes = svc.ingest(data, source="usb")
    if receipt is None:
        out = file.parent / receipt_filename(env.batch_id)
    elif receipt.is_dir():
        out = receipt / receipt_filename(env.batch_id)
    else:
        out = receipt
    _write(out, rbytes)
    counts = json.loads(rbytes)["receipt"]["counts"]
    print(f"Lote {env.batch_id}: {counts['accepted']} aceptados, {counts['duplicate']} "
          f"duplicados, {counts['invalid']} inválidos, {counts['conflict']} en conflicto.")
    print(f"Recibo: {out}")
    return 0


def export_inbox(svc: Any, request: Path, to: Path | None = None) -> int:
    """Answer a laptop's USB inbox request file: write its inbox file (the signed
    messages after the laptop's cursor) into `to` (default: beside the request)."""
    try:
        data = read_bounded(request, svc.settings.max_json_bytes, "inbox request")
    except OSError:
        print(f"No se pudo leer la solicitud de novedades {request}.", file=sys.stderr)
        return 1
    except ProtocolError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    try:
        req, inbox, n = svc.usb_inbox(data)
    except ProtocolError as exc:
        print(f"{request.name}: {exc.message}", file=sys.stderr)
        logging.getLogger("siee.server").debug("error %s: %s", exc.code, exc.detail)
        return 1
    folder = request.parent if to is None else to
    if not folder.is_dir():
        print(f"La carpeta {folder} no existe.", file=sys.stderr)
        return 1
    out = folder / p.inbox_filename(req.device_id, req.after)
    try:
        _write(out, inbox)
    except OSError as exc:
        print(f"No se pudo escribir {out}: {exc.strerror}.", file=sys.stderr)
        return 1
    print(f"Novedades para el equipo {req.device_id}: {n} mensaje(s).")
    print(f"Archivo de novedades: {out}")
    return 0


def _write(out: Path, data: bytes) -> None:
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)


def db_command(settings: Settings, sub: str) -> int:
    """`siee-server db upgrade|status`; database errors become StartupRefused."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _db_command(settings, sub)
    except SQLAlchemyError as exc:
        raise database_error(settings.db_url, exc) from exc


def database_in_use(url: str) -> str:
    """Which database `url` names, as `db status` shows it to an administrator (to check
    a restore test is not on the production database): "NAME (servidor HOST:PORT,
    usuario USER)" for a server database, the file for SQLite; never the password."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # an unparsable URL: the connection below says what is wrong
        return "(URL no válida)"
    if u.get_backend_name() == "sqlite":
        return f"{u.database} (archivo SQLite)"
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    return f"{u.database} (servidor {where}, usuario {u.username or '—'})"


def _db_command(settings: Settings, sub: str) -> int:
    from server import db

    if sub == "status":
        print(f"Base de datos en uso: {database_in_use(settings.db_url)}")
        engine = db._create_engine(settings.db_url)
        try:
            with engine.connect() as c:
                rev = db.current_revision(c)
        finally:
            engine.dispose()
        head = db.head_revision()
        print(f"Esquema de la base de datos: {rev or 'vacía'}; versión del programa: {head}.")
        return 0 if rev == head else 3
    preflight(settings)  # a wrong data key must not seal old values with it
    before, after = db.upgrade(settings.db_url)
    if before == after:
        print(f"La base de datos ya está en la versión {after}.")
    else:
        print(f"Base de datos actualizada: {before or 'vacía'} -> {after}.")
    from server.sealing import Sealer, load_data_key, seal_existing

    engine = db._create_engine(settings.db_url)
    try:
        n = seal_existing(engine, Sealer(load_data_key(settings.data_dir)))
    finally:
        engine.dispose()
    if n:
        print(f"{n} valores guardados antes sin cifrar quedaron cifrados.")
    return 0


def serve(settings: Settings, host: str, port: int, log_level: str = "info",
          port_file: Path | None = None, workers: int = 1, log_format: str = "json",
          forwarded_allow_ips: str | None = None) -> int:
    """Run the HTTP server on host:port: one process, or `workers` processes sharing the
    listening socket (uvicorn's supervisor) and the database. The database is prepared
    (created or checked) once, here, before any worker starts."""
    import os
    import shutil
    import socket

    import uvicorn
    from sqlalchemy.engine import make_url

    from server import observe
    from server.app import SETTINGS_ENV, WORKERS_ENV, serving_app

    observe.setup_logging(log_level, log_format)
    log = logging.getLogger("siee.server")
    keys_before = key_state(settings.data_dir)
    db_file = sqlite_file_of(settings.db_url)
    db_existed = db_file is not None and db_file.exists()
    try:
        service = open_service(settings)  # SchemaOutdated, StartupRefused: nothing listens
    except (StartupRefused, ProtocolError) as exc:
        # One JSON line (`journalctl -o cat | jq .` reads it): English in `message`, the
        # administrator's Spanish in `mensaje`.
        log.error("server not started: %s", exc.detail,
                  extra={"code": exc.code, "mensaje": exc.message})
        return 1
    notice = created_keys_notice(keys_before)
    if notice:
        log.warning("new server keys created in %s", settings.data_dir,
                    extra={"code": "new_keys", "mensaje": notice})
    notice = new_sqlite_notice(db_file, db_existed)
    if notice:
        log.warning("new SQLite database created at %s", db_file,
                    extra={"code": "new_sqlite_db", "mensaje": notice})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        service.close()
        print(f"No se pudo usar el puerto {port} en {host}: {exc.strerror}.", file=sys.stderr)
        return 1
    bound = sock.getsockname()[1]
    log.info(
        "SIEE server (protocol v%d) on %s:%d, %d worker(s), data %s, db %s",
        p.PROTOCOL_VERSION, host, bound, workers, settings.data_dir,
        make_url(settings.db_url).render_as_string(hide_password=True))
    proxy = {"proxy_headers": bool(forwarded_allow_ips),
             "forwarded_allow_ips": forwarded_allow_ips}
    if workers <= 1:
        app = serving_app(settings, service)
        config = uvicorn.Config(app, log_level=log_level,
                                access_log=False, server_header=False, log_config=None,
                                timeout_keep_alive=KEEP_ALIVE_S, **proxy)
        server = uvicorn.Server(config)
        if port_file is not None:
            _write_port_when_started(server, port_file, bound)
        server.run(sockets=[sock])
        return 0
    service.close()
    metrics_dir = settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700)
    os.environ[observe.MULTIPROC_ENV] = str(metrics_dir)
    os.environ[SETTINGS_ENV] = settings.to_env()
    os.environ[LOG_ENV] = f"{log_level}:{log_format}"
    os.environ[WORKERS_ENV] = str(workers)
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("server.app:app_from_env", factory=True, workers=workers,
                            log_level=log_level, access_log=False, server_header=False,
                            log_config=None, timeout_keep_alive=KEEP_ALIVE_S, **proxy)
    sock.listen(2048)
    if port_file is not None:
        _write(port_file, str(bound).encode())  # workers accept once ready; health waits
    Multiprocess(config, sockets=[sock]).run()
    return 0


LOG_ENV = "SIEE_SERVER_LOG"
# Idle keep-alive connections stay open this long (uvicorn's default is 5 s): longer than
# any Retry-After a busy server sends (server.backpressure: at most 10 s), so a laptop that
# waited as told sends again on its open connection instead of racing the server's close
# of it (a reset the client takes for a broken link, and resends). nginx's own default.
KEEP_ALIVE_S = 75


def _write_port_when_started(server: Any, port_file: Path, port: int) -> None:
    import threading
    import time

    def wait() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.02)
        if server.started:
            _write(port_file, str(port).encode())

    threading.Thread(target=wait, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except StartupRefused as exc:
        print(exc.message, file=sys.stderr)
        return 2 if exc.code.startswith("empty_") else 1
    except ProtocolError as exc:
        print(exc.message, file=sys.stderr)
        logging.getLogger("siee.server").debug("error %s: %s", exc.code, exc.detail)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
