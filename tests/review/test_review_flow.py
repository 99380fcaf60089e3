"""Supervisor review at the workspace level: the queue, the read-only view, the
return round trip, approval rules (never one's own record), reassignment and
role refusals."""

from __future__ import annotations

import pytest

from app.core.errors import NotAllowed, ValidationError
from app.core.states import State
from app.demo_answers import fsu_answers


def test_return_round_trip(team, homes):
    hh = homes[0]
    ws = team.as_("emp")
    uuid = team.fsu(hh, **{"/fsu/vivienda/horas_capital": "100"})  # a soft warning
    assert ws.get(uuid).state == State.COMPLETE.value

    ws = team.as_("sup")
    queue = ws.review.queue()
    item = next(i for i in queue if i.uuid == uuid)
    assert item.enumerator == "Juan Pérez (emp)"
    assert item.warnings == 1 and not item.own
    assert item.head_name.startswith(hh.head.apellido_paterno)
    detail = ws.review.detail(uuid)
    assert [w.path for w in detail.warnings] == ["/fsu/vivienda/horas_capital"]
    assert "72 horas" in detail.warnings[0].warning
    assert detail.can_approve and detail.can_return
    # every answer is shown with its Spanish label and choice label
    tenencia = next(ln for ln in detail.lines if ln.path == "/fsu/vivienda/tenencia")
    assert tenencia.label == "La vivienda que ocupa su hogar es"
    assert tenencia.text in {"Alquilada", "Propia, totalmente pagada", "Propia, por invasión"}
    assert any(ln.kind == "member" and hh.head.nombres in ln.label for ln in detail.lines)

    with pytest.raises(ValidationError):
        ws.review.return_record(uuid, "   ")
    ws.review.return_record(
        uuid, "Confirme las horas hasta la capital.", ["/fsu/vivienda/horas_capital"]
    )
    assert ws.get(uuid).state == State.RETURNED.value
    assert uuid not in {i.uuid for i in ws.review.queue()}

    # the enumerator sees the reason and the pinned question on the record
    ws = team.as_("emp")
    mine = ws.list_records(state=State.RETURNED)
    assert [m.uuid for m in mine] == [uuid]
    ret = ws.notes(uuid)["returns"][-1]
    assert ret["reason"] == "Confirme las horas hasta la capital."
    assert ret["questions"] == ["/fsu/vivienda/horas_capital"]
    assert ret["by"] == "sup" and ret["source"] == "supervisor" and ret["revision"] == 1
    # edits: a new revision, back to draft, then complete again
    fixed = {**fsu_answers(hh), "/fsu/vivienda/horas_capital": "6"}
    m = ws.save_answers(uuid, fixed)
    assert m.revision == 2 and ws.get(uuid).state == State.DRAFT.value
    state, warnings = ws.complete(uuid)
    assert state == State.COMPLETE and warnings == []

    ws = team.as_("sup")
    item = next(i for i in ws.review.queue() if i.uuid == uuid)
    assert item.revision == 2 and item.warnings == 0
    assert ws.review.detail(uuid).returns[-1]["reason"].startswith("Confirme")
    ws.review.approve(uuid)
    meta = ws.get(uuid)
    assert meta.state == State.QUEUED.value and meta.revision == 2
    actions = [e.action for e in ws.history(uuid)]
    assert actions[:5] == ["approve", "complete", "save", "reopen", "return"]


def test_author_never_approves_own_record(team, homes):
    ws = team.as_("sup")  # supervisors also register households
    own = team.fsu(homes[1])
    item = next(i for i in ws.review.queue() if i.uuid == own)
    assert item.own
    assert not ws.review.detail(own).can_approve
    with pytest.raises(NotAllowed) as e:
        ws.review.approve(own)
    assert "usted mismo" in e.value.user_message
    res = ws.review.approve_many([own])
    assert res.approved == [] and "usted mismo" in res.refused[own]
    # the admin holds every permission, but not over a record they hold
    ws = team.as_("admin")
    ws.review.reassign(own, "emp")
    ws = team.as_("sup")  # handing the record to someone else does not change who wrote it
    with pytest.raises(NotAllowed):
        ws.review.approve(own)
    assert next(i for i in ws.review.queue() if i.uuid == own).own
    ws = team.as_("sup2")
    ws.review.approve(own)
    assert ws.get(own).state == State.QUEUED.value


