"""The two passes over a received record's tables, written out as Python once per form
version (app.forms.compiled builds them): `evaluate` runs the producers in order
(calculations and relevance), `verdict` visits the questions that can have an error in
form order. Written out, each question's case is decided when the form is compiled (is
an empty answer fine? can a given one be refused? by which rule?) instead of being read
from tables for every answer of every record: the centre runs these for every record it
receives (issue 14: validation no dearer than decrypting, verifying and storing).

The source reads only what it is given: `N` (cells by question and instance), `R`
(instances by repeat), `C` (the record's constants), and names bound here: the
questions (`L<n>`, compiled._Leaf), their definitions and number memos, each rule's
constants (`K<rule>_<n>`). Each rule is written out in place (its translated body, with
its memo by value when it reads one question), not called: a call per rule and
instance was a fifth of a record's check. Same results as the loops they replace;
tests/forms/test_compiled.py compares them with the session on random records."""

from __future__ import annotations

import re
from typing import Any

_IND = "    "
_CONSTANT = re.compile(r"\bK(\d+)\b")  # a rule's constant in its translated body
_READS_I = re.compile(r"(?<![\w'])i(?![\w'])")  # the variable `i` in a rule's body


class _Source:
    """Python source being written, with the objects its names stand for.

    `runtime`: the names translated rules read (compiled._RUNTIME, with _MEMO_TYPES and
    _ERRORS, the exceptions a rule may raise)."""

    def __init__(self, runtime: dict[str, Any]) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = dict(runtime)
        self.rules = 0

    def add(self, depth: int, line: str) -> None:
        self.lines.append(_IND * depth + line)

    def bind(self, prefix: str, obj: Any) -> str:
        """A name for `obj` in the source (one per object)."""
        name = f"{prefix}{len(self.names)}"
        self.names[name] = obj
        return name

    def rule(self, depth: int, fn: Any, target: str) -> None:
        """Lines setting `target` to the value of rule `fn` (made by rule_function:
        its body, constants and memo); they raise what the rule raises."""
        r = self.rules
        self.rules += 1
        for n, v in enumerate(fn.consts):
            self.names[f"K{r}_{n}"] = v
        body = _CONSTANT.sub(lambda m: f"K{r}_{m.group(1)}", fn.body)
        if fn.memo is None:
            self.add(depth, f"{target} = {body}")
            return
        k, at, memo = fn.memo  # reads one question: its results kept by its value
        self.add(depth, f"key = N[{k}][{at}].sv")
        self.add(depth, f"M = {memo}")
        self.add(depth, f"{target} = M.get(key)")
        self.add(depth, f"if {target} is None:")
        self.add(depth + 1, f"{target} = {body}")
        self.add(depth + 1, f"if type({target}) in _MEMO_TYPES:")
        self.add(depth + 2, "if len(M) >= 20_000:")
        self.add(depth + 3, "M.clear()")
        self.add(depth + 2, f"M[key] = {target}")

    def function(self, header: str, title: str) -> Any:
        src = header + "\n" + ("\n".join(self.lines) or _IND + "pass") + "\n"
        exec(compile(src, title, "exec"), self.names)  # noqa: S102 - our own source
        return self.names[header.split()[1].split("(")[0]]


def rule_function(body: str, consts: list[Any], memo: tuple[int, str, str] | None,
                  runtime: dict[str, Any], title: str) -> Any:
    """A translated rule as its own function `rule(N, R, i, C)` (the check's messages,
    choice filters and once-per-record rules call it), written by the same lines the
    passes write it out with. `body`: the rule's Python expression over the tables,
    reading its constants as K<n> (`consts`); `memo`: (question, instance variable or
    '0', where its memo lives in C) for a rule that reads one question, kept by that
    answer's value, else None; `runtime`: see _Source. The function carries body,
    consts and memo for the passes, and `per_instance` (whether it reads its instance)."""
    s = _Source(runtime)
    spec = _RuleText(body, consts, memo)
    s.rule(1, spec, "v")
    s.add(1, "return v")
    fn = s.function("def rule(N, R, i, C):", title)
    fn.body, fn.consts, fn.memo = body, consts, memo
    fn.per_instance = _READS_I.search(body) is not None
    return fn


