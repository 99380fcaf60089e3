"""XPath 1.0 expressions with the ODK function set.

Expressions are parsed once with an elementpath XPath 1.0 parser (extended with
the ODK / JavaRosa function names) and the resulting token tree is compiled into
plain Python closures that run against the engine's instance tree (`Node`).
The closures are what FormSession evaluates after every answer; the parse and
compile happen once per form.

Values inside the evaluator are: str, float, bool, list[Node] (a node-set),
datetime.date and datetime.datetime (from today(), now(), date()).

Compilation also records, for every expression, which instance paths it reads
(`Dep`): the dependency graph of the form is built from these.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from elementpath import XPath1Parser
from elementpath.exceptions import ElementPathError

from app.core.memo import memo_by_text

JR_NS = "http://openrosa.org/javarosa"
SIEE_NS = "urn:siee:xforms"

Path = tuple[str, ...]
Value = Any  # str | float | bool | list[Node] | date | datetime
Fn = Callable[["Node", "Env"], Value]


class ExprError(Exception):
    """An expression that cannot be parsed or compiled. The message is Spanish."""


# --------------------------------------------------------------------------------------
# Instance nodes


_NO_CHILDREN: tuple[()] = ()
_NO_NAMES: Any = MappingProxyType({})


class Node:
    """One element of an instance: a group, a repeat instance, a question, or a column
    of a choice item (choice filters run against choice items)."""

    __slots__ = ("name", "parent", "children", "by_name", "defn", "value", "relevant", "index",
                 "st")

    def __init__(self, name: str, parent: Node | None = None, defn: Any = None,
                 value: str = "", leaf: bool = False) -> None:
        """leaf=True: a node that never has children (a question); it shares one empty,
        read-only children tuple and name map instead of allocating its own (a record
        has hundreds of questions), and adding a child to it raises."""
        self.name = name
        self.parent = parent
        if leaf:
            self.children: list[Node] = _NO_CHILDREN  # type: ignore[assignment]
            self.by_name: dict[str, list[Node]] = _NO_NAMES  # type: ignore[assignment]
        else:
            self.children = []
            self.by_name = {}
        self.defn = defn
        self.value = value
        self.relevant = True
        self.index = 1  # 1-based position among siblings of the same name
        self.st: Any = None  # per-node state kept by the session

    def append(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        lst = self.by_name.setdefault(child.name, [])
        lst.append(child)
        child.index = len(lst)
        return child

    def string_value(self) -> str:
        if self.children:
            return "".join(c.string_value() for c in self.children)
        return self.value if self.relevant else ""

    def chain(self) -> list[Node]:
        out: list[Node] = []
        n: Node | None = self
        while n is not None:
            out.append(n)
            n = n.parent
        out.reverse()
        return out

    def path(self) -> str:
        """Absolute instance path with 1-based positions on repeat instances."""
        parts = []
        n: Node | None = self
        while n is not None and n.parent is not None:
            d = n.defn
            if d is not None and getattr(d, "kind", "") == "repeat":
                parts.append(f"{n.name}[{n.index}]")
            else:
                parts.append(n.name)
            n = n.parent
        return "/" + "/".join(reversed(parts))

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Node {self.path()}={self.value!r}>"


class Env:
    """Evaluation environment: the node whose expression runs (`current`), the
    document node, the session (for jr:choice-name, once, today)."""

    __slots__ = ("doc", "current", "chain", "pos", "size", "session", "indexes")

    def __init__(self, doc: Node, session: Any = None) -> None:
        self.doc = doc
        self.session = session
        # value indexes of `[column = value]` predicates (see _indexed); None: off. The
        # owner must clear it whenever a value, a relevance or the instance set changes.
        self.indexes: dict[tuple[int, int, str], tuple[list[Node], Any]] | None = None
        self.current: Node = doc
        self.chain: list[Node] = [doc]
        self.pos = 1
        self.size = 1

    def at(self, node: Node) -> Env:
        self.current = node
        self.chain = node.chain()
        return self


@dataclass(frozen=True, slots=True)
class Dep:
    """An expression reads the generic path `path`; `pin` leading steps of it are the
    same instance as the evaluated node's (0: any instance)."""

    path: Path
    pin: int


@dataclass(slots=True)
class Expr:
    source: str
    fn: Fn
    deps: list[Dep] = field(default_factory=list)
    structural: list[Dep] = field(default_factory=list)  # repeats whose size matters
    global_dep: bool = False
    index_eq: tuple[str, Expr] | None = None  # choice filter `column = expr`

    def __call__(self, node: Node, env: Env) -> Value:
        return self.fn(node, env)


# --------------------------------------------------------------------------------------
# Type conversions (XPath 1.0 with ODK's handling of dates)

_NUM_RE = re.compile(r"^\s*-?(\d+(\.\d*)?|\.\d+)\s*$")
_DATE_RE = re.compile(r"^\s*(-?\d{4,})-(\d{2})-(\d{2})\s*$")
_DT_RE = re.compile(
    r"^\s*(\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?\s*$"
)
EPOCH = date(1970, 1, 1)
NAN = float("nan")


