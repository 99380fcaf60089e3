"""What a centre's administrator meets running siee-server by hand (docs/deploy.md): the
database and data folder from the environment, an empty --db refused, keys created in
the wrong folder announced, a wrong or malformed data key and a wrong database refused
in Spanish before anything is written."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from app.sync import protocol as p
from server.cli import main
from server.keys import ENC_FILE, SIG_FILE
from server.sealing import KEY_ENV, KEY_FILE
from server.service import Service
from server.settings import Settings
from server.testing import REPO_ROOT
from tests.server.backends import BACKENDS, db_url_for


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("SIEE_DB", "SIEE_SERVER_DATA", KEY_ENV):
        monkeypatch.delenv(name, raising=False)


def run(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def enrolled_db(data: Path) -> str:
    """A SQLite database in `data` holding one enrolled device (its label sealed)."""
    svc = Service(Settings(data_dir=data))
    try:
        code = svc.create_enroll_code("150101")[0]
        svc.enroll(p.enrollment_request(code, p.new_signing_key(), "Laptop Quispe"))
        return svc.settings.db_url
    finally:
        svc.close()


def test_empty_db_option_is_refused_and_nothing_created(tmp_path, capsys):
    rc, _, err = run(capsys, "db", "upgrade", "--data", str(tmp_path / "d"), "--db", "")
    assert rc == 2
    assert "--db llegó vacía" in err and "SIEE_DB" in err
    assert not (tmp_path / "d").exists()
    rc, _, err = run(capsys, "keys", "--data", "", "--db", "sqlite:///" + str(tmp_path / "x.db"))
    assert rc == 2 and "--data llegó vacía" in err


def test_empty_db_variable_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SIEE_DB", " ")
    rc, _, err = run(capsys, "records", "list", "--data", str(tmp_path))
    assert rc == 2 and "SIEE_DB está definida pero vacía" in err
    assert not (tmp_path / "siee-server.db").exists()


def test_database_and_folder_from_the_environment(tmp_path, capsys, monkeypatch):
    data, elsewhere = tmp_path / "data", tmp_path / "db" / "centre.db"
    monkeypatch.setenv("SIEE_SERVER_DATA", str(data))
    monkeypatch.setenv("SIEE_DB", f"sqlite:///{elsewhere}")
    rc, out, err = run(capsys, "keys")
    assert rc == 0
    assert "RECIÉN CREADAS" in out and "claves NUEVAS" in err
    assert f"SQLite NUEVA en {elsewhere}" in err
    assert {SIG_FILE, ENC_FILE, KEY_FILE} <= {f.name for f in data.iterdir()}
    assert elsewhere.exists() and not (data / "siee-server.db").exists()
    rc, out, err = run(capsys, "keys")  # the same keys and database: no notice any more
    assert rc == 0 and "RECIÉN" not in out and "NUEVA" not in err
    assert "firma (Ed25519)" in out
    rc, out, _ = run(capsys, "db", "status")
    assert rc == 0 and "Esquema de la base de datos" in out
    # the first line names the database in use (the restore test of docs/deploy.md checks
    # it is not the production one)
    assert out.splitlines()[0] == f"Base de datos en uso: {elsewhere} (archivo SQLite)"


def test_db_status_names_the_database_without_its_password():
    from server.cli import database_in_use

    shown = database_in_use("postgresql+psycopg://siee:s3cret@10.1.2.3:5433/siee_prueba")
    assert shown == "siee_prueba (servidor 10.1.2.3:5433, usuario siee)"
    assert "s3cret" not in database_in_use("postgresql+psycopg://siee:s3cret@db/siee")


def test_without_db_nor_variable_a_new_sqlite_file_is_announced(tmp_path, capsys):
    rc, out, err = run(capsys, "devices", "list", "--data", str(tmp_path))
    assert rc == 0 and "(ninguno)" in out
    assert f"SQLite NUEVA en {tmp_path / 'siee-server.db'}" in err and "SIEE_DB" in err


def test_a_folder_without_the_data_key_is_refused_before_creating_keys(tmp_path, capsys):
    url = enrolled_db(tmp_path / "real")
    home = tmp_path / "home-of-siee"
    rc, _, err = run(capsys, "devices", "list", "--data", str(home), "--db", url)
    assert rc == 1
    assert "carpeta equivocada" in err and "Traceback" not in err
    assert not home.exists() or not any(home.iterdir())
    rc, out, _ = run(capsys, "devices", "list", "--data", str(tmp_path / "real"), "--db", url)
    assert rc == 0 and "150101" in out


def test_data_key_env_line_opens_the_database(tmp_path, capsys, monkeypatch):
    data = tmp_path / "d"
    url = enrolled_db(data)
    rc, out, err = run(capsys, "keys", "--data-key-env", "--data", str(data), "--db", url)
    assert rc == 0 and "server.env" in err
    name, value = out.strip().split("=", 1)
    assert name == KEY_ENV
    assert base64.urlsafe_b64decode(value + "=") == (data / KEY_FILE).read_bytes()
    # the key from the variable alone (file moved off the server) opens the database
    (data / KEY_FILE).rename(tmp_path / "off-server.key")
    monkeypatch.setenv(KEY_ENV, value)
    rc, out, _ = run(capsys, "devices", "list", "--json", "--data", str(data), "--db", url)
    assert rc == 0 and json.loads(out)[0]["label"] == "Laptop Quispe"
    assert not (data / KEY_FILE).exists()  # no new key file beside the variable


def test_wrong_or_malformed_data_key_refuses_to_start(tmp_path, capsys, monkeypatch):
    data = tmp_path / "d"
    url = enrolled_db(data)
    before = (data / "siee-server.db").read_bytes()
    other = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    monkeypatch.setenv(KEY_ENV, other)
    rc, _, err = run(capsys, "serve", "--data", str(data), "--db", url, "--port", "0",
                     "--log-level", "warning")
    assert rc == 1
    line = json.loads(next(ln for ln in err.splitlines() if '"code"' in ln))
    assert line["level"] == "ERROR" and line["code"] == "data_key_wrong"
    assert "no abre los datos cifrados" in line["mensaje"]
    rc, _, err = run(capsys, "records", "return", "6f1c2b1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
                     "--reason", "x", "--data", str(data), "--db", url)
    assert rc == 1 and "no abre los datos cifrados" in err
    rc, _, err = run(capsys, "db", "upgrade", "--data", str(data), "--db", url)
    assert rc == 1 and "no abre los datos cifrados" in err
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    rc, _, err = run(capsys, "devices", "list", "--data", str(data), "--db", url)
    assert rc == 1 and "no es una clave de datos válida" in err and "Traceback" not in err
    assert (data / "siee-server.db").read_bytes() == before


@pytest.mark.parametrize("url, expect", [
    ("postgresql+nosuchdriver://siee:x@127.0.0.1/siee", "no es válida"),
    ("not a url", "no es válida"),
    ("postgresql+psycopg://siee:secreto@127.0.0.1:1/siee", "no responde"),
])
def test_unusable_database_is_a_spanish_message(tmp_path, capsys, url, expect):
    for args in (["db", "status"], ["db", "upgrade"], ["devices", "list"]):
        rc, _, err = run(capsys, *args, "--data", str(tmp_path), "--db", url)
        assert rc == 1, args
        assert expect in err and "Traceback" not in err and "secreto" not in err


@pytest.mark.postgres
def test_wrong_database_password_is_a_spanish_message(tmp_path, capsys):
    from sqlalchemy.engine import make_url

    url = os.environ.get("SIEE_TEST_PG_URL")
    if not url:
        pytest.fail("SIEE_TEST_PG_URL is not set")
    bad = make_url(url).set(password="clave-equivocada").render_as_string(hide_password=False)
    rc, _, err = run(capsys, "serve", "--data", str(tmp_path), "--db", bad, "--port", "0",
                     "--log-level", "warning")
    assert rc == 1
    line = json.loads(next(ln for ln in err.splitlines() if '"code"' in ln))
    assert line["code"] == "db_unreachable" and "clave" in line["mensaje"]
    assert "clave-equivocada" not in err


def _descendants(pid: int) -> list[int]:
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        for k in kids:
            out += _descendants(int(k))
    return out


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc (Linux)")
def test_serve_takes_the_database_from_the_environment_not_the_command_line(tmp_path):
    data, db_file = tmp_path / "data", tmp_path / "pg-stand-in" / "centre.db"
    url = f"sqlite:///{db_file}"  # the test PostgreSQL database holds other tests' keys
    env = dict(os.environ, SIEE_DB=url, SIEE_SERVER_DATA=str(data),
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    port_file = tmp_path / "port"
    cmd = [sys.executable, "-m", "server", "serve", "--port", "0", "--port-file",
           str(port_file), "--workers", "2", "--log-level", "warning"]
    log = tmp_path / "log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), env=env, stdout=fh,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            if port_file.exists():
                try:
                    ready = requests.get(f"http://127.0.0.1:{port_file.read_text()}/v1/ready",
                                         timeout=2)
                    if ready.status_code == 200:
                        break
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        assert ready is not None and ready.json()["status"] == "ready", log.read_text()
        pids = _descendants(proc.pid)
        assert len(pids) >= 3  # the supervisor and its two workers
        for pid in pids:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            assert url not in cmdline and "--db" not in cmdline
        assert (data / SIG_FILE).exists()
        assert db_file.exists() and not (data / "siee-server.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_load_bench_refuses_a_database_with_server_tables(tmp_path):
    """bench/server_load.py drops every server table at each start: a database that
    already holds them (a centre's) is refused unless declared a scratch database."""

    url = enrolled_db(tmp_path / "centre")
    db_file = tmp_path / "centre" / "siee-server.db"
    before = db_file.read_bytes()
    env = dict(os.environ, SIEE_BENCH_PG_URL=url, SIEE_BENCH_QUICK="1")
    env.pop("SIEE_BENCH_SCRATCH_DB", None)
    done = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "server_load.py")],
                          cwd=str(REPO_ROOT), env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr
    assert "nunca la ejecute sobre la base de producción" in done.stderr
    assert "devices" in done.stderr and done.stdout == ""
    assert db_file.read_bytes() == before
    bench = _load_bench()
    assert bench.check_scratch_db(f"sqlite:///{tmp_path / 'empty.db'}", scratch=False) is None
    assert bench.check_scratch_db(url, scratch=False) is not None


