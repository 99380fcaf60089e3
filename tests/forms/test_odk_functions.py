"""The ODK XForms function list and XPath 1.0 core, value by value.

Expected values come from the ODK XForms specification's function table (XPath
3.0 math, checklist, digest, randomize with a Park-Miller seed, …) and from the
results JavaRosa documents for its functions (rounding, substr, number→string)."""

from __future__ import annotations

import base64
import hashlib
import math
import time

import pytest

from app.forms import FormSession, load_form
from app.forms.functions import FUNCTIONS, _ParkMiller, device_property, seed_random
from app.forms.xpath import _ODK_SIGNATURES, fmt_num, stored_string

from .conftest import ev_str, evaluate, time_zone

FORM = """
| survey |
| | type | name | label | calculation |
| | text | t | T | |
| | integer | n | N | |
| | begin repeat | r | R | |
| | text | v | V | |
| | integer | w | W | |
| | calculate | pos | | position(..) |
| | end repeat | | | |
| | geopoint | p | P | |
"""


@pytest.fixture(scope="module")
def fd():
    return load_form(FORM)


@pytest.fixture
def s(fd) -> FormSession:
    return FormSession(fd, {"/data/t": "hola", "/data/n": "3",
                            "/data/r[1]/v": "1", "/data/r[1]/w": "2",
                            "/data/r[2]/v": "0", "/data/r[2]/w": "5",
                            "/data/r[3]/v": "x", "/data/r[3]/w": "10"})


SPEC_LIST = [
    # ODK XForms spec, "XPath Functions" table
    "string", "concat", "join", "substr", "substring-before", "substring-after", "translate",
    "string-length", "normalize-space", "contains", "starts-with", "ends-with", "uuid",
    "digest", "if", "coalesce", "once", "true", "false", "boolean", "boolean-from-string",
    "not", "regex", "checklist", "weighted-checklist", "number", "random", "int", "sum",
    "max", "min", "round", "pow", "log", "log10", "abs", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sqrt", "exp", "exp10", "pi", "count", "count-non-empty", "position",
    "current", "randomize", "today", "now", "format-date", "format-date-time", "date",
    "decimal-date-time", "decimal-time", "selected", "selected-at", "count-selected",
    "jr:choice-name", "jr:itext", "indexed-repeat", "area", "distance",
    # XPath 1.0 core library
    "last", "local-name", "namespace-uri", "name", "substring", "floor", "ceiling", "lang",
    "sum",
]


def test_every_function_of_the_spec_and_xpath_core_is_known():
    missing = [f for f in SPEC_LIST if f not in FUNCTIONS and f != "current"]
    assert missing == []
    assert "current" in _ODK_SIGNATURES