class _RuleText:
    """What _Source.rule writes out: a rule's body, constants and memo."""

    __slots__ = ("body", "consts", "memo")

    def __init__(self, body: str, consts: list[Any], memo: tuple[int, str, str] | None,
                 ) -> None:
        self.body, self.consts, self.memo = body, consts, memo


def evaluate_pass(steps: list[tuple[Any, ...]], runtime: dict[str, Any], coerce: Any,
                  form_id: str) -> Any:
    """`evaluate(N, R, C, errors_of)`: every producer in order, as
    ReceivedRecord's loop did. `steps`: CompiledCheck.steps, rows of (rule function,
    repeat or None, question of a calculation or None for relevance, its NodeDef,
    stored as plain text, number memo, marks); `runtime`: see _Source;
    `coerce(nd, value) -> str` (FormSession._coerce_result). A calculation's failure is
    kept in errors_of (by id of its cell) as its message."""
    s = _Source(runtime)
    s.names["coerce"] = coerce
    for fn, rep, k, nd, plain_text, known, marks in steps:
        depth = 1
        if rep is None:
            s.add(1, "i = 0")
        elif k is None and not fn.per_instance:
            # a relevance in a repeat reading nothing of its instance: one value for all
            s.add(1, "try:")
            s.rule(2, fn, "v")
            s.add(2, "on = to_bool(v)")
            s.add(1, "except _ERRORS:")
            s.add(2, "on = True")
            s.add(1, "if not on:")
            for kk, _same in marks:  # every instance's cells
                s.add(2, f"for x in N[{kk}]:")
                s.add(3, "x.relevant = False")
                s.add(3, "x.sv = ''")
            continue
        else:
            s.add(1, f"for i in range(R[{rep}]):")
            depth = 2
        if k is not None:  # a calculation: its value, stored as the session stores it
            d, m = s.bind("D", nd), s.bind("M", known)
            s.add(depth, f"n = N[{k}][i]")
            s.add(depth, "try:")
            s.rule(depth + 1, fn, "v")
            s.add(depth, "except _ERRORS as e:")
            s.add(depth + 1, "n.value = n.sv = ''")
            s.add(depth + 1, "errors_of[id(n)] = str(e) or type(e).__name__")
            s.add(depth, "else:")
            inner = depth + 1
            branch = "if"
            if plain_text:  # what _coerce_result gives such a text, at once
                s.add(inner, "if type(v) is str and v.isascii() and v.isprintable():")
                s.add(inner + 1, "t = v")
                branch = "elif"
            s.add(inner, f"{branch} type(v) is float:  # a count, an age: few values")
            s.add(inner + 1, f"t = {m}.get(v)")
            s.add(inner + 1, "if t is None:")
            s.add(inner + 2, f"t = coerce({d}, v)")
            s.add(inner + 2, f"if len({m}) < 1_000:")
            s.add(inner + 3, f"{m}[v] = t")
            s.add(inner, "else:")
            s.add(inner + 1, f"t = coerce({d}, v)")
            s.add(inner, "n.value = t")
            s.add(inner, "if n.relevant:  # else its string value stays ''")
            s.add(inner + 1, "n.sv = t")
        else:  # relevance: a false one switches off what it holds
            s.add(depth, "try:")
            s.rule(depth + 1, fn, "v")
            s.add(depth + 1, "on = to_bool(v)")
            s.add(depth, "except _ERRORS:")
            s.add(depth + 1, "on = True")
            s.add(depth, "if not on:")
            for kk, same in marks:
                if same:
                    s.add(depth + 1, f"x = N[{kk}][i]")
                    s.add(depth + 1, "x.relevant = False")
                    s.add(depth + 1, "x.sv = ''")
                else:
                    s.add(depth + 1, f"for x in N[{kk}]:")
                    s.add(depth + 2, "x.relevant = False")
                    s.add(depth + 2, "x.sv = ''")
    return s.function("def evaluate(N, R, C, errors_of):", f"<evaluate {form_id}>")


