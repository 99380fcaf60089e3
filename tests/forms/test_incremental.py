"""Property: after any sequence of edits, the incrementally updated session is in
the same state as a session evaluated from scratch with the same answers."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.forms import FormSession, bundled_form

from .conftest import DATA, fixed_clock

EXAMPLE = json.loads((DATA / "fsu_example.json").read_text("utf-8"))

FIELDS = {
    "parentesco": ["1", "2", "3", "5", "6", ""],
    "fecha_nacimiento": ["1950-02-01", "2020-01-01", "2012-03-10", ""],
    "sexo": ["1", "2"],
    "tipo_doc": ["1", "3", "4"],
    "num_doc": ["41234567", "43876512", "4123456", "CE1234", ""],
    "nivel_educativo": ["2", "4", "7"],
    "gestante": ["1", "2"],
}
TOP = {
    "/fsu/hogar/num_personas": ["1", "2", "3", ""],
    "/fsu/ubicacion/departamento": ["15", "08", ""],
    "/fsu/ubicacion/provincia": ["1501", "0801", ""],
    "/fsu/vivienda/alumbrado": ["1", "2"],
}

op = st.one_of(
    st.tuples(st.just("member"), st.integers(1, 4), st.sampled_from(sorted(FIELDS)),
              st.integers(0, 5)),
    st.tuples(st.just("top"), st.sampled_from(sorted(TOP)), st.integers(0, 3)),
    st.tuples(st.just("add"), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.integers(1, 4)),
    st.tuples(st.just("move"), st.integers(1, 4), st.integers(1, 4)),
)


def snapshot(s: FormSession) -> list[tuple]:
    return [(x.path, x.value, x.relevant, x.required, x.valid, x.message, x.warning,
             x.read_only, x.label, tuple(x.choices or ())) for x in s.iter_nodes()]


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(op, min_size=1, max_size=12))
def test_incremental_equals_full_evaluation(from_example, ops):
    fd = bundled_form("fsu")
    s = FormSession(fd, EXAMPLE if from_example else None, clock=fixed_clock)
    m = "/fsu/integrantes"
    for o in ops:
        n = s.repeat_count(m)
        if o[0] == "member" and n:
            i = min(o[1], n)
            values = FIELDS[o[2]]
            s.set(f"{m}[{i}]/{o[2]}", values[o[3] % len(values)])
        elif o[0] == "top":
            values = TOP[o[1]]
            s.set(o[1], values[o[2] % len(values)])
        elif o[0] == "add":
            s.add_repeat(m, position=min(o[1], n) + 1 if o[1] else None)
        elif o[0] == "remove" and n:
            s.remove_repeat(m, min(o[1], n))
        elif o[0] == "move" and n:
            s.move_repeat(m, min(o[1], n), min(o[2], n))
    fresh = FormSession(fd, s.to_json(include_aside=True), clock=fixed_clock)
    assert snapshot(fresh) == snapshot(s)
    assert fresh.validate() == s.validate()
