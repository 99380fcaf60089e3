"""The FSU and S100 consistency rules: a case that passes, one that fails with its
Spanish message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.identifiers import dni_check_chars
from app.forms import FormSession, load_form

from .conftest import fixed_clock

M = "/fsu/integrantes"
FSU_MD = Path(__file__).resolve().parents[2] / "app/forms/bundled/fsu.md"


def messages(s: FormSession) -> dict[str, str]:
    return {i.path: i.message for i in s.validate().errors}


def test_the_example_household_is_complete(fsu):
    rep = fsu.validate()
    assert rep.errors == [] and rep.warnings == []
    assert fsu.get(f"{M}[1]/edad") == "44"
    assert fsu.get(f"{M}[4]/edad") == "4"
    assert fsu.get("/fsu/resumen/n_jefes") == "1"
    assert fsu.get("/fsu/resumen/edad_jefe") == "44"
    assert fsu.get(f"{M}[1]/dni") == "41234567"


def test_age_is_exact_on_the_birthday(fsu):
    fsu.set(f"{M}[3]/fecha_nacimiento", "2012-03-10")
    assert fsu.get(f"{M}[3]/edad") == "14"
    fsu.set(f"{M}[3]/fecha_nacimiento", "2012-03-11")
    assert fsu.get(f"{M}[3]/edad") == "13"


def test_exactly_one_jefe_none(fsu):
    fsu.set(f"{M}[1]/parentesco", "10")
    errs = messages(fsu)
    assert errs["/fsu/resumen/n_jefes"] == "Debe haber exactamente un jefe de hogar."


def test_exactly_one_jefe_two(fsu):
    fsu.set(f"{M}[2]/parentesco", "1")
    errs = messages(fsu)
    assert errs["/fsu/resumen/n_jefes"] == "Debe haber exactamente un jefe de hogar."
    msg = "Debe haber exactamente un jefe de hogar: ya hay otro integrante registrado como jefe."
    assert errs[f"{M}[1]/parentesco"] == msg
    assert errs[f"{M}[2]/parentesco"] == msg
    fsu.set(f"{M}[2]/parentesco", "2")
    assert fsu.validate().errors == []


def test_jefe_and_spouse_plausible_age(fsu):
    fsu.set(f"{M}[2]/fecha_nacimiento", "2016-01-01")  # a 10-year-old "spouse"
    assert messages(fsu)[f"{M}[2]/parentesco"] == (
        "El jefe de hogar y su cónyuge deben tener al menos 12 años.")
    fsu.set(f"{M}[2]/fecha_nacimiento", "2010-01-01")  # 16: allowed, with a warning
    assert f"{M}[2]/parentesco" not in messages(fsu)
    warns = {w.path: w.message for w in fsu.validate().warnings}
    assert warns[f"{M}[2]/parentesco"] == (
        "Jefe de hogar o cónyuge menor de 18 años: confirme la edad.")


def test_child_younger_than_jefe(fsu):
    fsu.set(f"{M}[3]/fecha_nacimiento", "1970-01-01")  # a "daughter" older than the head
    assert messages(fsu)[f"{M}[3]/parentesco"] == (
        "Un hijo, hija, nieto o nieta debe ser menor que el jefe de hogar.")
    # the rule follows the head's age too
    fsu.set(f"{M}[3]/fecha_nacimiento", "2012-02-15")
    assert f"{M}[3]/parentesco" not in messages(fsu)
    fsu.set(f"{M}[1]/fecha_nacimiento", "2013-01-01")
    assert messages(fsu)[f"{M}[3]/parentesco"].startswith("Un hijo, hija")


def test_parent_older_than_jefe(fsu):
    fsu.add_repeat(M)
    base = f"{M}[5]"
    for k, v in {"apellido_paterno": "Quispe", "nombres": "Abuelo", "tipo_doc": "4",
                 "parentesco": "6", "sexo": "1", "fecha_nacimiento": "1950-01-01"}.items():
        fsu.set(f"{base}/{k}", v)
    assert f"{base}/parentesco" not in messages(fsu)
    fsu.set(f"{base}/fecha_nacimiento", "1990-01-01")
    assert messages(fsu)[f"{base}/parentesco"] == (
        "El padre, la madre o el suegro(a) debe ser mayor que el jefe de hogar.")


def test_gestante_asked_only_of_women_of_the_ages_the_form_sets(fsu):
    assert fsu.get("/fsu/edad_min_gestante") == "12"
    assert fsu.get("/fsu/edad_max_gestante") == "49"
    fsu.set(f"{M}[2]/gestante", "1")  # 40 years old
    assert fsu.state(f"{M}[2]/gestante").relevant
    assert f"{M}[2]/gestante" not in messages(fsu)
    fsu.set(f"{M}[2]/fecha_nacimiento", "1976-03-10")  # 50 today: not asked
    assert not fsu.state(f"{M}[2]/gestante").relevant
    assert f"{M}[2]/gestante" not in fsu.to_json()["answers"]
    fsu.set(f"{M}[2]/fecha_nacimiento", "1976-03-11")  # 49: asked again, answer back
    assert fsu.state(f"{M}[2]/gestante").relevant
    assert fsu.to_json()["answers"][f"{M}[2]/gestante"] == "1"
    fsu.set(f"{M}[2]/fecha_nacimiento", "1950-01-01")  # 76: not asked
    assert not fsu.state(f"{M}[2]/gestante").relevant
    fsu.set(f"{M}[3]/fecha_nacimiento", "2014-03-10")  # 12 today: asked
    assert fsu.state(f"{M}[3]/gestante").relevant
    fsu.set(f"{M}[3]/fecha_nacimiento", "2015-01-01")  # 11: not asked
    assert not fsu.state(f"{M}[3]/gestante").relevant
    assert f"{M}[3]/gestante" not in fsu.to_json()["answers"]
    # men are not asked: the answer is kept aside, not submitted
    fsu.set(f"{M}[3]/fecha_nacimiento", "2012-02-15")
    fsu.set(f"{M}[3]/sexo", "1")
    assert not fsu.state(f"{M}[3]/gestante").relevant
    assert f"{M}[3]/gestante" not in messages(fsu)
    assert f"{M}[3]/gestante" not in fsu.to_json()["answers"]


def test_thresholds_live_in_the_form_file(fsu_answers):
    """A new form version changes a threshold without code: here the pregnancy
    question's upper age, 49 -> 45."""
    row = re.compile(r"^(\| \| calculate \| edad_max_gestante \|.*?\| )49( \|.*)$", re.M)
    text, n = row.subn(r"\g<1>45\g<2>", FSU_MD.read_text("utf-8"))
    assert n == 1
    s = FormSession(load_form(text), fsu_answers, clock=fixed_clock)
    s.set(f"{M}[2]/fecha_nacimiento", "1980-01-01")  # 46
    assert not s.state(f"{M}[2]/gestante").relevant
    s.set(f"{M}[2]/fecha_nacimiento", "1981-01-01")  # 45
    assert s.state(f"{M}[2]/gestante").relevant


