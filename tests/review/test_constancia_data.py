"""What the household's constancia shows (the PDF itself: tests/ui/test_review_constancia.py)."""

from __future__ import annotations

import pytest

from app.core.errors import NotAllowed, ValidationError
from tests.review.helpers import post_result


def test_constancia_data_with_result(team, homes):
    hh = homes[0]
    ws = team.as_("emp")
    uuid = team.fsu(hh)
    s100 = team.s100(hh)
    draft = team.fsu(homes[1], complete=False)
    data = ws.documents.constancia(uuid)
    assert data.head_name == hh.head.full_name
    assert [m.nombre for m in data.members] == [m.full_name for m in hh.members]
    assert data.members[0].parentesco == "Jefe/jefa del hogar"
    assert data.members[0].documento.startswith(f"DNI {hh.head.dni}")
    assert data.municipality == "Municipalidad Provincial de Lima"  # ULE 150101
    assert data.visit_date == "02/11/2026"
    assert data.result is None and data.state_label == "Completa"
    labels = dict(data.answers)
    assert "Tipo de vivienda" in labels and "Material predominante en las paredes" in labels
    assert not any(v.isdigit() and k.startswith("Tipo de vivienda") for k, v in data.answers)
    assert ws.history(uuid)[0].action == "constancia"
    with pytest.raises(NotAllowed):
        ws.documents.constancia(draft)
    with pytest.raises(ValidationError):
        ws.documents.constancia(s100)
    ws = team.as_("sup")
    ws.review.approve(uuid)
    post_result(ws, uuid, "pobre_extremo", "2026-11-25", "2029-11-25")
    data = ws.documents.constancia(uuid)
    assert data.result == {
        "category": "Pobre extremo", "date": "25/11/2026", "valid_until": "25/11/2029"
    }
    assert data.issued_by == "Rosa Quispe (sup)"