@memo_by_text()  # a birth date is read by several rules of a record
def parse_date(s: str) -> date | None:
    """A date text ('2021-10-06') as a date; None when it is not one (impossible
    dates too)."""
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii() \
            and s[:4].isdigit() and s[5:7].isdigit() and s[8:].isdigit():
        try:  # the usual 'YYYY-MM-DD', read without the pattern (same result)
            return date(int(s[:4]), int(s[5:7]), int(s[8:]))
        except ValueError:
            return None
    m = _DATE_RE.match(s)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_datetime(s: str) -> datetime | None:
    m = _DT_RE.match(s)
    if not m:
        return None
    txt = s.strip().replace(" ", "T")
    if txt.endswith("Z"):
        txt = txt[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(txt)
    except ValueError:
        return None


_TIME_RE = re.compile(r"^\s*(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)?\s*$")


def parse_time(s: str) -> float | None:
    """A `time` value ('HH:MM[:SS[.fff]][offset]') as the fraction of the local day
    (decimal-time: '12:00' is 0.5); an offset is converted to local time."""
    m = _TIME_RE.match(s)
    if not m:
        return None
    h, mi = int(m.group(1)), int(m.group(2))
    sec = int(m.group(3) or 0) + float(m.group(4) or 0)
    if h > 23 or mi > 59 or sec >= 60:
        return None
    secs = h * 3600 + mi * 60 + sec
    off = m.group(5)
    if off:
        if off == "Z":
            off_s = 0
        else:
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            oh, om = int(digits[:2]), int(digits[2:4] or 0)
            if oh > 23 or om > 59:
                return None
            off_s = sign * (oh * 3600 + om * 60)
        utc = datetime(1970, 1, 2, tzinfo=UTC) + timedelta(seconds=secs - off_s)
        loc = utc.astimezone()
        secs = loc.hour * 3600 + loc.minute * 60 + loc.second + loc.microsecond / 1e6
    return secs / 86400.0


def days_of(d: date | datetime) -> float:
    """A date or date-time as a number of days since 1970-01-01 (ODK's number()):
    a date is a whole number of days on the calendar (so `today() - ${dob}` and
    `${d} + 1` are exact), a date-time is the moment's days since 1970-01-01T00:00Z
    with a fraction (the spec's "days since January 1, 1970 UTC")."""
    if isinstance(d, datetime):
        return epoch_days(d)
    return float((d - EPOCH).days)


def instant_of(d: date | datetime) -> datetime:
    """The moment a date or date-time names, as an aware datetime: a date is local
    midnight of that day (ODK Collect), a date-time without offset is local time."""
    if isinstance(d, datetime):
        return d if d.tzinfo is not None else d.astimezone()
    return datetime(d.year, d.month, d.day).astimezone()


def epoch_days(d: date | datetime) -> float:
    """decimal-date-time(): days since 1970-01-01T00:00Z of the moment `d` names
    (ODK XForms spec). With TZ=America/Lima, 2021-10-06 is 18906.2083…"""
    t = instant_of(d).astimezone(UTC)
    delta = t.replace(tzinfo=None) - datetime(1970, 1, 1)
    return delta.days + delta.seconds / 86400.0 + delta.microseconds / 86400e6


def from_epoch_days(x: float) -> datetime | None:
    """date-time(): the moment `x` days after 1970-01-01T00:00Z, in local time with
    its offset; None for NaN or infinite or out-of-range numbers."""
    if not math.isfinite(x):
        return None
    try:
        t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=round(x * 86400e6))
        return t.astimezone()
    except (OverflowError, ValueError):
        return None


# text -> number for the texts that are numbers, dates or nothing ('' above all): the
# same values come back record after record (date-times are left out: they read the
# time zone)
_NUMBERS: dict[str, float] = {}


def str_to_number(s: str) -> float:
    hit = _NUMBERS.get(s)
    if hit is not None:
        return hit
    if _NUM_RE.match(s):
        x = float(s)
    elif "," in s and _NUM_RE.match(s.replace(",", ".")):  # JavaRosa accepts a decimal comma
        x = float(s.replace(",", "."))
    else:
        d = parse_date(s)
        if d is not None:  # a calendar date: whole days, whatever the time zone
            x = days_of(d)
            if len(_NUMBERS) < 20_000:
                _NUMBERS[s] = x
            return x
        dt = parse_datetime(s)
        if dt is not None:
            return days_of(dt)
        x = NAN
    if len(_NUMBERS) < 20_000:
        _NUMBERS[s] = x
    return x


