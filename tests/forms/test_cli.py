"""The `forms` commands (through app.forms.cli; the main CLI registers the same parser)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from app.forms.cli import main, register

from .conftest import DATA

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str]:
    rc = main(["forms", *argv])
    return rc, capsys.readouterr().out


def test_register_sets_func():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register(sub)
    args = parser.parse_args(["forms", "list"])
    assert callable(args.func)


def test_list(capsys):
    rc, out = run(capsys, "list")
    assert rc == 0
    lines = out.strip().splitlines()
    assert [ln.split("\t")[0] for ln in lines] == ["fsu", "s100"]
    assert "2026112702" in lines[0] and "Ficha Socioeconómica Única" in lines[0]


def test_check_ok_and_errors(capsys, tmp_path):
    rc, out = run(capsys, "check", str(ROOT / "app/forms/bundled/fsu.md"))
    assert rc == 0 and out.startswith("OK fsu")
    rc, out = run(capsys, "check", "s100")
    assert rc == 0
    bad = tmp_path / "bad.md"
    bad.write_text("| survey |\n| | type | name | label | constraint |\n"
                   "| | integer | a | A | |\n| | text | b | B | foo(.) |\n", "utf-8")
    rc, out = run(capsys, "check", str(bad))
    assert rc == 1
    assert "ERROR fila 3:" in out and "foo" in out and "Traceback" not in out


def test_eval_example(capsys):
    rc, out = run(capsys, "eval", "fsu", "--answers", str(DATA / "fsu_example.json"),
                  "--today", "2026-03-10")
    assert rc == 0
    doc = json.loads(out)
    assert set(doc) == {"values", "relevant", "valid", "required_missing", "errors", "warnings"}
    assert doc["values"]["/fsu/integrantes[2]/edad"] == "40"
    assert doc["relevant"]["/fsu/integrantes[2]"] is True
    assert doc["relevant"]["/fsu/integrantes[1]/gestante"] is False
    assert doc["valid"]["/fsu/integrantes[1]/num_doc"] is True
    assert doc["required_missing"] == [] and doc["errors"] == [] and doc["warnings"] == []


def test_eval_reports_errors_and_creates_instances(capsys, tmp_path):
    answers = json.loads((DATA / "fsu_example.json").read_text("utf-8"))
    answers["/fsu/integrantes[5]/nombres"] = "Nuevo"
    answers["/fsu/integrantes[2]/parentesco"] = "1"
    p = tmp_path / "a.json"
    p.write_text(json.dumps(answers), "utf-8")
    rc, out = run(capsys, "eval", "fsu", "--answers", str(p), "--today", "2026-03-10")
    assert rc == 0
    doc = json.loads(out)
    assert doc["values"]["/fsu/integrantes[5]/nombres"] == "Nuevo"
    assert "/fsu/integrantes[5]/apellido_paterno" in doc["required_missing"]
    errors = {e["path"]: e["message"] for e in doc["errors"]}
    assert errors["/fsu/resumen/n_jefes"] == "Debe haber exactamente un jefe de hogar."
    assert doc["valid"]["/fsu/integrantes[2]/parentesco"] is False


def test_eval_bad_answers_file(capsys, tmp_path):
    p = tmp_path / "a.json"
    p.write_text("[1, 2]", "utf-8")
    assert main(["forms", "eval", "fsu", "--answers", str(p)]) == 2
    p.write_text(json.dumps({"/fsu/nada": "1"}), "utf-8")
    assert main(["forms", "eval", "fsu", "--answers", str(p)]) == 2


def test_xlsx_round_trip(capsys, tmp_path):
    out = tmp_path / "fsu.xlsx"
    rc, text = run(capsys, "xlsx", "fsu", "-o", str(out))
    assert rc == 0 and out.is_file()
    rc, text = run(capsys, "check", str(out))
    assert rc == 0 and text.startswith("OK fsu")


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "app.forms.cli", "forms", "list"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("fsu\t")


def test_through_the_main_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "app", "forms", "eval", "fsu", "--answers",
         str(DATA / "fsu_example.json"), "--today", "2026-03-10"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["values"]["/fsu/integrantes[1]/edad"] == "44" and doc["errors"] == []
