"""The XPath 1.0 core functions and the ODK (JavaRosa) extensions.

Each entry of FUNCTIONS takes the compiled argument closures and returns the
closure of the call. Behaviour on empty values follows ODK: an empty string is
NaN as a number, '' as a string and false as a boolean.
"""

from __future__ import annotations

import base64
import hashlib
import locale
import math
import os
import random
import re
import string
import uuid as _uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from app.core.identifiers import is_valid_dni
from app.forms.definition import generic_path
from app.forms.xpath import (
    FUNCTIONS,
    NAN,
    VALUE_FUNCTIONS,
    DateStamp,
    Env,
    EvalError,
    Fn,
    Node,
    Value,
    epoch_days,
    fmt_num,
    from_epoch_days,
    instant_of,
    parse_date,
    parse_time,
    to_bool,
    to_calendar_date,
    to_date,
    to_number,
    to_string,
)

Factory = Callable[[list[Fn]], Fn]


def _reg(*names: str) -> Callable[[Factory], Factory]:
    def deco(f: Factory) -> Factory:
        for n in names:
            FUNCTIONS[n] = f
        return f

    return deco


def _simple(name: str, impl: Callable[..., Value]) -> None:
    """A function of already evaluated argument values."""

    def factory(args: list[Fn]) -> Fn:
        if len(args) == 0:
            return lambda n, e: impl()
        if len(args) == 1:
            a = args[0]
            return lambda n, e: impl(a(n, e))
        if len(args) == 2:
            a, b = args
            return lambda n, e: impl(a(n, e), b(n, e))
        return lambda n, e: impl(*[f(n, e) for f in args])

    FUNCTIONS[name] = factory
    VALUE_FUNCTIONS[name] = impl


def _nodes(v: Value, fname: str) -> list[Node]:
    if not isinstance(v, list):
        raise EvalError(f"{fname}() necesita un conjunto de nodos")
    return v


def _flat_strings(values: list[Value]) -> list[str]:
    out: list[str] = []
    for v in values:
        if isinstance(v, list):
            out.extend(n.string_value() for n in v)
        else:
            out.append(to_string(v))
    return out


def _tokens(v: Value) -> list[str]:
    return to_string(v).split()


# -- XPath 1.0 core -------------------------------------------------------------------

_simple("true", lambda: True)
_simple("false", lambda: False)
_simple("not", lambda v: not to_bool(v))
_simple("boolean", to_bool)
_simple("floor", lambda v: float(math.floor(x)) if math.isfinite(x := to_number(v)) else x)
_simple("ceiling", lambda v: float(math.ceil(x)) if math.isfinite(x := to_number(v)) else x)
_simple("contains", lambda a, b: to_string(b) in to_string(a))
_simple("starts-with", lambda a, b: to_string(a).startswith(to_string(b)))
_simple("ends-with", lambda a, b: to_string(a).endswith(to_string(b)))
_simple("count", lambda v: float(len(_nodes(v, "count"))))
_simple("abs", lambda v: abs(to_number(v)))
RNG: random.Random = random.SystemRandom()
"""Source of random(), uuid() and unseeded randomize(); `seed_random()` makes it
reproducible (the `forms eval --seed` option for conformance runs)."""


def seed_random(seed: int | None) -> None:
    """Make random(), uuid() and randomize() reproducible (None: back to the system's
    unpredictable source)."""
    global RNG
    RNG = random.SystemRandom() if seed is None else random.Random(seed)


_simple("random", lambda: RNG.random())


def _with_context(impl: Callable[[str], Value]) -> Factory:
    def factory(args: list[Fn]) -> Fn:
        if not args:
            return lambda n, e: impl(n.string_value())
        a = args[0]
        return lambda n, e: impl(to_string(a(n, e)))

    return factory


FUNCTIONS["string-length"] = _with_context(lambda s: float(len(s)))
FUNCTIONS["normalize-space"] = _with_context(lambda s: " ".join(s.split()))


@_reg("number")
def _number(args: list[Fn]) -> Fn:
    if not args:
        return lambda n, e: to_number(n.string_value())
    a = args[0]
    return lambda n, e: to_number(a(n, e))


