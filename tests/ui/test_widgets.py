"""Editors of every question type the engine runs, typed with real key events,
and the members roster (add / remove) of the form window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.forms import FormSession, load_form
from app.forms.navigation import plan_pages
from app.ui.entry.form_view import QuestionPage
from app.ui.entry.form_window import FormWindow, create_record
from app.ui.entry.widgets import (
    ParseError,
    choice_items,
    exact_choice,
    match_choices,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_time,
)

ALL_TYPES = """
| survey |
| | type | name | label | relevant | constraint | constraint_message |
| | begin group | g | Todos los tipos | | | |
| | text | nombre | Nombre | | | |
| | integer | edad | Edad | | . >= 0 and . <= 120 | La edad va de 0 a 120. |
| | decimal | peso | Peso | | | |
| | date | nacimiento | Nacimiento | | | |
| | time | hora | Hora | | | |
| | dateTime | momento | Momento | | | |
| | select_one color | color | Color | | | |
| | select_multiple color | colores | Colores | | | |
| | acknowledge | conforme | Conforme | | | |
| | geopoint | lugar | Lugar | | | |
| | note | nota | Nota para ${nombre} | | | |
| | text | solo_adultos | Solo adultos | ${edad} >= 18 | | |
| | end group | | | | | |

| choices |
| | list_name | name | label |
| | color | rojo | Rojo |
| | color | verde | Verde |
| | color | azul | Azul |

