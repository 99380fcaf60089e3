"""XLSForm (.xlsx, .xls or pyxform's markdown tables) -> FormDef, through pyxform.

pyxform checks the spreadsheet (unknown types, unbalanced groups, bad names,
…); the loader then builds the engine's NodeDef tree, resolves `${name}`
references, compiles every expression and builds the dependency graph, so
anything the engine cannot run is refused here, with the row, never later.

Every problem is reported in one pass, each on its own row: when pyxform stops
at a row, that row is set aside (its expressions cleared, then its name, then
the row itself) and pyxform runs again, so the next problem shows too; the
engine's own checks run on whatever pyxform accepted.

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

from app.core.bounded_io import read_limited
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
from app.forms.graph import program_of
from app.forms.xpath import fmt_num, referenced_names, substitute_refs

log = logging.getLogger(__name__)

ENGINE_VERSION = "2"

_TYPE_MAP = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "dateTime": "datetime",
}
# XForm bind types (what pyxform's type aliases resolve to) -> engine types
_BIND_TYPES = {
    "int": "integer", "integer": "integer", "decimal": "decimal", "date": "date",
    "time": "time", "dateTime": "datetime", "geopoint": "geopoint", "barcode": "text",
}
# jr:preload property -> the device property the calculation reads (property())
_PROPERTY_PRELOADS = frozenset({
    "deviceid", "simserial", "phonenumber", "subscriberid", "username", "email",
    "uri:deviceid", "uri:simserial", "uri:phonenumber", "uri:subscriberid", "uri:username",
    "uri:email",
})
_MEDIA_ES = {
    "image/*": "fotos", "audio/*": "audio", "video/*": "video",
    "application/*": "archivos adjuntos", "osm/*": "mapas OSM",
}
_SKIPPED_GROUPS = {"meta"}
_ROW_RE = re.compile(r"\[row\s*:\s*(\d+)\]")
_TRUE = {"yes", "true", "true()", "1", "si", "sí"}
_FALSE = {"no", "false", "false()", "0", ""}
_EXPR_COLUMNS = ("relevant", "constraint", "calculation", "required", "read_only",
                 "choice_filter", "repeat_count", "default", "trigger", "parameters",
                 "constraint_message", "required_message")
_MAX_ROUNDS = 60  # pyxform reruns after setting a refused row aside

_memory: dict[str, FormDef] = {}
MAX_FORM_FILE_BYTES = 32 << 20

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _sniff(raw: bytes) -> str:
    if raw[:2] == b"PK":
        return "xlsx"
    if raw[:8] == _XLS_MAGIC:
        return "xls"
    return "md"


def _read_source(source: str | Path | bytes) -> tuple[bytes, str, Path | None]:
    """-> (raw bytes, file type xlsx | xls | md, directory of the file).

    The type comes from the content (a zip is .xlsx, an OLE2 compound file is .xls),
    so a misnamed file is still read correctly; anything else is markdown."""
    if isinstance(source, bytes):
        return source, _sniff(source), None
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                    and "|" not in source):
        p = Path(source)
        if not p.is_file():
            raise FormLoadError([Problem(None, f"no se encontró el archivo del formulario «{p}»")])
        try:  # size checked first, read in bounded pieces (a form is a few hundred KB)
            raw = read_limited(p, MAX_FORM_FILE_BYTES, "un formulario")
        except ValidationError as e:
            raise FormLoadError([Problem(None, e.user_message)]) from None
        ftype = _sniff(raw)
        if ftype == "md" and p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            raise FormLoadError([Problem(None, f"«{p.name}» no es un libro de Excel válido "
                                               "(el archivo está dañado o tiene otro formato)")])
        if ftype == "md":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise FormLoadError([Problem(None, (
                    f"«{p.name}» no es un formulario: use un libro .xlsx o .xls, o una tabla "
                    "markdown en UTF-8"))]) from e
        return raw, ftype, p.parent
    return source.encode("utf-8"), "md", None


def source_hash(raw: bytes) -> str:
    return hashlib.sha256(ENGINE_VERSION.encode() + b"\0" + raw).hexdigest()


def load_form(source: str | Path | bytes, cache_dir: str | Path | None = None) -> FormDef:
    """Load an XLSForm from a path (.xlsx, .xls, .md), markdown text or bytes.

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
                program_of(fd)
                _memory[key] = fd
                return fd
        except Exception:  # noqa: BLE001 - a broken cache is only a slow load
            log.warning("form cache %s unreadable; rebuilding", cache_file)
    fd = _build(raw, ftype, base)
    fd.source_hash = key
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
    return _pyxform_problems(e)[0]