def _load_bench():  # noqa: ANN202 - a module loaded from its file
    """bench/server_load.py as a module (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("server_load",
                                                  REPO_ROOT / "bench" / "server_load.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["server_load"] = bench  # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        sys.modules.pop("server_load", None)
    return bench


def test_load_bench_scratch_declaration_needs_a_scratch_name(tmp_path, monkeypatch):
    """--scratch-db skips the look for server tables: it is taken only for a database
    whose name says it is a scratch one, so a typo (siee for siee_bench) does not drop a
    centre's tables; the server's own database (SIEE_DB) is refused whatever is said."""
    monkeypatch.delenv("SIEE_TEST_PG_URL", raising=False)
    centre = enrolled_db(tmp_path / "centre")  # .../centre/siee-server.db, with tables
    db_file = tmp_path / "centre" / "siee-server.db"
    before = db_file.read_bytes()
    bench = _load_bench()
    refusal = bench.check_scratch_db(centre, scratch=True)
    assert refusal is not None and "«bench»" in refusal and "No se tocó nada" in refusal
    typo = "postgresql+psycopg://siee_bench:pw@127.0.0.1:5433/siee"
    assert bench.check_scratch_db(typo, scratch=True) is not None
    assert "pw@" not in bench.check_scratch_db(typo, scratch=True)  # password hidden
    scratch = enrolled_db(tmp_path / "b")
    scratch_file = tmp_path / "b" / "siee_bench.db"
    (tmp_path / "b" / "siee-server.db").rename(scratch_file)
    scratch = f"sqlite:///{scratch_file}"
    assert bench.check_scratch_db(scratch, scratch=True) is None
    assert bench.check_scratch_db(scratch, scratch=False) is not None  # it has tables
    # the server's own database: refused even with a scratch name and --scratch-db
    monkeypatch.setenv("SIEE_DB", scratch)
    refusal = bench.check_scratch_db(scratch, scratch=True)
    assert refusal is not None and "SIEE_DB" in refusal
    monkeypatch.setenv("SIEE_DB", "postgresql+psycopg://siee:secret@db.example:5432/siee_bench")
    assert bench.check_scratch_db(
        "postgresql+psycopg://siee_bench:other@db.example/siee_bench", scratch=True) is not None
    monkeypatch.delenv("SIEE_DB")
    # the whole command refuses the same way and touches nothing
    env = dict(os.environ, SIEE_BENCH_PG_URL=centre, SIEE_BENCH_QUICK="1")
    env.pop("SIEE_DB", None)
    done = subprocess.run([sys.executable, str(REPO_ROOT / "bench" / "server_load.py"),
                           "--scratch-db"], cwd=str(REPO_ROOT), env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "no parece de prueba" in done.stderr and done.stdout == ""
    assert db_file.read_bytes() == before


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("backend", BACKENDS)
def test_bench_and_test_servers_get_the_database_from_the_environment(tmp_path, backend):
    """bench/server_load.py (run by a centre's administrator, docs/deploy.md section 10)
    starts its servers with server.testing.running_server: the database URL and its
    password reach them through the environment, never the command line (ps)."""
    from server.testing import another_process

    url, _ = db_url_for(backend)
    url = url or f"sqlite:///{tmp_path / 'bench_scratch.db'}"
    password = make_url(url).password
    bench = _load_bench()
    with bench.start(url, 1) as srv:
        assert requests.get(srv.url + "/v1/ready", timeout=10).status_code == 200
        with another_process(srv) as second:
            assert requests.get(second + "/v1/health", timeout=10).status_code == 200
            # every process this test started (the bench's server and the second one)
            lines = [Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                     for pid in _descendants(os.getpid())]
    lines = [c for c in lines if "serve" in c.split("\0")]
    assert len(lines) >= 2
    for cmdline in lines:
        assert url not in cmdline and "--db" not in cmdline
        assert not password or password not in cmdline
