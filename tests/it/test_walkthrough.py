"""Issue 17, second IT walk-through (the guide followed with the packaged program): the
console faults it left — help texts, the centre's device table, backup targets, the
sync log, re-enrollment at the centre, next steps in refusals, `doctor` that creates
nothing and reads well, owner-only log folders. The commands run through their own
`main()` (or as a subprocess where the terminal matters), against real data folders
and the real reference server on loopback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.cli.main import build_parser
from app.cli.main import main as campo_main
from app.core.states import STATE_LABELS, State
from app.sync import protocol as p
from app.workspace import Workspace
from server.cli import main as server_main
from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF, ROOT
from tests.sync.conftest import ULE, add_queued


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv
        assert "Traceback" not in srv.log_text()


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A console with user and password in the environment and no IT settings file."""
    for k in [k for k in os.environ if k.startswith("SIEE_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("SIEE_USER", "admin")
    monkeypatch.setenv("SIEE_PASSWORD", ADMIN_PW)
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "sin-config"))
    return monkeypatch


def campo(*args: str) -> tuple[int, str, str]:
    """`siee-campo ARGS` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = campo_main(list(args))
        except SystemExit as e:  # argparse: help or usage error
            code = int(e.code or 0)
    assert "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def centre(srv, *args: str) -> tuple[int, str, str]:
    """`siee-server ARGS --data … --db …` of the running server, in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = server_main([*args, "--data", str(srv.data_dir), "--db", srv.db_url])
    return code, out.getvalue(), err.getvalue()


def make_ws(path: Path) -> Workspace:
    ws, _ = Workspace.create(path, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)
    return ws


def devices(srv) -> dict[str, dict]:
    code, out, _ = centre(srv, "devices", "list", "--json")
    assert code == 0
    return {d["device_id"]: d for d in json.loads(out)}


# -- 3. help ---------------------------------------------------------------------------
def _subparsers(parser):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            yield from action.choices.items()


def test_records_list_help_names_the_states_as_the_window_does(env, tmp_path):
    code, out, _ = campo("records", "list", "--help")
    assert code == 0
    for st in State:
        assert f"«{STATE_LABELS[st]}»" in out
        assert st.value not in out  # no DRAFT, QUEUED…
    # every option of every records/sync/backup/doctor order says what it is for
    top = dict(_subparsers(build_parser()))
    for group in ("records", "sync", "users", "audit"):
        for name, sub in _subparsers(top[group]):
            for action in sub._actions:
                assert action.help, f"{group} {name}: {action.option_strings or action.dest}"
    for name in ("backup", "doctor", "demo-data", "restore", "init", "install-linux"):
        for action in top[name]._actions:
            assert action.help, f"{name}: {action.option_strings or action.dest}"


def test_records_list_filters_by_the_spanish_state_name(env, tmp_path):
    d = tmp_path / "datos"
    ws = make_ws(d)
    try:
        ws.login("admin", ADMIN_PW)
        queued = add_queued(ws, 2, seed=17)
    finally:
        ws.close()
    for typed in ("En cola de envío", "en cola de envio", "EN-COLA-DE-ENVÍO", "QUEUED"):
        code, out, _ = campo("records", "list", "--json", "--state", typed, "--data", str(d))
        assert code == 0
        assert sorted(r["uuid"] for r in json.loads(out)) == sorted(queued), typed
    code, out, _ = campo("records", "list", "--json", "--state", "Borrador", "--data", str(d))
    assert code == 0 and json.loads(out) == []
    code, _, err = campo("records", "list", "--state", "pendiente", "--data", str(d))
    assert code == 2 and "«pendiente»" in err and "«Observada»" in err


# -- 4, 10, 8. the centre's devices ----------------------------------------------------------
def test_devices_table_in_spanish_and_revoke_ignores_case(env, server, tmp_path):
    ws = make_ws(tmp_path / "lap")
    try:
        ws.login("admin", ADMIN_PW)
        info = ws.centre.enroll(server.url, server.admin.enroll_code(ULE), "Laptop 1")
    finally:
        ws.close()
    code, out, _ = centre(server, "devices", "list")
    head = out.splitlines()[0].split()
    assert code == 0 and head[:3] == ["equipo", "ULE", "estado"], out
    assert not {"device_id", "ule_ubigeo", "status", "label"} & set(head)
    row = next(ln for ln in out.splitlines() if info.device_id in ln)
    assert "activo" in row and "active" not in row
    code, out, err = centre(server, "devices", "revoke", info.device_id.upper(), "--reason", "x")
    assert code == 0, err
    assert f"Equipo {info.device_id} dado de baja." in out
    assert devices(server)[info.device_id]["status"] == "revoked"
    code, _, err = centre(server, "devices", "revoke", "DEV-0000000000000000")
    assert code == 1 and "dev-3f2a9c1d0e4b5a67" in err and "devices list" in err


