"""The server's check of a received record, compiled to Python per form version
(issues 14 and 20: the centre's validation share).

`app.forms.check.RecordCheck` reads a record in one ordered pass, but over a tree of
nodes it builds for each record, with closures that walk that tree and a memo keyed
on the values each rule reads: about 2.7 ms of the server's CPU for a five-member FSU,
three quarters of the whole ingest. A received record is only ever checked, and its
form version is fixed, so this module translates, once per form version, every rule
the check needs (calculations, relevance, `required`, constraints, choice filters)
into the source of one small Python function each, and reads a record as flat
tables: per question of the form, the list of its nodes (one outside repeats, one
per repeat instance inside). A reference in a rule becomes an index into that table
(`/fsu/integrantes/edad` inside the same member is "this member's node"); the
XPath operators become the same runtime helpers the engine's closures call
(`compare`, `to_number`, the functions' own implementations), on the same values
(lists of nodes, numbers, text, dates), so the result is the engine's by
construction; tests/forms/test_compiled.py compares the two on generated households,
planted errors, odd answers and issue 14's fault forms.

What is compiled: forms whose rules use paths to questions and to (not nested)
repeats, `.`, `position(..)`, predicates on a repeat, every function whose result
depends only on its argument values (`app.forms.xpath.VALUE_FUNCTIONS`), `if`,
`count`, `concat`, `string`, `number`, `today`, `format-date`, `indexed-repeat`,
`column = value` choice filters and `${name}` in required and constraint messages.
Anything else (nested repeats, a repeat_count, triggers, `once`, `now`, `random`,
secondary instances, rules that read what a later rule changes) makes `compile_check`
return None, and the
record is read by `RecordCheck` as before. A record whose answers do not fit the form
(unknown paths, bad repeat positions) goes the same way, so every Spanish error the
server reports still comes from one place.

Like every path of the centre's check, it takes no calculated value from the record:
each calculation is computed again from the answers, on the day the record was
completed (`today`, see app.forms.check.validate_submission).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Collection
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from app.core.errors import NotFound, ValidationError
from app.core.gc_pause import gc_paused
from app.forms.compiled_passes import _READS_I, evaluate_pass, rule_function, verdict_pass
from app.forms.definition import FormDef, NodeDef
from app.forms.functions import _flat_strings, _format_date, _format_date_in
from app.forms.graph import Program, Slot, program_of
from app.forms.session import (
    _CANONICAL_TYPES,
    CONSTRAINT_MSG,
    MAX_REPEAT_COUNT,
    REQUIRED_MSG,
    TYPE_MSGS,
    FormSession,
    _msg,
    stored_parts,
)
from app.forms.xpath import (
    VALUE_FUNCTIONS,
    EvalError,
    Node,
    Path,
    _Compiler,
    _Ctx,
    _div,
    _mod,
    compare,
    parse,
    parse_date,
    referenced_names,
    str_to_number,
    substitute_refs,
    to_bool,
    to_number,
    to_string,
)

_QUIET = ("note", "calculate")  # types whose empty answer is never missing
_TYPED = frozenset({"integer", "decimal", "date", "datetime", "select_one", "select_multiple"})
_NUMERIC = frozenset({"integer", "decimal"})
# what FormSession._run_expr turns into a rule's evaluation error
_RULE_ERRORS = (EvalError, ZeroDivisionError, ValueError, TypeError, OverflowError)
_CONST = re.compile(r"K\d+|C\[\d+\]")  # a literal, a record constant
_READS_J = re.compile(r"(?<![\w'])j(?![\w'])")  # a predicate's item
_NODE_REF = re.compile(r"N\[(\d+)\](?:\[(\w+)\])?")  # N[k][i], N[k][0], N[k][j], N[k]
_MEMO_TYPES = (str, float, bool, date)
_CALLED = re.compile(r"([A-Za-z_]\w*)\(")  # the functions a translated rule calls
# calls cheaper than a memo's lookup: a rule calling nothing else is not memoized
_CHEAP = frozenset({"str_to_number", "_eqn", "float", "len", "to_bool", "to_number",
                    "to_string"})
_RELATIONS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
# functions that read something besides their arguments: never compiled
_IMPURE = frozenset({"random", "uuid", "now", "once", "randomize", "version", "property",
                     "instance", "pulldata", "jr:choice-name", "jr:itext", "name",
                     "local-name", "namespace-uri", "lang", "id", "last", "current"})


# what a value function always returns (checked against functions.py's signatures)
_FUNCTION_KINDS = {
    **dict.fromkeys(("not", "true", "false", "boolean", "selected", "regex", "contains",
                     "starts-with", "ends-with"), "bool"),
    **dict.fromkeys(("int", "floor", "ceiling", "abs", "round", "pow", "count-selected"),
                    "num"),
    **dict.fromkeys(("substr", "substring", "substring-before", "substring-after",
                     "translate", "selected-at"), "str"),
}


_MISSING: Any = object()


class _NotCompilable(Exception):
    """A rule or a form shape this module does not translate (RecordCheck reads it)."""


# -------------------------------------------------------------------- runtime helpers
class _Cell(Node):
    """A question's node in a record's tables: a leaf Node with no place in a tree
    (rules find it by index), so only what a rule reads is set. `sv` is its string
    value (its value when relevant, else ''), kept as value and relevance are set, so
    rules read it as an attribute instead of calling a function for it."""

    __slots__ = ("sv",)
    children = ()  # type: ignore[assignment]
    by_name = MappingProxyType({})  # type: ignore[assignment]
    parent = None  # type: ignore[assignment]
    index = 1  # type: ignore[assignment]
    st = None

    def __init__(self, nd: NodeDef) -> None:  # noqa: D107 - see the class
        self.name = nd.name
        self.defn = nd
        self.value = ""
        self.relevant = True
        self.sv = ""


def _eqn(x: float, y: float) -> bool:
    """`=` of two numbers as xpath._cmp_atoms: within 1e-12, or the same infinity."""
    return abs(x - y) < 1e-12 or (x == y and x in (math.inf, -math.inf))


def _keep(v: Any, pos: int) -> bool:
    """A predicate's verdict on the item at `pos` (xpath._filter's rule)."""
    if isinstance(v, float | int) and not isinstance(v, bool):
        return v == pos
    return to_bool(v)


def _indexed(nodes: list[Node], count: int, idx: Any) -> list[Node]:
    """indexed-repeat(target, repeat, idx) with one repeat (functions._indexed_repeat)."""
    if not nodes:
        return []
    x = to_number(idx)
    i = max(1, int(x)) if x == x and math.isfinite(x) else 1
    return [nodes[i - 1]] if i <= count else []


_RUNTIME: dict[str, Any] = {
    "_eqn": _eqn, "_keep": _keep, "_indexed": _indexed,
    "compare": compare,
    "to_bool": to_bool, "to_number": to_number, "to_string": to_string,
    "str_to_number": str_to_number, "_div": _div, "_mod": _mod,
    "_flat_strings": _flat_strings, "_format_date_in": _format_date_in,
    "_format_date": _format_date,
}
# what written-out rules and passes read (compiled_passes)
_PASS_RUNTIME = {**_RUNTIME, "_MEMO_TYPES": _MEMO_TYPES, "_ERRORS": _RULE_ERRORS}
# a folded constant's kind by its value's type (a date-time is left as the rule's kind)
_VALUE_KINDS: dict[type, str] = {float: "num", str: "str", bool: "bool", date: "date"}


# -------------------------------------------------------------------- translation
class _Leaf:
    """One question of the form: its place in the record's tables."""

    __slots__ = ("k", "nd", "rep", "prefix", "suffix", "numeric", "empty_ok", "given_ok",
                 "one_rule")

    def __init__(self, k: int, nd: NodeDef, rep: int | None, prefix: str, suffix: str) -> None:
        self.k = k
        self.nd = nd
        self.rep = rep  # index of its repeat, None outside repeats
        self.prefix = prefix  # its path's text up to the repeat (or whole)
        self.suffix = suffix  # below the repeat instance
        self.numeric = nd.type in _NUMERIC
        # no rule can refuse it when empty / when given and stored as sent (set by
        # CompiledCheck from its rules)
        self.empty_ok = False
        self.given_ok = False
        self.one_rule: Any = None  # the one constraint that decides a given answer