@_reg("string")
def _string(args: list[Fn]) -> Fn:
    if not args:
        return lambda n, e: n.string_value()
    a = args[0]
    return lambda n, e: to_string(a(n, e))


@_reg("concat")
def _concat(args: list[Fn]) -> Fn:
    # ODK accepts node-sets in concat() and joins every node's value
    return lambda n, e: "".join(_flat_strings([f(n, e) for f in args]))


def _substring(s: Value, start: Value, length: Value = None) -> str:
    text = to_string(s)
    st = to_number(start)
    if st != st:
        return ""
    first = _xround(st)
    if length is None:
        last = math.inf
    else:
        ln = to_number(length)
        if ln != ln:
            return ""
        last = first + _xround(ln)
    out = []
    for i, ch in enumerate(text, 1):
        if first <= i < last:
            out.append(ch)
    return "".join(out)


def _xround(x: float) -> float:
    if not math.isfinite(x):
        return x
    return float(math.floor(x + 0.5))


_simple("substring", _substring)


def _sub_before(a: Value, b: Value) -> str:
    s, t = to_string(a), to_string(b)
    i = s.find(t)
    return s[:i] if i >= 0 else ""


def _sub_after(a: Value, b: Value) -> str:
    s, t = to_string(a), to_string(b)
    i = s.find(t)
    return s[i + len(t):] if i >= 0 else ""


_simple("substring-before", _sub_before)
_simple("substring-after", _sub_after)


def _translate(a: Value, b: Value, c: Value) -> str:
    s, frm, to = to_string(a), to_string(b), to_string(c)
    table: dict[str, str | None] = {}
    for i, ch in enumerate(frm):
        if ch not in table:
            table[ch] = to[i] if i < len(to) else None
    return "".join(x for ch in s if (x := table.get(ch, ch)) is not None)


_simple("translate", _translate)


def _sum(v: Value) -> float:
    # JavaRosa skips values that are not numbers (empty answers)
    total = 0.0
    for node in _nodes(v, "sum"):
        x = to_number(node.string_value())
        if x == x:
            total += x
    return total


_simple("sum", _sum)


def _round(v: Value, digits: Value = None) -> float:
    x = to_number(v)
    if not math.isfinite(x):
        return x
    if digits is None:
        return _xround(x)
    d = to_number(digits)
    if d != d:
        return NAN
    places = int(d)
    if abs(places) > 30:
        return NAN
    if places < 0:
        scaled = x * 10.0 ** places
        return float(math.floor(scaled + 0.5)) * 10.0 ** -places
    # half away from zero for positives, towards zero for negatives (XPath, JavaRosa)
    mode = ROUND_HALF_DOWN if x < 0 else ROUND_HALF_UP
    try:
        q = Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=mode)
    except InvalidOperation:
        return x
    return float(q)


_simple("round", _round)


@_reg("last")
def _last(args: list[Fn]) -> Fn:
    return lambda n, e: float(e.size)


@_reg("position")
def _position(args: list[Fn]) -> Fn:
    if not args:
        return lambda n, e: float(e.pos)
    a = args[0]

    def run(n: Node, e: Env) -> Value:
        nodes = _nodes(a(n, e), "position")
        return float(nodes[0].index) if nodes else 0.0

    return run


# -- ODK extensions -------------------------------------------------------------------


@_reg("if")
def _if(args: list[Fn]) -> Fn:
    c, a, b = args
    return lambda n, e: a(n, e) if to_bool(c(n, e)) else b(n, e)


@_reg("coalesce")
def _coalesce(args: list[Fn]) -> Fn:
    a, b = args

    def run(n: Node, e: Env) -> Value:
        x = a(n, e)
        return b(n, e) if _is_null(x) else x

    return run


def _is_null(v: Value) -> bool:
    """JavaRosa's null: an empty string (or empty node value) or NaN."""
    if isinstance(v, list):
        v = v[0].string_value() if len(v) >= 1 else ""
    if isinstance(v, float):
        return v != v
    return isinstance(v, str) and v == ""


@_reg("join")
def _join(args: list[Fn]) -> Fn:
    sep, rest = args[0], args[1:]
    return lambda n, e: to_string(sep(n, e)).join(_flat_strings([f(n, e) for f in rest]))


def _selected(a: Value, b: Value) -> bool:
    return to_string(b).strip() in _tokens(a)


