"""`siee-campo practice …` for trainers (issue 18 item 7), run in-process on real
folders: create the practice workspace, print papers in bulk and start them, score,
export and import results, and the handover checklist of the real workspace."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from app.forms import FormSession
from app.practice import exercises as ex
from app.workspace import Workspace
from app.workspace.practice import practice_dir

PW = "clave-instructor-123"


@pytest.fixture
def real_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SIEE_USER", "admin")
    monkeypatch.setenv("SIEE_PASSWORD", PW)
    d = tmp_path / "campo"
    assert main(["init", "--data", str(d), "--admin", "admin", "--ule", "150101"]) == 0
    return d


def test_trainer_commands_end_to_end(real_dir, tmp_path, monkeypatch, capsys):
    d = str(real_dir)
    assert main(["practice", "init", "--data", d, "--admin", "admin"]) == 0
    pdir = practice_dir(real_dir)
    ws = Workspace.open(pdir)
    assert ws.practice.enabled and ws.settings.get("ule_ubigeo") == "150101"
    ws.close()
    capsys.readouterr()
    # two papers (HTML) started for the logged-in user, one PDF
    assert main(["practice", "create", "--data", d, "--exercise", "fsu1", "--count", "2",
                 "--seed", "40", "--out", str(tmp_path / "fichas"), "--html", "--start"]) == 0
    lines = [x.split("\t") for x in capsys.readouterr().out.strip().splitlines()]
    assert [x[1] for x in lines] == ["40", "41"] and all(len(x) == 4 for x in lines)
    assert "PRÁCTICA" in (tmp_path / "fichas" / "ficha-fsu1-40.html").read_text("utf-8")
    assert main(["practice", "create", "--data", d, "--exercise", "fsu4", "--seed", "7",
                 "--out", str(tmp_path / "pdf")]) == 0
    assert (tmp_path / "pdf" / "ficha-fsu4-7.pdf").read_bytes().startswith(b"%PDF")
    # the trainee types exercise 40 perfectly and 41 with a missing phone
    ws = Workspace.open(pdir)
    ws.login("admin", PW)
    for _ex, seed, _path, uuid in lines:
        s = FormSession(ex.fsu(), ex.answer_key("fsu1", int(seed)))
        if seed == "41":
            s.set("/fsu/ubicacion/telefono", "")
        ws.save_answers(uuid, s.to_json())
    ws.close()
    capsys.readouterr()
    assert main(["practice", "score", "--data", d, "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert len(scored) == 2
    acc = sorted(r["accuracy"] for r in scored)
    assert acc[1] == 100.0 and acc[0] < 100.0
    assert any(m["path"] == "/fsu/ubicacion/telefono" for r in scored for m in r["mistakes"])
    # scoring again scores nothing twice
    assert main(["practice", "score", "--data", d, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    # export, then import into another laptop's practice workspace: no duplicates
    out = tmp_path / "avance.json"
    assert main(["practice", "export", "--data", d, str(out)]) == 0
    assert main(["practice", "export", "--data", d, str(tmp_path / "avance.xlsx")]) == 0
    other = tmp_path / "otro"
    assert main(["init", "--data", str(other), "--admin", "admin", "--ule", "150101"]) == 0
    assert main(["practice", "init", "--data", str(other), "--admin", "admin"]) == 0
    capsys.readouterr()
    assert main(["practice", "import", "--data", str(other), str(out)]) == 0
    assert "2 resultado" in capsys.readouterr().out
    assert main(["practice", "import", "--data", str(other), str(out)]) == 0
    assert "0 resultado" in capsys.readouterr().out
    assert main(["practice", "threshold", "--data", str(other), "90"]) == 0
    assert main(["practice", "results", "--data", str(other)]) == 0
    assert "admin: en práctica (mejor —, mínimo 90 %)" in capsys.readouterr().out


def test_handover_reads_the_real_workspace(real_dir, capsys, tmp_path):
    assert main(["practice", "handover", "--data", str(real_dir)]) == 0
    text = capsys.readouterr().out
    assert "Lista de entrega" in text and "[ ] Inscripción del equipo" in text
    assert main(["practice", "handover", "--data", str(real_dir), "--pdf",
                 str(tmp_path / "entrega.pdf")]) == 0
    assert (tmp_path / "entrega.pdf").read_bytes().startswith(b"%PDF")


def test_practice_commands_need_the_practice_workspace(real_dir, capsys):
    assert main(["practice", "results", "--data", str(real_dir)]) == 1
    assert "practice init" in capsys.readouterr().err
