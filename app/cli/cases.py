"""`siee-campo cases …` and `siee-campo d100 …`: the requests (expedientes) as the ULE
follows them, from the command line (the same operations as the window, `ws.cases`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from app.cli.common import open_workspace, say
from app.core.errors import ValidationError
from app.paths import default_data_dir
from app.workspace.cases import Case, NoticeData


def _case_row(c: Case) -> dict[str, Any]:
    return {
        "case_uuid": c.case_uuid,
        "reference": c.reference,
        "request": f"{c.option_code} {c.option_label}".strip(),
        "route": c.route.value,
        "state": c.state.value,
        "state_label": c.state_label,
        "head": c.head_name,
        "request_date": c.request_date.isoformat(),
        "records": [{"uuid": m.uuid, "form_id": m.form_id, "state": str(m.state)}
                    for m in c.records],
        "visits": [{"uuid": v.uuid, "date": v.date, "time": v.time, "result": v.result_label,
                    "failed": v.failed, "next_visit": v.next_visit} for v in c.visits],
        "clock": ({"target": c.clock.target, "since": c.clock.since.isoformat(),
                   "due": c.clock.due().isoformat(), "stage": c.clock.stage}
                  if c.clock else None),
        "result": c.result,
        "checklist": [{"item": i, "ok": ok, "detail": d} for i, ok, d in c.checklist()],
    }


def notice_text(n: NoticeData) -> str:
    """The notice of visit as plain text (the window prints it as a PDF)."""
    lines = [
        n.municipality + " — Unidad Local de Empadronamiento",
        n.place,
        "",
        "NOTIFICACIÓN DE VISITA",
        "",
        f"El {n.date} a las {n.time} el empadronador(a) {n.enumerator} visitó esta vivienda "
        "para el empadronamiento solicitado (Solicitud S100) y no pudo realizar la entrevista.",
        f"Resultado de la visita: {n.result_label}.",
    ]
    if n.address:
        lines.append(f"Dirección: {n.address}")
    if n.next_visit:
        lines.append(f"Próxima visita: {n.next_visit}. Por favor, esté presente con los DNI de "
                     "los integrantes del hogar.")
    lines += ["", f"Intento N° {n.attempt} · N° de expediente {n.reference}"]
    return "\n".join(lines)


def cmd_cases(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        c = args.cases_cmd
        if c == "list":
            cases = ws.cases.list()
            if args.json:
                print(json.dumps([_case_row(x) for x in cases], ensure_ascii=False, indent=1))
            else:
                for x in cases:
                    print(f"{x.case_uuid}\t{x.reference}\t{x.option_code}\t{x.state_label}\t{x.head_name}")
                say(f"{len(cases)} expediente(s).")
        elif c == "show":
            print(json.dumps(_case_row(ws.cases.get(args.case)), ensure_ascii=False, indent=1))
        elif c == "visit":
            uuid = ws.cases.record_visit(args.case, args.date, args.time, args.result,
                                         args.next or "", args.notes or "",
                                         enumerator=args.empadronador)
            print(uuid)
            v = next(v for v in ws.cases.get(args.case).visits if v.uuid == uuid)
            if v.failed:
                say("Visita fallida registrada. Imprima la notificación: "
                    f"siee-campo cases notice {uuid}")
        elif c == "notice":
            print(notice_text(ws.cases.notice(args.visit)))
        elif c == "reasons":
            for i, r in enumerate(ws.cases.drop_reasons(), 1):
                print(f"{i}\t{r}")
        elif c == "drop":
            reasons = ws.cases.drop_reasons()
            reason = args.reason
            if reason.isdigit():
                if not 1 <= int(reason) <= len(reasons):
                    raise ValidationError("bad reason number",
                                          f"Elija un motivo del 1 al {len(reasons)} "
                                          "(siee-campo cases reasons).")
                reason = reasons[int(reason) - 1]
            print(ws.cases.drop(args.case, reason, args.detail or ""))
            say("Solicitud desestimada; se enviará a la sede central en la próxima "
                "sincronización.")
        elif c == "reopen":
            print(ws.cases.reopen(args.case, args.reason))
            say("Solicitud reabierta.")
    finally:
        ws.close()
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"bad date {value!r}",
                              f"La fecha «{value}» no es válida; use AAAA-MM-DD.") from None


def cmd_d100(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        if args.d100_cmd == "generate":
            d = ws.cases.d100_generate(_date(args.date_from), _date(args.date_to))
            print(d.id)
            say(f"D100 N° {d.id} generada con {len(d.items)} expediente(s). Imprímala desde el "
                "programa para la firma del alcalde o del gerente autorizado.")
        elif args.d100_cmd == "list":
            for r in ws.cases.d100_list():
                print(f"{r.id}\t{r.period_from}\t{r.period_to}\t{r.state}\t{len(r.cases)}")
        elif args.d100_cmd == "mark":
            ws.cases.d100_mark(args.id, args.state)
            say(f"D100 N° {args.id}: {args.state}.")
    finally:
        ws.close()
    return 0


def register(subparsers: Any) -> None:
    """Add `cases` and `d100` to the program's command line."""
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data", default=str(default_data_dir()),
                     help="carpeta de datos (por defecto: %(default)s)")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", default=argparse.SUPPRESS, help="carpeta de datos")

    p = subparsers.add_parser("cases", parents=[top],
                              help="expedientes: solicitudes, visitas, desestimación")
    sub = p.add_subparsers(dest="cases_cmd", required=True, metavar="ORDEN")
    a = sub.add_parser("list", parents=[common], help="expedientes y su estado")
    a.add_argument("--json", action="store_true")
    a = sub.add_parser("show", parents=[common], help="un expediente y su lista de documentos")
    a.add_argument("case")
    a = sub.add_parser("visit", parents=[common], help="registrar un intento de visita")
    a.add_argument("case")
    a.add_argument("--date", required=True, help="AAAA-MM-DD")
    a.add_argument("--time", required=True, help="HH:MM")
    a.add_argument("--result", required=True,
                   help="código del resultado, el mismo de la FSU (1 completa, 2 incompleta, "
                   "3 rechazo, 4 ausente, 5 vivienda desocupada, 6 no reside, 7 fallecido, "
                   "8 dirección imprecisa, 9 vivienda colectiva)")
    a.add_argument("--empadronador",
                   help="usuario del empadronador(a) que hizo la visita (por omisión, usted)")
    a.add_argument("--next", help="fecha del próximo intento AAAA-MM-DD")
    a.add_argument("--notes")
    a = sub.add_parser("notice", parents=[common], help="notificación de una visita fallida")
    a.add_argument("visit")
    sub.add_parser("reasons", parents=[common], help="motivos de desestimación")
    a = sub.add_parser("drop", parents=[common], help="desestimar una solicitud (supervisor)")
    a.add_argument("case")
    a.add_argument("--reason", required=True, help="número o texto de un motivo de la lista")
    a.add_argument("--detail")
    a = sub.add_parser("reopen", parents=[common], help="reabrir una solicitud desestimada")
    a.add_argument("case")
    a.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_cases)

    p = subparsers.add_parser("d100", parents=[top], help="declaración jurada D100")
    sub = p.add_subparsers(dest="d100_cmd", required=True, metavar="ORDEN")
    a = sub.add_parser("generate", parents=[common], help="D100 de los expedientes enviados")
    a.add_argument("--from", dest="date_from", required=True, help="AAAA-MM-DD")
    a.add_argument("--to", dest="date_to", required=True, help="AAAA-MM-DD")
    sub.add_parser("list", parents=[common])
    a = sub.add_parser("mark", parents=[common], help="marcar firmada o enviada")
    a.add_argument("id", type=int)
    a.add_argument("state", choices=["firmado", "enviado"])
    p.set_defaults(func=cmd_d100)
