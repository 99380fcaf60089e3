"""The product (app/) holds no development part: it never imports the reference
server, the development tools, the simulation, the benchmarks or the tests, and the
bundle's self-test check that proves it in the packaged program can fail."""

from __future__ import annotations

import ast

import pytest

from app import selftest
from tests.conftest import ROOT

NOT_IN_PRODUCT = ("server", "devtools", "sim", "bench", "tests")


def _imports(path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, function-level ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_the_product_imports_no_development_part():
    files = sorted((ROOT / "app").rglob("*.py"))
    assert len(files) > 50
    bad = [
        f"{f.relative_to(ROOT)}:{line} imports {mod}"
        for f in files
        for line, mod in _imports(f)
        if mod.split(".")[0] in NOT_IN_PRODUCT
    ]
    assert not bad, bad


def test_the_scan_sees_function_level_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from devtools.devserver import LocalServer\n    import server\n")
    assert [m for _l, m in _imports(f)] == ["devtools.devserver", "server"]


def test_bundle_check_fails_where_the_server_is_importable():
    # from the repository both packages import, so the packaged program's check refuses
    with pytest.raises(AssertionError, match="server, devtools"):
        selftest._no_dev_parts(frozen=True)


def test_bundle_check_passes_without_them(monkeypatch):
    monkeypatch.setattr(selftest, "NOT_SHIPPED", ("siee_no_such_package",))
    assert "no están incluidos" in selftest._no_dev_parts(frozen=True)
    assert "sin empaquetar" in selftest._no_dev_parts(frozen=False)