class _Expr:
    """A translated sub-expression: Python source and what it evaluates to: 'node' (one
    Node), 'set' (a list of Nodes), 'val' (any Value), 'bool', 'num', 'str', or 'rep'
    (a repeat's instances: only counted)."""

    __slots__ = ("code", "kind", "leaf", "rep")

    def __init__(self, code: str, kind: str, leaf: _Leaf | None = None,
                 rep: int | None = None) -> None:
        self.code = code
        self.kind = kind
        self.leaf = leaf
        self.rep = rep

    def val(self) -> str:
        if self.kind == "node":
            return f"[{self.code}]"
        if self.kind == "rep":
            raise _NotCompilable("a repeat's instances as a value")
        return self.code

    def bool(self) -> str:
        if self.kind == "bool":
            return self.code
        if self.kind == "node":
            return f"({self.code}.sv != '')"  # boolean() of one node in ODK: not empty
        return f"to_bool({self.val()})"

    def num(self) -> str:
        if self.kind == "num":
            return self.code
        if self.kind == "node":
            return f"str_to_number({self.code}.sv)"
        return f"to_number({self.val()})"

    def text(self) -> str:
        if self.kind == "str":
            return self.code
        if self.kind == "node":
            return f"{self.code}.sv"
        return f"to_string({self.val()})"