_simple("selected", _selected)
_simple("count-selected", lambda v: float(len(_tokens(v))))


def _selected_at(a: Value, i: Value) -> str:
    toks = _tokens(a)
    x = to_number(i)
    if x != x:
        return ""
    k = int(x)
    return toks[k] if 0 <= k < len(toks) else ""


_simple("selected-at", _selected_at)


def _substr(s: Value, start: Value, end: Value = None) -> str:
    """0-based, end exclusive; negative positions count from the end (JavaRosa)."""
    text = to_string(s)
    n = len(text)
    a = _to_int(to_number(start))
    b = n if end is None else _to_int(to_number(end))
    if a < 0:
        a += n
    if b < 0:
        b += n
    a, b = min(max(0, a), n), min(max(0, b), n)
    return text[a:b] if a <= b else ""


def _to_int(x: float) -> int:
    return int(x) if math.isfinite(x) else 0


_simple("substr", _substr)

_regex_cache: dict[str, re.Pattern[str]] = {}


def _regex(s: Value, pattern: Value) -> bool:
    p = to_string(pattern)
    rx = _regex_cache.get(p)
    if rx is None:
        try:
            rx = re.compile(p)
        except re.error as err:
            raise EvalError(f"expresión regular inválida «{p}»") from err
        _regex_cache[p] = rx
    return rx.fullmatch(to_string(s)) is not None  # Java's Pattern.matches


_simple("regex", _regex)


def _int(v: Value) -> float:
    x = to_number(v)
    if not math.isfinite(x):
        return x
    return float(math.trunc(x))


_simple("int", _int)
_simple("pow", lambda a, b: _pow(to_number(a), to_number(b)))


def _pow(a: float, b: float) -> float:
    try:
        r = a ** b
    except (OverflowError, ZeroDivisionError):
        return NAN if a == 0 else math.inf
    return r if isinstance(r, float) else NAN


def _numbers(values: list[Value]) -> list[float]:
    out: list[float] = []
    for v in values:
        if isinstance(v, list):
            out.extend(to_number(n.string_value()) for n in v)
        else:
            out.append(to_number(v))
    return out


def _extreme(pick: Callable[[list[float]], float]) -> Factory:
    def factory(args: list[Fn]) -> Fn:
        def run(n: Node, e: Env) -> Value:
            xs = [x for x in _numbers([f(n, e) for f in args]) if x == x]
            return pick(xs) if xs else NAN  # empty values are skipped, as JavaRosa

        return run

    return factory


FUNCTIONS["max"] = _extreme(max)
FUNCTIONS["min"] = _extreme(min)


@_reg("count-non-empty")
def _count_non_empty(args: list[Fn]) -> Fn:
    a = args[0]
    return lambda n, e: float(
        sum(1 for x in _nodes(a(n, e), "count-non-empty") if x.string_value() != "")
    )


def _boolean_from_string(v: Value) -> bool:
    s = to_string(v)
    return s.lower() == "true" or s == "1"


_simple("boolean-from-string", _boolean_from_string)


@_reg("indexed-repeat")
def _indexed_repeat(args: list[Fn]) -> Fn:
    target, pairs = args[0], args[1:]
    if len(pairs) % 2:
        raise EvalError("indexed-repeat() necesita pares repetición, posición")

    def run(n: Node, e: Env) -> Value:
        tnodes = _nodes(target(n, e), "indexed-repeat")
        if not tnodes:
            return []
        chosen: list[Node] = []
        for k in range(0, len(pairs), 2):
            reps = _nodes(pairs[k](n, e), "indexed-repeat")
            idx = to_number(pairs[k + 1](n, e))
            i = max(1, int(idx)) if idx == idx and math.isfinite(idx) else 1  # as JavaRosa
            if i > len(reps):
                return []
            chosen.append(reps[i - 1])
        # keep the target nodes that live inside every chosen repeat instance
        out = []
        for t in tnodes:
            anc = set(map(id, t.chain()))
            if all(id(c) in anc for c in chosen):
                out.append(t)
        return out

    return run


def _session_clock(e: Env) -> datetime:
    s = e.session
    if s is not None and getattr(s, "clock", None) is not None:
        return s.clock()
    return datetime.now().astimezone()


