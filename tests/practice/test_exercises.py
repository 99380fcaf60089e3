"""Data-entry and supervisor exercises (issue 18 items 2 and 3), headless: known
mistakes are reported exactly, planted inconsistencies are scored."""

from __future__ import annotations

import pytest

from app.core.states import State
from app.forms import FormSession
from app.practice import exercises as ex
from app.practice.review_exercise import PLANTS, score_review, start_review
from app.practice.scoring import floor_keys, score_entry
from app.workspace.practice_checks import fsu_issues
from tests.practice.conftest import as_user


@pytest.mark.parametrize("code", ["fsu1", "fsu4", "fsu8", "fix", "s100"])
def test_exercise_households_are_valid_and_sized(code):
    form = ex.EXERCISES[code].form_id
    for seed in (1, 2, 3):
        s = ex.key_session(code, seed)
        assert s.validate(warnings=False).errors == []
        assert s.repeat_count(f"/{form}/integrantes") == ex.EXERCISES[code].members
        if form == "fsu":
            assert fsu_issues(s.answers()) == []
        assert ex.answer_key(code, seed) == ex.answer_key(code, seed)  # deterministic


def test_fsu8_has_the_odd_cases():
    key = ex.answer_key("fsu8", 11)
    docs = [v for p, v in key.items() if p.endswith("/tipo_doc")]
    assert "4" in docs  # a newborn without a document
    assert "8" in [v for p, v in key.items() if p.endswith("/parentesco")]
    assert "2" in [v for p, v in key.items() if p.endswith("/programas")]  # Pensión 65


def test_perfect_typing_scores_100():
    key = ex.answer_key("fsu4", 5)
    s = ex.key_session("fsu4", 5)
    score = score_entry(key, s, seconds=300, keys=floor_keys(key))
    assert score.mistakes == []
    assert score.accuracy == 100.0
    assert score.keys_ratio == 1.0


def test_entry_exercise_reports_exactly_the_known_mistakes(practice_ws):
    ws = as_user(practice_ws, "digitadora", "digitador")
    uuid = ex.start_entry(ws, "fsu4", seed=42)
    key = ex.answer_key("fsu4", 42)
    typed = FormSession(ex.fsu(), dict(key))
    # the known mistakes: a wrong name, a wrong wall code, a blank phone, an extra block
    name = "/fsu/integrantes[2]/nombres"
    typed.set(name, key[name] + "x")
    wrong_wall = "2" if key["/fsu/vivienda/paredes"] != "2" else "3"
    typed.set("/fsu/vivienda/paredes", wrong_wall)
    typed.set("/fsu/ubicacion/telefono", "")
    typed.set("/fsu/ubicacion/block", "C")
    # what is not a mistake: case, spaces and the DNI's check character
    typed.set("/fsu/ubicacion/nombre_via", "  " + key["/fsu/ubicacion/nombre_via"].upper())
    ws.save_answers(uuid, typed.to_json())
    score = ex.score_record(ws, uuid, seconds=120.0, keys=900)
    got = {(m.path, m.kind) for m in score.mistakes}
    assert got == {(name, "wrong"), ("/fsu/vivienda/paredes", "wrong"),
                   ("/fsu/ubicacion/telefono", "missing"), ("/fsu/ubicacion/block", "extra")}
    by = {s.section: s for s in score.sections}
    assert by["integrantes"].right == by["integrantes"].total - 1
    assert by["vivienda"].total - by["vivienda"].right == 1
    assert by["ubicacion"].extra == 1
    assert by["hogar"].accuracy == 100.0
    n = len(key)
    assert score.accuracy == pytest.approx(100.0 * (n - 3) / (n + 1))
    wall = next(m for m in score.mistakes if m.path == "/fsu/vivienda/paredes")
    assert wall.expected.startswith(key["/fsu/vivienda/paredes"] + " — ")
    # the attempt joins the trainee's progress
    rows = ws.practice.results()
    assert rows[-1]["exercise"] == "fsu4" and rows[-1]["accuracy"] == round(score.accuracy, 2)
    assert rows[-1]["keys"] == 900 and rows[-1]["floor_keys"] == floor_keys(key)