def fmt_num(x: float) -> str:
    """XPath 1.0 number -> string: never exponent notation (`0.000001`, not `1e-06`;
    `0.00000000000000000123` in full), whole numbers without `.0`, `NaN`,
    `Infinity`, `-Infinity`. As JavaRosa, a value within 1e-12 of a non-zero whole
    number prints as that whole number (`2.0000000000000004` is `2`)."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    r = round(x)
    if (r != 0 and abs(x - r) < 1e-12) or abs(x) >= 1e16:  # JavaRosa's tolerance
        return str(int(r))
    txt = repr(x)
    if "e" in txt or "E" in txt:
        txt = format(Decimal(txt), "f")
        if "." in txt:
            txt = txt.rstrip("0").rstrip(".")
    return txt


def stored_string(v: Value) -> str:
    """A calculation's result as the text stored in the instance: like string(),
    except that NaN and infinities store as empty (ODK Collect leaves a calculation
    whose number is not a number blank, so `${bmi} != ''` is false and once() still
    sees an empty node)."""
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return to_string(v)


def fmt_datetime(d: datetime) -> str:
    d = d.astimezone()  # local time with its offset
    s = d.isoformat(timespec="milliseconds")
    return s


class DateStamp(datetime):
    """What date() gives for a date-time: it reads as its local date (string(),
    comparisons, arithmetic), but keeps the moment, so decimal-date-time(date(x))
    and format-date-time(date(x), …) still see the time (JavaRosa and ODK Web Forms
    keep it too)."""

    @classmethod
    def of(cls, d: datetime) -> DateStamp:
        loc = instant_of(d).astimezone()
        return cls(loc.year, loc.month, loc.day, loc.hour, loc.minute, loc.second,
                   loc.microsecond, tzinfo=loc.tzinfo)


def to_string(v: Value) -> str:
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if t is list:  # the usual node-set: one question
        return v[0].string_value() if v else ""
    if isinstance(v, str):
        return v
    if isinstance(v, DateStamp):
        return v.date().isoformat()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float | int):
        return fmt_num(float(v))
    if isinstance(v, list):
        return v[0].string_value() if v else ""
    if isinstance(v, datetime):
        return fmt_datetime(v)
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def to_number(v: Value) -> float:
    t = type(v)  # exact types first: the usual values, without the isinstance chain
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is list:
        return str_to_number(v[0].string_value()) if v else NAN
    if t is str:
        return str_to_number(v)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float | int):
        return float(v)
    if isinstance(v, str):
        return str_to_number(v)
    if isinstance(v, list):
        return str_to_number(v[0].string_value()) if v else NAN
    if isinstance(v, datetime):
        # JavaRosa: a date-time value (now(), date-time()) in arithmetic counts whole
        # days of its local date; decimal-date-time() gives the fraction
        local = v.astimezone() if v.tzinfo is not None else v
        return float((local.date() - EPOCH).days)
    if isinstance(v, date):
        return days_of(v)
    return NAN


def to_bool(v: Value) -> bool:
    if v is True or v is False:
        return v  # type: ignore[no-any-return]
    if isinstance(v, bool):
        return v
    if isinstance(v, float | int):
        return abs(v) > 1e-12 and v == v
    if isinstance(v, str):
        return len(v) > 0
    if isinstance(v, list):
        # ODK (JavaRosa) unpacks a single node to its value; XPath 1.0 would say true().
        if len(v) == 1:
            return len(v[0].string_value()) > 0
        return len(v) > 0
    return v is not None


def to_date(v: Value) -> date | datetime | None:
    if isinstance(v, datetime | date):
        return v
    if isinstance(v, list):
        v = v[0].string_value() if v else ""
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        d = parse_date(s)
        if d is not None:
            return d
        dt = parse_datetime(s)
        if dt is not None:
            return dt
        if _NUM_RE.match(s):
            v = float(s)
        else:
            return None
    if isinstance(v, bool):
        return None
    if isinstance(v, float | int):
        x = float(v)
        if not math.isfinite(x) or abs(x) > 3e6:
            return None
        if x == math.floor(x):
            return EPOCH + timedelta(days=int(x))
        return from_epoch_days(x)
    return None


def to_calendar_date(v: Value) -> date | None:
    """date(): a date value, never a time. A whole number is that many calendar
    days after 1970-01-01 (JavaRosa); a number with a fraction is a moment (as from
    decimal-date-time) and gives its local date; a date-time gives its local date."""
    d = to_date(v)
    if isinstance(d, datetime):
        return d.astimezone().date() if d.tzinfo is not None else d.date()
    return d


# --------------------------------------------------------------------------------------
# Comparison (XPath 1.0 rules: node-sets compare existentially)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
}


def _cmp_atoms(op: str, a: Value, b: Value) -> bool:
    if type(a) is float and type(b) is float and op in _RELATIONS:
        return _RELATIONS[op](a, b)  # type: ignore[no-any-return]
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            r = to_bool(a) == to_bool(b)
        elif isinstance(a, float | int | date) or isinstance(b, float | int | date):
            r = abs(to_number(a) - to_number(b)) < 1e-12  # JavaRosa's tolerance; NaN never
            if not r:
                x, y = to_number(a), to_number(b)
                r = x == y and x in (math.inf, -math.inf)
        else:
            r = to_string(a) == to_string(b)
        return r if op == "=" else not r
    x, y = to_number(a), to_number(b)
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


_NUMERIC_TYPES = frozenset({"integer", "decimal"})


def _atom(n: Node) -> Value:
    """A node's value as JavaRosa unpacks it: numbers for answered integer and decimal
    questions, text otherwise."""
    s = n.string_value()
    d = n.defn
    if s and d is not None and getattr(d, "type", "") in _NUMERIC_TYPES:
        x = str_to_number(s)
        if x == x:
            return x
    return s


def _literal(tok: Any) -> str | float | None:
    """The value of a string or number literal token, else None."""
    sym = tok.symbol
    if sym == "(string)":
        return str(tok.value)
    if sym in ("(integer)", "(decimal)", "(float)"):
        return float(tok.value)
    return None


def _compare_literal(op: str, other: Fn, lit: str | float, lit_left: bool) -> Fn | None:
    """`other op lit` (or `lit op other`) for a text literal with = / != or a number
    literal with < <= > >=: the same result as `compare`, without its general type
    dispatch when `other` gives nodes (the usual `${x} = '1'`, `${edad} >= 14`); any
    other value goes through `compare`. None for the other combinations."""
    test: Callable[[Value], bool]
    if isinstance(lit, str) and op in ("=", "!="):
        want = op == "="

        def test(atom: Value) -> bool:
            if type(atom) is str:
                return (atom == lit) is want
            return _cmp_atoms(op, atom, lit)  # a number: compared as numbers

    elif isinstance(lit, float) and op in _RELATIONS:
        rel = _RELATIONS[_FLIPPED[op] if lit_left else op]

        def test(atom: Value) -> bool:
            return rel(str_to_number(atom) if type(atom) is str else atom, lit)

    else:
        return None

    def run(n: Node, e: Env) -> bool:
        v = other(n, e)
        if type(v) is not list:
            return compare(op, lit, v) if lit_left else compare(op, v, lit)
        for node in v:  # existential over the node-set, each node by its typed value
            if test(_atom(node)):
                return True
        return False

    return run


def compare(op: str, a: Value, b: Value) -> bool:
    """XPath 1.0 comparison; node-sets compare existentially, each node by its
    typed value (see _atom)."""
    a_ns, b_ns = isinstance(a, list), isinstance(b, list)
    if a_ns and b_ns:
        if len(a) == 1 and len(b) == 1:  # the usual case: one question against another
            return _cmp_atoms(op, _atom(a[0]), _atom(b[0]))
        bs = [_atom(n) for n in b]
        for n in a:
            sa = _atom(n)
            for sb in bs:
                if _cmp_atoms(op, sa, sb):
                    return True
        return False
    if a_ns or b_ns:
        ns, other = (a, b) if a_ns else (b, a)
        if isinstance(other, bool):
            return _cmp_atoms(op, to_bool(ns), other) if a_ns else _cmp_atoms(
                op, other, to_bool(ns))
        for n in ns:
            atom = _atom(n)
            if isinstance(other, float | int | date) and isinstance(atom, str):
                atom = str_to_number(atom)
            if _cmp_atoms(op, atom, other) if a_ns else _cmp_atoms(op, other, atom):
                return True
        return False
    return _cmp_atoms(op, a, b)


# --------------------------------------------------------------------------------------
# Parser


class ODKParser(XPath1Parser):
    """XPath 1.0 grammar with the ODK function names (arguments checked by elementpath)."""

    symbol_table = dict(XPath1Parser.symbol_table)
    PATH_STEP_SYMBOLS = XPath1Parser.PATH_STEP_SYMBOLS | {"current"}
    DEFAULT_NAMESPACES = {**XPath1Parser.DEFAULT_NAMESPACES, "jr": JR_NS, "siee": SIEE_NS}

    def parse(self, source: str) -> Any:
        # Same as XPath1Parser.parse without its static evaluation: ODK compares
        # '' or 'abc' with numbers (NaN) where XPath 2 style evaluation would raise.
        if self.tokenizer is None:
            self.tokenizer = self.create_tokenizer(self.symbol_table)
        root = super(XPath1Parser, self).parse(source)
        if root.label in ("sequence type", "function test"):
            raise root.error("XPST0003", "not allowed in XPath expression")
        return root


def _no_static_eval(self: Any, context: Any = None) -> None:
    return None


# name -> nargs as elementpath wants it (int, (min, max) with None for unbounded)
_ODK_SIGNATURES: dict[str, Any] = {
    "selected": 2, "count-selected": 1, "selected-at": 2, "if": 3, "coalesce": 2,
    "join": (1, None), "concat": (0, None), "substr": (2, 3), "regex": 2, "int": 1,
    "round": (1, 2), "pow": 2, "max": (1, None), "min": (1, None), "position": (0, 1),
    "indexed-repeat": (3, None), "today": 0, "now": 0, "date": 1, "date-time": 1,
    "decimal-date-time": 1, "decimal-date": 1, "decimal-time": 1, "format-date": 2,
    "format-date-time": 2, "once": 1, "uuid": (0, 1), "boolean-from-string": 1,
    "ends-with": 2, "count-non-empty": 1, "current": 0, "abs": 1, "string-length": (0, 1),
    "normalize-space": (0, 1), "sum": 1, "number": (0, 1), "string": (0, 1), "not": 1,
    "substring": (2, 3), "contains": 2, "starts-with": 2, "substring-before": 2,
    "substring-after": 2, "translate": 3, "count": 1, "floor": 1, "ceiling": 1,
    "true": 0, "false": 0, "boolean": 1, "last": 0, "random": 0, "exp": 1, "exp10": 1,
    "log": 1, "log10": 1, "sqrt": 1, "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1,
    "atan": 1, "atan2": 2, "pi": 0, "checklist": (2, None), "weighted-checklist": (2, None),
    "digest": (2, 3), "area": 1, "enclosed-area": 1, "distance": 1, "randomize": (1, 2),
    "version": 0, "name": (0, 1), "local-name": (0, 1), "namespace-uri": (0, 1), "lang": 1,
    "pulldata": (4, 4), "instance": 1, "property": 1, "id": 1,
}
for _name, _nargs in _ODK_SIGNATURES.items():
    ODKParser.symbol_table.pop(_name, None)
    ODKParser.function(_name, nargs=_nargs).evaluate = _no_static_eval  # type: ignore[method-assign]
ODKParser.function("choice-name", prefix="jr", nargs=2).evaluate = _no_static_eval  # type: ignore[method-assign]
ODKParser.function("itext", prefix="jr", nargs=1).evaluate = _no_static_eval  # type: ignore[method-assign]
ODKParser.function("dni-valid", prefix="siee", nargs=1).evaluate = _no_static_eval  # type: ignore[method-assign]

# XPath 1.0 grammar: EqualityExpr (= !=) binds looser than RelationalExpr (< <= > >=),
# and both chain left to right (`3 < 4 < 5`, `-3 < 3 = 6 >= 6`); elementpath's XPath 1
# parser gives them one precedence and refuses chains (the XPath 2 rule). The tokens
# are registered afresh on this parser only.
for _sym in ("=", "!="):
    ODKParser.symbol_table.pop(_sym, None)
    ODKParser.infix(_sym, bp=27)
for _sym in ("<", ">", "<=", ">="):
    ODKParser.symbol_table.pop(_sym, None)
    ODKParser.infix(_sym, bp=30)

_parser = ODKParser()
_parser_lock = threading.Lock()  # an elementpath parser holds per-parse state


def parse(source: str) -> Any:
    try:
        with _parser_lock:
            return _parser.parse(source)
    except ElementPathError as e:
        raise ExprError(f"expresión inválida «{source}»: {_short(e)}") from e
    except (SyntaxError, ValueError, TypeError) as e:
        raise ExprError(f"expresión inválida «{source}»: {e}") from e


def _short(e: Exception) -> str:
    msg = str(e)
    msg = re.sub(r"\[err:[A-Z0-9]+\]\s*", "", msg)
    return msg


# --------------------------------------------------------------------------------------
# Compiler

_STEP_SYMBOLS = {"(name)", "*", "..", ".", "[", "/", "//", "current"}

# The XPath function library by name ("concat", "jr:choice-name", ...): each entry
# takes the compiled argument closures and returns the call's closure. Filled by
# app.forms.functions, which the app.forms package imports (so it is filled before
# any expression compiles); kept here so this module never imports that one
# (issue 13 item 12: no import cycles).
FUNCTIONS: dict[str, Callable[[list[Fn]], Fn]] = {}
# The functions of already evaluated argument values among them, by name: their
# implementation itself (app.forms.compiled calls it on the values it computes).
VALUE_FUNCTIONS: dict[str, Callable[..., Value]] = {}


@dataclass(slots=True)
class _Step:
    axis: str  # child | parent | self | desc
    name: str | None  # None = any
    preds: list[Fn]
    plain: bool  # a child step with no predicate


@dataclass(slots=True)
class _Ctx:
    """Static context while compiling: generic path of the context node and how many
    of its leading steps are pinned to the evaluated node's own instances. `path`
    is None for a choice item (choice filters)."""

    path: Path | None
    pin: int
    current: Path | None  # generic path of current()


class _Compiler:
    def __init__(self, source: str, ctx_path: Path | None, current: Path | None) -> None:
        self.source = source
        self.deps: list[Dep] = []
        self.structural: list[Dep] = []
        self.global_dep = False
        self.ctx = _Ctx(ctx_path, len(ctx_path) if ctx_path else 0, current)
        self.no_align = False

    # -- helpers
    def err(self, what: str) -> ExprError:
        return ExprError(f"{what} en «{self.source}»")

    def compile(self, tok: Any, ctx: _Ctx) -> Fn:
        sym = tok.symbol
        if sym in ("(string)",):
            s = str(tok.value)
            return lambda n, e: s
        if sym in ("(integer)", "(decimal)", "(float)"):
            x = float(tok.value)
            return lambda n, e: x
        if sym == "(":
            return self.compile(tok[0], ctx)
        if sym == "or":
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            return lambda n, e: to_bool(a(n, e)) or to_bool(b(n, e))
        if sym == "and":
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            return lambda n, e: to_bool(a(n, e)) and to_bool(b(n, e))
        if sym in ("=", "!=", "<", "<=", ">", ">="):
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            op = sym
            for k in (1, 0):  # `${x} = 'text'`, `${edad} >= 14`: the usual binds
                lit = _literal(tok[k])
                if lit is not None:
                    fast = _compare_literal(op, b if k == 0 else a, lit, k == 0)
                    if fast is not None:
                        return fast
            return lambda n, e: compare(op, a(n, e), b(n, e))
        if sym in ("+", "-") and len(tok) == 2:
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            if sym == "+":
                return lambda n, e: to_number(a(n, e)) + to_number(b(n, e))
            return lambda n, e: to_number(a(n, e)) - to_number(b(n, e))
        if sym == "-" and len(tok) == 1:
            a = self.compile(tok[0], ctx)
            return lambda n, e: -to_number(a(n, e))
        if sym == "+" and len(tok) == 1:
            a = self.compile(tok[0], ctx)
            return lambda n, e: to_number(a(n, e))
        if sym == "*" and len(tok) == 2:
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            return lambda n, e: to_number(a(n, e)) * to_number(b(n, e))
        if sym == "div":
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            return lambda n, e: _div(to_number(a(n, e)), to_number(b(n, e)))
        if sym == "mod":
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)
            return lambda n, e: _mod(to_number(a(n, e)), to_number(b(n, e)))
        if sym == "|":
            a, b = self.compile(tok[0], ctx), self.compile(tok[1], ctx)

            def union(n: Node, e: Env) -> Value:
                x, y = a(n, e), b(n, e)
                if not isinstance(x, list) or not isinstance(y, list):
                    raise EvalError("el operador | une solo conjuntos de nodos")
                seen = {id(v) for v in x}
                return x + [v for v in y if id(v) not in seen]

            return union
        if sym == ":":
            return self.function(tok[1], ctx, prefix=str(tok[0].value))
        if sym in _STEP_SYMBOLS or (sym == "*" and len(tok) == 0):
            return self.path(tok, ctx)
        if tok.label.endswith("function"):
            return self.function(tok, ctx)
        raise self.err(f"«{sym}» no está soportado")

    # -- functions
    def function(self, tok: Any, ctx: _Ctx, prefix: str | None = None) -> Fn:
        name = str(tok.symbol)
        qname = f"{prefix}:{name}" if prefix else name
        if qname == "current" and len(tok) == 0:
            return self.path(tok, ctx)
        spec = FUNCTIONS.get(qname)
        if spec is None:
            raise self.err(f"la función {qname}() no está soportada")
        if qname == "indexed-repeat":
            # the target and the repeats name every instance; the positions are
            # ordinary expressions (bound to the current instance like any other)
            args = []
            for i, t in enumerate(tok):
                self.no_align = i == 0 or i % 2 == 1
                try:
                    args.append(self.compile(t, ctx))
                finally:
                    self.no_align = False
        else:
            args = [self.compile(t, ctx) for t in tok]
        if qname == "position" and tok:
            self._structural_of(tok[0], ctx)
        return spec(args)

    def _structural_of(self, tok: Any, ctx: _Ctx) -> None:
        # position(..) depends on the order of the repeat instances
        info = self._static_path(tok, ctx)
        if info is not None:
            p, _pin = info
            self.structural.append(Dep(p, max(0, len(p) - 1)))

    # -- paths
    def _flatten(self, tok: Any, ctx: _Ctx) -> tuple[str, list[tuple[str, str | None, list[Any]]]]:
        """-> (start, steps) with start in root|context|current and raw steps
        (axis, name, predicate tokens)."""
        sym = tok.symbol
        if sym == "/" and len(tok) == 0:
            return "root", []
        if sym == "/" and len(tok) == 1:
            _s, steps = self._flatten(tok[0], ctx)
            if _s != "context":
                raise self.err("ruta no soportada")
            return "root", steps
        if sym == "//" and len(tok) == 1:
            _s, steps = self._flatten(tok[0], ctx)
            return "root", [("desc", None, []), *steps]
        if sym in ("/", "//") and len(tok) == 2:
            start, left = self._flatten(tok[0], ctx)
            s2, right = self._flatten(tok[1], ctx)
            if s2 != "context":
                raise self.err("ruta no soportada")
            mid = [("desc", None, [])] if sym == "//" else []
            return start, [*left, *mid, *right]
        if sym == "[":
            start, steps = self._flatten(tok[0], ctx)
            if not steps:
                raise self.err("predicado sobre una expresión no soportado")
            axis, name, preds = steps[-1]
            steps[-1] = (axis, name, [*preds, tok[1]])
            return start, steps
        if sym == "(name)":
            return "context", [("child", str(tok.value), [])]
        if sym == "*":
            return "context", [("child", None, [])]
        if sym == "..":
            return "context", [("parent", None, [])]
        if sym == ".":
            return "context", [("self", None, [])]
        if sym == "current":
            return "current", []
        raise self.err(f"ruta no soportada («{sym}»)")

    def _static_path(self, tok: Any, ctx: _Ctx) -> tuple[Path, int] | None:
        try:
            start, steps = self._flatten(tok, ctx)
        except ExprError:
            return None
        return self._analyse(start, steps, ctx)[0]

    def _analyse(self, start: str, steps: list[tuple[str, str | None, list[Any]]],
                 ctx: _Ctx) -> tuple[tuple[Path, int] | None, list[_Ctx]]:
        """Generic path reached and its pinned depth; plus the static context of each
        step (for compiling predicates)."""
        step_ctx: list[_Ctx] = []
        if start == "root":
            cur: Path | None = ()
            pin = 0
            aligned = True
            ref = self.ctx.current if self.ctx.current is not None else self.ctx.path
            ref = () if self.no_align else (ref or ())
        elif start == "current":
            cur = self.ctx.current
            pin = len(cur) if cur is not None else 0
            aligned = False
            ref = ()
        else:
            cur = ctx.path
            pin = ctx.pin
            aligned = False
            ref = ()
        for i, (axis, name, preds) in enumerate(steps):
            if cur is None:
                # choice item context: a column name
                step_ctx.append(_Ctx(None, 0, self.ctx.current))
                continue
            if axis == "child":
                if name is None:
                    self.global_dep = True
                    return None, step_ctx + [_Ctx(None, 0, None)] * (len(steps) - i)
                cur = (*cur, name)
                if start == "root" and aligned and not preds and i < len(ref) \
                        and ref[i] == name:
                    pin = i + 1
                else:
                    aligned = False
            elif axis == "parent":
                if not cur:
                    return None, step_ctx
                cur = cur[:-1]
                pin = min(pin, len(cur))
            elif axis == "self":
                pass
            else:
                self.global_dep = True
                return None, step_ctx + [_Ctx(None, 0, None)] * (len(steps) - i)
            step_ctx.append(_Ctx(cur, pin, self.ctx.current))
        return ((cur, pin) if cur is not None else None), step_ctx

    def path(self, tok: Any, ctx: _Ctx) -> Fn:
        start, raw = self._flatten(tok, ctx)
        info, step_ctx = self._analyse(start, raw, ctx)
        if info is not None:
            p, pin = info
            self.deps.append(Dep(p, pin))
            # every repeat crossed below the pinned depth makes the result depend on
            # how many instances there are
            for k in range(pin + 1, len(p) + 1):
                self.structural.append(Dep(p[:k], k - 1))
        steps: list[_Step] = []
        for (axis, name, preds), sctx in zip(raw, step_ctx, strict=False):
            cpreds = [self._predicate(pt, sctx) for pt in preds]
            steps.append(_Step(axis, name, cpreds, axis == "child" and not preds and
                               name is not None))
        if start == "root":
            return _absolute_path(steps, align=not self.no_align)
        if start == "current":
            return _current_path(steps)
        return _relative_path(steps)

    def _predicate(self, tok: Any, sctx: _Ctx) -> Fn:
        if tok.symbol == "(integer)":
            k = int(tok.value)
            return lambda n, e: float(k)
        if tok.symbol == "=":
            for k in (0, 1):
                col, other = tok[k], tok[1 - k]
                if col.symbol == "(name)" and ":" not in str(col.value) \
                        and _item_free(other):
                    # `[column = 'text']`, `[column = current()/...]`: a value index
                    a, b = self.compile(tok[0], sctx), self.compile(tok[1], sctx)
                    return _indexable_eq(a, b, str(col.value), b if k == 0 else a)
        return self.compile(tok, sctx)


class EvalError(Exception):
    """A runtime error in an expression (Spanish message)."""


def _div(a: float, b: float) -> float:
    if b == 0:
        if a != a or a == 0:
            return NAN
        return math.inf if a > 0 else -math.inf
    return a / b


def _mod(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or a in (math.inf, -math.inf):
        return NAN
    return math.fmod(a, b)


def _apply_step(step: _Step, nodes: list[Node], env: Env) -> list[Node]:
    out: list[Node] = []
    axis, name = step.axis, step.name
    for n in nodes:
        if axis == "child":
            lst = n.by_name.get(name, []) if name is not None else n.children
        elif axis == "parent":
            lst = [n.parent] if n.parent is not None else []
        elif axis == "self":
            lst = [n]
        else:  # descendant-or-self
            lst = []
            stack = [n]
            while stack:
                x = stack.pop()
                lst.append(x)
                stack.extend(reversed(x.children))
        for k, pred in enumerate(step.preds):
            if k == 0 and env.indexes is not None and axis == "child" and len(lst) > 1:
                eq = getattr(pred, "eq_index", None)
                if eq is not None:
                    hit = _indexed(lst, eq[0], eq[1], env)
                    if hit is not None:
                        lst = hit
                        continue
            lst = _filter(lst, pred, env)
        out.extend(lst)
    if len(nodes) > 1 and step.axis != "child":
        seen: set[int] = set()
        uniq = []
        for x in out:
            if id(x) not in seen:
                seen.add(id(x))
                uniq.append(x)
        return uniq
    return out


def _indexable_eq(a: Fn, b: Fn, column: str, value: Fn) -> Fn:
    """`a = b` as a predicate, marked for _indexed (`column` of the item = `value`)."""

    def eq(n: Node, e: Env) -> bool:
        return compare("=", a(n, e), b(n, e))

    eq.eq_index = (column, value)  # type: ignore[attr-defined]
    return eq


def _item_free(tok: Any) -> bool:
    """True for a predicate operand whose value is the same for every item the predicate
    filters: a string literal, current(), or current() followed by plain steps."""
    sym = tok.symbol
    if sym in ("(string)", "current"):
        return len(tok) == 0
    if sym == "/" and len(tok) == 2:
        step = tok[1]
        return _item_free(tok[0]) and step.symbol in ("(name)", "..", ".") and len(step) == 0
    return False


def _indexed(lst: list[Node], col: str, other: Fn, env: Env) -> list[Node] | None:
    """`lst[col = other]` through a value index of `col` over `lst` (built once, kept in
    env.indexes until the owner clears it), for an `other` that does not read the item
    (_item_free). Same nodes, same order as _filter when every `col` atom and every
    atom of `other` is text (XPath 1.0: then `=` is string equality, existential over
    node-sets); None when one is a number, a boolean or a date (then _filter decides)."""
    cache = env.indexes
    assert cache is not None
    key = (id(lst), len(lst), col)
    ent = cache.get(key)
    if ent is None or ent[0] is not lst:
        by: dict[str, list[int]] | None = {}
        for i, x in enumerate(lst):
            for c in x.by_name.get(col, ()):
                a = _atom(c)
                if not isinstance(a, str):
                    by = None
                    break
                hit = by.get(a)  # type: ignore[union-attr]
                if hit is None:
                    by[a] = [i]  # type: ignore[index]
                elif hit[-1] != i:
                    hit.append(i)
            if by is None:
                break
        ent = cache[key] = (lst, by)
    by = ent[1]
    if by is None:
        return None
    v = other(lst[0], env)
    if isinstance(v, str):
        rows = by.get(v)
        return [lst[i] for i in rows] if rows else []
    if not isinstance(v, list):
        return None
    keys = []
    for n in v:
        a = _atom(n)
        if not isinstance(a, str):
            return None
        keys.append(a)
    if len(keys) == 1:
        rows = by.get(keys[0])
        return [lst[i] for i in rows] if rows else []
    picked: set[int] = set()
    for k in keys:
        picked.update(by.get(k, ()))
    return [lst[i] for i in sorted(picked)]


def _filter(lst: list[Node], pred: Fn, env: Env) -> list[Node]:
    keep = []
    size = len(lst)
    saved = env.pos, env.size
    try:
        for i, x in enumerate(lst, 1):
            env.pos, env.size = i, size
            v = pred(x, env)
            if isinstance(v, float | int) and not isinstance(v, bool):
                if v == i:
                    keep.append(x)
            elif to_bool(v):
                keep.append(x)
    finally:
        env.pos, env.size = saved
    return keep


def _absolute_path(steps: list[_Step], align: bool = True) -> Fn:
    """An absolute path bound to repeat instances as ODK does: its leading plain
    steps follow the evaluated node's own instances (what pyxform writes as a
    relative path for a `${name}` in the same repeat, `current()/..` inside
    predicates); past that, inside a predicate, they follow the predicate's context
    node (JavaRosa contextualises an absolute reference against its context)."""

    def run(node: Node, env: Env) -> list[Node]:
        chain = env.chain
        other: list[Node] | None = None
        nodes = [env.doc]
        aligned = align
        aligned2 = align and node is not env.current
        for i, step in enumerate(steps):
            if aligned and step.plain and i + 1 < len(chain) and chain[i + 1].name == step.name:
                nodes = [chain[i + 1]]
                if aligned2:
                    if other is None:
                        other = node.chain()
                    aligned2 = i + 1 < len(other) and other[i + 1] is chain[i + 1]
                continue
            aligned = False
            if aligned2 and step.plain:
                if other is None:
                    other = node.chain()
                if i + 1 < len(other) and other[i + 1].name == step.name and \
                        other[0] is env.doc and other[i] is nodes[0] and len(nodes) == 1:
                    nodes = [other[i + 1]]
                    continue
            aligned2 = False
            nodes = _apply_step(step, nodes, env)
        return nodes

    if align and steps and all(st.plain for st in steps):
        return _plain_absolute_path(tuple(st.name for st in steps), run)  # type: ignore[arg-type]
    return run


def _plain_absolute_path(names: tuple[str, ...], general: Fn) -> Fn:
    """`_absolute_path` of plain child steps (`/fsu/integrantes/edad`), evaluated on the
    evaluated node itself (`env.current`, the usual case): the same walk — steps follow
    the node's own instances while their names match, then every child of that name —
    without the per-step bookkeeping. Inside a predicate (another context node) the
    general closure runs."""

    def run(node: Node, env: Env) -> list[Node]:
        if node is not env.current:
            return general(node, env)  # type: ignore[no-any-return]
        chain = env.chain
        size = len(chain)
        cur = env.doc
        nodes: list[Node] | None = None
        i = 0
        for name in names:
            i += 1
            if nodes is None:
                if i < size and chain[i].name == name:
                    cur = chain[i]
                    continue
                nodes = list(cur.by_name.get(name, ()))
            else:
                nodes = [c for n in nodes for c in n.by_name.get(name, ())]
        return [cur] if nodes is None else nodes

    return run


def _relative_path(steps: list[_Step]) -> Fn:
    if len(steps) == 1 and steps[0].plain:
        name = steps[0].name

        def child(node: Node, env: Env) -> list[Node]:
            return node.by_name.get(name, [])  # type: ignore[arg-type]

        return child

    def run(node: Node, env: Env) -> list[Node]:
        nodes = [node]
        for step in steps:
            nodes = _apply_step(step, nodes, env)
        return nodes

    return run


def _current_path(steps: list[_Step]) -> Fn:
    def run(node: Node, env: Env) -> list[Node]:
        nodes = [env.current]
        for step in steps:
            nodes = _apply_step(step, nodes, env)
        return nodes

    return run


# --------------------------------------------------------------------------------------
# Public entry point

_REF_RE = re.compile(r"\$\{([^}\s]*)\}")


def substitute_refs(source: str, resolve: Callable[[str], str]) -> str:
    """Replace `${name}` by the absolute path that `resolve(name)` returns."""
    return _REF_RE.sub(lambda m: resolve(m.group(1)), source)


def referenced_names(source: str) -> list[str]:
    return _REF_RE.findall(source)


def compile_expr(source: str, ctx_path: Path | None, current: Path | None = None,
                 choice_filter: bool = False) -> Expr:
    """Compile an expression whose `${}` references are already substituted.

    ctx_path: generic path of the context node (the node the expression is bound to),
    or None for a choice filter (context = a choice item, current() = `current`)."""
    tok = parse(source)
    comp = _Compiler(source, ctx_path, current if current is not None else ctx_path)
    ctx = _Ctx(ctx_path, len(ctx_path) if ctx_path else 0, comp.ctx.current)
    fn = comp.compile(tok, ctx)
    expr = Expr(source, fn, comp.deps, comp.structural, comp.global_dep)
    if choice_filter and tok.symbol == "=" and tok[0].symbol == "(name)":
        other = comp.compile(tok[1], ctx)
        # `column = expr` where expr does not read the choice item: index lookup
        if not _reads_context(tok[1]):
            expr.index_eq = (str(tok[0].value), Expr(source, other))
    return expr


def _reads_context(tok: Any) -> bool:
    sym = tok.symbol
    if sym in ("(name)", ".", "..", "*"):
        return True
    if sym in ("/", "//") and len(tok) >= 1:
        return len(tok) == 2 and _reads_context(tok[0])
    if sym == "[":
        return _reads_context(tok[0])
    if sym == "current":
        return False
    return any(_reads_context(t) for t in tok)