def _local(d: datetime) -> datetime:
    return d.astimezone() if d.tzinfo is not None else d


@_reg("today")
def _today(args: list[Fn]) -> Fn:
    return lambda n, e: _local(_session_clock(e)).date()


@_reg("now")
def _now(args: list[Fn]) -> Fn:
    return lambda n, e: _session_clock(e)


_LOOSE_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")


def _date(v: Value) -> Value:
    """date(): a date. '' and NaN stay as they are (ODK's null); a date-time gives a
    DateStamp (its local date, with the time kept for decimal-date-time);
    text that is not a date, or an impossible one such as '1983-09-31', is an error
    as in JavaRosa (the calculation is left empty and the problem reported)."""
    if _is_blank(v):
        return v if isinstance(v, float) else ""
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    if isinstance(v, str) and (m := _LOOSE_DATE.match(v)):
        v = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"  # '1970-1-2'
    if not isinstance(v, float | int | bool | date):
        moment = to_date(v)
        if isinstance(moment, datetime):
            return DateStamp.of(moment)  # reads as a date, keeps its time
    d = to_calendar_date(v)
    if d is None:
        raise EvalError(f"«{to_string(v)}» no es una fecha válida")
    return d


def _date_time(v: Value) -> Value:
    """date-time(): a moment. A number is days since 1970-01-01T00:00Z (the inverse
    of decimal-date-time); a date is local midnight; shown in local time."""
    if _is_blank(v):
        return v if isinstance(v, float) else ""
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    if isinstance(v, float | int) and not isinstance(v, bool):
        d = from_epoch_days(float(v))
    else:
        d0 = to_date(v)
        d = instant_of(d0) if d0 is not None else None
    if d is None:
        raise EvalError(f"«{to_string(v)}» no es una fecha y hora válida")
    return d


def _is_blank(v: Value) -> bool:
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    if isinstance(v, float):
        return v != v
    return isinstance(v, str) and v.strip() == ""


_simple("date", _date)
_simple("date-time", _date_time)


def _decimal_date_time(v: Value) -> Value:
    """Days since 1970-01-01T00:00Z of the moment; a date means local midnight (as
    ODK Collect), so with TZ=America/Lima decimal-date-time('2021-10-06') is
    18906.2083…; a number is returned as it is."""
    if _is_blank(v):
        return v if isinstance(v, float) else ""
    if isinstance(v, float | int) and not isinstance(v, bool):
        return float(v)
    d = to_date(v)
    if d is None:
        return NAN  # JavaRosa raises; NaN keeps the calculation blank
    return epoch_days(d)


_simple("decimal-date-time", _decimal_date_time)
_simple("decimal-date", _decimal_date_time)


def _decimal_time(v: Value) -> Value:
    """decimal-time(): the fraction of the local day of a time value ('12:00' is 0.5;
    an offset is converted to local time). Anything that is not a time — a number,
    a date-time, an impossible time such as '24:00' — is NaN (ODK's test cases)."""
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    if isinstance(v, str):
        if v.strip() == "":
            return ""
        t = parse_time(v)
        if t is not None:
            return t
    return NAN


_simple("decimal-time", _decimal_time)

_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "set", "oct", "nov", "dic"]
_DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_DAYS_EN = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_SPANISH_NAMED = ("es", "qu", "ay")  # Peru's languages read Spanish month names


def _names_for(language: str | None) -> tuple[list[str], list[str]]:
    """Month and weekday abbreviations for %b/%a: the form's language when it has an
    ISO code (`Español (es)`, `English (en)`), else the machine's locale (the ODK
    spec: form locale, or the client's). Spanish for es/qu/ay, English otherwise."""
    code = ""
    if language:
        m = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z]+)?\)", language)
        if m:
            code = m.group(1).lower()
        elif language.lower().startswith(("espa", "spanish", "castellano")):
            code = "es"
        elif language.lower().startswith("english"):
            code = "en"
    if not code:
        code = _system_language()
    if code.startswith(_SPANISH_NAMED) or code.startswith("spanish"):
        return _MONTHS, _DAYS
    return _MONTHS_EN, _DAYS_EN


