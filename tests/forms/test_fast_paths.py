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


# -- the server's check: validate_submission against the plain eager path ----------


def _household(rng: random.Random, n: int) -> dict[str, str]:
    """A well-formed FSU household of `n` members (distinct DNIs, one head)."""
    ans = {
        "/fsu/ubicacion/departamento": "15", "/fsu/ubicacion/provincia": "1501",
        "/fsu/ubicacion/distrito": "150132", "/fsu/vivienda/tipo_vivienda": "1",
        "/fsu/vivienda/alumbrado": "1", "/fsu/vivienda/agua": "1",
        "/fsu/hogar/num_personas": str(n), "/fsu/hogar/equipamiento": "2 14",
    }
    for i in range(1, n + 1):
        p = f"/fsu/integrantes[{i}]/"
        digits = f"{rng.randint(10_000_000, 99_999_999):08d}"
        ans.update({
            p + "apellido_paterno": rng.choice(["Quispe", "Huamán"]),
            p + "apellido_materno": "Mamani", p + "nombres": f"Persona {i}",
            # the head born in 1950, the others at least 16 years later (parent-child gap)
            p + "fecha_nacimiento": f"{1950 if i == 1 else 1965 + i}-05-{rng.randint(1, 28):02d}",
            p + "tipo_doc": "1", p + "num_doc": f"{digits}-{dni_check_chars(digits)[0]}",
            p + "parentesco": "1" if i == 1 else rng.choice(["3", "3", "5", "7"]),
            p + "sexo": rng.choice(["1", "2"]), p + "seguro_salud": "4",
            p + "lengua_materna": "1", p + "discapacidad": "7", p + "programas": "99",
            p + "nivel_educativo": "3", p + "sabe_leer": "1",
        })
    return ans


def _plant(rng: random.Random, ans: dict[str, str], n: int) -> None:
    """Errors a server must refuse: repeated DNIs, a second head, a missing or odd
    answer, a head too young, a DNI typed in another script."""
    for _ in range(rng.randint(1, 4)):
        i, j = rng.randint(1, n), rng.randint(1, n)
        p, q = f"/fsu/integrantes[{i}]/", f"/fsu/integrantes[{j}]/"
        kind = rng.choice(["dup", "dup", "head", "drop", "date", "young", "width", "nodoc"])
        if kind == "dup":
            ans[q + "num_doc"] = ans[p + "num_doc"]
        elif kind == "head":
            ans[q + "parentesco"] = "1"
        elif kind == "drop":
            ans.pop(p + rng.choice(["sexo", "nombres", "parentesco", "num_doc"]), None)
        elif kind == "date":
            ans[p + "fecha_nacimiento"] = rng.choice(["2999-01-01", "1850-02-03"])
        elif kind == "young":
            ans[p + "parentesco"] = "1"
            ans[p + "fecha_nacimiento"] = "2020-01-01"
        elif kind == "width":
            ans[q + "num_doc"] = ans[p + "num_doc"].translate(
                str.maketrans("0123456789", "０１２３４５６７８９"))
        else:
            ans[p + "tipo_doc"] = "2"


@pytest.mark.parametrize("seed", range(16))
def test_validate_submission_equals_the_slow_path(fsu_def, seed):
    """The server's check gives exactly the reasons of a record opened without any fast
    path (every rule evaluated eagerly, predicates filtered item by item)."""
    rng = random.Random(1000 + seed)
    n = rng.randint(1, 20)
    ans = _household(rng, n)
    if seed % 4:
        _plant(rng, ans, n)
    saved = FormSession(fsu_def, ans, fast=False).to_json(include_aside=True)
    slow = FormSession.from_json(fsu_def, saved, fast=False)
    expected = [f"{i.path}: {i.message}" for i in slow.validate().errors]
    assert validate_submission(fsu_def, saved) == expected
    if seed % 4 == 0:  # distinct DNIs and one head: nothing about those
        assert not [r for r in expected if "/dni:" in r or "/parentesco:" in r]
    # as a flat map of answers too (what some callers send)
    flat = {**saved["answers"], **saved.get("aside", {})}
    slow_flat = FormSession(fsu_def, flat, fast=False)
    assert validate_submission(fsu_def, flat) == [
        f"{i.path}: {i.message}" for i in slow_flat.validate().errors]


def test_repeated_dni_is_reported_on_both_members(fsu_def):
    rng = random.Random(7)
    ans = _household(rng, 6)
    ans["/fsu/integrantes[5]/num_doc"] = ans["/fsu/integrantes[2]/num_doc"]
    reasons = validate_submission(fsu_def, ans)
    dup = [r for r in reasons if "/dni:" in r]
    assert [r.split(":")[0] for r in dup] == ["/fsu/integrantes[2]/dni",
                                              "/fsu/integrantes[5]/dni"]
    assert all("repetido" in r for r in dup)


