"""`forms` commands: check, eval, list, xlsx.

The main CLI registers them with `register(subparsers)`; `python -m app.forms.cli`
runs them on their own."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.core.cli_spanish import SpanishArgumentParser
from app.core.errors import SieeError
from app.forms import functions
from app.forms.bundled import bundled_form, bundled_ids, bundled_path, list_bundled
from app.forms.definition import FormLoadError, generic_path, split_path
from app.forms.loader import load_form
from app.forms.session import FormSession
from app.forms.xlsx import md_to_xlsx
from app.forms.xpath import (
    DateStamp,
    EvalError,
    ExprError,
    compile_expr,
    substitute_refs,
    to_string,
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("forms", help="formularios: revisar, evaluar, listar, exportar")
    sub = p.add_subparsers(dest="forms_cmd", metavar="{check,eval,list,xlsx}")
    sub.required = True

    c = sub.add_parser("check", help="cargar un formulario y listar sus problemas")
    c.add_argument("file", help="archivo .xlsx o .md, o el id de un formulario incluido")
    c.set_defaults(func=cmd_check)

    e = sub.add_parser(
        "eval", help="evaluar respuestas y expresiones con un formulario (JSON en la salida)",
        description=EVAL_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("file", nargs="?", default=None,
                   help="archivo .xlsx, .xls o .md, o el id de un formulario incluido "
                        "(sin él: un formulario vacío con raíz /data, para expresiones)")
    e.add_argument("--answers", help="JSON {ruta: valor}, o una lista de pasos aplicados "
                                     "en orden ([ruta, valor] o {\"add_repeat\": ruta})")
    e.add_argument("--today", help="fecha u hora de hoy para today()/now() (AAAA-MM-DD o "
                                   "AAAA-MM-DDTHH:MM[:SS][±HH:MM]), para pruebas")
    e.add_argument("--expr", action="append", default=[], metavar="XPATH",
                   help="expresión a evaluar después de las respuestas (se puede repetir)")
    e.add_argument("--exprs", metavar="ARCHIVO",
                   help="expresiones a evaluar: una por línea, o una lista JSON")
    e.add_argument("--context", default=None, metavar="RUTA",
                   help="nodo de contexto de las expresiones (por defecto la raíz)")
    e.add_argument("--lang", default=None, help="idioma de etiquetas (jr:choice-name, jr:itext)")
    e.add_argument("--seed", type=int, default=None,
                   help="semilla para random(), uuid() y randomize(): salida reproducible")
    e.add_argument("--property", action="append", default=[], metavar="NOMBRE=VALOR",
                   help="lo que property(NOMBRE) da en la sesión, p. ej. username=Ana o "
                        "siee:ule=150101 (los valores por defecto de un registro nuevo)")
    e.add_argument("--submission", action="store_true",
                   help="añadir lo que se enviaría: las respuestas (to_json) y el XML (to_xml)")
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
    if not Path(spec).exists() and spec in bundled_ids():
        return bundled_form(spec)
    return load_form(Path(spec))


def cmd_check(args: argparse.Namespace) -> int:
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


EVAL_HELP = """\
Evalúa un formulario con respuestas y escribe un documento JSON (UTF-8, claves en
orden fijo, dos espacios de sangría):

  values            {ruta: valor} de cada pregunta, en el orden del formulario
  relevant          {ruta: bool} de cada nodo (grupos y repeticiones incluidos)
  valid             {ruta: bool} de cada pregunta
  required_missing  [ruta] obligatorias y vacías
  errors, warnings  [{path, message, row}] de validate()
  expressions       (con --expr/--exprs) [{expr, value, type[, nodes] | error}]
  answers, xml      (con --submission) lo que se enviaría