def _pyxform_problems(e: Exception) -> list[Problem]:
    """pyxform's message as problems: one per `[row : N]` it names (pyxform joins
    several rows' errors in one message), each with its own text."""
    msg = str(e).strip()
    marks = list(_ROW_RE.finditer(msg))
    if len(marks) <= 1:
        row = int(marks[0].group(1)) if marks else None
        return [Problem(row, f"pyxform: {_ROW_RE.sub('', msg).strip()}")]
    out: list[Problem] = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(msg)
        text = msg[m.end():end].strip(" \n;,.")
        if i == 0 and not text:
            text = msg[:m.start()].strip()
        out.append(Problem(int(m.group(1)), f"pyxform: {text or msg}"))
    return out


def _crash_row(exc: BaseException, rows_by_name: dict[str, list[int]]) -> int | None:
    """The survey row an unexpected pyxform exception was handling, from the frames of
    its traceback: a `row_number` local while reading the sheet, or the survey element
    (`self`, `element`, `question`) being built, whose name gives the row."""
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for fr in reversed(frames):
        loc = fr.f_locals
        rn = loc.get("row_number")
        if isinstance(rn, int) and rn > 0:
            return rn
        for key in ("self", "element", "question", "survey_element"):
            el = loc.get(key)
            name = getattr(el, "name", None)
            if isinstance(name, str) and type(el).__name__ != "Survey":
                rows = rows_by_name.get(name)
                if rows:
                    return rows[0]
    return None


def _crash_message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return (f"pyxform no pudo procesar esta fila ({text}); revise sus columnas "
            "(tipo, parámetros, columnas instance::…)")


def _set_aside(rows: list[dict[str, Any]], row: int, attempt: int) -> bool:
    """Make survey row `row` harmless so pyxform can go on to the next problem:
    first clear its expression and extra columns, then also give it a unique name,
    then turn it into a plain text question. False when nothing is left to try."""
    i = row - 2
    if not 0 <= i < len(rows):
        return False
    r = rows[i]
    rtype = str(r.get("type") or "").strip().lower()
    structural = rtype.startswith(("begin", "end"))
    if attempt == 0:
        for k in list(r):
            if k in _EXPR_COLUMNS or k.startswith(("instance::", "bind::", "body::")):
                r.pop(k, None)
        if rtype == "calculate":  # a calculate without its calculation is an error too
            r["type"] = "text"
            _ensure_label(r, row)
        return True
    if structural:
        return False
    if attempt == 1:
        r["type"] = "text"
        _ensure_label(r, row)
        return True
    if attempt == 2:
        r["name"] = f"siee_fila_{row}"
        return True
    return False


def _ensure_label(r: dict[str, Any], row: int) -> None:
    if not any(str(k).startswith("label") and r.get(k) for k in r):
        r["label"] = str(r.get("name") or f"fila {row}")


def _prechecks(wb: Any, problems: list[Problem]) -> set[int]:
    """What pyxform accepts but the engine refuses for the whole workbook; returns the
    rows of `select_multiple ${name}` questions (read by pyxform as select_one)."""
    entities = getattr(wb, "entities", None)
    if entities:
        problems.append(Problem(None, (
            "la hoja «entities» (entidades de ODK Central) no está soportada: este programa "
            "no crea ni actualiza entidades; quite la hoja para usar el formulario")))
        wb.entities = []
        if hasattr(wb, "entities_header"):
            wb.entities_header = []
    multi: set[int] = set()
    for i, r in enumerate(wb.survey or []):
        rtype = " ".join(str(r.get("type") or "").split())
        m = re.match(r"^(?:select_multiple|select all that apply)\s+(\$\{.*)$", rtype)
        if m:
            # pyxform 4 crashes (KeyError) on a select_multiple over a repeat's answers
            # but handles the select_one form: convert that, the engine makes it multiple
            r["type"] = f"select_one {m.group(1)}"
            multi.add(i + 2)
    return multi


