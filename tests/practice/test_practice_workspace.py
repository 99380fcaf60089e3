"""Practice mode's guarantee (issue 18 item 1): a practice workspace never enrolls and
never reaches a server, checked against a live reference server on loopback; its
simulated centre runs the whole loop through the real receipt and inbox code."""

from __future__ import annotations

import pytest
import requests

from app.core.errors import NotAllowed, SieeError
from app.core.states import State
from app.sync.client import SyncClient
from server.testing import running_server
from tests.practice.conftest import ULE, as_user
from tests.sync.conftest import add_queued


@pytest.fixture(scope="module")
def live():
    with running_server(log_level="info", rate_per_minute=0) as srv:
        yield srv


def _requests_seen(srv) -> float:
    """Requests the server answered (its Prometheus counter), except /metrics itself."""
    text = requests.get(srv.url + "/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("siee_http_requests_total{") and 'route="/metrics"' not in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_practice_workspace_cannot_enroll_or_reach_a_live_server(practice_ws, live):
    ws = practice_ws
    assert ws.practice.enabled
    # the access log does record requests: one health check from the test itself
    first = _requests_seen(live)
    requests.get(live.url + "/v1/health", timeout=10)
    before = _requests_seen(live)
    assert before == first + 1, "the counter must see requests for this test to mean anything"
    code = live.admin.enroll_code(ULE)
    with pytest.raises(NotAllowed) as e:
        ws.centre.enroll(live.url, code)
    assert "modo práctica" in e.value.user_message
    # below the façade: the ports refuse, and a client built over them opens no connection
    with pytest.raises(SieeError):
        ws.centre.ports.set_device(None, None)  # type: ignore[arg-type]
    with pytest.raises(SieeError) as e2:
        SyncClient(ws.centre.ports).enroll(live.url, code)
    assert "modo práctica" in e2.value.user_message  # refused before any connection
    with pytest.raises(SieeError):
        SyncClient(ws.centre.ports).sync()
    assert SyncClient(ws.centre.ports).reachable() is False
    with pytest.raises(NotAllowed):
        ws.centre.client()
    with pytest.raises(NotAllowed):
        ws.centre.export_usb(ws.data_dir / "usb")
    # even with a server address in its settings, a sync goes to the simulated centre
    ws.settings.save(server_url=live.url)
    add_queued(ws, 3)
    report = ws.sync()
    assert report.outcome.sent == 3
    assert ws.centre.device() is None and ws.centre.ports.device() is None
    assert "simulado" in (ws.centre.status().server_url or "")
    assert _requests_seen(live) == before, "a practice workspace reached the server"
    assert live.admin.list_records(limit=100) == []


def test_a_real_workspace_has_no_practice_operations(tmp_path):
    from app.workspace import Workspace
    from tests.conftest import ADMIN_PW, FAST_KDF

    ws, _ = Workspace.create(tmp_path / "real", "admin", ADMIN_PW, ule_ubigeo=ULE,
                             kdf=FAST_KDF)
    try:
        assert not ws.practice.enabled
        with pytest.raises(NotAllowed):
            ws.practice.seed_record("fsu", "1", {})
        with pytest.raises(NotAllowed):
            ws.practice.results()
    finally:
        ws.close()


def test_practice_mark_survives_reopening(practice_ws):
    from app.workspace import Workspace
    from tests.conftest import FAST_KDF

    folder = practice_ws.data_dir
    practice_ws.close()
    again = Workspace.open(folder, kdf=FAST_KDF)
    try:
        assert again.practice.enabled
        with pytest.raises(NotAllowed):
            again.centre.enroll("http://127.0.0.1:9", "x")
    finally:
        again.close()


def test_simulated_centre_returns_and_posts_results(practice_ws):
    ws = practice_ws

    def plant(i, answers):
        if i == 0:  # a 14-year-old... with university studies: a reviewer's rule
            answers = dict(answers)
            for k in [k for k in answers if k.startswith("/fsu/integrantes[1]/")]:
                if k.endswith("nivel_educativo"):
                    answers[k] = "4"
                if k.endswith("sabe_leer"):
                    answers[k] = "2"
        return answers

    uuids = add_queued(ws, 8, seed=5, mutate=plant)
    report = ws.sync()
    assert report.outcome.delivered == 8
    states = {u: ws.get(u).state for u in uuids}
    assert states[uuids[0]] == State.RETURNED
    notes = ws.notes(uuids[0])
    assert notes["returns"][-1]["questions"] == ["/fsu/integrantes[1]/sabe_leer"]
    assert "no sabe leer" in notes["returns"][-1]["reason"]
    assert State.RESULT in set(states.values())
    results = [ws.notes(u)["result"] for u, s in states.items() if s == State.RESULT]
    assert all(r["category"] in ("pobre extremo", "pobre", "no pobre") for r in results)
    log = " ".join(e.text for e in ws.centre.log())
    assert "Centro simulado" in log
    # a second sync has nothing left to send
    assert ws.sync().outcome.sent == 0
    # the whole loop: the returned record is fixed, completed, sent again, and gets a result
    from app.forms import FormSession, bundled_form

    ws.settings.save(review_required=False)  # the instructor wrote these: no self-approval
    s = FormSession(bundled_form("fsu"), ws.load_answers(uuids[0]))
    s.set("/fsu/integrantes[1]/sabe_leer", "1")
    ws.save_answers(uuids[0], s.to_json())
    assert ws.get(uuids[0]).revision == 2
    assert ws.complete(uuids[0])[0] == State.QUEUED
    assert ws.sync().outcome.delivered == 1
    assert ws.get(uuids[0]).state == State.RESULT


def test_trainee_sees_own_results_responsable_sees_all(practice_ws):
    ws = practice_ws
    ws.practice.add_result({"exercise": "fsu4", "accuracy": 90.0})
    as_user(ws, "alumna", "digitador")
    ws.practice.add_result({"exercise": "fsu1", "accuracy": 99.0})
    assert [r["exercise"] for r in ws.practice.results()] == ["fsu1"]
    ws.logout()
    from tests.conftest import ADMIN_PW
    ws.login("instructor", ADMIN_PW)
    assert {r["username"] for r in ws.practice.results()} == {"instructor", "alumna"}
