"""`app run --local-server`: a local reference server for the window (app/devserver.py)."""

from __future__ import annotations

import argparse
import os

import requests

from app.cli import build_parser
from app.devserver import ENV_DATA, ENV_KEY, ENV_SERVER, LocalServer, run_with_local_server


def test_run_local_server_wraps_the_window(tmp_path):
    args = build_parser().parse_args(
        ["run", "--local-server", "--server-data", str(tmp_path / "srv"), "--data",
         str(tmp_path / "campo")])
    assert args.local_server and args.server_data == str(tmp_path / "srv")
    seen: dict[str, str] = {}

    def fake_gui(a: argparse.Namespace) -> int:
        seen.update({k: os.environ[k] for k in (ENV_SERVER, ENV_KEY, ENV_DATA)})
        r = requests.get(os.environ[ENV_SERVER] + "/v1/health", timeout=5)
        assert r.json()["status"] == "ok"
        return 0

    assert run_with_local_server(args, fake_gui) == 0
    assert seen[ENV_SERVER].startswith("http://127.0.0.1:") and seen[ENV_KEY]
    assert ENV_SERVER not in os.environ
    try:
        requests.get(seen[ENV_SERVER] + "/v1/health", timeout=2)
        raise AssertionError("the local server is still running")
    except requests.ConnectionError:
        pass
    # Without the flag, `run` is the plain window command.
    plain = build_parser().parse_args(["run"])
    assert plain.local_server is False


def test_simulated_centre_posts_results(tmp_path):
    from tests.server.siee_client import Device

    with LocalServer(tmp_path / "srv", centre_every_s=None) as srv:
        from app.devserver import enroll_code

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
        assert srv.post_results() == 0  # once per record
        kinds = [m.kind for m in dev.inbox()]
        assert "cse_result" in kinds