@pytest.mark.parametrize(("dob", "level", "ok"), [
    ("2021-11-03", "2", True),   # 4 years, inicial
    ("2021-11-03", "3", False),  # 4 years, primaria
    ("2012-02-15", "4", True),   # 14, secundaria
    ("2016-02-15", "4", False),  # 10, secundaria
    ("2012-02-15", "6", False),  # 14, universidad
    ("1990-01-01", "7", True),   # 36, posgrado
])
def test_education_level_possible_for_age(fsu, dob, level, ok):
    p = f"{M}[4]"
    fsu.set(f"{p}/fecha_nacimiento", dob)
    fsu.set(f"{p}/nivel_educativo", level)
    msg = messages(fsu).get(f"{p}/nivel_educativo")
    if ok:
        assert msg is None
    else:
        assert msg == "El nivel educativo no es posible para la edad del integrante."


def test_dni_check_character(fsu):
    good = "41234567-" + dni_check_chars("41234567")[0]
    fsu.set(f"{M}[1]/num_doc", good)
    assert fsu.state(f"{M}[1]/num_doc").valid
    letter = "41234567" + dni_check_chars("41234567")[1]
    fsu.set(f"{M}[1]/num_doc", letter)
    assert fsu.state(f"{M}[1]/num_doc").valid
    wrong = "41234567-" + str((int(dni_check_chars("41234567")[0]) + 1) % 10)
    fsu.set(f"{M}[1]/num_doc", wrong)
    st = fsu.state(f"{M}[1]/num_doc")
    assert not st.valid and st.message.startswith("Número de documento inválido: el DNI tiene 8")
    fsu.set(f"{M}[1]/num_doc", "4123456")
    assert not fsu.state(f"{M}[1]/num_doc").valid
    # a carné de extranjería follows its own rule
    fsu.set(f"{M}[1]/tipo_doc", "3")
    fsu.set(f"{M}[1]/num_doc", "CE001234")
    assert fsu.state(f"{M}[1]/num_doc").valid


