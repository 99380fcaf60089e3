"""`sync` commands: enroll, now, status, log, export-batch, import-receipt, import-inbox,
watch.

The main CLI registers them with `register(subparsers)`. The user and password
come from SIEE_USER / SIEE_PASSWORD or are asked for (as every other command)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from app.cli.common import command_for, open_workspace
from app.core.cli_spanish import SpanishArgumentParser
from app.core.errors import SieeError
from app.paths import default_data_dir
from app.sync.client import InboxImport
from app.sync.model import (
    PREVIOUS_ENROLLMENT,
    NotEnrolled,
    SyncError,
    describe_outcome,
    previous_enrollment_sync,
)
from app.sync.protocol import key_fingerprint
from app.sync.scheduler import SchedulePolicy, SyncScheduler
from app.workspace import Workspace


def register(subparsers: Any) -> argparse.ArgumentParser:
    top = SpanishArgumentParser(add_help=False)
    top.add_argument("--data", metavar="CARPETA", default=str(default_data_dir()),
                     help="carpeta de datos (por defecto: %(default)s)")
    # Accepted after the subcommand too, without hiding a value given before it.
    common = SpanishArgumentParser(add_help=False)
    common.add_argument("--data", metavar="CARPETA", default=argparse.SUPPRESS,
                        help="carpeta de datos")
    p = subparsers.add_parser("sync", parents=[top],
                              help="sincronización con el servidor del SIEE")
    sub = p.add_subparsers(dest="sync_cmd", metavar="ORDEN")
    sub.required = True

    e = sub.add_parser("enroll", parents=[common], help="inscribir este equipo con un código")
    e.add_argument("--server", metavar="URL",
                   help="dirección del servidor (https://...); sin ella, la del archivo de "
                   "configuración de TI (server_url)")
    e.add_argument("--code", metavar="CÓDIGO", required=True,
                   help="código de inscripción de la sede central")
    e.add_argument("--label", metavar="NOMBRE", default="",
                   help="nombre del equipo (p. ej. Laptop ULE 1)")
    e.add_argument("--no-sync", action="store_true",
                   help="solo inscribir (sin enviar enseguida las fichas en cola)")
    e.set_defaults(func=cmd_enroll)

    n = sub.add_parser("now", parents=[common], help="sincronizar ahora")
    n.add_argument("--timeout", metavar="SEGUNDOS", type=float, default=30.0,
                   help="segundos de espera por respuesta (por defecto: %(default)s)")
    n.set_defaults(func=cmd_now)

    s = sub.add_parser("status", parents=[common], help="estado de la sincronización")
    s.add_argument("--json", action="store_true", help="en JSON (para scripts)")
    s.set_defaults(func=cmd_status)

    lg = sub.add_parser("log", parents=[common],
                        help="bitácora de sincronización: una línea por intento, la más "
                        "reciente primero")
    lg.add_argument("--limit", metavar="N", type=int, default=30,
                    help="cuántas líneas mostrar (por defecto: %(default)s; 0: todas)")
    lg.set_defaults(func=cmd_log)

    x = sub.add_parser("export-batch", parents=[common],
                       help="escribir las fichas en cola como archivos de lote (USB)")
    x.add_argument("folder", metavar="CARPETA", help="carpeta de destino (p. ej. la memoria USB)")
    x.set_defaults(func=cmd_export)

    i = sub.add_parser("import-receipt", parents=[common],
                       help="importar los archivos de recibo (y de novedades) traídos de la "
                       "sede central")
    i.add_argument("file", metavar="ARCHIVO", nargs="+",
                   help="archivo(s) siee-receipt-*.json o siee-inbox-*.json")
    i.set_defaults(func=cmd_import)

    ib = sub.add_parser("import-inbox", parents=[common],
                        help="importar el archivo de novedades traído de la sede central")
    ib.add_argument("file", metavar="ARCHIVO", nargs="+", help="archivo(s) siee-inbox-*.json")
    ib.set_defaults(func=cmd_import)

    w = sub.add_parser("watch", parents=[common],
                       help="sincronizar automáticamente hasta Ctrl+C")
    w.add_argument("--interval", metavar="SEGUNDOS", type=float, default=300.0,
                   help="segundos entre sincronizaciones (por defecto: %(default)s)")
    w.set_defaults(func=cmd_watch)
    return p


def _ws(args: argparse.Namespace) -> Workspace:
    return open_workspace(args)


def _when(ts: float | None) -> str:
    if not ts:
        return "nunca"
    return datetime.fromtimestamp(ts).strftime("%d/%m/%Y %H:%M")


def _progress(pr: Any) -> None:
    if pr.phase == "send" and pr.records_total:
        print(f"  {pr.records_done}/{pr.records_total} fichas", file=sys.stderr)


NOT_ENROLLED = ("Este equipo no está inscrito en el servidor del SIEE: no se envió nada. "
                "Pida un código de inscripción a la sede central e inscríbalo con «{enroll}» "
                "(o en el programa: Sincronización → Inscribir equipo…); al inscribirse se "
                "envían las fichas en cola.")
ENROLL = "sync enroll --code CÓDIGO"
# `sync log --limit 0`: every line the laptop keeps (app.store.outbox.LOG_KEEP)
LOG_ALL = 1_000_000

NEXT_SYNC = ("Para enviar lo pendiente cuando haya conexión: «siee-campo sync now»; para "
             "ver qué falta enviar: «siee-campo sync status».")


def cmd_enroll(args: argparse.Namespace) -> int:
    """Enroll, then send what is queued and fetch the inbox (unless --no-sync): after a
    restore, the laptop's pending records leave at once. A failed sync after a good
    enrollment exits 1 and says what to run next."""
    ws = _ws(args)
    try:
        info = ws.centre.enroll(args.server, args.code, args.label)
        print(f"Equipo inscrito: {info.device_id} (ULE {info.ule_ubigeo}) en {info.server_url}.")
        print(f"Huella de la clave del servidor: {key_fingerprint(info.server_signing_key)}")
        print("Compárela con la que muestra la sede central (siee-server keys).")
        if args.no_sync:
            print(NEXT_SYNC)
            return 0
        print("Sincronizando…", file=sys.stderr)
        try:
            rep = ws.sync(progress=_progress)
        except SieeError as e:
            print(f"El equipo quedó inscrito, pero la sincronización no terminó: "
                  f"{e.user_message} {NEXT_SYNC}")
            return 1
        print(rep.text())
        st = ws.centre.status()
        print(f"En cola de envío: {st.pending}. Revise el estado cuando quiera con "
              "«siee-campo sync status».")
    finally:
        ws.close()
    return 0


def cmd_now(args: argparse.Namespace) -> int:
    ws = _ws(args)
    try:
        ws.centre.configure(read_timeout=args.timeout)
        try:
            rep = ws.sync(progress=_progress)
        except NotEnrolled:
            raise NotEnrolled("device not enrolled", NOT_ENROLLED.format(
                enroll=command_for(args, ENROLL))) from None
        except SyncError as e:
            if not e.transient:
                raise
            raise SyncError(str(e), f"{e.user_message} Vuelva a intentar con «siee-campo "
                            "sync now» cuando haya conexión (no se reintenta solo desde la "
                            "consola); «siee-campo sync status» muestra lo pendiente.") from None
    finally:
        ws.close()
    print(rep.text())
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    ws = _ws(args)
    try:
        st = ws.centre.status()
    finally:
        ws.close()
    previous = previous_enrollment_sync(st)
    if args.json:
        print(json.dumps({**st.__dict__, "last_ok_previous_enrollment": previous},
                         ensure_ascii=False, indent=1))
        return 0
    if not st.enrolled:
        print(f"Equipo no inscrito en el servidor del SIEE: inscríbalo con "
              f"«{command_for(args, ENROLL)}» (código de la sede central).")
    else:
        print(f"Servidor: {st.server_url}  (equipo {st.device_id})"
              + ("  — DADO DE BAJA" if st.revoked else ""))
    print(f"En cola de envío: {st.pending}   Fichas entregadas: {st.delivered_forms}   "
          f"Observadas: {st.returned}   En cuarentena: {st.quarantined}   "
          f"Con resultado: {st.result}")
    if st.in_flight:
        print(f"Lotes esperando recibo: {st.in_flight}")
    if st.damaged:
        print(f"¡Fichas dañadas (alteradas fuera del programa, no se envían): {st.damaged}! "
              "Avise a soporte.")
    print(f"Última sincronización correcta: {_when(st.last_ok)}"
          + (f" — {PREVIOUS_ENROLLMENT}." if previous else ""))
    if st.last_error:
        print(f"Último problema: {st.last_error}")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    """Every sync attempt kept, newest first (`--limit N`, 0 for all)."""
    ws = _ws(args)
    try:
        entries = ws.centre.log(args.limit if args.limit > 0 else LOG_ALL)
    finally:
        ws.close()
    if not entries:
        print("La bitácora de sincronización está vacía: este equipo aún no sincronizó "
              "(«siee-campo sync now»).")
    for e in entries:
        print(f"{_when_seconds(e.ts)}  {e.text}")
    return 0


def _when_seconds(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%d/%m/%Y %H:%M:%S")


def cmd_export(args: argparse.Namespace) -> int:
    ws = _ws(args)
    try:
        paths = ws.centre.export_usb(Path(args.folder))
        request = ws.centre.last_inbox_request()
    finally:
        ws.close()
    if not paths:
        print("No hay registros en cola de envío.")
    for path in paths:
        print(path)
    print(f"Solicitud de novedades: {request}", file=sys.stderr)
    print(f"{len(paths)} archivo(s) de lote y la solicitud de novedades. Llévelos a la sede "
          "central (siee-server import-batch / export-inbox) y luego importe el recibo y las "
          "novedades con «sync import-receipt».", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    ws = _ws(args)
    try:
        for f in _receipts_first(args.file):
            out = ws.centre.import_usb(Path(f))
            if isinstance(out, InboxImport):
                print(f"{Path(f).name}: {out.text()}")
            elif out.already_applied:
                print(f"{Path(f).name}: ya había sido importado; no cambió nada.")
            else:
                print(f"{Path(f).name}: {describe_outcome(out)}")
    finally:
        ws.close()
    return 0


def _receipts_first(files: list[str]) -> list[str]:
    """Receipts before inbox files: a returned record must be DELIVERED first (the
    workspace also copes with the other order)."""
    return sorted(files, key=lambda f: Path(f).name.startswith("siee-inbox-"))


def cmd_watch(args: argparse.Namespace) -> int:
    ws = _ws(args)

    def event(kind: str, data: Any) -> None:
        if kind == "ok":
            print(data.text(), flush=True)
        elif kind == "failed":
            print("Sin éxito: " + data.user_message, file=sys.stderr, flush=True)
        elif kind == "offline":
            print("Servidor no disponible; se reintentará.", file=sys.stderr, flush=True)

    sched = SyncScheduler(ws.centre, SchedulePolicy(interval=args.interval), event)
    sched.start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        print("Deteniendo…", file=sys.stderr)
    finally:
        sched.stop()
        ws.close()
    return 0
