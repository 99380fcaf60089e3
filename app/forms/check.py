"""The server's check of a received record in one ordered pass (issue 14, item 3).

`FormSession` is built for a person editing a record: per-node state objects, a
dependency queue, lazy leaves, cached states, the set-aside answers. A received record
is read once and never edited, so the server needs none of that. `validate_submission` reads
the record with what the form version compiled once (`CheckPlan`, kept on its
`Program`): the same compiled XPath closures, the same memo of pure expressions shared
across records, the same input rules (`FormSession._coerce_input`, `_refused`) and the
same messages — over a bare instance tree (plain `Node`s, which those closures read)
and a few dictionaries of per-node facts, evaluating

1. every producer (calculation, relevance) once, in the graph's rank order, over its
   instances — the order in which `FormSession._open_eval` evaluates an opened record;
2. then, for each relevant question, only the rules that decide a hard error (the
   `required` of an empty answer; the choice filter and constraint of a given one), as
   `FormSession.validate(warnings=False)` does.

One pass gives the session's result whenever nothing a producer changes is read by a
producer that came earlier in the order (a cycle of relevance, a rule that reads its own
node). Such a change is noticed when it happens (`CheckPlan.first_reader`) and the
record is then checked by `FormSession` instead; forms with a `repeat_count`, a
triggered calculation or no answers at all always are (`CheckPlan.eligible`). The
answers of a record that do not fit the form (bad paths, bad repeat counts) also go to
`FormSession`, which raises the Spanish error the server reports.

Measured (bench/forms.py, bench/server.py): the instance tree itself is a small part
of the cost (≈ 0.14 ms for a 4-member FSU); the session's machinery around it was most
of it. tests/forms/test_check.py compares this pass with `FormSession` (errors,
calculated values, `to_json`) on generated households, planted errors and issue 14's
fault forms.
"""

from __future__ import annotations

from datetime import date, datetime
from types import NoneType
from typing import Any

from app.core.errors import NotFound, ValidationError
from app.core.gc_pause import gc_paused
from app.forms.compiled import ReceivedRecord, compile_check
from app.forms.definition import Choice, FormDef, NodeDef
from app.forms.graph import Program, Slot, program_of
from app.forms.session import (
    CONSTRAINT_MSG,
    MAX_REPEAT_COUNT,
    REQUIRED_MSG,
    TYPE_MSGS,
    FormSession,
    _memo_key,
    _msg,
    _plan_of,
    _walk_paths,
    answer_node,
    record_clock,
    stored_parts,
    validate_in_session,
)
from app.forms.xpath import Env, Node, to_bool

_NEVER = 1 << 60  # rank of "no producer reads this path"
_LOADED: Any = object()  # errors_of has no entry: the value is the stored answer
_QUIET = ("note", "calculate")  # types whose empty answer is never missing
# types whose given answer FormSession._type_problem checks
_TYPED = frozenset({"integer", "decimal", "date", "datetime", "select_one", "select_multiple"})
_NEVER_, _COMPUTED, _ALWAYS = 0, 1, 2  # when a given answer's type is checked (CheckPlan)


class _Bail(Exception):
    """The one ordered pass cannot give the session's result for this record."""


