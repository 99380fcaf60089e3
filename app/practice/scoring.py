"""Scoring a typed FSU against the exercise's answer key (issue 18 item 2).

Every answer of the key counts once; an answer is right when the typed value means
the same (text: same letters ignoring case, accents kept, spaces collapsed; numbers:
same number; several choices: same set; a DNI with or without its check character).
A key answer left blank is "missing"; a typed answer the paper does not have is
"extra" and counts as a mistake too, so accuracy = right / (key answers + extras).

Keys per answer compare with the floor that bench/entry.py measures: the characters of
the answers plus one key (Enter) per answered question. `keys_ratio` = keys pressed /
floor. The program's own keyboard entry goes under 1.0 (a complete code moves on
without Enter: bench/entry.py measured 0.88 on a 5-member FSU), so 1.0 is a reference,
not a limit."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.forms import FormDef, FormSession

_MEMBER = re.compile(r"^/\w+/integrantes\[(\d+)\]/")
TYPED_TYPES = frozenset({"text", "integer", "decimal", "select_one", "select_multiple",
                         "date", "datetime", "time"})


def typed_answers(session: FormSession) -> dict[str, str]:
    """The answers a person types (no calculations or notes), relevant ones only:
    {concrete path: value}."""
    fd = session.formdef
    out = {}
    for path, value in session.answers().items():
        try:
            nd = fd.node(path)
        except (KeyError, ValueError):
            continue
        if nd.type in TYPED_TYPES and str(value) != "":
            out[path] = str(value)
    return out


@dataclass
class Mistake:
    """One answer that does not match: `kind` is "wrong", "missing" or "extra"."""

    path: str
    section: str
    question: str  # Spanish label, with the member number for a member's question
    expected: str  # as printed on the paper (code and label for choices)
    typed: str
    kind: str


@dataclass
class SectionScore:
    section: str
    label: str
    total: int = 0
    right: int = 0
    extra: int = 0

    @property
    def accuracy(self) -> float:
        den = self.total + self.extra
        return 100.0 * self.right / den if den else 100.0


@dataclass
class EntryScore:
    """The score of one typed FSU. `accuracy` in percent (0-100), `seconds` of typing,
    `keys` pressed (None when not measured), `floor_keys` per bench/entry.py."""

    sections: list[SectionScore]
    mistakes: list[Mistake]
    seconds: float | None = None
    keys: int | None = None
    floor_keys: int = 0
    answers: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def right(self) -> int:
        return sum(s.right for s in self.sections)

    @property
    def accuracy(self) -> float:
        den = sum(s.total + s.extra for s in self.sections)
        return 100.0 * self.right / den if den else 100.0

    @property
    def keys_ratio(self) -> float | None:
        return self.keys / self.floor_keys if self.keys and self.floor_keys else None

    @property
    def keys_per_answer(self) -> float | None:
        return self.keys / self.answers if self.keys and self.answers else None

    @property
    def floor_per_answer(self) -> float:
        return self.floor_keys / self.answers if self.answers else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the stored result and the exports."""
        return {
            "accuracy": round(self.accuracy, 2),
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "keys": self.keys,
            "floor_keys": self.floor_keys,
            "answers": self.answers,
            "keys_ratio": None if self.keys_ratio is None else round(self.keys_ratio, 3),
            "sections": {s.section: round(s.accuracy, 2) for s in self.sections},
            "mistakes": [asdict(m) for m in self.mistakes],
            **self.extra,
        }


def _norm_text(v: str) -> str:
    return " ".join(v.split()).casefold()


def _norm_dni(v: str) -> str:
    v = v.strip()
    return v[:8] if re.fullmatch(r"\d{8}-?[0-9A-Ka-k]", v) else v


def same(nd_type: str, path: str, expected: str, typed: str) -> bool:
    """Whether `typed` means the same answer as `expected` for a question of type
    `nd_type` (see the module's rules)."""
    if nd_type == "select_multiple":
        return set(expected.split()) == set(typed.split())
    if nd_type in ("integer", "decimal"):
        try:
            return Decimal(expected) == Decimal(typed)
        except InvalidOperation:
            return expected.strip() == typed.strip()
    if path.endswith("/num_doc"):
        return _norm_dni(expected) == _norm_dni(typed)
    return _norm_text(expected) == _norm_text(typed)


def shown(fd: FormDef, path: str, value: str) -> str:
    """An answer as the paper prints it: "3 — Adobe o tapia" for a choice."""
    if not value:
        return ""
    nd = fd.node(path)
    if nd.is_select and nd.list_name and not nd.list_name.endswith(".csv"):
        labels = {c.name: c.label(fd.default_language) for c in fd.choices.get(nd.list_name, [])}
        return ", ".join(f"{v} — {labels.get(v, '?')}" for v in value.split())
    return value


def question_label(fd: FormDef, path: str) -> str:
    """The question's Spanish label, "Integrante 3: Nombres" inside the roster."""
    label = fd.node(path).label(fd.default_language) or path.rsplit("/", 1)[1]
    m = _MEMBER.match(path)
    return f"Integrante {m.group(1)}: {label}" if m else label


def floor_keys(key: dict[str, str]) -> int:
    """bench/entry.py's floor: characters of the answers + one key per answer."""
    return sum(len(v) + 1 for v in key.values())


def score_entry(
    key: dict[str, str],
    typed_session: FormSession,
    seconds: float | None = None,
    keys: int | None = None,
) -> EntryScore:
    """Score the typed FSU in `typed_session` against `key` ({path: value}, from
    app.practice.exercises.answer_key). Answers set aside by relevance do not count
    as typed."""
    fd = typed_session.formdef
    typed = typed_answers(typed_session)
    root = f"/{fd.root_name}"
    # the form's sections (top groups and repeats) in form order, labelled as the form says
    secs: dict[str, SectionScore] = {
        nd.name: SectionScore(nd.name, nd.label(fd.default_language) or nd.name)
        for nd in fd.nodes.children if nd.kind in ("group", "repeat")}
    mistakes: list[Mistake] = []

    def section(path: str) -> SectionScore:
        name = path[len(root) + 1:].split("/")[0].split("[")[0]
        return secs.setdefault(name, SectionScore(name, name))

    for path, expected in key.items():
        s = section(path)
        s.total += 1
        got = typed.get(path, "")
        if got and same(fd.node(path).type, path, expected, got):
            s.right += 1
            continue
        mistakes.append(Mistake(path, s.section, question_label(fd, path),
                                shown(fd, path, expected), shown(fd, path, got),
                                "wrong" if got else "missing"))
    for path in typed.keys() - key.keys():
        s = section(path)
        s.extra += 1
        mistakes.append(Mistake(path, s.section, question_label(fd, path), "",
                                shown(fd, path, typed[path]), "extra"))
    order = {p: i for i, p in enumerate(typed_session.iter_paths())}
    mistakes.sort(key=lambda m: order.get(m.path, len(order)))
    return EntryScore(
        sections=[s for s in secs.values() if s.total or s.extra],
        mistakes=mistakes,
        seconds=seconds,
        keys=keys,
        floor_keys=floor_keys(key),
        answers=len(key),
    )