def test_reassigned_holder_cannot_approve(team, homes):
    ws = team.as_("emp")
    uuid = team.fsu(homes[2])
    ws = team.as_("sup")
    ws.review.reassign(uuid, "emp2")
    assert next(i for i in ws.review.queue() if i.uuid == uuid).enumerator.endswith("(emp2)")
    assert ("emp2", "Luz Condori (emp2)") in ws.review.assignable_users()
    ws = team.as_("admin")
    ws.admin.add_user("emp3", "empadronador", "clave-emp3-1234", must_change=False)
    ws.admin.set_user_active("emp3", False)
    ws = team.as_("sup")
    # disabled: cannot hold records
    assert "emp3" not in {u for u, _ in ws.review.assignable_users()}
    with pytest.raises(ValidationError):
        ws.review.reassign(uuid, "emp3")
    ws = team.as_("emp2")
    assert uuid in {m.uuid for m in ws.list_records()}
    with pytest.raises(NotAllowed):
        ws.review.approve(uuid)


def test_approve_many_reports_each_refusal(team, homes):
    ws = team.as_("emp")
    complete = [team.fsu(h) for h in homes[3:6]]
    draft = team.fsu(homes[6], complete=False)
    ws = team.as_("sup")
    seen = []
    res = ws.review.approve_many(complete + [draft], progress=lambda i, n: seen.append((i, n)))
    assert res.approved == complete
    assert list(res.refused) == [draft] and "Borrador" in res.refused[draft]
    assert seen[-1] == (4, 4)
    assert all(ws.get(u).state == State.QUEUED.value for u in complete)
    # cancelled half-way: what was approved stays approved, the rest is untouched
    ws = team.as_("emp")
    more = [team.fsu(h) for h in homes[7:10]]
    ws = team.as_("sup")
    calls = iter([False, True, True])
    res = ws.review.approve_many(more, cancelled=lambda: next(calls))
    assert res.approved == more[:1]
    assert [ws.get(u).state for u in more[1:]] == [State.COMPLETE.value] * 2


def test_role_refusals_in_the_workspace(team, homes, tmp_path):
    ws = team.as_("emp")
    mine = team.fsu(homes[0])
    ws = team.as_("emp2")
    other = team.fsu(homes[1])
    ws = team.as_("emp")
    refused = [
        lambda: ws.review.queue(),
        lambda: ws.review.approve(other),
        lambda: ws.review.approve(mine),
        lambda: ws.review.return_record(other, "motivo"),
        lambda: ws.review.reassign(other, "emp"),
        lambda: ws.review.assignable_users(),
        lambda: ws.documents.dashboard(),
        lambda: ws.documents.export_data("records", "csv", tmp_path / "x.csv"),
        lambda: ws.review.detail(other),  # another enumerator's record
        lambda: ws.documents.constancia(other),
        lambda: ws.admin.add_user("nuevo", "empadronador", "clave-nueva-123"),
        lambda: ws.admin.set_user_active("emp2", False),
        lambda: ws.admin.audit_entries(),
        lambda: ws.admin.audit_verify(),
    ]
    for call in refused:
        with pytest.raises(NotAllowed):
            call()
    assert not (tmp_path / "x.csv").exists()
    assert ws.review.approve_many([other]).approved == []
    # what the enumerator may do with their own record
    assert ws.review.detail(mine).can_approve is False
    assert ws.documents.constancia(mine).head_name
    # supervisors review and export but do not manage users
    ws = team.as_("sup")
    with pytest.raises(NotAllowed):
        ws.admin.add_user("nuevo", "empadronador", "clave-nueva-123", must_change=False)
    with pytest.raises(NotAllowed):
        ws.admin.set_user_active("emp", False)
    assert len(ws.review.queue()) == 2


def test_return_of_queued_record_and_not_of_draft(team, homes):
    ws = team.as_("emp")
    uuid = team.fsu(homes[4])
    draft = team.fsu(homes[5], complete=False)
    ws = team.as_("sup")
    ws.review.approve(uuid)
    ws.review.return_record(uuid, "Falta el teléfono del hogar.")  # still on this laptop: allowed
    assert ws.get(uuid).state == State.RETURNED.value
    with pytest.raises(NotAllowed):
        ws.review.return_record(draft, "No debería poder")