def test_dni_unique_in_household(fsu):
    fsu.set(f"{M}[3]/num_doc", "41234567")  # the head's DNI without check character
    errs = messages(fsu)
    msg = "El DNI 41234567 está repetido en el hogar: cada integrante tiene un DNI distinto."
    assert errs[f"{M}[3]/dni"] == msg and errs[f"{M}[1]/dni"] == msg
    fsu.set(f"{M}[3]/num_doc", "78451236")
    assert fsu.validate().errors == []


def test_member_count_agrees(fsu):
    fsu.set("/fsu/hogar/num_personas", 5)
    assert messages(fsu)["/fsu/hogar/num_personas"] == (
        "El número de personas del hogar (5) debe coincidir con los integrantes registrados (4).")
    fsu.remove_repeat(M, 4)
    assert messages(fsu)["/fsu/hogar/num_personas"].endswith("registrados (3).")
    fsu.set("/fsu/hogar/num_personas", 3)
    assert "/fsu/hogar/num_personas" not in messages(fsu)


def test_informant_is_a_member(fsu):
    fsu.set("/fsu/control/informante", 7)
    assert messages(fsu)["/fsu/control/informante"] == (
        "El informante debe ser uno de los integrantes registrados.")


def test_empty_fsu_lists_required_answers(fsu_def):
    s = FormSession(fsu_def, clock=fixed_clock)
    errs = messages(s)
    assert errs["/fsu/ubicacion/departamento"] == "Esta pregunta es obligatoria."
    assert errs["/fsu/resumen/n_jefes"] == "Debe haber exactamente un jefe de hogar."
    assert s.get("/fsu/control/fecha_visita") == "2026-03-10"


def s100_answers() -> dict[str, str]:
    return {
        "/s100/solicitud/tipo_solicitud": "2.1",
        "/s100/solicitud/fecha_solicitud": "2026-03-02",
        "/s100/solicitante/sol_apellido_paterno": "Quispe",
        "/s100/solicitante/sol_apellido_materno": "Huamán",
        "/s100/solicitante/sol_nombres": "Juan Carlos",
        "/s100/solicitante/sol_tipo_doc": "1",
        "/s100/solicitante/sol_num_doc": "41234567",
        "/s100/solicitante/sol_fecha_nacimiento": "1981-04-12",
        "/s100/domicilio/departamento": "08",
        "/s100/domicilio/provincia": "0801",
        "/s100/domicilio/distrito": "080108",
        "/s100/domicilio/tipo_via": "3",
        "/s100/domicilio/nombre_via": "Los Pinos",
        "/s100/domicilio/numero_puerta": "214",
        "/s100/domicilio/comunidad_indigena": "2",
        "/s100/integrantes[1]/apellidos": "Quispe Huamán",
        "/s100/integrantes[1]/nombres": "Juan Carlos",
        "/s100/integrantes[1]/tipo_doc": "1",
        "/s100/integrantes[1]/num_doc": "41234567-9",
        "/s100/integrantes[2]/apellidos": "Mamani Condori",
        "/s100/integrantes[2]/nombres": "Rosa",
        "/s100/integrantes[2]/tipo_doc": "1",
        "/s100/integrantes[2]/num_doc": "43876512",
        "/s100/registro/ule": "080108",
        "/s100/registro/registrador": "Ana Torres",
    }


