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
from app.forms.definition import Choice, FormLoadError, NodeDef, Path, Problem
from app.forms.xpath import Dep, Expr, ExprError, Node, compile_expr

if TYPE_CHECKING:
    from app.forms.definition import FormDef

SLOT_KINDS = ("calc", "count", "relevant", "readonly", "required", "constraint", "warning",
              "choices")
PRODUCERS = ("calc", "count", "relevant")
_LITERAL_DEFAULT = re.compile(r"^[^()$/\[\]]*$")


@dataclass(slots=True, eq=False)
class Slot:
    id: int
    node: NodeDef
    kind: str
    expr: Expr
    deps: list[Dep]
    host: Path = ()  # path of the nodes it runs on (a repeat_count runs on the parent)
    rank: int = 0


@dataclass(slots=True)
class ChoiceList:
    choices: tuple[Choice, ...]
    _items: list[Node] | None = None
    _index: dict[tuple[str, str], list[Choice]] = field(default_factory=dict)
    _pairs: dict[str | None, list[tuple[str, str]]] = field(default_factory=dict)
    _names: frozenset[str] | None = None

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


class Program:
    def __init__(self, fd: FormDef) -> None:
        self.fd = fd
        self.slots: list[Slot] = []
        self.node_slots: dict[Path, list[Slot]] = {}
        self.defaults: dict[Path, Expr | str] = {}
        self.lists: dict[str, ChoiceList] = {}
        self._refs: dict[tuple[str, Path], Any] = {}
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
            slot = Slot(len(self.slots), nd, kind, expr, deps, host)
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
                for pp in prod_paths:
                    if pp != rp and not (len(pp) < len(rp) and rp[: len(pp)] == pp):
                        continue
                    for p in producers[pp]:
                        if p is s or (pp != rp and p.kind == "calc"):
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
        cyc = [s for s in left if s.kind in ("calc", "count")]
        if cyc:
            names = ", ".join(sorted({s.node.name for s in cyc}))
            problems.append(Problem(cyc[0].node.row, f"dependencia circular entre: {names}"))
        for s in left:
            s.rank = rank
            rank += 1

    def ref_fn(self, name: str, ctx: Path) -> Any:
        """Compiled `${name}` as read from a node at `ctx` (labels and messages)."""
        key = (name, ctx)
        if key not in self._refs:
            p = self.fd.names.get(name)
            self._refs[key] = (compile_expr("/" + "/".join(p), ctx).fn if p is not None
                               else None)
        return self._refs[key]

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
