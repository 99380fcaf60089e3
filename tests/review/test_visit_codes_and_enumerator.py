"""A visit attempt speaks the FSU's result codes and names the enumerator who went (a
new clerk's walk-through): one code list in the visit form and the FSU; attempts
stored with the visit form's own earlier codes stay readable and are mapped; the
supervisor who types a visit records the empadronador, not themselves; people read
the N° de expediente, never a uuid."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core import cases as rules
from app.core.errors import ValidationError
from app.core.identifiers import case_reference
from app.forms import bundled_form, shipped_form
from app.forms.session import FormSession

DATE = "/s100/solicitud/fecha_solicitud"
OLD_VISIT = "2026113001"


def _day(team, y: int, m: int, d: int) -> None:
    team.clock.t = dt.datetime(y, m, d, 10, 0).timestamp()


def test_the_visit_form_uses_the_fsu_result_list():
    visit, fsu = bundled_form("visita"), bundled_form("fsu")
    lang = fsu.default_language

    def pairs(fd, name):
        return [(c.name, c.label(lang)) for c in fd.choices[name]]

    assert pairs(visit, "resultado_visita") == pairs(fsu, "resultado")
    assert int(str(visit.version)) > int(OLD_VISIT)
    # ausente and dirección imprecisa need the date of the next attempt, as before
    failed = {c.name for c in visit.choices["resultado_visita"] if rules.visit_failed(c.extra)}
    assert failed == {"3", "4", "5", "6", "7", "8", "9"}


def test_old_visit_codes_map_to_the_fsu_codes_by_their_labels():
    """Each code of the visit form 2026113001 maps to the FSU code of the same result."""
    old = shipped_form("visita", OLD_VISIT)
    assert old is not None
    fsu = bundled_form("fsu")
    lang = fsu.default_language
    new_labels = {c.name: c.label(lang).lower() for c in fsu.choices["resultado"]}
    for c in old.choices["resultado_visita"]:
        mapped = rules.visit_result_code(c.name, OLD_VISIT)
        words = c.label(lang).lower().replace("/", " ").split()
        key = next(w for w in words if len(w) > 4)  # «ubicado», «reside», «negativa», ...
        assert key in new_labels[mapped] or c.name == "1", (c.name, mapped)
    assert rules.visit_result_code("2", OLD_VISIT) == "4"  # ausente
    assert rules.visit_result_code("4", OLD_VISIT) == "3"  # negativa
    assert rules.visit_result_code("2", str(bundled_form("visita").version)) == "2"
    assert rules.visit_result_code("2", "centro-7") == "2"  # not a number: as stored


def test_an_attempt_stored_with_the_old_codes_reads_as_recorded(team, homes):
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[0], **{DATE: "2026-11-16"})
    fd = shipped_form("visita", OLD_VISIT)
    s = FormSession(fd, None)
    for name, value in (("fecha_visita", "2026-11-16"), ("hora_visita", "09:30"),
                        ("empadronador", "Juan Pérez"), ("resultado", "2"),
                        ("proxima_visita", "2026-11-18")):
        s.set(f"/visita/intento/{name}", value)
    assert not s.validate().errors
    old = ws.new_record("visita", OLD_VISIT, s.to_json(), case_uuid=req)
    ws.complete(old)
    new = ws.cases.record_visit(req, "2026-11-18", "10:00", "4", next_visit="2026-11-20")
    visits = {v.uuid: v for v in ws.cases.get(req).visits}
    assert (visits[old].result_label, visits[old].result_code) == ("No ubicado / ausente", "4")
    assert (visits[new].result_label, visits[new].result_code) == ("Ausente / no ubicado", "4")
    assert visits[old].failed and visits[new].failed
    assert ws.cases.notice(old).result_label == "No ubicado / ausente"


def test_a_supervisor_records_the_visit_of_the_empadronador(team, homes):
    _day(team, 2026, 11, 16)
    team.as_("emp")
    req = team.s100(homes[1], **{DATE: "2026-11-16"})
    ws = team.as_("sup")
    assert [u.username for u in ws.cases.enumerators()] == ["emp", "emp2"]  # by name
    v = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18",
                              enumerator="emp2")
    [visit] = ws.cases.get(req).visits
    assert visit.uuid == v and visit.enumerator == "Luz Condori"
    assert ws.cases.notice(v).enumerator == "Luz Condori"
    # only an active empadronador of this laptop may be named
    for who in ("sup2", "nadie"):
        with pytest.raises(ValidationError) as e:
            ws.cases.record_visit(req, "2026-11-17", "09:30", "4", "2026-11-19", enumerator=who)
        assert "empadronador" in e.value.user_message
    # nor one whose account was disabled (staff turn over)
    ws = team.as_("admin")
    ws.admin.set_user_active("emp2", False)
    ws = team.as_("sup")
    assert [u.username for u in ws.cases.enumerators()] == ["emp"]
    with pytest.raises(ValidationError):
        ws.cases.record_visit(req, "2026-11-17", "09:30", "4", "2026-11-19", enumerator="emp2")
    # the empadronador recording their own visit needs to name nobody
    ws = team.as_("emp")
    v2 = ws.cases.record_visit(req, "2026-11-18", "10:00", "1")
    assert next(x for x in ws.cases.get(req).visits if x.uuid == v2).enumerator == "Juan Pérez"


def test_people_read_the_expediente_number_never_the_uuid(team, homes):
    _day(team, 2026, 11, 16)
    ws = team.as_("emp")
    req = team.s100(homes[2], **{DATE: "2026-11-16"})
    v = ws.cases.record_visit(req, "2026-11-16", "09:30", "4", "2026-11-18")
    case = ws.cases.get(req)
    ref = case.reference
    assert ref == case_reference(req) and ref.startswith("EXP-") and len(ref) == 13
    notice = ws.cases.notice(v)
    assert notice.reference == ref
    from app.ui.review.papers import notice_html

    html = notice_html(notice)
    assert ref in html and req not in html and "N° de expediente" in html


def test_case_reference_is_short_stable_and_unambiguous():
    u = "13b64481-0000-4000-8000-000000000000"
    ref = case_reference(u)
    assert ref == case_reference(u.upper()) == "EXP-2EV4-9080"
    assert ref != case_reference("13b64482-0000-4000-8000-000000000000")
    body = ref[4:].replace("-", "")
    assert not set(body) & set("ILOU")  # Crockford: nothing read as 1 or 0
    assert case_reference("") == ""