def test_s100_complete_and_rules(s100_def):
    s = FormSession(s100_def, s100_answers(), clock=fixed_clock)
    assert s.validate().errors == []
    s.set("/s100/solicitante/sol_fecha_nacimiento", "2010-01-01")
    assert messages(s)["/s100/solicitante/sol_fecha_nacimiento"] == (
        "El solicitante debe ser mayor de edad (18 años o más).")
    s.set("/s100/domicilio/comunidad_indigena", "1")
    assert messages(s)["/s100/domicilio/nombre_comunidad"] == "Esta pregunta es obligatoria."
    s.set("/s100/integrantes[2]/num_doc", "4387651")
    assert messages(s)["/s100/integrantes[2]/num_doc"].startswith("Número de documento inválido")


# -- issue 15: the interview result, the dwelling's households, more reviewer checks ------


def warnings_of(s: FormSession) -> dict[str, str]:
    return {w.path: w.message for w in s.validate().warnings}


def failed_visit(fsu_def, resultado: str) -> FormSession:
    """A new FSU made from an S100 (address and members carried over) where the
    enumerator found nobody to interview."""
    s = FormSession(fsu_def, {
        "/fsu/ubicacion/departamento": "08", "/fsu/ubicacion/provincia": "0801",
        "/fsu/ubicacion/distrito": "080108", "/fsu/ubicacion/area": "1",
        "/fsu/ubicacion/nombre_via": "Los Pinos", "/fsu/ubicacion/numero_puerta": "214",
        f"{M}[1]/apellido_paterno": "Quispe", f"{M}[1]/nombres": "Juan",
        "/fsu/control/empadronador": "Ana Torres", "/fsu/control/fecha_visita": "2026-03-09",
    }, clock=fixed_clock)
    s.set("/fsu/control/resultado", resultado)
    return s


def test_a_household_not_interviewed_is_asked_nothing_it_cannot_know(fsu_def):
    s = failed_visit(fsu_def, "")
    assert len(messages(s)) > 10  # nobody said the visit failed: everything is asked
    for code in ("3", "4", "5", "6", "7", "8", "9"):
        s.set("/fsu/control/resultado", code)
        assert s.validate().errors == [], code
        for group in ("vivienda", "hogar", "resumen"):
            assert not s.state(f"/fsu/{group}").relevant
        assert not s.state(f"{M}[1]").relevant
        assert not s.state("/fsu/control/informante").relevant
        answers = s.to_json()["answers"]
        assert not [p for p in answers if p.startswith(f"{M}[")]  # members not submitted
        assert answers["/fsu/ubicacion/nombre_via"] == "Los Pinos"  # the address is kept
    # the official results of a failed visit are choices of the form
    labels = dict(s.state("/fsu/control/resultado").choices)
    assert labels["4"] == "Ausente / no ubicado" and labels["6"] == "No reside en la vivienda"
    assert labels["9"] == "Vivienda colectiva"
    # the visit happened after all: everything is asked again, the members come back
    s.set("/fsu/control/resultado", "1")
    assert s.state(f"{M}[1]").relevant
    assert s.to_json()["answers"][f"{M}[1]/apellido_paterno"] == "Quispe"
    errs = messages(s)
    assert errs["/fsu/vivienda/tipo_vivienda"] == "Esta pregunta es obligatoria."
    assert errs["/fsu/control/informante"] == "Esta pregunta es obligatoria."


def test_a_failed_visit_still_needs_what_the_enumerator_knows(fsu_def):
    s = failed_visit(fsu_def, "4")
    s.set("/fsu/ubicacion/area", "")
    s.set("/fsu/control/empadronador", "")
    assert set(messages(s)) == {"/fsu/ubicacion/area", "/fsu/control/empadronador"}