def _system_language() -> str:
    for var in ("LC_ALL", "LC_TIME", "LANG"):
        val = os.environ.get(var, "")
        if val and val not in ("C", "POSIX") and not val.startswith("C."):
            return val.lower()
    try:
        loc = locale.getlocale(locale.LC_TIME)[0] or ""
    except (ValueError, TypeError):
        loc = ""
    return loc.lower()


def _format_date_in(language: str | None, v: Value, fmt: Value) -> str:
    f = to_string(fmt)
    if "%b" in f or "%a" in f:  # the only codes that name months or days
        months, days = _names_for(language)
        return _format_date(v, f, months, days)
    return _format_date(v, f)


# format-date codes: (date-time, month names, day names) -> text
_DATE_CODES: dict[str, Callable[[datetime, list[str], list[str]], str]] = {
    "Y": lambda dt, m, d: f"{dt.year:04d}", "y": lambda dt, m, d: f"{dt.year % 100:02d}",
    "m": lambda dt, m, d: f"{dt.month:02d}", "n": lambda dt, m, d: str(dt.month),
    "b": lambda dt, m, d: m[dt.month - 1], "d": lambda dt, m, d: f"{dt.day:02d}",
    "e": lambda dt, m, d: str(dt.day), "H": lambda dt, m, d: f"{dt.hour:02d}",
    "h": lambda dt, m, d: str(dt.hour), "M": lambda dt, m, d: f"{dt.minute:02d}",
    "S": lambda dt, m, d: f"{dt.second:02d}",
    "3": lambda dt, m, d: f"{dt.microsecond // 1000:03d}",
    "a": lambda dt, m, d: d[dt.weekday()], "%": lambda dt, m, d: "%",
}


@lru_cache(maxsize=256)
def _format_parts(f: str) -> tuple[tuple[Any, ...], bool]:
    """A format-date pattern read once: its parts (literal text, or a code's function)
    and whether any code reads the time of day (else a date is formatted as it is)."""
    parts: list[Any] = []
    timed = False
    i = 0
    while i < len(f):
        ch = f[i]
        if ch == "%" and i + 1 < len(f):
            c = f[i + 1]
            i += 2
            code = _DATE_CODES.get(c)
            parts.append(code if code is not None else "%" + c)
            timed = timed or c in "HhMS3"
            continue
        parts.append(ch)
        i += 1
    return tuple(parts), timed


def _format_date(v: Value, fmt: Value, months: list[str] = _MONTHS,
                 days: list[str] = _DAYS) -> str:
    """format-date(-time) with ODK's codes: %Y %y %m %n %b %d %e %a %H %h %M %S %3
    (and %% for a percent sign); other characters are copied. A value that is not a
    date gives '' (JavaRosa). Month and day names are Spanish."""
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    f = fmt if type(fmt) is str else to_string(fmt)
    key = None
    if type(v) is str:
        if months is _MONTHS and days is _DAYS:
            key = (v, f)
            hit = _FORMATTED.get(key)
            if hit is not None:
                return hit
        if v.strip() == "":
            return ""
    elif _is_blank(v):
        return ""
    d0 = parse_date(v) if type(v) is str else None  # the usual value: a plain date
    if d0 is not None:
        d: date | datetime | None = d0
    elif isinstance(v, str) and parse_time(v) is not None and to_date(v) is None:
        t = parse_time(v) or 0.0
        d = datetime(1970, 1, 1) + timedelta(seconds=round(t * 86400, 3))
    else:
        d = to_date(v)
    if d is None:
        return ""
    parts, timed = _format_parts(f)
    if isinstance(d, datetime):
        dt: date = _local(d)
    else:
        dt = datetime(d.year, d.month, d.day) if timed else d  # no time read: as it is
    text = "".join([p if type(p) is str else p(dt, months, days) for p in parts])
    if key is not None and type(d) is date and len(_FORMATTED) < 20_000:
        _FORMATTED[key] = text  # a calendar date: the same text in any time zone
    return text


# format-date of a date text (its birth date, in every record of that person's
# household): kept by (text, format) for plain dates, which no time zone changes
_FORMATTED: dict[tuple[str, str], str] = {}


@_reg("format-date", "format-date-time")
def _format_date_fn(args: list[Fn]) -> Fn:
    a, b = args

    def run(n: Node, e: Env) -> Value:
        return _format_date_in(getattr(e.session, "language", None), a(n, e), b(n, e))

    return run


