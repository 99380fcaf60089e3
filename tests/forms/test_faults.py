"""The form engine faults of issue 14 (session side), each kept as a case.

Forms are pyxform markdown; answers are set in the order the issue gives."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from app.forms import FormSession, load_form

REPEAT_COUNT_MD = """
| survey |
| | type | name | label | repeat_count |
| | integer | n | N | |
| | begin repeat | r | R | ${n} |
| | text | t | T | |
| | end repeat | | | |
| settings |
| | form_id | version |
| | rc | 1 |
"""

NAN_MD = """
| survey |
| | type | name | label | calculation | relevant |
| | decimal | w | Peso | | |
| | decimal | h | Talla | | |
| | calculate | bmi | | ${w} div (${h} * ${h}) | |
| | note | aviso | IMC calculado | | ${bmi} != '' |
| | integer | a | A | | |
| | calculate | d | | once(${a} * 10) | |
| settings |
| | form_id | version |
| | nanf | 1 |
"""

TEXT_MD = """
| survey |
| | type | name | label |
| | text | t | Texto |
| | integer | i | Entero |
| | decimal | x | Decimal |
| | date | f | Fecha |
| | select_one sn | s | Sí/No |
| settings |
| | form_id | version |
| | txt | 1 |
| choices |
| | list_name | name | label |
| | sn | 1 | Sí |
| | sn | 2 | No |
"""

DECIMAL_MD = """
| survey |
| | type | name | label | calculation |
| | decimal | x | X | |
| | integer | i | I | |
| | date | f | F | |
| | calculate | doble | | ${x} * 2 |
| | calculate | mas | | ${i} + 1 |
| | calculate | flen | | string-length(${f}) |
| settings |
| | form_id | version |
| | dec | 1 |
"""

GROUP_MD = """
| survey |
| | type | name | label | calculation |
| | begin group | g | G | |
| | text | a | A | |
| | text | b | B | |
| | end group | | | |
| | calculate | doc | | ${g} |
| settings |
| | form_id | version |
| | grp | 1 |
"""

UUID_MD = """
| survey |
| | type | name | label | calculation |
| | text | t | T | |
| | calculate | id | | uuid() |
| | calculate | ahora | | now() |
| | calculate | tag | | concat(${t}, '-', uuid()) |
| settings |
| | form_id | version |
| | uid | 1 |
"""


def _roundtrip(s: FormSession) -> FormSession:
    return FormSession.from_json(s.formdef, json.loads(json.dumps(s.to_json(include_aside=True))))


# -- 2: lowering repeat_count keeps the removed instances' answers aside ------------
def test_lowering_repeat_count_keeps_members_and_brings_them_back():
    s = FormSession(load_form(REPEAT_COUNT_MD))
    s.set("/data/n", 3)
    for i, v in enumerate("abc", 1):
        s.set(f"/data/r[{i}]/t", v)
    s.set("/data/n", 1)
    assert s.repeat_count("/data/r") == 1
    assert s.get("/data/r[1]/t") == "a"
    assert "/data/r[2]/t" not in s.to_json()["answers"]  # not submitted while removed
    assert s.kept() == {"/data/r[2]/t": "b", "/data/r[3]/t": "c"}
    s.set("/data/n", 3)
    assert [s.get(f"/data/r[{i}]/t") for i in (1, 2, 3)] == ["a", "b", "c"]
    assert s.kept() == {}


def test_members_set_aside_survive_a_saved_draft():
    s = FormSession(load_form(REPEAT_COUNT_MD))
    s.set("/data/n", 3)
    for i, v in enumerate("abc", 1):
        s.set(f"/data/r[{i}]/t", v)
    s.set("/data/n", 2)
    back = _roundtrip(s)
    assert back.repeat_count("/data/r") == 2
    assert back.kept() == {"/data/r[3]/t": "c"}
    back.set("/data/n", 3)
    assert back.get("/data/r[3]/t") == "c"


# -- 3: NaN is no value ---------------------------------------------------------------
def test_nan_result_is_stored_as_empty_and_once_does_not_latch_it():
    s = FormSession(load_form(NAN_MD))
    assert s.get("/data/bmi") == ""
    assert not s.state("/data/aviso").relevant
    data = s.to_json()
    assert "/data/bmi" not in data["answers"] and "/data/d" not in data["answers"]
    root = ET.fromstring(s.to_xml("x").split("\n", 1)[1])
    assert not (root.findtext("bmi") or "") and not (root.findtext("d") or "")
    assert "NaN" not in s.to_xml("x")
    s.set("/data/a", 2)
    assert s.get("/data/d") == "20"
    s.set("/data/a", 3)
    assert s.get("/data/d") == "20"  # once() keeps its first real value
    s.set("/data/w", 70)
    s.set("/data/h", "1.75")
    assert s.get("/data/bmi").startswith("22.857")
    assert s.state("/data/aviso").relevant


def test_division_by_zero_gives_no_value():
    s = FormSession(load_form(NAN_MD))
    s.set("/data/w", 70)
    s.set("/data/h", 0)
    assert s.get("/data/bmi") == ""  # infinity is not a value either
    assert "Infinity" not in json.dumps(s.to_json())


# -- 4: every output well-formed --------------------------------------------------------
@pytest.mark.parametrize("typed", ["a\x01b\x0bc", "12\x1d34", "x\ud800y", "fin\uffff"])
def test_forbidden_characters_never_reach_an_output(typed):
    s = FormSession(load_form(TEXT_MD))
    s.set("/data/t", typed)
    xml = s.to_xml("abc")
    root = ET.fromstring(xml.encode("utf-8"))  # a parser accepts it
    text = root.findtext("t")
    assert text and all(ch == "\t" or ch >= " " for ch in text)
    assert "\ud800" not in text and "\uffff" not in text
    s.canonical_bytes()  # encodes (a lone surrogate would raise)
    assert json.loads(json.dumps(s.to_json()))["answers"]["/data/t"] == text


def test_a_barcode_group_separator_is_removed():
    s = FormSession(load_form(TEXT_MD))
    s.set("/data/t", "0104\x1d21AB")
    assert s.get("/data/t") == "010421AB"


def test_old_stored_text_with_control_characters_is_cleaned_on_output():
    from app.forms.instance import to_xml

    s = FormSession(load_form(TEXT_MD))
    s.set("/data/t", "ok")
    s._find("/data/t").value = "a\x01b"  # as an older version could have stored it
    ET.fromstring(to_xml(s, "u").encode("utf-8"))


# -- 5: one rule for answers the question refuses -----------------------------------------
def test_decimal_comma_is_the_number():
    s = FormSession(load_form(DECIMAL_MD))
    s.set("/data/x", "3,5")
    assert s.get("/data/x") == "3.5"
    assert s.state("/data/x").valid
    assert s.get("/data/doble") == "7"
    assert s.to_json()["answers"]["/data/x"] == "3.5"


@pytest.mark.parametrize(("path", "typed", "calc"), [
    ("/data/x", "tres", "/data/doble"),
    ("/data/x", "NaN", "/data/doble"),
    ("/data/x", "inf", "/data/doble"),
    ("/data/x", "1,2,3", "/data/doble"),
    ("/data/i", "3.5", "/data/mas"),
    ("/data/i", "doce", "/data/mas"),
    ("/data/f", "2021-02-30", "/data/flen"),
    ("/data/f", "mañana", "/data/flen"),
])
def test_a_refused_answer_counts_as_empty_until_corrected(path, typed, calc):
    s = FormSession(load_form(DECIMAL_MD))
    s.set(path, typed)
    st = s.state(path)
    assert not st.valid and st.message  # the person sees why
    assert s.get(path) == typed and st.value == typed  # and what was typed
    assert s.get(calc) in ("", "0")  # no calculation uses it
    assert path not in s.to_json()["answers"]
    assert typed not in s.to_xml("u")
    assert s.aside()[path] == typed  # a saved draft keeps it to correct later
    assert any(e.path == path for e in s.validate().errors)
    back = _roundtrip(s)
    assert back.get(path) == typed and not back.state(path).valid


def test_a_choice_the_list_does_not_have_counts_as_empty():
    s = FormSession(load_form(TEXT_MD))
    s.set("/data/s", "9")
    assert not s.state("/data/s").valid
    assert "/data/s" not in s.to_json()["answers"]
    s.set("/data/s", "2")
    assert s.to_json()["answers"]["/data/s"] == "2"


# -- 6: one canonical form for numbers and identifiers ---------------------------------------
def test_full_width_digits_become_ascii():
    s = FormSession(load_form(TEXT_MD))
    s.set("/data/i", "１２")
    s.set("/data/x", "３，５")
    s.set("/data/f", "２０２１－１０－０６")
    s.set("/data/t", "DNI １２３４５６７８")
    assert s.get("/data/i") == "12"
    assert s.get("/data/x") == "3.5"
    assert s.get("/data/f") == "2021-10-06"
    assert s.get("/data/t") == "DNI 12345678"
    assert all(st.valid for st in s.iter_nodes() if st.kind == "question")


def test_dni_in_full_width_digits_matches_the_same_person(fsu_def):
    from app.core.identifiers import normalize_dni
    from app.forms import dnis

    assert normalize_dni("１２３４５６７８") == "12345678"
    s = FormSession(fsu_def)
    s.add_repeat("/fsu/integrantes")
    s.set("/fsu/integrantes[1]/tipo_doc", "1")
    s.set("/fsu/integrantes[1]/num_doc", "１２３４５６７８")
    assert s.get("/fsu/integrantes[1]/num_doc") == "12345678"
    assert dnis(fsu_def, s.to_json()) == ["12345678"]
    assert dnis(fsu_def, {"/fsu/integrantes[1]/num_doc": "４１２３４５６７"}) == ["41234567"]


def test_nan_and_infinity_are_refused_as_numbers():
    s = FormSession(load_form(TEXT_MD))
    for typed in ("NaN", "nan", "inf", "-Infinity", float("nan"), float("inf")):
        s.set("/data/x", typed)
        assert not s.state("/data/x").valid
        assert "/data/x" not in s.to_json()["answers"]


# -- 9: a calculation that reads a whole group ------------------------------------------------
def test_calculation_reading_a_group_follows_its_answers():
    s = FormSession(load_form(GROUP_MD))
    s.set("/data/g/a", "uno")
    assert s.get("/data/doc") == "uno"
    s.set("/data/g/b", "dos")
    assert s.get("/data/doc") == "unodos"
    s.set("/data/g/a", "")
    assert s.get("/data/doc") == "dos"
    assert _roundtrip(s).get("/data/doc") == "dos"


# -- 10: a stored record reads back exactly as saved --------------------------------------------
def test_uuid_and_now_do_not_change_when_a_record_is_reopened():
    s = FormSession(load_form(UUID_MD))
    s.set("/data/t", "x")
    saved = s.to_json()
    for _ in range(3):
        back = FormSession.from_json(s.formdef, saved)
        assert back.to_json() == saved
        assert back.canonical_bytes() == s.canonical_bytes()
    back.set("/data/t", "y")  # what it reads changed: evaluated again
    assert back.get("/data/tag").startswith("y-")
    assert back.get("/data/id") == saved["answers"]["/data/id"]


DAY_MD = """
| survey |
| | type | name | label | calculation |
| | text | t | T | |
| | calculate | late | | if(today() >= date('2026-12-01'), concat('tarde ', ${t}), '') |
| settings |
| | form_id | version |
| | day | 1 |
"""


def test_an_empty_calculation_stays_empty_when_reopened_another_day():
    from datetime import datetime

    fd = load_form(DAY_MD)
    s = FormSession(fd, clock=lambda: datetime(2026, 11, 30, 10, 0).astimezone())
    s.set("/data/t", "a")
    saved = s.to_json()
    assert "/data/late" not in saved["answers"]  # empty on the day it was saved

    def later():
        return datetime(2026, 12, 5, 10, 0).astimezone()

    back = FormSession.from_json(fd, saved, clock=later)
    assert back.get("/data/late") == "" and back.to_json() == saved
    # the centre's check evaluates what the record leaves out again
    assert FormSession.from_json(fd, saved, clock=later,
                                 recheck=True).get("/data/late") == "tarde a"
    back.set("/data/t", "b")  # what it reads changed: evaluated again
    assert back.get("/data/late") == "tarde b"
    # a flat map of answers (not what to_json wrote) is evaluated as a new record
    assert FormSession(fd, {"/data/t": "a"}, clock=later).get("/data/late") == "tarde a"


CLOCK_RELEVANT_MD = """
| survey |
| | type | name | label | relevant |
| | text | a | A | |
| | text | b | B | ${a} = 'x' |
| | text | c | C | today() < date('2026-12-01') |
| settings |
| | form_id | version |
| | clockrel | 1 |
"""


def test_relevance_settled_by_a_stored_answer_unless_it_reads_the_clock():
    from datetime import datetime

    fd = load_form(CLOCK_RELEVANT_MD)
    s = FormSession(fd, clock=lambda: datetime(2026, 11, 30, 9, 0).astimezone())
    for path, value in (("/data/a", "x"), ("/data/b", "dos"), ("/data/c", "tres")):
        s.set(path, value)
    saved = s.to_json()
    assert set(saved["answers"]) == {"/data/a", "/data/b", "/data/c"}

    def later():
        return datetime(2026, 12, 2, 9, 0).astimezone()

    for fast in (True, False):  # the settled path and the plain evaluation agree
        back = FormSession.from_json(fd, saved, clock=later, fast=fast)
        assert back.state("/data/b").relevant
        assert not back.state("/data/c").relevant  # today() is read again
        assert "/data/c" not in back.to_json()["answers"]
        back.set("/data/a", "y")  # what the rule reads changed: evaluated again
        assert not back.state("/data/b").relevant


def test_reopened_fsu_reads_back_exactly(fsu_def, fsu_answers):
    s = FormSession(fsu_def, fsu_answers)
    saved = s.to_json(include_aside=True)
    back = FormSession.from_json(fsu_def, saved)
    assert back.to_json(include_aside=True) == saved


# -- 11: compound choice filters ----------------------------------------------------------------
def _filter_form(n_gov: int = 25, n_dist: int = 200) -> str:
    rows = ["| choices |", "| | list_name | name | label | gov | dist |"]
    for g in range(n_gov):
        for d in range(n_dist):
            rows.append(f"| | lugar | l{g}_{d} | Lugar {g}-{d} | g{g} | d{d % 40} |")
    rows.append("| | lugar | otro | Otro | other | |")
    survey = """
