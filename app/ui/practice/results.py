"""The result of an exercise as the trainee reads it: accuracy per section, every
wrong / missing / extra answer, time and keys against the floor (data entry); which
returns were right, which were needless and what was missed (supervision)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.practice.progress import pct
from app.practice.review_exercise import ReviewScore
from app.practice.scoring import EntryScore

KIND_TEXT = {"wrong": "distinta", "missing": "falta", "extra": "sobra"}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "no medido"
    m, s = divmod(int(round(seconds)), 60)
    return f"{m} min {s:02d} s"


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    t = QTableWidget(len(rows), len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            t.setItem(r, c, QTableWidgetItem(text))
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class EntryResultDialog(QDialog):
    """The score of a typed exercise (app.practice.scoring.EntryScore)."""

    def __init__(self, score: EntryScore, title: str, ready_at: float | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Resultado del ejercicio — {title}")
        self.score = score
        lay = QVBoxLayout(self)
        head = QLabel(f"Precisión: {pct(score.accuracy):.1f} %")
        head.setObjectName("title")
        lay.addWidget(head)
        keys = ("no medidas" if score.keys is None else
                f"{score.keys} teclas frente a una referencia de {score.floor_keys} "
                f"({score.keys_ratio:.2f} veces la referencia; "
                f"{score.keys_per_answer:.1f} por respuesta, referencia "
                f"{score.floor_per_answer:.1f}). La referencia son los caracteres de las "
                "respuestas más un Enter por pregunta; quien aprovecha que un código "
                "completo avanza solo usa incluso menos")
        facts = [f"Respuestas de la ficha: {score.answers}; correctas: {score.right}.",
                 f"Tiempo de digitación: {_minutes(score.seconds)}.", f"Teclas: {keys}."]
        if ready_at is not None:
            facts.append("Con este resultado la persona está lista para digitar fichas reales."
                         if score.accuracy >= ready_at else
                         f"Para estar lista se necesita {ready_at:g} % en la FSU de 4 "
                         "integrantes.")
        info = QLabel("\n".join(facts))
        info.setWordWrap(True)
        lay.addWidget(info)
        lay.addWidget(QLabel("Precisión por sección:"))
        self.sections = _table(["Sección", "Correctas", "Precisión"],
                               [[s.label, f"{s.right} de {s.total + s.extra}",
                                 f"{pct(s.accuracy):.1f} %"] for s in score.sections])
        self.sections.setMaximumHeight(190)
        lay.addWidget(self.sections)
        lay.addWidget(QLabel("Respuestas con error (compárelas con la ficha de papel):"
                             if score.mistakes else "Sin errores. ¡Muy bien!"))
        self.mistakes = _table(["Pregunta", "En el papel", "Digitado", "Error"],
                               [[m.question, m.expected, m.typed, KIND_TEXT[m.kind]]
                                for m in score.mistakes])
        lay.addWidget(self.mistakes, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Cerrar")
        lay.addWidget(buttons)
        self.resize(900, 620)


class ReviewResultDialog(QDialog):
    """The score of a supervisor exercise (app.practice.review_exercise.ReviewScore)."""

    def __init__(self, score: ReviewScore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Resultado del ejercicio — Revisión de supervisor")
        lay = QVBoxLayout(self)
        head = QLabel(f"Decisiones correctas: {score.accuracy:.0f} %")
        head.setObjectName("title")
        lay.addWidget(head)
        info = QLabel(
            f"Bien devueltas: {len(score.right_returns)}. Devueltas sin necesidad: "
            f"{len(score.needless_returns)}. Inconsistencias que se le pasaron: "
            f"{len(score.missed)}. Sin revisar: {len(score.decisions) - len(score.decided)}.")
        info.setWordWrap(True)
        lay.addWidget(info)
        self.table = _table(["Hogar", "Decisión", "Su motivo", "Resultado"],
                            [[d.household, d.decision, d.reason, d.verdict]
                             for d in score.decisions])
        self.table.setWordWrap(True)
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Cerrar")
        lay.addWidget(buttons)
        self.resize(1000, 520)
        self.table.resizeRowsToContents()

