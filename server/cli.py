"""siee-server: run the reference server and administer it.

    siee-server serve --db URL --host 127.0.0.1 --port 8080
    siee-server enroll-code --ule 150101
    siee-server devices list | devices revoke DEVICE_ID [--reason TEXT] | devices alerts
    siee-server held list [--json] [--answers]
    siee-server records list | show UUID | return UUID --reason TEXT | result UUID ...
    siee-server forms publish FILE | forms list
    siee-server settings set KEY=VALUE ... [--ule UBIGEO]
    siee-server import-batch FILE [--receipt OUT]
    siee-server export-inbox REQUEST_FILE [--to DIR]
    siee-server export [--out FILE]
    siee-server keys

Every command takes --data DIR (server keys, default SQLite file) and --db URL."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from pathlib import Path
from typing import Any

from app.sync import protocol as p
from app.sync.protocol import ProtocolError
from server.files import read_bounded
from server.settings import Settings, default_data_dir

receipt_filename = p.receipt_filename


def _common() -> argparse.ArgumentParser:
    c = argparse.ArgumentParser(add_help=False)
    c.add_argument("--data", type=Path, default=None,
                   help="server data folder (keys, default SQLite database)")
    c.add_argument("--db", default=None,
                   help="SQLAlchemy URL (sqlite:///file.db or postgresql+psycopg://...)")
    return c


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    ap = argparse.ArgumentParser(prog="siee-server", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", parents=[common], help="run the HTTP server (uvicorn)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080, help="0: any free port")
    s.add_argument("--port-file", type=Path, default=None,
                   help="write the bound port here once listening (useful with --port 0)")
    s.add_argument("--log-level", default="info")
    s.add_argument("--log-format", choices=["json", "text"], default="json",
                   help="log lines as JSON objects (default) or plain text")
    s.add_argument("--workers", type=int, default=1,
                   help="worker processes sharing the socket and the database (PostgreSQL "
                   "for more than one)")
    s.add_argument("--forwarded-allow-ips", default=None,
                   help="addresses of the reverse proxy whose X-Forwarded-For is trusted "
                   "(e.g. 127.0.0.1); the client address counts in the enrollment limit")
    for name in _LIMIT_ARGS:
        s.add_argument("--" + name.replace("_", "-"), type=_LIMIT_TYPES.get(name, int))

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", parents=[common],
                  help="bring the database to this version's schema (Alembic migrations)")
    db.add_parser("status", parents=[common], help="show the database's schema revision")

    e = sub.add_parser("enroll-code", parents=[common], help="create a one-time enrollment code")
    e.add_argument("--ule", required=True, help="ULE ubigeo (6 digits)")
    e.add_argument("--hours", type=int, default=None, help="validity (default 72)")

    d = sub.add_parser("devices", help="list or revoke devices").add_subparsers(
        dest="sub", required=True)
    d.add_parser("list", parents=[common]).add_argument("--json", action="store_true")
    d.add_parser("alerts", parents=[common],
                 help="devices whose audit log went backwards").add_argument(
        "--json", action="store_true")
    dr = d.add_parser("revoke", parents=[common])
    dr.add_argument("device_id")
    dr.add_argument("--reason", default="")

    r = sub.add_parser("records", help="received records").add_subparsers(dest="sub",
                                                                         required=True)
    rl = r.add_parser("list", parents=[common])
    rl.add_argument("--ule")
    rl.add_argument("--status", choices=["received", "returned", "result"])
    rl.add_argument("--json", action="store_true")
    rs = r.add_parser("show", parents=[common])
    rs.add_argument("uuid")
    rs.add_argument("--revision", type=int)
    rr = r.add_parser("return", parents=[common], help="return a record to its device")
    rr.add_argument("uuid")
    rr.add_argument("--revision", type=int)
    rr.add_argument("--reason", action="append", required=True,
                    help="reason in Spanish (repeat for several)")
    rc = r.add_parser("result", parents=[common], help="post a CSE result for a record")
    rc.add_argument("uuid")
    rc.add_argument("--revision", type=int)
    rc.add_argument("--category", required=True, help="pobre_extremo | pobre | no_pobre")
    rc.add_argument("--date", required=True, help="result date YYYY-MM-DD")
    rc.add_argument("--valid-until", required=True, help="end of validity YYYY-MM-DD")

    h = sub.add_parser("held", help="records held: form version not held by the centre")\
        .add_subparsers(dest="sub", required=True)
    hl = h.add_parser("list", parents=[common])
    hl.add_argument("--json", action="store_true")
    hl.add_argument("--answers", action="store_true", help="include the answers (JSON only)")
    f = sub.add_parser("forms", help="published forms").add_subparsers(dest="sub", required=True)
    f.add_parser("publish", parents=[common]).add_argument("file", type=Path)
    f.add_parser("list", parents=[common])

    st = sub.add_parser("settings", help="send settings to devices").add_subparsers(
        dest="sub", required=True)
    ss = st.add_parser("set", parents=[common])
    ss.add_argument("pairs", nargs="+", help="KEY=VALUE (VALUE parsed as JSON when possible)")
    ss.add_argument("--ule")

    i = sub.add_parser("import-batch", parents=[common],
                       help="ingest a USB batch file and write its receipt file")
    i.add_argument("file", type=Path)
    i.add_argument("--receipt", type=Path, default=None,
                   help="receipt file or folder (default: beside the batch file)")

    xi = sub.add_parser("export-inbox", parents=[common],
                        help="answer a laptop's USB inbox request with its inbox file")
    xi.add_argument("request", type=Path, help="siee-inbox-request-DEVICE.json")
    xi.add_argument("--to", type=Path, default=None,
                    help="folder for the inbox file (default: beside the request)")

    x = sub.add_parser("export", parents=[common], help="CSV of received records")
    x.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    x.add_argument("--ule")
    x.add_argument("--no-answers", action="store_true")

    sub.add_parser("keys", parents=[common], help="show the server's public keys")
    return ap


_LIMIT_ARGS = ("max_batch_bytes", "max_records", "rate_per_minute", "timestamp_window",
               "enroll_per_address", "enroll_per_minute", "max_inflight_ingest",
               "max_waiting_ingest", "max_queue_wait", "max_inflight_requests")
_LIMIT_TYPES: dict[str, type] = {"max_queue_wait": float}


def settings_from_args(args: argparse.Namespace) -> Settings:
    data = args.data or default_data_dir()
    kw: dict[str, Any] = {"data_dir": data, "db_url": args.db or ""}
    for name in _LIMIT_ARGS:
        v = getattr(args, name, None)
        if v is not None:
            kw[name] = v
    return Settings(**kw)


def _print_table(rows: list[dict[str, Any]], cols: list[str]) -> None:
    if not rows:
        print("(ninguno)")
        return
    widths = [max(len(c), *(len(str(r.get(c) or "")) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r.get(c) or "").ljust(w) for c, w in zip(cols, widths, strict=True)))


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
    if args.cmd == "db":
        return db_command(settings, args.sub)

    from server.service import Service

    svc = Service(settings)
    try:
        return _dispatch(svc, args)
    finally:
        svc.close()


def _dispatch(svc: Any, args: argparse.Namespace) -> int:
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
        svc.revoke_device(args.device_id, args.reason)
        print(f"Equipo {args.device_id} dado de baja.")
    elif cmd == "devices" and sub == "alerts":
        return _print_alerts(svc.audit_alerts(), args.json)
    elif cmd == "held" and sub == "list":
        return _print_held(svc.held_records(args.answers), args.json)
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
    elif cmd == "import-batch":
        return import_batch(svc, args.file, args.receipt)
    elif cmd == "export-inbox":
        return export_inbox(svc, args.request, args.to)
    elif cmd == "export":
        if args.out:
            with open(args.out, "w", newline="", encoding="utf-8") as fh:
                n = svc.export_csv(fh, args.ule, not args.no_answers)
            print(f"{n} registros exportados a {args.out}.", file=sys.stderr)
        else:
            svc.export_csv(sys.stdout, args.ule, not args.no_answers)
    elif cmd == "keys":
        print(f"signing (Ed25519):    {svc.keys.signing_public}  "
              f"[{p.key_fingerprint(svc.keys.signing_public)}]")
        print(f"encryption (X25519):  {svc.keys.encryption_public}  "
              f"[{p.key_fingerprint(svc.keys.encryption_public)}]")
    else:  # pragma: no cover - argparse prevents it
        return 2
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
    """`siee-server db upgrade|status`."""
    from server import db

    if sub == "status":
        engine = db._create_engine(settings.db_url)
        try:
            with engine.connect() as c:
                rev = db.current_revision(c)
        finally:
            engine.dispose()
        head = db.head_revision()
        print(f"Esquema de la base de datos: {rev or 'vacía'}; versión del programa: {head}.")
        return 0 if rev == head else 3
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
    from server.app import SETTINGS_ENV, create_app
    from server.service import Service

    observe.setup_logging(log_level, log_format)
    service = Service(settings)  # raises SchemaOutdated before anything listens
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
    logging.getLogger("siee.server").info(
        "SIEE server (protocol v%d) on %s:%d, %d worker(s), data %s, db %s",
        p.PROTOCOL_VERSION, host, bound, workers, settings.data_dir,
        make_url(settings.db_url).render_as_string(hide_password=True))
    proxy = {"proxy_headers": bool(forwarded_allow_ips),
             "forwarded_allow_ips": forwarded_allow_ips}
    if workers <= 1:
        service.validator.warm_up()  # the engine and bundled forms load now, not on batch one
        app = create_app(settings, service)
        # What start-up built (modules, compiled form versions) lives as long as the
        # process: out of the collector's full passes, which otherwise re-walk it for
        # every few hundred records checked.
        gc.freeze()
        config = uvicorn.Config(app, log_level=log_level,
                                access_log=False, server_header=False, log_config=None,
                                **proxy)
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
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("server.app:app_from_env", factory=True, workers=workers,
                            log_level=log_level, access_log=False, server_header=False,
                            log_config=None, **proxy)
    sock.listen(2048)
    if port_file is not None:
        _write(port_file, str(bound).encode())  # workers accept once ready; health waits
    Multiprocess(config, sockets=[sock]).run()
    return 0


LOG_ENV = "SIEE_SERVER_LOG"


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
    except ProtocolError as exc:
        print(exc.message, file=sys.stderr)
        logging.getLogger("siee.server").debug("error %s: %s", exc.code, exc.detail)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