def test_enrolling_again_revokes_the_replaced_device_at_the_centre(env, server, tmp_path):
    ws = make_ws(tmp_path / "lap")
    try:
        ws.login("admin", ADMIN_PW)
        first = ws.centre.enroll(server.url, server.admin.enroll_code(ULE), "Laptop A")
        second = ws.centre.enroll(server.url, server.admin.enroll_code(ULE), "Laptop A")
        queued = add_queued(ws, 1, seed=81)
        ws.sync()  # the new identity works
        assert ws.centre.status().pending == 0 and queued
    finally:
        ws.close()
    devs = devices(server)
    assert devs[second.device_id]["status"] == "active"
    assert devs[first.device_id]["status"] == "revoked"
    assert second.device_id in devs[first.device_id]["revoke_reason"]


def test_a_replacement_without_the_old_key_enrolls_nothing(env, server, tmp_path):
    """Atomic: a forged `replaces` proof refuses the whole enrollment — the code stays
    unused, no new device appears, the old device stays active."""
    ws = make_ws(tmp_path / "lap")
    try:
        ws.login("admin", ADMIN_PW)
        old = ws.centre.enroll(server.url, server.admin.enroll_code(ULE))
    finally:
        ws.close()
    before = set(devices(server))
    code = server.admin.enroll_code(ULE)
    forged = p.enrollment_request(code, p.new_signing_key(), "intruso", "0",
                                  replaces=(old.device_id, p.new_signing_key()))
    r = httpx.post(f"{server.url}/v1/enroll", json=forged, timeout=20)
    assert r.status_code == 401 and r.json()["code"] == "bad_signature", r.text
    assert set(devices(server)) == before
    assert devices(server)[old.device_id]["status"] == "active"
    honest = p.enrollment_request(code, p.new_signing_key(), "otra", "0")
    assert httpx.post(f"{server.url}/v1/enroll", json=honest, timeout=20).status_code == 200


# -- 5. backup --to ----------------------------------------------------------------------
def test_backup_to_a_missing_folder_is_refused_and_the_extension_added(env, tmp_path):
    d = tmp_path / "datos"
    make_ws(d).close()
    usb = tmp_path / "usb"
    code, _, err = campo("backup", "--to", str(usb / "respaldos" / "hoy.sieebak"), "--data", str(d))
    assert code == 1 and "no existe" in err and "memoria USB" in err
    assert not usb.exists()  # nothing created
    usb.mkdir()
    code, out, _ = campo("backup", "--to", str(usb / "hoy"), "--data", str(d))
    assert code == 0 and f"{usb / 'hoy.sieebak'}" in out
    assert (usb / "hoy.sieebak").is_file() and not (usb / "hoy").exists()
    code, _, err = campo("backup", "--to", str(usb / "hoy"), "--data", str(d))
    assert code == 1 and "Ya existe" in err  # the same name, extension added, never replaced


# -- 7. sync log -------------------------------------------------------------------------
def test_sync_log_shows_every_run_newest_first(env, server, tmp_path):
    d = tmp_path / "lap"
    ws = make_ws(d)
    try:
        ws.login("admin", ADMIN_PW)
        ws.centre.enroll(server.url, server.admin.enroll_code(ULE))
        add_queued(ws, 1, seed=71)
        ws.sync()  # sends one record
    finally:
        ws.close()
    for _ in range(3):  # three runs with nothing to send: each one is a line
        code, _, err = campo("sync", "now", "--data", str(d))
        assert code == 0, err
    code, out, _ = campo("sync", "log", "--data", str(d))
    lines = out.splitlines()
    nothing = [i for i, ln in enumerate(lines) if "no había registros por enviar" in ln]
    sent = [i for i, ln in enumerate(lines) if "Se envi" in ln or "enviad" in ln]
    assert code == 0 and len(nothing) == 3, out
    assert sent and max(nothing) < min(sent), out  # newest first
    code, out, _ = campo("sync", "log", "--limit", "2", "--data", str(d))
    assert len(out.splitlines()) == 2 and all("no había" in ln for ln in out.splitlines())


