"""The house rules of docs/architecture.md, checked on the source (no imports run).

Each package of app/ may import only the layers below it; nothing outside app/ui
imports Qt; the product never imports the reference server or the development
tools; the server imports only the wire contract, the form engine and the plain
domain of app/; the import graph has no cycles; and a function-level import is
allowed only where a heavy or optional module is deferred on purpose (listed
below with the reason).

Every import counts, at module level or inside a function, except those under
`if TYPE_CHECKING:` (they never run)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")

# What each room of app/ may import of app/ (besides itself and `app`, the root
# package, which only holds the version). Top-level modules of app/ are rooms of
# their own (by module name).
ALLOWED: dict[str, set[str]] = {
    "app.core": set(),
    "app.paths": set(),
    "app.data": set(),
    "app.store": {"app.core"},
    "app.forms": {"app.core"},
    "app.sync": {"app.core", "app.forms", "app.paths"},
    "app.workspace": {"app.core", "app.store", "app.forms", "app.sync", "app.paths"},
    "app.demo": {"app.core"},
    "app.demo_answers": {"app.core", "app.forms", "app.workspace", "app.demo"},
    "app.selftest": {"app.core", "app.store", "app.forms", "app.workspace", "app.paths"},
    # practice mode's exercises, scoring, progress and handover (issue 18)
    "app.practice": {"app.core", "app.forms", "app.workspace", "app.demo", "app.demo_answers"},
    "app.cli": {
        "app.core", "app.store", "app.forms", "app.sync", "app.workspace", "app.paths",
        "app.demo", "app.demo_answers", "app.selftest", "app.practice",
    },
    "app.__main__": {"app.cli"},
    "app.ui": {
        "app.core", "app.store", "app.forms", "app.sync", "app.workspace", "app.paths",
        "app.demo", "app.demo_answers", "app.selftest", "app.cli", "app.practice",
    },
}
# Qt, deferred on purpose: the window is the one command that needs it, and the
# self-test's GUI check (both say so beside the import).
DEFERRED_QT = {
    ("app.cli.main", "app.ui.shell.main"),
    ("app.cli.main", "app.ui.shell.startup_probe"),
    ("app.selftest", "app.ui.shell.selftest_qt"),
    ("app.cli.practice", "app.ui.common.pdf"),
}
# Function-level imports kept on purpose: module -> (reason, what it may defer). Only
# imports of those packages (or modules) are allowed inside its functions.
DEFERRED_OK: dict[str, tuple[str, tuple[str, ...]]] = {
    "app.cli.main": ("Qt only for `run` (the window)", ("app.ui",)),
    "app.cli.practice": ("Qt's PDF writer only for the practice commands that write a PDF",
                         ("app.ui",)),
    "app.selftest": ("each check imports what it checks, so a broken part fails only its check",
                     ("app",)),
    "app.workspace.exports": ("openpyxl, heavy, only when an Excel file is written",
                              ("openpyxl",)),
    "app.practice.report": ("openpyxl, heavy, only when an Excel file is written",
                            ("openpyxl",)),
    "app.forms.loader": ("pyxform, about 0.5 s to import, only when a form is not yet cached",
                         ("pyxform",)),
    "app.forms.xlsx": ("openpyxl and pyxform, heavy, only when a form author writes a workbook",
                       ("openpyxl", "pyxform")),
    "app.ui.review.constancia": ("QtPrintSupport loads the print system, only when printing",
                                 ("PySide6.QtPrintSupport",)),
    "app.ui.admin.wizard": ("QtPrintSupport loads the print system, only when printing",
                            ("PySide6.QtPrintSupport",)),
}
# Rooms whose function-level imports are checked now. The others belong to
# branches in flight (see NOT_YET_CHECKED) and are added to this set when merged.
NO_FUNCTION_IMPORTS = ("app.core", "app.store", "app.sync", "app.workspace", "app.cli",
                       "app.forms", "app.ui", "app.demo", "app.demo_answers", "app.selftest",
                       "app.paths", "app.practice")
# Left to other branches (issue 13): enable each line once its branch is merged.
NOT_YET_CHECKED: set[str] = set()
# Import cycles inside these rooms are left to the branch that owns them (issue 14,
# wt/formslang: forms.xpath <-> forms.functions, forms.definition -> graph -> catalogs).
CYCLES_PENDING_IN: tuple[str, ...] = ()
# The rooms of app/ui (what a person does) may import only app.ui.common of the other
# rooms; the shell puts them together (docs/architecture.md).
UI_ROOMS: dict[str, set[str]] = {
    "app.ui.common": set(),
    "app.ui.entry": {"app.ui.common"},
    "app.ui.review": {"app.ui.common"},
    "app.ui.admin": {"app.ui.common"},
    "app.ui.sync": {"app.ui.common"},
    "app.ui.practice": {"app.ui.common"},
    "app.ui.shell": {"app.ui.common", "app.ui.entry", "app.ui.review", "app.ui.admin",
                     "app.ui.sync", "app.ui.practice"},
}
# server/ may import only these of app/.
SERVER_MAY_IMPORT = ("app.sync.protocol", "app.forms", "app.core")


@dataclass(frozen=True)
class Imp:
    src: str  # importing module
    dst: str  # imported module (absolute)
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def sources(top: str) -> list[Path]:
    return sorted((ROOT / top).rglob("*.py"))


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for n in ast.walk(sub):
                    if hasattr(n, "lineno"):
                        lines.add(n.lineno)
    return lines


def imports_of(path: Path, known: set[str]) -> Iterator[Imp]:
    """Every import of a file, resolved to absolute module names (a `from pkg import
    name` counts as importing pkg.name when that is a module)."""
    src = module_name(path)
    tree = ast.parse(path.read_text("utf-8"))
    skip = _type_checking_lines(tree)
    in_fn: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    in_fn.add(id(sub))
    package = src if path.name == "__init__.py" else src.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
            continue
        f = id(node) in in_fn
        if isinstance(node, ast.Import):
            for a in node.names:
                yield Imp(src, a.name, node.lineno, f)
            continue
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([node.module] if node.module else []))
        for a in node.names:
            full = f"{base}.{a.name}"
            yield Imp(src, full if full in known else base, node.lineno, f)


def all_imports(tops: tuple[str, ...] = ("app",)) -> list[Imp]:
    files = [p for t in tops for p in sources(t)]
    known = {module_name(p) for t in {"app", *tops} for p in sources(t)}
    return [imp for p in files for imp in imports_of(p, known)]


def room(module: str) -> str:
    """The room of an app module: its package under app/, or the module itself when
    it sits directly in app/."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _in(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _pending(imp: Imp) -> bool:
    return any(_in(imp.src, m) or _in(imp.dst, m) for m in NOT_YET_CHECKED)