| settings |
| | form_id | version |
| | tipos | 1 |
"""


def test_parsers_and_choice_matching():
    assert parse_date("14/03/1980").isoformat() == "1980-03-14"
    with pytest.raises(ParseError, match="no existe"):
        parse_date("31022020")
    with pytest.raises(ParseError, match="8 dígitos"):
        parse_date("1403")
    assert parse_time("0930").strftime("%H:%M") == "09:30"
    with pytest.raises(ParseError):
        parse_time("2561")
    assert parse_decimal("1,5") == 1.5
    items = choice_items([(str(i), f"Opción {i}") for i in range(1, 12)])
    assert [c.code for c in match_choices(items, "1")] == ["1", "10", "11"]
    assert exact_choice(items, "1").name == "1"
    words = choice_items([("jefe", "Jefe de hogar"), ("conyuge", "Cónyuge")])
    assert [c.code for c in words] == ["1", "2"]  # non-numeric names: typed by position
    assert [c.name for c in match_choices(words, "co")] == ["conyuge"]  # accents folded


@pytest.mark.parametrize("typed", ["NaN", "nan", "inf", "-Infinity", "1_000", "1e400"])
def test_decimal_field_refuses_what_is_not_a_finite_number(typed):
    with pytest.raises(ParseError, match="Escriba un número"):
        parse_decimal(typed)


def test_number_fields_read_other_script_digits_as_ascii():
    assert parse_decimal("３，５") == 3.5
    assert parse_integer("１２") == 12


def test_every_question_type_by_keyboard(qtbot):
    fd = load_form(ALL_TYPES)
    s = FormSession(fd)
    (spec,) = [p for p in plan_pages(fd, s, None) if p.kind == "section"]
    page = QuestionPage(spec)
    qtbot.addWidget(page)
    rows = {r.path.rsplit("/", 1)[-1]: r for r in page.rows}
    for r in page.rows:
        if r.editor is not None:
            r.editor.committed.connect(lambda v, p=r.path: s.set(p, v))
            r.editor.parse_failed.connect(r.show_parse_error)
    page.show()

    def refresh():
        for r in page.rows:
            r.refresh(s.state(r.path), True)

    refresh()

    def typed(name: str, keys: str, enter: bool = True, after: bool = True) -> None:
        w = rows[name].editor.focus_widget()
        w.setFocus()
        QTest.keyClicks(w, keys)
        if enter:
            QTest.keyClick(w, Qt.Key.Key_Return)
        if after:
            refresh()

    typed("nombre", "Rosa")
    typed("edad", "150")
    assert rows["edad"].message.text() == "✗ La edad va de 0 a 120."
    rows["edad"].editor.line.clear()
    typed("edad", "34")
    assert rows["edad"].message.text() == ""
    typed("edad", "x", after=False)  # not a number: refused beside the question, value kept
    assert "números enteros" in rows["edad"].message.text()
    assert s.get("/data/g/edad") == "34"
    rows["edad"].editor.line.setText("34")
    typed("peso", "61,5")
    typed("nacimiento", "02091990", enter=False)  # 8 digits: no Enter needed
    typed("hora", "0930", enter=False)
    typed("momento", "020919901015")
    typed("color", "2", enter=False)  # «verde» is the 2nd choice
    typed("colores", "1 3")
    typed("conforme", "1", enter=False)
    typed("lugar", "-12.05 -77.04")
    assert s.get("/data/g/nombre") == "Rosa"
    assert s.get("/data/g/peso") == "61.5"
    assert s.get("/data/g/nacimiento") == "1990-09-02"
    assert s.get("/data/g/hora").startswith("09:30")
    assert s.get("/data/g/momento").startswith("1990-09-02T10:15")
    assert s.get("/data/g/color") == "verde"
    assert s.get("/data/g/colores") == "rojo azul"
    assert s.get("/data/g/conforme") == "OK"
    assert s.get("/data/g/lugar") == "-12.05 -77.04"
    assert rows["nota"].label.text() == "Nota para Rosa"
    assert rows["nota"].editor is None
    assert not rows["solo_adultos"].isHidden()
    rows["edad"].editor.line.clear()
    typed("edad", "12")
    assert rows["solo_adultos"].isHidden()  # relevance follows the age at once
    assert rows["nacimiento"].editor.line.text() == "02/09/1990"


def test_roster_add_and_remove_members(ws_factory, qtbot, monkeypatch):
    ws = ws_factory(create=True)
    uuid = create_record(ws, "fsu")
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    roster_i = next(i for i, sp in enumerate(w.specs) if sp.kind == "roster")
    w.enter_page(roster_i, 1)
    roster = w.pages[w.specs[roster_i].key]
    for name in ("Ana", "Luis", "Eva"):
        assert QApplication.focusWidget() is roster.add_btn
        QTest.keyClick(roster.add_btn, Qt.Key.Key_Return)
        assert w.current_row.path.endswith("/apellido_paterno")
        QTest.keyClicks(QApplication.focusWidget(), "Poma")
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # materno: blank
        QTest.keyClicks(QApplication.focusWidget(), name)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        w.enter_page(roster_i, 1)
    assert w.session.repeat_count("/fsu/integrantes") == 3
    assert roster.table.rowCount() == 3
    assert [roster.table.item(1, c).text() for c in range(4)] == ["2", "Poma", "", "Luis"]
    texts = [w.sections.item(i).text() for i in range(w.sections.count())]
    assert any(t.endswith("2. Poma Luis") for t in texts), texts
    # remove the 2nd member with the keyboard (Supr), confirming the question
    asked = []
    monkeypatch.setattr(w, "confirm", lambda box, yes: asked.append(box.text()) or True)
    QTest.keyClick(roster.add_btn, Qt.Key.Key_Down)
    QTest.keyClick(roster.table, Qt.Key.Key_Down)
    assert roster.table.currentRow() == 1
    QTest.keyClick(roster.table, Qt.Key.Key_Delete)
    assert asked == ["¿Quitar al integrante 2 (Poma Luis)?"]
    assert w.session.repeat_count("/fsu/integrantes") == 2
    assert w.session.get("/fsu/integrantes[2]/nombres") == "Eva"
    assert not any(sp.key.endswith("integrantes[3]") for sp in w.specs)
    w.close()
    stored = ws.load_answers(uuid)
    assert stored["repeats"]["/fsu/integrantes"] == 2
    assert stored["answers"]["/fsu/integrantes[2]/nombres"] == "Eva"


def test_rules_follow_the_typing_before_enter(ws_factory, qtbot):
    ws = ws_factory(create=True)
    uuid = create_record(ws, "fsu")
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    w.jump("/fsu/hogar/habitaciones")
    row = w.current_row
    field = QApplication.focusWidget()
    QTest.keyClicks(field, "45")
    assert row.message.text() == "✗ Las habitaciones deben estar entre 0 y 30."
    QTest.keyClick(field, Qt.Key.Key_Backspace)
    assert row.message.text() == ""
    assert w.session.get("/fsu/hogar/habitaciones") == "4"
    w.saver.flush()
    assert "/fsu/hogar/habitaciones" not in ws.load_answers(uuid).get("answers", {})
    with qtbot.waitSignal(w.saved, timeout=5000):
        QTest.keyClick(field, Qt.Key.Key_Return)
    assert ws.load_answers(uuid)["answers"]["/fsu/hogar/habitaciones"] == "4"
    w.close()


def test_issue_list_jumps_to_the_question_by_keyboard(ws_factory, qtbot):
    ws = ws_factory(create=True)
    uuid = create_record(ws, "fsu")
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    w.jump("/fsu/ubicacion/telefono")
    QTest.keyClicks(QApplication.focusWidget(), "12")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is w.issues
    first = w.issues.item(0)
    assert first.text() == (
        "✗ Ubicación de la vivienda › Teléfono: El teléfono debe tener de 6 a 9 dígitos."
    )
    QTest.keyClick(w.issues, Qt.Key.Key_Return)
    assert w.current_row.path == "/fsu/ubicacion/telefono"
    assert QApplication.focusWidget() is w.current_row.editor.focus_widget()
    # F8 walks the errors in form order, required ones included
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F8)
    assert w.current_row.path == "/fsu/vivienda/tipo_vivienda"
    w.close()


def test_audit_details_read_in_spanish_with_short_codes():
    """The Bitácora's detail column: Spanish keys, «—»/«no» for empty and false values,
    and a record's uuid as the short code the lists show (a clerk's walkthrough saw
    `error: None`, `record: a481fddb-bf1d-…`)."""
    from app.ui.admin.audit_view import detail_text

    text = detail_text({"record": "a481fddb-bf1d-4c0c-87c9-9b41ee6e82e1", "error": None,
                        "ok": False, "delivered": 3, "enumerator": "mquispe"})
    assert text == ("ficha: a481fddb; error: —; correcta: no; entregadas: 3; "
                    "empadronador(a): mquispe")