# -- 10. refusals that say what to do next ---------------------------------------------------
def _subprocess(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SIEE_")}
    e.update(env_extra)
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=e,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)


def test_no_terminal_says_why_and_how_to_pass_the_password(tmp_path):
    d = tmp_path / "datos"
    make_ws(d).close()
    p_ = _subprocess(["users", "list", "--data", str(d)], {"SIEE_USER": "admin"})
    assert p_.returncode == 1 and "Traceback" not in p_.stderr
    assert "No hay una consola" in p_.stderr and "SIEE_PASSWORD" in p_.stderr
    assert p_.stderr.strip() != "Cancelado."
    p_ = _subprocess(["users", "list", "--data", str(d)], {})
    assert p_.returncode == 1 and "SIEE_USER" in p_.stderr


def test_init_on_existing_data_and_sync_now_unenrolled_say_what_next(env, tmp_path):
    d = tmp_path / "datos"
    make_ws(d).close()
    code, _, err = campo("init", "--admin", "otro", "--data", str(d))
    assert code == 1 and "no se cambió nada" in err and "--data" in err
    code, _, err = campo("sync", "now", "--data", str(d))
    # the next step names the folder: without it, it would enroll the default data folder
    assert code == 1 and f"siee-campo sync enroll --data {d.resolve()} --code CÓDIGO" in err
    code, out, _ = campo("sync", "status", "--data", str(d))
    assert code == 0 and f"«siee-campo sync enroll --data {d.resolve()} --code CÓDIGO»" in out


# -- 11, 12. doctor ------------------------------------------------------------------------
def test_doctor_on_a_missing_folder_creates_nothing(env, tmp_path):
    missing = tmp_path / "no-existe"
    code, out, _ = campo("doctor", "--data", str(missing))
    assert code == 0 and not missing.exists()
    assert f"la carpeta {missing} no existe" in out
    code, out, _ = campo("doctor", "--json", "--data", str(missing))
    assert json.loads(out)["paths"]["data_exists"] is False and not missing.exists()
    code, _, err = campo("users", "list", "--data", str(missing))  # nor any other order
    assert code == 1 and "No hay datos" in err and not missing.exists()


def test_doctor_reads_well(env, tmp_path):
    d = tmp_path / "datos"
    make_ws(d).close()
    conf = tmp_path / "xdg" / "siee-campo" / "siee-campo.toml"
    conf.parent.mkdir(parents=True)
    conf.write_text('ule_ubigeo = "999999"\n', "utf-8")
    env.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    code, out, _ = campo("doctor", "--data", str(d))
    assert code == 0
    assert ".;" not in out and ". ;" not in out
    assert "el ubigeo 999999 no existe en el catálogo del INEI; se ignoró." in out
    assert "lotes por estado: aún no hay lotes" in out
    assert "usuarios activos por rol: Administrador: 1" in out
    assert "ninguna advertencia ni error" in out
    for line in out.splitlines():  # «ninguno» only after masculine nouns
        if line.rstrip().endswith("ninguno"):
            assert line.split(":")[0].strip() in ("últimos errores de sincronización",
                                                  "usuarios activos por rol"), line


# -- 6. logs folder ----------------------------------------------------------------------
def test_logs_folder_is_owner_only_even_when_the_wizard_is_left(tmp_path):
    new = tmp_path / "nueva"
    p_ = _subprocess(["--data", str(new)], {"SIEE_STARTUP_PROBE": "1",
                                            "QT_QPA_PLATFORM": "offscreen"})
    assert "window=FirstRunWizard" in p_.stdout, p_.stderr  # shown, then left unfinished
    assert stat.S_IMODE((new / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    assert stat.S_IMODE((new / "logs" / "siee-campo.log").stat().st_mode) == 0o600
    old = tmp_path / "vieja"
    (old / "logs").mkdir(parents=True)
    os.chmod(old / "logs", 0o755)  # left by an older program
    p_ = _subprocess(["doctor", "--data", str(old)], {})
    assert stat.S_IMODE((old / "logs").stat().st_mode) == 0o700