class CheckPlan:
    """What checking a record of one form version needs, computed once (kept on the
    form's Program: `plan_of`).

    eligible: False when the form has a repeat_count or a triggered calculation (then
    `FormSession` checks every record). first_reader: by generic path, the lowest rank
    of a producer slot that reads that path (a change there after that rank was
    evaluated needs the session's queue). leaves: by generic path, the leaf slots in
    rank order, split by what decides a hard error."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.eligible = not any(
            s.kind == "count" or (s.kind == "calc" and s.node.trigger) for s in program.slots)
        self.first_reader: dict[tuple[str, ...], int] = {}
        for path, readers in program.readers.items():
            ranks = [s.rank for s, _pin in readers if not s.leaf]
            self.first_reader[path] = min(ranks) if ranks else _NEVER
        # slots whose only input besides their routes is today(): results shared within
        # a local day (the server's records have no clock of their own, see _value)
        self.day: dict[int, tuple[Any, dict[tuple[Any, ...], tuple[Any, str | None]]]] = {}
        for s in program.slots:
            if s.memo is None:
                routes = program.day_routes(s)
                if routes is not None:
                    self.day[s.id] = (routes, {})
        # by question path: (static required, static constraint result, `required`
        # slots, choice-filter and constraint slots, when the type is checked: _NEVER_,
        # _COMPUTED (only a value a calculation gave: a stored answer passed the same
        # check, FormSession._refused, when it was loaded) or _ALWAYS (a filtered or
        # empty choice list: what was valid at load may not be now))
        self.rules: dict[tuple[str, ...], tuple[bool, bool, tuple[Slot, ...],
                                                 tuple[Slot, ...], int]] = {}
        for path, nd in program.fd.by_path.items():
            if nd.kind != "question":
                continue
            static = program.static.get(path) or {}
            slots = program.leaf_slots.get(path, ())
            given = tuple(s for s in slots if s.kind in ("choices", "constraint"))
            if nd.type not in _TYPED:
                typed = _NEVER_
            elif nd.is_select and (any(s.kind == "choices" for s in given)
                                   or not program.choice_list(nd).names):
                typed = _ALWAYS
            else:
                typed = _COMPUTED
            self.rules[path] = (
                static.get("required", False), static.get("constraint", True),
                tuple(s for s in slots if s.kind == "required"), given, typed)


def plan_of(program: Program) -> CheckPlan:
    """The CheckPlan of a compiled form (built on first use, kept on the Program)."""
    plan = program.check_plan
    if plan is None:
        plan = program.check_plan = CheckPlan(program)
    return plan


class RecordCheck:
    """One received record read in one ordered pass (see the module docstring).

    Raises _Bail when the pass cannot give the session's result; NotFound or
    ValidationError when the answers do not fit the form (the caller then lets
    FormSession raise its own, identical, error)."""

    # the rules of one answer are FormSession's own (one definition, see session.py)
    _input = FormSession._input
    _coerce_input = FormSession._coerce_input
    _refused = FormSession._refused
    _coerce_result = staticmethod(FormSession._coerce_result)
    _render = FormSession._render
    _filter_choices = FormSession._filter_choices
    _insert_point = FormSession._insert_point
    choice_label = FormSession.choice_label
    _run_expr = staticmethod(FormSession._run_expr)
    _type_problem = ReceivedRecord._type_problem  # the compiled check's (one definition)

    def __init__(self, formdef: FormDef, data: dict[str, Any], plan: CheckPlan,
                 today: date | None = None) -> None:
        self.formdef = formdef
        self.program = program = plan.program
        self.plan = plan
        self.language = formdef.default_language
        # today() of this record: the day it was completed, or the local date (a record
        # checked across midnight reads one day, not two)
        self.today = today or datetime.now().astimezone().date()
        self.clock = record_clock(self.today)
        self._fast = True
        self.doc = Node("#doc")
        self.root = self.doc.append(Node(formdef.root.name, defn=formdef.root))
        self.env = Env(self.doc, self)
        self.env.indexes = {}
        self.hosts: dict[tuple[str, ...], list[Node]] = {formdef.root.path: [self.root]}
        self.raw: dict[int, str] = {}  # answers the question's type refuses, as typed
        self.own_off: set[int] = set()  # nodes whose own relevance is false
        self.errors_of: dict[int, str | None] = {}  # a rule's evaluation error
        self.keep: set[int] = set()  # stored values of calculations the centre keeps
        for child in formdef.root.children:
            self._grow(_plan_of(program, child), self.root)
        self._load(data)
        self._evaluate()

    # ------------------------------------------------------------------ building
    def _grow(self, plan: tuple[Any, ...], parent: Node) -> None:
        hosts = self.hosts
        by_name = parent.by_name
        children = parent.children
        for name, nd, path, _static, kids, is_repeat in plan:
            if is_repeat:
                by_name.setdefault(name, [])
                continue
            node = Node(name, parent, nd, leaf=not kids and nd.kind == "question")
            children.append(node)
            by_name[name] = [node]
            lst = hosts.get(path)
            if lst is None:
                hosts[path] = [node]
            else:
                lst.append(node)
            if kids:
                self._grow(kids, node)

    def _new_instance(self, nd: NodeDef, parent: Node) -> Node:
        """As FormSession._new_instance at load time (appended after its siblings)."""
        inst = Node(nd.name, defn=nd)
        self.hosts.setdefault(nd.path, []).append(inst)
        siblings = parent.by_name.setdefault(nd.name, [])
        if siblings:
            at = parent.children.index(siblings[-1]) + 1
        else:
            at = self._insert_point(nd, parent)
        parent.children.insert(at, inst)
        siblings.append(inst)
        inst.parent = parent
        inst.index = len(siblings)
        self._grow(_plan_of(self.program, nd)[0][4], inst)
        return inst

    def _find(self, path: str) -> Node:
        """FormSession._find(path, create=True), raising the same kinds of errors."""
        try:
            steps = self.program.steps(path)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise NotFound(f"no node {path}", "") from None
        node = self.root
        for name, idx, nd in steps:
            lst = node.by_name.get(name, [])
            if nd.is_repeat:
                if idx is None or idx > MAX_REPEAT_COUNT:
                    raise NotFound(f"bad repeat position in {path}", "")
                while len(lst) < idx:
                    self._new_instance(nd, node)
                    lst = node.by_name[name]
                if idx < 1:
                    raise NotFound(f"no instance {path}", "")
                node = lst[idx - 1]
            else:
                if idx not in (None, 1) or not lst:
                    raise NotFound(f"no node {path}", "")
                node = lst[0]
        return node

    def _load(self, data: dict[str, Any]) -> None:
        """As FormSession._load."""
        repeats, answers = stored_parts(data)
        for path, count in sorted(repeats.items(), key=lambda kv: str(kv[0]).count("/")):
            n = int(count)
            if n > 0:
                self._find(f"{path}[{n}]")
        raws = self.raw
        keep = self.keep
        unverifiable = self.program.unverifiable
        located = self.program.located
        hosts = self.hosts
        for path, value in answers.items():
            node = answer_node(path, located, hosts, self._find, self._new_instance)
            nd = node.defn
            if nd is None or nd.kind != "question":
                raise ValidationError(f"{path} is not a question", "")
            new, raw = self._input(nd, value)
            if raw is None:
                raws.pop(id(node), None)
            else:
                raws[id(node)] = raw
            node.value = new
            if new != "" and nd.path in unverifiable:
                keep.add(id(node))  # chance or the device's clock: kept (the rest again)

    # ------------------------------------------------------------------ evaluation
    def _value(self, slot: Slot, node: Node) -> tuple[Any, str | None]:
        """The slot's result on `node` (shared memo of pure expressions, as _eval)."""
        env = self.env.at(node)
        memo = slot.memo
        if memo is None:
            day = self.plan.day.get(slot.id)
            if day is None:
                return self._run_expr(slot, node, env)
            routes, memo = day
            key = _memo_key(routes, env.chain)
            if key is not None:
                key = (self.today, *key)
        else:
            key = _memo_key(slot.routes, env.chain)  # type: ignore[arg-type]
        if key is not None:
            hit = memo.get(key)
            if hit is not None:
                return hit
        v, err = self._run_expr(slot, node, env)
        if key is not None and isinstance(v, str | float | bool | date | NoneType):
            if len(memo) >= 20_000:
                memo.clear()
            memo[key] = (v, err)
        return v, err

    def _evaluate(self) -> None:
        keep = self.keep
        own_off = self.own_off
        errors_of = self.errors_of
        coerce = self._coerce_result
        for slot in self.program.producers:
            nodes = self.hosts.get(slot.host)
            if not nodes:
                continue
            kind = slot.kind
            for node in nodes:
                if kind == "calc":
                    if id(node) in keep:
                        continue
                    v, err = self._value(slot, node)
                    new = coerce(node.defn, v) if err is None else ""
                    if new != node.value:
                        node.value = new
                        self._changed(node, slot.rank)
                    errors_of[id(node)] = err
                else:  # relevant (count slots make the plan ineligible)
                    v, err = self._value(slot, node)
                    own = True if err is not None else to_bool(v)
                    if own != (id(node) not in own_off):
                        if own:
                            own_off.discard(id(node))
                        else:
                            own_off.add(id(node))
                        self._relevance_changed(node, slot.rank)

    def _changed(self, node: Node, rank: int) -> None:
        idx = self.env.indexes
        if idx:
            idx.clear()
        if self.plan.first_reader.get(node.defn.path, _NEVER) <= rank:
            raise _Bail  # an earlier (or this) producer reads it: the session's queue

    def _relevance_changed(self, top: Node, rank: int) -> None:
        own_off = self.own_off
        stack = [top]
        while stack:
            n = stack.pop()
            parent = n.parent
            eff = (parent.relevant if parent is not None else True) and id(n) not in own_off
            if eff != n.relevant:
                n.relevant = eff
                self._changed(n, rank)
            stack.extend(reversed(n.children))

    # ------------------------------------------------------------------ verdict
    def errors(self) -> list[str]:
        """"path: message" of every hard error, in form order (as validate_submission)."""
        out: list[str] = []
        stack = [self.root]
        while stack:
            n = stack.pop()
            if not n.relevant:
                continue
            if n.children:
                stack.extend(reversed(n.children))
                continue
            nd = n.defn
            if nd is None or nd.kind != "question":
                continue
            msg = self._hard_problem(n, nd)
            if msg:
                out.append(f"{n.path()}: {msg}")
        return out

    def _hard_problem(self, node: Node, nd: NodeDef) -> str | None:
        """FormSession._hard_problem of a freshly opened record."""
        if id(node) in self.raw:
            return TYPE_MSGS.get(nd.type, CONSTRAINT_MSG)
        required, valid, req_slots, given_slots, typed = self.plan.rules[nd.path]
        if node.value == "":
            if nd.type in _QUIET:
                return None
            for slot in req_slots:
                v, err = self._value(slot, node)
                required = err is None and to_bool(v)
            if required:
                return self._render(_msg(nd.required_msgs, self.language), node) or REQUIRED_MSG
            return None
        error = self.errors_of.get(id(node), _LOADED)
        if typed == _COMPUTED and error is _LOADED:
            typed = _NEVER_  # a stored answer: its type was checked when it was loaded
        if error is _LOADED:
            error = None
        if not given_slots and not typed and valid:
            return None
        choices: list[Choice] | None = None
        for slot in given_slots:
            if slot.kind == "choices":
                choices = self._filter_choices(slot, node)
            else:
                v, error = self._value(slot, node)
                valid = error is None and to_bool(v)
        names = None if choices is None else {c.name for c in choices}
        tmsg = self._type_problem(node, nd, names) if typed else None
        if tmsg:
            return tmsg
        if not valid:
            if error:
                return f"Error al evaluar la regla: {error}"
            return self._render(_msg(nd.constraint_msgs, self.language), node) or CONSTRAINT_MSG
        return None

    # ------------------------------------------------------------------ output
    def answers(self) -> dict[str, str]:
        """As FormSession.answers(): relevant, non-empty questions and calculations."""
        out: dict[str, str] = {}
        stack: list[tuple[Node, str]] = [(c, "") for c in reversed(self.root.children)]
        base = "/" + self.root.name
        while stack:
            n, parent_path = stack.pop()
            nd = n.defn
            step = f"{n.name}[{n.index}]" if nd.kind == "repeat" else n.name
            path = f"{parent_path or base}/{step}"
            if n.children:
                stack.extend((c, path) for c in reversed(n.children))
            elif nd.kind == "question" and n.value != "" and nd.type != "note" and n.relevant:
                out[path] = n.value
        return out

    def to_json(self) -> dict[str, Any]:
        """As FormSession.to_json()."""
        return FormSession.to_json(self)  # type: ignore[arg-type]

    def repeats(self) -> dict[str, int]:
        return FormSession.repeats(self)  # type: ignore[arg-type]

    def close(self) -> None:
        """Unlink the tree (each node's parent, the environment's owner) so that
        reference counting frees it at once: left to the cyclic collector, the dead trees
        of a batch cost about a sixth of the check's time. Nothing may be read after."""
        for nodes in self.hosts.values():
            for n in nodes:
                n.parent = None
        self.root.parent = None
        self.env.session = None  # type: ignore[assignment]
        self.env.indexes = None

    def _walk(self) -> list[tuple[Node, str]]:
        """(node, path) in form order, as FormSession._walk (read by `repeats`)."""
        return list(_walk_paths(self.root))


