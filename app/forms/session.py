"""FormSession: one record's answers, kept consistent with the form's rules.

After each change only the slots that read what changed are evaluated again
(app.forms.graph). Calculations, relevance and repeat counts ("producers") are
evaluated at once; required, read-only, constraint, warning and choice-filter
expressions ("leaves", which no other expression reads) are marked stale and
evaluated when their node's state is read, so reading a state gives exactly
what an eager evaluation would.

Rules this module applies to every answer (docs/forms.md):
- input is brought to one canonical form first: characters XML 1.0 forbids are
  removed, digits of any script become ASCII digits, numbers and dates are read
  after NFKC normalisation, a decimal question accepts a decimal comma (3,5 = 3.5);
- an answer its question's type refuses (text in an integer question, NaN or
  infinity, an impossible date, a choice the list does not have) is kept where the
  person can see and correct it (`get`, `state`, `aside`) but counts as empty
  everywhere else — calculations, relevance, `answers`, `to_json`, `to_xml` — until
  it is valid;
- a calculation whose result is not a finite number stores nothing (not "NaN");
- lowering a repeat_count sets the removed instances aside, and raising it again
  brings them back with their answers;
- opening a stored record keeps the calculated values it holds (uuid(), now(),
  today() read back exactly as saved), and a calculation its `to_json` left out stays
  empty; a calculation is evaluated again only when something it reads changes.
"""

from __future__ import annotations

import heapq
import json
import math
import re
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dt_time
from types import NoneType
from typing import Any

from app.core.errors import NotFound, ValidationError
from app.core.gc_pause import gc_paused
from app.core.text import ascii_digits, canonical_number_text, xml_safe
from app.forms.definition import Choice, FormDef, NodeDef, generic_path, repeat_choices
from app.forms.graph import NotIndexable, Slot, program_of
from app.forms.instance import to_xml
from app.forms.xpath import (
    _NO_CHILDREN,
    _NO_NAMES,
    Env,
    EvalError,
    Node,
    fmt_num,
    parse_date,
    parse_datetime,
    substitute_refs,
    to_bool,
    to_date,
    to_number,
    to_string,
)

MAX_REPEAT_COUNT = 200
# evaluations of one rule on one node within one change before the session gives up
# (a loop the form's graph did not show; graph.Program refuses the ones it sees)
MAX_REEVALUATIONS = 50
# Fast paths (lazy leaves, the single ordered pass when a record is opened, choice
# filters on column indexes). False gives the plain eager evaluation, kept to prove
# both give the same results (tests/forms/test_fast_paths.py) and for bench/forms.py.
FAST = True
_CANONICAL_TYPES = frozenset({"integer", "decimal", "date", "datetime", "time"})
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_DEC_RE = re.compile(r"^[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)([eE][+-]?[0-9]+)?$")
REQUIRED_MSG = "Esta pregunta es obligatoria."
CONSTRAINT_MSG = "La respuesta no cumple la regla de esta pregunta."
WARNING_MSG = "Revise esta respuesta: es poco usual."
TYPE_MSGS = {
    "integer": "Ingrese un número entero.",
    "decimal": "Ingrese un número.",
    "date": "Ingrese una fecha válida (AAAA-MM-DD).",
    "datetime": "Ingrese una fecha y hora válidas.",
    "select_one": "La opción elegida no está en la lista.",
    "select_multiple": "Alguna opción elegida no está en la lista.",
}


@dataclass(frozen=True, slots=True)
class NodeState:
    path: str
    kind: str  # group | repeat | question
    type: str
    value: str
    relevant: bool
    required: bool
    valid: bool
    message: str | None
    warning: str | None
    choices: list[tuple[str, str]] | None
    read_only: bool
    label: str
    hint: str


@dataclass(frozen=True, slots=True)
class Issue:
    path: str
    message: str
    row: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


