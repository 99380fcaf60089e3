"""The workspace with the real form engine: summaries, DNI search and `complete`."""

from datetime import date, datetime, time, timedelta

import pytest

from app.core.errors import NotFound, ValidationError
from app.demo import households
from app.demo_answers import TIPO_VIA, fsu_answers, s100_answers
from app.forms import FormSession, bundled_form, validate_submission
from app.workspace.hooks import EngineHooks


def test_demo_household_round_trip(ws_factory):
    ws = ws_factory(create=True)
    fsu = bundled_form("fsu")
    hh = households(1, seed=11)[0]
    u = ws.new_record("fsu", fsu.version, fsu_answers(hh))
    m = ws.get(u)
    assert m.summary["head_name"].startswith(hh.head.apellido_paterno)
    assert m.summary["members"] == len(hh.members)
    other = next(x for x in hh.members if x.dni and x is not hh.head)
    assert [r.uuid for r in ws.find_by_dni(other.dni)] == [u]
    state, warnings = ws.complete(u)
    assert state == "COMPLETE"


def test_complete_refuses_hard_errors_in_spanish(ws_factory):
    ws = ws_factory(create=True)
    fsu = bundled_form("fsu")
    hh = households(1, seed=12)[0]
    answers = fsu_answers(hh)
    answers["/fsu/hogar/num_personas"] = str(len(hh.members) + 1)
    answers["/fsu/integrantes[1]/num_doc"] = "1234567"
    u = ws.new_record("fsu", fsu.version, answers)
    with pytest.raises(ValidationError) as e:
        ws.complete(u)
    paths = {x["path"] for x in e.value.errors}
    assert "/fsu/hogar/num_personas" in paths and "/fsu/integrantes[1]/num_doc" in paths
    assert "error" in e.value.user_message
    assert ws.get(u).state == "DRAFT"


def test_s100_and_unknown_form_version(ws_factory):
    ws = ws_factory(create=True)
    s100 = bundled_form("s100")
    hh = households(1, seed=13)[0]
    u = ws.new_record("s100", s100.version, s100_answers(hh))
    assert ws.complete(u)[0] == "COMPLETE"
    v = ws.new_record("fsu", "1999", {"/fsu/hogar/num_personas": "1"})
    assert ws.get(v).summary == {}  # saved even though the version is not installed
    with pytest.raises(NotFound) as e:
        ws.complete(v)
    assert "no está instalado" in e.value.user_message


def test_answers_set_aside_by_a_skip_stay_in_the_draft_but_never_leave(ws_factory):
    ws = ws_factory(create=True)
    s100 = bundled_form("s100")
    session = FormSession(s100, s100_answers(households(1, seed=14)[0]))
    session.set("/s100/domicilio/comunidad_indigena", "1")
    session.set("/s100/domicilio/nombre_comunidad", "Comunidad Nativa Shipibo")
    session.set("/s100/domicilio/comunidad_indigena", "2")  # the skip hides the name
    u = ws.new_record("s100", s100.version, session.to_json(include_aside=True))
    again = FormSession.from_json(s100, ws.load_answers(u))
    again.set("/s100/domicilio/comunidad_indigena", "1")
    assert again.get("/s100/domicilio/nombre_comunidad") == "Comunidad Nativa Shipibo"
    sent = ws.hooks.submission("s100", s100.version, ws.load_answers(u))
    assert "Shipibo" not in str(sent)
    assert sent["answers"]["/s100/domicilio/comunidad_indigena"] == "2"


def test_what_leaves_the_laptop_is_read_on_the_day_the_record_was_completed():
    """A woman 49 on the visit and 50 at the sync (her birthday came between): her
    answer to «¿Está gestando?» leaves the laptop, as the centre reads the record on its
    completion day and requires it (server.validation.record_day)."""
    fd = bundled_form("fsu")
    visit = date.today() - timedelta(days=10)
    if (visit.month, visit.day) == (2, 28):
        visit -= timedelta(days=1)  # a birthday on 29 February has no year 50 years back
    answers = fsu_answers(households(1, seed=5)[0])
    p = "/fsu/integrantes[1]/"
    birthday = visit + timedelta(days=1)
    answers |= {"/fsu/control/fecha_visita": visit.isoformat(), p + "sexo": "2",
                p + "gestante": "2", p + "estado_civil": "2", p + "parentesco": "1",
                p + "fecha_nacimiento": birthday.replace(year=birthday.year - 50).isoformat()}
    completed = datetime.combine(visit, time(15, 0)).timestamp()
    hooks = EngineHooks()
    assert validate_submission(fd, answers, today=visit) == []

    sent = hooks.submission("fsu", fd.version, answers, completed)
    assert sent["answers"][p + "gestante"] == "2"
    assert validate_submission(fd, sent, today=visit) == []
    # read on the day of sending, the answer was kept aside: the centre refused it
    today_read = hooks.submission("fsu", fd.version, answers)
    assert p + "gestante" not in today_read["answers"]
    assert validate_submission(fd, today_read, today=visit) == [
        f"{p}gestante: Esta pregunta es obligatoria."]