def test_each_room_imports_only_the_rooms_below() -> None:
    bad = []
    for imp in all_imports():
        if not _in(imp.dst, "app") or imp.dst == "app" or _pending(imp):
            continue
        if (imp.src, imp.dst) in DEFERRED_QT:
            continue
        src_room, dst_room = room(imp.src), room(imp.dst)
        if src_room == dst_room:
            continue
        allowed = ALLOWED.get(src_room)
        assert allowed is not None, f"{imp.src} is in no room of ALLOWED: add it"
        if dst_room not in allowed:
            bad.append(f"{imp.src}:{imp.line} imports {imp.dst} ({src_room} -> {dst_room})")
    assert not bad, "layer rule broken:\n" + "\n".join(bad)


def test_each_ui_room_imports_only_common_and_the_shell_puts_them_together() -> None:
    ui_files = {module_name(p) for p in sources("app/ui")}
    rooms = {m for m in ui_files if m.count(".") >= 2}
    bad = []
    for imp in all_imports():
        if imp.src not in rooms or not _in(imp.dst, "app.ui") or imp.dst == "app.ui":
            continue
        src_room, dst_room = ".".join(imp.src.split(".")[:3]), ".".join(imp.dst.split(".")[:3])
        assert src_room in UI_ROOMS, f"{imp.src} is in no room of UI_ROOMS: add it"
        if src_room != dst_room and dst_room not in UI_ROOMS[src_room]:
            bad.append(f"{imp.src}:{imp.line} imports {imp.dst} ({src_room} -> {dst_room})")
    assert not bad, "UI room rule broken:\n" + "\n".join(bad)
    assert not [m for m in ui_files if m.count(".") == 1 and m != "app.ui"], \
        "every module of app/ui sits in a room (a subpackage)"


def test_sync_never_imports_the_workspace() -> None:
    bad = [f"{i.src}:{i.line} {i.dst}" for i in all_imports()
           if _in(i.src, "app.sync") and _in(i.dst, "app.workspace")]
    assert not bad, bad


def test_only_the_ui_imports_qt() -> None:
    bad = [f"{i.src}:{i.line} {i.dst}" for i in all_imports(("app", "server"))
           if i.dst.split(".")[0] in QT and not _in(i.src, "app.ui") and not _pending(i)]
    assert not bad, "Qt outside app/ui:\n" + "\n".join(bad)


def test_the_product_never_imports_the_server_or_dev_tools() -> None:
    bad = [f"{i.src}:{i.line} {i.dst}" for i in all_imports()
           if i.dst.split(".")[0] in ("server", "devtools", "sim", "bench", "tests")
           and not _pending(i)]
    assert not bad, "app/ imports outside the product:\n" + "\n".join(bad)


def test_the_server_imports_only_the_contract_forms_and_core_of_app() -> None:
    bad = [f"{i.src}:{i.line} {i.dst}" for i in all_imports(("server",))
           if _in(i.dst, "app") and not any(_in(i.dst, m) for m in SERVER_MAY_IMPORT)]
    assert not bad, "server/ imports more of app/ than the contract:\n" + "\n".join(bad)


def test_no_function_level_imports_except_deferred_on_purpose() -> None:
    bad = []
    for imp in all_imports():
        if not imp.in_function or _pending(imp):
            continue
        if imp.src in DEFERRED_OK and any(_in(imp.dst, m) for m in DEFERRED_OK[imp.src][1]):
            continue
        if any(_in(imp.src, r) for r in NO_FUNCTION_IMPORTS):
            bad.append(f"{imp.src}:{imp.line} imports {imp.dst} inside a function")
    assert not bad, "\n".join(bad)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def import_graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for imp in all_imports():
        if _in(imp.dst, "app") and imp.dst != imp.src:
            edges.setdefault(imp.src, set()).add(imp.dst)
    return edges


def test_cycles_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_app() -> None:
    found = cycles(import_graph())
    for comp in found:
        print("import cycle:", " -> ".join(comp))
    pending = [c for c in found if all(any(_in(m, r) for r in CYCLES_PENDING_IN) for m in c)]
    rest = [c for c in found if c not in pending]
    assert not rest, f"{len(rest)} import cycle(s): {rest}"