def test_returned_record_exercise_is_scored_after_the_fix(practice_ws):
    ws = as_user(practice_ws, "empadronadora", "empadronador")
    uuid = ex.start_entry(ws, "fix", seed=9)
    m = ws.get(uuid)
    assert m.state == State.RETURNED and ws.can_edit(m)
    typos = ex.planted_typos(ex.answer_key("fix", 9), 9)
    assert set(ws.notes(uuid)["returns"][-1]["questions"]) == set(typos)
    before = ex.score_record(ws, uuid, keep=False)
    assert {x.path for x in before.mistakes} == set(typos)
    s = FormSession(ex.fsu(), ws.load_answers(uuid))
    key = ex.answer_key("fix", 9)
    for path in typos:
        s.set(path, key[path])
    ws.save_answers(uuid, s.to_json())  # a new revision, back to DRAFT
    assert ws.get(uuid).state == State.DRAFT
    assert ex.score_record(ws, uuid).mistakes == []


def test_supervisor_exercise_scores_planted_issues(practice_ws):
    ws = practice_ws  # the instructor reviews (a supervisor or the administrator)
    set_id = start_review(ws, seed=3, size=6)
    queue = [q.uuid for q in ws.review.queue()]
    assert len(queue) == 6
    planted = {u: (ws.practice.exercise(u) or {})["planted"] for u in queue}
    assert sum(1 for p in planted.values() if p) == 3
    assert all(set(p) <= set(PLANTS) for p in planted.values())
    bad = [u for u, p in planted.items() if p]
    clean = [u for u, p in planted.items() if not p]
    # the trainee returns two planted ones (one pinned), misses the third, returns a
    # clean one for nothing and approves the rest
    paths = (ws.practice.exercise(bad[0]) or {})["paths"]
    ws.review.return_record(bad[0], "Revise el parentesco", questions=paths)
    ws.review.return_record(bad[1], "Algo no cuadra")
    ws.review.approve(bad[2])
    ws.review.return_record(clean[0], "Confirmar teléfono")
    for u in clean[1:]:
        ws.review.approve(u)
    score = score_review(ws, set_id)
    assert {d.uuid for d in score.right_returns} == {bad[0], bad[1]}
    assert [d.uuid for d in score.missed] == [bad[2]]
    assert [d.uuid for d in score.needless_returns] == [clean[0]]
    assert score.accuracy == pytest.approx(100.0 * 4 / 6)
    pointed = {d.uuid: d.pointed for d in score.decisions}
    assert pointed[bad[0]] and not pointed[bad[1]]
    missed = score.missed[0]
    assert missed.planted_text and "debía devolverse" in missed.verdict
    assert ws.practice.results()[-1]["exercise"] == "review"


def test_s100_exercise_varies_the_request_type_and_is_scored(practice_ws):
    types = {ex.answer_key("s100", seed)["/s100/solicitud/tipo_solicitud"]
             for seed in range(1, 10)}
    assert types == set(ex.practice_request_options()) and len(types) >= 5
    ws = as_user(practice_ws, "registradora", "empadronador")
    uuid = ex.start_entry(ws, "s100", seed=4)
    assert ws.get(uuid).form_id == "s100"
    key = ex.answer_key("s100", 4)
    typed = FormSession(ex.key_session("s100", 4).formdef, dict(key))
    typed.set("/s100/solicitud/tipo_solicitud", "2.1" if key["/s100/solicitud/tipo_solicitud"]
              != "2.1" else "2.2")
    ws.save_answers(uuid, typed.to_json())
    score = ex.score_record(ws, uuid)
    assert [(m.path, m.kind) for m in score.mistakes] == [
        ("/s100/solicitud/tipo_solicitud", "wrong")]
    assert {s.section for s in score.sections} >= {"solicitud", "integrantes"}