@dataclass(slots=True)
class Report:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No hard error: the record may be marked complete."""
        return not self.errors


_ALL = ()  # `_St.pending` value: every leaf slot of the node is stale
_TEXTS_FIXED, _TEXTS_READ_LABEL, _TEXTS_READ_ALL = 0, 1, 2  # FormSession._shows_answers
_HARD_EMPTY = frozenset({"required"})  # leaves that decide the hard error of an empty answer
_HARD_GIVEN = frozenset({"choices", "constraint"})  # ... and of a given one


class _St(Node):
    """A node of a session's tree with its runtime state: one object, not a node and a
    state object (a 20-member FSU has about 600 nodes, built each time a record is
    opened); `node.st` is the node itself.

    pending: leaf slots to evaluate before the state is read (None: none; _ALL: all).
    raw: what was typed when the question's type refuses it (the node's value is then
    empty). kept: repeat instances set aside by a lowered repeat_count, by repeat name."""

    __slots__ = ("own_rel", "required", "readonly", "valid", "warn_ok", "choices", "error",
                 "pending", "raw", "kept", "shown")

    # the node is its own state; a property, not a reference to itself, so that a tree
    # without parents (FormSession.close) is freed by reference counting alone
    st = property(lambda self: self)  # type: ignore[assignment]

    def __init__(self, name: str, parent: Node | None, defn: Any, leaf: bool,
                 static: dict[str, bool] | None = None, lazy: bool = False) -> None:
        # Node.__init__, inlined (this runs for every node of every opened record)
        self.name = name
        self.parent = parent
        if leaf:
            self.children = _NO_CHILDREN  # type: ignore[assignment]
            self.by_name = _NO_NAMES
        else:
            self.children = []
            self.by_name = {}
        self.defn = defn
        self.value = ""
        self.relevant = True
        self.index = 1
        self.own_rel = True
        self.required = False
        self.readonly = False
        self.valid = True
        self.warn_ok = True
        self.choices: list[Choice] | None = None
        self.error: str | None = None
        self.pending: tuple[()] | list[Slot] | None = _ALL if lazy else None
        self.raw: str | None = None
        self.kept: dict[str, list[Node]] | None = None
        # the last NodeState read: (session epoch, language, state); dropped whenever
        # something it shows may have changed (FormSession._state)
        self.shown: tuple[int, str | None, NodeState] | None = None
        if static:
            self.required = static.get("required", False)
            self.readonly = static.get("readonly", False)
            self.valid = static.get("constraint", True)
            self.warn_ok = static.get("warning", True)


class FormSession:
    """Answers of one record for `formdef`.

    `answers` is either what `to_json()` returned or a flat map
    {"/fsu/integrantes[2]/edad": value} (repeat instances are created as needed).
    `properties` are the values `property(name)` gives in this session (ODK's device
    properties and metadata), e.g. {"username": "Ana Torres", "siee:ule": "150101"}
    set by the workspace for a new record; names not given fall back to
    `functions.device_property`. Defaults (the `default` column) read them when the
    session starts without answers.

    Opening what `to_json()` of the same form version wrote keeps every calculated
    value as stored, the empty ones (left out of `answers`) included, so a record reads
    back exactly as saved (issue 14, real-forms item 10). A stored answer also settles
    that its question and the groups around it were relevant when the record was saved;
    with the same answers and calculated values the relevance rules give the same
    result again, so they are not evaluated for those nodes, unless they read the clock,
    chance or device properties (Slot.volatile). `recheck=True` evaluates everything
    the record leaves out or settles again, its calculated values included (the
    centre's check of a received record, which must not take a laptop's word for
    anything: a stored `edad` is computed again from the birth date)."""

    def __init__(self, formdef: FormDef, answers: dict[str, Any] | None = None, *,
                 language: str | None = None,
                 clock: Callable[[], datetime] | None = None,
                 fast: bool | None = None,
                 properties: dict[str, str] | None = None,
                 recheck: bool = False) -> None:
        self.formdef = formdef
        self._recheck = recheck
        self._was_relevant: set[int] = set()  # nodes a stored answer shows relevant
        self.properties: dict[str, str] = dict(properties or {})
        self.program = program_of(formdef)
        self.language = language or formdef.default_language
        self.clock = clock
        self._fast = FAST if fast is None else fast
        self._static = self.program.static
        self.doc = Node("#doc")
        self.root = self.doc.append(self._new_node(formdef.root, None))
        # the environment reaches the session weakly: no cycle through it, so a session
        # nobody holds any more is freed at once, and its __del__ unlinks the tree
        self.env = Env(self.doc, weakref.proxy(self))
        if self._fast:
            self.env.indexes = {}  # `[column = value]` predicates by value index
        self._queue: list[tuple[int, int, int, Slot, Node]] = []
        self._queued: set[tuple[int, int]] = set()
        self._seq = 0
        self._loading = True
        self._opening = True  # until the first full evaluation is done
        self._keep: set[int] = set()  # calculated nodes whose stored value is kept
        self._detached = False  # some instance left the tree (checked before evaluating)
        self._epoch = 0  # bumped when repeat instances come, go or move (cached states)
        self._paths: list[tuple[Node, str]] | None = None  # iter_nodes' walk, until then
        self._hosts: dict[tuple[str, ...], list[Node]] | None = (
            {formdef.root.path: [self.root]} if self._fast else None)
        with gc_paused():  # hundreds of linked nodes built at once (app.core.gc_pause)
            for child in formdef.root.children:
                self._build(child, self.root)
            if answers:
                self._load(answers)
            else:
                self._apply_defaults(self.root)
            self._loading = False
            if self._fast:
                self._open_eval()
            else:
                self._full_eval()
        self._opening = False
        self._keep.clear()
        self._was_relevant.clear()  # ids of this build only
        self._hosts = None

    def _new_node(self, nd: NodeDef, parent: Node | None) -> _St:
        """A group or repeat instance of `nd` (not yet attached)."""
        return _St(nd.name, parent, nd, False, self._static.get(nd.path), self._fast)

    # ------------------------------------------------------------------ building
    def _build(self, nd: NodeDef, parent: Node) -> None:
        self._grow(_plan_of(self.program, nd), parent)

    def _grow(self, plan: tuple[_Grow, ...], parent: Node) -> None:
        """Build the nodes of `plan` (see _plan_of) under `parent`."""
        lazy = self._fast
        hosts = self._hosts if self._loading else None
        by_name = parent.by_name
        children = parent.children
        for name, nd, path, static, kids, is_repeat in plan:
            if is_repeat:
                # instances are added by add_repeat / repeat_count / loaded answers
                by_name.setdefault(name, [])
                continue
            node = _St(name, parent, nd, not kids and nd.kind == "question", static, lazy)
            children.append(node)
            by_name[name] = [node]  # a non-repeat name appears once under a parent
            if hosts is not None:
                lst = hosts.get(path)
                if lst is None:
                    hosts[path] = [node]
                else:
                    lst.append(node)
            if kids:
                self._grow(kids, node)

    def _new_instance(self, nd: NodeDef, parent: Node, position: int | None = None) -> Node:
        self._paths = None
        inst = self._new_node(nd, None)
        if self._hosts is not None and self._loading:
            self._hosts.setdefault(nd.path, []).append(inst)
        siblings = parent.by_name.setdefault(nd.name, [])
        if position is None or position >= len(siblings):
            if siblings:
                at = parent.children.index(siblings[-1]) + 1
            else:
                at = self._insert_point(nd, parent)
            parent.children.insert(at, inst)
            siblings.append(inst)
        else:
            ref = siblings[position]
            parent.children.insert(parent.children.index(ref), inst)
            siblings.insert(position, inst)
        inst.parent = parent
        if position is None:
            inst.index = len(siblings)
        else:
            for i, s in enumerate(siblings, 1):
                s.index = i
        self._grow(_plan_of(self.program, nd)[0][4], inst)
        if not self._loading:  # while loading nothing is evaluated yet: all relevant
            inst.relevant = parent.relevant
            for n in _walk(inst):
                if n is not inst and n.parent is not None:
                    n.relevant = n.parent.relevant
            self._apply_defaults(inst)
        return inst

    def _insert_point(self, nd: NodeDef, parent: Node) -> int:
        order = [c.name for c in parent.defn.children] if parent.defn else []
        mine = order.index(nd.name) if nd.name in order else len(order)
        for i, c in enumerate(parent.children):
            if c.name in order and order.index(c.name) > mine:
                return i
        return len(parent.children)

    def _apply_defaults(self, top: Node) -> None:
        defaults = self.program.defaults
        for n in _walk(top):
            if n.defn is not None and n.defn.type in ("start", "today") and n.value == "":
                now = self.clock() if self.clock is not None else datetime.now()
                now = now.astimezone()
                n.value = now.date().isoformat() if n.defn.type == "today" else (
                    now.isoformat(timespec="milliseconds"))
            d = defaults.get(n.defn.path) if n.defn is not None else None
            if d is None or n.value != "":
                continue
            self._forget_indexes()  # values set here do not go through _changed
            if isinstance(d, str):
                self._put(n, n.defn, d)
            else:
                try:
                    n.value = self._coerce_result(n.defn, d(n, self.env.at(n)))
                except Exception:  # noqa: BLE001 - a failing default leaves the answer empty
                    n.value = ""

    # ------------------------------------------------------------------ lookup
    def _find(self, path: str, create: bool = False) -> Node:
        try:
            steps = self.program.steps(path)
        except ValueError as e:
            raise NotFound(str(e), f"Ruta inválida: {path}") from e
        except (KeyError, TypeError, AttributeError):
            raise NotFound(f"no node {path}", f"No existe la pregunta {path}.") from None
        node = self.root
        for name, idx, nd in steps:
            lst = node.by_name.get(name, [])
            if nd.is_repeat:
                if idx is None:
                    raise NotFound(f"repeat without position in {path}",
                                   f"Falta la posición del integrante en {path}.")
                if create and idx > MAX_REPEAT_COUNT:
                    raise ValidationError(f"repeat position {idx} too large in {path}",
                                          f"Demasiadas repeticiones en {path} (máximo "
                                          f"{MAX_REPEAT_COUNT}).")
                while create and len(lst) < idx:
                    self._new_instance(nd, node)
                    lst = node.by_name[name]
                if not 1 <= idx <= len(lst):
                    raise NotFound(f"no instance {path}", f"No existe {path}.")
                node = lst[idx - 1]
            else:
                if idx not in (None, 1) or not lst:
                    raise NotFound(f"no node {path}", f"No existe la pregunta {path}.")
                node = lst[0]
        return node

    def close(self) -> None:
        """Unlink the tree (parents, set-aside instances, the environment's owner) so that
        reference counting frees it at once instead of the cyclic collector (which took
        close to half the time of opening a record when it did it). Done by __del__ when
        the last reference goes; a caller may do it earlier. Nothing may be read after."""
        if self.root.parent is None:
            return  # closed already
        # Emptying the child lists of the groups and instances is enough: the questions
        # keep their parent, but nothing points down to them any more, so no cycle is left
        stack: list[Node] = [self.root]
        while stack:
            n = stack.pop()
            kept = getattr(n, "kept", None)
            if kept:
                for lst in kept.values():
                    stack.extend(lst)
                n.kept = None  # type: ignore[attr-defined]
            for c in n.children:
                if c.children:
                    stack.append(c)
            n.children = []
            n.by_name = {}
        self.root.parent = None
        self.doc.children = []
        self.doc.by_name = {}
        self.env.session = None
        self.env.indexes = None
        self._paths = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001, S110 - half-built or interpreter shutting down
            pass

    def _find_created(self, path: str) -> Node:
        return self._find(path, create=True)

    def has(self, path: str) -> bool:
        try:
            self._find(path)
        except NotFound:
            return False
        return True

    # ------------------------------------------------------------------ values
    def _coerce_input(self, nd: NodeDef, value: Any) -> str:
        """An answer as the engine stores it (the canonical form, see the module
        docstring); the result may still be refused by `_refused`."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        t = nd.type
        if t == "select_multiple" and isinstance(value, list | tuple):
            return ascii_digits(xml_safe(" ".join(str(v).strip() for v in value
                                                  if str(v).strip())))
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float):
            return fmt_num(value) if math.isfinite(value) else str(value)
        s = xml_safe(str(value))
        if t in _CANONICAL_TYPES:
            s = canonical_number_text(s)
        else:
            s = ascii_digits(s)
        if t == "select_one":
            s = s.strip()
        elif t == "select_multiple":
            s = " ".join(s.split())
        elif t == "integer" and s:
            m = _INT_RE.match(s)
            if m:
                s = str(int(s))
            elif _DEC_RE.match(s):
                x = float(s.replace(",", "."))
                if math.isfinite(x) and x == int(x):
                    s = str(int(x))  # '3.0' is the integer 3
        elif t == "decimal" and s:
            if _DEC_RE.match(s):
                x = float(s.replace(",", "."))  # a decimal comma is the Peruvian habit
                if math.isfinite(x):
                    s = fmt_num(x)
        return s

    def _refused(self, nd: NodeDef, s: str) -> bool:
        """True when the question's type cannot hold `s` (the one rule for every type:
        such an answer counts as empty until it is corrected)."""
        if s == "":
            return False
        t = nd.type
        if t == "integer":
            return _INT_RE.match(s) is None
        if t == "decimal":
            if _DEC_RE.match(s) is None or "," in s:
                return True
            return not math.isfinite(float(s))
        if t == "date":
            return parse_date(s) is None
        if t == "datetime":
            return parse_datetime(s) is None and parse_date(s) is None
        if t in ("select_one", "select_multiple"):
            names = self.program.choice_list(nd).names
            if not names:
                return False  # a list the engine does not hold: nothing to check against
            picked = [s] if t == "select_one" else s.split()
            return t == "select_one" and " " in s or any(p not in names for p in picked)
        return False

    def _input(self, nd: NodeDef, value: Any) -> tuple[str, str | None]:
        """(what counts, what was typed when the type refuses it, else None) for an input
        value of `nd` (the module docstring's rules); text inputs are remembered per form
        version (Program.inputs) with the fast paths."""
        seen = self.program.inputs if self._fast and type(value) is str else None
        hit = seen.get((nd.path, value)) if seen is not None else None
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        new = self._coerce_input(nd, value)
        raw = new if self._refused(nd, new) else None
        if raw is not None:
            new = ""
        if seen is not None:
            if len(seen) >= 50_000:
                seen.clear()
            seen[(nd.path, value)] = (new, raw)
        return new, raw

    def _put(self, node: Node, nd: NodeDef, value: Any) -> bool:
        """Store an input value on `node`; True when what counts changed."""
        new, raw = self._input(nd, value)
        st: _St = node.st
        st.raw = raw
        st.shown = None
        if new == node.value:
            return False
        node.value = new
        return True

    @staticmethod
    def _coerce_result(nd: NodeDef, v: Any) -> str:
        if isinstance(v, float) and not math.isfinite(v):
            return ""  # NaN and infinity are no result (ODK stores nothing either)
        if nd.type in ("date",):
            if isinstance(v, float | int) and not isinstance(v, bool):
                d = to_date(float(v))
                return d.isoformat()[:10] if d is not None else ""
            if isinstance(v, datetime):
                return v.date().isoformat()
        if nd.type == "integer" and isinstance(v, float):
            return str(int(v)) if v == int(v) else fmt_num(v)
        return xml_safe(to_string(v))

    def set(self, path: str, value: Any) -> None:
        """Set one answer and re-evaluate what depends on it."""
        node = self._find(path)
        nd = node.defn
        if nd is None or nd.kind != "question":
            raise ValidationError(f"{path} is not a question", f"{path} no es una pregunta.")
        if self._put(node, nd, value):
            self._changed(node)
        self._run()

    def get(self, path: str) -> str:
        """The stored answer (also when the question is not relevant); an answer the
        question's type refuses is returned as typed."""
        node = self._find(path)
        raw = node.st.raw
        return raw if raw is not None else node.value

    # ------------------------------------------------------------------ repeats
    def add_repeat(self, path: str, position: int | None = None) -> str:
        """Add an instance of the repeat at `path` ('/fsu/integrantes' or inside another
        repeat instance); `position` is 1-based (default: at the end). Returns its path."""
        parts = path.rstrip("/").rsplit("/", 1)
        parent = self._find(parts[0]) if parts[0] else self.doc
        name = parts[1].split("[", 1)[0]
        nd = self.formdef.by_path.get((*_gpath(parent), name))
        if nd is None or not nd.is_repeat:
            raise NotFound(f"{path} is not a repeat", f"{path} no es un grupo repetible.")
        if len(parent.by_name.get(name, [])) >= MAX_REPEAT_COUNT:
            raise ValidationError(f"repeat {path} is full",
                                  f"No se pueden agregar más de {MAX_REPEAT_COUNT} repeticiones.")
        inst = self._new_instance(nd, parent, None if position is None else position - 1)
        self._eval_subtree(inst)
        self._structure_changed(parent, nd)
        self._run()
        return inst.path()

    def remove_repeat(self, path: str, index: int | None = None) -> None:
        """Remove an instance: remove_repeat('/fsu/integrantes', 2) or
        remove_repeat('/fsu/integrantes[2]')."""
        if index is not None:
            path = f"{path.rstrip('/')}[{index}]"
        inst = self._find(path)
        nd = inst.defn
        if nd is None or not nd.is_repeat or inst.parent is None:
            raise NotFound(f"{path} is not a repeat instance", f"{path} no es un integrante.")
        parent = inst.parent
        parent.children.remove(inst)
        siblings = parent.by_name[nd.name]
        siblings.remove(inst)
        for i, s in enumerate(siblings, 1):
            s.index = i
        self._structure_changed(parent, nd)
        self._run()

    def move_repeat(self, path: str, index: int, new_index: int) -> None:
        """Move instance `index` of the repeat at `path` to position `new_index` (1-based)."""
        inst = self._find(f"{path.rstrip('/')}[{index}]")
        nd = inst.defn
        parent = inst.parent
        if nd is None or not nd.is_repeat or parent is None:
            raise NotFound(f"{path} is not a repeat", f"{path} no es un grupo repetible.")
        siblings = parent.by_name[nd.name]
        if not 1 <= new_index <= len(siblings):
            raise NotFound(f"bad position {new_index}", f"No existe la posición {new_index}.")
        first = parent.children.index(siblings[0])
        for s in siblings:
            parent.children.remove(s)
        siblings.remove(inst)
        siblings.insert(new_index - 1, inst)
        for i, s in enumerate(siblings, 1):
            s.index = i
        parent.children[first:first] = siblings
        self._structure_changed(parent, nd)
        for s in siblings:
            for n in _walk(s):
                self._changed(n)
        self._run()

    def repeat_count(self, path: str) -> int:
        parts = path.rstrip("/").rsplit("/", 1)
        parent = self._find(parts[0]) if parts[0] else self.doc
        return len(parent.by_name.get(parts[1].split("[", 1)[0], []))

    # ------------------------------------------------------------------ evaluation
    def _full_eval(self) -> None:
        self._forget_indexes()
        self._eval_subtree(self.root)
        self._run()

    def _open_eval(self) -> None:
        """The first evaluation of an opened record, fast path: every producer slot once,
        in rank order, over the nodes built so far (everything is new, so the order of
        the graph is all that matters; no queue). Leaves are already stale (_St). What
        the pass itself adds — instances a repeat_count creates, triggered calculations,
        readers of a cycle — goes through the queue afterwards. Same result as
        `_full_eval` (tests/forms/test_fast_paths.py)."""
        self._forget_indexes()
        hosts = self._hosts or {}
        queued = self._queued
        keep = self._keep
        ev = self._eval
        for slot in self.program.producers:
            nodes = hosts.get(slot.host)
            if not nodes:
                continue
            sid = slot.id
            if slot.kind == "calc":
                settled = keep
            elif slot.kind == "relevant" and not slot.volatile:
                settled = self._was_relevant  # relevant as saved (see the class docstring)
            else:
                settled = None
            for node in nodes:
                if queued:
                    queued.discard((sid, id(node)))
                if settled and id(node) in settled:
                    continue
                if self._detached and not _attached(node, self.doc):
                    continue
                ev(slot, node)
        self._run()

    def _forget_indexes(self) -> None:
        """Drop the value indexes (values were set without `_changed`: loading, defaults)."""
        if self.env.indexes:
            self.env.indexes.clear()

    def _eval_subtree(self, top: Node) -> None:
        for n in _walk(top):
            for s in self.program.node_slots.get(_gpath(n), ()):
                if s.kind == "calc" and s.node.trigger:
                    continue  # a triggered calculation runs only when its trigger changes
                self._push(s, n)

    def _push(self, slot: Slot, node: Node) -> None:
        if slot.leaf and self._fast:
            st: _St = node.st
            st.shown = None
            p = st.pending
            if p is None:
                st.pending = [slot]
            elif p is not _ALL and slot not in p:
                p.append(slot)
            return
        key = (slot.id, id(node))
        if key in self._queued:
            return
        self._queued.add(key)
        self._seq += 1
        heapq.heappush(self._queue, (slot.rank, self._seq, slot.id, slot, node))

    def _targets(self, slot: Slot, anchor: Node, start: int) -> list[Node]:
        nodes = [anchor]
        for name in slot.host[start:]:
            nodes = [c for n in nodes for c in n.by_name.get(name, ())]
        return nodes

    def _changed(self, node: Node) -> None:
        """The value (or relevance) of `node` changed: queue its readers."""
        idx = self.env.indexes
        if idx:
            idx.clear()
        if node.st is not None:
            node.st.shown = None
        if node.defn is None:
            return
        chain = None
        for slot, pin in self.program.readers.get(node.defn.path, ()):
            if pin == 0:
                anchor, start = self.root, 1
            else:
                if chain is None:
                    chain = node.chain()
                anchor, start = chain[pin], pin
            for t in self._targets(slot, anchor, start):
                self._push(slot, t)

    def _structure_changed(self, parent: Node, nd: NodeDef) -> None:
        idx = self.env.indexes
        if idx:
            idx.clear()
        self._epoch += 1  # paths, counts and choices from repeats may differ now
        self._paths = None
        chain = parent.chain()
        for slot, pin in self.program.struct_readers.get(nd.path, ()):
            if pin == 0:
                anchor, start = self.root, 1
            else:
                anchor, start = chain[min(pin, len(chain) - 1)], min(pin, len(chain) - 1)
            for t in self._targets(slot, anchor, start):
                self._push(slot, t)
        # values under the repeat appeared or disappeared
        for slot, pin in self.program.readers.get(nd.path, ()):
            if pin == 0 or pin < len(chain):
                anchor, start = (self.root, 1) if pin == 0 else (chain[pin], pin)
                for t in self._targets(slot, anchor, start):
                    self._push(slot, t)
        for p in self.formdef.by_path:
            if len(p) > len(nd.path) and p[: len(nd.path)] == nd.path:
                for slot, pin in self.program.readers.get(p, ()):
                    if pin < len(chain):
                        anchor, start = (self.root, 1) if pin == 0 else (chain[pin], pin)
                        for t in self._targets(slot, anchor, start):
                            self._push(slot, t)

    def _run(self) -> None:
        q = self._queue
        queued = self._queued
        runs: dict[tuple[int, int], int] = {}
        while q:
            _r, _s, _i, slot, node = heapq.heappop(q)
            key = (slot.id, id(node))
            if key not in queued:
                continue  # already evaluated by _open_eval
            queued.discard(key)
            if not _attached(node, self.doc):
                continue
            n = runs[key] = runs.get(key, 0) + 1
            if n > MAX_REEVALUATIONS:  # a loop the form's graph did not show (see graph)
                q.clear()
                queued.clear()
                raise ValidationError(
                    f"form logic does not settle at {slot.kind} of {node.path()}",
                    "Las reglas del formulario no se estabilizan (dependencia circular en "
                    f"«{slot.node.name}»). Avise al responsable de los formularios.")
            self._eval(slot, node)

    def _settle(self, node: Node, kinds: frozenset[str] | None = None) -> None:
        """Evaluate the stale leaf slots of `node` (lazy leaves, see the module
        docstring); only those of `kinds` when given (the others stay stale)."""
        st: _St = node.st
        p = st.pending
        if p is None:
            return
        if p is _ALL:
            slots = self.program.leaf_slots.get(node.defn.path, ()) if node.defn else ()
        else:
            slots = sorted(p, key=_rank) if len(p) > 1 else p
        if kinds is None:
            st.pending = None
        else:
            rest = [s for s in slots if s.kind not in kinds]
            slots = [s for s in slots if s.kind in kinds]
            st.pending = rest or None
        for slot in slots:
            self._eval(slot, node)

    def _eval(self, slot: Slot, node: Node) -> None:
        st: _St = node.st
        kind = slot.kind
        env = self.env.at(node)
        if kind == "choices":
            st.choices = self._filter_choices(slot, node)
            return
        if kind == "calc" and self._opening and id(node) in self._keep:
            return  # the stored record settles this value (uuid(), now(), ...)
        memo = slot.memo if self._fast else None
        key = None
        if memo is not None:
            key = _memo_key(slot.routes, env.chain)  # type: ignore[arg-type]
            hit = memo.get(key) if key is not None else None
            if hit is not None:
                v, err = hit
            else:
                v, err = self._run_expr(slot, node, env)
                if key is not None and isinstance(v, str | float | bool | date | NoneType):
                    if len(memo) >= 20_000:
                        memo.clear()
                    memo[key] = (v, err)
        else:
            v, err = self._run_expr(slot, node, env)
        if kind == "calc":
            new = self._coerce_result(node.defn, v) if err is None else ""
            if new != node.value:
                node.value = new
                self._changed(node)
            if err != st.error:
                st.shown = None
            st.error = err
        elif kind == "relevant":
            own = True if err is not None else to_bool(v)
            if own != st.own_rel:
                st.own_rel = own
                self._relevance_changed(node)
        elif kind == "required":
            st.required = err is None and to_bool(v)
        elif kind == "readonly":
            st.readonly = err is None and to_bool(v)
        elif kind == "constraint":
            st.valid = err is None and to_bool(v)
            st.error = err
        elif kind == "warning":
            st.warn_ok = err is not None or to_bool(v)
        elif kind == "count":
            self._apply_count(node, slot.node, v if err is None else 0)

    @staticmethod
    def _run_expr(slot: Slot, node: Node, env: Env) -> tuple[Any, str | None]:
        try:
            return slot.expr.fn(node, env), None
        except (EvalError, ZeroDivisionError, ValueError, TypeError, OverflowError) as e:
            return None, str(e) or type(e).__name__

    def _relevance_changed(self, top: Node) -> None:
        for n in _walk(top):
            parent_rel = n.parent.relevant if n.parent is not None else True
            eff = parent_rel and (n.st.own_rel if n.st is not None else True)
            if eff != n.relevant:
                n.relevant = eff
                self._changed(n)

    def _apply_count(self, parent: Node, nd: NodeDef, v: Any) -> None:
        x = to_number(v)
        want = 0 if not math.isfinite(x) else max(0, min(MAX_REPEAT_COUNT, int(x)))
        lst = parent.by_name.setdefault(nd.name, [])
        if len(lst) == want:
            return
        st: _St = parent.st
        while len(lst) < want:
            kept = st.kept.get(nd.name) if st.kept else None
            if kept:
                inst = kept.pop()  # set aside by an earlier, lower count: bring it back
                self._reattach(inst, nd, parent)
            else:
                inst = self._new_instance(nd, parent)
            self._eval_subtree(inst)
            lst = parent.by_name[nd.name]
        while len(lst) > want:
            inst = lst.pop()
            parent.children.remove(inst)
            if st.kept is None:
                st.kept = {}
            st.kept.setdefault(nd.name, []).append(inst)  # never thrown away
            self._detached = True
        self._structure_changed(parent, nd)

    def _reattach(self, inst: Node, nd: NodeDef, parent: Node) -> None:
        self._paths = None
        siblings = parent.by_name.setdefault(nd.name, [])
        at = (parent.children.index(siblings[-1]) + 1 if siblings
              else self._insert_point(nd, parent))
        parent.children.insert(at, inst)
        siblings.append(inst)
        inst.index = len(siblings)
        inst.parent = parent
        for n in _walk(inst):
            n.relevant = n.parent.relevant and n.st.own_rel if n.parent is not None \
                else True
            if n.st.pending is not _ALL and self._fast:
                n.st.pending = _ALL
            self._changed(n)

    def _filter_choices(self, slot: Slot, node: Node) -> list[Choice]:
        cl = self.program.choice_list(slot.node)
        expr = slot.expr
        env = self.env
        try:
            if slot.node.choice_from:  # `select_one ${name}`: the answers in a repeat
                return repeat_choices(expr.fn(node, env))
            if expr.index_eq is not None:
                column, other = expr.index_eq
                return cl.lookup(column, to_string(other.fn(node, env)))
            if slot.plan is not None and self._fast:
                try:
                    return cl.from_mask(slot.plan.mask(cl, node, env.at(node)))
                except NotIndexable:
                    pass  # an operand compares as a number or date: item by item
            out = []
            for item in cl.items():
                if to_bool(expr.fn(item, env)):
                    out.append(item.st)
            return out
        except (EvalError, ValueError, TypeError):
            return []

    # ------------------------------------------------------------------ reading state
    def choices(self, node_or_path: Node | str) -> list[Choice]:
        node = self._find(node_or_path) if isinstance(node_or_path, str) else node_or_path
        nd = node.defn
        if nd is None or not nd.is_select:
            return []
        self._settle(node)
        if node.st.choices is not None:
            return node.st.choices
        return list(self.program.choice_list(nd).choices)

    def state(self, path: str) -> NodeState:
        return self._state(self._find(path))

    def _choice_pairs(self, node: Node) -> list[tuple[str, str]]:
        nd = node.defn
        st: _St = node.st
        if st.choices is None:
            return list(self.program.choice_list(nd).pairs(self.language))
        return [(c.name, c.label(self.language)) for c in st.choices]

    def _choice_names(self, node: Node) -> frozenset[str] | set[str]:
        st: _St = node.st
        if st.choices is None:
            return self.program.choice_list(node.defn).names
        return {c.name for c in st.choices}

    def _state(self, node: Node, path: str | None = None) -> NodeState:
        """The node's state; with the fast paths, the one read last time when nothing it
        shows can have changed since: its value or relevance (_changed), a rule of it
        (_push), repeat instances (the epoch), the language. A node whose texts show
        other answers (${name} in a label, hint or message) is built every time."""
        nd = node.defn
        st: _St = node.st
        assert nd is not None
        shown = st.shown
        reads = self._shows_answers(nd)
        if shown is not None and st.pending is None and shown[0] == self._epoch \
                and shown[1] == self.language and (path is None or shown[2].path == path):
            cached = shown[2]
            # its texts read other answers: the same state if they read the same (all
            # else it shows clears st.shown when it changes)
            if reads == _TEXTS_FIXED or self._texts(node, nd, st, reads) == (
                    cached.label, cached.hint, cached.message, cached.warning):
                return cached
        state = self._build_state(node, nd, st, path)
        if self._fast:
            st.shown = (self._epoch, self.language, state)
        return state

    def _texts(self, node: Node, nd: NodeDef, st: _St, reads: int = _TEXTS_READ_ALL
               ) -> tuple[str, str, str | None, str | None]:
        """(label, hint, message, warning) as the node's state shows them now; the
        message and warning only when `reads` says they may read answers (otherwise
        None, None: the caller does not compare them)."""
        label = self._render(nd.label(self.language), node)
        hint = self._render(nd.hint(self.language), node)
        if reads != _TEXTS_READ_ALL:
            return label, hint, None, None
        message = warning = None
        if node.relevant and nd.kind == "question":
            message = self._problem(node)
            if message is None and node.value != "" and st.raw is None and not st.warn_ok:
                warning = self._warning_text(node)
        return label, hint, message, warning

    def _shows_answers(self, nd: NodeDef) -> int:
        """Whether texts of `nd` in the current language read answers (${name}):
        _TEXTS_FIXED (none), _TEXTS_READ_LABEL (only its label or hint, which _state
        renders again to compare) or _TEXTS_READ_ALL (a message too: built every time)."""
        key = (nd.path, self.language)
        hit = self.program.text_refs.get(key)
        if hit is None:
            lang = self.language
            messages = [_msg(nd.required_msgs, lang), _msg(nd.constraint_msgs, lang),
                        _msg(nd.warning_msgs, lang)]
            if any("${" in t for t in messages):
                hit = _TEXTS_READ_ALL
            elif "${" in nd.label(lang) or "${" in nd.hint(lang):
                hit = _TEXTS_READ_LABEL
            else:
                hit = _TEXTS_FIXED
            self.program.text_refs[key] = hit
        return hit

    def _build_state(self, node: Node, nd: NodeDef, st: _St, path: str | None) -> NodeState:
        if st.pending is not None:
            self._settle(node)
        value = node.value if st.raw is None else st.raw
        label, hint, message, warning = self._texts(node, nd, st)
        choices = self._choice_pairs(node) if nd.is_select else None
        return NodeState(
            path=path or node.path(), kind=nd.kind, type=nd.type, value=value,
            relevant=node.relevant, required=bool(st.required), valid=message is None,
            message=message, warning=warning, choices=choices,
            read_only=bool(st.readonly) or nd.type in ("calculate", "note"),
            label=label, hint=hint,
        )

    def _problem(self, node: Node) -> str | None:
        nd = node.defn
        st: _St = node.st
        value = node.value
        assert nd is not None
        if st.pending is not None:
            self._settle(node)
        if st.raw is not None:
            return TYPE_MSGS.get(nd.type, CONSTRAINT_MSG)
        if value == "":
            if st.required and nd.type not in ("note", "calculate"):
                return self._render(_msg(nd.required_msgs, self.language), node) or REQUIRED_MSG
            return None
        tmsg = self._type_problem(node)
        if tmsg:
            return tmsg
        if not st.valid:
            if st.error:
                return f"Error al evaluar la regla: {st.error}"
            return self._render(_msg(nd.constraint_msgs, self.language), node) or CONSTRAINT_MSG
        return None

    def _hard_problem(self, node: Node) -> str | None:
        """What `_problem` says, evaluating only the stale leaves that decide it: the
        `required` expression of an empty answer; the choice filter and the constraint
        of a given one. Leaves are read by no other expression, so the ones left stale
        change nothing here (they are evaluated if the state is read later)."""
        nd = node.defn
        st: _St = node.st
        assert nd is not None
        if st.pending is None or st.raw is not None:
            return self._problem(node)
        if node.value == "":
            if nd.type in ("note", "calculate"):
                return None
            self._settle(node, _HARD_EMPTY)
        else:
            self._settle(node, _HARD_GIVEN)
        if st.pending is not None and not self._fast:
            self._settle(node)
        pending, st.pending = st.pending, None  # _problem must not settle the rest
        try:
            return self._problem(node)
        finally:
            st.pending = pending

    def _type_problem(self, node: Node) -> str | None:
        nd = node.defn
        v = node.value
        t = nd.type if nd is not None else ""
        if t == "integer":
            try:
                int(v)
            except ValueError:
                return TYPE_MSGS[t]
        elif t == "decimal":
            try:
                if not math.isfinite(float(v)):
                    return TYPE_MSGS[t]
            except ValueError:
                return TYPE_MSGS[t]
        elif t == "date":
            if parse_date(v) is None:
                return TYPE_MSGS[t]
        elif t == "datetime":
            if parse_datetime(v) is None and parse_date(v) is None:
                return TYPE_MSGS[t]
        elif t in ("select_one", "select_multiple"):
            names = self._choice_names(node)
            picked = [v] if t == "select_one" else v.split()
            if any(p not in names for p in picked):
                return TYPE_MSGS[t]
        return None

    def _warning_text(self, node: Node) -> str:
        nd = node.defn
        assert nd is not None
        return self._render(_msg(nd.warning_msgs, self.language), node) or WARNING_MSG

    def _render(self, text: str, node: Node) -> str:
        """Replace ${name} in a label or message by that answer (as ODK's <output>)."""
        if "${" not in text:
            return text

        def value_of(name: str) -> str:
            fn = self.program.ref_fn(name, node.defn.path if node.defn else ())
            if fn is None:
                return ""
            try:
                return to_string(fn(node, self.env.at(node)))
            except Exception:  # noqa: BLE001 - a label never breaks the screen
                return ""

        return substitute_refs(text, value_of)

    def iter_nodes(self) -> Iterator[NodeState]:
        """Every node in form order, with repeat instances expanded."""
        for n, path in self._walk():
            yield self._state(n, path)

    def iter_paths(self) -> Iterator[str]:
        for _n, path in self._walk():
            yield path

    def _walk(self) -> list[tuple[Node, str]]:
        """(node, path) of every node in form order; kept until repeat instances come,
        go or move (_new_instance, _structure_changed, _reattach)."""
        paths = self._paths
        if paths is None:
            paths = self._paths = list(_walk_paths(self.root))
        return paths

    def validate(self, warnings: bool = True) -> Report:
        """Hard errors (block `complete`) and soft warnings (shown to the supervisor);
        warnings=False leaves warnings out and does not evaluate them."""
        rep = Report()
        stack = [self.root]
        while stack:
            n = stack.pop()
            if not n.relevant:
                continue  # nothing below a non-relevant node is checked
            if n.children:
                stack.extend(reversed(n.children))
                continue
            nd = n.defn
            if nd is None or nd.kind != "question":
                continue
            msg = self._problem(n) if warnings else self._hard_problem(n)
            if msg:
                rep.errors.append(Issue(n.path(), msg, nd.row))
            elif warnings and n.value != "":
                if n.st.pending is not None:
                    self._settle(n)
                if not n.st.warn_ok:
                    rep.warnings.append(Issue(n.path(), self._warning_text(n), nd.row))
        return rep

    # ------------------------------------------------------------------ jr:choice-name
    def choice_label(self, ref: str, value: str, current: Node) -> str:
        nd = self.formdef.by_path.get(generic_path(ref))
        if nd is None or not nd.is_select:
            return ""
        for c in self.program.choice_list(nd).choices:
            if c.name == value:
                return c.label(self.language)
        return ""

    # ------------------------------------------------------------------ serialisation
    def answers(self, include_aside: bool = False) -> dict[str, str]:
        """Flat {path: value} of answered questions and calculations: relevant and
        valid ones only, unless include_aside (then also what `aside` holds)."""
        out: dict[str, str] = {}
        for n, path in _walk_paths(self.root):
            nd = n.defn
            if nd is None or nd.kind != "question" or n.value == "" or nd.type == "note":
                continue
            if n.relevant:
                out[path] = n.value
        if include_aside:
            out.update(self.aside())
            out.update(self.kept())
        return out

    def kept(self) -> dict[str, str]:
        """Answers of the repeat instances a lowered repeat_count set aside (they come
        back when the count rises again), at the positions they will take."""
        out: dict[str, str] = {}
        for n in _walk(self.root):
            st: _St = n.st
            if st is None or not st.kept:
                continue
            for lst in st.kept.values():
                for inst in lst:
                    for k in _walk_kept(inst):
                        kd, kst = k.defn, k.st
                        v = kst.raw if kst.raw is not None else k.value
                        if kd is not None and kd.kind == "question" and v != "" \
                                and kd.type != "note":
                            out[k.path()] = v
        return out

    def aside(self) -> dict[str, str]:
        """Answers kept but not counted now: those of non-relevant questions and those
        the question's type refuses (as typed)."""
        out: dict[str, str] = {}
        for n in _walk(self.root):
            nd = n.defn
            st: _St = n.st
            if nd is None or nd.kind != "question" or nd.type == "note":
                continue
            if st.raw is not None:
                out[n.path()] = st.raw
            elif n.value != "" and not n.relevant:
                out[n.path()] = n.value
        return out

    def repeats(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in _walk(self.root):
            if n.defn is None:
                continue
            for c in n.defn.children:
                if c.is_repeat:
                    base = n.path() if n is not self.root else "/" + self.root.name
                    out[f"{base}/{c.name}"] = len(n.by_name.get(c.name, []))
        return out

    def to_json(self, include_aside: bool = False) -> dict[str, Any]:
        """Canonical answers: what the store encrypts and sync sends."""
        data: dict[str, Any] = {
            "form_id": self.formdef.form_id,
            "form_version": self.formdef.version,
            "answers": self.answers(),
            "repeats": self.repeats(),
        }
        if include_aside:
            data["aside"] = {**self.aside(), **self.kept()}
        return data

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, formdef: FormDef, data: dict[str, Any], **kw: Any) -> FormSession:
        return cls(formdef, data, **kw)

    def to_xml(self, instance_id: str) -> str:
        return to_xml(self, instance_id)

    def _load(self, data: dict[str, Any]) -> None:
        repeats, answers = stored_parts(data)
        for path, count in sorted(repeats.items(), key=lambda kv: str(kv[0]).count("/")):
            try:
                n = int(count)
            except (TypeError, ValueError) as e:
                raise ValidationError(f"bad repeat count for {path}",
                                      f"Número de repeticiones inválido en {path}.") from e
            if n > 0:
                self._find(f"{path}[{n}]", create=True)
        keep = self._keep
        hosts = self._hosts
        located = self.program.located if hosts is not None else None
        trusted = (not self._recheck and "answers" in data
                   and data.get("form_id") == self.formdef.form_id
                   and str(data.get("form_version")) == self.formdef.version)
        stored = data["answers"] if trusted and hosts is not None else {}
        was_relevant = self._was_relevant
        find = self._find_created
        for path, value in answers.items():
            if located is None:
                node = find(str(path))
            else:
                node = answer_node(path, located, hosts, find,  # type: ignore[arg-type]
                                   self._new_instance)
            nd = node.defn
            if nd is None or nd.kind != "question":
                raise ValidationError(f"{path} is not a question", f"{path} no es una pregunta.")
            if path in stored and type(value) is str:
                # written by to_json of this version: a valid answer in its canonical form
                # (read back exactly as saved), relevant when saved, with its groups
                node.value = value
                n: Node | None = node
                while n is not None and id(n) not in was_relevant:
                    was_relevant.add(id(n))
                    n = n.parent
            else:
                self._put(node, nd, value)
            if nd.calculation and node.value != "" and (
                    not self._recheck or nd.path in self.program.unverifiable):
                keep.add(id(node))  # (the centre computes the others again: recheck)
        if trusted:
            # what this form version's to_json wrote: a calculation it left out was
            # empty (or not relevant, which readers see as empty), and stays so
            for n in self._calc_nodes():
                if n.value == "" and n.defn is not None and not n.defn.trigger:
                    keep.add(id(n))

    def _calc_nodes(self) -> Iterator[Node]:
        """Every node of a calculation in the tree built so far."""
        if self._hosts is not None:
            for path in self.program.calc_paths:
                yield from self._hosts.get(path, ())
        else:
            for n in _walk(self.root):
                if n.defn is not None and n.defn.calculation:
                    yield n


