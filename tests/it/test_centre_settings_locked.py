"""IT's day (issue 17): a setting the centre pushes (`siee-server settings set`) that IT
locked on the laptop (siee-campo.toml, `locked`) was ignored silently on both sides.
The laptop keeps IT's value and says so in the sync's result, its sync log and
`doctor`; the centre's `settings set` says what a locked laptop does. The real
reference server on loopback, the laptop's commands as subprocesses, the server's
through its own main()."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from app.workspace import Workspace
from server.cli import main as server_main
from server.testing import running_server
from tests.conftest import ADMIN_PW, FAST_KDF, ROOT
from tests.sync.conftest import ULE


def campo(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    p = subprocess.run(  # program: python (siee-campo from source)
        [sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=180, env={**os.environ, "SIEE_USER": "admin", "SIEE_PASSWORD": ADMIN_PW, **env})
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def siee_server(server, *args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert server_main([*args, "--data", str(server.data_dir)]) == 0
    return out.getvalue()


def test_a_locked_setting_the_centre_pushes_is_kept_and_said(tmp_path: Path):
    d = tmp_path / "campo"
    ws, _ = Workspace.create(d, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)
    ws.close()
    conf = tmp_path / "xdg" / "siee-campo" / "siee-campo.toml"
    conf.parent.mkdir(parents=True)
    with running_server(log_level="warning", rate_per_minute=0) as server:
        conf.write_text(f'server_url = "{server.url}"\nreview_required = true\n'
                        'locked = ["server_url", "review_required"]\n', "utf-8")
        env = {"XDG_CONFIG_DIRS": str(tmp_path / "xdg")}
        code = server.admin.enroll_code(ULE)
        campo(["sync", "enroll", "--data", str(d), "--code", code], env)

        said = siee_server(server, "settings", "set", "review_required=false",
                           "autolock_minutes=5", "--ule", ULE)
        assert "Configuración enviada a 1 equipos." in said
        assert "Una laptop donde TI fijó alguna de estas opciones" in said
        assert "no la cambia" in said and "siee-campo doctor" in said

        now = " ".join(campo(["sync", "now", "--data", str(d)], env).stdout.split())
        assert "La sede central actualizó la configuración." in now  # autolock: applied
        assert ("La sede central envió otro valor para opciones que TI fijó en este equipo, "
                "y no se aplicó: Revisión del supervisor antes del envío: «no» (sigue «sí»)"
                in now), now
        assert "pida a TI que cambie el archivo" in now
        log = campo(["sync", "log", "--data", str(d)], env).stdout
        assert "no se aplicó: Revisión del supervisor antes del envío" in log

        rep = json.loads(campo(["doctor", "--json", "--data", str(d)], env).stdout)
        st = rep["settings"]
        assert st["effective"]["review_required"] is True  # IT's value
        assert st["effective"]["autolock_minutes"] == 5  # the centre's, not locked
        assert st["centre_not_applied"] == {"review_required": False}
        text = campo(["doctor", "--data", str(d)], env).stdout
        assert ("  aviso: La sede central envió otro valor para opciones que TI fijó en este "
                "equipo, y no se aplicó: Revisión del supervisor antes del envío: «no» "
                "(sigue «sí»)") in text
        # the log line that support reads is English, ids only
        assert "centre's change of locked settings not applied: review_required" in (
            d / "logs" / "siee-campo.log").read_text("utf-8")

        # once IT unlocks it, the centre's next value applies and doctor has nothing to say
        conf.write_text(f'server_url = "{server.url}"\nlocked = ["server_url"]\n', "utf-8")
        siee_server(server, "settings", "set", "review_required=false", "--ule", ULE)
        now = campo(["sync", "now", "--data", str(d)], env).stdout
        assert "no se aplicó" not in now and "actualizó la configuración" in now
        rep = json.loads(campo(["doctor", "--json", "--data", str(d)], env).stdout)
        assert rep["settings"]["effective"]["review_required"] is False
        assert rep["settings"]["centre_not_applied"] == {}
        assert "Traceback" not in server.log_text()
