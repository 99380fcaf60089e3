"""Headless navigation of a form, like JavaRosa's form entry controller: which pages
there are (sections, the roster, one page per member), which questions each shows,
where Tab / Enter lead from a page, and the next error after a question.

No Qt: the form window (app/ui/entry/form_window.py) draws these pages; the CLI and the
tests can walk a form the same way."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from app.core.errors import SieeError
from app.forms.definition import FormDef, NodeDef
from app.forms.session import FormSession

# Question types never shown on a page (computed or recorded by the engine), and
# those shown as a label only.
HIDDEN = frozenset({"calculate", "start", "end", "today"})
LABEL_ONLY = frozenset({"note"})

GENERAL_TITLE = "Datos generales"


@dataclass
class PageSpec:
    """One page of the form window.

    kind "section": the questions of a group (or loose top-level questions),
    kind "roster": the table of a repeat's instances, kind "member": one instance."""

    kind: str
    title: str
    path: str  # concrete path of the group / repeat / instance
    nodes: list[NodeDef] = field(default_factory=list)  # section: the top nodes it shows
    repeat: NodeDef | None = None
    index: int = 0  # member: 1-based

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.path}"


def node_label(nd: NodeDef, lang: str | None) -> str:
    """A node's label in `lang`, or its name made readable."""
    return nd.label(lang) or nd.name.replace("_", " ").capitalize()


def _has_repeat(nd: NodeDef) -> bool:
    return any(c.is_repeat or (c.kind == "group" and _has_repeat(c)) for c in nd.children)


def plan_pages(fd: FormDef, session: FormSession, lang: str | None) -> list[PageSpec]:
    """Pages in form order: each top-level group a section, loose questions in a
    "Datos generales" section, each repeat a roster followed by its members."""
    pages: list[PageSpec] = []
    root = "/" + fd.root.name
    loose: PageSpec | None = None

    def add_repeat(rep: NodeDef, base: str) -> None:
        rpath = f"{base}/{rep.name}"
        title = node_label(rep, lang)
        pages.append(PageSpec("roster", title, rpath, repeat=rep))
        for i in range(1, session.repeat_count(rpath) + 1):
            pages.append(PageSpec("member", f"{title} {i}", f"{rpath}[{i}]", repeat=rep, index=i))

    def add_group(g: NodeDef, base: str) -> None:
        gpath = f"{base}/{g.name}"
        plain = [c for c in g.children if not c.is_repeat]
        if any(c.kind == "question" or c.kind == "group" for c in plain):
            pages.append(PageSpec("section", node_label(g, lang), gpath, nodes=plain))
        for c in g.children:
            if c.is_repeat:
                add_repeat(c, gpath)

    for nd in fd.root.children:
        if nd.is_repeat:
            add_repeat(nd, root)
        elif nd.kind == "group":
            add_group(nd, root)
        elif nd.type not in HIDDEN:
            if loose is None:
                loose = PageSpec("section", GENERAL_TITLE, root)
                pages.append(loose)
            loose.nodes.append(nd)
    return pages


def page_question_paths(spec: PageSpec) -> Iterator[tuple[str, NodeDef]]:
    """Concrete (path, NodeDef) of every question and sub-group shown on a page."""
    if spec.kind == "roster":
        return
    if spec.kind == "member":
        assert spec.repeat is not None
        nodes, base = spec.repeat.children, spec.path
    else:
        nodes, base = spec.nodes, spec.path

    def walk(items: list[NodeDef], prefix: str) -> Iterator[tuple[str, NodeDef]]:
        for nd in items:
            p = f"{prefix}/{nd.name}"
            if nd.is_repeat:
                continue  # nested repeats are not shown (the bundled forms have none)
            if nd.kind == "group":
                yield p, nd
                yield from walk(nd.children, p)
            elif nd.type not in HIDDEN:
                yield p, nd

    yield from walk(nodes, base)


def _relevant(session: FormSession, spec: PageSpec) -> bool:
    """Whether the group, repeat or member of a page is relevant now (an FSU whose
    interview did not happen drops its dwelling, household and members). A roster
    follows its instances: shown when it has none or any of them is relevant."""
    try:
        if spec.kind == "roster":
            n = session.repeat_count(spec.path)
            return n == 0 or any(session.state(f"{spec.path}[{i}]").relevant
                                 for i in range(1, n + 1))
        if spec.path.count("/") < 2:
            return True  # the loose questions of the root
        return session.state(spec.path).relevant
    except SieeError:
        return True


def visible_pages(fd: FormDef, session: FormSession, lang: str | None) -> list[PageSpec]:
    """plan_pages without sections that would show nothing and without pages whose
    group or repeat is not relevant."""
    return [s for s in plan_pages(fd, session, lang)
            if (s.kind != "section" or any(True for _ in page_question_paths(s)))
            and _relevant(session, s)]


def page_index(specs: list[PageSpec], key: str) -> int:
    """Position of the page with this key, or -1."""
    return next((i for i, s in enumerate(specs) if s.key == key), -1)


def next_page_index(specs: list[PageSpec], spec: PageSpec, step: int) -> int:
    """Where leaving `spec` by its last (first) question leads, step +1 (-1): the
    next page in form order, except that going on from the last member leads back
    to its roster (that member highlighted: Enter opens it, Ins adds another, Tab
    continues)."""
    i = page_index(specs, spec.key)
    target = i + step
    if step > 0 and spec.kind == "member":
        nxt = specs[target] if target < len(specs) else None
        if nxt is None or nxt.kind != "member" or nxt.repeat is not spec.repeat:
            return page_index(specs, f"roster:{spec.path.rsplit('[', 1)[0]}")
    return target


def page_after(specs: list[PageSpec], spec: PageSpec | None, step: int) -> int:
    """The page "next/previous section" opens from `spec` (Tab on a roster skips its
    members). May be out of range: the caller stays where it is."""
    i = page_index(specs, spec.key) if spec else -1
    if step > 0 and spec is not None and spec.kind == "roster":
        while i + 1 < len(specs) and specs[i + 1].kind == "member":
            i += 1
    return i + step


def next_error(session: FormSession, current: str = "") -> str | None:
    """The path of the first hard error after the question `current` in form order,
    wrapping to the first error; None when the form has none."""
    errors = [i.path for i in session.validate().errors]
    if not errors:
        return None
    pos = {p: i for i, p in enumerate(session.iter_paths())}
    here = pos.get(current, -1)
    after = [p for p in errors if pos.get(p, -1) > here]
    return (after or errors)[0]