def locator(node: Node) -> tuple[Any, ...] | None:
    """How to find a question again from its path string without parsing it (kept per
    form version in Program.located, read while a record is loaded): (None, generic
    path) outside repeats; (generic path of the repeat's parent, repeat NodeDef,
    position, names below the instance) inside one repeat that is not nested; None
    otherwise (then `FormSession._find` walks the path)."""
    nd = node.defn
    if nd is None or nd.kind != "question":
        return None
    chain = node.chain()[2:]  # below the document and the root
    reps = [i for i, n in enumerate(chain) if n.defn is not None and n.defn.is_repeat]
    if not reps:
        return (None, nd.path)
    if len(reps) > 1:
        return None
    inst = chain[reps[0]]
    parent = inst.parent
    if parent is None or parent.defn is None or any(
            c.defn is not None and c.defn.is_repeat for c in parent.chain()[1:]):
        return None
    return (parent.defn.path, inst.defn, inst.index, tuple(n.name for n in chain[reps[0] + 1:]))


def stored_parts(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(repeat counts by path, answers by path) of what `to_json` wrote (its answers and
    those kept aside) or of a flat {path: value} map (no repeat counts)."""
    if "answers" in data and isinstance(data.get("answers"), dict):
        answers = dict(data["answers"])
        answers.update(data.get("aside") or {})
        return data.get("repeats") or {}, answers
    return {}, data


def answer_node(path: Any, located: dict[str, tuple[Any, ...] | None],
                hosts: dict[tuple[str, ...], list[Node]], find: Callable[[str], Node],
                new_instance: Callable[[NodeDef, Node], Node]) -> Node:
    """The node of a stored answer's `path` while a record is loaded: through the
    locator seen before for that path string (Program.located; `hosts` holds the nodes
    built so far by generic path; repeat instances up to the position are added with
    `new_instance`), else `find(path)` (which creates instances and raises NotFound or
    ValidationError for a path the form does not have), remembering its locator."""
    known = located.get(path) if type(path) is str else None
    if known is None:
        node = find(str(path))
        if type(path) is str and len(located) < 100_000:
            located[path] = locator(node)
        return node
    if known[0] is None:  # a question outside repeats: its one node
        return hosts[known[1]][0]
    host, rep, idx, rest = known  # a question in one repeat instance
    parent = hosts[host][0]
    lst = parent.by_name[rep.name]
    while len(lst) < idx:
        new_instance(rep, parent)
    node = lst[idx - 1]
    for name in rest:
        node = node.by_name[name][0]
    return node


def _msg(d: dict[str, str], lang: str | None) -> str:
    if not d:
        return ""
    if lang and lang in d:
        return d[lang]
    return next(iter(d.values()))


def _walk(top: Node) -> Iterator[Node]:
    stack = [top]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _walk_kept(top: Node) -> Iterator[Node]:
    """`top` and its descendants, including instances set aside below them."""
    for n in _walk(top):
        yield n
        st = n.st
        if st is not None and st.kept:
            for lst in st.kept.values():
                for inst in lst:
                    yield from _walk_kept(inst)


def _memo_key(routes: tuple[tuple[int, tuple[str, ...]], ...],
              chain: list[Node]) -> tuple[Any, ...] | None:
    """The values a pure slot reads (see graph.Program._routes), or None when one of
    them is not a single node here. The local time zone's offsets lead the key: date
    functions read it (a date is local midnight), and a process may change TZ."""
    out: list[Any] = [time.timezone, time.altzone]
    for pin, names in routes:
        if pin >= len(chain):
            return None
        n = chain[pin]
        for name in names:
            lst = n.by_name.get(name)
            if not lst or len(lst) != 1:
                return None
            n = lst[0]
        out.append(n.value if n.relevant else "")
    return tuple(out)


# (name, NodeDef, generic path, static leaf results, children's plan, is a repeat)
_Grow = tuple[str, NodeDef, tuple[str, ...], "dict[str, bool] | None", tuple[Any, ...], bool]


def _plan_of(program: Any, nd: NodeDef) -> tuple[_Grow, ...]:
    """What building `nd` makes, computed once per form version (kept on its Program):
    a one-entry tuple (its children's plan is entry[4])."""
    plans = program.plans
    hit = plans.get(nd.path)
    if hit is None:
        kids = tuple(_plan_of(program, c)[0] for c in nd.children)
        hit = plans[nd.path] = (
            (nd.name, nd, nd.path, program.static.get(nd.path), kids, nd.is_repeat),)
    return hit


def _rank(slot: Slot) -> int:
    return slot.rank


def _walk_paths(root: Node) -> Iterator[tuple[Node, str]]:
    """Descendants of `root` (not itself) in document order, with their paths."""
    stack: list[tuple[Node, str]] = [(c, "") for c in reversed(root.children)]
    base = "/" + root.name
    while stack:
        n, parent_path = stack.pop()
        nd = n.defn
        step = f"{n.name}[{n.index}]" if nd is not None and nd.kind == "repeat" else n.name
        path = f"{parent_path or base}/{step}"
        yield n, path
        if n.children:
            stack.extend((c, path) for c in reversed(n.children))


def _gpath(node: Node) -> tuple[str, ...]:
    if node.defn is not None:
        return node.defn.path
    return ()


def _attached(node: Node, doc: Node) -> bool:
    n: Node | None = node
    while n is not None:
        if n is doc:
            return True
        p = n.parent
        if p is not None and n not in p.by_name.get(n.name, ()):
            return False
        n = p
    return False


def record_clock(today: date | None) -> Callable[[], datetime] | None:
    """The clock a received record's rules read: noon (local time) of `today`, the day
    the record was completed; None (the real clock) when not given."""
    if today is None:
        return None
    noon = datetime.combine(today, dt_time(12, 0)).astimezone()
    return lambda: noon


def validate_in_session(formdef: FormDef, answers: dict[str, Any], *,
                        today: date | None = None) -> list[str]:
    """Reasons (Spanish, "path: message") why a received record's answers are refused;
    empty when acceptable, read through a whole FormSession. `answers` is what
    `FormSession.to_json()` gave (or a flat {path: value}); `today`: the day its rules
    read as today() (the record's completion day; None: the real date). Builds the
    record once with the fast paths and evaluates only what hard errors need —
    relevance, every calculation (recheck: a stored calculated value is not taken on
    the record's word), required, constraints and choice filters of relevant
    questions; no warnings, labels or read-only states. The server uses
    app.forms.check.validate_submission (same result, cheaper; this is its fallback
    and its reference in tests). Raises ValidationError or NotFound (Spanish
    `user_message`) when the answers do not fit the form at all."""
    session = FormSession(formdef, answers, fast=True, recheck=True,
                          clock=record_clock(today))
    return [f"{i.path}: {i.message}" for i in session.validate(warnings=False).errors]


__all__ = ["FormSession", "Issue", "NodeState", "Report", "record_clock",
           "validate_in_session"]