class _Translator:
    """XPath of one slot -> Python source over the record's tables.

    In the source: `N` is the table of nodes by question (N[k][i]), `R` the instance
    count of each repeat, `i` the instance of the evaluated node (0 outside repeats),
    `C` the record's constants (C[0]: today's date)."""

    def __init__(self, cc: CompiledCheck, host: Path, source: str) -> None:
        self.cc = cc
        self.host = host
        self.source = source
        self.comp = _Compiler(source, host, host)
        self.host_rep = cc.rep_of_path(host)
        self.consts: list[Any] = []

    def const(self, v: Any) -> str:
        self.consts.append(v)
        return f"K{len(self.consts) - 1}"

    def run(self) -> str:
        tok = parse(self.source)
        ctx = _Ctx(self.host, len(self.host), self.host)
        return self.expr(tok, ctx, None).val()

    # -- expressions
    def expr(self, tok: Any, ctx: _Ctx, item: str | None) -> _Expr:
        """`item`: the variable of the repeat instance a predicate is evaluated on. A
        sub-expression that reads no answer is computed once: when it reads only
        today() (or the time zone), once per record (CompiledCheck.hoist); else now."""
        return self._fold(self._expr(tok, ctx, item))

    def _fold(self, e: _Expr) -> _Expr:
        """`e` computed now when it reads no answer (a constant, of the kind its value
        has), hoisted when it reads today() or the time zone, else as it is."""
        if e.kind in ("node", "set", "rep") or _CONST.fullmatch(e.code) \
                or _NODE_REF.search(e.code) or "R[" in e.code or _READS_I.search(e.code) \
                or _READS_J.search(e.code):
            return e
        names = {**_RUNTIME, **{f"K{n}": v for n, v in enumerate(self.consts)}}
        code = compile(e.code, "<constant>", "eval")
        if "C[" in e.code:
            return _Expr(f"C[{self.cc.hoist(code, names)}]", e.kind)
        try:
            v = eval(code, names)  # noqa: S307 - our own translation of a form's rule
        except _RULE_ERRORS:
            return e  # fails when the rule runs, as in the session
        kind = _VALUE_KINDS.get(type(v), e.kind)
        return _Expr(self.const(v), kind)

    def is_empty_text(self, e: _Expr) -> bool:
        """Whether e is the constant ''."""
        return e.kind == "str" and e.code.startswith("K") and self.consts[int(e.code[1:])] == ""

    # -- conversions: of a constant or a record constant, done once (not per call)
    def num(self, e: _Expr) -> str:
        """number() of e, as Python source."""
        return self._once(e, e.num(), "num")

    def text(self, e: _Expr) -> str:
        """string() of e, as Python source."""
        return self._once(e, e.text(), "str")

    def truth(self, e: _Expr) -> str:
        """boolean() of e, as Python source."""
        return self._once(e, e.bool(), "bool")

    def _once(self, e: _Expr, code: str, kind: str) -> str:
        if e.kind == kind or not _CONST.fullmatch(e.code):
            return code
        return self._fold(_Expr(code, kind)).code

    def _expr(self, tok: Any, ctx: _Ctx, item: str | None) -> _Expr:
        sym = tok.symbol
        if sym == "(string)":
            return _Expr(self.const(str(tok.value)), "str")
        if sym in ("(integer)", "(decimal)", "(float)"):
            return _Expr(self.const(float(tok.value)), "num")
        if sym == "(":
            return self.expr(tok[0], ctx, item)
        if sym in ("or", "and"):
            a, b = self.expr(tok[0], ctx, item), self.expr(tok[1], ctx, item)
            return _Expr(f"({self.truth(a)} {sym} {self.truth(b)})", "bool")
        if sym in ("=", "!=", "<", "<=", ">", ">="):
            return self.comparison(sym, self.expr(tok[0], ctx, item),
                                   self.expr(tok[1], ctx, item))
        if sym in ("+", "-", "*") and len(tok) == 2:
            a, b = self.expr(tok[0], ctx, item), self.expr(tok[1], ctx, item)
            return _Expr(f"({self.num(a)} {sym} {self.num(b)})", "num")
        if sym in ("-", "+") and len(tok) == 1:
            a = self.expr(tok[0], ctx, item)
            return _Expr(f"(-{self.num(a)})" if sym == "-" else self.num(a), "num")
        if sym in ("div", "mod"):
            a, b = self.expr(tok[0], ctx, item), self.expr(tok[1], ctx, item)
            return _Expr(f"_{sym}({self.num(a)}, {self.num(b)})", "num")
        if sym == ":":
            return self.function(tok[1], ctx, item, prefix=str(tok[0].value))
        if sym in ("/", "//", "[", "(name)", ".", "..", "*", "current"):
            return self.path(tok, ctx, item)
        if tok.label.endswith("function"):
            return self.function(tok, ctx, item)
        raise _NotCompilable(sym)

    def comparison(self, op: str, a: _Expr, b: _Expr) -> _Expr:
        """XPath comparison (xpath.compare) with the usual shapes written out: a
        relation between single values is numeric; `=` of text is string equality and
        of numbers _eqn; anything else goes through `compare`."""
        scalar = ("node", "num", "str", "date")
        if op in _RELATIONS:
            if a.kind in scalar and b.kind in scalar:
                # both sides numbers (_cmp_atoms: to_number of each atom)
                return _Expr(f"({self.num(a)} {op} {self.num(b)})", "bool")
            return _Expr(f"compare({op!r}, {a.val()}, {b.val()})", "bool")
        eq = "==" if op == "=" else "!="

        def textual(x: _Expr) -> bool:
            return x.kind == "str" or (x.kind == "node" and not x.leaf.numeric)  # type: ignore[union-attr]

        if textual(a) and textual(b) or self.is_empty_text(a) and b.kind == "node" \
                or self.is_empty_text(b) and a.kind == "node":
            # (a number question against '': compare gives the same as its text is '')
            return _Expr(f"({self.text(a)} {eq} {self.text(b)})", "bool")
        if (a.kind == "num" and b.kind in ("num", "node")) or \
                (b.kind == "num" and a.kind in ("num", "node")):
            test = f"_eqn({self.num(a)}, {self.num(b)})"
            return _Expr(test if op == "=" else f"(not {test})", "bool")
        return _Expr(f"compare({op!r}, {a.val()}, {b.val()})", "bool")

    def function(self, tok: Any, ctx: _Ctx, item: str | None,
                 prefix: str | None = None) -> _Expr:
        name = str(tok.symbol)
        qname = f"{prefix}:{name}" if prefix else name
        if qname in _IMPURE:
            raise _NotCompilable(qname)
        if qname == "if":
            c = self.expr(tok[0], ctx, item)
            a, b = self.expr(tok[1], ctx, item), self.expr(tok[2], ctx, item)
            if a.kind == b.kind and a.kind != "rep" and a.leaf is None and b.leaf is None:
                return _Expr(f"({a.code} if {self.truth(c)} else {b.code})", a.kind)
            return _Expr(f"({a.val()} if {self.truth(c)} else {b.val()})", "val")
        if qname == "count" and len(tok) == 1:
            a = self.expr(tok[0], ctx, item)
            if a.kind == "rep":
                return _Expr(f"float({a.code})", "num")
            if a.kind == "set":
                return _Expr(f"float(len({a.code}))", "num")
            if a.kind == "node":
                return _Expr("1.0", "num")
            raise _NotCompilable("count() of a value")
        if qname == "position":
            return self.position(tok, ctx, item)
        if qname == "today" and len(tok) == 0:
            return _Expr("C[0]", "date")
        if qname in ("format-date", "format-date-time"):
            a, b = self.expr(tok[0], ctx, item), self.expr(tok[1], ctx, item)
            # a question's text, not its node-set of one (format-date reads the same)
            v = a.text() if a.kind == "node" else a.val()
            if b.kind == "str" and b.code.startswith("K"):
                fmt = self.consts[int(b.code[1:])]
                if "%b" not in fmt and "%a" not in fmt:  # no names: no language read
                    return _Expr(f"_format_date({v}, {b.code})", "str")
            lang = self.const(self.cc.language)
            return _Expr(f"_format_date_in({lang}, {v}, {b.val()})", "str")
        if qname == "concat":
            args = ", ".join(self.expr(t, ctx, item).val() for t in tok)
            return _Expr(f"''.join(_flat_strings([{args}]))", "str")
        if qname in ("string", "number") and len(tok) == 1:
            a = self.expr(tok[0], ctx, item)
            return _Expr(self.text(a), "str") if qname == "string" else _Expr(self.num(a), "num")
        if qname in ("string-length", "normalize-space") and len(tok) == 1:
            a = self.expr(tok[0], ctx, item).text()
            if qname == "string-length":
                return _Expr(f"float(len({a}))", "num")
            return _Expr(f"' '.join({a}.split())", "str")
        if qname == "indexed-repeat" and len(tok) == 3:
            return self.indexed_repeat(tok, ctx, item)
        impl = VALUE_FUNCTIONS.get(qname)
        if impl is None:
            raise _NotCompilable(qname)
        fname = self.const(impl)
        args = ", ".join(self.expr(t, ctx, item).val() for t in tok)
        kind = _FUNCTION_KINDS.get(qname, "val")
        return _Expr(f"{fname}({args})", kind)

    def position(self, tok: Any, ctx: _Ctx, item: str | None) -> _Expr:
        if len(tok) == 0:
            if item is None:
                raise _NotCompilable("position() outside a predicate")
            return _Expr(f"float({item} + 1)", "num")
        target = self.target(tok[0], ctx)
        if target is None:
            raise _NotCompilable("position() of that path")
        path, _pin = target
        nd = self.cc.fd.by_path.get(path)
        if nd is None or item is not None:
            raise _NotCompilable("position() of that path")
        rep = self.cc.rep_index.get(path)
        if rep is not None and rep == self.host_rep and path == self.host[: len(path)]:
            return _Expr("float(i + 1)", "num")  # the evaluated node's own instance
        if nd.kind == "group" and self.cc.rep_of_path(path) == self.host_rep \
                and path == self.host[: len(path)]:
            return _Expr("1.0", "num")  # a group is the one of its name
        raise _NotCompilable("position() of that path")

    def indexed_repeat(self, tok: Any, ctx: _Ctx, item: str | None) -> _Expr:
        t, r = self.target(tok[0], ctx), self.target(tok[1], ctx)
        if t is None or r is None or item is not None:
            raise _NotCompilable("indexed-repeat() of those paths")
        leaf = self.cc.leaf_of.get(t[0])
        rep = self.cc.rep_index.get(r[0])
        if leaf is None or rep is None or leaf.rep != rep or r[0] == self.host[: len(r[0])]:
            raise _NotCompilable("indexed-repeat() of those paths")
        idx = self.expr(tok[2], ctx, item)
        return _Expr(f"_indexed(N[{leaf.k}], R[{rep}], {idx.val()})", "set")

    # -- paths
    def target(self, tok: Any, ctx: _Ctx) -> tuple[Path, int] | None:
        """Generic path and pinned depth of a plain path (no predicates)."""
        try:
            start, steps = self.comp._flatten(tok, ctx)
        except Exception:  # noqa: BLE001 - not a path this module reads
            return None
        if any(preds for _a, _n, preds in steps):
            return None
        return self.comp._analyse(start, steps, ctx)[0]

    def path(self, tok: Any, ctx: _Ctx, item: str | None) -> _Expr:
        try:
            start, steps = self.comp._flatten(tok, ctx)
        except Exception as e:  # noqa: BLE001 - ExprError: not a path this module reads
            raise _NotCompilable(str(e)) from None
        cc = self.cc
        if start == "current" or (start == "context" and item is None):
            # relative to the evaluated node (current() is that node, also in predicates)
            ctx = _Ctx(self.host, len(self.host), self.host)
            if all(a == "self" and not p for a, _n, p in steps):
                leaf = cc.leaf_of.get(self.host)
                if leaf is None:
                    raise _NotCompilable("the context of a group")
                return _Expr(f"N[{leaf.k}][i]", "node", leaf)
            return self.resolve(start, steps, ctx)
        if item is not None:
            # inside a predicate on a repeat: a child question of the item, or a
            # question outside repeats
            if start == "context" and len(steps) == 1 and steps[0][0] == "child" \
                    and not steps[0][2]:
                leaf = cc.leaf_of.get((*ctx.path, steps[0][1])) if ctx.path else None
                if leaf is not None and leaf.rep == cc.rep_index.get(ctx.path):
                    return _Expr(f"N[{leaf.k}][{item}]", "node", leaf)
            if start == "root" and not any(p for _a, _n, p in steps):
                info = self.comp._analyse(start, steps, ctx)[0]
                leaf = cc.leaf_of.get(info[0]) if info else None
                if leaf is not None and leaf.rep is None:
                    return _Expr(f"N[{leaf.k}][0]", "node", leaf)
            raise _NotCompilable("path inside a predicate")
        return self.resolve(start, steps, ctx)

    def resolve(self, start: str, steps: list[Any], ctx: _Ctx) -> _Expr:
        """A path from the root or the evaluated node, with at most one predicate (on a
        repeat)."""
        cc = self.cc
        pred_at = [n for n, (_a, _nm, preds) in enumerate(steps) if preds]
        if not pred_at:
            info = self.comp._analyse(start, steps, ctx)[0]
            if info is None:
                raise _NotCompilable("path")
            return self.plain(*info)
        if len(pred_at) != 1 or len(steps[pred_at[0]][2]) != 1:
            raise _NotCompilable("predicates")
        at = pred_at[0]
        head = [(a, n, []) for a, n, _p in steps[: at + 1]]
        info, step_ctx = self.comp._analyse(start, head, ctx)
        rep = cc.rep_index.get(info[0]) if info else None
        if rep is None or (self.host_rep == rep and info[1] >= len(info[0])):
            raise _NotCompilable("predicate not on a repeat")
        pred = self.expr(steps[at][2][0], step_ctx[-1], "j")
        keep = pred.bool() if pred.kind in ("bool", "node", "str") else \
            f"_keep({pred.val()}, j + 1)"
        rest = steps[at + 1:]
        if not rest:
            count = f"sum(1 for j in range(R[{rep}]) if {keep})"
            return _Expr(count, "rep", rep=rep)
        full = self.comp._analyse(start, [(a, n, []) for a, n, _p in steps], ctx)[0]
        leaf = cc.leaf_of.get(full[0]) if full else None
        if leaf is None or leaf.rep != rep or any(a != "child" for a, _n, _p in rest):
            raise _NotCompilable("path below a predicate")
        return _Expr(f"[N[{leaf.k}][j] for j in range(R[{rep}]) if {keep}]", "set")

    def plain(self, path: Path, pin: int) -> _Expr:
        cc = self.cc
        rep = cc.rep_index.get(path)
        if rep is not None:
            if self.host_rep == rep and pin >= len(path):
                raise _NotCompilable("the evaluated node's own repeat instance")
            return _Expr(f"R[{rep}]", "rep", rep=rep)
        leaf = cc.leaf_of.get(path)
        if leaf is None:
            raise _NotCompilable("a path to a group")
        if leaf.rep is None:
            return _Expr(f"N[{leaf.k}][0]", "node", leaf)
        rpath = cc.rep_paths[leaf.rep]
        if self.host_rep == leaf.rep and pin >= len(rpath):
            return _Expr(f"N[{leaf.k}][i]", "node", leaf)
        return _Expr(f"N[{leaf.k}]", "set", leaf)