def test_an_incomplete_interview_keeps_its_answers_without_requiring_the_rest(fsu):
    fsu.set("/fsu/control/resultado", "2")
    fsu.set("/fsu/vivienda/paredes", "")
    fsu.set(f"{M}[2]/sexo", "")
    assert fsu.state("/fsu/vivienda").relevant
    assert fsu.validate().errors == []
    # what was answered is still checked
    fsu.set(f"{M}[2]/parentesco", "1")
    assert f"{M}[2]/parentesco" in messages(fsu)
    fsu.set(f"{M}[2]/parentesco", "2")
    fsu.set("/fsu/control/resultado", "1")
    assert messages(fsu) == {"/fsu/vivienda/paredes": "Esta pregunta es obligatoria.",
                             f"{M}[2]/sexo": "Esta pregunta es obligatoria."}


def test_households_in_the_dwelling_and_area(fsu):
    assert fsu.get("/fsu/vivienda/num_hogares") == "1"
    fsu.set("/fsu/hogar/num_hogar", "2")
    assert messages(fsu)["/fsu/hogar/num_hogar"] == (
        "El número de hogar debe estar entre 1 y el número de hogares de la vivienda (1).")
    fsu.set("/fsu/vivienda/num_hogares", "3")
    assert fsu.validate().errors == []
    fsu.set("/fsu/vivienda/num_hogares", "0")
    assert messages(fsu)["/fsu/vivienda/num_hogares"] == (
        "Los hogares de la vivienda deben estar entre 1 y 20.")
    fsu.set("/fsu/vivienda/num_hogares", "")
    fsu.set("/fsu/ubicacion/area", "")
    errs = messages(fsu)
    assert errs["/fsu/vivienda/num_hogares"] == "Esta pregunta es obligatoria."
    assert errs["/fsu/ubicacion/area"] == "Esta pregunta es obligatoria."
    assert fsu.state("/fsu/ubicacion/area").choices == [("1", "Urbana"), ("2", "Rural")]


def test_the_usual_resident_rule_is_in_the_help(fsu):
    assert "residentes habituales" in fsu.state("/fsu/hogar/num_personas").hint
    assert "No cuente a visitas" in fsu.state("/fsu/hogar/num_personas").hint
    assert "residente habitual" in fsu.state(f"{M}[1]").hint


def test_at_most_one_spouse(fsu):
    fsu.set(f"{M}[3]/parentesco", "2")  # the 14-year-old daughter as a second spouse
    fsu.set(f"{M}[3]/fecha_nacimiento", "1990-01-01")
    errs = messages(fsu)
    msg = ("Solo puede haber un(a) cónyuge del jefe de hogar: ya hay otro integrante "
           "registrado como esposo(a) o compañero(a).")
    assert errs[f"{M}[2]/parentesco"] == msg and errs[f"{M}[3]/parentesco"] == msg
    assert errs["/fsu/resumen/n_conyuges"] == "Solo puede haber un(a) cónyuge del jefe de hogar."
    fsu.set(f"{M}[3]/parentesco", "10")
    assert fsu.validate().errors == []


def test_a_child_one_year_younger_than_the_head_is_refused(fsu):
    # head 44, spouse 40: a "son" of 43
    fsu.set(f"{M}[3]/fecha_nacimiento", "1983-01-01")
    assert messages(fsu)[f"{M}[3]/parentesco"] == (
        "Un hijo o hija debe tener al menos 12 años menos que el jefe de hogar o que su "
        "cónyuge: revise las fechas de nacimiento o el parentesco.")
    # a stepchild: the spouse (66) is old enough to be the parent
    fsu.set(f"{M}[2]/fecha_nacimiento", "1960-01-01")
    assert f"{M}[3]/parentesco" not in messages(fsu)
    assert f"{M}[3]/parentesco" not in warnings_of(fsu)
    # possible but unusual: 12 years younger than the head, 8 than the spouse
    fsu.set(f"{M}[2]/fecha_nacimiento", "1985-09-30")
    fsu.set(f"{M}[3]/fecha_nacimiento", "1993-04-12")
    assert f"{M}[3]/parentesco" not in messages(fsu)
    assert warnings_of(fsu)[f"{M}[3]/parentesco"] == (
        "Hijo o hija con menos de 15 años de diferencia con el jefe de hogar y su cónyuge: "
        "confirme las fechas de nacimiento y el parentesco.")
    fsu.set(f"{M}[3]/fecha_nacimiento", "2012-02-15")
    assert warnings_of(fsu) == {}


