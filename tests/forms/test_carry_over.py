from app.demo import households
from app.demo_answers import s100_answers
from app.forms import FormSession, bundled_form, carry_over


def test_s100_household_carries_into_a_new_fsu():
    hh = households(1, seed=21)[0]
    src = FormSession(bundled_form("s100"), s100_answers(hh))
    dst = FormSession(bundled_form("fsu"))
    assert carry_over(src, dst) > 0
    assert dst.get("/fsu/ubicacion/distrito") == hh.ubigeo
    assert dst.repeat_count("/fsu/integrantes") == len(hh.members)
    for i, m in enumerate(hh.members, 1):
        assert dst.get(f"/fsu/integrantes[{i}]/apellido_paterno") == m.apellido_paterno
        assert dst.get(f"/fsu/integrantes[{i}]/apellido_materno") == m.apellido_materno
        assert dst.get(f"/fsu/integrantes[{i}]/nombres") == m.nombres
    # Questions the FSU asks anew are left empty.
    assert dst.get("/fsu/integrantes[1]/parentesco") == ""


def test_the_address_and_phone_carry_over_by_name():
    hh = households(1, seed=22)[0]
    src = FormSession(bundled_form("s100"), {**s100_answers(hh),
                                             "/s100/domicilio/interior": "3B",
                                             "/s100/domicilio/km": "12.5"})
    dst = FormSession(bundled_form("fsu"))
    carry_over(src, dst)
    street, number = hh.direccion.rsplit(" ", 1)
    assert dst.get("/fsu/ubicacion/nombre_via") == street
    assert dst.get("/fsu/ubicacion/numero_puerta") == number
    assert dst.get("/fsu/ubicacion/tipo_via") == src.get("/s100/domicilio/tipo_via") != ""
    assert dst.get("/fsu/ubicacion/interior") == "3B"
    assert dst.get("/fsu/ubicacion/km") == "12.5"
    assert dst.get("/fsu/ubicacion/telefono") == hh.telefono


def test_the_requester_brings_the_birth_date_to_the_member_with_the_same_document():
    hh = households(1, seed=23)[0]
    answers = s100_answers(hh)
    # the requester is the second listed member, with the DNI's check digit
    other = next(m for m in hh.members[1:] if m.dni)
    k = hh.members.index(other) + 1
    answers.update({
        "/s100/solicitante/sol_apellido_paterno": other.apellido_paterno,
        "/s100/solicitante/sol_nombres": other.nombres,
        "/s100/solicitante/sol_num_doc": f"{other.dni}-{other.dni_check}",
        "/s100/solicitante/sol_fecha_nacimiento": "1990-06-15",
    })
    src = FormSession(bundled_form("s100"), answers)
    dst = FormSession(bundled_form("fsu"))
    carry_over(src, dst)
    assert dst.get(f"/fsu/integrantes[{k}]/fecha_nacimiento") == "1990-06-15"
    assert [i for i in range(1, len(hh.members) + 1)
            if dst.get(f"/fsu/integrantes[{i}]/fecha_nacimiento")] == [k]
    # what the FSU already holds is not overwritten; nobody with that document: nothing
    dst.set(f"/fsu/integrantes[{k}]/fecha_nacimiento", "1991-01-01")
    carry_over(src, dst)
    assert dst.get(f"/fsu/integrantes[{k}]/fecha_nacimiento") == "1991-01-01"
    src.set("/s100/solicitante/sol_num_doc", "10000000")
    fresh = FormSession(bundled_form("fsu"))
    carry_over(src, fresh)
    assert not [i for i in range(1, len(hh.members) + 1)
                if fresh.get(f"/fsu/integrantes[{i}]/fecha_nacimiento")]
