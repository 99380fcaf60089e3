"""The server's check compiled to Python (app.forms.compiled) gives the session's errors.

Differential, like tests/forms/test_check.py (whose `assert_same` also runs the compiled
check on every record there): a form written to use every shape the translator
writes out (paths into and out of a repeat inside a relevant group, predicates with
`current()` and `position()`, `count`, `indexed-repeat`, `concat` of a node-set,
`position(..)`, today() and format-date, numbers against text, division by zero,
messages showing answers, a `column = value` choice filter) is filled at random with
good, bad and odd answers, and each record's errors must be those of
`FormSession(...).validate(warnings=False)`. Forms outside what is compiled must be
recognised (compile_check gives None) and still checked by the session."""

from __future__ import annotations

import random
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from app.forms import FormSession, compile_check, load_form, validate_submission
from app.forms.bundled import bundled_path
from app.forms.check import open_record
from app.forms.session import validate_in_session

from .conftest import time_zone
from .test_check import SELF_MD, assert_same
from .test_faults import NAN_MD, REPEAT_COUNT_MD

SHAPES_MD = """
| survey |
||type|name|label|relevant|required|constraint|constraint_message|calculation|choice_filter|
| | text | t | T | | | string-length(.) <= 5 | Máximo 5 letras: ${t} | | |
| | decimal | x | X | | | . != 0 and 10 div . < 100 | | | |
| | integer | n | N | | yes | . >= 0 and . <= 6 | | | |
| | text | why | Por qué | | ${n} > 3 | | | | |
| | date | d | D | | | . <= today() and . >= date('1950-01-01') | | | |
| | select_one dep | dep | Dep | | | | | | |
| | select_one prov | prov | Prov | ${dep} != '' | | | | | dep = ${dep} |
| | calculate | yr | | | | | | format-date(${d}, '%Y') | |
| | calculate | age | | | | | | if(${d} = '', '', int(format-date(today(), '%Y')) - int(${yr})) | |
| | begin group | g | G | ${n} > 0 | | | | | |
| | begin repeat | r | R | | | | | | |
| | calculate | pos | | | | | | position(..) | |
| | text | nm | Nombre | | yes | normalize-space(.) = . | | | |
| | integer | e | Edad | | | . < ${age} + 50 or ${age} = '' | Edad ${e} no va | | |
| | select_multiple s | sm | SM | ${e} >= 3 | | not(selected(.,'c') and count-selected(.)>1) | | | |
| | text | dup | Dup | ${n} != 2 | | count(../../r[nm = current()/../nm]) = 1 | | | |
| | end repeat | | | | | | | | |
| | end group | | | | | | | | |
| | calculate | total | | | | | | count(/data/g/r) | |
| | calculate | adults | | | | | | count(/data/g/r[e >= 18]) | |
| | calculate | first | | | | | | indexed-repeat(/data/g/r/nm, /data/g/r, ${n}) | |
| | calculate | names | | | | | | concat(/data/g/r/nm) | |
| | calculate | sumx | | | | | | ${x} * 2 + ${n} mod 4 | |
| | calculate | said | | | | | | if(${n} = '', 'no', if(${x} != '', concat(${n}, ${x}), 'n')) | |
| | calculate | mon | | | | | | format-date(${d}, '%b %e, %Y') | |
| | calculate | posn | | | | | | count(/data/g/r[position() > 1]) | |
| | calculate | big | | | | | | /data/g/r[e > 40]/nm | |
| | integer | m | M | | | . = ${total} and . != ${adults} + 9 | | | |
| | text | cmp | C | | | . = ${x} or . < ${n} or . > ${d} or . = ${big} | | | |
| | text | fin | F | ${sumx} > 3 or ${first} != '' or ${names} = 'ab' | | . != ${posn} | | | |
| choices |
| | list_name | name | label | dep |
| | dep | 1 | Uno | |
| | dep | 2 | Dos | |
| | prov | 11 | P11 | 1 |
| | prov | 21 | P21 | 2 |
| | s | a | A | |
| | s | b | B | |
| | s | c | C | |
| settings |
| | form_id | version |
| | shapes | 1 |
"""

_ODD = ["", "abc", "3,5", "１２", "NaN", "inf", "-1", "0", "1e3", " 7 ", "a\x01b"]