Códigos de salida: 0 evaluado (aunque alguna expresión dé error: va en su
entrada); 1 el formulario no carga (JSON con errors y la fila de cada problema);
2 respuestas, contexto u opciones inválidas (mensaje en stderr).
"""

_EMPTY_FORM = "| survey |\n| | type | name | label |\n| | note | siee_eval_note | - |\n"


def _clock(today: str | None) -> Any:
    if not today:
        return None
    try:
        fixed = datetime.fromisoformat(today.strip().replace("Z", "+00:00")).astimezone()
    except ValueError as e:
        raise _UsageError(f"--today «{today}» no es una fecha AAAA-MM-DD ni una fecha y "
                          "hora ISO") from e

    def clock() -> datetime:
        return fixed

    return clock


class _UsageError(Exception):
    """Bad input to `forms eval` (exit code 2; Spanish message)."""


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise _UsageError(f"no se pudo leer {what} {path}: {e}") from e


def _read_exprs(path: str) -> list[str]:
    try:
        text = Path(path).read_text("utf-8")
    except OSError as e:
        raise _UsageError(f"no se pudo leer las expresiones {path}: {e}") from e
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as e:
            raise _UsageError(f"{path}: la lista JSON de expresiones no es válida: {e}") from e
        if not all(isinstance(x, str) for x in data):
            raise _UsageError(f"{path}: la lista JSON debe contener solo textos")
        return list(data)
    return [ln for ln in text.splitlines() if ln.strip()]


def _ensure_instances(s: Any, path: str) -> None:
    """Create the repeat instances a concrete path names (as loading answers does)."""
    prefix = ""
    for name, idx in split_path(path):
        prefix += "/" + name
        if idx is not None:
            nd = s.formdef.by_path.get(generic_path(prefix))
            if nd is not None and nd.is_repeat:
                while s.repeat_count(prefix) < idx:
                    s.add_repeat(prefix)
            prefix += f"[{idx}]"


def _apply_steps(s: Any, steps: list[Any]) -> None:
    for i, step in enumerate(steps, 1):
        if isinstance(step, list | tuple) and len(step) == 2:
            path, value = str(step[0]), step[1]
            _ensure_instances(s, path)
            s.set(path, value)
        elif isinstance(step, dict) and "add_repeat" in step:
            s.add_repeat(str(step["add_repeat"]), step.get("position"))
        elif isinstance(step, dict) and "remove_repeat" in step:
            s.remove_repeat(str(step["remove_repeat"]), step.get("index"))
        elif isinstance(step, dict) and "path" in step:
            _ensure_instances(s, str(step["path"]))
            s.set(str(step["path"]), step.get("value"))
        else:
            raise _UsageError(f"paso {i} de las respuestas no reconocido: {step!r}")


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        fd = _load(args.file) if args.file else _load_text(_EMPTY_FORM)
    except FormLoadError as e:
        print(json.dumps({"errors": [{"path": "", "row": p.row, "message": str(p)}
                                     for p in e.problems]}, ensure_ascii=False, indent=2))
        return 1
    except SieeError as e:
        print(json.dumps({"errors": [{"path": "", "row": None, "message": e.user_message}]},
                         ensure_ascii=False, indent=2))
        return 1
    functions.seed_random(args.seed)
    try:
        answers: Any = _read_json(args.answers, "las respuestas") if args.answers else {}
        if not isinstance(answers, dict | list):
            raise _UsageError("el JSON de respuestas debe ser un objeto {ruta: valor} o una "
                              "lista de pasos")
        exprs = list(args.expr) + (_read_exprs(args.exprs) if args.exprs else [])
        clock = _clock(args.today)
        props = {}
        for item in args.property:
            name, eq, value = item.partition("=")
            if not eq or not name.strip():
                raise _UsageError(f"--property «{item}»: escriba NOMBRE=VALOR")
            props[name.strip()] = value
        try:
            if isinstance(answers, dict):
                s = FormSession(fd, answers, clock=clock, language=args.lang, properties=props)
            else:
                s = FormSession(fd, clock=clock, language=args.lang, properties=props)
                _apply_steps(s, answers)
        except SieeError as e:
            raise _UsageError(e.user_message) from e
        except (TypeError, ValueError) as e:
            raise _UsageError(f"respuesta inválida: {e}") from e
        doc = evaluate(s)
        if exprs:
            doc["expressions"] = [eval_expression(s, x, args.context) for x in exprs]
        if args.submission:
            doc["answers"] = s.to_json()
            doc["xml"] = s.to_xml("uuid:00000000-0000-4000-8000-000000000000")
    except _UsageError as e:
        print(f"ERROR {e}", file=sys.stderr)
        return 2
    finally:
        functions.seed_random(None)
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    return 0


def _load_text(text: str) -> Any:
    return load_form(text)


def eval_expression(s: Any, source: str, context: str | None = None) -> dict[str, Any]:
    """Evaluate one XPath expression (with `${name}` references) against a session.

    Returns {"expr", "value" (XPath string()), "type" (string | number | boolean |
    node-set | date | datetime), "nodes" (paths, for a node-set)} or {"expr", "error"}
    with a Spanish message. `context` is a concrete path (default: the root)."""


    out: dict[str, Any] = {"expr": source}
    try:
        node = s._find(context) if context else s.root
    except SieeError as e:
        raise _UsageError(f"--context: {e.user_message}") from e
    nd = node.defn
    ctx = nd.path if nd is not None else (s.root.name,)
    try:
        def resolve(name: str) -> str:
            p = s.formdef.names.get(name)
            if p is None:
                raise ExprError(f"${{{name}}} no existe en el formulario")
            return "/" + "/".join(p)

        expr = compile_expr(substitute_refs(source, resolve), ctx)
        value = expr.fn(node, s.env.at(node))
    except (ExprError, EvalError) as e:
        out["error"] = str(e)
        return out
    except (ValueError, TypeError, OverflowError, ZeroDivisionError, RecursionError) as e:
        out["error"] = f"no se pudo evaluar: {e}"
        return out
    nodes: list[str] | None = None
    if isinstance(value, bool):
        kind = "boolean"
    elif isinstance(value, float | int):
        kind = "number"
    elif isinstance(value, list):
        kind = "node-set"
        nodes = [n.path() for n in value]
    elif isinstance(value, DateStamp):
        kind = "date"
    elif isinstance(value, datetime):
        kind = "datetime"
    elif isinstance(value, date):
        kind = "date"
    else:
        kind = "string"
    out["value"] = to_string(value)
    out["type"] = kind
    if nodes is not None:
        out["nodes"] = nodes
    return out


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
    forms = list_bundled()
    if getattr(args, "json", False):
        print(json.dumps([{"form_id": f, "version": v, "title": t} for f, v, t in forms],
                         ensure_ascii=False, indent=2))
        return 0
    for fid, version, title in forms:
        print(f"{fid}\t{version}\t{title}")
    return 0


def cmd_xlsx(args: argparse.Namespace) -> int:
    try:
        src = bundled_path(args.form_id)
    except SieeError as e:
        print(f"ERROR {e.user_message}", file=sys.stderr)
        return 1
    out = md_to_xlsx(src.read_text("utf-8"), args.output or f"{args.form_id}.xlsx")
    print(f"escrito {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = SpanishArgumentParser(prog="python -m app.forms.cli")
    sub = parser.add_subparsers(dest="cmd")
    sub.required = True
    register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
