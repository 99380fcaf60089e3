"""`make run`'s local reference server (devtools/devserver.py) and its launcher
(devtools/run.py): a fixed address across restarts, a clear message when another
program holds it, the program started pointed at it, the simulated centre."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import requests

from devtools import run as launcher
from devtools.devserver import LocalServer, PortBusy, enroll_code, port_is_free


def free_port() -> int:
    """A port nothing listens on now (the fixed-port tests must not clash with
    other test runs on the same computer)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_same_address_and_keys_after_a_restart(tmp_path):
    port = free_port()
    with LocalServer(tmp_path / "srv", centre_every_s=None, port=port) as first:
        url, key = first.url, first.signing_key
        assert url == f"http://127.0.0.1:{port}"
        assert requests.get(url + "/v1/health", timeout=5).json()["status"] == "ok"
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/v1/health", timeout=2)
    with LocalServer(tmp_path / "srv", centre_every_s=None, port=port) as again:
        assert (again.url, again.signing_key) == (url, key)
        assert requests.get(url + "/v1/health", timeout=5).json()["status"] == "ok"


def test_a_held_port_is_named_in_spanish(tmp_path, capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert not port_is_free(port)
        with pytest.raises(PortBusy) as e:
            LocalServer(tmp_path / "srv", port=port).start()
        assert f"http://127.0.0.1:{port}" in e.value.user_message
        assert "otro programa ya usa" in e.value.user_message
        code = launcher.main(["--data", str(tmp_path / "campo"), "--server-data",
                              str(tmp_path / "srv"), "--port", str(port)])
    assert code == 1
    err = capsys.readouterr().err
    assert "otro programa ya usa la dirección" in err and "Traceback" not in err
    assert port_is_free(port)


# Stands in for the program: checks what the launcher handed it, then exits 7.
FAKE_PROGRAM = r"""
import json, os, sys, urllib.request
url = sys.argv[sys.argv.index("--server") + 1]
with urllib.request.urlopen(url + "/v1/health", timeout=5) as r:
    health = json.load(r)["status"]
print(json.dumps({"argv": sys.argv[1:], "code": os.environ.get("SIEE_ENROLL_CODE"),
                  "health": health}), flush=True)
sys.exit(7)
"""


def test_launcher_starts_the_program_against_the_server_and_stops_it(
        tmp_path, monkeypatch, capfd):
    port = free_port()
    real = launcher.program_command

    def fake(args, url):
        cmd = real(args, url)
        assert cmd[:4] == [sys.executable, "-m", "app", "run"]
        return [sys.executable, "-c", FAKE_PROGRAM, *cmd[4:]]

    monkeypatch.setattr(launcher, "program_command", fake)
    rc = launcher.main(["--data", str(tmp_path / "campo"), "--server-data",
                        str(tmp_path / "srv"), "--port", str(port), "--ule", "080101"])
    assert rc == 7  # the program's own exit status
    out, err = capfd.readouterr()
    seen = json.loads(out.strip().splitlines()[-1])
    url = f"http://127.0.0.1:{port}"
    assert seen["health"] == "ok"
    argv = seen["argv"]
    assert argv[argv.index("--server") + 1] == url
    assert argv[argv.index("--data") + 1] == str(tmp_path / "campo")
    assert argv[argv.index("--ule") + 1] == "080101"
    code = seen["code"]
    assert code and code not in argv  # the one-time code travels in the environment
    assert f"Servidor SIEE local en {url}" in err and code in err
    assert port_is_free(port)  # the server stopped with the program


def test_simulated_centre_posts_results(tmp_path):
    from tests.server.siee_client import Device

    with LocalServer(tmp_path / "srv", centre_every_s=None, port=0) as srv:
        dev = Device.enroll(srv.url, enroll_code(srv.data_dir, "150101"))
        assert srv.post_results() == 0
        from app.demo import households
        from app.demo_answers import fsu_answers
        from tests.sync.conftest import fsu_version

        good = dev.record(form_id="fsu", form_version=fsu_version(),
                          answers=fsu_answers(households(1, 3)[0]))
        assert dev.send([good]).results[0].status == "accepted"
        assert srv.post_results(older_than_s=3600) == 0
        assert srv.post_results() == 1
        assert srv.post_results() == 0  # once per case
        kinds = [m.kind for m in dev.inbox()]
        assert "cse_result" in kinds


def test_simulated_centre_posts_one_result_per_case(tmp_path):
    """A request with its FSU gets ONE result (on the FSU), not one per record; a
    request routed with visit waits for its FSU; a request without visit gets it on the
    S100 (walk-through: «Pobre extremo» on the FSU and «No pobre» on the S100)."""
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers
    from app.forms import bundled_form
    from tests.server.siee_client import Device
    from tests.sync.conftest import fsu_version

    s100_v = str(bundled_form("s100").version)
    with LocalServer(tmp_path / "srv", centre_every_s=None, port=0) as srv:
        dev = Device.enroll(srv.url, enroll_code(srv.data_dir, "150101"))
        hh_a, hh_b = households(2, 5)[:2]
        req_a = dev.record(form_id="s100", form_version=s100_v, answers=s100_answers(hh_a))
        no_visit = dict(s100_answers(hh_b), **{"/s100/solicitud/tipo_solicitud": "2.7"})
        req_b = dev.record(form_id="s100", form_version=s100_v, answers=no_visit)
        got = dev.send([req_a, req_b]).results
        assert [r.status for r in got] == ["accepted", "accepted"], got
        assert srv.post_results() == 1  # B only: A still waits for its visit and FSU
        fsu = dev.record(form_id="fsu", form_version=fsu_version(), case_uuid=req_a.uuid,
                         answers=fsu_answers(hh_a))
        assert dev.send([fsu]).results[0].status == "accepted"
        assert srv.post_results() == 1
        assert srv.post_results() == 0
        results = [m.payload for m in dev.inbox() if m.kind == "cse_result"]
        assert sorted(r["uuid"] for r in results) == sorted([fsu.uuid, req_b.uuid])


def test_make_run_uses_the_launcher():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run_recipe = makefile.split("\nrun: sysdeps")[1].split("\n\n")[0]
    assert "-m devtools.run" in run_recipe
