"""The two passes over a received record's tables, written out as Python once per form
version (app.forms.compiled builds them): `evaluate` runs the producers in order
(calculations and relevance), `verdict` visits the questions that can have an error in
form order. Written out, each question's case is decided when the form is compiled (is
an empty answer fine? can a given one be refused? by which rule?) instead of being read
from tables for every answer of every record: the centre runs these for every record it
receives (issue 14: validation no dearer than decrypting, verifying and storing).

The source reads only what it is given: `N` (cells by question and instance), `R`
(instances by repeat), `C` (the record's constants), and names bound here: the rule
functions (`F<n>`), the questions (`L<n>`, compiled._Leaf), their definitions and
number memos. Same results as the loops they replace; tests/forms/test_compiled.py
compares them with the session on random records."""

from __future__ import annotations

from typing import Any

from app.forms.xpath import to_bool

_IND = "    "


class _Source:
    """Python source being written, with the objects its names stand for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"to_bool": to_bool}

    def add(self, depth: int, line: str) -> None:
        self.lines.append(_IND * depth + line)

    def bind(self, prefix: str, obj: Any) -> str:
        """A name for `obj` in the source (one per object)."""
        name = f"{prefix}{len(self.names)}"
        self.names[name] = obj
        return name

    def function(self, header: str, title: str) -> Any:
        src = header + "\n" + ("\n".join(self.lines) or _IND + "pass") + "\n"
        exec(compile(src, title, "exec"), self.names)  # noqa: S102 - our own source
        return self.names[header.split()[1].split("(")[0]]


def evaluate_pass(steps: list[tuple[Any, ...]], errors: tuple[type[BaseException], ...],
                  coerce: Any, form_id: str) -> Any:
    """`evaluate(N, R, C, errors_of)`: every producer in order, as
    ReceivedRecord's loop did. `steps`: CompiledCheck.steps, rows of (rule function,
    repeat or None, question of a calculation or None for relevance, its NodeDef,
    stored as plain text, number memo, marks); `errors`: the exceptions a rule may
    raise; `coerce(nd, value) -> str` (FormSession._coerce_result). A calculation's
    failure is kept in errors_of (by id of its cell) as its message, else None."""
    s = _Source()
    s.names["_ERRORS"] = errors
    s.names["coerce"] = coerce
    for fn, rep, k, nd, plain_text, known, marks in steps:
        f = s.bind("F", fn)
        depth = 1
        if rep is None:
            s.add(1, "i = 0")
        else:
            s.add(1, f"for i in range(R[{rep}]):")
            depth = 2
        if k is not None:  # a calculation: its value, stored as the session stores it
            d, m = s.bind("D", nd), s.bind("M", known)
            s.add(depth, f"n = N[{k}][i]")
            s.add(depth, "try:")
            s.add(depth + 1, f"v = {f}(N, R, i, C)")
            s.add(depth, "except _ERRORS as e:")
            s.add(depth + 1, "n.value = ''")
            s.add(depth + 1, "errors_of[id(n)] = str(e) or type(e).__name__")
            s.add(depth, "else:")
            inner = depth + 1
            branch = "if"
            if plain_text:  # what _coerce_result gives such a text, at once
                s.add(inner, "if type(v) is str and v.isascii() and v.isprintable():")
                s.add(inner + 1, "n.value = v")
                branch = "elif"
            s.add(inner, f"{branch} type(v) is float:  # a count, an age: few values")
            s.add(inner + 1, f"t = {m}.get(v)")
            s.add(inner + 1, "if t is None:")
            s.add(inner + 2, f"t = coerce({d}, v)")
            s.add(inner + 2, f"if len({m}) < 1_000:")
            s.add(inner + 3, f"{m}[v] = t")
            s.add(inner + 1, "n.value = t")
            s.add(inner, "else:")
            s.add(inner + 1, f"n.value = coerce({d}, v)")
            s.add(inner, "errors_of[id(n)] = None")
        else:  # relevance: a false one switches off what it holds
            s.add(depth, "try:")
            s.add(depth + 1, f"on = to_bool({f}(N, R, i, C))")
            s.add(depth, "except _ERRORS:")
            s.add(depth + 1, "on = True")
            s.add(depth, "if not on:")
            for kk, same in marks:
                if same:
                    s.add(depth + 1, f"N[{kk}][i].relevant = False")
                else:
                    s.add(depth + 1, f"for x in N[{kk}]:")
                    s.add(depth + 2, "x.relevant = False")
    return s.function("def evaluate(N, R, C, errors_of):", f"<evaluate {form_id}>")


def verdict_pass(rows_by_repeat: list[tuple[int | None, list[tuple[Any, ...]]]],
                 calculated: set[int], errors: tuple[type[BaseException], ...],
                 form_id: str) -> Any:
    """`verdict(N, R, C, raws, computed, report)`: each question that can have an
    error, in form order, handed to `report(leaf, cell, i)` (which finds its message)
    when its answer may be refused. `rows_by_repeat`: CompiledCheck.checked_rows, as
    (repeat or None, rows of (question index, an empty answer is fine, a given answer
    is fine unless computed, the one constraint deciding a given answer or None,
    compiled._Leaf)); `raws`: the answers whose type refused them (by id of cell);
    `computed`: the calculated cells (by id), of the questions `calculated` lists (a
    calculation's host). As ReceivedRecord's loop did."""
    s = _Source()
    s.names["_ERRORS"] = errors
    for rep, rows in rows_by_repeat:
        depth = 1
        if rep is None:
            s.add(1, "i = 0")
        else:
            s.add(1, f"for i in range(R[{rep}]):")
            depth = 2
        for k, empty_ok, given_ok, fn, leaf in rows:
            lf = s.bind("L", leaf)
            calc = k in calculated
            s.add(depth, f"n = N[{k}][i]")
            s.add(depth, "if n.relevant:")
            d = depth + 1
            s.add(d, "if raws and id(n) in raws:")
            s.add(d + 1, f"report({lf}, n, i)")
            s.add(d, "elif n.value == '':")
            s.add(d + 1, "pass" if empty_ok else f"report({lf}, n, i)")
            if given_ok and not calc:
                continue  # a given answer nothing refuses (only computed cells are)
            s.add(d, "else:")
            if given_ok:
                s.add(d + 1, "if id(n) in computed:")
                s.add(d + 2, f"report({lf}, n, i)")
            elif fn is not None:
                f = s.bind("F", fn)
                s.add(d + 1, "try:")
                s.add(d + 2, f"ok = to_bool({f}(N, R, i, C))")
                s.add(d + 1, "except _ERRORS:")
                s.add(d + 2, "ok = False  # report gives the message")
                s.add(d + 1, "if not ok:")
                s.add(d + 2, f"report({lf}, n, i)")
            else:
                s.add(d + 1, f"report({lf}, n, i)")
    return s.function("def verdict(N, R, C, raws, computed, report):", f"<verdict {form_id}>")


__all__ = ["evaluate_pass", "verdict_pass"]