def _build(raw: bytes, ftype: str, base: Path | None) -> FormDef:
    # pyxform is deferred on purpose here and below (about 0.5 s to import): only a
    # form not yet in the cache is converted (tests/test_layers.py DEFERRED_OK).
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    warnings: list[str] = []
    try:
        wb = get_xlsform(io.BytesIO(raw), file_type="." + ftype)
    except Exception as e:  # noqa: BLE001 - pyxform raises assorted errors on bad input
        what = {"xls": "el libro .xls", "xlsx": "el libro .xlsx"}.get(ftype, "la tabla")
        raise FormLoadError([Problem(None, f"no se pudo leer {what}: {e}")]) from e
    survey_rows: list[dict[str, Any]] = list(wb.survey or [])
    rows_by_name = _rows_by_name(survey_rows)
    problems: list[Problem] = []
    multi_rows = _prechecks(wb, problems)
    attempts: dict[int, int] = {}
    data: dict[str, Any] | None = None
    for _round in range(_MAX_ROUNDS):
        warnings = []
        try:
            data = workbook_to_json(wb, warnings=warnings)
            survey = create_survey_element_from_dict(data)
            survey.to_xml(validate=False, warnings=warnings)
            break
        except PyXFormError as e:
            found = _pyxform_problems(e)
            for extra in found[1:]:  # further rows named in the same message
                if extra not in problems:
                    problems.append(extra)
                    attempts[extra.row or 0] = 1
                    _set_aside(wb.survey, extra.row or 0, 0)
            prob = _locate(found[0], survey_rows)
        except RecursionError:
            raise
        except Exception as e:  # noqa: BLE001 - pyxform crashes on some input
            prob = Problem(_crash_row(e, rows_by_name), _crash_message(e))
        data = None
        if prob.row is None and attempts:
            break  # a complaint without a row after setting rows aside is an echo
        if prob.row is None or prob.row not in attempts:
            problems.append(prob)  # later complaints about a row set aside are echoes
        if prob.row is None:
            break
        n = attempts.get(prob.row, 0)
        attempts[prob.row] = n + 1
        if not _set_aside(wb.survey, prob.row, n):
            break
    if data is None:
        raise FormLoadError(_sorted(problems))
    b = _Builder(data, rows_by_name, base, warnings, getattr(wb, "external_choices", None),
                 survey_rows)
    b.multi_rows = multi_rows
    fd = b.build()
    problems.extend(b.problems)
    if not problems:
        program_of(fd)  # compiles expressions, checks the graph; raises FormLoadError
        return fd
    try:
        program_of(fd)
    except FormLoadError as e:  # report expression problems in the same pass
        problems.extend(p for p in e.problems if p not in problems)
    raise FormLoadError(_sorted(problems))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.row is not None, p.row or 0))


def _locate(p: Problem, survey_rows: list[dict[str, Any]] | None) -> Problem:
    """Give a row to a pyxform message that has none, from the values it quotes."""
    if p.row is not None or not survey_rows:
        return p
    for token in re.findall(r"'([^']+)'", p.message):
        for i, r in enumerate(survey_rows):
            if any(str(v).strip() == token for v in r.values()):
                return Problem(i + 2, p.message)
    return p