@_reg("once")
def _once(args: list[Fn]) -> Fn:
    a = args[0]

    def run(n: Node, e: Env) -> Value:
        cur = e.current.value
        return cur if cur != "" else a(n, e)

    return run


@_reg("uuid")
def _uuid_fn(args: list[Fn]) -> Fn:
    if not args:
        return lambda n, e: str(_uuid.UUID(int=RNG.getrandbits(128), version=4))
    a = args[0]
    alphabet = string.ascii_letters + string.digits

    def run(n: Node, e: Env) -> Value:
        k = to_number(a(n, e))
        if k != k or k < 0:
            return ""
        return "".join(RNG.choice(alphabet) for _ in range(int(k)))

    return run


@_reg("jr:choice-name")
def _choice_name(args: list[Fn]) -> Fn:
    a, b = args

    def run(n: Node, e: Env) -> Value:
        value = to_string(a(n, e))
        ref = to_string(b(n, e))
        s = e.session
        if s is None or value == "":
            return ""
        label = s.choice_label(ref, value, e.current)
        if not label:
            # `select_one ${name}`: the choices are answers, their label is the value
            nd = s.formdef.by_path.get(generic_path(ref)) if ref.startswith("/") else None
            if nd is not None and getattr(nd, "choice_from", None):
                return value
        return label

    return run


# -- XPath 3.0 math (ODK spec "Number Functions") ------------------------------------


def _math1(fn: Callable[[float], float]) -> Callable[[Value], float]:
    def run(v: Value) -> float:
        x = to_number(v)
        try:
            return fn(x)
        except (ValueError, OverflowError):  # outside the domain: NaN, as Java's Math
            return NAN if x == x else x

    return run


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x != x or x < 0:
        return NAN
    return -math.inf if x == 0 else math.log(x)


def _log10(x: float) -> float:
    if x != x or x < 0:
        return NAN
    return -math.inf if x == 0 else math.log10(x)


_simple("sin", _math1(math.sin))
_simple("cos", _math1(math.cos))
_simple("tan", _math1(math.tan))
_simple("asin", _math1(math.asin))
_simple("acos", _math1(math.acos))
_simple("atan", _math1(math.atan))
_simple("atan2", lambda a, b: math.atan2(to_number(a), to_number(b)))
_simple("exp", _math1(_exp))
_simple("exp10", lambda v: _pow(10.0, to_number(v)))
_simple("log", _math1(_log))
_simple("log10", _math1(_log10))
_simple("sqrt", _math1(lambda x: math.sqrt(x) if x >= 0 else NAN))
_simple("pi", lambda: math.pi)


# -- checklist / weighted-checklist ---------------------------------------------------


def _flat_values(values: list[Value]) -> list[Value]:
    out: list[Value] = []
    for v in values:
        if isinstance(v, list):
            out.extend(n.string_value() for n in v)
        else:
            out.append(v)
    return out


def _checked(v: Value) -> bool:
    """A checklist factor is true when it converts to a number > 0 (ODK XForms spec);
    a boolean is itself and the text 'true' counts as true."""
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() == "true":
        return True
    x = to_number(v)
    return x == x and x > 0


def _bound(v: Value) -> int:
    x = to_number(v)
    return int(x) if math.isfinite(x) else -1


@_reg("checklist")
def _checklist(args: list[Fn]) -> Fn:
    """checklist(min, max, v*): true when the number of true values (see _checked;
    node-sets give every node's value) is within [min, max]; -1 means no bound."""
    lo_f, hi_f, rest = args[0], args[1], args[2:]

    def run(n: Node, e: Env) -> Value:
        lo, hi = _bound(lo_f(n, e)), _bound(hi_f(n, e))
        count = sum(1 for v in _flat_values([f(n, e) for f in rest]) if _checked(v))
        return (lo < 0 or count >= lo) and (hi < 0 or count <= hi)

    return run


