"""The server's one-pass check (app.forms.check) gives exactly what a FormSession gives.

Differential: the same received record read by `open_record` (one ordered pass over a
bare tree) and by `FormSession` (the editing path) must give the same hard errors, the
same value for every question and calculation, and the same `to_json`, on the bundled
FSU and S100 with many generated households (valid, with planted errors, with odd and
refused answers in a random order), and on the fault forms of issue 14. Where the pass
cannot give that result (a repeat_count, a rule that reads what it changes) the record
must be read by the session instead, with the same verdict."""

from __future__ import annotations

import random
from typing import Any

import pytest

from app.core.errors import NotFound, ValidationError
from app.demo import households
from app.demo_answers import fsu_answers, s100_answers
from app.forms import FormSession, load_form, validate_submission
from app.forms.check import RecordCheck, open_record
from app.forms.compiled import ReceivedRecord, compile_check
from app.forms.session import validate_in_session

from .test_fast_paths import _household, _plan, _plant
from .test_faults import DECIMAL_MD, GROUP_MD, NAN_MD, REPEAT_COUNT_MD, TEXT_MD, UUID_MD


def _session_values(s: FormSession) -> dict[str, str]:
    """Every question's stored value (also when not relevant; refused text as typed)."""
    return {p: s.get(p) for p in s.iter_paths()
            if s.formdef.node(p).kind == "question"}


def _check_values(rec: RecordCheck) -> dict[str, str]:
    out = {}
    for p in FormSession.iter_paths(rec):  # type: ignore[arg-type]
        node = rec._find(p)
        if node.defn.kind == "question":
            out[p] = rec.raw.get(id(node), node.value)
    return out


def _compiled_values(cc: Any, data: dict[str, Any]) -> dict[str, str] | None:
    """Every question's value in the compiled check's tables (None: answers it leaves
    to RecordCheck)."""
    try:
        rec = ReceivedRecord(cc, data, None)
    except (NotFound, ValidationError, ValueError, TypeError, KeyError):
        return None
    out = {}
    for leaf in cc.leaves:
        for i, cell in enumerate(rec.N[leaf.k]):
            path = leaf.prefix if leaf.rep is None else f"{leaf.prefix}[{i + 1}]{leaf.suffix}"
            out[path] = rec.raw.get(id(cell), cell.value)
    return out


def assert_same(fd: Any, data: dict[str, Any], *, one_pass: bool = True) -> list[str]:
    """The pass and the session agree on `data`; returns the errors."""
    session = FormSession(fd, data, recheck=True)
    expected = [f"{i.path}: {i.message}" for i in session.validate(warnings=False).errors]
    assert validate_in_session(fd, data) == expected
    assert validate_submission(fd, data) == expected
    compiled = compile_check(fd)
    if compiled is not None:
        got = compiled.errors(data)
        if got is not None:  # None: answers that do not fit, left to RecordCheck
            assert got == expected
            values = _session_values(session)
            assert _compiled_values(compiled, data) == {p: values[p] for p in
                                                        _compiled_values(compiled, data)}
    rec = open_record(fd, data)
    if one_pass:
        assert rec is not None, "the record should be read in one pass"
    if rec is not None:
        assert rec.errors() == expected
        assert rec.to_json() == session.to_json()
        assert _check_values(rec) == _session_values(session)
    return expected


@pytest.mark.parametrize("seed", range(6))
def test_demo_households_fsu_and_s100(fsu_def, s100_def, seed):
    """Generated households as the demo writes them (the server bench's records)."""
    for hh in households(25, 9000 + seed):
        assert assert_same(fsu_def, fsu_answers(hh)) == []
        assert_same(s100_def, s100_answers(hh))


@pytest.mark.parametrize("seed", range(40))
def test_households_with_planted_errors(fsu_def, seed):
    rng = random.Random(5000 + seed)
    n = rng.randint(1, 20)
    ans = _household(rng, n)
    if seed % 4:
        _plant(rng, ans, n)
    saved = FormSession(fsu_def, ans).to_json(include_aside=True)
    errors = assert_same(fsu_def, saved)
    if seed % 4:
        assert errors  # the planted errors are found
    assert_same(fsu_def, {**saved["answers"], **saved.get("aside", {})})  # flat map


