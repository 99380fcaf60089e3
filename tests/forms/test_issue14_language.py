"""Issue 14, faults 1, 3 and 7 on the language side: dates in the local time zone,
NaN at the function level, and references inside repeats. The forms are pyxform
markdown and answers are set in the order given."""

from __future__ import annotations

import os
import time

import pytest

from app.forms import FormSession, load_form
from app.forms.xpath import stored_string

DATES = """
| survey |
| | type | name | label | calculation |
| | date | d | D | |
| | dateTime | dt | DT | |
| | calculate | h | | (decimal-date-time(${dt}) - decimal-date-time(${d})) * 24 |
| | calculate | rt | | date-time(decimal-date-time(${dt})) |
| | calculate | dd | | decimal-date-time(${d}) |
| | calculate | back | | date(decimal-date-time(${d})) |
| | calculate | next | | date(${d} + 1) |
| | calculate | age_days | | ${d} - date('2021-10-01') |
"""


@pytest.fixture
def tz(request):
    old = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.mark.parametrize(("tz", "offset", "dd"), [
    ("America/Lima", "-05:00", 18906 + 5 / 24),
    ("Asia/Kolkata", "+05:30", 18906 - 5.5 / 24),
], indirect=["tz"])
def test_fault1_a_date_is_local_midnight(tz, offset, dd):
    s = FormSession(load_form(DATES))
    s.set("/data/d", "2021-10-06")
    s.set("/data/dt", f"2021-10-06T08:00:00.000{offset}")
    assert float(s.get("/data/h")) == pytest.approx(8, abs=1e-6)
    assert s.get("/data/rt") == f"2021-10-06T08:00:00.000{offset}"
    assert float(s.get("/data/dd")) == pytest.approx(dd, abs=1e-6)
    assert s.get("/data/back") == "2021-10-06"
    assert s.get("/data/next") == "2021-10-07"
    assert s.get("/data/age_days") == "5"


NAN_FORM = """
| survey |
| | type | name | label | calculation | relevant |
| | decimal | w | W | | |
| | decimal | h | H | | |
| | calculate | bmi | | ${w} div (${h} * ${h}) | |
| | note | show | BMI ${bmi} | | ${bmi} != '' |
| | text | t | T | | |
| | calculate | txt | | string(number(${t})) | |
"""


def test_fault3_nan_is_nan_in_string_but_empty_once_stored():
    # the function level: string(NaN) is 'NaN' (XPath), a stored NaN is empty (ODK)
    s = FormSession(load_form(NAN_FORM))
    assert s.get("/data/txt") == "NaN"  # string() itself says NaN, as XPath 1.0
    assert stored_string(float("nan")) == ""
    s.set("/data/w", "70")
    s.set("/data/h", "1.75")
    assert float(s.get("/data/bmi")) == pytest.approx(22.857, abs=1e-3)
    assert s.state("/data/show").relevant


REPEAT = """
| survey |
| | type | name | label | calculation |
| | begin repeat | r | R | |
| | text | nm | Name | |
| | integer | age | Age | |
| | text | flag | Flag | |
| | calculate | older | | count(../../r[age > ${age}]) |
| | calculate | same | | count(/data/r[nm = ${nm}]) |
| | calculate | idx | | position(..) |
| | calculate | prev | | indexed-repeat(${nm}, ${r}, ${idx} - 1) |
| | calculate | nested | | concat(${nm}, '-', ${older}) |
| | calculate | twice | | if(string-length(${nm}) > 0, concat(${nm}, ${nm}), '') |
| | end repeat | | |
| | calculate | flagged | | count(${r}[${flag} = 'yes']) |
| | calculate | flagged_age | | sum(${r}[${flag} = 'yes']/age) |
| | calculate | all_names | | join(' ', ${nm}) |
"""


def test_fault7_references_inside_repeats_use_the_current_instance():
    s = FormSession(load_form(REPEAT))
    rows = [("ana", "30", "yes"), ("bob", "20", "no"), ("ana", "40", "yes")]
    for i, (n, a, f) in enumerate(rows, 1):
        s.add_repeat("/data/r")
        s.set(f"/data/r[{i}]/nm", n)
        s.set(f"/data/r[{i}]/age", a)
        s.set(f"/data/r[{i}]/flag", f)
    got = {k: [s.get(f"/data/r[{i}]/{k}") for i in (1, 2, 3)]
           for k in ("older", "same", "idx", "prev", "nested", "twice")}
    assert got == {
        "older": ["1", "2", "0"],          # predicate compares with this member's age
        "same": ["2", "1", "2"],           # ${nm} in a predicate is this member's name
        "idx": ["1", "2", "3"],            # position(..)
        "prev": ["ana", "ana", "bob"],     # position argument of indexed-repeat
        "nested": ["ana-1", "bob-2", "ana-0"],  # a calculation reading a calculation
        "twice": ["anaana", "bobbob", "anaana"],  # every function argument
    }
    # outside the repeat, ${flag} inside a predicate is the candidate member's flag
    assert s.get("/data/flagged") == "2"
    assert s.get("/data/flagged_age") == "70"
    assert s.get("/data/all_names") == "ana bob ana"
    s.set("/data/r[2]/age", "50")
    assert [s.get(f"/data/r[{i}]/older") for i in (1, 2, 3)] == ["2", "0", "1"]
    s.set("/data/r[2]/flag", "yes")
    assert s.get("/data/flagged") == "3"
