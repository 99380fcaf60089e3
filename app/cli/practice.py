"""`practice` commands for trainers (issue 18 item 7): create the practice workspace,
print paper FSUs in bulk and start the exercises, seed a review queue, score, list,
export and import results, and the handover checklist of the real workspace.

`--data` is the real data folder (as every command); the practice workspace lives
beside it (app.workspace.practice.practice_dir), except for `handover`, which reads
the real one. The user and password come from SIEE_USER / SIEE_PASSWORD or are asked.
PDFs are written with Qt's PDF writer, imported only by the commands that write one."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

from app.cli.common import password, say, user
from app.core.errors import SieeError, ValidationError
from app.paths import default_data_dir
from app.practice.exercises import EXERCISES, score_record, start_entry
from app.practice.handover import handover_html, handover_text
from app.practice.paper import paper_html
from app.practice.progress import pct, progress, progress_html, table
from app.practice.report import write_progress_xlsx
from app.practice.review_exercise import review_sets, score_review, start_review
from app.workspace import Workspace
from app.workspace.practice import practice_dir


def _write_pdf(html: str, path: Path, title: str) -> Path:
    # Qt only here, on purpose: the other practice commands run without it
    from app.ui.common.pdf import ensure_app, write_pdf  # noqa: PLC0415

    ensure_app()
    return write_pdf(html, path, title)


def register(subparsers: Any) -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data", default=str(default_data_dir()),
                     help="carpeta de datos reales (por defecto: %(default)s); la de práctica "
                     "está a su lado, terminada en -practica")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", default=argparse.SUPPRESS, help="carpeta de datos")
    p = subparsers.add_parser("practice", parents=[top],
                              help="modo práctica: ejercicios y avance de la capacitación")
    sub = p.add_subparsers(dest="practice_cmd", metavar="ORDEN")
    sub.required = True

    s = sub.add_parser("init", parents=[common], help="crear el espacio de práctica")
    s.add_argument("--admin", required=True, help="usuario de quien dirige la práctica")
    s.add_argument("--ule", help="ubigeo de la ULE (por defecto, el de los datos reales)")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("list", parents=[common], help="los ejercicios disponibles")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("create", parents=[common],
                       help="imprimir fichas de papel (PDF) en lote y, con --start, "
                       "comenzar los ejercicios para el usuario")
    s.add_argument("--exercise", required=True, choices=[c for c, e in EXERCISES.items()
                                                         if e.kind == "entry"])
    s.add_argument("--count", type=int, default=1, help="cuántas fichas distintas")
    s.add_argument("--seed", type=int, help="número de la primera ficha (por defecto al azar)")
    s.add_argument("--out", required=True, help="carpeta donde guardar los PDF")
    s.add_argument("--html", action="store_true", help="HTML en vez de PDF (sin Qt)")
    s.add_argument("--start", action="store_true",
                   help="comenzar cada ejercicio para el usuario que ingresa")
    s.set_defaults(func=cmd_create)

    s = sub.add_parser("review", parents=[common],
                       help="preparar una bandeja de revisión con inconsistencias sembradas")
    s.add_argument("--size", type=int, default=6)
    s.add_argument("--seed", type=int)
    s.set_defaults(func=cmd_review)

    s = sub.add_parser("score", parents=[common],
                       help="calificar los ejercicios terminados del usuario que ingresa")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("results", parents=[common], help="avance de la capacitación")
    s.add_argument("--user", help="solo este usuario")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_results)

    s = sub.add_parser("export", parents=[common],
                       help="exportar el avance: .xlsx, .pdf o .json (para otro equipo)")
    s.add_argument("file")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", parents=[common],
                       help="importar resultados (.json exportado en otro equipo)")
    s.add_argument("file")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("threshold", parents=[common],
                       help="precisión mínima para estar listo (por defecto 98)")
    s.add_argument("percent", type=float)
    s.set_defaults(func=cmd_threshold)

    s = sub.add_parser("handover", parents=[common],
                       help="lista de entrega del cargo de responsable (datos reales)")
    s.add_argument("--pdf", help="guardarla como PDF en este archivo")
    s.set_defaults(func=cmd_handover)
    return p


def _practice(args: argparse.Namespace, login: bool = True) -> Workspace:
    folder = practice_dir(Path(args.data))
    if not Workspace.is_initialized(folder):
        raise ValidationError(
            "no practice workspace",
            "Todavía no hay espacio de práctica en este equipo. Créelo con «siee-campo "
            "practice init --admin USUARIO» o desde el botón «Modo práctica» del programa.")
    ws = Workspace.open(folder)
    if login:
        ws.login(user(), password())
    return ws


def cmd_init(args: argparse.Namespace) -> int:
    folder = practice_dir(Path(args.data))
    ule = args.ule
    if ule is None and Workspace.is_initialized(Path(args.data)):
        real = Workspace.open(Path(args.data))
        try:
            ule = real.settings.get("ule_ubigeo")
        finally:
            real.close()
    ws, _code = Workspace.create(folder, args.admin, password(confirm=True), ule_ubigeo=ule,
                                 practice=True)
    ws.close()
    print(f"Espacio de práctica creado en {folder}. Agregue a las personas en capacitación "
          f"con «siee-campo users add --data {folder} USUARIO --role digitador».")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for ex in EXERCISES.values():
        print(f"{ex.code}\t{ex.title}\t{ex.summary}")
    return 0


def cmd_create(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    first = args.seed if args.seed is not None else random.SystemRandom().randint(1, 900_000)
    ws = _practice(args) if args.start else None
    try:
        for seed in range(first, first + max(1, args.count)):
            html = paper_html(args.exercise, seed)
            name = f"ficha-{args.exercise}-{seed}"
            if args.html:
                path = out / f"{name}.html"
                path.write_text(html, "utf-8")
            else:
                path = _write_pdf(html, out / f"{name}.pdf", f"FSU de práctica {name}")
            line = f"{args.exercise}\t{seed}\t{path}"
            if ws is not None:
                line += f"\t{start_entry(ws, args.exercise, seed)}"
            print(line)
    finally:
        if ws is not None:
            ws.close()
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    ws = _practice(args)
    try:
        set_id = start_review(ws, args.seed, args.size)
        print(f"Bandeja de revisión {set_id}: {args.size} fichas por revisar en Supervisión.")
    finally:
        ws.close()
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    ws = _practice(args)
    out: list[dict[str, Any]] = []
    try:
        me = ws.current_user()
        for m in ws.list_records():
            info = ws.practice.exercise(m.uuid) or {}
            if info.get("kind") == "entry" and m.author_id == me.id and "scored" not in info \
                    and m.state != "RETURNED":
                s = score_record(ws, m.uuid)
                out.append({"record": m.uuid, "exercise": info["code"], **s.to_dict()})
        for set_id, uuids in review_sets(ws).items():
            if all(ws.get(u).state != "COMPLETE" for u in uuids) and \
                    not any(r.get("set") == set_id for r in ws.practice.results()):
                out.append({"exercise": "review", **score_review(ws, set_id).to_dict()})
    finally:
        ws.close()
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for r in out:
        print(f"{r['exercise']}\t{r['accuracy']:.1f} %\t"
              f"{len(r.get('mistakes') or []) or r.get('missed', 0)} error(es)")
    if not out:
        say("No hay ejercicios terminados por calificar.")
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    ws = _practice(args)
    try:
        rows, ready, threshold = progress(ws, args.user)
        raw = ws.practice.results(args.user)
    finally:
        ws.close()
    if args.json:
        json.dump(raw, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    for cells in table(rows):
        print("\t".join(str(c) for c in cells))
    for x in ready:
        best = "—" if x.best is None else f"{pct(x.best):.1f} %"
        print(f"{x.username}: {'LISTO(A)' if x.ready else 'en práctica'} (mejor {best}, "
              f"mínimo {threshold:g} %)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.file)
    ws = _practice(args)
    try:
        rows, ready, threshold = progress(ws)
        raw = ws.practice.results()
    finally:
        ws.close()
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_progress_xlsx(rows, ready, threshold, path)
    elif suffix == ".pdf":
        _write_pdf(progress_html(rows, ready, threshold), path, "Avance de la capacitación")
    elif suffix == ".json":
        path.write_text(json.dumps({"siee_practice_results": 1, "results": raw},
                                   ensure_ascii=False), "utf-8")
    else:
        raise ValidationError("unknown export format",
                              "Use un archivo terminado en .xlsx, .pdf o .json.")
    print(f"Avance exportado a {path} ({len(rows)} intento(s)).")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    try:
        doc = json.loads(Path(args.file).read_text("utf-8"))
    except (OSError, ValueError):
        raise ValidationError("unreadable results file",
                              "No se pudo leer el archivo de resultados.") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ValidationError("not a results file",
                              "El archivo no tiene resultados de práctica; no se importó nada.")
    ws = _practice(args)
    try:
        n = ws.practice.import_results(doc["results"])
    finally:
        ws.close()
    print(f"Se importaron {n} resultado(s) nuevos.")
    return 0


def cmd_threshold(args: argparse.Namespace) -> int:
    ws = _practice(args)
    try:
        ws.settings.save(practice_ready_accuracy=args.percent)
    finally:
        ws.close()
    print(f"Precisión mínima para estar listo: {args.percent:g} %.")
    return 0


def cmd_handover(args: argparse.Namespace) -> int:
    ws = Workspace.open(Path(args.data))
    try:
        ws.login(user(), password())
        if ws.practice.enabled:
            raise SieeError("handover on a practice workspace",
                            "La lista de entrega se hace con los datos reales, no con los de "
                            "práctica.")
        if args.pdf:
            out = _write_pdf(handover_html(ws), Path(args.pdf), "Lista de entrega")
            print(f"Lista de entrega guardada en {out}.")
        else:
            print(handover_text(ws))
    finally:
        ws.close()
    return 0
