"""The supervisor exercise (issue 18 item 3): a review queue seeded with complete FSUs
written by the fictitious enumerator, some with an inconsistency planted on purpose
(the reviewer's rules of app/workspace/practice_checks.py, which the form lets
through); the trainee approves or returns each one with a reason, and the program
says which returns were right, which were not needed and what was missed.

Every planted record breaks exactly one rule and passes the form's own checks (so it
reaches the queue like a real one); every clean record breaks none."""

from __future__ import annotations

import random
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from app.core.states import State
from app.demo import make_household
from app.demo_answers import fsu_answers
from app.forms import FormSession
from app.practice.exercises import fsu
from app.workspace import Workspace
from app.workspace.practice import HELPER_USER
from app.workspace.practice_checks import RULES, age_on, fsu_issues, members

M = "/fsu/integrantes"
Plant = Callable[[dict[str, Any], random.Random], bool]


def _visit(a: dict[str, Any]) -> date:
    return date.fromisoformat(str(a["/fsu/control/fecha_visita"]))


def _ages(a: dict[str, Any]) -> dict[int, int]:
    on = _visit(a)
    return {i: age_on(m.get("fecha_nacimiento"), on) or 0 for i, m in members(a).items()}


def _two_spouses(a: dict[str, Any], rng: random.Random) -> bool:
    ms, ages = members(a), _ages(a)
    spouses = [i for i, m in ms.items() if m.get("parentesco") == "2"]
    adults = [i for i, m in ms.items() if m.get("parentesco") not in ("1", "2")
              and ages[i] >= 18]
    need = 2 - len(spouses) if spouses else 2
    if len(adults) < need or not spouses and need > len(adults):
        return False
    for i in rng.sample(adults, need):
        a[f"{M}[{i}]/parentesco"] = "2"
    return True


def _young_parent(a: dict[str, Any], rng: random.Random) -> bool:
    ms = members(a)
    head = next((i for i, m in ms.items() if m.get("parentesco") == "1"), None)
    kids = [i for i, m in ms.items() if m.get("parentesco") == "3"]
    if head is None or not kids:
        return False
    b = date.fromisoformat(str(a[f"{M}[{head}]/fecha_nacimiento"]))
    try:
        born = b.replace(year=b.year + 9)
    except ValueError:  # 29 February
        born = b.replace(year=b.year + 9, day=28)
    a[f"{M}[{rng.choice(kids)}]/fecha_nacimiento"] = born.isoformat()
    return True


def _married_teen(a: dict[str, Any], rng: random.Random) -> bool:
    teens = [i for i, g in _ages(a).items() if 12 <= g <= 14]
    if not teens:
        return False
    a[f"{M}[{rng.choice(teens)}]/estado_civil"] = rng.choice(["1", "2"])
    return True


def _cannot_read(a: dict[str, Any], rng: random.Random) -> bool:
    ms, ages = members(a), _ages(a)
    schooled = [i for i, m in ms.items() if m.get("nivel_educativo") in ("4", "5", "6", "7")
                and ages[i] >= 18]
    if not schooled:
        return False
    a[f"{M}[{rng.choice(schooled)}]/sabe_leer"] = "2"
    return True


def _child_informant(a: dict[str, Any], rng: random.Random) -> bool:
    kids = [i for i, g in _ages(a).items() if 5 <= g < 12]
    if not kids:
        return False
    a["/fsu/control/informante"] = str(rng.choice(kids))
    return True


PLANTS: dict[str, Plant] = {
    "dos_conyuges": _two_spouses,
    "hijo_edad": _young_parent,
    "estado_civil_menor": _married_teen,
    "lectura_estudios": _cannot_read,
    "informante_menor": _child_informant,
}


