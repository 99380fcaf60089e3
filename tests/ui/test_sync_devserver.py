"""The window enrolls itself against the local server of `app run --local-server`."""

from __future__ import annotations

import pytest

from app.devserver import LocalServer
from tests.sync.conftest import add_queued


@pytest.fixture
def local_server(tmp_path, monkeypatch):
    with LocalServer(tmp_path / "srv", centre_every_s=None) as srv:
        for k, v in srv.environment().items():
            monkeypatch.setenv(k, v)
        yield srv


def test_window_enrolls_and_sees_the_whole_loop(local_server, logged_in, qtbot):
    win = logged_in
    ws = win.ws
    ctl = win.sync_menu.ctl
    qtbot.waitUntil(lambda: ws.centre.device() is not None, timeout=15000)
    assert ws.centre.device().server_url == local_server.url
    qtbot.waitUntil(lambda: not ctl.running and ctl.status and ctl.status.enrolled,
                    timeout=15000)
    uuids = add_queued(ws, 6, seed=701)
    ctl.sync_now()
    qtbot.waitUntil(lambda: not ctl.running and ws.centre.status().delivered == 6,
                    timeout=20000)
    assert local_server.post_results() == 6
    ctl.sync_now()
    qtbot.waitUntil(lambda: not ctl.running and ws.centre.status().result == 6, timeout=20000)
    assert ws.notes(uuids[0])["result"]["category"] in ("pobre_extremo", "pobre", "no_pobre")
