"""The CLI as IT and scripts use it: real subprocesses on a real data folder."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def run(args, env_extra=None, input_text=None, check=True):
    env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": "clave-admin-123"}
    env.update(env_extra or {})
    p = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        input=input_text,
        timeout=120,
    )
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli") / "datos"
    p = run(["init", "--data", str(d), "--admin", "admin", "--ule", "080108"])
    lines = p.stdout.splitlines()
    code = lines[[i for i, ln in enumerate(lines) if "RECUPERACIÓN" in ln][0] + 1].strip()
    return d, code


def test_init_prints_recovery_code_once(data):
    d, code = data
    assert len(code.replace("-", "")) == 20
    p = run(["init", "--data", str(d), "--admin", "otro"], check=False)
    assert p.returncode == 1 and "ya tiene datos" in p.stderr
    assert "Traceback" not in p.stderr


def test_users_and_reset_password(data):
    d, code = data
    run(
        ["users", "add", "ana", "--role", "empadronador", "--name", "Ana Torres", "--data", str(d)],
        env_extra={"SIEE_NEW_PASSWORD": "clave-ana-1"},
    )
    out = run(["users", "list", "--data", str(d)]).stdout
    assert "ana\tEmpadronador\tactivo\tAna Torres" in out
    bad = run(
        ["users", "add", "x", "--role", "empadronador", "--data", str(d)],
        env_extra={"SIEE_NEW_PASSWORD": "corta"},
        check=False,
    )
    assert bad.returncode == 1 and "8 caracteres" in bad.stderr
    wrong = run(
        ["records", "list", "--data", str(d)],
        env_extra={"SIEE_USER": "ana", "SIEE_PASSWORD": "nope-nope"},
        check=False,
    )
    assert wrong.returncode == 1 and "incorrectos" in wrong.stderr
    # the password the administrator gave must be changed before any command
    first = run(
        ["records", "list", "--data", str(d)],
        env_extra={"SIEE_USER": "ana", "SIEE_PASSWORD": "clave-ana-1"},
        check=False,
    )
    assert first.returncode == 1 and "elija una contraseña propia" in first.stderr
    assert "Traceback" not in first.stderr
    run(
        ["users", "reset-password", "ana", "--recovery-code", code, "--data", str(d)],
        env_extra={"SIEE_NEW_PASSWORD": "clave-ana-2"},
    )
    run(
        ["records", "list", "--data", str(d)],
        env_extra={"SIEE_USER": "ana", "SIEE_PASSWORD": "clave-ana-2"},
    )
    refused = run(
        ["users", "add", "y", "--role", "admin", "--data", str(d)],
        env_extra={
            "SIEE_USER": "ana",
            "SIEE_PASSWORD": "clave-ana-2",
            "SIEE_NEW_PASSWORD": "clave-larga-1",
        },
        check=False,
    )
    assert refused.returncode == 1 and "no permite administrar usuarios" in refused.stderr
    run(["users", "disable", "ana", "--data", str(d)])
    assert "ana\tEmpadronador\tdesactivado" in run(["users", "list", "--data", str(d)]).stdout


def test_import_list_and_audit(data, tmp_path):
    d, _ = data
    answers = json.loads((ROOT / "tests/forms/data/fsu_example.json").read_text("utf-8"))
    f = tmp_path / "a.json"
    f.write_text(json.dumps([answers, answers]), "utf-8")
    uuids = run(["records", "import", "--form", "fsu", str(f), "--data", str(d)]).stdout.split()
    assert len(uuids) == 2
    listed = json.loads(run(["records", "list", "--json", "--data", str(d)]).stdout)
    mine = [r for r in listed if r["uuid"] in uuids]
    assert len(mine) == 2
    assert mine[0]["summary"]["head_name"].startswith("Quispe Huamán")
    assert mine[0]["state"] == "DRAFT" and mine[0]["form_version"]
    drafts = json.loads(
        run(["records", "list", "--json", "--state", "QUEUED", "--data", str(d)]).stdout
    )
    assert drafts == []
    out = run(["audit", "verify", "--data", str(d)]).stdout
    assert "íntegra" in out


def test_demo_data_is_valid_for_the_forms(data):
    d, _ = data
    p = run(["demo-data", "--households", "3", "--seed", "5", "--data", str(d)])
    assert "6 fichas" in p.stdout
    listed = json.loads(run(["records", "list", "--json", "--data", str(d)]).stdout)
    assert sum(1 for r in listed if r["form_id"] == "s100") >= 3


def test_selftest_and_bad_usage(data):
    p = run(["selftest"])
    assert "Autoverificación correcta" in p.stdout
    p = run(["records", "list", "--data", "/nonexistent/siee"], check=False)
    assert p.returncode == 1 and "No hay datos" in p.stderr
    p = run(["users", "frobnicate"], check=False)
    assert p.returncode == 2


def test_data_after_the_group_name_is_the_folder_used(data, tmp_path):
    """`users --data X list` (the folder between group and order) reads X, not the
    default folder (found by an IT walk-through: the order's default replaced it)."""
    d, _ = data
    empty = {"HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg"),
             "APPDATA": str(tmp_path / "appdata")}
    out = run(["users", "--data", str(d), "list"], env_extra=empty).stdout
    assert "admin\t" in out