@_reg("weighted-checklist")
def _weighted_checklist(args: list[Fn]) -> Fn:
    """weighted-checklist(min, max, (v, w)*): the sum of the weights w of the true
    values v is within [min, max]; two node-sets pair their nodes in order."""
    lo_f, hi_f, rest = args[0], args[1], args[2:]
    if len(rest) % 2:
        raise EvalError("weighted-checklist() necesita pares valor, peso")

    def run(n: Node, e: Env) -> Value:
        lo, hi = _bound(lo_f(n, e)), _bound(hi_f(n, e))
        vals = [f(n, e) for f in rest]
        if len(vals) == 2 and isinstance(vals[0], list) and isinstance(vals[1], list):
            if len(vals[0]) != len(vals[1]):
                raise EvalError("weighted-checklist(): los conjuntos no tienen el mismo tamaño")
            pairs = list(zip(_flat_values([vals[0]]), _flat_values([vals[1]]), strict=True))
        else:
            pairs = [(vals[i], vals[i + 1]) for i in range(0, len(vals), 2)]
        total = sum(to_number(w) for v, w in pairs if _checked(v))
        return (lo < 0 or total >= lo) and (hi < 0 or total <= hi)

    return run


# -- digest ---------------------------------------------------------------------------

_DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384",
            "SHA-512": "sha512"}


def _digest(src: Value, algorithm: Value, encoding: Value = "base64") -> str:
    """digest(src, algorithm, encoding?) as XForms 1.1: MD5, SHA-1, SHA-256, SHA-384,
    SHA-512 of the UTF-8 text; 'base64' (default) or 'hex' (lower case)."""
    name = _DIGESTS.get(to_string(algorithm).upper())
    if name is None:
        raise EvalError(f"digest(): algoritmo «{to_string(algorithm)}» no soportado")
    raw = hashlib.new(name, to_string(src).encode("utf-8")).digest()
    enc = to_string(encoding).lower()
    if enc == "hex":
        return raw.hex()
    if enc == "base64":
        return base64.b64encode(raw).decode("ascii")
    raise EvalError(f"digest(): codificación «{to_string(encoding)}» no soportada")


_simple("digest", _digest)


# -- geography (area in m², distance in m, on a sphere of the equator's radius) -------

EARTH_RADIUS_M = 6378100.0  # the radius ODK's evaluators use



def _points(v: Value, fname: str) -> list[tuple[float, float]]:
    texts = [n.string_value() for n in v] if isinstance(v, list) else [to_string(v)]
    if len(texts) == 1:
        texts = [p for p in texts[0].split(";")]
    pts: list[tuple[float, float]] = []
    for t in texts:
        parts = t.split()
        if not parts:
            continue
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except (IndexError, ValueError) as err:
            raise EvalError(f"{fname}(): «{t.strip()}» no es un punto GPS") from err
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise EvalError(f"{fname}(): «{t.strip()}» no es un punto GPS")
        pts.append((lat, lon))
    return pts


def _distance(v: Value) -> float:
    """Length in metres of the path through the points (haversine on the sphere)."""
    pts = _points(v, "distance")
    total = 0.0
    for (la1, lo1), (la2, lo2) in zip(pts, pts[1:], strict=False):
        p1, p2 = math.radians(la1), math.radians(la2)
        dp, dl = p2 - p1, math.radians(lo2 - lo1)
        h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        total += 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
    return round(total, 2)  # centimetres, as ODK's evaluators


def _area(v: Value) -> float:
    """Area in m² of the polygon through the points (spherical excess; the polygon
    is closed if its last point differs from the first)."""
    pts = _points(v, "area")
    if len(pts) < 3:
        return 0.0
    if pts[0] != pts[-1]:
        pts = [*pts, pts[0]]
    total = 0.0
    for (la1, lo1), (la2, lo2) in zip(pts, pts[1:], strict=False):
        total += math.radians(lo2 - lo1) * (
            2 + math.sin(math.radians(la1)) + math.sin(math.radians(la2)))
    return round(abs(total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0), 2)


_simple("area", _area)
_simple("enclosed-area", _area)
_simple("distance", _distance)


# -- randomize (ODK spec: inside-out Fisher-Yates, Park-Miller generator when seeded) --


