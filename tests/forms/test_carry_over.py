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
