"""summary() and dnis() for the store and the record list."""

from __future__ import annotations

from app.forms import FormSession, dnis, summary

from .conftest import fixed_clock
from .test_fsu_rules import s100_answers


def test_fsu_summary_and_dnis(fsu_def, fsu):
    data = fsu.to_json()
    assert summary(fsu_def, data) == {
        "head_name": "Quispe Huamán, Juan Carlos",
        "head_dni": "41234567",
        "ubigeo": "080108",
        "members": 4,
    }
    # member 4 has a CUI, not a DNI
    assert dnis(fsu_def, data) == ["41234567", "43876512", "78451236"]
    # the flat answers map works too
    assert summary(fsu_def, data["answers"])["head_dni"] == "41234567"


def test_fsu_summary_without_jefe(fsu_def, fsu):
    fsu.set("/fsu/integrantes[1]/parentesco", "10")
    out = summary(fsu_def, fsu.to_json())
    assert out["head_name"] == "" and out["head_dni"] == "" and out["members"] == 4


def test_s100_summary_uses_the_requester(s100_def):
    s = FormSession(s100_def, s100_answers(), clock=fixed_clock)
    data = s.to_json()
    assert summary(s100_def, data) == {
        "head_name": "Quispe Huamán, Juan Carlos",
        "head_dni": "41234567",
        "ubigeo": "080108",
        "members": 2,  # the requester is one of the listed members
    }
    assert dnis(s100_def, data) == ["41234567", "43876512"]


def test_invalid_dnis_are_not_listed(fsu_def, fsu):
    fsu.set("/fsu/integrantes[2]/num_doc", "123")
    assert "123" not in dnis(fsu_def, fsu.to_json())