def open_record(formdef: FormDef, data: dict[str, Any],
                today: date | None = None) -> RecordCheck | None:
    """The record read in one pass (its rules reading `today` as today(); None: the
    real date), or None when FormSession must read it (see the module docstring:
    ineligible form, a backward change, answers that do not fit)."""
    plan = plan_of(program_of(formdef))
    if not plan.eligible or not data:
        return None
    try:
        with gc_paused():  # hundreds of linked nodes built at once (app.core.gc_pause)
            return RecordCheck(formdef, data, plan, today)
    except (_Bail, NotFound, ValidationError, ValueError, TypeError):
        return None


def validate_submission(formdef: FormDef, data: dict[str, Any], *,
                        today: date | None = None) -> list[str]:
    """Reasons (Spanish, "path: message") why a received record is refused; empty when
    acceptable. `today`: the day the record's rules read as today() — its completion
    day, so a record that waited weeks for a connection is read as it was completed
    (None: the real date). Every calculation is computed again, none taken from the
    record. Same result as `validate_in_session` (FormSession with recheck); the
    compiled check (app.forms.compiled) runs when the form and the answers allow, else
    the one ordered pass, else the session. Raises ValidationError or NotFound (Spanish
    `user_message`) when the answers do not fit the form at all."""
    if data:
        compiled = compile_check(formdef)
        if compiled is not None:
            errors = compiled.errors(data, today)
            if errors is not None:
                return errors
    rec = open_record(formdef, data, today)
    if rec is None:
        return validate_in_session(formdef, data, today=today)
    try:
        return rec.errors()
    finally:
        rec.close()


__all__ = ["CheckPlan", "RecordCheck", "open_record", "plan_of", "validate_submission"]
