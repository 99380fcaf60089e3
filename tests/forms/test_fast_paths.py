"""The fast paths give exactly what plain eager evaluation gives.

Random households on the bundled FSU (valid, odd and refused answers, set in a
random order): a session with the fast paths (lazy leaves, the ordered pass at
opening, choice filters on indexes) and one without them must show the same state
for every node, the same answers, errors and warnings; so must a stored record
opened both ways; and a session changed answer by answer must equal one evaluated
from scratch on the same answers."""

from __future__ import annotations

import random
from typing import Any

import pytest

from app.core.identifiers import dni_check_chars
from app.forms import FormSession, validate_submission
from app.forms.graph import program_of

from .conftest import fixed_clock


def _values(fd: Any, nd: Any, rng: random.Random) -> Any:
    t = nd.type
    if t in ("select_one", "select_multiple"):
        names = [c.name for c in program_of(fd).choice_list(nd).choices]
        if rng.random() < 0.05:
            return "zz"  # not in the list
        if t == "select_one":
            return rng.choice(names)
        return " ".join(rng.sample(names, rng.randint(1, min(3, len(names)))))
    if t == "integer":
        return rng.choice([str(rng.randint(-2, 120)), "７", "abc", "3.0", ""])
    if t == "decimal":
        return rng.choice([f"{rng.uniform(0, 500):.2f}", "3,5", "NaN", "", "12"])
    if t == "date":
        return rng.choice([f"{rng.randint(1920, 2025)}-{rng.randint(1, 12):02d}-"
                           f"{rng.randint(1, 28):02d}", "2021-02-30", ""])
    if nd.name == "num_doc":
        digits = rng.choice(["41234567", "12345678", "43876512", "１２３４５６７８"])
        plain = digits.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        return rng.choice([digits, f"{plain}-{dni_check_chars(plain)[0]}", "ABC123"])
    return rng.choice(["Quispe", "Mamani", "  Ana  ", "a\x01b", "", "Jr. Lima 123"])


def _plan(fd: Any, rng: random.Random) -> tuple[int, list[tuple[str, Any]]]:
    members = rng.randint(1, 7)
    steps: list[tuple[str, Any]] = []
    for nd in fd.root.walk():
        if nd.kind != "question" or nd.type in ("calculate", "note"):
            continue
        if rng.random() < 0.15:
            continue  # left unanswered
        if "integrantes" in nd.path:
            for i in range(1, members + 1):
                if rng.random() < 0.9:
                    rel = "/".join(nd.path[2:])
                    steps.append((f"/fsu/integrantes[{i}]/{rel}", _values(fd, nd, rng)))
        else:
            steps.append((nd.path_str, _values(fd, nd, rng)))
    rng.shuffle(steps)
    for _ in range(3):  # change some answers again
        steps.append(rng.choice(steps))
    return members, steps


def _snapshot(s: FormSession) -> tuple:
    states = list(s.iter_nodes())
    rep = s.validate()
    return (states, s.to_json(include_aside=True),
            [(i.path, i.message) for i in rep.errors],
            [(i.path, i.message) for i in rep.warnings])


def _filled(fd: Any, seed: int, fast: bool) -> FormSession:
    rng = random.Random(seed)
    members, steps = _plan(fd, rng)
    s = FormSession(fd, clock=fixed_clock, fast=fast)
    for _ in range(members):
        s.add_repeat("/fsu/integrantes")
    for path, value in steps:
        s.set(path, value)
    if members > 2 and rng.random() < 0.5:
        s.remove_repeat("/fsu/integrantes", 2)
    return s


@pytest.mark.parametrize("seed", range(10))
def test_answer_by_answer_fast_equals_slow(fsu_def, seed):
    fast, slow = _filled(fsu_def, seed, True), _filled(fsu_def, seed, False)
    assert _snapshot(fast) == _snapshot(slow)


@pytest.mark.parametrize("seed", range(10))
def test_opening_a_stored_record_fast_equals_slow(fsu_def, seed):
    saved = _filled(fsu_def, seed, False).to_json(include_aside=True)
    fast = FormSession.from_json(fsu_def, saved, clock=fixed_clock)
    slow = FormSession.from_json(fsu_def, saved, clock=fixed_clock, fast=False)
    assert _snapshot(fast) == _snapshot(slow)
    assert fast.to_json(include_aside=True) == saved  # reads back exactly as saved
    errors = [f"{i.path}: {i.message}" for i in slow.validate().errors]
    assert validate_submission(fsu_def, saved) == errors


@pytest.mark.parametrize("seed", range(10))
def test_incremental_equals_full_evaluation(fsu_def, seed):
    s = _filled(fsu_def, seed, True)
    data = s.to_json(include_aside=True)
    typed = {p: v for p, v in {**data["answers"], **data["aside"]}.items()
             if s.formdef.node(p).type != "calculate"}
    # from scratch: only what a person typed, every calculation evaluated again
    full = FormSession(fsu_def, {"answers": typed, "repeats": data["repeats"]},
                       clock=fixed_clock, fast=False)
    assert _snapshot(s) == _snapshot(full)


def test_states_read_in_any_order_are_the_same(fsu_def):
    """Lazy leaves: reading one node's state first does not change another's."""
    saved = _filled(fsu_def, 3, True).to_json(include_aside=True)
    a = FormSession.from_json(fsu_def, saved, clock=fixed_clock)
    b = FormSession.from_json(fsu_def, saved, clock=fixed_clock)
    paths = list(a.iter_paths())
    first = [a.state(p) for p in paths]
    second = [b.state(p) for p in reversed(paths)][::-1]
    assert first == second
