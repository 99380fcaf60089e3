"""Issue 15 from the command line (real subprocesses, a real data folder): an absent
household recorded and its notice printed without invented data; the desestimación
refused to an enumerator, done by the supervisor with a reason from the settings."""

from __future__ import annotations

import json

import pytest

from app.demo import households
from app.demo_answers import s100_answers
from app.workspace import Workspace
from tests.cli.test_cli import run

EMP = {"SIEE_USER": "emp", "SIEE_PASSWORD": "clave-emp-1234"}
SUP = {"SIEE_USER": "sup", "SIEE_PASSWORD": "clave-sup-1234"}


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    d = tmp_path_factory.mktemp("cases-cli") / "datos"
    run(["init", "--data", str(d), "--admin", "admin", "--ule", "150101"])
    for name, role in (("emp", "empadronador"), ("sup", "supervisor")):
        run(["users", "add", name, "--role", role, "--data", str(d)],
            env_extra={"SIEE_NEW_PASSWORD": f"inicial-{name}-1234"})
        # each person logs in once and chooses their own password (issue 16 item 10)
        ws = Workspace.open(d)
        try:
            ws.login(name, f"inicial-{name}-1234")
            ws.change_password(f"inicial-{name}-1234", f"clave-{name}-1234")
        finally:
            ws.close()
    hh = households(1, seed=5)[0]
    f = d.parent / "s100.json"
    f.write_text(json.dumps(s100_answers(hh)), "utf-8")
    req = run(["records", "import", "--form", "s100", str(f), "--data", str(d)],
              env_extra=EMP).stdout.strip()
    return d, req, hh


def test_absent_household_and_its_notice(office):
    d, req, hh = office
    bad = run(["cases", "visit", req, "--date", "2026-11-16", "--time", "09:30", "--result", "4",
               "--data", str(d)], env_extra=EMP, check=False)
    assert bad.returncode == 1 and "volverá" in bad.stderr and "Traceback" not in bad.stderr
    p = run(["cases", "visit", req, "--date", "2026-11-16", "--time", "09:30", "--result", "4",
             "--next", "2026-11-18", "--data", str(d)], env_extra=EMP)
    visit = p.stdout.strip()
    assert "notificación" in p.stderr
    notice = run(["cases", "notice", visit, "--data", str(d)], env_extra=EMP).stdout
    assert "NOTIFICACIÓN DE VISITA" in notice and "Municipalidad Provincial de Lima" in notice
    assert "Ausente / no ubicado" in notice and "Próxima visita: 18/11/2026" in notice
    assert f" {hh.direccion}" in notice.split("Dirección: ", 1)[1].splitlines()[0]
    assert hh.head.dni not in notice  # nothing of the household beyond its own request
    show = json.loads(run(["cases", "show", req, "--data", str(d)], env_extra=EMP).stdout)
    assert show["state"] == "visita_fallida" and show["clock"]["target"] == 8
    assert [v["failed"] for v in show["visits"]] == [True]


def test_drop_only_by_the_supervisor(office):
    d, req, _hh = office
    p = run(["cases", "drop", req, "--reason", "1", "--data", str(d)], env_extra=EMP,
            check=False)
    assert p.returncode == 1 and "no permite desestimar" in p.stderr
    reasons = run(["cases", "reasons", "--data", str(d)], env_extra=SUP).stdout
    assert reasons.startswith("1\tVisitas fallidas reiteradas")
    run(["cases", "drop", req, "--reason", "1", "--detail", "Tres intentos.", "--data", str(d)],
        env_extra=SUP)
    rows = json.loads(run(["cases", "list", "--json", "--data", str(d)], env_extra=SUP).stdout)
    case = next(r for r in rows if r["case_uuid"] == req)
    assert case["state"] == "desestimado" and case["clock"] is None
    p = run(["cases", "visit", req, "--date", "2026-11-19", "--time", "09:30", "--result", "1",
             "--data", str(d)], env_extra=EMP, check=False)
    assert p.returncode == 1 and "desestimada" in p.stderr
    run(["cases", "reopen", req, "--reason", "El hogar volvió.", "--data", str(d)], env_extra=SUP)
    rows = json.loads(run(["cases", "list", "--json", "--data", str(d)], env_extra=SUP).stdout)
    assert next(r for r in rows if r["case_uuid"] == req)["state"] == "visita_fallida"
