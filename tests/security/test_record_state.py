"""Issue 19 item 2: a record's clear metadata edited outside the program is reported
as damage for that record — in the list, the sync panel's counts, `audit verify`
and `doctor` — and is never sent, nor re-sealed by a later write of the program."""

from __future__ import annotations

import sqlite3

import pytest

from app.cli.doctor import doctor_report, format_report
from app.core.errors import IntegrityFailure
from tests.conftest import ADMIN_PW
from tests.security.conftest import drop_guards, raw
from tests.store.hooks import PlainHooks


def _queued(ws, n: int) -> list[str]:
    """n records taken to QUEUED through the program (review off: approve on complete)."""
    ws.settings.update(review_required=False)
    out = []
    for i in range(n):
        u = ws.new_record("fsu", "1", {"head": f"H{i}"})
        ws.complete(u)
        out.append(u)
    return out


def test_outside_edit_without_dropping_triggers_is_refused(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    u = ws.new_record("fsu", "1", {"head": "A"})
    ws.close()
    con = raw(data_dir)
    with pytest.raises(sqlite3.OperationalError, match="siee_row_mac"):
        con.execute("UPDATE records SET state='DELIVERED' WHERE uuid=?", (u,))
    con.close()


def test_state_edit_is_damage_everywhere(ws_factory, data_dir):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    a, b, c = _queued(ws, 3)
    assert ws.centre.status().pending == 3 and ws.centre.status().damaged == 0
    assert ws.admin.audit_verify().ok
    ws.close()

    # The attack of the issue: the queued record is marked delivered, so never sent.
    con = raw(data_dir)
    drop_guards(con)
    con.execute("UPDATE records SET state='DELIVERED' WHERE uuid=?", (a,))
    con.close()

    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    st = ws.centre.status()
    assert st.damaged == 1, "the edited record must be reported in the sync panel"
    assert st.pending == 2 and st.delivered == 0, "an edited row must not count as delivered"
    listed = {m.uuid: m for m in ws.list_records()}
    assert listed[a].damaged and listed[a].tampered
    assert not listed[b].damaged and not listed[c].damaged
    assert ws.get(a).tampered and not ws.get(b).tampered
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.damaged_records == (a,)
    assert "1 ficha(s) con datos modificados fuera del programa" in rep.message
    ws.close()
    text = format_report(doctor_report(data_dir))
    assert "¡1 ficha(s) con datos alterados fuera del programa!" in text and a in text


def test_forced_to_queued_is_never_sent(ws_factory, data_dir):
    """The other direction: a DRAFT forced to QUEUED (to send unapproved data)."""
    ws = ws_factory(hooks=PlainHooks(), create=True)
    u = ws.new_record("fsu", "1", {"head": "borrador"})
    ws.close()
    con = raw(data_dir)
    drop_guards(con)
    con.execute("UPDATE records SET state='QUEUED', approved_at=1 WHERE uuid=?", (u,))
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    assert ws.centre.outbox_count() == 0
    assert ws.centre.ports.take_outbox(10) == []
    st = ws.centre.status()
    assert st.pending == 0 and st.damaged == 1


@pytest.mark.parametrize(
    "column, value",
    [
        ("quarantined", 1),
        ("revision", 7),
        ("form_version", "9999.9"),
        ("author_id", 99),
        ("ule_ubigeo", "080108"),
        ("approved_by", 5),
    ],
)
def test_any_clear_column_is_covered(ws_factory, data_dir, column, value):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    (u,) = _queued(ws, 1)
    ws.close()
    con = raw(data_dir)
    drop_guards(con)
    con.execute(f"UPDATE records SET {column}=? WHERE uuid=?", (value, u))
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    assert ws.centre.status().damaged == 1
    assert ws.admin.audit_verify().damaged_records == (u,)


def test_swapped_or_cleared_mac_is_damage(ws_factory, data_dir):
    """A valid MAC copied from another row, or no MAC at all, does not pass."""
    ws = ws_factory(hooks=PlainHooks(), create=True)
    a, b = _queued(ws, 2)
    ws.close()
    con = raw(data_dir)
    drop_guards(con)
    con.execute("UPDATE records SET row_mac=(SELECT row_mac FROM records WHERE uuid=?) "
                "WHERE uuid=?", (b, a))
    con.execute("UPDATE records SET row_mac=NULL WHERE uuid=?", (b,))
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)  # a later log-in never re-seals a row without MAC
    assert sorted(ws.admin.audit_verify().damaged_records) == sorted([a, b])


def test_program_never_reseals_an_edited_row(ws_factory, data_dir):
    """Editing in the program after an outside edit must not launder it."""
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.settings.update(review_required=True)
    u = ws.new_record("fsu", "1", {"head": "A"})
    ws.complete(u)
    ws.close()
    con = raw(data_dir)
    drop_guards(con)
    con.execute("UPDATE records SET state='DRAFT' WHERE uuid=?", (u,))  # reopen by hand
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    with pytest.raises(IntegrityFailure) as e:
        ws.save_answers(u, {"head": "cambiado"})
    assert "fuera del programa" in e.value.user_message
    assert ws.get(u).tampered
    assert ws.load_answers(u) == {"head": "A"}


def test_program_writes_keep_rows_valid(ws_factory):
    """Every write path of the program keeps the MAC current (no false alarms)."""
    ws = ws_factory(hooks=PlainHooks(), create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1")
    ws.admin.add_user("sup", "supervisor", "clave-sup-1")
    ws.logout()
    ws.login("ana", "clave-ana-1")
    u = ws.new_record("fsu", "1", {"head": "A"})
    ws.save_answers(u, {"head": "B"})
    ws.complete(u)
    ws.logout()
    ws.login("sup", "clave-sup-1")
    ws.review.return_record(u, "Revise el apellido")
    ws.logout()
    ws.login("ana", "clave-ana-1")
    ws.save_answers(u, {"head": "C"})  # reopens as revision 2
    ws.complete(u)
    ws.logout()
    ws.login("sup", "clave-sup-1")
    ws.review.approve(u)
    ws.logout()
    ws.login("admin", ADMIN_PW)
    ws.review.reassign(u, "ana")
    rep = ws.admin.audit_verify()
    assert rep.ok and rep.damaged_records == ()
    m = ws.get(u)
    assert m.revision == 2 and not m.damaged