def _value(rng: random.Random, kind: str) -> str:
    if rng.random() < 0.15:
        return rng.choice(_ODD)
    if kind == "int":
        return str(rng.randint(-1, 70))
    if kind == "dec":
        return rng.choice(["0", "0.5", "2", "12.25", "-3", "0.05"])
    if kind == "date":
        return rng.choice(["1949-12-31", "1960-02-29", "1999-07-15", "2015-01-01",
                           "2099-01-01", "2021-02-30"])
    if kind == "dep":
        return rng.choice(["1", "2", "3"])
    if kind == "prov":
        return rng.choice(["11", "21", "99"])
    if kind == "sm":
        return rng.choice(["a", "a b", "c", "a c", "b c z"])
    return rng.choice(["ab", "Ana", " Ana", "Luis", "x" * 7, "1", "2021-01-01"])


def _record(rng: random.Random) -> dict[str, str]:
    ans = {"/data/t": _value(rng, "text"), "/data/x": _value(rng, "dec"),
           "/data/n": _value(rng, "int"), "/data/why": _value(rng, "text"),
           "/data/d": _value(rng, "date"), "/data/dep": _value(rng, "dep"),
           "/data/prov": _value(rng, "prov"), "/data/m": _value(rng, "int"),
           "/data/cmp": _value(rng, "text"), "/data/fin": _value(rng, "text")}
    for i in range(1, rng.randint(0, 4) + 1):
        p = f"/data/g/r[{i}]/"
        ans[p + "nm"] = rng.choice(["Ana", "Luis", "ab", "Ana ", ""])
        ans[p + "e"] = _value(rng, "int")
        ans[p + "sm"] = _value(rng, "sm")
        ans[p + "dup"] = _value(rng, "text")
    for p in list(ans):
        if rng.random() < 0.1:
            del ans[p]  # unanswered
    if rng.random() < 0.2:
        ans["/data/age"] = "99"  # a stored calculation is read as stored
    return ans


def test_records_checked_in_threads_each_read_their_own_cells():
    """The check reuses a thread's cells record after record (CompiledCheck.pool):
    records of every size checked at once in four threads give what one thread gives."""
    fd = load_form(SHAPES_MD)
    cc = compile_check(fd)
    rng = random.Random(77)
    records = [_record(rng) for _ in range(120)]
    expected = [cc.errors(r) for r in records]
    assert len({len(e) for e in expected}) > 3  # records with more and fewer errors
    barrier = threading.Barrier(4)

    def check(part: int) -> list[Any]:
        barrier.wait()
        return [(n, cc.errors(records[n])) for n in range(part, len(records), 4)]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch inside a record's check, not between
    try:
        with ThreadPoolExecutor(4) as pool:
            got = dict(pair for part in pool.map(check, range(4)) for pair in part)
    finally:
        sys.setswitchinterval(interval)
    assert [got[n] for n in range(len(records))] == expected


def test_the_bundled_forms_are_compiled():
    for form_id in ("fsu", "s100", "visita", "desestimacion"):
        assert compile_check(load_form(bundled_path(form_id))) is not None, form_id


@pytest.mark.parametrize("seed", range(25))
def test_every_shape_gives_the_sessions_errors(seed):
    fd = load_form(SHAPES_MD)
    assert compile_check(fd) is not None  # else this test would test nothing
    rng = random.Random(4100 + seed)
    found = 0
    for _ in range(40):
        ans = _record(rng)
        found += bool(assert_same(fd, ans, one_pass=False))
        saved = FormSession(fd, ans).to_json(include_aside=True)
        assert_same(fd, saved, one_pass=False)
    assert found  # bad answers were there to be found


def test_forms_outside_what_is_compiled_are_read_by_the_session():
    for md in (SELF_MD, REPEAT_COUNT_MD, NAN_MD):  # a self-reading rule, a count, once()
        fd = load_form(md)
        assert compile_check(fd) is None
    fd = load_form(SELF_MD)
    assert validate_submission(fd, {"/data/t": "x", "/data/n": "1"}) == [
        "/data/n: La respuesta no cumple la regla de esta pregunta."]


NESTED_MD = """
| survey |
| | type | name | label | constraint |
| | begin repeat | a | A | |
| | begin repeat | b | B | |
| | integer | v | V | . > 1 |
| | end repeat | | | |
| | end repeat | | | |
| settings |
| | form_id | version |
| | nested | 1 |
"""


