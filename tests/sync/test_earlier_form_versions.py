"""Records made with a form version an earlier program shipped survive the update.

A laptop's previous program shipped FSU and S100 2026112702; this program ships a
newer version. A draft, a completed-but-unsent record and a returned record made
with the old version are written into a real SQLite workspace whose forms folder
holds no copy of that version (the old program never copied it); the current
program opens the workspace: every record opens with its own version, the draft
and the returned record are completed in that version (as ODK Collect keeps a
draft's version), and all are sent to the real reference server on loopback,
which accepts them (it knows the versions the program ships), holding none."""

from __future__ import annotations

import re
import shutil

import pytest

from app.forms import FormSession, load_form, shipped_form, summary
from app.forms.bundled import bundled_form, history_dir
from app.workspace import Workspace
from server.validation import Validator
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.sync.conftest import ULE, server_rows, states

OLD = "2026112702"
ENUMERATOR, ENUMERATOR_PW = "atorres", "clave-ana-123"


def old_answers(form_id: str, seed: int) -> dict:
    """Complete answers of the old (2026112702) form: the demo household's answers
    of the questions that version has, plus what it asked differently."""
    from app.demo import households
    from app.demo_answers import fsu_answers, s100_answers

    fd = load_form(history_dir() / f"{form_id}-{OLD}.md")
    hh = households(1, seed=seed)[0]
    full = (fsu_answers if form_id == "fsu" else s100_answers)(hh)
    kept = {}
    for path, value in full.items():
        try:
            fd.node(re.sub(r"\[\d+\]", "", path))
        except Exception:  # noqa: BLE001 - a question the old version did not have
            continue
        kept[path] = value
    session = FormSession(fd, kept)
    if form_id == "s100":  # 2026112702 had other request codes and one address line
        path = "/s100/solicitud/tipo_solicitud"
        session.set(path, session.choices(path)[0].name)
        session.set("/s100/domicilio/direccion", "Jr. Los Olivos 123")
    assert not session.validate().errors, session.validate().errors
    return session.to_json()


def test_the_old_versions_are_not_the_current_ones():
    assert str(bundled_form("fsu").version) != OLD
    assert str(bundled_form("s100").version) != OLD


@pytest.fixture
def old_laptop(tmp_path):
    """A workspace the previous program left: records in 2026112702, no copy of
    that version in its forms folder. Returns (data_dir, {role: uuid})."""
    data_dir = tmp_path / "campo"
    ws, _code = Workspace.create(data_dir, "admin", ADMIN_PW, ule_ubigeo=ULE, kdf=FAST_KDF)
    ws.admin.add_user(ENUMERATOR, "empadronador", ENUMERATOR_PW, "Ana Torres",
                      must_change=False)
    ws.logout()
    ws.login(ENUMERATOR, ENUMERATOR_PW)
    uuids = {
        "fsu_draft": ws.new_record("fsu", OLD, old_answers("fsu", 31)),
        "s100_draft": ws.new_record("s100", OLD, old_answers("s100", 32)),
        "fsu_complete": ws.new_record("fsu", OLD, old_answers("fsu", 33)),
        "s100_returned": ws.new_record("s100", OLD, old_answers("s100", 34)),
    }
    assert ws.complete(uuids["fsu_complete"])[0] == "COMPLETE"
    assert ws.complete(uuids["s100_returned"])[0] == "COMPLETE"
    ws.logout()
    ws.login("admin", ADMIN_PW)
    ws.review.return_record(uuids["s100_returned"], "Revise la dirección.")
    ws.close()
    shutil.rmtree(data_dir / "forms", ignore_errors=True)  # the old program kept none
    return data_dir, uuids


def test_old_records_open_complete_and_are_accepted_by_the_centre(old_laptop, server):
    data_dir, uuids = old_laptop
    ws = Workspace.open(data_dir, kdf=FAST_KDF)
    try:
        ws.login(ENUMERATOR, ENUMERATOR_PW)
        # Opening copied the shipped versions into the forms store, old ones included.
        for form_id in ("fsu", "s100"):
            copy = data_dir / "forms" / f"{form_id}-{OLD}.md"
            assert copy.read_bytes() == (history_dir() / copy.name).read_bytes()
        expected = {"fsu_draft": "DRAFT", "s100_draft": "DRAFT",
                    "fsu_complete": "COMPLETE", "s100_returned": "RETURNED"}
        for role, u in uuids.items():
            m = ws.get(u)
            assert (m.state, m.form_version) == (expected[role], OLD)
            fd = ws.hooks.formdef(m.form_id, m.form_version)  # what the form window uses
            assert str(fd.version) == OLD
            session = FormSession.from_json(fd, ws.load_answers(u))
            assert summary(fd, session.to_json())
            assert not session.validate().errors
        # The draft is edited and completed in its own version; so is the returned one.
        u = uuids["fsu_draft"]
        answers = ws.load_answers(u)
        session = FormSession.from_json(ws.hooks.formdef("fsu", OLD), answers)
        ws.save_answers(u, session.to_json(include_aside=True))
        ws.save_answers(uuids["s100_returned"], ws.load_answers(uuids["s100_returned"]))
        for role in ("fsu_draft", "s100_draft", "s100_returned"):
            assert ws.complete(uuids[role])[0] == "COMPLETE"
        ws.logout()
        ws.login("admin", ADMIN_PW)
        for u in uuids.values():
            ws.review.approve(u)
            assert (ws.get(u).state, ws.get(u).form_version) == ("QUEUED", OLD)

        c = ws.centre.client(read_timeout=20)
        c.enroll(server.url, server.admin.enroll_code(ULE))
        c.sync()
        st = states(ws)
        assert {st[u] for u in uuids.values()} == {"DELIVERED"}
        stored = {r["uuid"]: r for r in server.admin.list_records(limit=100000)}
        for u in uuids.values():
            assert stored[u]["form_version"] == OLD
        assert {u for u, _ in server_rows(server)} >= set(uuids.values())
        held = {h["uuid"] for h in server.admin.held_records()}
        assert held.isdisjoint(uuids.values())
        for u in uuids.values():  # stored (delivered) records still open in their version
            m = ws.get(u)
            fd = ws.hooks.formdef(m.form_id, m.form_version)
            assert summary(fd, FormSession.from_json(fd, ws.load_answers(u)).to_json())
    finally:
        ws.close()


def test_the_centre_checks_old_versions_with_their_own_form():
    """The server's validator finds the shipped 2026112702 (no published copy) and
    refuses what that version refuses: the check really ran on the old form."""
    v = Validator(source=None)
    check = v.batch()
    for form_id in ("fsu", "s100"):
        assert check.can_validate(form_id, OLD)
        assert v.find_form(form_id, OLD) is shipped_form(form_id, OLD)
    good = old_answers("fsu", 35)
    assert check("fsu", OLD, good) == []
    bad = {**good, "answers": {**good["answers"], "/fsu/integrantes[1]/num_doc": "1234567"}}
    # a DNI has 8 digits in any version
    assert check("fsu", OLD, bad)
    assert not check.can_validate("fsu", "2026112799")  # never shipped nor published