# -------------------------------------------------------------------- the plan
class _Rule:
    """A compiled slot: fn(N, R, i, C) -> Value (raises what _RULE_ERRORS lists)."""

    __slots__ = ("slot", "fn", "host_leaf", "host_rep", "marks", "column", "formatted")

    def __init__(self, slot: Slot, fn: Any) -> None:
        self.slot = slot
        self.fn = fn
        self.host_leaf: _Leaf | None = None
        self.host_rep: int | None = None
        # relevance: the questions it switches off, and whether per instance
        self.marks: list[tuple[int, bool]] = []
        self.column: str | None = None  # choice filter `column = value`
        # a calculation's numbers as stored (_coerce_result of this node, by number)
        self.formatted: dict[float, str] = {}


class CompiledCheck:
    """Everything checking a record of one form version needs, translated once.

    Built by `compile_check`; raises _NotCompilable while building when the form is
    outside what this module translates (see the module docstring)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        fd = self.fd = program.fd
        self.language = fd.default_language
        if any(s.kind == "count" or (s.kind == "calc" and s.node.trigger)
               for s in program.slots):
            raise _NotCompilable("repeat_count or trigger")
        if program.unverifiable:
            # the centre keeps those stored values (session._load, recheck); this module
            # computes every calculation again
            raise _NotCompilable("a calculation the centre cannot compute again")
        self.rep_paths: list[Path] = []
        self.rep_index: dict[Path, int] = {}
        self.leaves: list[_Leaf] = []
        self.leaf_of: dict[Path, _Leaf] = {}
        # form order for the verdict: ("q", leaf) or ("r", repeat, [leaves in order])
        order: list[tuple[Any, ...]] = []
        self._collect(fd.root, None, order)
        # sub-expressions that read only today() and the time zone: C[3:] of a record
        self.hoisted: list[tuple[Any, dict[str, Any]]] = []
        # rules with a memo so far: those reading today() (their places in C[-1], the
        # memos of a day and time zone) and the others (C[-2], of a time zone: a record
        # completed on another day reads them too)
        self._day_memos = 0
        self._zone_memos = 0
        self._zone_memo_lists: dict[tuple[int, int], list[dict[str, Any]]] = {}
        # `${name}` in a required or constraint message, as read from that question
        self.refs: dict[tuple[str, Path], Any] = {}
        for leaf in self.leaves:
            for msgs in (leaf.nd.required_msgs, leaf.nd.constraint_msgs):
                for text in msgs.values():
                    for name in referenced_names(text):
                        p = fd.names.get(name)
                        self.refs[(name, leaf.nd.path)] = None if p is None else \
                            self._function(leaf.nd.path, "/" + "/".join(p))
        first_reader: dict[Path, int] = {}
        for path, readers in program.readers.items():
            ranks = [s.rank for s, _pin in readers if not s.leaf]
            if ranks:
                first_reader[path] = min(ranks)
        self.producers: list[_Rule] = []
        for slot in program.producers:
            rule = self._rule(slot)
            # one ordered pass gives the session's result only when nothing a producer
            # changes was read by a producer before it (check.CheckPlan.first_reader)
            written = [slot.host] if slot.kind == "calc" else \
                [p for p in fd.by_path if p[: len(slot.host)] == slot.host]
            if any(first_reader.get(p, 1 << 60) <= slot.rank for p in written):
                raise _NotCompilable("a rule reads what a later rule changes")
            self.producers.append(rule)
        # the producers as the evaluate pass reads them (compiled_passes): (fn, repeat,
        # question of a calculation or None for relevance, its NodeDef, stored as plain
        # text, numbers formatted, what a false relevance switches off)
        self.steps = [
            (r.fn, r.host_rep, r.host_leaf.k if r.slot.kind == "calc" else None,  # type: ignore[union-attr]
             r.slot.node, r.slot.node.type not in ("date", "integer"), r.formatted, r.marks)
            for r in self.producers]
        # by question: (static required, static constraint, required rules, choice
        # filter rule, constraint rules, type checked: 0 never, 1 computed values, 2 always)
        self.rules: dict[int, tuple[bool, bool, list[_Rule], _Rule | None, list[_Rule], int]] = {}
        for leaf in self.leaves:
            nd = leaf.nd
            static = program.static.get(nd.path) or {}
            req, cons, choice = [], [], None
            for slot in program.leaf_slots.get(nd.path, ()):
                if slot.kind == "required":
                    req.append(self._rule(slot))
                elif slot.kind == "constraint":
                    cons.append(self._rule(slot))
                elif slot.kind == "choices":
                    choice = self._choice_rule(slot)
            if nd.type not in _TYPED:
                typed = 0
            elif nd.is_select and (choice is not None or not program.choice_list(nd).names):
                typed = 2
            else:
                typed = 1
            self.rules[leaf.k] = (static.get("required", False),
                                  static.get("constraint", True), req, choice, cons, typed)
            leaf.empty_ok = nd.type in _QUIET or (not req and not static.get("required"))
            leaf.given_ok = (choice is None and not cons and typed != 2
                             and static.get("constraint", True))
            # the usual answer with a rule: one constraint decides (no choice filter, a
            # type checked when loaded): the verdict pass runs it directly and calls
            # _hard_problem only for the message of a refused one
            # (also a calculation whose type reads nothing: its computed value is never
            # refused by its type, typed 0)
            if choice is None and len(cons) == 1 and static.get("constraint", True) \
                    and (typed == 0 or (typed == 1 and not nd.calculation)):
                leaf.one_rule = cons[0].fn
        # the verdict reads only questions that can have an error: a note or calculation
        # with no rule of its own never has one (its value is the form's, not typed)
        silent = {leaf.k for leaf in self.leaves
                  if leaf.nd.type in _QUIET and self.rules[leaf.k][2:5] == ([], None, [])
                  and self.rules[leaf.k][1] and not self.rules[leaf.k][5]}
        # in form order, as (repeat or None, rows of (leaf index, empty_ok, given_ok,
        # one_rule, leaf)), consecutive questions outside repeats in one group
        self.checked_rows: list[tuple[int | None, list[tuple[Any, ...]]]] = []
        for item in order:
            rep = None if item[0] == "q" else item[1]
            leaves = [item[1]] if rep is None else [q[1] for q in item[2]]
            rows = [(lf.k, lf.empty_ok, lf.given_ok, lf.one_rule, lf) for lf in leaves
                    if lf.k not in silent]
            if rep is None and self.checked_rows and self.checked_rows[-1][0] is None:
                self.checked_rows[-1][1].extend(rows)
            elif rows:
                self.checked_rows.append((rep, rows))
        # the two passes over a record, written out for this form version
        form_id = f"{fd.form_id} {fd.version}"
        self.evaluate = evaluate_pass(self.steps, _PASS_RUNTIME, FormSession._coerce_result,
                                      form_id)
        # the questions a calculation computes (every cell of theirs is, each record)
        self.calculated = {k for _f, _r, k, *_rest in self.steps if k is not None}
        self.verdict = verdict_pass(self.checked_rows, self.calculated, _PASS_RUNTIME,
                                    form_id)
        self.loc: dict[str, tuple[int, int] | None] = {}  # answer path -> (leaf, instance)
        self._choice_names: dict[tuple[int, Any], frozenset[str]] = {}
        self._threads = threading.local()  # each thread's cells (pool)
        self._constants: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
        self.leaf_defs = [leaf.nd for leaf in self.leaves]
        self.leaf_reps = [leaf.rep for leaf in self.leaves]
        # by repeat: (leaf index, NodeDef) of its questions (ReceivedRecord._grow)
        self.rep_leaves: list[list[tuple[int, NodeDef]]] = [
            [(leaf.k, leaf.nd) for leaf in self.leaves if leaf.rep == r]
            for r in range(len(self.rep_paths))]
        # by question, 1 when its printable ASCII answer is stored as typed
        # (_coerce_input leaves such a text unchanged for a type that is not a number,
        # date or choice, and _refused refuses nothing of those types), 2 for a date
        # question (such an answer that is a plain date 'YYYY-MM-DD' is stored as typed:
        # _coerce_input keeps it, _refused accepts it), else 0
        self.free_text = [2 if leaf.nd.type == "date" else int(
            leaf.nd.type not in _CANONICAL_TYPES and not leaf.nd.is_select)
            for leaf in self.leaves]
        # by question: typed text -> what _input makes of it (a pure function of the
        # question's type and choice list, as Program.inputs); None for a calculation
        # whose type refuses nothing: its stored value is replaced by the one computed
        # again, see ReceivedRecord._evaluate
        self.inputs: list[dict[str, tuple[str, str | None]] | None] = [
            None if leaf.nd.calculation and leaf.nd.type == "calculate" else {}
            for leaf in self.leaves]

    def hoist(self, code: Any, names: dict[str, Any]) -> int:
        """Register a sub-expression computed once per record; its index in C."""
        self.hoisted.append((code, names))
        return 2 + len(self.hoisted)

    def constants(self, today: date | None = None) -> tuple[Any, ...] | None:
        """A record's C: today's local date (a record checked across midnight reads one
        day), the time zone (date functions read it), the hoisted sub-expressions, and
        last the memos of this time zone and of this day and zone (by rule); None when a
        hoisted expression fails (RecordCheck then decides). Kept for 64 days (the
        completion days of the records of a few batches)."""
        base = (today or datetime.now().astimezone().date(), time.timezone, time.altzone)
        hit = self._constants.get(base, _MISSING)
        if hit is not _MISSING:
            return hit  # type: ignore[no-any-return]
        c: list[Any] = list(base)
        out: tuple[Any, ...] | None
        try:
            for code, names in self.hoisted:
                names["C"] = c
                v = eval(code, names)  # noqa: S307 - our own translation of a form's rule
                c.append(v)
            # last: the memos of the rules that read one node, by rule
            zone = self._zone_memo_lists.setdefault(base[1:], [])
            zone += [{} for _ in range(self._zone_memos - len(zone))]
            out = (*c, zone, [{} for _ in range(self._day_memos)])

        except (*_RULE_ERRORS, AttributeError):
            out = None
        if len(self._constants) >= 64:
            self._constants.clear()
        self._constants[base] = out
        return out

    def rep_of_path(self, path: Path) -> int | None:
        """The repeat a generic path is in (or is), None outside repeats."""
        for r, rp in enumerate(self.rep_paths):
            if path[: len(rp)] == rp:
                return r
        return None

    def _collect(self, nd: NodeDef, rep: int | None, out: list[tuple[Any, ...]]) -> None:
        for c in nd.children:
            if c.kind == "question":
                if rep is None:
                    prefix, suffix = c.path_str, ""
                else:
                    rp = self.rep_paths[rep]
                    prefix = "/" + "/".join(rp)
                    suffix = "/" + "/".join(c.path[len(rp):])
                leaf = _Leaf(len(self.leaves), c, rep, prefix, suffix)
                self.leaves.append(leaf)
                self.leaf_of[c.path] = leaf
                out.append(("q", leaf))
            elif c.kind == "repeat":
                if rep is not None:
                    raise _NotCompilable("nested repeats")
                r = len(self.rep_paths)
                self.rep_paths.append(c.path)
                self.rep_index[c.path] = r
                inner: list[tuple[Any, ...]] = []
                out.append(("r", r, inner))
                self._collect(c, r, inner)
            elif c.kind == "group":
                self._collect(c, rep, out)
            else:
                raise _NotCompilable(f"node kind {c.kind}")

    def _function(self, host: Path, source: str, code: Any = None) -> Any:
        tr = _Translator(self, host, source)
        body = tr.run() if code is None else code(tr)
        refs = set(_NODE_REF.findall(body))
        memo = None
        if len(refs) == 1 and "R[" not in body and next(iter(refs))[1] in ("i", "0") \
                and set(_CALLED.findall(body)) - _CHEAP:
            # reads one node (and the record's constants): results kept by its value,
            # shared by every record of this form version (as the session's slot memo)
            k, at = next(iter(refs))
            # (the memos live in the record constants C, so a new time zone, or a new
            # day for a rule reading today(), starts empty ones, also for a check
            # running meanwhile in another thread)
            if "C[" in body:
                memo = (int(k), at, f"C[-1][{self._day_memos}]")
                self._day_memos += 1
            else:
                memo = (int(k), at, f"C[-2][{self._zone_memos}]")
                self._zone_memos += 1
        fn = rule_function(body, list(tr.consts), memo, _PASS_RUNTIME,
                           f"<rule {'/'.join(host)}>")
        return fn

    def _rule(self, slot: Slot) -> _Rule:
        rule = _Rule(slot, self._function(slot.host, slot.expr.source))
        rule.host_leaf = self.leaf_of.get(slot.host)
        rule.host_rep = self.rep_of_path(slot.host)
        if slot.kind == "relevant":
            for leaf in self.leaves:
                if leaf.nd.path[: len(slot.host)] == slot.host:
                    rule.marks.append((leaf.k, rule.host_rep is not None))
        elif slot.kind != "calc" and rule.host_leaf is None:
            raise _NotCompilable(f"{slot.kind} on a group")
        if slot.kind == "calc" and rule.host_leaf is None:
            raise _NotCompilable("calculation on a group")
        return rule

    def _choice_rule(self, slot: Slot) -> _Rule:
        if slot.node.choice_from or slot.expr.index_eq is None:
            raise _NotCompilable("choice filter other than `column = value`")
        tok = parse(slot.expr.source)
        other = tok[1]

        def code(tr: _Translator) -> str:
            ctx = _Ctx(slot.host, len(slot.host), slot.host)
            return tr.expr(other, ctx, None).text()

        rule = _Rule(slot, self._function(slot.host, slot.expr.source, code))
        rule.column = slot.expr.index_eq[0]
        rule.host_leaf = self.leaf_of.get(slot.host)
        rule.host_rep = self.rep_of_path(slot.host)
        return rule

    # ---------------------------------------------------------------- a record
    def pool(self) -> list[list[_Cell]]:
        """This thread's cells of this form version, by question (grown as records
        need): a received record's check reuses them instead of making ~200 objects."""
        pool = getattr(self._threads, "cells", None)
        if pool is None:
            pool = self._threads.cells = [[_Cell(nd)] for nd in self.leaf_defs]
        return pool  # type: ignore[no-any-return]

    def choice_names(self, leaf: _Leaf, column: str, value: Any) -> frozenset[str]:
        """Names of the choices of a question whose `column` is `value` (its choice
        filter's result), kept by question and value (a few per form: departments,
        provinces)."""
        key = (leaf.k, value)
        hit = self._choice_names.get(key)
        if hit is None:
            hit = frozenset(c.name for c in self.program.choice_list(leaf.nd).lookup(
                column, value))
            if len(self._choice_names) >= 20_000:
                self._choice_names.clear()
            self._choice_names[key] = hit
        return hit

    def _locate(self, path: str) -> tuple[int, int]:
        """(leaf, 0-based instance) of an answer's path; raises for any path RecordCheck
        would not read the same way (it then decides)."""
        hit = self.loc.get(path)
        if hit is not None:
            return hit
        steps = self.program.steps(path)
        idx = 0
        nd: NodeDef | None = None
        for _name, pos, nd in steps:
            if nd.is_repeat:
                if pos is None or pos > MAX_REPEAT_COUNT or pos < 1:
                    raise NotFound(f"bad repeat position in {path}", "")
                idx = pos - 1
            elif pos not in (None, 1):
                raise NotFound(f"no node {path}", "")
        leaf = self.leaf_of.get(nd.path) if nd is not None else None
        if leaf is None:
            raise ValidationError(f"{path} is not a question", "")
        hit = (leaf.k, idx)
        if len(self.loc) < 100_000:
            self.loc[path] = hit
        return hit

    def errors(self, data: dict[str, Any], today: date | None = None) -> list[str] | None:
        """"path: message" of every hard error of a received record, in form order (as
        validate_submission; `today`: the day its rules read as today(), None: the real
        date); None when RecordCheck must read it (answers that do not fit the form: it
        then gives the error)."""
        try:
            with gc_paused():  # a few hundred objects, none in a cycle (app.core.gc_pause)
                return ReceivedRecord(self, data, today, pooled=True).errors()
        except (NotFound, ValidationError, ValueError, TypeError, KeyError):
            return None


