"""`forms` commands: check, eval, list, xlsx.

The main CLI registers them with `register(subparsers)`; `python -m app.forms.cli`
runs them on their own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.core.errors import SieeError


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("forms", help="formularios: revisar, evaluar, listar, exportar")
    sub = p.add_subparsers(dest="forms_cmd", metavar="{check,eval,list,xlsx}")
    sub.required = True

    c = sub.add_parser("check", help="cargar un formulario y listar sus problemas")
    c.add_argument("file", help="archivo .xlsx o .md, o el id de un formulario incluido")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("eval", help="evaluar respuestas con un formulario (JSON en la salida)")
    e.add_argument("file", help="archivo .xlsx o .md, o el id de un formulario incluido")
    e.add_argument("--answers", required=True, help="JSON {ruta: valor}")
    e.add_argument("--today", help="fecha de hoy para today()/now() (AAAA-MM-DD), para pruebas")
    e.set_defaults(func=cmd_eval)

    ls = sub.add_parser("list", help="formularios incluidos y sus versiones")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    x = sub.add_parser("xlsx", help="escribir el .xlsx de un formulario incluido")
    x.add_argument("form_id")
    x.add_argument("-o", "--output", help="archivo de salida (por defecto FORM_ID.xlsx)")
    x.set_defaults(func=cmd_xlsx)
    return p


def _load(spec: str) -> Any:
    from app.forms.bundled import bundled_form, bundled_ids
    from app.forms.loader import load_form

    if not Path(spec).exists() and spec in bundled_ids():
        return bundled_form(spec)
    return load_form(Path(spec))


def cmd_check(args: argparse.Namespace) -> int:
    from app.forms.definition import FormLoadError

    try:
        fd = _load(args.file)
    except FormLoadError as e:
        for p in e.problems:
            print(f"ERROR {p}", file=sys.stdout)
        print(f"{len(e.problems)} problema(s): el formulario no se puede usar.")
        return 1
    except SieeError as e:
        print(f"ERROR {e.user_message}")
        return 1
    for w in fd.warnings:
        print(f"AVISO {w}")
    n = sum(1 for nd in fd.root.walk() if nd.kind == "question")
    print(f"OK {fd.form_id} versión {fd.version}: «{fd.title}», {n} preguntas")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from app.forms.definition import FormLoadError
    from app.forms.session import FormSession

    try:
        fd = _load(args.file)
    except FormLoadError as e:
        print(json.dumps({"errors": [{"path": "", "message": str(p)} for p in e.problems]},
                         ensure_ascii=False, indent=2))
        return 1
    try:
        answers = json.loads(Path(args.answers).read_text("utf-8"))
    except (OSError, ValueError) as e:
        print(f"ERROR no se pudo leer {args.answers}: {e}", file=sys.stderr)
        return 2
    if not isinstance(answers, dict):
        print("ERROR el JSON de respuestas debe ser un objeto {ruta: valor}", file=sys.stderr)
        return 2
    clock = None
    if args.today:
        from datetime import datetime

        fixed = datetime.fromisoformat(args.today).astimezone()

        def clock() -> datetime:
            return fixed

    try:
        s = FormSession(fd, answers, clock=clock)
    except SieeError as e:
        print(f"ERROR {e.user_message}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(s), ensure_ascii=False, indent=2))
    return 0


def evaluate(s: Any) -> dict[str, Any]:
    """The `forms eval` document for a session."""
    values: dict[str, Any] = {}
    relevant: dict[str, bool] = {}
    valid: dict[str, bool] = {}
    missing: list[str] = []
    for st in s.iter_nodes():
        relevant[st.path] = st.relevant
        if st.kind != "question":
            continue
        values[st.path] = st.value
        valid[st.path] = st.valid
        if st.relevant and st.required and st.value == "":
            missing.append(st.path)
    rep = s.validate()
    return {
        "values": values,
        "relevant": relevant,
        "valid": valid,
        "required_missing": missing,
        "errors": [i.to_dict() for i in rep.errors],
        "warnings": [i.to_dict() for i in rep.warnings],
    }


def cmd_list(args: argparse.Namespace) -> int:
    from app.forms.bundled import list_bundled

    forms = list_bundled()
    if getattr(args, "json", False):
        print(json.dumps([{"form_id": f, "version": v, "title": t} for f, v, t in forms],
                         ensure_ascii=False, indent=2))
        return 0
    for fid, version, title in forms:
        print(f"{fid}\t{version}\t{title}")
    return 0


def cmd_xlsx(args: argparse.Namespace) -> int:
    from app.forms.bundled import bundled_path
    from app.forms.xlsx import md_to_xlsx

    try:
        src = bundled_path(args.form_id)
    except SieeError as e:
        print(f"ERROR {e.user_message}", file=sys.stderr)
        return 1
    out = md_to_xlsx(src.read_text("utf-8"), args.output or f"{args.form_id}.xlsx")
    print(f"escrito {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.forms.cli")
    sub = parser.add_subparsers(dest="cmd")
    sub.required = True
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
