"""`path[column = value]` predicates through a value index give exactly what the
item-by-item filter gives (XPath 1.0 `=`: string equality when both sides are text,
numeric when a side is a typed number; existential over node-sets)."""

from __future__ import annotations

import random

import pytest

from app.forms import FormSession, load_form

FORM = """
| survey |
| | type | name | label | calculation | constraint |
| | text | key | Clave | | |
| | integer | num | Número | | |
| | begin repeat | r | Filas | | |
| | text | t | Texto | | |
| | integer | k | Entero | | |
| | select_multiple c | m | Varios | | |
| | calculate | n_t | | count(../../r[t = current()/../t]) | |
| | calculate | n_k | | count(../../r[k = current()/../k]) | |
| | calculate | n_lit | | count(/data/r[t = 'a']) | |
| | calculate | n_rev | | count(/data/r['b' = t]) | |
| | calculate | n_m | | count(../../r[m = current()/../m]) | |
| | calculate | n_key | | count(/data/r[t = current()/../../key]) | |
| | calculate | n_num | | count(/data/r[k = current()/../../num]) | |
| | calculate | first | | /data/r[t = current()/../t][1]/k | |
| | text | u | U | | count(../../r[t = current()]) = 1 |
| | end repeat | | | | |
| choices |
| | list_name | name | label |
| | c | x | X |
| | c | y | Y |
"""


@pytest.fixture(scope="module")
def fd():
    return load_form(FORM)


def _answers(rng: random.Random, n: int) -> dict[str, str]:
    ans = {"/data/key": rng.choice(["a", "b", ""]), "/data/num": rng.choice(["1", "2", "01", ""])}
    for i in range(1, n + 1):
        p = f"/data/r[{i}]/"
        ans[p + "t"] = rng.choice(["a", "b", "c", " a", ""])
        ans[p + "k"] = rng.choice(["1", "2", "01", "", "abc"])
        ans[p + "m"] = rng.choice(["x", "y", "x y", ""])
        ans[p + "u"] = rng.choice(["a", "b", "c"])
    return ans


def _view(s: FormSession) -> tuple:
    return list(s.iter_nodes()), s.to_json(include_aside=True)


@pytest.mark.parametrize("seed", range(12))
def test_index_equals_item_by_item(fd, seed):
    rng = random.Random(seed)
    ans = _answers(rng, rng.randint(0, 12))
    fast, slow = FormSession(fd, ans), FormSession(fd, ans, fast=False)
    assert _view(fast) == _view(slow)
    for _ in range(15):  # answers changed one by one keep both the same
        n = fast.repeat_count("/data/r")
        if n and rng.random() < 0.8:
            i = rng.randint(1, n)
            name = rng.choice(["t", "k", "m", "u"])
            value = _answers(rng, 1)[f"/data/r[1]/{name}"]
            path = f"/data/r[{i}]/{name}"
        else:
            path, value = rng.choice([("/data/key", "a"), ("/data/num", "2"), ("/data/key", "c")])
        fast.set(path, value)
        slow.set(path, value)
        assert _view(fast) == _view(slow)
    if fast.repeat_count("/data/r") > 1:
        fast.remove_repeat("/data/r", 1)
        slow.remove_repeat("/data/r", 1)
        assert _view(fast) == _view(slow)


def test_counts_are_right(fd):
    ans = {"/data/key": "a", "/data/num": "1"}
    for i, (t, k) in enumerate([("a", "1"), ("a", "01"), ("b", "2"), ("a", "")], 1):
        ans[f"/data/r[{i}]/t"] = t
        ans[f"/data/r[{i}]/k"] = k
    s = FormSession(fd, ans)
    assert s.get("/data/r[1]/n_t") == "3"
    assert s.get("/data/r[3]/n_t") == "1"
    assert s.get("/data/r[1]/n_k") == "2"  # 1 and 01 are the same integer
    assert s.get("/data/r[1]/n_lit") == "3"
    assert s.get("/data/r[1]/n_rev") == "1"
    assert s.get("/data/r[1]/n_key") == "3"
    assert s.get("/data/r[1]/n_num") == "2"
    assert s.get("/data/r[3]/first") == "2"
