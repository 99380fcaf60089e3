"""XLSForm (.xlsx or pyxform's markdown tables) -> FormDef, through pyxform.

pyxform checks the spreadsheet (unknown types, unbalanced groups, bad names,
…); the loader then builds the engine's NodeDef tree, resolves `${name}`
references, compiles every expression and builds the dependency graph, so
anything the engine cannot run is refused here, with the row, never later.

Loading is cached by the SHA-256 of the source: in memory for the process and,
when the caller passes `cache_dir`, as a pickle on disk (the compiled closures
are rebuilt from the pickled definition, which is fast).
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import re
from pathlib import Path
from typing import Any

from app.bounded_io import read_limited
from app.core.errors import ValidationError
from app.forms import catalogs
from app.forms.definition import (
    QUESTION_TYPES,
    Choice,
    FormDef,
    FormLoadError,
    NodeDef,
    Problem,
)

log = logging.getLogger(__name__)

ENGINE_VERSION = "1"

_TYPE_MAP = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "dateTime": "datetime",
}
_SKIPPED_GROUPS = {"meta"}
_ROW_RE = re.compile(r"\[row\s*:\s*(\d+)\]")
_TRUE = {"yes", "true", "true()", "1", "si", "sí"}
_FALSE = {"no", "false", "false()", "0", ""}

_memory: dict[str, FormDef] = {}
MAX_FORM_FILE_BYTES = 32 << 20


def _read_source(source: str | Path | bytes) -> tuple[bytes, str, Path | None]:
    """-> (raw bytes, file type, directory of the file)."""
    if isinstance(source, bytes):
        ftype = "xlsx" if source[:2] == b"PK" else "md"
        return source, ftype, None
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and "|" not in source):
        p = Path(source)
        if not p.is_file():
            raise FormLoadError([Problem(None, f"no se encontró el archivo del formulario «{p}»")])
        try:  # size checked first, read in bounded pieces (a form is a few hundred KB)
            raw = read_limited(p, MAX_FORM_FILE_BYTES, "un formulario")
        except ValidationError as e:
            raise FormLoadError([Problem(None, e.user_message)]) from None
        suffix = p.suffix.lower().lstrip(".")
        ftype = "xlsx" if suffix in ("xlsx", "xlsm") else "md" if suffix in ("md", "txt") else (
            "xlsx" if raw[:2] == b"PK" else "md")
        return raw, ftype, p.parent
    return source.encode("utf-8"), "md", None


def source_hash(raw: bytes) -> str:
    return hashlib.sha256(ENGINE_VERSION.encode() + b"\0" + raw).hexdigest()


def load_form(source: str | Path | bytes, cache_dir: str | Path | None = None) -> FormDef:
    """Load an XLSForm from a path, markdown text or bytes.

    Raises FormLoadError (a SieeError) with every problem found and its row."""
    raw, ftype, base = _read_source(source)
    # choice files next to the form are part of it: the folder is part of the key
    key = source_hash(raw + (b"\0" + str(base).encode() if base is not None else b""))
    hit = _memory.get(key)
    if hit is not None:
        return hit
    cache_file = Path(cache_dir) / f"form-{key}.pickle" if cache_dir else None
    if cache_file is not None and cache_file.is_file():
        try:
            fd = pickle.loads(cache_file.read_bytes())
            if isinstance(fd, FormDef) and fd.source_hash == key:
                fd.program()
                _memory[key] = fd
                return fd
        except Exception:  # noqa: BLE001 - a broken cache is only a slow load
            log.warning("form cache %s unreadable; rebuilding", cache_file)
    fd = _build(raw, ftype, base)
    fd.source_hash = key
    fd.program()  # compiles expressions, checks the graph; raises FormLoadError
    _memory[key] = fd
    uses_files = any(n.list_name and n.list_name.endswith(".csv")
                     and not catalogs.is_builtin(n.list_name) for n in fd.root.walk())
    if cache_file is not None and not uses_files:  # an edited CSV must not be masked
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(fd, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(cache_file)
        except OSError:
            log.warning("cannot write form cache %s", cache_file)
    return fd


def clear_memory_cache() -> None:
    _memory.clear()


def _pyxform_problem(e: Exception) -> Problem:
    msg = str(e).strip()
    m = _ROW_RE.search(msg)
    row = int(m.group(1)) if m else None
    msg = _ROW_RE.sub("", msg).strip()
    return Problem(row, f"pyxform: {msg}")


def _build(raw: bytes, ftype: str, base: Path | None) -> FormDef:
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    warnings: list[str] = []
    try:
        wb = get_xlsform(io.BytesIO(raw), file_type="." + ftype)
    except Exception as e:  # noqa: BLE001 - pyxform raises assorted errors on bad input
        raise FormLoadError([Problem(None, f"no se pudo leer el formulario: {e}")]) from e
    try:
        data = workbook_to_json(wb, warnings=warnings)
        survey = create_survey_element_from_dict(data)
        survey.to_xml(validate=False, warnings=warnings)
    except PyXFormError as e:
        raise FormLoadError([_locate(_pyxform_problem(e), wb.survey)]) from e
    except Exception as e:  # noqa: BLE001 - pyxform raises assorted errors on bad input
        prob = Problem(None, f"no se pudo procesar el formulario: {e}")
        raise FormLoadError([_locate(prob, wb.survey)]) from e
    rows = _row_numbers(wb.survey)
    return _Builder(data, rows, base, warnings).build()


def _locate(p: Problem, survey_rows: list[dict[str, Any]] | None) -> Problem:
    """Give a row to a pyxform message that has none, from the values it quotes."""
    if p.row is not None or not survey_rows:
        return p
    for token in re.findall(r"'([^']+)'", p.message):
        for i, r in enumerate(survey_rows):
            if any(str(v).strip() == token for v in r.values()):
                return Problem(i + 2, p.message)
    return p


def _row_numbers(survey_rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, r in enumerate(survey_rows or []):
        name = str(r.get("name") or "").strip()
        if name and name not in out:
            out[name] = i + 2  # header is row 1
    return out


def _texts(v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if isinstance(v, dict):
        return {str(k): str(t) for k, t in v.items() if isinstance(t, str | int | float)}
    return {"": str(v)}


class _Builder:
    def __init__(self, data: dict[str, Any], rows: dict[str, int], base: Path | None,
                 warnings: list[str]) -> None:
        self.data = data
        self.rows = rows
        self.base = base
        self.warnings = warnings
        self.problems: list[Problem] = []
        self.names: dict[str, NodeDef] = {}
        self.choices: dict[str, list[Choice]] = {}
        self.triggers: dict[int, list[str]] = {}

    def build(self) -> FormDef:
        d = self.data
        root_name = str(d.get("name") or "data")
        root = NodeDef(root_name, (root_name,), "group", "group")
        for lst, items in (d.get("choices") or {}).items():
            self.choices[lst] = [self._choice(c) for c in items]
        for child in d.get("children", []):
            self._node(child, root)
        self._resolve(root)
        if self.problems:
            raise FormLoadError(self.problems)
        langs: list[str] = []
        for nd in root.walk():
            for k in nd.labels:
                if k and k not in langs:
                    langs.append(k)
        default_lang = d.get("default_language")
        if default_lang == "default":
            default_lang = langs[0] if langs else None
        return FormDef(
            form_id=str(d.get("id_string") or root_name),
            version=str(d.get("version") or ""),
            title=str(d.get("title") or root_name),
            root=root,
            default_language=default_lang,
            languages=langs,
            choices=self.choices,
            warnings=list(self.warnings),
            names={k: v.path for k, v in self.names.items()},
        )

    def _choice(self, c: dict[str, Any]) -> Choice:
        extra = {k: str(v) for k, v in c.items() if k not in ("name", "label", "media")
                 and isinstance(v, str | int | float)}
        return Choice(str(c.get("name", "")), _texts(c.get("label")) or {"": str(c.get("name"))},
                      extra)

    def _node(self, j: dict[str, Any], parent: NodeDef) -> None:
        name = str(j.get("name", ""))
        jtype = str(j.get("type", ""))
        row = self.rows.get(name)
        if jtype == "group" and name in _SKIPPED_GROUPS and parent.path == parent.path[:1]:
            return
        path = (*parent.path, name)
        bind = j.get("bind") or {}
        control = j.get("control") or {}
        if jtype in ("group", "repeat"):
            nd = NodeDef(name, path, jtype, jtype, row)
        else:
            qtype = _TYPE_MAP.get(jtype, jtype)
            if qtype not in QUESTION_TYPES:
                self.problems.append(Problem(
                    row, f"el tipo de pregunta «{jtype}» de «{name}» no está soportado"))
                return
            nd = NodeDef(name, path, "question", qtype, row)
        nd.labels = _texts(j.get("label"))
        nd.hints = _texts(j.get("hint"))
        nd.appearance = control.get("appearance") or None
        nd.relevant = bind.get("relevant") or None
        nd.required = _flag(bind.get("required"))
        nd.required_msgs = _texts(bind.get("jr:requiredMsg"))
        nd.constraint = bind.get("constraint") or None
        nd.constraint_msgs = _texts(bind.get("jr:constraintMsg"))
        nd.calculation = bind.get("calculate") or None
        nd.readonly = _flag(bind.get("readonly"))
        nd.default = j.get("default") if j.get("default") not in (None, "") else None
        nd.warning = j.get("warning") or None
        nd.warning_msgs = _texts(j.get("warning_message"))
        nd.choice_filter = j.get("choice_filter") or None
        nd.repeat_count = control.get("jr:count") or None
        nd.parameters = dict(j.get("parameters") or {})
        for key in ("jr:preload", "jr:preloadParams"):
            if key in bind and jtype not in ("start", "end", "today"):
                self.problems.append(Problem(row, f"«{name}»: {key} no está soportado"))
        trig = j.get("trigger")
        if trig:
            many = isinstance(trig, list | tuple)
            self.triggers[id(nd)] = [str(t) for t in trig] if many else [str(trig)]
        if nd.is_select:
            self._select(nd, j)
        if name in self.names:
            self.problems.append(Problem(row, f"el nombre «{name}» está repetido"))
        self.names[name] = nd
        parent.children.append(nd)
        for c in j.get("children", []) if jtype in ("group", "repeat") else []:
            self._node(c, nd)

    def _select(self, nd: NodeDef, j: dict[str, Any]) -> None:
        itemset = j.get("itemset")
        list_name = j.get("list_name")
        if itemset and str(itemset).endswith((".csv", ".xml", ".geojson")):
            fname = str(itemset)
            if catalogs.is_builtin(fname):
                nd.list_name = fname
                return
            if not fname.endswith(".csv"):
                self.problems.append(Problem(nd.row, f"archivo de opciones «{fname}» no soportado"))
                return
            p = (self.base / fname) if self.base else None
            if p is None or not p.is_file():
                self.problems.append(Problem(
                    nd.row, f"no se encuentra el archivo de opciones «{fname}»"))
                return
            self.choices[fname] = catalogs.read_choices_csv(p)
            nd.list_name = fname
            return
        nd.list_name = str(list_name or itemset or "")
        if nd.list_name.startswith("${") or nd.list_name.startswith("/"):
            self.problems.append(Problem(
                nd.row, f"«{nd.name}»: elegir entre las respuestas de una repetición "
                f"({nd.list_name}) no está soportado; use una lista de opciones"))
            return
        if nd.list_name not in self.choices:
            if j.get("choices"):
                self.choices[nd.list_name] = [self._choice(c) for c in j["choices"]]
            else:
                self.problems.append(Problem(
                    nd.row, f"la lista de opciones «{nd.list_name}» no existe"))

    # -- ${name} -> absolute path
    def _resolve(self, root: NodeDef) -> None:
        from app.forms.xpath import referenced_names, substitute_refs

        for nd in root.walk()[1:]:
            def resolve(name: str, nd: NodeDef = nd) -> str:
                target = self.names.get(name)
                if target is None:
                    raise _UnknownRef(name)
                return "/" + "/".join(target.path)

            for attr in ("relevant", "required", "constraint", "warning", "calculation",
                         "readonly", "default", "choice_filter", "repeat_count"):
                src = getattr(nd, attr)
                if not src or not isinstance(src, str):
                    continue
                try:
                    setattr(nd, attr, substitute_refs(src, resolve))
                except _UnknownRef as e:
                    self.problems.append(Problem(
                        nd.row, f"«{nd.name}» ({attr}) se refiere a ${{{e.name}}}, que no existe"))
            for texts in (nd.labels, nd.hints):
                for txt in texts.values():
                    for ref in referenced_names(txt):
                        if ref not in self.names:
                            self.problems.append(Problem(
                                nd.row, f"el texto de «{nd.name}» usa ${{{ref}}}, que no existe"))
            for t in self.triggers.get(id(nd), []):
                t = t.strip()
                if t.startswith("${") and t.endswith("}"):
                    t = t[2:-1]
                target = self.names.get(t)
                if target is None:
                    self.problems.append(Problem(nd.row, f"trigger «{t}» no existe"))
                else:
                    nd.trigger.append(target.path)


class _UnknownRef(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _flag(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    if s.lower() in _TRUE:
        return "true()"
    if s.lower() in _FALSE:
        return None
    return s
