"""IT's commands as real subprocesses: backup, restore, doctor, settings file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PW = "clave-admin-123"


def run(args: list[str], env_extra: dict | None = None, check: bool = True):
    env = {**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": PW}
    env.update(env_extra or {})
    p = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in p.stderr, p.stderr
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="module")
def ws_dir(tmp_path_factory) -> tuple[Path, str, Path]:
    base = tmp_path_factory.mktemp("it")
    conf = base / "xdg"  # the machine-wide config folder (XDG_CONFIG_DIRS on Linux)
    d = base / "datos"
    p = run(["init", "--data", str(d), "--admin", "admin", "--ule", "080108"])
    lines = p.stdout.splitlines()
    code = lines[[i for i, ln in enumerate(lines) if "RECUPERACIÓN" in ln][0] + 1].strip()
    run(["demo-data", "--data", str(d), "--households", "3", "--seed", "5"])
    return d, code, conf


def listing(d: Path) -> list[dict]:
    out = json.loads(run(["records", "list", "--json", "--data", str(d)]).stdout)
    return sorted(out, key=lambda r: r["uuid"])


def test_backup_restore_same_records_and_tamper_refused(ws_dir, tmp_path: Path) -> None:
    d, code, _ = ws_dir
    bak = tmp_path / "respaldo.sieebak"
    p = run(["backup", "--to", str(bak), "--data", str(d)])
    assert "Copia de respaldo creada" in p.stdout and "6 fichas" in p.stdout

    new = tmp_path / "laptop-nueva"
    p = run(["restore", str(bak), "--data", str(new), "--recovery-code", code])
    assert "Restauradas 6 fichas" in p.stdout and "inscribirse" not in p.stdout  # never enrolled
    assert listing(new) == listing(d)  # decrypted summaries, states, revisions

    from app.workspace import Workspace

    a, b = Workspace.open(d), Workspace.open(new)
    try:
        a.login("admin", PW)
        b.login("admin", PW)
        for m in a.list_records():
            assert b.load_answers(m.uuid) == a.load_answers(m.uuid)
    finally:
        a.close()
        b.close()

    # the admin password opens it too (user and password from the environment)
    p = run(["restore", str(bak), "--data", str(tmp_path / "otra")])
    assert "Restauradas 6 fichas" in p.stdout

    blob = bytearray(bak.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    bad = tmp_path / "alterada.sieebak"
    bad.write_bytes(bytes(blob))
    p = run(
        ["restore", str(bad), "--data", str(tmp_path / "x"), "--recovery-code", code], check=False
    )
    assert p.returncode == 1
    assert "dañada o fue modificada" in p.stderr and "No se restauró nada" in p.stderr
    assert not (tmp_path / "x").exists()

    bad.write_bytes(bak.read_bytes()[:-100])
    p = run(
        ["restore", str(bad), "--data", str(tmp_path / "x"), "--recovery-code", code], check=False
    )
    assert p.returncode == 1 and "incompleta" in p.stderr and not (tmp_path / "x").exists()

    p = run(["restore", str(bak), "--data", str(d), "--recovery-code", code], check=False)
    assert p.returncode == 1 and "no está vacía" in p.stderr

    p = run(
        ["restore", str(bak), "--data", str(tmp_path / "y"), "--recovery-code", "AAAAA-AAAAA"],
        check=False,
    )
    assert p.returncode == 1 and "no abren esta copia" in p.stderr


def test_doctor_reports_without_personal_data(ws_dir) -> None:
    d, _, _ = ws_dir
    p = run(["doctor", "--data", str(d)])
    out = p.stdout
    assert "integridad (integrity_check): ok" in out
    assert "  Borrador: 6\n" in out and "  Completa: 0\n" in out
    assert "versión del esquema" in out and "WAL" in out
    # IT's day (issue 17): the program's own schema version, never «?»
    from app.store.db import MIGRATIONS

    n = len(MIGRATIONS)
    assert f"versión del esquema: {n} (este programa: {n})\n" in out
    rep = json.loads(run(["doctor", "--json", "--data", str(d)]).stdout)
    assert rep["database"]["integrity_check"] == "ok"
    assert sum(rep["database"]["records"].values()) == 6
    assert rep["database"]["users"] == {"admin": 1}
    # nothing from inside the records: no names or DNIs
    recs = listing(d)
    for r in recs:
        for v in r["summary"].values():
            if isinstance(v, str) and len(v) > 3:
                assert v not in out and v not in json.dumps(rep, ensure_ascii=False), v


def test_data_folder_before_the_command_counts(ws_dir) -> None:
    d, _, _ = ws_dir
    rep = json.loads(run(["--data", str(d), "doctor", "--json"]).stdout)
    assert rep["paths"]["data"] == str(d) and rep["database"]["exists"]


def test_doctor_on_missing_and_broken_data(tmp_path: Path) -> None:
    p = run(["doctor", "--data", str(tmp_path / "nada")])
    assert "no hay datos" in p.stdout
    broken = tmp_path / "rota"
    broken.mkdir()
    (broken / "siee-campo.db").write_bytes(b"esto no es una base de datos" * 200)
    p = run(["doctor", "--data", str(broken)], check=False)
    assert p.returncode == 1 and "¡error al leer!" in p.stdout
    assert "no es una base de datos de SIEE Campo" in p.stdout
    assert "LA BASE DE DATOS ESTÁ DAÑADA" in p.stdout and "siee-campo restore" in p.stdout


def test_doctor_on_a_malformed_database_says_what_to_do(ws_dir, tmp_path: Path) -> None:
    """Issue 17 item 9: «database disk image is malformed» read in Spanish, with the
    next step (the same steps as docs/guia-it.md section 12)."""
    import shutil

    d, _, _ = ws_dir
    copy = tmp_path / "copia"
    shutil.copytree(d, copy)
    db = copy / "siee-campo.db"
    for suffix in ("-wal", "-shm"):
        (copy / ("siee-campo.db" + suffix)).unlink(missing_ok=True)
    blob = bytearray(db.read_bytes())
    page = 4096
    for i in range(page * 2, len(blob) - page, page):  # every page but the first: garbage
        blob[i:i + 64] = b"\xff" * 64
    db.write_bytes(bytes(blob))
    p = run(["doctor", "--data", str(copy)], check=False)
    assert p.returncode == 1
    assert "LA BASE DE DATOS ESTÁ DAÑADA" in p.stdout, p.stdout
    assert "siee-campo restore ARCHIVO.sieebak --data CARPETA-NUEVA" in p.stdout
    from app.store.db import MIGRATIONS

    schema = [ln for ln in p.stdout.splitlines() if "versión del esquema" in ln]
    assert schema and f"(este programa: {len(MIGRATIONS)})" in schema[0], p.stdout
    assert "?" not in schema[0]
    guide = (ROOT / "docs" / "guia-it.md").read_text("utf-8")
    assert "LA BASE DE DATOS ESTÁ DAÑADA" in guide  # the guide names the same steps


def test_machine_settings_file_reaches_the_workspace(ws_dir) -> None:
    d, _, conf = ws_dir
    f = conf / "siee-campo" / "siee-campo.toml"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(
        'server_url = "https://siee.midis.gob.pe"\nautolock_minutes = 4\n'
        'locked = ["server_url"]\nbasura = 1\n',
        "utf-8",
    )
    env = {"XDG_CONFIG_DIRS": str(conf)}
    run(["users", "list", "--data", str(d)], env_extra=env)  # any command applies the file
    rep = json.loads(run(["doctor", "--json", "--data", str(d)], env_extra=env).stdout)
    st = rep["settings"]
    assert st["effective"]["server_url"] == "https://siee.midis.gob.pe"
    assert st["effective"]["autolock_minutes"] == 4
    assert st["sources"]["server_url"].startswith("fijada por TI")
    assert st["sources"]["autolock_minutes"] == "archivo del equipo"
    assert st["effective"]["ule_ubigeo"] == "080108"  # set at init: kept
    assert any("basura" in e for e in st["errors"])
    assert {"kind": "equipo", "path": str(f), "exists": True} in rep["paths"]["settings_files"]


def test_start_probe_from_source(ws_dir, tmp_path: Path) -> None:
    d, _, _ = ws_dir
    env = {"SIEE_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"}
    p = run(["--data", str(d)], env_extra=env)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("SIEE_STARTUP_READY")]
    assert line and "window=AppWindow" in line[0] and "iniciar sesión" in line[0]
    p = run(["--data", str(tmp_path / "nueva")], env_extra=env)
    assert "window=FirstRunWizard" in p.stdout


def test_doctor_says_when_the_data_are_of_a_newer_program(ws_dir, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    from app.store.db import MIGRATIONS

    d, _, _ = ws_dir
    copy = tmp_path / "nueva-version"
    shutil.copytree(d, copy)
    n = len(MIGRATIONS)
    conn = sqlite3.connect(copy / "siee-campo.db")
    conn.execute(f"PRAGMA user_version={n + 1}")
    conn.close()
    p = run(["doctor", "--data", str(copy)])
    assert f"versión del esquema: {n + 1} (este programa: {n}) — los datos son de una " \
           "versión más nueva del programa" in p.stdout, p.stdout
    assert json.loads(run(["doctor", "--json", "--data", str(copy)]).stdout)[
        "program"]["schema_version"] == n