def test_value_index_follows_changes(fsu_def):
    """An answer that makes two DNIs equal, then different again, is seen at once (the
    value index of `integrantes[dni = current()]` is rebuilt after every change)."""
    rng = random.Random(8)
    ans = _household(rng, 4)
    s = FormSession(fsu_def, ans)
    assert all(s.state(f"/fsu/integrantes[{i}]/dni").valid for i in range(1, 5))
    s.set("/fsu/integrantes[3]/num_doc", ans["/fsu/integrantes[1]/num_doc"])
    assert not s.state("/fsu/integrantes[3]/dni").valid
    assert not s.state("/fsu/integrantes[1]/dni").valid
    s.set("/fsu/integrantes[3]/num_doc", ans["/fsu/integrantes[4]/num_doc"])
    assert s.state("/fsu/integrantes[1]/dni").valid
    assert not s.state("/fsu/integrantes[4]/dni").valid
    s.remove_repeat("/fsu/integrantes", 4)
    assert s.state("/fsu/integrantes[3]/dni").valid
    s.set("/fsu/integrantes[2]/parentesco", "1")
    assert s.get("/fsu/integrantes[2]/error_parentesco") != ""


@pytest.mark.parametrize("seed", range(4))
def test_states_read_after_every_change_are_fresh(fsu_def, seed):
    """States kept from the last read (fast path) equal states built anew (slow path)
    after every kind of change: answers, repeat instances added, removed and moved."""
    rng = random.Random(200 + seed)
    members, steps = _plan(fsu_def, rng)
    fast = FormSession(fsu_def, clock=fixed_clock)
    slow = FormSession(fsu_def, clock=fixed_clock, fast=False)
    for s in (fast, slow):
        for _ in range(members):
            s.add_repeat("/fsu/integrantes")
    assert list(fast.iter_nodes()) == list(slow.iter_nodes())
    for k, (path, value) in enumerate(steps[:60]):
        if not fast.has(path):
            continue  # a member removed below
        fast.set(path, value)
        slow.set(path, value)
        if k % 3 == 0:  # read everything, or just the node answered
            assert list(fast.iter_nodes()) == list(slow.iter_nodes())
        else:
            assert fast.state(path) == slow.state(path)
        if k == 30 and members > 2:
            for s in (fast, slow):
                s.move_repeat("/fsu/integrantes", 1, members)
            assert list(fast.iter_nodes()) == list(slow.iter_nodes())
            for s in (fast, slow):
                s.remove_repeat("/fsu/integrantes", 2)
            members -= 1
            assert list(fast.iter_nodes()) == list(slow.iter_nodes())
    assert _snapshot(fast) == _snapshot(slow)


def test_states_follow_the_language(demo_def):
    fast = FormSession(demo_def, clock=fixed_clock)
    slow = FormSession(demo_def, clock=fixed_clock, fast=False)
    for lang in (demo_def.languages[-1], demo_def.languages[0]):
        for s in (fast, slow):
            s.language = lang
            s.set("/demo/nombre", "x")
        assert list(fast.iter_nodes()) == list(slow.iter_nodes())
        for s in (fast, slow):
            s.set("/demo/nombre", "Ana María")
            s.add_repeat("/demo/miembros")
            s.set("/demo/miembros[1]/medad", "15")
        assert list(fast.iter_nodes()) == list(slow.iter_nodes())


def test_a_closed_session_and_check_are_freed_without_the_cyclic_collector(fsu_def, fsu_answers):
    """FormSession.close() (also run when the last reference goes) and the centre's check
    leave no reference cycle: the tree is freed by reference counting alone (the
    collector stays off and finds nothing)."""
    import gc

    from app.forms import validate_submission

    saved = FormSession(fsu_def, fsu_answers).to_json()
    FormSession.from_json(fsu_def, saved)  # warm the form's caches
    gc.collect()
    gc.disable()
    try:
        s = FormSession.from_json(fsu_def, saved)
        assert s.to_json() == saved
        s.close()
        del s
        assert gc.collect() == 0  # nothing left for the collector
        validate_submission(fsu_def, saved)
        assert gc.collect() == 0
        s = FormSession.from_json(fsu_def, saved)  # not closed: dropped after edits
        s.set("/fsu/integrantes[1]/nombres", "Ana")
        assert list(s.iter_nodes())
        del s
        assert gc.collect() == 0  # __del__ unlinked it
    finally:
        gc.enable()
