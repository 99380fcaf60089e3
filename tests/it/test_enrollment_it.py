"""Issue 17 items 2-4, 6-7: enrollment and settings as IT meets them, against the real
reference server on loopback — a locked setting stays locked on every path, `sync
enroll` takes the server from the settings file and sends what was queued, a code
made for another ULE is refused (and stays usable), an unreachable server is
reported truthfully, and `users enable` brings a disabled account back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.errors import NotAllowed, SieeError
from app.store.db import transaction
from app.sync.model import NetworkError
from app.workspace import Workspace
from app.workspace.settings import load_file_settings
from server.testing import free_port, running_server
from tests.conftest import ADMIN_PW, FAST_KDF, ROOT
from tests.sync.conftest import ULE, add_queued


@pytest.fixture(scope="module")
def server():
    with running_server(log_level="warning", rate_per_minute=0) as srv:
        yield srv
        assert "Traceback" not in srv.log_text()


def make_ws(path: Path, ule: str = ULE) -> Workspace:
    ws, _ = Workspace.create(path, "admin", ADMIN_PW, ule_ubigeo=ule, kdf=FAST_KDF)
    return ws


def cli(args: list[str], env_extra: dict | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": ADMIN_PW}
    env.update(env_extra or {})
    p = subprocess.run(  # program: python (siee-campo from source)
        [sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=180)
    assert "Traceback" not in p.stderr, p.stderr
    return p


def it_file(base: Path, text: str) -> dict[str, str]:
    """IT's machine-wide settings file under a private XDG_CONFIG_DIRS; its env."""
    f = base / "xdg" / "siee-campo" / "siee-campo.toml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text, "utf-8")
    return {"XDG_CONFIG_DIRS": str(base / "xdg")}


def test_a_code_of_another_ule_is_refused_and_stays_usable(server, tmp_path):
    ws = make_ws(tmp_path / "lima")  # ULE 150101
    code = server.admin.enroll_code("150102")
    try:
        with pytest.raises(SieeError) as e:
            ws.centre.enroll(server.url, code, "Laptop")
        msg = e.value.user_message
        assert "es de la ULE 150102" in msg and "este equipo es de la ULE 150101" in msg
        assert "no se inscribió" in msg and "Pida a la sede central un código" in msg
        assert ws.centre.device() is None
    finally:
        ws.close()
    other = make_ws(tmp_path / "otra", ule="150102")  # the laptop the code was made for
    try:
        assert other.centre.enroll(server.url, code).ule_ubigeo == "150102"
    finally:
        other.close()


def test_unreachable_server_at_enrollment_says_the_truth(tmp_path):
    ws = make_ws(tmp_path / "campo")
    try:
        ws.centre.configure(connect_timeout=2, read_timeout=2)
        with pytest.raises(NetworkError) as e:
            ws.centre.enroll(f"http://127.0.0.1:{free_port()}", "ABCD-EFGH-JKLM")
        msg = e.value.user_message
        assert "NO quedó inscrito" in msg and "no se volverá a intentar solo" in msg
        assert "reintentará" not in msg
        assert ws.centre.device() is None
    finally:
        ws.close()