def test_a_parent_of_the_head_plausibly_older(fsu):
    fsu.add_repeat(M)
    base = f"{M}[5]"
    for k, v in {"apellido_paterno": "Quispe", "nombres": "Abuelo", "tipo_doc": "4",
                 "parentesco": "6", "sexo": "1", "fecha_nacimiento": "1975-01-01"}.items():
        fsu.set(f"{base}/{k}", v)  # 51: 7 years older than the head, 11 than the spouse
    assert messages(fsu)[f"{base}/parentesco"] == (
        "El padre, la madre o el suegro(a) debe tener al menos 12 años más que el jefe de "
        "hogar o que su cónyuge: revise las fechas de nacimiento o el parentesco.")
    fsu.set(f"{base}/fecha_nacimiento", "1972-01-01")  # 54: the spouse's father
    assert f"{base}/parentesco" not in messages(fsu)


def test_the_informant_is_old_enough(fsu):
    fsu.set("/fsu/control/informante", "4")  # Mateo, 4 years old
    assert messages(fsu)["/fsu/control/informante"] == (
        "El informante debe tener al menos 12 años: anote el N° de orden de un integrante "
        "que pueda responder por el hogar.")
    fsu.set("/fsu/control/informante", "3")  # Luz, 14: allowed, flagged
    assert "/fsu/control/informante" not in messages(fsu)
    assert warnings_of(fsu)["/fsu/control/informante"] == (
        "Informante menor de 18 años: confirme que pudo responder por el hogar.")
    fsu.set("/fsu/control/informante", "2")
    assert fsu.validate().errors == [] and warnings_of(fsu) == {}


def test_literacy_consistent_with_age_and_schooling(fsu):
    fsu.set(f"{M}[4]/sabe_leer", "1")  # Mateo, 4 years old
    assert messages(fsu)[f"{M}[4]/sabe_leer"] == (
        "Un niño o niña menor de 5 años no puede registrarse como que sabe leer y escribir: "
        "revise la respuesta o la fecha de nacimiento.")
    fsu.set(f"{M}[4]/fecha_nacimiento", "2021-03-10")  # 5 today
    assert f"{M}[4]/sabe_leer" not in messages(fsu)
    fsu.set(f"{M}[1]/sabe_leer", "2")  # the head finished secundaria
    assert warnings_of(fsu)[f"{M}[1]/nivel_educativo"] == (
        "Aprobó secundaria o más pero no sabe leer y escribir: confirme ambas respuestas.")
    assert f"{M}[1]/nivel_educativo" not in messages(fsu)


def test_the_s100_requester_is_one_of_the_members(s100_def):
    s = FormSession(s100_def, s100_answers(), clock=fixed_clock)
    assert s.get("/s100/solicitante/solicitante_en_hogar") == "1"  # member 1, DNI with check digit
    msg = ("El solicitante debe figurar entre los integrantes del hogar: regístrelo en "
           "«Composición del hogar» con el mismo documento.")
    s.set("/s100/integrantes[1]/num_doc", "41234568")
    assert messages(s)["/s100/solicitante/solicitante_en_hogar"] == msg
    s.remove_repeat("/s100/integrantes", 1)
    assert messages(s)["/s100/solicitante/solicitante_en_hogar"] == msg
    s.add_repeat("/s100/integrantes")
    for k, v in {"apellidos": "Quispe Huamán", "nombres": "Juan Carlos", "tipo_doc": "1",
                 "num_doc": "４１２３４５６７"}.items():  # typed in full-width digits
        s.set(f"/s100/integrantes[2]/{k}", v)
    assert s.validate().errors == []
    # a carné de extranjería is compared as written
    s.set("/s100/solicitante/sol_tipo_doc", "3")
    s.set("/s100/solicitante/sol_num_doc", "CE001234")
    assert "/s100/solicitante/solicitante_en_hogar" in messages(s)
    s.set("/s100/integrantes[2]/tipo_doc", "3")
    s.set("/s100/integrantes[2]/num_doc", "CE001234")
    assert s.validate().errors == []