class _Raised:
    """A rule's error kept for the next reader of a once-per-record result."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class ReceivedRecord:
    """One received record read through a CompiledCheck: `errors()` gives its hard
    errors. Built by CompiledCheck.errors (raises NotFound, ValidationError, ValueError,
    TypeError or KeyError for answers that do not fit the form)."""

    # the rules of one answer are FormSession's own (one definition, see session.py)
    _input = FormSession._input
    _coerce_input = FormSession._coerce_input
    _refused = FormSession._refused

    def __init__(self, cc: CompiledCheck, data: dict[str, Any], today: date | None,
                 pooled: bool = False) -> None:
        """`pooled`: the cells are this thread's of the form version (CompiledCheck.pool),
        reset, not new — for a check that ends before the thread reads another record
        (CompiledCheck.errors); else new cells."""
        self.cc = cc
        self.pool: list[list[_Cell]] | None = cc.pool() if pooled else None
        self.program = cc.program
        self._fast = False  # _input's memo is CompiledCheck.inputs, by question
        repeats, answers = stored_parts(data)
        counts = [0] * len(cc.rep_paths)
        for path, count in repeats.items():
            n = int(count)
            if n > 0:
                r = self._repeat_of(f"{path}[{n}]")
                counts[r] = max(counts[r], n)
        reps = cc.leaf_reps
        loc = cc.loc
        if not repeats and counts:
            # a flat {path: value} map gives no repeat counts: its answers' instances
            # do (read first, so each repeat's cells are made at once, not grown)
            for path in answers:
                hit = loc.get(path)
                if hit is None:
                    hit = cc._locate(path)
                rep = reps[hit[0]]
                if rep is not None and hit[1] >= counts[rep]:
                    counts[rep] = hit[1] + 1
        self.counts = counts
        self.N = N = self._cells(counts)
        self.raw = raws = {}
        nds = cc.leaf_defs
        inputs = cc.inputs
        plain = cc.free_text
        for path, value in answers.items():
            hit = loc.get(path)
            if hit is None:
                hit = cc._locate(path)
            k, idx = hit
            cells = N[k]
            if idx >= len(cells):  # past the repeat count the record gave
                self._grow(reps[k], idx + 1)  # type: ignore[arg-type]
            node = cells[idx]
            known = inputs[k]
            if known is None:
                continue  # a calculation's stored value: computed again, never read
            as_typed = plain[k]
            if as_typed and type(value) is str and value.isascii() and value.isprintable() \
                    and (as_typed == 1 or len(value) == 10 and parse_date(value) is not None):
                node.value = node.sv = value  # as typed: its canonical form
                if raws:
                    raws.pop(id(node), None)
                continue
            got = known.get(value) if type(value) is str else None
            if got is None:
                got = self._input(nds[k], value)
                if type(value) is str:
                    if len(known) >= 5_000:
                        known.clear()
                    known[value] = got
            new, raw = got
            if raw is not None:
                raws[id(node)] = raw
            elif raws:
                raws.pop(id(node), None)
            node.value = node.sv = new  # (a calculated value is computed again)
        C = cc.constants(today)
        if C is None:
            raise ValueError("a record constant failed")
        self.C = C
        self.errors_of: dict[int, str] = {}  # a calculation's failure, by id of its cell
        self.once: dict[Any, Any] = {}
        self._evaluate()

    def _cells(self, counts: list[int]) -> list[list[_Cell]]:
        """The record's tables: by question, a cell per instance (`counts` by repeat),
        empty and relevant."""
        cc = self.cc
        pool = self.pool
        if pool is None:
            return [[_Cell(nd)] if rep is None else [_Cell(nd) for _ in range(counts[rep])]
                    for nd, rep in zip(cc.leaf_defs, cc.leaf_reps, strict=True)]
        for r, n in enumerate(counts):
            for k, nd in cc.rep_leaves[r]:
                have = pool[k]
                if len(have) < n:
                    have += [_Cell(nd) for _ in range(n - len(have))]
        N = []
        for have, rep in zip(pool, cc.leaf_reps, strict=True):
            cells = have[:1] if rep is None else have[:counts[rep]]
            for c in cells:
                c.value = c.sv = ""
                c.relevant = True
            N.append(cells)
        return N

    def _grow(self, rep: int, n: int) -> None:
        """Give repeat `rep` n instances (an answer past the count the record gave)."""
        N, pool = self.N, self.pool
        for k, nd in self.cc.rep_leaves[rep]:
            cells = N[k]
            if pool is None:
                cells += [_Cell(nd) for _ in range(n - len(cells))]
                continue
            have = pool[k]
            if len(have) < n:
                have += [_Cell(nd) for _ in range(n - len(have))]
            for c in have[len(cells):n]:
                c.value = c.sv = ""
                c.relevant = True
                cells.append(c)
        self.counts[rep] = n

    def _repeat_of(self, path: str) -> int:
        steps = self.program.steps(path)
        name, pos, nd = steps[-1]
        r = self.cc.rep_index.get(nd.path)
        if r is None or pos is None or pos > MAX_REPEAT_COUNT or any(
                p not in (None, 1) for _n, p, d in steps[:-1] if not d.is_repeat):
            raise NotFound(f"not a repeat: {path}", "")
        return r

    def _evaluate(self) -> None:
        self.cc.evaluate(self.N, self.counts, self.C, self.errors_of)

    def errors(self) -> list[str]:
        out: list[str] = []
        hard = self._hard_problem

        def report(leaf: _Leaf, node: Node, i: int) -> None:
            msg = hard(leaf, node, i)
            if msg:
                where = leaf.prefix if leaf.rep is None else \
                    f"{leaf.prefix}[{i + 1}]{leaf.suffix}"
                out.append(f"{where}: {msg}")

        self.cc.verdict(self.N, self.counts, self.C, self.raw, report)
        return out

    def _hard_problem(self, leaf: _Leaf, node: Node, i: int) -> str | None:
        """check.RecordCheck._hard_problem, on the tables."""
        nd = leaf.nd
        if id(node) in self.raw:
            return TYPE_MSGS.get(nd.type, CONSTRAINT_MSG)
        required, valid, req_rules, choice_rule, cons_rules, typed = self.cc.rules[leaf.k]
        N, R, C = self.N, self.counts, self.C
        if node.value == "":
            if nd.type in _QUIET:
                return None
            for rule in req_rules:
                try:
                    required = to_bool(self._run(rule.fn, i))
                except _RULE_ERRORS:
                    required = False
            if required:
                return self._render(_msg(nd.required_msgs, self.cc.language), leaf, i) \
                    or REQUIRED_MSG
            return None
        loaded = leaf.k not in self.cc.calculated
        error = None if loaded else self.errors_of.get(id(node))
        if typed == 1 and loaded:
            typed = 0  # a stored answer: its type was checked when it was loaded
        if choice_rule is None and not cons_rules and not typed and valid:
            return None
        allowed: Collection[str] | None = None
        if choice_rule is not None:
            try:
                value = choice_rule.fn(N, R, i, C)
            except (EvalError, ValueError, TypeError):
                allowed = ()
            else:
                allowed = self.cc.choice_names(leaf, choice_rule.column, value)
        for rule in cons_rules:
            try:
                v, error = self._run(rule.fn, i), None
                valid = to_bool(v)
            except _RULE_ERRORS as e:
                error = str(e) or type(e).__name__
                valid = False
        if typed:
            tmsg = self._type_problem(node, nd, allowed)
            if tmsg:
                return tmsg
        if not valid:
            if error:
                return f"Error al evaluar la regla: {error}"
            return self._render(_msg(nd.constraint_msgs, self.cc.language), leaf, i) \
                or CONSTRAINT_MSG
        return None

    def _run(self, fn: Any, i: int) -> Any:
        """A required or constraint rule's value at instance i; a rule that reads nothing
        of the instance runs once per record (every producer has run: nothing changes)."""
        if fn.per_instance:
            return fn(self.N, self.counts, i, self.C)
        hit = self.once.get(fn, _MISSING)
        if hit is _MISSING:
            try:
                hit = fn(self.N, self.counts, i, self.C)
            except _RULE_ERRORS as e:
                hit = _Raised(e)
            self.once[fn] = hit
        if type(hit) is _Raised:
            raise hit.error
        return hit

    def _render(self, text: str, leaf: _Leaf, i: int) -> str:
        """FormSession._render: `${name}` in a message replaced by that answer."""
        if "${" not in text:
            return text
        refs = self.cc.refs
        N, R, C = self.N, self.counts, self.C

        def value_of(name: str) -> str:
            fn = refs.get((name, leaf.nd.path))
            if fn is None:
                return ""
            try:
                return to_string(fn(N, R, i, C))
            except Exception:  # noqa: BLE001 - as the session: a message never fails
                return ""

        return substitute_refs(text, value_of)

    def _type_problem(self, node: Node, nd: NodeDef,
                      allowed: Collection[str] | None) -> str | None:
        """FormSession._type_problem of a received answer; a choice is checked against
        the names the choice filter left (`allowed`) or the whole list."""
        t = nd.type
        if t in ("select_one", "select_multiple"):
            v = node.value
            names = self.program.choice_list(nd).names if allowed is None else allowed
            picked = [v] if t == "select_one" else v.split()
            if any(p not in names for p in picked):
                return TYPE_MSGS[t]
            return None
        return FormSession._type_problem(self, node)  # type: ignore[arg-type]


def compile_check(formdef: FormDef) -> CompiledCheck | None:
    """The compiled check of a form version (built on first use, kept on its Program),
    or None when the form is outside what this module translates."""
    program = program_of(formdef)
    cc = getattr(program, "compiled_check", False)
    if cc is False:
        try:
            cc = CompiledCheck(program)
        except _NotCompilable:
            cc = None
        program.compiled_check = cc  # type: ignore[attr-defined]
    return cc  # type: ignore[no-any-return]


__all__ = ["CompiledCheck", "ReceivedRecord", "compile_check"]