# -- issue 16 item 2: what the program knows is not asked again --------------------------


def _enumerator(ws_factory, display_name: str = "Ana Torres"):
    ws = ws_factory(create=True)  # the ULE is 150101 (Lima)
    ws.admin.add_user("atorres", "empadronador", "clave-ana-123", display_name,
                      must_change=False)
    ws.logout()
    ws.login("atorres", "clave-ana-123")
    return ws


def test_new_drafts_start_with_the_user_the_ule_and_its_district(ws_factory):
    ws = _enumerator(ws_factory)
    a = ws.load_answers(ws.new_draft("s100"))["answers"]
    assert a["/s100/registro/ule"] == "150101"
    assert a["/s100/registro/registrador"] == "Ana Torres"
    assert (a["/s100/domicilio/departamento"], a["/s100/domicilio/provincia"],
            a["/s100/domicilio/distrito"]) == ("15", "1501", "150101")
    f = ws.load_answers(ws.new_draft("fsu"))["answers"]
    assert f["/fsu/control/empadronador"] == "Ana Torres"
    assert f["/fsu/ubicacion/distrito"] == "150101"
    # another ULE configured: the next draft starts there
    ws.logout()
    ws.login("admin", "clave-admin-123")
    ws.settings.update(ule_ubigeo="080108")
    a = ws.load_answers(ws.new_draft("s100"))["answers"]
    assert a["/s100/domicilio/distrito"] == "080108"
    assert a["/s100/registro/ule"] == "080108"
    assert a["/s100/registro/registrador"] == "admin"  # no display name: the user name
    # prefilled, still editable (another clerk may register the request)
    s = FormSession(bundled_form("s100"), {"answers": a})
    assert not s.state("/s100/registro/registrador").read_only
    s.set("/s100/registro/registrador", "Rosa Quispe")
    assert s.get("/s100/registro/registrador") == "Rosa Quispe"


def test_an_fsu_from_an_s100_gets_its_address_phone_and_birth_date(ws_factory):

    ws = _enumerator(ws_factory)
    hh = households(1, seed=31)[0]
    s100 = bundled_form("s100")
    answers = s100_answers(hh)
    answers["/s100/domicilio/manzana"] = "B"
    answers["/s100/domicilio/lote"] = "7"
    src = ws.new_record("s100", s100.version, answers)
    ws.complete(src)
    uuid = ws.new_draft("fsu", src)
    got = ws.load_answers(uuid)["answers"]
    street, number = hh.direccion.rsplit(" ", 1)
    assert got["/fsu/ubicacion/tipo_via"] == TIPO_VIA[hh.via]
    assert got["/fsu/ubicacion/nombre_via"] == street
    assert got["/fsu/ubicacion/numero_puerta"] == number
    assert got["/fsu/ubicacion/manzana"] == "B" and got["/fsu/ubicacion/lote"] == "7"
    assert got["/fsu/ubicacion/telefono"] == hh.telefono
    assert got["/fsu/ubicacion/distrito"] == hh.ubigeo  # the S100's, not the ULE's
    assert got["/fsu/integrantes[1]/fecha_nacimiento"] == hh.head.birth.isoformat()
    assert "/fsu/integrantes[2]/fecha_nacimiento" not in got
    assert got["/fsu/control/empadronador"] == "Ana Torres"
    # the rest of the visit, then the constancia shows the real address
    fsu = bundled_form("fsu")
    s = FormSession.from_json(fsu, ws.load_answers(uuid))
    for path, value in fsu_answers(hh).items():
        if path == "/fsu/ubicacion/area" or not path.startswith(
                ("/fsu/ubicacion/", "/fsu/control/empadronador")):
            s.set(path, value)
    ws.save_answers(uuid, s.to_json(include_aside=True))
    assert ws.complete(uuid)[0] == "COMPLETE"
    via = next(c.label(None) for c in fsu.choices["tipo_via"] if c.name == TIPO_VIA[hh.via])
    address = ws.documents.constancia(uuid).address
    assert address.startswith(f"{via} {street} {number} Mz. B Lt. 7 — ")
