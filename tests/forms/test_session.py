"""FormSession: answers, relevance, constraints, repeats, choices, serialisation."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from app.core.errors import NotFound, ValidationError
from app.forms import FormSession

from .conftest import fixed_clock


@pytest.fixture
def s(demo_def) -> FormSession:
    return FormSession(demo_def, clock=fixed_clock)


def test_new_session_has_defaults_and_no_repeat_instances(s):
    assert s.get("/demo/hoy") == "2026-03-10"
    assert s.get("/demo/fijo") == "abc"
    assert s.state("/demo/fijo").read_only
    assert s.repeat_count("/demo/miembros") == 0
    assert s.get("/demo/cuenta") == "0"


def test_set_coerces_values(s):
    s.set("/demo/n", 4)
    assert s.get("/demo/n") == "4"
    s.set("/demo/n", " 05 ")
    assert s.get("/demo/n") == "5"
    s.set("/demo/peso", 61.50)
    assert s.get("/demo/peso") == "61.5"
    s.set("/demo/frutas", ["a", "c"])
    assert s.get("/demo/frutas") == "a c"
    from datetime import date

    s.set("/demo/fnac", date(2000, 1, 2))
    assert s.get("/demo/fnac") == "2000-01-02"
    with pytest.raises(NotFound):
        s.set("/demo/nada", 1)
    with pytest.raises(ValidationError):
        s.set("/demo/grupo", "x")


def test_required_constraint_and_type_messages(s):
    st = s.state("/demo/nombre")
    assert st.required and not st.valid and st.message == "Falta el nombre"
    s.set("/demo/nombre", "A")
    assert s.state("/demo/nombre").message == "Nombre muy corto"
    s.set("/demo/nombre", "Ana")
    assert s.state("/demo/nombre").valid and s.state("/demo/nombre").message is None
    s.set("/demo/n", "tres")
    assert s.state("/demo/n").message == "Ingrese un número entero."
    s.set("/demo/fnac", "2020-02-30")
    assert s.state("/demo/fnac").message == "Ingrese una fecha válida (AAAA-MM-DD)."
    s.set("/demo/color", "zz")
    assert s.state("/demo/color").message == "La opción elegida no está en la lista."


def test_soft_warning_does_not_block(s):
    s.set("/demo/nombre", "Ana")
    s.set("/demo/n", 12)
    st = s.state("/demo/n")
    assert st.valid and st.warning == "Número alto: confirme"
    rep = s.validate()
    assert [w.path for w in rep.warnings] == ["/demo/n"]
    assert all(e.path != "/demo/n" for e in rep.errors)
    s.set("/demo/n", -1)
    assert s.state("/demo/n").message == "No negativo"
    assert any(e.path == "/demo/n" for e in s.validate().errors)


def test_relevance_of_groups_is_inherited_and_answers_are_kept_aside(s):
    s.set("/demo/nombre", "Ana")
    assert not s.state("/demo/grupo/dentro").relevant
    assert not s.state("/demo/grupo/sub/profundo").relevant
    s.set("/demo/n", 1)
    assert s.state("/demo/grupo/sub/profundo").relevant
    s.set("/demo/grupo/dentro", "valor")
    s.set("/demo/grupo/sub/profundo", "hondo")
    assert "/demo/grupo/dentro" in s.to_json()["answers"]
    s.set("/demo/n", 0)
    assert not s.state("/demo/grupo/dentro").relevant
    assert s.get("/demo/grupo/dentro") == "valor"  # kept
    data = s.to_json()
    assert "/demo/grupo/dentro" not in data["answers"]  # not submitted
    assert s.aside() == {"/demo/grupo/dentro": "valor", "/demo/grupo/sub/profundo": "hondo"}
    assert "dentro" not in s.to_xml("x")
    # a required question that is not relevant is no error
    assert all(e.path != "/demo/grupo/dentro" for e in s.validate().errors)
    s.set("/demo/n", 2)
    assert s.to_json()["answers"]["/demo/grupo/dentro"] == "valor"  # back


def test_non_relevant_values_read_as_empty_in_expressions(s):
    s.add_repeat("/demo/miembros")
    s.set("/demo/miembros[1]/medad", 5)
    s.set("/demo/miembros[1]/apodo", "Peque")
    assert not s.state("/demo/miembros[1]/apodo").relevant
    from .conftest import ev_str

    assert ev_str(s, "string-length(/demo/miembros[1]/apodo)") == "0"
    s.set("/demo/miembros[1]/medad", 15)
    assert ev_str(s, "string-length(/demo/miembros[1]/apodo)") == "5"


def test_repeats_with_relative_paths(s):
    for i, edad in enumerate([40, 12, 3], 1):
        assert s.add_repeat("/demo/miembros") == f"/demo/miembros[{i}]"
        s.set(f"/demo/miembros[{i}]/mnombre", f"M{i}")
        s.set(f"/demo/miembros[{i}]/medad", edad)
    assert [s.get(f"/demo/miembros[{i}]/doble") for i in (1, 2, 3)] == ["80", "24", "6"]
    assert [s.get(f"/demo/miembros[{i}]/mayor") for i in (1, 2, 3)] == ["si", "no", "no"]
    assert [s.get(f"/demo/miembros[{i}]/pos") for i in (1, 2, 3)] == ["1", "2", "3"]
    assert s.get("/demo/total") == "55" and s.get("/demo/cuenta") == "3"
    assert s.state("/demo/nota").label == "Hay 3 miembros"
    assert [s.state(f"/demo/miembros[{i}]/apodo").relevant for i in (1, 2, 3)] == [
        True, True, False]
    # only the member that changed is affected
    s.set("/demo/miembros[2]/medad", 20)
    assert [s.get(f"/demo/miembros[{i}]/mayor") for i in (1, 2, 3)] == ["si", "si", "no"]
    assert s.get("/demo/total") == "63"
    # remove the first: positions shift, totals follow
    s.remove_repeat("/demo/miembros", 1)
    assert s.repeat_count("/demo/miembros") == 2
    assert [s.get(f"/demo/miembros[{i}]/mnombre") for i in (1, 2)] == ["M2", "M3"]
    assert [s.get(f"/demo/miembros[{i}]/pos") for i in (1, 2)] == ["1", "2"]
    assert s.get("/demo/total") == "23" and s.get("/demo/cuenta") == "2"
    # move: M3 first
    s.move_repeat("/demo/miembros", 2, 1)
    assert [s.get(f"/demo/miembros[{i}]/mnombre") for i in (1, 2)] == ["M3", "M2"]
    assert [s.get(f"/demo/miembros[{i}]/pos") for i in (1, 2)] == ["1", "2"]
    # insert at a position
    assert s.add_repeat("/demo/miembros", position=1) == "/demo/miembros[1]"
    assert [s.get(f"/demo/miembros[{i}]/mnombre") for i in (1, 2, 3)] == ["", "M3", "M2"]
    assert [s.get(f"/demo/miembros[{i}]/pos") for i in (1, 2, 3)] == ["1", "2", "3"]
    s.remove_repeat("/demo/miembros[1]")
    assert s.get("/demo/miembros[1]/mnombre") == "M3"
    with pytest.raises(NotFound):
        s.get("/demo/miembros[3]/mnombre")


def test_repeat_count_creates_and_trims_instances_with_defaults(s):
    s.set("/demo/n", 3)
    assert s.repeat_count("/demo/fijos") == 3
    assert s.get("/demo/fijos[3]/valor") == "7"
    s.set("/demo/fijos[2]/valor", 9)
    s.set("/demo/n", 2)
    assert s.repeat_count("/demo/fijos") == 2
    assert s.get("/demo/fijos[2]/valor") == "9"
    s.set("/demo/n", "")
    assert s.repeat_count("/demo/fijos") == 0


def test_cascading_choices(s):
    assert [c for c, _ in s.state("/demo/filtrado").choices] == []
    assert [c for c, _ in s.state("/demo/filtrado2").choices] == ["r", "g", "b"]
    s.set("/demo/familia", "c")
    assert s.state("/demo/filtrado").choices == [("r", "Rojo"), ("g", "Verde")]
    assert [c for c, _ in s.state("/demo/filtrado2").choices] == ["r", "g"]
    s.set("/demo/filtrado", "g")
    assert s.state("/demo/filtrado").valid
    s.set("/demo/familia", "f")
    assert s.state("/demo/filtrado").choices == [("b", "Azul")]
    st = s.state("/demo/filtrado")
    assert not st.valid and st.message == "La opción elegida no está en la lista."


def test_ubigeo_cascade_in_the_fsu(fsu_def):
    s = FormSession(fsu_def, clock=fixed_clock)
    deps = s.state("/fsu/ubicacion/departamento").choices
    assert len(deps) == 25 and ("15", "Lima") in deps
    assert s.state("/fsu/ubicacion/provincia").choices == []
    s.set("/fsu/ubicacion/departamento", "15")
    provs = s.state("/fsu/ubicacion/provincia").choices
    assert ("1501", "Lima") in provs and all(c.startswith("15") for c, _ in provs)
    s.set("/fsu/ubicacion/provincia", "1501")
    dists = s.state("/fsu/ubicacion/distrito").choices
    assert len(dists) >= 40 and ("150101", "Lima") in dists
    s.set("/fsu/ubicacion/distrito", "150132")
    assert s.state("/fsu/ubicacion/distrito").valid
    s.set("/fsu/ubicacion/centro_poblado", "1501320001")
    assert s.state("/fsu/ubicacion/centro_poblado").valid
    s.set("/fsu/ubicacion/centro_poblado", "1501010001")
    assert s.state("/fsu/ubicacion/centro_poblado").message.startswith(
        "El código de centro poblado debe tener 10 dígitos")


def test_trigger_recalculates_only_when_the_trigger_changes(s):
    s.set("/demo/nombre", "Ana")
    assert s.get("/demo/trig") == ""  # not evaluated until the trigger changes
    s.set("/demo/n", 1)
    assert s.get("/demo/trig") == "Ana!"
    s.set("/demo/nombre", "Bea")
    assert s.get("/demo/trig") == "Ana!"
    s.set("/demo/n", 2)
    assert s.get("/demo/trig") == "Bea!"


def test_only_dependent_expressions_are_evaluated(fsu_def, fsu_answers):
    # required/constraint/warning/choice filters are evaluated when a state is read
    # (lazy leaves), so every state is read after each change (iter_nodes)
    s = FormSession(fsu_def, fsu_answers, clock=fixed_clock)
    list(s.iter_nodes())
    seen: list[tuple[str, str]] = []
    real = s._eval

    def spy(slot, node):
        seen.append((slot.kind, node.path()))
        real(slot, node)

    s._eval = spy  # type: ignore[method-assign]
    s.set("/fsu/integrantes[3]/apellido_materno", "Rojas")
    list(s.iter_nodes())
    assert seen == []  # nothing reads it
    s.set("/fsu/vivienda/alumbrado", "2")
    list(s.iter_nodes())
    # its relevance, then its own constraint (its value now reads as empty)
    assert set(seen) == {("relevant", "/fsu/vivienda/suministro_luz"),
                         ("constraint", "/fsu/vivienda/suministro_luz")}
    seen.clear()
    s.set("/fsu/integrantes[3]/sexo", "1")
    list(s.iter_nodes())
    paths = {p for _k, p in seen}
    assert paths and all(p.startswith("/fsu/integrantes[3]/") for p in paths)


def test_iter_nodes_in_form_order_with_instances(s):
    s.add_repeat("/demo/miembros")
    s.add_repeat("/demo/miembros")
    paths = [st.path for st in s.iter_nodes()]
    assert paths.index("/demo/nombre") < paths.index("/demo/miembros[1]")
    assert paths.index("/demo/miembros[1]/medad") < paths.index("/demo/miembros[2]")
    assert paths.index("/demo/miembros[2]/apodo") < paths.index("/demo/total")
    assert paths[-1] == "/demo/lugar"


def test_labels_follow_the_session_language(demo_def):
    s = FormSession(demo_def, language="Quechua (qu)")
    assert s.state("/demo/nombre").label == "Suti"
    assert s.state("/demo/color").choices[0] == ("r", "Puka")
    assert s.state("/demo/peso").label == "Peso"  # no translation: default


def test_json_round_trip_and_canonical_bytes(s):
    s.set("/demo/nombre", "Ñuñoa")
    s.set("/demo/frutas", "c a")
    s.add_repeat("/demo/miembros")
    s.add_repeat("/demo/miembros")
    s.set("/demo/miembros[2]/medad", 33)
    data = s.to_json()
    assert data["form_id"] == "demo" and data["form_version"] == "3"
    assert data["repeats"] == {"/demo/miembros": 2, "/demo/fijos": 0}
    assert data["answers"]["/demo/miembros[2]/doble"] == "66"
    s2 = FormSession.from_json(s.formdef, json.loads(json.dumps(data)), clock=fixed_clock)
    assert s2.to_json() == data
    assert s2.canonical_bytes() == s.canonical_bytes()
    assert s2.repeat_count("/demo/miembros") == 2  # the empty first instance survives
    assert s.canonical_bytes().decode("utf-8").startswith('{"answers":{')
    assert "Ñuñoa".encode() in s.canonical_bytes()


def test_flat_answers_create_repeat_instances(demo_def):
    s = FormSession(demo_def, {"/demo/miembros[3]/medad": "9"})
    assert s.repeat_count("/demo/miembros") == 3
    assert s.get("/demo/miembros[3]/doble") == "18"
    with pytest.raises(NotFound):
        FormSession(demo_def, {"/demo/miembros/medad": "9"})


def test_openrosa_xml(s):
    s.set("/demo/nombre", "Ana <&>")
    s.add_repeat("/demo/miembros")
    s.set("/demo/miembros[1]/medad", 20)
    xml = s.to_xml("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    root = ET.fromstring(xml)
    assert root.tag == "demo" and root.get("id") == "demo" and root.get("version") == "3"
    assert root.findtext("nombre") == "Ana <&>"
    assert root.findtext("miembros/medad") == "20"
    assert root.findtext("miembros/doble") == "40"
    assert root.findtext("meta/instanceID") == "uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert root.find("nota") is None  # notes carry no data
    assert root.find("grupo") is None  # not relevant


def test_start_and_today_metadata_are_filled_on_creation():
    from app.forms import load_form

    fd = load_form("| survey |\n| | type | name | label |\n| | start | inicio | |\n"
                   "| | today | dia | |\n| | text | a | A |\n")
    s = FormSession(fd, clock=fixed_clock)
    assert s.get("/data/dia") == "2026-03-10"
    from .conftest import TODAY

    assert s.get("/data/inicio") == TODAY.astimezone().isoformat(timespec="milliseconds")
    again = FormSession(fd, {"/data/a": "x"}, clock=fixed_clock)
    assert again.get("/data/dia") == ""  # an existing record is not re-stamped


NESTED = """| survey |
| | type | name | label | calculation | relevant | repeat_count |
| | begin repeat | casa | Casa | | | |
| | text | calle | Calle | | | |
| | begin repeat | persona | Persona | | | |
| | integer | edad | Edad | | | |
| | calculate | calle_de | | ${calle} | | |
| | calculate | n_en_casa | | count(../../persona) | | |
| | text | extra | Extra | | ${edad} > 1 | |
| | end repeat | | | | | |
| | calculate | suma | | sum(${edad}) | | |
| | end repeat | | | | | |
| | calculate | total | | count(${persona}) | | |
"""


def test_nested_repeats():
    from app.forms import load_form

    fd = load_form(NESTED)
    s = FormSession(fd, {"/data/casa[2]/persona[3]/edad": "5", "/data/casa[1]/calle": "A",
                         "/data/casa[2]/calle": "B", "/data/casa[1]/persona[1]/edad": "1"})
    assert s.repeats() == {"/data/casa": 2, "/data/casa[1]/persona": 1,
                           "/data/casa[2]/persona": 3}
    assert s.get("/data/casa[2]/persona[3]/calle_de") == "B"
    assert s.get("/data/casa[1]/persona[1]/calle_de") == "A"
    assert s.get("/data/casa[2]/persona[1]/n_en_casa") == "3"
    assert s.get("/data/casa[1]/persona[1]/n_en_casa") == "1"
    assert s.get("/data/total") == "4"
    s.set("/data/casa[2]/persona[1]/edad", 2)
    s.set("/data/casa[2]/persona[2]/edad", 3)
    assert s.get("/data/casa[2]/suma") == "10"
    assert s.state("/data/casa[2]/persona[2]/extra").relevant
    assert not s.state("/data/casa[1]/persona[1]/extra").relevant
    assert s.add_repeat("/data/casa[1]/persona") == "/data/casa[1]/persona[2]"
    assert s.get("/data/casa[1]/persona[1]/n_en_casa") == "2"
    assert s.get("/data/total") == "5"
    s.set("/data/casa[1]/calle", "Z")
    assert s.get("/data/casa[1]/persona[2]/calle_de") == "Z"
    assert s.get("/data/casa[2]/persona[2]/calle_de") == "B"
    s.remove_repeat("/data/casa", 1)
    assert s.get("/data/total") == "3" and s.get("/data/casa[1]/calle") == "B"
    again = FormSession.from_json(fd, s.to_json())
    assert again.to_json() == s.to_json()


def test_repeat_operations_refuse_bad_paths(s):
    s.add_repeat("/demo/miembros")
    with pytest.raises(NotFound):
        s.add_repeat("/demo/nombre")
    with pytest.raises(NotFound):
        s.remove_repeat("/demo/miembros", 5)
    with pytest.raises(NotFound):
        s.move_repeat("/demo/miembros", 1, 3)
    with pytest.raises(NotFound):
        s.move_repeat("/demo/grupo", 1, 1)
    with pytest.raises(NotFound):
        s.get("/otro/nombre")
    with pytest.raises(NotFound):
        s.get("/demo/miembros/medad")  # a repeat needs its position
    assert s.repeat_count("/demo/miembros") == 1


def test_hostile_answers_are_refused_cleanly(demo_def):
    from app.core.errors import SieeError

    for bad in (
        {"answers": {}, "repeats": {"/demo/miembros": 10**9}},
        {"answers": {}, "repeats": {"/demo/miembros": "muchos"}},
        {"/demo/miembros[100000]/medad": "1"},
        {"/demo/grupo": "x"},
        {"/demo/nada": "x"},
    ):
        with pytest.raises(SieeError):
            FormSession(demo_def, bad)