def verdict_pass(rows_by_repeat: list[tuple[int | None, list[tuple[Any, ...]]]],
                 calculated: set[int], runtime: dict[str, Any], form_id: str) -> Any:
    """`verdict(N, R, C, raws, report)`: each question that can have an error, in
    form order, handed to `report(leaf, cell, i)` (which finds its message) when its
    answer may be refused. `rows_by_repeat`: CompiledCheck.checked_rows, as (repeat or
    None, rows of (question index, an empty answer is fine, a given answer is fine
    unless computed, the one constraint deciding a given answer or None,
    compiled._Leaf)); `calculated`: the questions a calculation computes (each of
    their cells is); `raws`: the answers whose type refused them (by id of cell);
    `runtime`: see _Source. As ReceivedRecord's loop did. Written twice: the usual
    record has no refused answer, and then a question nothing else can refuse is not
    even visited."""
    plain = _verdict_source(rows_by_repeat, calculated, runtime, raws=False)
    with_raws = _verdict_source(rows_by_repeat, calculated, runtime, raws=True)
    plain.names["verdict_raws"] = with_raws.function(
        "def verdict_raws(N, R, C, raws, report):", f"<verdict {form_id} (refused answers)>")
    plain.lines[:0] = [_IND + "if raws:", _IND * 2 + "return verdict_raws(N, R, C, raws, report)"]
    return plain.function("def verdict(N, R, C, raws, report):", f"<verdict {form_id}>")


def _verdict_source(rows_by_repeat: list[tuple[int | None, list[tuple[Any, ...]]]],
                    calculated: set[int], runtime: dict[str, Any], raws: bool) -> _Source:
    s = _Source(runtime)
    for rep, rows in rows_by_repeat:
        calc_of = {k: k in calculated for k, *_rest in rows}
        # without refused answers, a question whose given and empty answers are both
        # fine (and not computed) cannot be reported: not visited
        rows = [r for r in rows if raws or not (r[1] and r[2] and not calc_of[r[0]])]
        if not rows:
            continue
        depth = 1
        if rep is None:
            s.add(1, "i = 0")
        else:
            s.add(1, f"for i in range(R[{rep}]):")
            depth = 2
        for k, empty_ok, given_ok, fn, leaf in rows:
            lf = s.bind("L", leaf)
            calc = calc_of[k]
            s.add(depth, f"n = N[{k}][i]")
            s.add(depth, "if n.relevant:")
            d = depth + 1
            branch = "if"
            if raws:
                s.add(d, "if id(n) in raws:")
                s.add(d + 1, f"report({lf}, n, i)")
                branch = "elif"
            s.add(d, f"{branch} n.value == '':")
            s.add(d + 1, "pass" if empty_ok else f"report({lf}, n, i)")
            if given_ok and not calc:
                continue  # a given answer nothing refuses (only computed cells are)
            s.add(d, "else:")
            if given_ok or fn is None:  # (a computed cell of a given_ok question too)
                s.add(d + 1, f"report({lf}, n, i)")
            else:
                s.add(d + 1, "try:")
                s.rule(d + 2, fn, "v")
                s.add(d + 2, "ok = to_bool(v)")
                s.add(d + 1, "except _ERRORS:")
                s.add(d + 2, "ok = False  # report gives the message")
                s.add(d + 1, "if not ok:")
                s.add(d + 2, f"report({lf}, n, i)")
    return s


__all__ = ["evaluate_pass", "rule_function", "verdict_pass"]
