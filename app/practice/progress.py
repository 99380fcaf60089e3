"""Each trainee's results over time (issue 18 item 5): rows for the progress screen,
who is ready (best accuracy on the 4-member exercise at or above the setting
`practice_ready_accuracy`), and the same as HTML for the PDF. The Excel file is
written by app/practice/report.py."""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from typing import Any

from app.practice.exercises import EXERCISES, READY_EXERCISE
from app.workspace import Workspace


@dataclass(frozen=True)
class ProgressRow:
    """One scored attempt as people read it."""

    username: str
    exercise: str  # code
    title: str  # Spanish
    at: dt.datetime
    accuracy: float  # percent
    seconds: float | None
    keys_ratio: float | None  # keys pressed / the floor of bench/entry.py
    mistakes: int

    @property
    def time_text(self) -> str:
        if self.seconds is None:
            return ""
        m, s = divmod(int(round(self.seconds)), 60)
        return f"{m} min {s:02d} s"


@dataclass(frozen=True)
class Readiness:
    username: str
    best: float | None  # best accuracy on the readiness exercise, or None
    attempts: int
    ready: bool


def rows_of(results: list[dict[str, Any]]) -> list[ProgressRow]:
    """Stored results (ws.practice.results()) as rows, by trainee then date."""
    out = []
    for r in results:
        code = str(r.get("exercise", ""))
        ex = EXERCISES.get(code)
        out.append(ProgressRow(
            username=str(r.get("username", "")),
            exercise=code,
            title=ex.title if ex else code,
            at=dt.datetime.fromtimestamp(float(r.get("at", 0))),
            accuracy=float(r.get("accuracy", 0.0)),
            seconds=None if r.get("seconds") is None else float(r["seconds"]),
            keys_ratio=None if r.get("keys_ratio") is None else float(r["keys_ratio"]),
            mistakes=len(r.get("mistakes") or []) if r.get("kind") != "review"
            else int(r.get("missed", 0)) + int(r.get("needless_returns", 0)),
        ))
    return sorted(out, key=lambda x: (x.username, x.at))


def readiness(rows: list[ProgressRow], threshold: float) -> list[Readiness]:
    """Per trainee: best accuracy on the readiness exercise (fsu4) and whether it
    reaches `threshold` (percent)."""
    out = []
    for user in sorted({r.username for r in rows}):
        mine = [r.accuracy for r in rows if r.username == user and r.exercise == READY_EXERCISE]
        best = max(mine) if mine else None
        out.append(Readiness(user, best, len(mine), best is not None and best >= threshold))
    return out


def progress(ws: Workspace, username: str | None = None) -> tuple[list[ProgressRow],
                                                                   list[Readiness], float]:
    """(rows, readiness, threshold) as the logged-in user may see them (a trainee their
    own, the responsable everyone's)."""
    threshold = float(ws.settings.get("practice_ready_accuracy") or 98)
    rows = rows_of(ws.practice.results(username))
    return rows, readiness(rows, threshold), threshold


def pct(value: float) -> float:
    """A percentage cut (not rounded) to one decimal, so 97.98 never reads as a ready 98.0."""
    return math.floor(value * 10 + 1e-9) / 10


COLUMNS = ("Usuario", "Ejercicio", "Fecha", "Precisión (%)", "Tiempo", "Teclas / referencia",
           "Errores")


def table(rows: list[ProgressRow]) -> list[list[Any]]:
    """The rows as cells, in COLUMNS order."""
    return [[r.username, r.title, r.at.strftime("%d/%m/%Y %H:%M"), pct(r.accuracy),
             r.time_text, "" if r.keys_ratio is None else round(r.keys_ratio, 2), r.mistakes]
            for r in rows]


def progress_html(rows: list[ProgressRow], ready: list[Readiness], threshold: float,
                  place: str = "") -> str:
    """The progress report (for the centre's trainers), as HTML for the PDF writer."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
                   for row in table(rows))
    ready_rows = "".join(
        f"<tr><td>{e(x.username)}</td><td>{'' if x.best is None else f'{pct(x.best):.1f} %'}</td>"
        f"<td>{x.attempts}</td><td><b>{'Listo(a)' if x.ready else 'En práctica'}</b></td></tr>"
        for x in ready)
    return (
        "<html><body style=\"font-family: 'DejaVu Sans', Arial; font-size: 9pt\">"
        "<h1 style='font-size: 14pt'>Avance de la capacitación — modo práctica</h1>"
        f"<p>{e(place)} Emitido el {dt.datetime.now():%d/%m/%Y %H:%M}. Se considera "
        f"lista a la persona que logra {threshold:g} % o más en el ejercicio "
        f"«{e(EXERCISES[READY_EXERCISE].title)}».</p>"
        "<h2 style='font-size: 11pt'>Quién está listo</h2>"
        "<table border='1' cellspacing='0' cellpadding='3' width='100%'>"
        "<tr><th>Usuario</th><th>Mejor precisión</th><th>Intentos</th><th>Estado</th></tr>"
        f"{ready_rows}</table>"
        "<h2 style='font-size: 11pt'>Todos los intentos</h2>"
        f"<table border='1' cellspacing='0' cellpadding='3' width='100%'><tr>{head}</tr>"
        f"{body}</table></body></html>")
