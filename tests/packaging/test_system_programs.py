"""Every external program that the program or a test runs is provided by the set-up.

A green run on a developer's computer once hid missing system packages (pdftotext,
objdump): the tests called programs that nothing installed. This test reads the
sources (app, server, devtools, sim, bench, packaging, tests) with `ast`, finds each
call that runs another program — subprocess.*, os.system / os.exec* / os.spawn* /
os.popen, shutil.which, asyncio.create_subprocess_*, QProcess — and checks that the
program it names is

- Python itself (sys.executable): a `-m MODULE` whose module runs programs of its
  own (PyInstaller) adds those;
- an entry point of this project ([project.scripts] in pyproject.toml);
- or provided by a package of scripts/debian-packages.txt that `make run`,
  `make test` or `make package` install (its third column onward).

When the program is not written in the call (a variable, a path), the call's first
line names it with a comment `# program: NAME [NAME...]` (an explanation may follow
in parentheses); a call that names none fails the test."""

from __future__ import annotations

import ast
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

SCANNED = ("app", "server", "devtools", "sim", "bench", "packaging", "tests")
PYTHON = "python"
# `python -m MODULE` where the module itself runs system programs (on Linux)
MODULE_PROGRAMS = {"PyInstaller": ("objdump", "strip", "ldd", "ldconfig")}
RUNNERS = {
    ("subprocess", "run"), ("subprocess", "Popen"), ("subprocess", "call"),
    ("subprocess", "check_call"), ("subprocess", "check_output"),
    ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"),
    ("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "execve"),
    ("os", "execvpe"), ("os", "execl"), ("os", "execlp"), ("os", "execle"), ("os", "execlpe"),
    ("os", "spawnv"), ("os", "spawnvp"), ("os", "spawnl"), ("os", "spawnlp"),
    ("os", "posix_spawn"), ("os", "posix_spawnp"), ("os", "startfile"),
    ("shutil", "which"),
    ("asyncio", "create_subprocess_exec"), ("asyncio", "create_subprocess_shell"),
    ("QProcess", "execute"), ("QProcess", "startDetached"),
}
SHELL_STRING = {("os", "system"), ("os", "popen"), ("subprocess", "getoutput"),
                ("subprocess", "getstatusoutput"), ("asyncio", "create_subprocess_shell")}
# os.spawn*(mode, path, ...): the program is the second argument
SECOND_ARG = {("os", "spawnv"), ("os", "spawnvp"), ("os", "spawnl"), ("os", "spawnlp")}
# `# program: NAME [NAME...]` on a call's lines: what it runs when the code does not say
MARK = re.compile(r"#\s*program:\s*([\w.+-]+(?:[ ,]+[\w.+-]+)*)")


@dataclass(frozen=True)
class Run:
    """One call that runs a program: where, which call, the program (None: unknown)."""

    where: str
    call: str
    program: str | None


def _dotted(node: ast.expr) -> tuple[str, str] | None:
    """(module, function) of `module.function` or of a name imported from a module."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: Path, source: str) -> None:
        self.path = path
        self.lines = source.splitlines()
        self.runs: list[Run] = []
        self.scopes: list[dict[str, ast.expr]] = [{}]
        self.from_imports: dict[str, tuple[str, str]] = {}
        self.qprocess_vars: set[str] = set()

    # names: `from subprocess import run`, assignments of command lists
    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        mod = (node.module or "").split(".")[-1]
        for a in node.names:
            self.from_imports[a.asname or a.name] = (mod, a.name)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802
        self.scopes.append({})
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815

    def visit_Assign(self, node: ast.Assign) -> None:  # noqa: N802
        for t in node.targets:
            if isinstance(t, ast.Name):
                self.scopes[-1][t.id] = node.value
                if isinstance(node.value, ast.Call) and _name_of(node.value.func) == "QProcess":
                    self.qprocess_vars.add(t.id)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # noqa: N802
        if isinstance(node.target, ast.Name) and node.value is not None:
            self.scopes[-1][node.target.id] = node.value
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:  # noqa: N802
        key = _dotted(node.func)
        if isinstance(node.func, ast.Name) and node.func.id in self.from_imports:
            key = self.from_imports[node.func.id]
        if (isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.qprocess_vars and node.func.attr == "start"):
            key = ("QProcess", "start")
        if key in RUNNERS or key == ("QProcess", "start"):
            self._record(node, key)
        self.generic_visit(node)

    def _record(self, node: ast.Call, key: tuple[str, str]) -> None:
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        where = f"{shown}:{node.lineno}"
        call = ".".join(key)
        lines = self.lines[node.lineno - 1: (node.end_lineno or node.lineno)]
        marked = [name for ln in lines for m in MARK.finditer(ln)
                  for name in re.split(r"[ ,]+", m.group(1))]
        if marked:
            self.runs += [Run(where, call, name) for name in marked]
            return
        args = list(node.args)
        if not args:
            args = [kw.value for kw in node.keywords if kw.arg in ("args", "cmd", "program")]
        if key in SECOND_ARG:
            args = args[1:]
        if not args:
            self.runs.append(Run(where, call, None))
            return
        for program in self._programs(args[0], key in SHELL_STRING, args[1:], node):
            self.runs.append(Run(where, call, program))

    def _resolve(self, node: ast.expr, depth: int = 0) -> ast.expr:
        """A variable's last assigned value in this function or the module."""
        while isinstance(node, ast.Name) and depth < 5:
            for scope in reversed(self.scopes):
                if node.id in scope:
                    node = scope[node.id]
                    break
            else:
                return node
            depth += 1
        return node

    def _programs(self, first: ast.expr, shell: bool, rest: list[ast.expr],
                  call: ast.Call) -> list[str | None]:
        node = self._resolve(first)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            node = self._resolve(node.left)
        if isinstance(node, ast.List | ast.Tuple):
            if not node.elts:
                return [None]
            head = node.elts[0]
            if isinstance(head, ast.Starred):
                return self._programs(head.value, shell, [], call)
            program = self._program_of(head, shell)
            if program == PYTHON:
                return [PYTHON, *self._module_programs(node.elts[1:])]
            return [program]
        program = self._program_of(node, shell or _uses_shell(call))
        if program == PYTHON and rest:  # QProcess.start(sys.executable, [...])
            arg = self._resolve(rest[0])
            if isinstance(arg, ast.List | ast.Tuple):
                return [PYTHON, *self._module_programs(arg.elts)]
        return [program]

    def _program_of(self, node: ast.expr, shell: bool) -> str | None:
        node = self._resolve(node)
        if _is_sys_executable(node):
            return PYTHON
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            word = node.value.split()[0] if shell else node.value
            name = Path(word).name
            return PYTHON if re.fullmatch(r"python(3(\.\d+)?)?", name) else name
        return None

    def _module_programs(self, elts: list[ast.expr]) -> list[str]:
        words = [e.value for e in elts if isinstance(e, ast.Constant)]
        for i, w in enumerate(words[:-1]):
            if w == "-m":
                return list(MODULE_PROGRAMS.get(str(words[i + 1]).split(".")[0], ()))
        return []


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_sys_executable(node: ast.expr) -> bool:
    if isinstance(node, ast.Call) and _name_of(node.func) == "str" and node.args:
        node = node.args[0]
    return (isinstance(node, ast.Attribute) and node.attr == "executable"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def _uses_shell(call: ast.Call) -> bool:
    return any(kw.arg == "shell" and isinstance(kw.value, ast.Constant) and kw.value.value
               for kw in call.keywords)


def scan(path: Path) -> list[Run]:
    """Every call in `path` that runs a program."""
    source = path.read_text("utf-8")
    s = _Scanner(path, source)
    s.visit(ast.parse(source, str(path)))
    return s.runs


def provided() -> dict[str, str]:
    """executable -> who provides it: the Debian packages of the groups the Makefile
    installs (and ensure_postgres.sh), and the project's entry points."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    groups = {"postgres"}  # scripts/ensure_postgres.sh, run by `make test`
    for var in ("RUN_DEBS", "TEST_DEBS", "PACKAGE_DEBS"):
        m = re.search(rf"^{var} := (.*)$", makefile, re.M)
        assert m, f"the Makefile has no {var}"
        groups |= set(m.group(1).split())
    out = {PYTHON: "the interpreter (sys.executable)"}
    for line in (ROOT / "scripts" / "debian-packages.txt").read_text("utf-8").splitlines():
        words = line.split("#")[0].split()
        if len(words) >= 3 and words[0] in groups:
            for exe in words[2:]:
                out[exe] = f"Debian package {words[1]} (group {words[0]})"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    for name in scripts:
        out[name] = "entry point of this project"
    return out


@functools.cache
def all_runs() -> tuple[Run, ...]:
    """Every call that runs a program in the scanned folders (read once per session)."""
    files = [f for d in SCANNED for f in sorted((ROOT / d).rglob("*.py"))]
    return tuple(r for f in files for r in scan(f))


def test_every_program_run_is_provided_by_the_setup():
    runs = all_runs()
    assert len(runs) > 20  # the scan sees the project's many subprocess calls
    have = provided()
    unnamed = [f"{r.where} {r.call}(?)" for r in runs if r.program is None]
    assert not unnamed, (
        "name the program these calls run with a `# program: NAME` comment: " + str(unnamed))
    missing = sorted({f"{r.where} {r.call}: {r.program}" for r in runs if r.program not in have})
    assert not missing, (
        "add the package that provides each to scripts/debian-packages.txt (with the "
        "program in its third column), or use a PyPI library instead: " + str(missing))


def test_objdump_comes_from_the_list_because_the_bundle_is_built():
    runs = all_runs()
    assert any(r.program == "objdump" for r in runs)  # `-m PyInstaller` in the tests
    assert provided()["objdump"].startswith("Debian package binutils")


def test_the_scan_finds_each_way_of_running_a_program(tmp_path):
    src = tmp_path / "probe.py"
    src.write_text(
        "import os, shutil, subprocess, sys\n"
        "from subprocess import check_output\n"
        "from PySide6.QtCore import QProcess\n"
        "subprocess.run(['pdftotext', '-layout', 'a.pdf', '-'])\n"
        "shutil.which('objdump')\n"
        "os.system('convert a.png b.jpg')\n"
        "check_output(['/usr/bin/lsof', '-i'])\n"
        "def f(x):\n"
        "    cmd = [sys.executable, '-m', 'PyInstaller', 'x.spec']\n"
        "    subprocess.Popen(cmd)\n"
        "    subprocess.run(x)\n"
        "    subprocess.run(x)  # program: siee-campo (the bundle)\n"
        "    p = QProcess()\n"
        "    p.start('xdg-open', ['a.pdf'])\n"
        "    subprocess.run('gzip -9 f', shell=True)\n",
        "utf-8",
    )
    got = [(r.call, r.program) for r in scan(src)]
    assert got == [
        ("subprocess.run", "pdftotext"),
        ("shutil.which", "objdump"),
        ("os.system", "convert"),
        ("subprocess.check_output", "lsof"),
        ("subprocess.Popen", PYTHON), ("subprocess.Popen", "objdump"),
        ("subprocess.Popen", "strip"), ("subprocess.Popen", "ldd"),
        ("subprocess.Popen", "ldconfig"),
        ("subprocess.run", None),
        ("subprocess.run", "siee-campo"),
        ("QProcess.start", "xdg-open"),
        ("subprocess.run", "gzip"),
    ]
    have = provided()
    assert "pdftotext" not in have and "lsof" not in have  # would fail the main test


def test_every_group_the_makefile_installs_is_in_the_list():
    makefile = (ROOT / "Makefile").read_text("utf-8")
    lines = (ROOT / "scripts" / "debian-packages.txt").read_text("utf-8").splitlines()
    rows = [ln.split() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    assert all(len(r) >= 2 for r in rows), [r for r in rows if len(r) < 2]
    in_list = {r[0] for r in rows}
    for var in ("RUN_DEBS", "TEST_DEBS", "PACKAGE_DEBS"):
        m = re.search(rf"^{var} := (.*)$", makefile, re.M)
        assert m and set(m.group(1).split()) <= in_list, (var, in_list)
    # both README commands install the window's libraries (Qt's xcb plugin)
    assert "window" in re.search(r"^RUN_DEBS := (.*)$", makefile, re.M).group(1).split()
    assert "window" in re.search(r"^TEST_DEBS := (.*)$", makefile, re.M).group(1).split()