def _checked(a: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """(answers as stored, codes broken) when the form accepts the answers."""
    s = FormSession(fsu(), a)
    if s.validate(warnings=False).errors:
        return None
    answers = s.answers()
    return answers, sorted({i.code for i in fsu_issues(answers)})


def planted_household(code: str | None, rng: random.Random) -> dict[str, Any]:
    """FSU answers that break exactly the rule `code` (None: no rule), and pass the form."""
    for _ in range(400):
        a = fsu_answers(make_household(rng))
        if code is not None and not PLANTS[code](a, rng):
            continue
        got = _checked(a)
        if got is not None and got[1] == ([code] if code else []):
            return got[0]
    raise RuntimeError(f"could not plant {code}")


def start_review(ws: Workspace, seed: int | None = None, size: int = 6) -> str:
    """Seed the review queue with `size` complete FSUs of the fictitious enumerator, about
    half of them with one planted inconsistency. Returns the set's id. The logged-in
    user reviews (supervisor or administrator of the practice workspace)."""
    seed = int(seed if seed is not None else random.SystemRandom().randint(1, 999_999))
    rng = random.Random(f"review|{seed}")
    codes = list(PLANTS)
    rng.shuffle(codes)
    n_planted = max(1, size // 2)
    plan: list[str | None] = [*codes[:n_planted], *[None] * (size - n_planted)]
    rng.shuffle(plan)
    set_id = str(uuidlib.uuid4())[:8]
    fd = fsu()
    for code in plan:
        answers = planted_household(code, rng)
        issues = fsu_issues(answers)
        info = {"code": "review", "kind": "review", "seed": seed, "set": set_id,
                "started_at": ws.clock(), "planted": [i.code for i in issues],
                "paths": [i.path for i in issues]}
        ws.practice.seed_record(fd.form_id, str(fd.version), answers, State.COMPLETE,
                                author=HELPER_USER, notes={"practice": info})
    return set_id


@dataclass
class Decision:
    """What the trainee did with one record of the set, and whether it was right."""

    uuid: str
    household: str  # the head's name, as the queue shows it
    planted: list[str]  # rule codes (empty: a clean record)
    planted_text: list[str]  # their Spanish descriptions
    decision: str  # "devuelta" | "aprobada" | "pendiente"
    reason: str  # the trainee's reason, for a return
    right: bool
    pointed: bool  # a return pinned at least one of the planted questions
    verdict: str  # Spanish, one line


@dataclass
class ReviewScore:
    set_id: str
    decisions: list[Decision] = field(default_factory=list)

    @property
    def decided(self) -> list[Decision]:
        return [d for d in self.decisions if d.decision != "pendiente"]

    @property
    def accuracy(self) -> float:
        return 100.0 * sum(d.right for d in self.decisions) / len(self.decisions) \
            if self.decisions else 0.0

    @property
    def right_returns(self) -> list[Decision]:
        return [d for d in self.decisions if d.decision == "devuelta" and d.planted]

    @property
    def needless_returns(self) -> list[Decision]:
        return [d for d in self.decisions if d.decision == "devuelta" and not d.planted]

    @property
    def missed(self) -> list[Decision]:
        return [d for d in self.decisions if d.decision == "aprobada" and d.planted]

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": round(self.accuracy, 2), "set": self.set_id,
                "right_returns": len(self.right_returns),
                "needless_returns": len(self.needless_returns), "missed": len(self.missed),
                "pending": len(self.decisions) - len(self.decided),
                "decisions": [asdict(d) for d in self.decisions]}


def review_sets(ws: Workspace) -> dict[str, list[str]]:
    """Set id -> uuids of its records, for every supervisor exercise in the workspace."""
    out: dict[str, list[str]] = {}
    for m in ws.list_records(form_id="fsu"):
        info = ws.practice.exercise(m.uuid)
        if info and info.get("kind") == "review":
            out.setdefault(str(info["set"]), []).append(m.uuid)
    return out


def score_review(ws: Workspace, set_id: str, keep: bool = True) -> ReviewScore:
    """Score the trainee's decisions on the set `set_id` (a record still waiting counts
    as not right); with `keep` the result joins the trainee's progress."""
    uuids = review_sets(ws).get(set_id)
    if not uuids:
        raise KeyError(f"no review exercise {set_id}")
    score = ReviewScore(set_id)
    started = None
    for uuid in uuids:
        m = ws.get(uuid)
        info = ws.practice.exercise(uuid) or {}
        started = min(started or info.get("started_at", 0), info.get("started_at", 0))
        planted = list(info.get("planted") or [])
        paths = set(info.get("paths") or [])
        notes = ws.notes(uuid)
        mine = [r for r in notes.get("returns", []) if r.get("source") == "supervisor"]
        if m.state == State.COMPLETE:
            decision, reason, pointed = "pendiente", "", False
        elif mine:
            decision, reason = "devuelta", str(mine[-1].get("reason", ""))
            pointed = bool(paths & set(mine[-1].get("questions") or []))
        else:
            decision, reason, pointed = "aprobada", "", False
        right = (decision == "devuelta") == bool(planted) and decision != "pendiente"
        texts = [RULES[c] for c in planted]
        if decision == "pendiente":
            verdict = "Todavía no la revisó."
        elif decision == "devuelta" and planted:
            verdict = "Bien devuelta: " + " ".join(texts) + (
                "" if pointed else " (conviene señalar la pregunta exacta)")
        elif decision == "devuelta":
            verdict = "Devuelta sin necesidad: la ficha no tenía inconsistencias."
        elif planted:
            verdict = "Aprobada, pero debía devolverse: " + " ".join(texts)
        else:
            verdict = "Bien aprobada."
        score.decisions.append(Decision(uuid, str(m.summary.get("head_name", "")) if
                                        isinstance(m.summary, dict) else "", planted, texts,
                                        decision, reason, right, pointed, verdict))
    if keep:
        ws.practice.add_result({"exercise": "review", "kind": "review",
                                "seconds": round(max(0.0, ws.clock() - (started or 0)), 1)
                                if started else None, **score.to_dict()})
    return score
