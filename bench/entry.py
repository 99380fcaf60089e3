"""Heads-down entry benchmark: drives the real form window with key events.

A digitador types a paper FSU of 5 members into a new record, keyboard only.
Every key goes through QTest.keyClick(s) to the focused widget (offscreen
platform), exactly as the person would press it; the driver never sets a
value directly. At each step it checks that the focus is on the expected
question, so a skip (relevance) that fails shows as a wrong question.

Prints:
  entry.keys_over_floor: X ratio   keys pressed / (characters of the answers + 1 per
                                   answered field); modifiers count as keys
  entry.ms_per_answer: X ms        wall time per answered field, saves included
Exit code 1 when the entry could not be completed."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADD = "<agregar>"  # Ins on the roster (back from a member, the table has the focus)
NEXT = "<tab>"  # Tab on the roster: continue with the next section
SKIP = ""  # an optional question left blank: Enter

# (question name, what is typed). Order = the form, with skipped questions absent.
UBICACION = [
    ("departamento", "15"),
    ("provincia", "1501"),
    ("distrito", "150132"),
    ("centro_poblado", SKIP),
    ("area", "1"),
    ("tipo_via", "2"),
    ("nombre_via", "Los Incas"),
    ("numero_puerta", "245"),
    ("block", SKIP),
    ("piso", SKIP),
    ("interior", SKIP),
    ("manzana", "B"),
    ("lote", "12"),
    ("km", SKIP),
    ("referencia", "Frente al mercado"),
    ("telefono", "987654321"),
]
VIVIENDA = [
    ("tipo_vivienda", "1"),
    ("tenencia", "3"),
    ("paredes", "3"),
    ("techos", "4"),
    ("pisos", "5"),
    ("alumbrado", "1"),
    ("agua", "1"),
    ("desague", "1"),
    ("num_hogares", "1"),
    ("horas_capital", "1"),
    ("suministro_luz", "12345678"),
    ("suministro_agua", "87654321"),
]
HOGAR = [
    ("num_hogar", "1"),
    ("habitaciones", "3"),
    ("combustible", "2"),
    ("equipamiento", "2 6 14"),
    ("num_personas", "5"),
]


def adult(
    ap: str,
    am: str,
    nombres: str,
    birth: str,
    dni: str,
    parentesco: str,
    sexo: str,
    estado: str,
    nivel: str,
    anio: str,
    ocup: str,
    sector: str | None,
    gestante: str | None = None,
) -> list[tuple[str, str]]:
    steps = [
        ("apellido_paterno", ap),
        ("apellido_materno", am),
        ("nombres", nombres),
        ("fecha_nacimiento", birth),
        ("tipo_doc", "1"),
        ("num_doc", dni),
        ("parentesco", parentesco),
        ("sexo", sexo),
        ("estado_civil", estado),
    ]
    if gestante is not None:
        steps.append(("gestante", gestante))
    steps += [
        ("seguro_salud", "4"),
        ("lengua_materna", "5"),
        ("sabe_leer", "1"),
        ("nivel_educativo", nivel),
        ("ultimo_anio", anio),
        ("ocupacion", ocup),
    ]
    if sector is not None:
        steps.append(("sector", sector))
    steps += [("discapacidad", "7"), ("programas", "99")]
    return steps


def toddler(ap: str, am: str, nombres: str, birth: str, dni: str) -> list[tuple[str, str]]:
    """Under 3: no estado civil, reading, education or occupation (skips)."""
    return [
        ("apellido_paterno", ap),
        ("apellido_materno", am),
        ("nombres", nombres),
        ("fecha_nacimiento", birth),
        ("tipo_doc", "1"),
        ("num_doc", dni),
        ("parentesco", "3"),
        ("sexo", "1"),
        ("seguro_salud", "4"),
        ("lengua_materna", "5"),
        ("discapacidad", "7"),
        ("programas", "1 4"),
    ]


MEMBERS = [
    adult(
        "Quispe", "Flores", "Juan Carlos", "14031980", "41234567", "1", "1", "2", "4", "5", "2", "5"
    ),
    adult(
        "Mamani",
        "Ccama",
        "Rosa",
        "02091983",
        "42345678",
        "2",
        "2",
        "2",
        "3",
        "6",
        "7",
        None,
        gestante="2",
    ),
    adult(
        "Quispe",
        "Mamani",
        "Luz Marina",
        "21062008",
        "70123456",
        "3",
        "2",
        "6",
        "4",
        "3",
        "8",
        None,
        gestante="2",
    ),
    adult("Quispe", "Mamani", "Pedro", "10012012", "71234567", "3", "1", "6", "3", "6", "8", None),
    toddler("Quispe", "Mamani", "Thiago", "05052025", "78123456"),
]
CONTROL = [
    ("empadronador", "Ana Torres"),
    ("fecha_visita", "02112026"),
    ("resultado", "1"),
    ("informante", "1"),
    ("observaciones", SKIP),
]


def fsu_script() -> list[tuple[str, str]]:
    steps = [*UBICACION, *VIVIENDA, *HOGAR]
    for m in MEMBERS:
        steps.append((ADD, ""))
        steps += m
    steps.append((NEXT, ""))
    steps += CONTROL
    return steps


@dataclass
class Tally:
    keys: int = 0
    floor: int = 0
    answers: int = 0
    log: list[str] = field(default_factory=list)


class KeyDriver:
    """Presses keys into whatever has the focus of the form window."""

    def __init__(self, window, tally: Tally | None = None) -> None:
        self.w = window
        self.t = tally or Tally()

    def focus(self):
        from PySide6.QtWidgets import QApplication

        fw = QApplication.focusWidget()
        if fw is None:
            raise AssertionError("nothing has the keyboard focus")
        return fw

    def focused_name(self) -> str:
        row = self.w.current_row
        fw = self.focus()
        if row is not None and row.editor is not None and row.editor.focus_widget() is fw:
            return row.path.rsplit("/", 1)[-1]
        other = self.w._row_of(fw)
        return f"{type(fw).__name__} in {other.path if other else 'no question'}"

    def key(self, key, modifier=None, count_as: int = 1) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.keyClick(self.focus(), key, modifier or Qt.KeyboardModifier.NoModifier)
        self.t.keys += count_as

    def type_text(self, text: str) -> None:
        from PySide6.QtTest import QTest

        for ch in text:
            QTest.keyClicks(self.focus(), ch)
            self.t.keys += 1

    def answer(self, name: str, text: str) -> None:
        """Type one answer at the focused question; Enter only if it did not move on."""
        from PySide6.QtCore import Qt

        got = self.focused_name()
        if got != name:
            raise AssertionError(f"expected focus on {name!r}, found {got!r}")
        row = self.w.current_row
        here = row.editor.focus_widget()
        self.type_text(text)
        if self.focus() is here:
            self.key(Qt.Key.Key_Return)
        if self.focus() is here:
            raise AssertionError(f"{name}: did not move on ({row.message.text()})")
        if text:
            value = self.w.session.get(row.path)
            self.t.floor += len(value) + 1
            self.t.answers += 1

    def roster(self, what: str) -> None:
        from PySide6.QtCore import Qt

        from app.ui.entry.roster import RosterPage

        fw = self.focus()
        if not isinstance(self.w.stack.currentWidget(), RosterPage) or not (
            fw.objectName() == "primary" or fw is self.w.stack.currentWidget().table
        ):
            raise AssertionError(f"expected the roster, found {self.focused_name()}")
        self.key(Qt.Key.Key_Insert if what == ADD else Qt.Key.Key_Tab)

    def run(self, steps: list[tuple[str, str]]) -> None:
        for name, text in steps:
            if name in (ADD, NEXT):
                self.roster(name)
            else:
                self.answer(name, text)


def main() -> int:
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.ui.common import styles
    from app.ui.entry.form_window import FormWindow, create_record
    from app.workspace import Workspace

    app = QApplication.instance() or QApplication([])
    styles.apply(app)
    with tempfile.TemporaryDirectory() as tmp:
        ws, _code = Workspace.create(
            Path(tmp) / "datos", "digitador", "clave-bench-1", ule_ubigeo="150132"
        )
        uuid = create_record(ws, "fsu")
        w = FormWindow(ws, uuid)
        w.resize(1366, 768)
        w.show()
        w.activateWindow()
        QTest.qWaitForWindowActive(w, 3000)
        QTest.qWait(50)
        tally = Tally()
        driver = KeyDriver(w, tally)
        t0 = time.perf_counter()
        try:
            driver.run(fsu_script())
            w.flush()
        except AssertionError as e:
            print(f"entry: could not complete the scripted entry: {e}", file=sys.stderr)
            w.close()
            ws.close()
            return 1
        elapsed = time.perf_counter() - t0
        stored = ws.load_answers(uuid)
        errors = w.session.validate().errors
        w.close()
        ws.close()
    members = stored.get("repeats", {}).get("/fsu/integrantes")
    if members != 5 or errors:
        print(
            f"entry: stored {members} members, {len(errors)} errors: "
            f"{[(e.path, e.message) for e in errors][:3]}",
            file=sys.stderr,
        )
        return 1
    print(f"entry.keys_over_floor: {tally.keys / tally.floor:.3f} ratio")
    print(f"entry.ms_per_answer: {elapsed * 1000 / tally.answers:.1f} ms")
    print(f"entry.keys: {tally.keys} keys")
    print(f"entry.floor: {tally.floor} keys")
    print(f"entry.answers: {tally.answers} answers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