@pytest.mark.parametrize("seed", range(40))
def test_odd_and_refused_answers_in_random_order(fsu_def, seed):
    """Any answer to any FSU question (refused types, full-width digits, control
    characters, choices the list does not have), as a flat map in a random order."""
    rng = random.Random(7000 + seed)
    _members, steps = _plan(fsu_def, rng)
    flat = dict(steps)
    assert_same(fsu_def, flat)
    assert_same(fsu_def, FormSession(fsu_def, flat).to_json(include_aside=True))


FAULT_CASES = [
    (NAN_MD, [{}, {"/data/w": "70", "/data/h": "0"}, {"/data/w": "NaN", "/data/a": "2"},
              {"/data/w": "70", "/data/h": "1.7", "/data/a": "inf"}]),
    (TEXT_MD, [{"/data/t": "a\x01b\x0bc", "/data/i": "７", "/data/x": "3,5",
                "/data/f": "2021-02-30", "/data/s": "zz"},
               {"/data/t": "ok", "/data/i": "3.0", "/data/x": "inf", "/data/f": "2021-02-28",
                "/data/s": "1"}]),
    (DECIMAL_MD, [{"/data/x": "3,5", "/data/i": "abc", "/data/f": "2021-02-30"},
                  {"/data/x": "2.5", "/data/i": "4", "/data/f": "2021-02-03"}]),
    (GROUP_MD, [{"/data/g/a": "x", "/data/g/b": "y"}, {"/data/g/a": "x"}]),
    (UUID_MD, [{"/data/t": "a", "/data/id": "1234", "/data/ahora": "2021-01-01T00:00:00Z",
                "/data/tag": "a-9"}]),
]


@pytest.mark.parametrize("case", range(len(FAULT_CASES)))
def test_issue14_fault_forms(case):
    md, records = FAULT_CASES[case]
    fd = load_form(md)
    for answers in records:
        data = {"form_id": fd.form_id, "form_version": fd.version, "answers": answers,
                "repeats": {}}
        assert_same(fd, data)
        if answers:
            assert_same(fd, answers)


def test_repeat_count_forms_are_read_by_the_session():
    fd = load_form(REPEAT_COUNT_MD)
    data = {"answers": {"/data/n": "2", "/data/r[1]/t": "a", "/data/r[2]/t": "b",
                        "/data/r[3]/t": "c"}, "repeats": {"/data/r": 3}}
    assert open_record(fd, data) is None
    assert_same(fd, data, one_pass=False)


SELF_MD = """
| survey |
| | type | name | label | relevant | constraint | required |
| | text | t | T | . = 'x' | | |
| | integer | n | N | ${t} != '' | . > 1 | yes |
| settings |
| | form_id | version |
| | self | 1 |
"""


def test_a_rule_reading_what_it_changes_goes_to_the_session():
    """A relevance that hides its own question changes what it read: the session's queue
    evaluates it again, so the one pass hands the record over."""
    fd = load_form(SELF_MD)
    assert open_record(fd, {"/data/t": "y", "/data/n": "1"}) is None
    assert assert_same(fd, {"/data/t": "y", "/data/n": "1"}, one_pass=False) == []
    assert open_record(fd, {"/data/t": "x", "/data/n": "1"}) is not None
    assert assert_same(fd, {"/data/t": "x", "/data/n": "1"}) == [
        "/data/n: La respuesta no cumple la regla de esta pregunta."]


def test_answers_that_do_not_fit_raise_the_sessions_error(fsu_def):
    from app.core.errors import NotFound, ValidationError

    for bad in ({"/fsu/nada": "1"}, {"/fsu/integrantes/edad": "3"},
                {"answers": {}, "repeats": {"/fsu/integrantes": "x"}},
                {"/fsu/integrantes[999]/nombres": "a"}, {"/fsu/hogar": "1"}):
        with pytest.raises((NotFound, ValidationError)) as got:
            validate_submission(fsu_def, bad)
        with pytest.raises(type(got.value)) as want:
            FormSession(fsu_def, bad)
        assert got.value.user_message == want.value.user_message
