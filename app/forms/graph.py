"""Compiled form program: every expression of a FormDef as a Slot, and the
dependency graph that tells which slots to evaluate again after a change.

A slot is one expression of one node definition (its calculation, relevance,
required, read-only, constraint, warning, choice filter or repeat count). At
run time a slot is evaluated for each concrete instance of its node. `Dep.pin`
says how many leading steps of a read path are the evaluated node's own
instances, so a change inside /fsu/integrantes[3] only re-evaluates slots of
that same member unless the expression reads across members.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.forms import catalogs
from app.forms.definition import Choice, FormLoadError, NodeDef, Path, Problem, split_path
from app.forms.xpath import Dep, Expr, ExprError, Node, compile_expr
from app.forms.xpath import _reads_context as reads_context
from app.forms.xpath import parse as parse_expr

if TYPE_CHECKING:
    from app.forms.definition import FormDef

SLOT_KINDS = ("calc", "count", "relevant", "readonly", "required", "constraint", "warning",
              "choices")
PRODUCERS = ("calc", "count", "relevant")
# Slots whose result no other expression reads: a session may evaluate them when their
# node's state is read instead of after every change (app.forms.session).
LEAVES = frozenset({"readonly", "required", "constraint", "warning", "choices"})
_LITERAL_DEFAULT = re.compile(r"^[^()$/\[\]]*$")
_CONST_BOOL = re.compile(r"^\s*(true|false)\(\)\s*$")
# functions whose result depends on more than the values an expression reads
_IMPURE = re.compile(r"\b(today|now|random|uuid|once|position|last|choice-name|instance|"
                     r"current|indexed-repeat|digest|version|property)\s*\(")
# functions whose result may differ between two evaluations on the same answers
_VOLATILE = re.compile(r"\b(today|now|random|uuid|once|property|version|instance)\s*\(")
_STRINGS = re.compile(r"'[^']*'|\"[^\"]*\"")
_TODAY = re.compile(r"\btoday\s*\(\s*\)")
# what a calculation reads that the centre cannot read again: chance, the device's
# clock and properties, data outside the form
_UNVERIFIABLE = re.compile(r"\b(now|random|uuid|randomize|property|instance|pulldata)\s*\(")


@dataclass(slots=True, eq=False)
class Slot:
    id: int
    node: NodeDef
    kind: str
    expr: Expr
    deps: list[Dep]
    host: Path = ()  # path of the nodes it runs on (a repeat_count runs on the parent)
    rank: int = 0
    leaf: bool = False  # kind in LEAVES
    plan: FilterPlan | None = None  # choice filter evaluated on column indexes
    # memo: results by the values the expression reads, for pure expressions whose
    # reads are single questions (routes: (pin, names below the pinned instance))
    routes: tuple[tuple[int, tuple[str, ...]], ...] | None = None
    memo: dict[tuple[Any, ...], tuple[Any, str | None]] | None = None
    # reads the clock, chance, device properties or secondary instances: its result on
    # the same answers may differ from the one a stored record was saved with
    volatile: bool = True


@dataclass(slots=True)
class ChoiceList:
    choices: tuple[Choice, ...]
    _items: list[Node] | None = None
    _index: dict[tuple[str, str], list[Choice]] = field(default_factory=dict)
    _pairs: dict[str | None, list[tuple[str, str]]] = field(default_factory=dict)
    _names: frozenset[str] | None = None
    _columns: dict[str, tuple[int, dict[str, int]]] = field(default_factory=dict)
    _by_mask: dict[int, list[Choice]] = field(default_factory=dict)

    def pairs(self, lang: str | None) -> list[tuple[str, str]]:
        """[(name, label)] in `lang` (cached; callers must not modify it)."""
        hit = self._pairs.get(lang)
        if hit is None:
            hit = self._pairs[lang] = [(c.name, c.label(lang)) for c in self.choices]
        return hit

    @property
    def names(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(c.name for c in self.choices)
        return self._names

    def items(self) -> list[Node]:
        """Choice items as instance nodes (for generic choice filters)."""
        if self._items is None:
            out = []
            for c in self.choices:
                item = Node("item")
                item.append(Node("name", value=c.name))
                item.append(Node("label", value=next(iter(c.labels.values()), "")))
                for k, v in c.extra.items():
                    item.append(Node(k, value=v))
                item.st = c
                out.append(item)
            self._items = out
        return self._items

    def column(self, column: str) -> tuple[int, dict[str, int]]:
        """(rows that have `column`, {value: rows}) as bit masks over `choices` (bit i =
        choice i), built on first use. `name` and `label` (first language) always exist;
        other columns exist where the choices sheet filled them."""
        hit = self._columns.get(column)
        if hit is None:
            has = 0
            by: dict[str, int] = {}
            for i, c in enumerate(self.choices):
                if column == "name":
                    v: str | None = c.name
                elif column == "label":
                    v = next(iter(c.labels.values()), "")
                else:
                    v = c.extra.get(column)
                if v is None:
                    continue
                bit = 1 << i
                has |= bit
                by[v] = by.get(v, 0) | bit
            hit = self._columns[column] = (has, by)
        return hit

    def from_mask(self, mask: int) -> list[Choice]:
        """The choices whose bits are set, in list order (cached per mask)."""
        hit = self._by_mask.get(mask)
        if hit is not None:
            return hit
        out: list[Choice] = []
        if mask:
            ch = self.choices
            data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
            for j, b in enumerate(data):
                if b:
                    base = j * 8
                    out.extend(ch[base + k] for k in _BITS[b])
        if len(self._by_mask) >= 512:
            self._by_mask.clear()
        self._by_mask[mask] = out
        return out

    def lookup(self, column: str, value: str) -> list[Choice]:
        key = (column, value)
        hit = self._index.get(key)
        if hit is None:
            if not self._index or all(k[0] != column for k in self._index):
                groups: dict[str, list[Choice]] = {}
                for c in self.choices:
                    v = c.name if column == "name" else c.extra.get(column, "")
                    groups.setdefault(v, []).append(c)
                for v, lst in groups.items():
                    self._index[(column, v)] = lst
            hit = self._index.get(key, [])
        return hit


_BITS = tuple(tuple(k for k in range(8) if b >> k & 1) for b in range(256))


class NotIndexable(Exception):
    """A filter operand whose value does not compare as plain text (a number, a date, a
    boolean): the filter is evaluated choice by choice instead."""


@dataclass(slots=True)
class FilterPlan:
    """A choice filter as set operations over column indexes: `column = expr`,
    `column != expr`, and/or/not of those, true()/false(); `expr` never reads the
    choice item. Gives the same choices as evaluating the filter item by item
    (XPath 1.0 comparison of a column node with text), in a few dictionary lookups."""

    op: str  # eq | ne | and | or | not | const
    column: str = ""
    expr: Expr | None = None
    args: tuple[FilterPlan, ...] = ()
    value: bool = False

    def mask(self, cl: ChoiceList, node: Node, env: Any) -> int:
        """Bit mask of the choices kept (raises NotIndexable, or what the expression
        raises)."""
        op = self.op
        if op == "and":
            m = self.args[0].mask(cl, node, env)
            return m & self.args[1].mask(cl, node, env) if m else 0
        if op == "or":
            return self.args[0].mask(cl, node, env) | self.args[1].mask(cl, node, env)
        if op == "not":
            return ((1 << len(cl.choices)) - 1) & ~self.args[0].mask(cl, node, env)
        if op == "const":
            return (1 << len(cl.choices)) - 1 if self.value else 0
        assert self.expr is not None
        values = _plain_texts(self.expr.fn(node, env))
        has, by = cl.column(self.column)
        if op == "eq":
            m = 0
            for v in values:
                m |= by.get(v, 0)
            return m
        distinct = set(values)
        if not distinct:
            return 0
        if len(distinct) > 1:
            return has
        return has & ~by.get(next(iter(distinct)), 0)


def _plain_texts(v: Any) -> list[str]:
    """Operand values that compare with a column as text, else NotIndexable."""
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        out = []
        for n in v:
            d = n.defn
            s = n.string_value()
            if s and d is not None and getattr(d, "type", "") in ("integer", "decimal"):
                raise NotIndexable  # typed numbers compare numerically
            out.append(s)
        return out
    raise NotIndexable


def filter_plan(source: str, current: Path) -> FilterPlan | None:
    """Plan for a choice filter (see FilterPlan), or None when it has another shape."""
    try:
        return _plan(parse_expr(source), current)
    except ExprError:
        return None


def _plan(tok: Any, current: Path) -> FilterPlan | None:
    sym = tok.symbol
    if sym == "(":
        return _plan(tok[0], current)
    if sym in ("and", "or"):
        a, b = _plan(tok[0], current), _plan(tok[1], current)
        return FilterPlan(sym, args=(a, b)) if a is not None and b is not None else None
    if sym == "not" and len(tok) == 1:
        a = _plan(tok[0], current)
        return FilterPlan("not", args=(a,)) if a is not None else None
    if sym in ("true", "false") and len(tok) == 0:
        return FilterPlan("const", value=sym == "true")
    if sym in ("=", "!="):
        for col, other in ((tok[0], tok[1]), (tok[1], tok[0])):
            if col.symbol == "(name)" and not reads_context(other):
                expr = compile_expr(other.source, None, current, choice_filter=True)
                return FilterPlan("eq" if sym == "=" else "ne", str(col.value), expr)
    return None


class Program:
    def __init__(self, fd: FormDef) -> None:
        self.fd = fd
        self.slots: list[Slot] = []
        self.node_slots: dict[Path, list[Slot]] = {}
        self.defaults: dict[Path, Expr | str] = {}
        self.lists: dict[str, ChoiceList] = {}
        self.static: dict[Path, dict[str, bool]] = {}
        self.plans: dict[Path, Any] = {}  # how a session builds each node (session.py)
        # typed text as stored, by (question, text): (canonical value, refused text or
        # None); a pure function of the question's type and choice list (session._put)
        self.inputs: dict[tuple[Path, str], tuple[str, str | None]] = {}
        # whether a node's texts in a language show answers (${name}) (session._state)
        self.text_refs: dict[tuple[Path, str | None], int] = {}
        self._refs: dict[tuple[str, Path], Any] = {}
        # how app.forms.check reads a received record of this form (built on first use)
        self.check_plan: Any = None
        # answer paths already seen while loading records: how to find their node again
        # without parsing the path (app.forms.session.locator)
        self.located: dict[str, tuple[Any, ...] | None] = {}
        self.calc_paths: list[Path] = [p for p, nd in fd.by_path.items() if nd.calculation]
        self._steps: dict[str, tuple[tuple[str, int | None, NodeDef], ...]] = {}
        problems: list[Problem] = []
        for nd in fd.root.walk()[1:]:
            self._compile_node(nd, problems)
        if problems:
            raise FormLoadError(problems)
        self.readers: dict[Path, list[tuple[Slot, int]]] = {}
        self.struct_readers: dict[Path, list[tuple[Slot, int]]] = {}
        self._index()
        self._rank(problems)
        if problems:
            raise FormLoadError(problems)
        for lst in self.node_slots.values():
            lst.sort(key=lambda s: s.rank)
        self.ordered = sorted(self.slots, key=lambda s: s.rank)
        # what a session evaluates when a record is opened (leaves wait to be read;
        # a triggered calculation runs only when its trigger changes)
        self.producers = [s for s in self.ordered
                          if not s.leaf and not (s.kind == "calc" and s.node.trigger)]
        self.leaf_slots: dict[Path, list[Slot]] = {}
        for s in self.ordered:
            if s.leaf:
                self.leaf_slots.setdefault(s.host, []).append(s)
        # calculations whose stored value the centre's check keeps (recheck): it cannot
        # compute them again; every other calculation it does (session._load)
        self.unverifiable: frozenset[Path] = frozenset(
            s.host for s in self.slots
            if s.kind == "calc" and _UNVERIFIABLE.search(_STRINGS.sub("", s.expr.source)))
        for s in self.slots:
            s.volatile = bool(_VOLATILE.search(_STRINGS.sub("", s.expr.source)))
            s.routes = self._routes(s)
            if s.routes is not None:
                s.memo = {}
        self.below: dict[Path, list[Path]] = {
            p: [q for q in fd.by_path if len(q) > len(p) and q[: len(p)] == p]
            for p, nd in fd.by_path.items() if nd.kind != "question"}

    # -- compile
    def _compile_node(self, nd: NodeDef, problems: list[Problem]) -> None:
        specs: list[tuple[str, str | None]] = [
            ("calc", nd.calculation),
            ("count", nd.repeat_count if nd.is_repeat else None),
            ("relevant", nd.relevant),
            ("readonly", nd.readonly),
            ("required", nd.required),
            ("constraint", nd.constraint),
            ("warning", nd.warning),
        ]
        if nd.is_select:
            if nd.list_name and nd.list_name not in self.lists:
                if catalogs.is_builtin(nd.list_name):
                    self.lists[nd.list_name] = ChoiceList(catalogs.builtin_choices(nd.list_name))
                else:
                    self.lists[nd.list_name] = ChoiceList(
                        tuple(self.fd.choices.get(nd.list_name, [])))
            specs.append(("choices", nd.choice_from or nd.choice_filter))
        for kind, src in specs:
            if not src:
                continue
            try:
                if kind == "choices":
                    expr = compile_expr(src, None, nd.path, choice_filter=True)
                elif kind == "count":
                    expr = compile_expr(src, nd.path[:-1])
                else:
                    expr = compile_expr(src, nd.path)
            except ExprError as e:
                problems.append(Problem(nd.row, f"«{nd.name}» ({_KIND_ES[kind]}): {e}"))
                continue
            deps = list(expr.deps)
            if kind == "calc" and nd.trigger:
                deps = [Dep(t, _common(t, nd.path)) for t in nd.trigger]
            host = nd.path[:-1] if kind == "count" else nd.path
            if kind in LEAVES and kind != "choices" and _CONST_BOOL.match(src) \
                    and not deps and not expr.structural and not expr.global_dep:
                # `required true()` and the like: the same for every instance, so it is
                # part of the node's initial state instead of a slot
                self.static.setdefault(host, {})[kind] = src.strip().startswith("true")
                continue
            slot = Slot(len(self.slots), nd, kind, expr, deps, host, leaf=kind in LEAVES)
            if kind == "choices" and src and expr.index_eq is None:
                slot.plan = filter_plan(src, nd.path)
            self.slots.append(slot)
            self.node_slots.setdefault(host, []).append(slot)
        if nd.default is not None:
            d = str(nd.default)
            if _LITERAL_DEFAULT.match(d):
                self.defaults[nd.path] = d
            else:
                try:
                    self.defaults[nd.path] = compile_expr(d, nd.path)
                except ExprError as e:
                    problems.append(Problem(nd.row, f"«{nd.name}» (valor por defecto): {e}"))

    # -- dependency index
    def _index(self) -> None:
        paths = list(self.fd.by_path)
        global_slots: list[tuple[Slot, int]] = []
        direct: dict[Path, list[tuple[Slot, int]]] = {}
        for s in self.slots:
            if s.expr.global_dep:
                global_slots.append((s, 0))
            for d in s.deps:
                direct.setdefault(d.path, []).append((s, d.pin))
            if s.kind == "calc" and s.node.trigger:
                continue
            for d in s.expr.structural:
                nd = self.fd.by_path.get(d.path)
                if nd is not None and nd.is_repeat:
                    self.struct_readers.setdefault(d.path, []).append((s, d.pin))
        # reading a group (not a repeat) reads the text of everything below it, so a
        # change below the group reaches its readers (`calculate doc = ${group}`)
        for gp, lst in list(direct.items()):
            g = self.fd.by_path.get(gp)
            if g is None or g.kind != "group" or not gp:
                continue
            for p in paths:
                if len(p) > len(gp) and p[: len(gp)] == gp:
                    direct.setdefault(p, []).extend(
                        (s, pin) for s, pin in lst
                        if not (len(s.node.path) > len(gp) and s.node.path[: len(gp)] == gp))
        for p in paths:
            acc: list[tuple[Slot, int]] = list(global_slots)
            # a value change reaches the expressions that read this very path; reading a
            # group or repeat node is about its instances (count, position), which
            # struct_readers handles
            acc.extend(direct.get(p, ()))
            self.readers[p] = acc
        # a repeat's instance set also changes what readers of any path below it see
        for p, nd in self.fd.by_path.items():
            if nd.is_repeat:
                lst = self.struct_readers.setdefault(p, [])
                lst.extend(global_slots)

    def _rank(self, problems: list[Problem]) -> None:
        producers: dict[Path, list[Slot]] = {}
        for s in self.slots:
            if s.kind in PRODUCERS:
                producers.setdefault(s.node.path, []).append(s)
        edges: dict[int, set[int]] = {s.id: set() for s in self.slots}
        indeg = dict.fromkeys(edges, 0)
        prod_paths = list(producers)
        for s in self.slots:
            reads = [d.path for d in s.deps] + [d.path for d in s.expr.structural]
            for rp in reads:
                g = self.fd.by_path.get(rp)
                whole = (g is not None and g.kind == "group" and bool(rp)
                         and s.node.path[: len(rp)] != rp)
                for pp in prod_paths:
                    below = whole and len(pp) > len(rp) and pp[: len(rp)] == rp
                    if pp != rp and not below and not (len(pp) < len(rp)
                                                       and rp[: len(pp)] == pp):
                        continue
                    for p in producers[pp]:
                        if p is s or (pp != rp and not below and p.kind == "calc"):
                            continue
                        if s.id not in edges[p.id]:
                            edges[p.id].add(s.id)
                            indeg[s.id] += 1
        heap = [i for i, d in indeg.items() if d == 0]
        heapq.heapify(heap)
        rank = 0
        done: set[int] = set()
        while heap:
            i = heapq.heappop(heap)
            done.add(i)
            self.slots[i].rank = rank
            rank += 1
            for j in edges[i]:
                indeg[j] -= 1
                if indeg[j] == 0:
                    heapq.heappush(heap, j)
        left = [s for s in self.slots if s.id not in done]
        # as ODK Collect ("Cycle detected in form's relevant and calculation logic"):
        # a loop of calculations, repeat counts or relevance rules may never settle. A
        # rule reading its own node (`. = 'x'`, a group reading its questions) is
        # accepted, as it usually settles; FormSession stops one that does not
        # (MAX_REEVALUATIONS)
        cyc = [s for s in left if s.kind in PRODUCERS]
        if cyc:
            names = ", ".join(sorted({s.node.name for s in cyc}))
            problems.append(Problem(cyc[0].node.row, f"dependencia circular entre: {names}"))

        for s in left:
            s.rank = rank
            rank += 1

    def _routes(self, s: Slot, day: bool = False
                ) -> tuple[tuple[int, tuple[str, ...]], ...] | None:
        """How to reach each value `s` reads from the node it runs on, when its result
        depends on nothing else (no clock, randomness, position, language, instance
        structure, node-sets): then results may be shared by those values. day=True:
        the same for an expression whose only other input is today() (its results may
        be shared within one local day: app.forms.check keys them by the date)."""
        if s.kind in ("count", "choices") or s.expr.global_dep:
            return None
        src = _STRINGS.sub("", s.expr.source)
        if day:
            without = _TODAY.sub("", src)
            if without == src:
                return None  # no today(): the shared memo covers it (or nothing does)
            src = without
        for d in s.expr.structural:
            nd = self.fd.by_path.get(d.path)
            if nd is None or nd.is_repeat:
                return None  # reads how many instances there are, or their order
        if s.kind == "calc" and s.node.trigger:
            return None
        if _IMPURE.search(src):
            return None
        out = []
        for d in s.expr.deps:
            if d.pin > len(s.host):
                return None
            for k in range(d.pin + 1, len(d.path) + 1):
                nd = self.fd.by_path.get(d.path[:k])
                if nd is None or nd.is_repeat:
                    return None
            target = self.fd.by_path.get(d.path)
            if target is None or target.kind != "question" or len(d.path) < d.pin:
                return None
            out.append((d.pin, d.path[d.pin:]))
        return tuple(out)

    def day_routes(self, s: Slot) -> tuple[tuple[int, tuple[str, ...]], ...] | None:
        """Routes (see _routes) of a slot whose only input besides them is today(); None
        for any other slot. Its results may be shared within one local day."""
        return self._routes(s, day=True)

    def ref_fn(self, name: str, ctx: Path) -> Any:
        """Compiled `${name}` as read from a node at `ctx` (labels and messages)."""
        key = (name, ctx)
        if key not in self._refs:
            p = self.fd.names.get(name)
            self._refs[key] = (compile_expr("/" + "/".join(p), ctx).fn if p is not None
                               else None)
        return self._refs[key]

    def steps(self, path: str) -> tuple[tuple[str, int | None, NodeDef], ...]:
        """'/fsu/integrantes[2]/edad' as ((name, position, NodeDef), ...) below the root
        (cached: the same paths come back record after record). Raises ValueError for a
        malformed path, KeyError for a node the form does not have."""
        hit = self._steps.get(path)
        if hit is None:
            parts = split_path(path)
            if not parts or parts[0][0] != self.fd.root.name:
                raise KeyError(path)
            out = []
            gp: Path = (parts[0][0],)
            for name, idx in parts[1:]:
                gp = (*gp, name)
                out.append((name, idx, self.fd.by_path[gp]))
            hit = tuple(out)
            if len(self._steps) >= 100_000:
                self._steps.clear()
            self._steps[path] = hit
        return hit

    def choice_list(self, nd: NodeDef) -> ChoiceList:
        hit = self.lists.get(nd.list_name or "")
        return hit if hit is not None else _EMPTY




_EMPTY = ChoiceList(())

_KIND_ES = {
    "calc": "cálculo", "count": "repeat_count", "relevant": "relevancia",
    "readonly": "solo lectura", "required": "obligatorio", "constraint": "restricción",
    "warning": "advertencia", "choices": "filtro de opciones",
}


def _common(a: Path, b: Path) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def program_of(fd: FormDef) -> Program:
    """The compiled Program of a form definition: built on first use and kept on the
    FormDef (a pickled FormDef leaves it out). Raises FormLoadError (with `.problems`)
    when an expression does not compile or the calculations depend on each other in
    a circle. Lives here, not on FormDef, so that definition never imports the graph
    (issue 13 item 12: no import cycles)."""
    program = fd._program
    if program is None:
        program = fd._program = Program(fd)
    return program
