import pytest

from app.core.errors import AuthError, NotAllowed
from tests.store.hooks import PlainHooks


@pytest.fixture
def team(ws_factory):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.admin.add_user("beto", "digitador", "clave-beto-1", must_change=False)
    ws.admin.add_user("sup", "supervisor", "clave-sup-1", must_change=False)
    ws.logout()
    return ws


def _as(ws, user):
    ws.logout()
    ws.login(user, f"clave-{user}-1")


def test_enumerator_cannot_approve_or_manage(team):
    ws = team
    _as(ws, "ana")
    u = ws.new_record("fsu", "1", {"head": "A"})
    ws.complete(u)
    with pytest.raises(NotAllowed) as e:
        ws.review.approve(u)
    assert "no permite aprobar" in e.value.user_message
    with pytest.raises(NotAllowed):
        ws.review.return_record(u, "x")
    with pytest.raises(NotAllowed):
        ws.admin.add_user("x", "admin", "clave-larga-1", must_change=False)
    with pytest.raises(NotAllowed):
        ws.admin.audit_verify()
    with pytest.raises(NotAllowed):
        ws.settings.update(review_required=False)


def test_nobody_approves_their_own(team):
    ws = team
    _as(ws, "sup")
    u = ws.new_record("fsu", "1", {"head": "S"})
    ws.complete(u)
    with pytest.raises(NotAllowed) as e:
        ws.review.approve(u)
    assert "usted mismo" in e.value.user_message
    ws.logout()
    ws.login("admin", "clave-admin-123")
    ws.review.approve(u)
    assert ws.get(u).state == "QUEUED"


def test_visibility_and_editing_are_per_owner(team):
    ws = team
    _as(ws, "ana")
    u = ws.new_record("fsu", "1", {"head": "A", "dnis": ["40123456"]})
    _as(ws, "beto")
    assert ws.list_records() == []
    assert ws.find_by_dni("40123456") == []
    with pytest.raises(NotAllowed):
        ws.get(u)
    with pytest.raises(NotAllowed):
        ws.save_answers(u, {"head": "B"})
    _as(ws, "sup")
    assert [m.uuid for m in ws.list_records()] == [u]
    with pytest.raises(NotAllowed):
        ws.save_answers(u, {"head": "S"})  # supervisors review, they do not edit
    ws.review.reassign(u, "beto")
    _as(ws, "beto")
    ws.save_answers(u, {"head": "B"})
    assert ws.counts_by_state()["DRAFT"] == 1


def test_disabled_user_cannot_log_in(team):
    ws = team
    ws.login("admin", "clave-admin-123")
    ws.admin.set_user_active("beto", False)
    with pytest.raises(NotAllowed):
        ws.admin.set_user_active("admin", False)
    ws.logout()
    with pytest.raises(AuthError) as e:
        ws.login("beto", "clave-beto-1")
    assert "desactivada" in e.value.user_message


def test_logged_out_workspace_refuses_everything(team):
    ws = team
    with pytest.raises(AuthError):
        ws.list_records()
    with pytest.raises(AuthError):
        ws.new_record("fsu", "1", {})


def test_review_not_required_queues_on_complete(team):
    ws = team
    ws.login("admin", "clave-admin-123")
    ws.settings.update(review_required=False)
    _as(ws, "ana")
    u = ws.new_record("fsu", "1", {"head": "A"})
    state, _ = ws.complete(u)
    assert state == "QUEUED"


def test_approve_many_reports_refusals(team):
    ws = team
    _as(ws, "ana")
    done = [ws.new_record("fsu", "1", {"head": str(i)}) for i in range(5)]
    for u in done[:4]:
        ws.complete(u)
    _as(ws, "sup")
    seen = []
    res = ws.review.approve_many(done, progress=lambda i, n: seen.append((i, n)))
    assert res.approved == done[:4]
    assert list(res.refused) == [done[4]] and "Borrador" in res.refused[done[4]]
    assert seen[-1] == (5, 5)