CASES = [
    # XPath 3.0 math as the spec names it
    ("pi()", "3.141592653589793"),
    ("exp10(2)", "100"),
    ("exp(0)", "1"),
    ("log(1)", "0"),
    ("log(0)", "-Infinity"),
    ("log(-1)", "NaN"),
    ("log10(1000)", "3"),
    ("sin(0)", "0"),
    ("cos(0)", "1"),
    ("tan(0)", "0"),
    ("round(sin(pi() div 2), 10)", "1"),
    ("asin(1) = pi() div 2", "true"),
    ("acos(1)", "0"),
    ("asin(2)", "NaN"),
    ("atan(1) * 4 = pi()", "true"),
    ("atan2(1, 1) * 4 = pi()", "true"),
    ("atan2(0, -1) = pi()", "true"),
    ("sqrt(16)", "4"),
    ("sqrt(-1)", "NaN"),
    ("pow(2, 10)", "1024"),
    ("pow(2, 0.5) = sqrt(2)", "true"),
    ("abs(-2.5)", "2.5"),
    # checklist / weighted-checklist (min/max -1 = no bound)
    ("checklist(-1, 2, 1, 0, 'x')", "true"),
    ("checklist(3, -1, 1, 0, 'x')", "false"),
    ("checklist(1, 1, /data/r/v)", "true"),  # '1' counts; '0' and 'x' are not > 0
    ("checklist(2, 2, /data/r/v)", "false"),
    ("checklist(1, 1, true(), 'true', -3)", "false"),
    ("weighted-checklist(5, -1, true(), 3, true(), 2, false(), 10)", "true"),
    ("weighted-checklist(6, -1, true(), 3, true(), 2, false(), 10)", "false"),
    ("weighted-checklist(2, 2, /data/r/v, /data/r/w)", "true"),  # only '1' (weight 2)
    ("weighted-checklist(3, -1, /data/r/v, /data/r/w)", "false"),
    # digest (XForms 1.1)
    ("digest('abc', 'MD5', 'hex')", "900150983cd24fb0d6963f7d28e17f72"),
    ("digest('abc', 'SHA-256', 'hex')",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("digest('abc', 'SHA-1')", base64.b64encode(hashlib.sha1(b"abc").digest()).decode()),
    ("digest('ñ', 'SHA-512', 'hex')", hashlib.sha512("ñ".encode()).hexdigest()),
    # strings (XPath 1.0 and ODK)
    ("concat('a  ', \"  b\")", "a    b"),
    ("string-length('  a  ')", "5"),
    ("normalize-space('  a \t b  ')", "a b"),
    ("translate('bar', 'abc', 'ABC')", "BAr"),
    ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
    ("substr('hello', 1, 3)", "el"),
    ("substr('hello', -3)", "llo"),
    ("substring('12345', 1.5, 2.6)", "234"),
    ("substring('12345', 0, 3)", "12"),
    ("substring-before('1999/04/01', '/')", "1999"),
    ("substring-after('1999/04/01', '/')", "04/01"),
    ("join(', ', /data/r/v)", "1, 0, x"),
    ("ends-with('hola', 'la')", "true"),
    ("boolean-from-string('TRUE')", "true"),
    ("boolean-from-string('yes')", "false"),
    ("boolean-from-string(1)", "true"),
    # numbers: XPath 1.0 number -> string, never exponent notation
    ("string(0.000001)", "0.000001"),
    ("string(0.0000001 * 3)", "0.0000003"),
    ("string(1000000 * 1000000 * 1000000 * 1000)", "1000000000000000000000"),
    ("string(12.0)", "12"),
    ("string(-0.5)", "-0.5"),
    ("string(1 div 0)", "Infinity"),
    ("string(-1 div 0)", "-Infinity"),
    ("string(0 div 0)", "NaN"),
    ("number('1e5')", "NaN"),  # XPath numbers have no exponent
    ("number(' 12 ')", "12"),
    ("int(-1.9)", "-1"),
    ("int('7.9')", "7"),
    ("round(2.5)", "3"),
    ("round(-2.5)", "-2"),
    ("round(1.2345, 2)", "1.23"),
    ("round(1.235, 2)", "1.24"),
    ("round(33.33, -1)", "30"),
    ("floor(-1.5)", "-2"),
    ("ceiling(-1.5)", "-1"),
    ("7 mod 3", "1"),
    ("-7 mod 3", "-1"),
    ("max(/data/r/w)", "10"),
    ("min(/data/r/w, 1)", "1"),
    ("max(/data/r/v)", "1"),  # 'x' is skipped, as JavaRosa
    ("sum(/data/r/w)", "17"),
    ("count(/data/r)", "3"),
    ("count-non-empty(/data/r/v)", "3"),
    ("coalesce('', 'b')", "b"),
    # node names (XPath 1.0 core)
    ("name(/data/t)", "t"),
    ("local-name(/data/r[2])", "r"),
    ("namespace-uri(/data/t)", ""),
    ("lang('es')", "false"),
    # positions in repeats
    ("/data/r[3]/pos", "3"),
    ("position(/data/r[2])", "2"),
    ("indexed-repeat(/data/r/w, /data/r, 2)", "5"),
    ("indexed-repeat(/data/r/w, /data/r, 0)", "2"),  # below 1 uses 1 (JavaRosa)
    # dates: a whole number is calendar days; impossible dates are errors
    ("date(18906)", "2021-10-06"),
    ("date('2021-10-06') + 1", "18907"),
    ("format-date('2021-10-06', '%Y/%m/%d %e %n %y')", "2021/10/06 6 10 21"),
    ("format-date('', '%Y')", ""),
    ("decimal-time('06:00:00')", "0.25"),
    ("decimal-time('18:00')", "0.75"),
    ("area('0 0 0 0; 0 1 0 0; 1 1 0 0; 1 0 0 0')", "12391256135.81"),
    ("distance('0 0; 0 1')", "111318.85"),
    ("distance(/data/p)", "0"),
]


@pytest.mark.parametrize(("expr", "expected"), CASES)
def test_function_values(s, expr, expected):
    assert ev_str(s, expr) == expected


def test_comparisons_chain_as_in_xpath_1(s):
    # EqualityExpr binds looser than RelationalExpr; both are left-associative
    assert ev_str(s, "3 < 4 < 5") == "true"
    assert ev_str(s, "3 < (4 < 5)") == "false"
    assert ev_str(s, "-3 < 3 = 6 >= 6") == "true"
    assert ev_str(s, "1 = 1 = 1") == "true"
    assert ev_str(s, "2 = 1 + 1 and 1 < 2") == "true"


def test_invalid_dates_are_errors_as_in_javarosa(s):
    from app.forms.xpath import EvalError

    for bad in ("date('1983-09-31')", "date('2021-02-29')", "date('nada')",
                "date-time('2021-13-01T00:00:00')"):
        with pytest.raises(EvalError):
            evaluate(s, bad)
    assert ev_str(s, "date('')") == ""
    assert ev_str(s, "date('2020-02-29')") == "2020-02-29"


def test_an_impossible_date_leaves_the_calculation_blank_and_the_form_usable():
    fd = load_form("| survey |\n| | type | name | label | calculation |\n"
                   "| | text | t | T | |\n| | calculate | d | | date(${t}) |\n")
    s = FormSession(fd)
    s.set("/data/t", "1983-09-31")
    assert s.get("/data/d") == ""
    s.set("/data/t", "1983-09-30")
    assert s.get("/data/d") == "1983-09-30"


def test_number_to_string_has_no_exponent():
    for x, txt in [(1e-7, "0.0000001"), (1.5e-5, "0.000015"), (-2.5e-10, "-0.00000000025"),
                   (2.0 ** 70, "1180591620717411303424"), (123456.789, "123456.789"),
                   (0.1 + 0.2, "0.30000000000000004"), (1.23e-18, "0.00000000000000000123"),
                   (2.0000000000000004, "2"), (-0.0, "0")]:
        assert fmt_num(x) == txt
        assert "e" not in fmt_num(x)


def test_nan_as_a_stored_calculation_is_empty_but_string_says_nan():
    assert stored_string(float("nan")) == ""
    assert stored_string(float("inf")) == ""
    assert stored_string(2.5) == "2.5"
    assert stored_string("NaN") == "NaN"  # a text answer is kept as typed


def test_randomize_with_a_seed_is_reproducible_and_a_permutation(s):
    a = evaluate(s, "randomize(/data/r, 42)")
    b = evaluate(s, "randomize(/data/r, 42)")
    assert [n.index for n in a] == [n.index for n in b]
    assert sorted(n.index for n in a) == [1, 2, 3]
    orders = {tuple(n.index for n in evaluate(s, f"randomize(/data/r, {k})")) for k in range(1, 30)}
    assert len(orders) > 1  # the seed matters


def test_park_miller_is_the_minimal_standard_generator():
    g = _ParkMiller(1)
    first = g.next_float()
    assert g.seed == 16807 and first == (16807 - 1) / 2147483646
    g.next_float()
    assert g.seed == 282475249  # 16807^2, the generator's published second value


def test_seed_makes_random_and_uuid_reproducible(s):
    seed_random(7)
    try:
        a = (ev_str(s, "random()"), ev_str(s, "uuid()"), ev_str(s, "uuid(8)"))
        seed_random(7)
        b = (ev_str(s, "random()"), ev_str(s, "uuid()"), ev_str(s, "uuid(8)"))
    finally:
        seed_random(None)
    assert a == b and len(a[2]) == 8 and a[1][14] == "4"


def test_jr_itext_and_version():
    fd = load_form("| survey |\n| | type | name | label::English (en) | label::Español (es) "
                   "| hint::Español (es) |\n| | text | q | Name | Nombre | Completo |\n"
                   "| settings |\n| | version | default_language |\n| | 7 | Español (es) |\n")
    s = FormSession(fd)
    assert ev_str(s, "jr:itext('/data/q:label')") == "Nombre"
    assert ev_str(s, "jr:itext('/data/q:hint')") == "Completo"
    assert ev_str(s, "jr:itext('/data/zz:label')") == ""
    assert ev_str(FormSession(fd, language="English (en)"), "jr:itext('/data/q:label')") == "Name"
    assert ev_str(s, "version()") == "7"


def test_device_properties_for_metadata():
    dev = device_property("deviceid")
    assert dev.startswith("siee:") and len(dev) == 21 and dev == device_property("uri:deviceid")
    assert device_property("simserial") == "" and device_property("phonenumber") == ""


@pytest.mark.parametrize("tz", ["America/Lima", "Asia/Kolkata"])
def test_decimal_time_of_a_time_with_an_offset_is_local(tz, s):
    with time_zone(tz):
        off = "-05:00" if tz == "America/Lima" else "+05:30"
        assert float(ev_str(s, f"decimal-time('12:00:00.000{off}')")) == pytest.approx(0.5)
        assert ev_str(s, f"format-date-time('2021-10-06T08:05:09.123{off}', "
                         "'%Y-%m-%d %H:%M:%S.%3 %h')") == "2021-10-06 08:05:09.123 8"


def test_area_follows_the_spherical_formula():
    # a 1°x1° square at the equator: R² · Δλ · (sin φ2 − sin φ1)
    r = 6378100.0
    expected = r * r * math.radians(1) * math.sin(math.radians(1))
    fd = load_form(FORM)
    got = float(ev_str(FormSession(fd), "area('0 0; 0 1; 1 1; 1 0')"))
    assert got == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(("seed", "order"), [
    # the orders ODK Web Forms publishes for six nodes A..F
    ("42", "AFCBDE"), ("'42'", "AFCBDE"), ("-42", "EDAFBC"), ("1", "BFEACD"),
    ("11111111", "ACDBFE"), ("1.1", "BFEACD"), ("0", "CBEAFD"), ("0 div 0", "CBEAFD"),
    ("1 div 0", "CBEAFD"), ("floor(1.1)", "BFEACD"),
])
def test_randomize_with_a_seed_gives_odks_order(seed, order):
    md_ = ("| survey |\n| | type | name | label |\n| | begin repeat | d | D |\n"
           "| | text | v | V |\n| | end repeat | | |\n")
    s = FormSession(load_form(md_))
    for i, c in enumerate("ABCDEF", 1):
        s.add_repeat("/data/d")
        s.set(f"/data/d[{i}]/v", c)
    got = "".join(n.string_value() for n in evaluate(s, f"randomize(/data/d, {seed})"))
    assert got == order


def test_date_of_a_date_time_reads_as_a_date_and_keeps_its_time(s):
    with time_zone("America/Phoenix"):
        assert ev_str(s, "date('2025-08-18T02:03:23.958Z')") == "2025-08-17"
        assert ev_str(s, "decimal-date-time(date('2025-08-18T02:03:23.958Z'))") == \
            "20318.085693958332"
        assert float(ev_str(s, "decimal-date-time('1970-01-01')")) == pytest.approx(7 / 24)
        assert ev_str(s, "decimal-date-time('2018-04-24T15:30:00.000+06:00')") == \
            "17645.395833333332"
    assert ev_str(s, "date('1970-1-2')") == "1970-01-02"
    assert ev_str(s, "date(1.5)") == "1970-01-02"  # a moment 36 h after the epoch: any zone
    assert ev_str(s, "date(-1)") == "1969-12-31"


def test_month_and_day_names_follow_the_form_language_then_the_machine(monkeypatch):
    fd = load_form("| survey |\n| | type | name | label::Español (es) | label::English (en) |\n"
                   "| | text | q | Q | Q |\n")
    expr = "format-date('2021-10-06', '%a %e %b %Y %%')"
    assert ev_str(FormSession(fd), expr) == "mié 6 oct 2021 %"
    assert ev_str(FormSession(fd, language="English (en)"), expr) == "Wed 6 Oct 2021 %"
    plain = FormSession(load_form(FORM))  # no languages: the machine's locale
    for var in ("LC_ALL", "LC_TIME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "es_PE.UTF-8")
    assert ev_str(plain, "format-date('2001-12-31', '%b %e, %Y')") == "dic 31, 2001"
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert ev_str(plain, "format-date('2001-12-31', '%b %e, %Y')") == "Dec 31, 2001"


def test_decimal_time_takes_only_times(s, monkeypatch):
    monkeypatch.setenv("TZ", "America/Phoenix")  # UTC-7, no daylight saving
    time.tzset()
    try:
        cases = {'"06:00:00.000-07:00"': "0.25", '"06:00:00.000-01:00"': "0",
                 '"12:00:00.000-07:00"': "0.5", '"a"': "NaN", "2": "NaN", "now()": "NaN",
                 '"24:00:00.000-07:00"': "NaN", '"06:60:00.000-07:00"': "NaN",
                 '"06:00:60.000-07:00"': "NaN", '"23:59:00.000-07:60"': "NaN", "''": ""}
        for arg, want in cases.items():
            assert ev_str(s, f"decimal-time({arg})") == want, arg
        late = float(ev_str(s, 'decimal-time("23:59:00.000-13:00")'))
        assert late == pytest.approx(0.249, abs=1e-3)
    finally:
        monkeypatch.undo()
        time.tzset()
