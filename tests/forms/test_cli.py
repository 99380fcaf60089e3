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
    assert [ln.split("\t")[0] for ln in lines] == ["desestimacion", "fsu", "s100", "visita"]
    assert "2026113001" in lines[1] and "Ficha Socioeconómica Única" in lines[1]
    assert "Intento de visita" in lines[3]


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
    assert proc.returncode == 0 and "\nfsu\t" in proc.stdout and "\ns100\t" in proc.stdout


def test_through_the_main_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "app", "forms", "eval", "fsu", "--answers",
         str(DATA / "fsu_example.json"), "--today", "2026-03-10"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["values"]["/fsu/integrantes[1]/edad"] == "44" and doc["errors"] == []


FORM_MD = (
    "| survey |\n| | type | name | label | calculation |\n"
    "| | integer | n | N | |\n| | begin repeat | r | R | |\n| | text | t | T | |\n"
    "| | calculate | u | | once(uuid()) |\n| | end repeat | | | |\n"
    "| | calculate | all | | join(',', ${t}) |\n")


def test_eval_expressions_without_a_form(capsys, tmp_path):
    ex = tmp_path / "e.txt"
    ex.write_text("string(0.000001)\ndate('1983-09-31')\n\n/data\nfoo(\n", "utf-8")
    rc, out = run(capsys, "eval", "--expr", "1 + 1", "--exprs", str(ex))
    assert rc == 0
    got = json.loads(out)["expressions"]
    assert got[0] == {"expr": "1 + 1", "value": "2", "type": "number"}
    assert got[1] == {"expr": "string(0.000001)", "value": "0.000001", "type": "string"}
    assert set(got[2]) == {"expr", "error"} and "1983-09-31" in got[2]["error"]
    assert got[3]["type"] == "node-set" and got[3]["nodes"] == ["/data"]
    assert "error" in got[4] and "Traceback" not in got[4]["error"]
    lst = tmp_path / "e.json"
    lst.write_text(json.dumps(["concat('a', 'b')", "true()"]), "utf-8")
    rc, out = run(capsys, "eval", "--exprs", str(lst))
    assert [x["value"] for x in json.loads(out)["expressions"]] == ["ab", "true"]


def test_eval_steps_in_order_context_seed_and_submission(capsys, tmp_path):
    form = tmp_path / "f.md"
    form.write_text(FORM_MD, "utf-8")
    steps = tmp_path / "s.json"
    steps.write_text(json.dumps([["/data/n", "2"], ["/data/r[2]/t", "b"],
                                 {"path": "/data/r[1]/t", "value": "a"},
                                 {"add_repeat": "/data/r"}, ["/data/r[3]/t", "c"],
                                 {"remove_repeat": "/data/r", "index": 1}]), "utf-8")
    argv = ["eval", str(form), "--answers", str(steps), "--seed", "5", "--submission",
            "--expr", "${t}", "--context", "/data/r[2]", "--expr", "count(../r)"]
    rc, out = run(capsys, *argv)
    assert rc == 0
    doc = json.loads(out)
    assert doc["values"]["/data/all"] == "b,c"
    assert [e["value"] for e in doc["expressions"]] == ["c", "2"]  # ${t} of instance 2
    assert doc["answers"]["answers"]["/data/r[1]/t"] == "b" and "<all>b,c</all>" in doc["xml"]
    rc2, out2 = run(capsys, *argv)
    assert out2 == out  # deterministic with --seed (uuid() included)
    assert list(doc) == ["values", "relevant", "valid", "required_missing", "errors",
                         "warnings", "expressions", "answers", "xml"]


def test_eval_errors_are_clear(capsys, tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("| survey |\n| | type | name | label |\n| | foo | a | A |\n"
                   "| | image | b | B |\n", "utf-8")
    rc, out = run(capsys, "eval", str(bad))
    assert rc == 1
    errs = json.loads(out)["errors"]
    assert [e["row"] for e in errs] == [2, 3] and all(e["message"] for e in errs)
    form = tmp_path / "f.md"
    form.write_text(FORM_MD, "utf-8")
    steps = tmp_path / "s.json"
    steps.write_text(json.dumps([["/data/nada", "1"]]), "utf-8")
    assert main(["forms", "eval", str(form), "--answers", str(steps)]) == 2
    assert "nada" in capsys.readouterr().err
    assert main(["forms", "eval", str(form), "--today", "mañana"]) == 2
    assert "--today" in capsys.readouterr().err
    assert main(["forms", "eval", str(form), "--expr", "1", "--context", "/data/zz"]) == 2


def test_eval_with_properties_shows_the_prefill(capsys):
    rc, out = run(capsys, "eval", "s100", "--property", "username=Ana Torres",
                  "--property", "siee:ule=080108")
    assert rc == 0
    values = json.loads(out)["values"]
    assert values["/s100/registro/registrador"] == "Ana Torres"
    assert values["/s100/registro/ule"] == "080108"
    assert (values["/s100/domicilio/departamento"], values["/s100/domicilio/provincia"],
            values["/s100/domicilio/distrito"]) == ("08", "0801", "080108")
    rc, out = run(capsys, "eval", "s100")  # no properties: nothing prefilled
    assert json.loads(out)["values"]["/s100/registro/registrador"] == ""
    assert main(["forms", "eval", "s100", "--property", "sin-igual"]) == 2
