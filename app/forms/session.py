"""FormSession: one record's answers, kept consistent with the form's rules.

After each change only the slots that read what changed are evaluated again
(app.forms.graph). Reading a node's state is a lookup: every state is kept up
to date by the incremental evaluation.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.core.errors import NotFound, ValidationError
from app.forms.definition import Choice, FormDef, NodeDef, repeat_choices, split_path
from app.forms.graph import Slot
from app.forms.xpath import (
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


class _St:
    """Per concrete node runtime state."""

    __slots__ = ("own_rel", "required", "readonly", "valid", "warn_ok", "choices", "error")

    def __init__(self) -> None:
        self.own_rel = True
        self.required = False
        self.readonly = False
        self.valid = True
        self.warn_ok = True
        self.choices: list[Choice] | None = None
        self.error: str | None = None


class FormSession:
    """Answers of one record for `formdef`.

    `answers` is either what `to_json()` returned or a flat map
    {"/fsu/integrantes[2]/edad": value} (repeat instances are created as needed)."""

    def __init__(self, formdef: FormDef, answers: dict[str, Any] | None = None, *,
                 language: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.formdef = formdef
        self.program = formdef.program()
        self.language = language or formdef.default_language
        self.clock = clock
        self.doc = Node("#doc")
        self.root = self.doc.append(Node(formdef.root.name, defn=formdef.root))
        self.root.st = _St()
        self.env = Env(self.doc, self)
        self._queue: list[tuple[int, int, int, Slot, Node]] = []
        self._queued: set[tuple[int, int]] = set()
        self._seq = 0
        self._loading = True
        for child in formdef.root.children:
            self._build(child, self.root)
        if answers:
            self._load(answers)
        else:
            self._apply_defaults(self.root)
        self._loading = False
        self._full_eval()

    # ------------------------------------------------------------------ building
    def _build(self, nd: NodeDef, parent: Node) -> None:
        if nd.is_repeat:
            # instances are added by add_repeat / repeat_count / loaded answers
            parent.by_name.setdefault(nd.name, [])
            return
        node = parent.append(Node(nd.name, defn=nd))
        node.st = _St()
        for c in nd.children:
            self._build(c, node)

    def _new_instance(self, nd: NodeDef, parent: Node, position: int | None = None) -> Node:
        inst = Node(nd.name, defn=nd)
        inst.st = _St()
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
        for i, s in enumerate(siblings, 1):
            s.index = i
        for c in nd.children:
            self._build(c, inst)
        inst.relevant = parent.relevant
        for n in _walk(inst):
            if n is not inst and n.parent is not None:
                n.relevant = n.parent.relevant
        if not self._loading:
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
            if isinstance(d, str):
                n.value = self._coerce_input(n.defn, d)
            else:
                try:
                    n.value = self._coerce_result(n.defn, d(n, self.env.at(n)))
                except Exception:  # noqa: BLE001 - a failing default leaves the answer empty
                    n.value = ""

    # ------------------------------------------------------------------ lookup
    def _find(self, path: str, create: bool = False) -> Node:
        try:
            parts = split_path(path)
        except ValueError as e:
            raise NotFound(str(e), f"Ruta inválida: {path}") from e
        if not parts or parts[0][0] != self.root.name:
            raise NotFound(f"no node {path}", f"No existe la pregunta {path}.")
        node = self.root
        for name, idx in parts[1:]:
            nd = self.formdef.by_path.get((*_gpath(node), name))
            if nd is None:
                raise NotFound(f"no node {path}", f"No existe la pregunta {path}.")
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

    def has(self, path: str) -> bool:
        try:
            self._find(path)
        except NotFound:
            return False
        return True

    # ------------------------------------------------------------------ values
    def _coerce_input(self, nd: NodeDef, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if nd.type == "select_multiple" and isinstance(value, list | tuple):
            return " ".join(str(v).strip() for v in value if str(v).strip())
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float):
            return fmt_num(value)
        s = str(value)
        if nd.type in ("integer", "decimal", "date", "select_one"):
            s = s.strip()
        if nd.type == "select_multiple":
            s = " ".join(s.split())
        if nd.type == "integer" and s:
            try:
                s = str(int(s))
            except ValueError:
                pass
        if nd.type == "decimal" and s:
            try:
                x = float(s)
                if math.isfinite(x):
                    s = fmt_num(x)
            except ValueError:
                pass
        return s

    def _coerce_result(self, nd: NodeDef, v: Any) -> str:
        if nd.type in ("date",):
            if isinstance(v, float | int) and not isinstance(v, bool):
                d = to_date(float(v))
                return d.isoformat()[:10] if d is not None else ""
            if isinstance(v, datetime):
                return v.date().isoformat()
        if nd.type == "integer" and isinstance(v, float) and math.isfinite(v):
            return str(int(v)) if v == int(v) else fmt_num(v)
        if isinstance(v, float) and v != v:
            return "" if nd.type in ("integer", "decimal") else "NaN"
        return to_string(v)

    def set(self, path: str, value: Any) -> None:
        """Set one answer and re-evaluate what depends on it."""
        node = self._find(path)
        nd = node.defn
        if nd is None or nd.kind != "question":
            raise ValidationError(f"{path} is not a question", f"{path} no es una pregunta.")
        new = self._coerce_input(nd, value)
        if new == node.value:
            return
        node.value = new
        self._changed(node)
        self._run()

    def get(self, path: str) -> str:
        """The stored answer (also when the question is not relevant)."""
        return self._find(path).value

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
        self._eval_subtree(self.root)
        self._run()

    def _eval_subtree(self, top: Node) -> None:
        for n in _walk(top):
            for s in self.program.node_slots.get(_gpath(n), ()):
                if s.kind == "calc" and s.node.trigger:
                    continue  # a triggered calculation runs only when its trigger changes
                self._push(s, n)

    def _push(self, slot: Slot, node: Node) -> None:
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
        while q:
            _r, _s, _i, slot, node = heapq.heappop(q)
            self._queued.discard((slot.id, id(node)))
            if not _attached(node, self.doc):
                continue
            self._eval(slot, node)

    def _eval(self, slot: Slot, node: Node) -> None:
        st: _St = node.st
        kind = slot.kind
        env = self.env.at(node)
        if kind == "choices":
            st.choices = self._filter_choices(slot, node)
            return
        try:
            v = slot.expr.fn(node, env)
            err = None
        except (EvalError, ZeroDivisionError, ValueError, TypeError, OverflowError) as e:
            v, err = None, str(e) or type(e).__name__
        if kind == "calc":
            new = self._coerce_result(node.defn, v) if err is None else ""
            if new != node.value:
                node.value = new
                self._changed(node)
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
        while len(lst) < want:
            inst = self._new_instance(nd, parent)
            self._eval_subtree(inst)
            lst = parent.by_name[nd.name]
        while len(lst) > want:
            inst = lst.pop()
            parent.children.remove(inst)
        self._structure_changed(parent, nd)

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
        nd = node.defn
        st: _St = node.st
        assert nd is not None
        relevant = node.relevant
        value = node.value
        required = bool(st.required)
        message = None
        warning = None
        valid = True
        if relevant and nd.kind == "question":
            message = self._problem(node)
            valid = message is None
            if valid and value != "" and not st.warn_ok:
                warning = self._warning_text(node)
        choices = self._choice_pairs(node) if nd.is_select else None
        return NodeState(
            path=path or node.path(), kind=nd.kind, type=nd.type, value=value, relevant=relevant,
            required=required, valid=valid, message=message, warning=warning, choices=choices,
            read_only=bool(st.readonly) or nd.type in ("calculate", "note"),
            label=self._render(nd.label(self.language), node),
            hint=self._render(nd.hint(self.language), node),
        )

    def _problem(self, node: Node) -> str | None:
        nd = node.defn
        st: _St = node.st
        value = node.value
        assert nd is not None
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
        for n, path in _walk_paths(self.root):
            yield self._state(n, path)

    def iter_paths(self) -> Iterator[str]:
        for _n, path in _walk_paths(self.root):
            yield path

    def validate(self) -> Report:
        """Hard errors (block `complete`) and soft warnings (shown to the supervisor)."""
        rep = Report()
        for n in _walk(self.root):
            nd = n.defn
            if n is self.root or nd is None or nd.kind != "question" or not n.relevant:
                continue
            msg = self._problem(n)
            if msg:
                rep.errors.append(Issue(n.path(), msg, nd.row))
            elif n.value != "" and not n.st.warn_ok:
                rep.warnings.append(Issue(n.path(), self._warning_text(n), nd.row))
        return rep

    # ------------------------------------------------------------------ jr:choice-name
    def choice_label(self, ref: str, value: str, current: Node) -> str:
        from app.forms.definition import generic_path

        nd = self.formdef.by_path.get(generic_path(ref))
        if nd is None or not nd.is_select:
            return ""
        for c in self.program.choice_list(nd).choices:
            if c.name == value:
                return c.label(self.language)
        return ""

    # ------------------------------------------------------------------ serialisation
    def answers(self, include_aside: bool = False) -> dict[str, str]:
        """Flat {path: value} of answered questions and calculations (relevant only,
        unless include_aside)."""
        out: dict[str, str] = {}
        for n in _walk(self.root):
            nd = n.defn
            if nd is None or nd.kind != "question" or nd.type == "note" or n.value == "":
                continue
            if n.relevant or include_aside:
                out[n.path()] = n.value
        return out

    def aside(self) -> dict[str, str]:
        """Answers kept aside because their question is not relevant now."""
        return {n.path(): n.value for n in _walk(self.root)
                if n.defn is not None and n.defn.kind == "question" and n.value != ""
                and not n.relevant}

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
            data["aside"] = self.aside()
        return data

    def canonical_bytes(self) -> bytes:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, formdef: FormDef, data: dict[str, Any], **kw: Any) -> FormSession:
        return cls(formdef, data, **kw)

    def to_xml(self, instance_id: str) -> str:
        from app.forms.instance import to_xml

        return to_xml(self, instance_id)

    def _load(self, data: dict[str, Any]) -> None:
        if "answers" in data and isinstance(data.get("answers"), dict):
            repeats = data.get("repeats") or {}
            answers = dict(data["answers"])
            answers.update(data.get("aside") or {})
        else:
            repeats, answers = {}, data
        for path, count in sorted(repeats.items(), key=lambda kv: str(kv[0]).count("/")):
            try:
                n = int(count)
            except (TypeError, ValueError) as e:
                raise ValidationError(f"bad repeat count for {path}",
                                      f"Número de repeticiones inválido en {path}.") from e
            if n > 0:
                self._find(f"{path}[{n}]", create=True)
        for path, value in answers.items():
            node = self._find(path, create=True)
            if node.defn is None or node.defn.kind != "question":
                raise ValidationError(f"{path} is not a question", f"{path} no es una pregunta.")
            node.value = self._coerce_input(node.defn, value)


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


__all__ = ["FormSession", "Issue", "NodeState", "Report"]
