"""The XPath 1.0 core functions and the ODK (JavaRosa) extensions.

Each entry of FUNCTIONS takes the compiled argument closures and returns the
closure of the call. Behaviour on empty values follows ODK: an empty string is
NaN as a number, '' as a string and false as a boolean.
"""

from __future__ import annotations

import math
import random
import re
import secrets
import string
import uuid as _uuid
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from app.core.identifiers import is_valid_dni
from app.forms.xpath import (
    NAN,
    Env,
    EvalError,
    Fn,
    Node,
    Value,
    days_of,
    fmt_num,
    to_bool,
    to_date,
    to_number,
    to_string,
)

Factory = Callable[[list[Fn]], Fn]
FUNCTIONS: dict[str, Factory] = {}


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
_simple("exp", lambda v: math.exp(to_number(v)))
_simple("sqrt", lambda v: math.sqrt(x) if (x := to_number(v)) >= 0 else NAN)
_simple("log", lambda v: math.log(x) if (x := to_number(v)) > 0 else NAN)
_simple("log10", lambda v: math.log10(x) if (x := to_number(v)) > 0 else NAN)
_simple("random", lambda: random.random())


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


def _date(v: Value) -> Value:
    d = to_date(v)
    if d is None:
        if isinstance(v, float) and v != v:
            return v
        if to_string(v).strip() == "":
            return ""
        raise EvalError(f"«{to_string(v)}» no es una fecha")
    return d


_simple("date", _date)
_simple("date-time", _date)


def _decimal_date_time(v: Value) -> Value:
    d = to_date(v)
    if d is None:
        return "" if to_string(v) == "" else NAN
    return days_of(d)


_simple("decimal-date-time", _decimal_date_time)
_simple("decimal-date", _decimal_date_time)

_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "set", "oct", "nov", "dic"]
_DAYS = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]


def _format_date(v: Value, fmt: Value) -> str:
    d = to_date(v)
    if d is None:
        return ""
    dt = _local(d) if isinstance(d, datetime) else datetime(d.year, d.month, d.day)
    f = to_string(fmt)
    out = []
    i = 0
    while i < len(f):
        ch = f[i]
        if ch == "%" and i + 1 < len(f):
            c = f[i + 1]
            i += 2
            rep = {
                "Y": f"{dt.year:04d}", "y": f"{dt.year % 100:02d}", "m": f"{dt.month:02d}",
                "n": str(dt.month), "b": _MONTHS[dt.month - 1], "d": f"{dt.day:02d}",
                "e": str(dt.day), "H": f"{dt.hour:02d}", "h": str(dt.hour),
                "M": f"{dt.minute:02d}", "S": f"{dt.second:02d}",
                "3": f"{dt.microsecond // 1000:03d}", "a": _DAYS[dt.weekday()], "%": "%",
            }.get(c)
            out.append(rep if rep is not None else "%" + c)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


_simple("format-date", _format_date)
_simple("format-date-time", _format_date)


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
        return lambda n, e: str(_uuid.uuid4())
    a = args[0]
    alphabet = string.ascii_letters + string.digits

    def run(n: Node, e: Env) -> Value:
        k = to_number(a(n, e))
        if k != k or k < 0:
            return ""
        return "".join(secrets.choice(alphabet) for _ in range(int(k)))

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
        return s.choice_label(ref, value, e.current)

    return run


_simple("siee:dni-valid", lambda v: is_valid_dni(to_string(v)))


__all__ = ["FUNCTIONS", "fmt_num"]