def test_locked_settings_stay_locked_on_every_path(tmp_path):
    f = tmp_path / "siee-campo.toml"
    f.write_text('server_url = "https://siee.gob.pe"\nlocked = ["server_url", "ca_bundle"]\n',
                 "utf-8")
    fs = load_file_settings([("equipo", f)])
    assert fs.locked == {"server_url", "ca_bundle"}  # ca_bundle locked with no value too
    ws = make_ws(tmp_path / "campo")
    try:
        ws.settings.file = lambda: fs  # type: ignore[method-assign]
        ws.settings.apply_file(fs)
        pem = tmp_path / "ca.pem"
        pem.write_text("-----BEGIN CERTIFICATE-----\n", "utf-8")
        # the settings screen (save), the wizard's path (update), enrollment, new address
        for attempt in (lambda: ws.settings.save(ca_bundle=str(pem)),
                        lambda: ws.settings.update(server_url="https://otro.gob.pe"),
                        lambda: ws.centre.enroll("https://otro.gob.pe", "ABCD-EFGH-JKLM"),
                        lambda: ws.centre.update_server_url("https://otro.gob.pe")):
            with pytest.raises(NotAllowed) as e:
                attempt()
            assert "TI fijó" in e.value.user_message
        # the centre's settings message cannot change a locked setting either
        with transaction(ws.db) as conn:
            ws.settings.write(conn, {"ca_bundle": str(pem)}, by="server")
        assert ws.settings.values()["ca_bundle"] is None
        assert ws.settings.values()["server_url"] == "https://siee.gob.pe"
        view = {r["key"]: r for r in ws.settings.view()}
        assert view["ca_bundle"]["locked"] and view["ca_bundle"]["source"].startswith("fijada")
    finally:
        ws.close()


def test_console_enrollment_takes_the_locked_server_and_sends_the_queue(server, tmp_path):
    d = tmp_path / "campo"
    ws = make_ws(d)
    try:
        add_queued(ws, 3, seed=1701)
    finally:
        ws.close()
    env = it_file(tmp_path, f'server_url = "{server.url}"\nlocked = ["server_url"]\n')
    code = server.admin.enroll_code(ULE)
    # another server than the locked one: refused before any request, code unused
    p = cli(["sync", "enroll", "--data", str(d), "--server", "https://otro.gob.pe",
             "--code", code], env)
    assert p.returncode == 1 and "TI fijó" in p.stderr, p.stderr
    # no --server: the settings file's address; the queued records go out at once
    p = cli(["sync", "enroll", "--data", str(d), "--code", code, "--label", "Laptop 1"], env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Equipo inscrito: dev-" in p.stdout and server.url in p.stdout
    assert "Se enviaron 3 registros" in p.stdout and "En cola de envío: 0" in p.stdout
    assert "sync status" in p.stdout
    p = cli(["sync", "status", "--data", str(d)], env)
    assert "Fichas entregadas: 3" in p.stdout


def test_console_sync_now_offline_says_what_to_run_next(server, tmp_path):
    d = tmp_path / "campo"
    ws = make_ws(d)
    try:
        ws.centre.enroll(server.url, server.admin.enroll_code(ULE))
        ws.centre.update_server_url(f"http://127.0.0.1:{free_port()}")  # nobody there now
        add_queued(ws, 1, seed=1702)
    finally:
        ws.close()
    p = cli(["sync", "now", "--data", str(d), "--timeout", "3"])
    assert p.returncode == 1
    assert "No se pudo conectar" in p.stderr and "«siee-campo sync now»" in p.stderr
    assert "reintentará" not in p.stderr


def test_users_enable_in_the_console(tmp_path):
    d = tmp_path / "campo"
    make_ws(d).close()
    env = {"SIEE_NEW_PASSWORD": "clave-ana-1234"}
    assert cli(["users", "add", "ana", "--role", "empadronador", "--data", str(d)],
               env).returncode == 0
    p = cli(["users", "disable", "ana", "--data", str(d)])
    assert "users enable ana" in p.stdout
    refused = cli(["users", "list", "--data", str(d)],
                  {"SIEE_USER": "ana", "SIEE_PASSWORD": "clave-ana-1234"})
    assert refused.returncode == 1
    p = cli(["users", "enable", "ana", "--data", str(d)])
    assert p.returncode == 0 and "reactivado" in p.stdout
    assert "ana\tEmpadronador\tactivo" in cli(["users", "list", "--data", str(d)]).stdout
    ws = Workspace.open(d, kdf=FAST_KDF)
    try:
        ws.login("ana", "clave-ana-1234")
        assert ws.user.username == "ana"
    finally:
        ws.close()