class _ParkMiller:
    """The Park-Miller "minimal standard" generator the ODK spec names for a seeded
    randomize(), so the same seed shuffles the same way in every ODK client."""

    def __init__(self, seed: float) -> None:
        whole = int(seed) if math.isfinite(seed) else 0  # NaN and infinities act as 0
        s = int(math.fmod(whole, 2147483647))  # the sign of the seed is kept
        if s <= 0:
            s += 2147483646
        self.seed = s

    def next_float(self) -> float:
        self.seed = (self.seed * 16807) % 2147483647
        return (self.seed - 1) / 2147483646


@_reg("randomize")
def _randomize(args: list[Fn]) -> Fn:
    a = args[0]
    seed_f = args[1] if len(args) > 1 else None

    def run(n: Node, e: Env) -> Value:
        nodes = list(_nodes(a(n, e), "randomize"))
        if seed_f is None:
            rnd: Callable[[], float] = RNG.random
        else:
            rnd = _ParkMiller(to_number(seed_f(n, e))).next_float
        out: list[Node] = []
        for i, node in enumerate(nodes):
            j = math.floor(rnd() * (i + 1))
            if j == i:
                out.append(node)
            else:
                out.append(out[j])
                out[j] = node
        return out

    return run


# -- translation, form and node names -------------------------------------------------


@_reg("jr:itext")
def _itext(args: list[Fn]) -> Fn:
    """jr:itext('/form/q:label') (or ':hint'): that text of question /form/q in the
    session language (pyxform's itext ids); '' for an id the form does not have."""
    a = args[0]

    def run(n: Node, e: Env) -> Value:
        ref = to_string(a(n, e))
        s = e.session
        fd = getattr(s, "formdef", None)
        path, _sep, form = ref.rpartition(":")
        if fd is None or not path.startswith("/"):
            return ""
        nd = fd.by_path.get(generic_path(path))
        if nd is None:
            return ""
        lang = getattr(s, "language", None)
        if form == "label":
            return nd.label(lang)
        if form == "hint":
            return nd.hint(lang)
        return ""

    return run


@_reg("version")
def _version(args: list[Fn]) -> Fn:
    def run(n: Node, e: Env) -> Value:
        s = e.session
        fd = getattr(s, "formdef", None)
        return str(getattr(fd, "version", "") or "")

    return run


def _node_name(args: list[Fn]) -> Fn:
    if not args:
        return lambda n, e: n.name if n.parent is not None else ""
    a = args[0]

    def run(n: Node, e: Env) -> Value:
        nodes = _nodes(a(n, e), "name")
        return nodes[0].name if nodes and nodes[0].parent is not None else ""

    return run


FUNCTIONS["name"] = _node_name
FUNCTIONS["local-name"] = _node_name
FUNCTIONS["namespace-uri"] = lambda args: (lambda n, e: "")
FUNCTIONS["lang"] = lambda args: (lambda n, e: False)  # instances carry no xml:lang


# -- device properties (metadata types deviceid, username, …; jr:preload property) ---

DEVICE_PROPERTIES: dict[str, str] = {}
"""Values property() gives, set by the program (e.g. `username` to the signed-in
user). Unset names give '' except `deviceid`, which is derived from this machine."""


def device_property(name: str) -> str:
    """A device property as ODK's property(): `deviceid` is a stable id of this
    laptop (`siee:` and 16 hex characters of a hash of its network hardware
    address, so no hardware number is stored), `username`/`email` whatever the
    program set; a laptop has no SIM, so `simserial`, `subscriberid`,
    `phonenumber` are ''. The `uri:` forms give the same values."""
    key = name.strip().lower().removeprefix("uri:")
    if key in DEVICE_PROPERTIES:
        return DEVICE_PROPERTIES[key]
    if key == "deviceid":
        digest = hashlib.sha256(f"siee-device:{_uuid.getnode():012x}".encode()).hexdigest()
        DEVICE_PROPERTIES[key] = f"siee:{digest[:16]}"
        return DEVICE_PROPERTIES[key]
    return ""


@_reg("property")
def _property(args: list[Fn]) -> Fn:
    a = args[0]

    def run(n: Node, e: Env) -> Value:
        s = e.session
        props = getattr(s, "properties", None)
        name = to_string(a(n, e))
        if isinstance(props, dict) and name in props:
            return str(props[name])
        return device_property(name)

    return run


_simple("siee:dni-valid", lambda v: is_valid_dni(to_string(v)))


__all__ = ["FUNCTIONS", "fmt_num"]
