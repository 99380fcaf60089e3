"""IT's day (issue 17): what `restore` and `sync status` tell IT after restoring the
backup of an enrolled laptop, through the real command (a subprocess, the laptop's
own default data folder in XDG_DATA_HOME).

- A test restore into another folder (`restore … --data prueba-restauracion`, the
  guide's section 8) once said «use siee-campo sync enroll --code CÓDIGO» without
  --data: a technician following it re-enrolled the REAL laptop and revoked its id.
  Into another folder, every command named carries `--data <that folder>`, and a
  test restore is told not to enroll at all.
- Before the restored laptop is enrolled, `sync status` showed the old laptop's
  «Última sincronización correcta» as if it were this one's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.store import meta
from app.store.db import transaction
from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF

LAST_SYNC = 1_790_000_000.0  # when the old laptop last synced (21/09/2026, Lima)


def campo(args: list[str], home: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIEE_")}
    env.update({"SIEE_USER": "admin", "SIEE_PASSWORD": ADMIN_PW, "XDG_DATA_HOME": str(home),
                "XDG_CONFIG_DIRS": str(home / "sin-configuracion"), "TZ": "America/Lima"})
    p = subprocess.run([sys.executable, "-m", "app", *args], cwd=home, env=env,
                       capture_output=True, text=True, timeout=180)
    assert "Traceback" not in p.stderr, p.stderr
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture
def enrolled_backup(tmp_path: Path) -> tuple[Path, str]:
    """A backup of a laptop that was enrolled and had synced (its enrollment and last
    sync as the sync client writes them)."""
    ws, code = Workspace.create(tmp_path / "vieja", "admin", ADMIN_PW, ule_ubigeo="150101",
                                kdf=FAST_KDF)
    try:
        ws.new_record("demo", "1", {"/demo/x": "dato"})
        with transaction(ws.db) as conn:
            meta.put_json(conn, "sync_device", {"device_id": "dev-0123456789abcdef",
                                                "server_url": "https://siee.ejemplo.gob.pe"})
            meta.put(conn, meta.SYNC_LAST_OK, repr(LAST_SYNC))
        usb = tmp_path / "usb"
        usb.mkdir()
        bak = ws.admin.backup_to(usb / "copia.sieebak")
    finally:
        ws.close()
    return bak.path, code


def test_a_test_restore_names_its_folder_and_says_not_to_enroll(enrolled_backup, tmp_path):
    bak, code = enrolled_backup
    home = tmp_path / "home"
    home.mkdir()
    p = campo(["restore", str(bak), "--data", "prueba-restauracion", "--recovery-code", code],
              home)
    out = " ".join(p.stdout.split())
    test_dir = home / "prueba-restauracion"
    assert "Restauradas 1 fichas y" in out and test_dir.is_dir()
    assert "Si solo probaba la copia, NO la inscriba" in out
    assert f"siee-campo sync enroll --data {test_dir} --code CÓDIGO" in out
    assert f"siee-campo records list --data {test_dir}" in out
    # every command it names is about that folder, never the laptop's own
    for cmd in ("sync enroll", "records list"):
        start = out.index(f"siee-campo {cmd}")
        assert f"--data {test_dir}" in out[start:out.index("»", start)], cmd
    # the commands it names work as written on the restored folder
    listed = campo(["records", "list", "--data", str(test_dir)], home)
    assert "1 ficha(s)" in listed.stderr
    # the laptop's own default data folder was not touched
    assert not (home / "siee-campo").exists()


def test_a_folder_with_spaces_is_quoted(enrolled_backup, tmp_path):
    bak, code = enrolled_backup
    home = tmp_path / "home"
    home.mkdir()
    p = campo(["restore", str(bak), "--data", "copia de prueba", "--recovery-code", code], home)
    assert f'--data "{home / "copia de prueba"}" --code CÓDIGO' in " ".join(p.stdout.split())


def test_restore_into_the_laptops_own_folder_then_status_before_enrolling(
        enrolled_backup, tmp_path):
    bak, code = enrolled_backup
    home = tmp_path / "home"
    home.mkdir()
    p = campo(["restore", str(bak), "--recovery-code", code], home)
    out = " ".join(p.stdout.split())
    assert (home / "siee-campo" / "siee-campo.db").is_file()  # the default data folder
    assert "Este equipo debe inscribirse de nuevo en el servidor" in out
    assert "«siee-campo sync enroll --code CÓDIGO»" in out and "--data" not in out
    assert "NO la inscriba" not in out

    st = campo(["sync", "status"], home).stdout
    assert "Equipo no inscrito en el servidor del SIEE" in st
    line = [ln for ln in st.splitlines() if ln.startswith("Última sincronización correcta")]
    assert line and "21/09/2026 09:13" in line[0], st
    assert "con la inscripción anterior, antes de restaurar la copia" in line[0]
    assert "con este equipo aún no se sincronizó" in line[0]
    js = json.loads(campo(["sync", "status", "--json"], home).stdout)
    assert js["last_ok_previous_enrollment"] is True and js["enrolled"] is False