def test_nested_repeats_are_read_by_the_session():
    fd = load_form(NESTED_MD)
    assert compile_check(fd) is None
    assert assert_same(fd, {"/data/a[1]/b[2]/v": "1"}, one_pass=False) == [
        "/data/a[1]/b[2]/v: La respuesta no cumple la regla de esta pregunta."]


TZ_MD = """
| survey |
| | type | name | label | calculation | constraint |
| | date | d | D | | |
| | calculate | h | | decimal-date-time(${d}) | |
| | decimal | v | V | | . = ${h} |
| settings |
| | form_id | version |
| | tzcheck | 1 |
"""


def test_results_kept_for_one_time_zone_are_not_read_in_another():
    """decimal-date-time of a date is local midnight: the same record is right in Lima
    and wrong in Kolkata, checked one after the other by the same process."""
    fd = load_form(TZ_MD)
    assert compile_check(fd) is not None
    record = {"/data/d": "2021-10-06", "/data/v": "18906.208333333332"}
    for zone, errors in (("America/Lima", 0), ("Asia/Kolkata", 1), ("America/Lima", 0)):
        with time_zone(zone):
            assert len(assert_same(fd, record, one_pass=False)) == errors


def test_answers_past_the_repeat_count_grow_the_repeat():
    fd = load_form(SHAPES_MD)
    data = {"answers": {"/data/n": "2", "/data/g/r[3]/nm": "Ana", "/data/g/r[3]/e": "5"},
            "repeats": {"/data/g/r": 1}}
    errors = assert_same(fd, data, one_pass=False)
    assert "/data/g/r[1]/nm: Esta pregunta es obligatoria." in errors
    assert compile_check(fd).errors(data) == errors


def test_a_stored_calculated_value_is_not_taken_on_the_records_word(fsu_def):
    """A laptop (or anyone with its key) that stores `edad` 30 and no error for a head
    of household born two years ago is refused: the centre computes every calculation
    again from the answers, on every path of its check."""
    from app.demo import households
    from app.demo_answers import fsu_answers

    data = FormSession(fsu_def, fsu_answers(households(1, 77)[0])).to_json()
    honest = validate_submission(fsu_def, data)
    assert honest == []
    answers = dict(data["answers"])
    head = next(p.rsplit("/", 1)[0] for p, v in answers.items()
                if p.endswith("/parentesco") and v == "1")
    answers[f"{head}/fecha_nacimiento"] = f"{date.today().year - 2}-01-15"
    answers[f"{head}/edad"] = "30"  # the stored calculation, tampered
    answers.pop(f"{head}/error_parentesco", None)
    tampered = {**data, "answers": answers}
    errors = assert_same(fsu_def, tampered)
    assert f"{head}/parentesco: El jefe de hogar y su cónyuge deben tener al menos 12 años." \
        in errors
    assert validate_in_session(fsu_def, tampered) == errors


DAY_MD = """
| survey |
| | type | name | label | constraint |
| | date | visita | Visita | . <= today() |
| | date | nac | Nacimiento | |
| | integer | hijos | Hijos | ${nac} = '' or . = 0 or int((today() - date(${nac})) div 365.25)>=12 |
| settings |
| | form_id | version |
| | day | 1 |
"""


def test_a_record_is_read_on_the_day_it_was_completed():
    """`today`: the record's completion day. A visit dated after that day is in the
    future; ages are counted up to that day — the same on every path of the check."""
    fd = load_form(DAY_MD)
    completed = date(2026, 3, 10)
    cases = [({"/data/visita": "2026-03-11"}, 1), ({"/data/visita": "2026-03-10"}, 0),
             ({"/data/nac": "2014-03-20", "/data/hijos": "1"}, 1),
             ({"/data/nac": "2014-03-01", "/data/hijos": "1"}, 0)]
    for answers, n_errors in cases:
        expected = validate_in_session(fd, answers, today=completed)
        assert len(expected) == n_errors, answers
        assert validate_submission(fd, answers, today=completed) == expected
        rec = open_record(fd, answers, today=completed)
        assert rec is not None and rec.errors() == expected
        assert compile_check(fd).errors(answers, completed) == expected
    # the same visit checked on the real today (later than the date) is fine
    assert validate_submission(fd, {"/data/visita": "2026-03-11"}) == []