| survey |
| | type | name | label | choice_filter |
| | text | gov | Gobierno | |
| | text | dist | Distrito | |
| | integer | num | Número | |
| | select_one lugar | lugar | Lugar | (gov = ${gov} and dist = ${dist}) or gov = 'other' |
| | select_one lugar | nolugar | No en | not(gov != ${gov}) and dist != ${dist} |
| | select_one lugar | numerico | Por número | gov = ${num} or name = 'otro' |
| settings |
| | form_id | version |
| | flt | 1 |
"""
    return survey + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def filter_def():
    return load_form(_filter_form())


@pytest.mark.parametrize(("gov", "dist"), [("g3", "d7"), ("g0", "d39"), ("", ""), ("g9", "x"),
                                           ("other", "")])
def test_compound_filter_on_indexes_gives_the_item_by_item_choices(filter_def, gov, dist):
    fast = FormSession(filter_def)
    slow = FormSession(filter_def, fast=False)
    for s in (fast, slow):
        s.set("/data/gov", gov)
        s.set("/data/dist", dist)
    for q in ("lugar", "nolugar"):
        got = [c.name for c in fast.choices(f"/data/{q}")]
        assert got == [c.name for c in slow.choices(f"/data/{q}")]
    assert "otro" in [c.name for c in fast.choices("/data/lugar")]


def test_compound_filter_with_a_typed_number_compares_as_a_number(filter_def):
    fast = FormSession(filter_def)
    slow = FormSession(filter_def, fast=False)
    for s in (fast, slow):
        s.set("/data/num", 3)
    assert [c.name for c in fast.choices("/data/numerico")] == \
        [c.name for c in slow.choices("/data/numerico")] == ["otro"]


FLIP_MD = """
| survey |
| | type | name | label | relevant |
| | begin group | g | G | ${q} = '' |
| | text | q | Q | |
| | end group | | | |
| settings |
| | form_id | version |
| | flip | 1 |
"""

CYCLE_MD = """
| survey |
| | type | name | label | relevant |
| | text | a | A | ${b} = '' |
| | text | b | B | ${a} != '' |
| settings |
| | form_id | version |
| | cycle | 1 |
"""


def test_relevance_rules_reading_each_other_are_refused_at_load():
    """As ODK Collect ("Cycle detected in form's relevant and calculation logic"): two
    questions whose relevance reads the other's answer may hide each other for ever."""
    from app.forms.definition import FormLoadError

    with pytest.raises(FormLoadError) as e:
        load_form(CYCLE_MD)
    assert "dependencia circular entre: a, b" in str(e.value)


def test_a_relevance_that_never_settles_stops_with_a_message():
    """A group shown only while its question is empty hides itself once answered, which
    empties what it reads, which shows it again...: the session stops with a Spanish
    message instead of hanging (the laptop's window, and the centre's check, which
    refuses the record with that message)."""
    from app.core.errors import ValidationError
    from app.forms import validate_submission

    fd = load_form(FLIP_MD)
    s = FormSession(fd)
    with pytest.raises(ValidationError) as e:
        s.set("/data/g/q", "a")
    assert "no se estabilizan" in e.value.user_message and "«g»" in e.value.user_message
    with pytest.raises(ValidationError):
        validate_submission(fd, {"/data/g/q": "a"})