def _rows_by_name(survey_rows: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Every survey row of each name, in sheet order (the header is row 1)."""
    out: dict[str, list[int]] = {}
    for i, r in enumerate(survey_rows or []):
        name = str(r.get("name") or "").strip()
        rtype = str(r.get("type") or "").strip()
        if not name and rtype == "audit":
            name = "audit"
        if name and not rtype.lower().startswith("end"):
            out.setdefault(name, []).append(i + 2)
    return out


def _texts(v: Any) -> dict[str, str]:
    if v is None:
        return {}
    if isinstance(v, dict):
        return {str(k): str(t) for k, t in v.items() if isinstance(t, str | int | float)}
    return {"": str(v)}


def _parameters(v: Any) -> dict[str, str] | None:
    """The parameters cell as a dict (pyxform leaves it as text on types it does not
    read it for); None when it is not `key=value` pairs."""
    if not v:
        return {}
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    from pyxform.errors import PyXFormError
    from pyxform.parsing.parameters import parse

    try:
        return parse(str(v), 0)
    except PyXFormError:
        return None


def _engine_type(jtype: str) -> tuple[str | None, str | None, str | None]:
    """pyxform's question type (any alias the XLSForm spec allows) -> (engine type,
    device property for metadata, Spanish reason when refused)."""
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

    if jtype in _TYPE_MAP:
        return _TYPE_MAP[jtype], None, None
    if jtype in QUESTION_TYPES:
        return jtype, None, None
    if jtype == "select one external":
        return "select_one", None, None
    if jtype == "trigger":
        return "acknowledge", None, None
    if jtype in ("xml-external", "csv-external"):
        return None, None, "las instancias secundarias no se pueden usar; use " \
            "select_one_from_file con un CSV"
    spec = QUESTION_TYPE_DICT.get(jtype)
    if spec is None:
        return None, None, "no es un tipo de pregunta conocido"
    bind = spec.get("bind") or {}
    ctrl = spec.get("control") or {}
    preload, params = bind.get("jr:preload"), bind.get("jr:preloadParams")
    if preload == "timestamp" and params in ("start", "end"):
        return str(params), None, None
    if preload == "date":
        return "today", None, None
    if preload == "property" and params in _PROPERTY_PRELOADS:
        return "calculate", str(params), None
    tag, btype = ctrl.get("tag"), bind.get("type")
    if tag == "upload" or btype == "binary":
        what = _MEDIA_ES.get(str(ctrl.get("mediatype")), "archivos")
        return None, None, f"este programa no toma {what}; quite la pregunta o use una " \
            "pregunta de texto"
    if tag == "action" or jtype.startswith("background-"):
        return None, None, "las laptops no capturan GPS ni audio en segundo plano"
    if tag == "select1":
        return "select_one", None, None
    if tag == "select":
        return "select_multiple", None, None
    if tag == "range":
        return "range", None, None
    if tag == "trigger":
        return "acknowledge", None, None
    if btype in ("geotrace", "geoshape"):
        return None, None, "los trazos y polígonos GPS no se pueden capturar en la laptop"
    if btype == "odk:rank" or tag == "odk:rank":
        return None, None, "las preguntas de ordenar opciones aún no se pueden responder"
    if btype in _BIND_TYPES:
        return _BIND_TYPES[btype], None, None
    if btype == "string":
        return ("text" if tag == "input" else "calculate"), None, None
    return None, None, "el programa no sabe responderlo"


def _range_bounds(nd: NodeDef, params: dict[str, str]) -> tuple[str, list[str]]:
    """range -> (integer | decimal, constraint terms for start/end/step)."""
    vals: dict[str, float] = {}
    bad: list[str] = []
    for k, dflt in (("start", "1"), ("end", "10"), ("step", "1")):
        txt = str(params.get(k, dflt))
        try:
            vals[k] = float(txt)
        except ValueError:
            bad.append(k)
    if bad:
        return "", bad
    start, end, step = vals["start"], vals["end"], vals["step"]
    whole = all(float(x).is_integer() for x in (start, end, step))
    lo, hi = min(start, end), max(start, end)
    terms = [f". >= {_num(lo)}", f". <= {_num(hi)}"]
    if whole and step not in (0, 1):
        terms.append(f"((. - {_num(start)}) mod {_num(abs(step))}) = 0")
    return ("integer" if whole else "decimal"), terms


def _num(x: float) -> str:
    return fmt_num(x)


def _choice_from_row(c: dict[str, Any]) -> Choice:
    labels: dict[str, str] = {}
    extra: dict[str, str] = {}
    for k, v in c.items():
        if k in ("list_name", "name", "media") or not isinstance(v, str | int | float):
            if k == "label" and isinstance(v, dict):
                labels.update(_texts(v))
            continue
        if k == "label":
            labels[""] = str(v)
        elif k.startswith("label::"):
            labels[k.split("::", 1)[1]] = str(v)
        else:
            extra[k] = str(v)
    return Choice(str(c.get("name", "")), labels or {"": str(c.get("name", ""))}, extra)


class _Builder:
    def __init__(self, data: dict[str, Any], rows: dict[str, list[int]], base: Path | None,
                 warnings: list[str], external: list[dict[str, Any]] | None = None,
                 survey_rows: list[dict[str, Any]] | None = None) -> None:
        self.data = data
        self.rows = {k: list(v) for k, v in rows.items()}
        self.base = base
        self.warnings = warnings
        self.external = external or []
        self.problems: list[Problem] = []
        self.names: dict[str, NodeDef] = {}
        self.all_names: dict[str, list[NodeDef]] = {}
        self.choices: dict[str, list[Choice]] = {}
        self.triggers: dict[int, list[str]] = {}
        self.repeat_lists: dict[int, str] = {}
        self.multi_rows: set[int] = set()
        self.sheet_types: dict[int, str] = {
            i + 2: str(r.get("type") or "").strip() for i, r in enumerate(survey_rows or [])}
        self.sheet_rows: dict[int, dict[str, Any]] = {
            i + 2: r for i, r in enumerate(survey_rows or [])}

    def _row(self, name: str) -> int | None:
        lst = self.rows.get(name)
        if not lst:
            return None
        return lst.pop(0) if len(lst) > 1 else lst[0]

    def build(self) -> FormDef:
        d = self.data
        root_name = str(d.get("name") or "data")
        root = NodeDef(root_name, (root_name,), "group", "group")
        for lst, items in (d.get("choices") or {}).items():
            self.choices[lst] = [self._choice(c) for c in items]
        for child in d.get("children", []):
            self._node(child, root)
        self._resolve(root)
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

    def _refuse(self, row: int | None, name: str, why: str) -> None:
        self.problems.append(Problem(row, f"«{name}»: {why}"))

    def _meta(self, j: dict[str, Any]) -> None:
        """pyxform's meta group: instanceID and instanceName are the engine's own
        business (to_xml); anything else there (audit) cannot run."""
        for c in j.get("children", []):
            name = str(c.get("name", ""))
            if name in ("instanceID", "instanceName", "deprecatedID"):
                continue
            row = self._row(name)
            if str(c.get("type")) == "audit" or name == "audit":
                self._refuse(row, name, "el registro de auditoría (audit) no está soportado; "
                             "quite la fila audit")
            else:
                self._refuse(row, name, "los metadatos de este tipo no están soportados")

    def _node(self, j: dict[str, Any], parent: NodeDef) -> None:
        name = str(j.get("name", ""))
        jtype = str(j.get("type", ""))
        if jtype == "group" and name in _SKIPPED_GROUPS and parent.path == parent.path[:1]:
            self._meta(j)
            return
        row = self._row(name)
        path = (*parent.path, name)
        bind = dict(j.get("bind") or {})
        control = j.get("control") or {}
        prop: str | None = None
        refused = False
        if jtype in ("group", "repeat"):
            nd = NodeDef(name, path, jtype, jtype, row)
        else:
            qtype, prop, why = _engine_type(jtype)
            preload = bind.get("jr:preload")
            if qtype is not None and preload:
                qtype, prop, why2 = self._preload(qtype, preload, bind.get("jr:preloadParams"))
                why = why or why2
            if qtype is None:
                shown = self.sheet_types.get(row or 0) or jtype
                self._refuse(row, name, f"el tipo «{shown}» no está soportado: {why}")
                qtype, refused = "text", True  # placeholder so references still resolve
            if qtype == "select_one" and row in self.multi_rows:
                qtype = "select_multiple"
            nd = NodeDef(name, path, "question", qtype, row)
        raw_row = self.sheet_rows.get(row or 0)
        if raw_row:
            # pyxform collapses runs of spaces in every cell; string literals in
            # expressions are kept byte for byte from the sheet
            for k, v in list(bind.items()):
                bind[k] = _raw_cell(raw_row, v)
            for k in ("choice_filter", "default"):
                if isinstance(j.get(k), str):
                    j = {**j, k: _raw_cell(raw_row, j[k])}
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
        nd.default = self._default(j, nd)
        nd.warning = j.get("warning") or None
        nd.warning_msgs = _texts(j.get("warning_message"))
        nd.choice_filter = j.get("choice_filter") or None
        nd.repeat_count = control.get("jr:count") or None
        params = _parameters(j.get("parameters"))
        if params is None:
            self._refuse(row, name, f"la columna parameters («{j.get('parameters')}») debe "
                         "tener la forma clave=valor, por ejemplo start=1 end=5")
            params = {}
        nd.parameters = params
        if prop is not None and not nd.calculation:
            # metadata read once from the device, then kept with the record
            nd.calculation = f"once(property('{prop}'))"
        if nd.type == "range" and not refused:
            qtype, terms = _range_bounds(nd, params)
            if not qtype:
                self._refuse(row, name, f"range: {', '.join(terms)} no es un número")
                nd.type = "integer"
            else:
                nd.type = qtype
                rule = " and ".join(terms)
                if not nd.constraint_msgs:
                    lo, hi = terms[0].split()[-1], terms[1].split()[-1]
                    every = f" (de {_num(abs(float(params.get('step', '1'))))} en " \
                        f"{_num(abs(float(params.get('step', '1'))))})" if len(terms) > 2 else ""
                    nd.constraint_msgs = {"": f"El valor debe estar entre {lo} y {hi}{every}."}
                nd.constraint = f"({nd.constraint}) and {rule}" if nd.constraint else rule
        trig = j.get("trigger")
        if trig:
            many = isinstance(trig, list | tuple)
            self.triggers[id(nd)] = [str(t) for t in trig] if many else [str(trig)]
        if nd.is_select and not refused:
            self._select(nd, j, jtype)
        siblings = [c for c in parent.children if c.name == name]
        if siblings:
            self.problems.append(Problem(row, (
                f"el nombre «{name}» está repetido en el mismo grupo (primera vez en la fila "
                f"{siblings[0].row})")))
        self.all_names.setdefault(name, []).append(nd)
        self.names.setdefault(name, nd)
        parent.children.append(nd)
        for c in j.get("children", []) if jtype in ("group", "repeat") else []:
            self._node(c, nd)

    def _preload(self, qtype: str, preload: str, params: Any
                 ) -> tuple[str | None, str | None, str | None]:
        """The bind::jr:preload column on any question (ODK XForms preloaders)."""
        params = str(params or "")
        if preload == "timestamp" and params in ("start", "end"):
            return params, None, None
        if preload == "date" and params == "today":
            return "today", None, None
        if preload == "property" and params in _PROPERTY_PRELOADS:
            return "calculate", params, None
        if preload == "uid":
            return "calculate", None, None
        return None, None, f"jr:preload «{preload}» ({params}) no está soportado"

    def _default(self, j: dict[str, Any], nd: NodeDef) -> str | None:
        """The default column: a literal (kept byte for byte; quoted when it would read
        as an expression, e.g. 'US$ 5' or '1/2') or an expression (pyxform's rule)."""
        dv = j.get("default")
        if dv in (None, ""):
            return None
        text = str(dv)
        from pyxform.utils import default_is_dynamic

        if default_is_dynamic(text, str(j.get("type", ""))):
            return text
        if re.match(r"^[^()$/\[\]]*$", text):
            return text  # the engine's literal default, as before
        return _xpath_literal(text)

    def _select(self, nd: NodeDef, j: dict[str, Any], jtype: str) -> None:
        itemset = j.get("itemset")
        list_name = j.get("list_name")
        if jtype == "select one external":
            lname = str(itemset or list_name or "")
            rows = [r for r in self.external if str(r.get("list_name", "")) == lname]
            if not rows:
                self.problems.append(Problem(nd.row, (
                    f"la lista «{lname}» no está en la hoja external_choices")))
                return
            key = f"external:{lname}"
            self.choices[key] = [_choice_from_row(r) for r in rows]
            nd.list_name = key
            return
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
        if nd.list_name.startswith("${"):
            # choices from a repeat's answers: resolved with the other references
            self.repeat_lists[id(nd)] = nd.list_name[2:-1].strip()
            nd.list_name = None
            return
        if nd.list_name not in self.choices:
            if j.get("choices"):
                self.choices[nd.list_name] = [self._choice(c) for c in j["choices"]]
            else:
                self.problems.append(Problem(
                    nd.row, f"la lista de opciones «{nd.list_name}» no existe"))

    def _target(self, name: str, nd: NodeDef) -> NodeDef | None:
        """The node a `${name}` in `nd` names: the only one, or, for a name used in
        several groups, the one closest to `nd` (sharing most of its path)."""
        cands = self.all_names.get(name)
        if not cands:
            return None
        if len(cands) == 1:
            return cands[0]

        def shared(c: NodeDef) -> int:
            k = 0
            for a, b in zip(c.path, nd.path, strict=False):
                if a != b:
                    break
                k += 1
            return k

        best = max(shared(c) for c in cands)
        top = [c for c in cands if shared(c) == best]
        if len(top) > 1:
            raise _Ambiguous(name)
        return top[0]

    # -- ${name} -> absolute path
    def _resolve(self, root: NodeDef) -> None:
        for nd in root.walk()[1:]:
            def resolve(name: str, nd: NodeDef = nd) -> str:
                target = self._target(name, nd)
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
                except _Ambiguous as e:
                    self.problems.append(Problem(nd.row, (
                        f"«{nd.name}» ({attr}): ${{{e.name}}} es ambiguo (hay varias preguntas "
                        "con ese nombre a la misma distancia); cambie uno de los nombres")))
            for texts in (nd.labels, nd.hints):
                for txt in texts.values():
                    for ref in referenced_names(txt):
                        if ref not in self.all_names:
                            self.problems.append(Problem(
                                nd.row, f"el texto de «{nd.name}» usa ${{{ref}}}, que no existe"))
            for t in self.triggers.get(id(nd), []):
                t = t.strip()
                if t.startswith("${") and t.endswith("}"):
                    t = t[2:-1]
                try:
                    target = self._target(t, nd)
                except _Ambiguous:
                    target = None
                if target is None:
                    self.problems.append(Problem(nd.row, f"trigger «{t}» no existe"))
                else:
                    nd.trigger.append(target.path)
            src_name = self.repeat_lists.get(id(nd))
            if src_name is not None:
                self._repeat_choices(nd, src_name)

    def _repeat_choices(self, nd: NodeDef, src_name: str) -> None:
        """`select_one ${member_name}`: the choices are the answers of that question in
        every instance of its repeat (value and label are the answer, as pyxform's
        itemset), filtered by choice_filter when there is one."""
        try:
            target = self._target(src_name, nd)
        except _Ambiguous:
            target = None
        if target is None or target.kind != "question":
            self.problems.append(Problem(nd.row, (
                f"«{nd.name}»: ${{{src_name}}} no es una pregunta del formulario")))
            return
        rep = next((target.path[:k] for k in range(len(target.path) - 1, 0, -1)
                    if self._is_repeat(target.path[:k])), None)
        if rep is None:
            self.problems.append(Problem(nd.row, (
                f"«{nd.name}»: ${{{src_name}}} no está dentro de una repetición")))
            return
        rel = "/".join(target.path[len(rep):])
        pred = f"{rel} != ''"
        if nd.choice_filter:
            pred = f"{pred} and ({nd.choice_filter})"
        nd.choice_filter = None
        nd.choice_from = f"/{'/'.join(rep)}[{pred}]/{rel}"

    def _is_repeat(self, path: tuple[str, ...]) -> bool:
        for lst in self.all_names.values():
            for c in lst:
                if c.path == path:
                    return c.kind == "repeat"
        return False


def _raw_cell(row: dict[str, Any], value: Any) -> Any:
    """The sheet's own text of a value pyxform cleaned (whitespace collapsed): the
    cell of `row` that reads the same once spaces are collapsed, else `value`."""
    if not isinstance(value, str) or "  " in value or not any(
            isinstance(c, str) and "  " in c for c in row.values()):
        return value
    want = " ".join(value.split())
    for cell in row.values():
        if isinstance(cell, str) and " ".join(cell.split()) == want:
            return cell.strip()
    return value


def _xpath_literal(text: str) -> str:
    """A string as an XPath literal (concat() when it holds both kinds of quote)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in parts) + ")"


class _UnknownRef(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Ambiguous(_UnknownRef):
    pass


def _flag(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    if s.lower() in _TRUE:
        return "true()"
    if s.lower() in _FALSE:
        return None
    return s