def test_a_damaged_database_says_what_to_do_in_every_order(tmp_path):
    """Every order, not only `doctor`, answers a malformed database in Spanish with the
    next step, and no traceback."""
    d = tmp_path / "datos"
    run(["init", "--data", str(d), "--admin", "admin", "--ule", "080108"])
    db = d / "siee-campo.db"
    with open(db, "r+b") as fh:
        fh.seek(0)
        fh.write(b"\x13" * 32768)
    for order in (["records", "list"], ["users", "list"], ["audit", "verify"]):
        p = run([*order, "--data", str(d)], check=False)
        assert p.returncode == 1, (order, p.stdout, p.stderr)
        assert "Traceback" not in p.stderr
        assert "dañada" in p.stderr and "siee-campo doctor" in p.stderr


def test_file_errors_name_the_file_and_the_reason_in_spanish(data, tmp_path):
    """A restore from a path that does not exist names it and says why, with no English
    exception name (IT walk-through: «(FileNotFoundError)»)."""
    d, code = data
    missing = tmp_path / "usb" / "noexiste.sieebak"
    p = run(["restore", str(missing), "--data", str(tmp_path / "nueva"),
             "--recovery-code", code], check=False)
    assert p.returncode == 1
    assert "Error" not in p.stderr.replace("Error:", "") and "Traceback" not in p.stderr
    assert str(missing) in p.stderr and "no existe" in p.stderr


def test_the_admin_role_may_be_written_as_the_guide_says(data):
    d, _ = data
    run(["users", "add", "luis", "--role", "administrador", "--data", str(d)],
        env_extra={"SIEE_NEW_PASSWORD": "clave-luis-1234"})
    assert "luis\tAdministrador\t" in run(["users", "list", "--data", str(d)]).stdout


def test_roles_are_shown_and_accepted_with_the_windows_spanish_names(data):
    """IT's day (issue 17): `users list` and «Usuario creado» said «admin» (the stored
    English id); they say the window's names, and the roles are typed in Spanish."""
    d, _ = data
    env = {"SIEE_NEW_PASSWORD": "clave-rosa-1234"}
    p = run(["users", "add", "rosa", "--role", "Responsable de ULE", "--data", str(d)],
            env_extra=env)
    assert "Usuario «rosa» creado (Responsable de ULE (supervisor))." in p.stdout
    p = run(["users", "add", "beto", "--role", "DIGITADOR", "--data", str(d)], env_extra=env)
    assert "creado (Digitador)" in p.stdout
    out = run(["users", "list", "--data", str(d)]).stdout
    assert "admin\tAdministrador\tactivo" in out
    assert "rosa\tResponsable de ULE (supervisor)\tactivo" in out
    assert "beto\tDigitador\tactivo" in out
    roles = {line.split("\t")[1] for line in out.splitlines()}
    assert not roles & {"admin", "supervisor", "digitador", "empadronador"}, out
    bad = run(["users", "add", "zoe", "--role", "jefe", "--data", str(d)], env_extra=env,
              check=False)
    assert bad.returncode == 2 and "rol desconocido «jefe»" in bad.stderr
    for name in ("«empadronador»", "«digitador»", "«supervisor»", "«administrador»"):
        assert name in bad.stderr
    assert "'admin'" not in bad.stderr
    helped = run(["users", "add", "--help"]).stdout
    assert "«administrador»" in " ".join(helped.split())


def test_a_refused_init_creates_nothing(tmp_path):
    """IT's day (issue 17): `init` refused without a terminal still made the data folder
    and its logs/. Every refusal (no terminal for the password, a wrong ubigeo or user
    name, a short password) now leaves no folder behind; a good init still logs."""
    d = tmp_path / "datos"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIEE_")}
    p = subprocess.run([sys.executable, "-m", "app", "init", "--data", str(d), "--admin",
                        "admin", "--ule", "150101"], cwd=ROOT, env=env, capture_output=True,
                       text=True, input="", timeout=120)
    assert p.returncode == 1 and "No hay una consola donde preguntar" in p.stderr
    assert not d.exists()
    for args, env_extra, says in (
        (["--ule", "999999"], {}, "no existe en el catálogo"),
        (["--ule", "150101"], {"SIEE_PASSWORD": "corta"}, "al menos 8 caracteres"),
    ):
        p = run(["init", "--data", str(d), "--admin", "admin", *args], env_extra=env_extra,
                check=False)
        assert p.returncode == 1 and says in p.stderr, p.stderr
        assert not d.exists(), args
    p = run(["init", "--data", str(d), "--admin", "mal usuario"], check=False)
    assert p.returncode == 1 and "El usuario debe tener" in p.stderr and not d.exists()
    run(["init", "--data", str(d), "--admin", "admin", "--ule", "150101"])
    assert (d / "logs" / "siee-campo.log").is_file()
    assert "workspace initialized" in (d / "logs" / "siee-campo.log").read_text("utf-8")
