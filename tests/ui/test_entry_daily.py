"""What a new clerk met in the first hour of entry (issue 16), on the real form
window with real key events: choices always visible, whole words typed into
choice questions, refused answers that hold the clerk, Ctrl+Enter from a text
box, member pages named after the person, a repeated DNI shown on its question,
and a reopened draft that starts where the clerk stopped."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui.entry.form_view import QuestionPage
from app.ui.entry.form_window import FormWindow, create_record
from app.ui.entry.widgets import LONG_LIST_SHOWN, MAX_GRID_CHOICES, SelectOneEditor


def open_window(ws, qtbot, form_id: str = "s100", uuid: str | None = None) -> FormWindow:
    uuid = uuid or create_record(ws, form_id)
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w, 3000)
    return w


def focused_path(w: FormWindow) -> str:
    row = w._row_of(QApplication.focusWidget())
    return row.path if row is not None else ""


def choice_labels(editor: SelectOneEditor) -> list[str]:
    return [lab.text() for lab in editor.board.labels if "<a href" in lab.text()]


def test_every_choice_question_shows_its_choices(ws_factory, qtbot):
    ws = ws_factory(create=True)
    seen = {}
    for form_id in ("s100", "fsu"):
        w = open_window(ws, qtbot, form_id)
        if form_id == "fsu":
            w.add_member("/fsu/integrantes")
        for spec in w.specs:
            page = w.page(spec)
            if not isinstance(page, QuestionPage):
                continue
            for row in page.rows:
                ed = row.editor
                if not isinstance(ed, SelectOneEditor) or row.isHidden() or not ed.items:
                    continue
                w.focus_row(row)  # the list opens on focus (answered or not)
                n = len(ed.items)
                shown = choice_labels(ed)
                expected = n if n <= MAX_GRID_CHOICES else LONG_LIST_SHOWN
                assert len(shown) == expected, (row.path, n, len(shown))
                assert not ed.board.isHidden(), row.path
                seen[row.path.rsplit("/", 1)[-1]] = n
        w.close()
    assert seen["equipamiento"] == 15  # select_multiple: all 15 visible, no «ej.: 1 3 5» guess
    assert seen["departamento"] == 25


def test_typing_whole_names_never_spills_into_the_next_question(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    w.jump("/s100/domicilio/departamento")
    dep = QApplication.focusWidget()
    qtbot.keyClicks(dep, "Cusco")
    # «Cu» already names only Cusco: it must not have moved on
    assert focused_path(w) == "/s100/domicilio/departamento"
    assert dep.text() == "Cusco"
    QTest.keyClick(dep, Qt.Key.Key_Return)
    assert w.session.get("/s100/domicilio/departamento") == "08"
    assert focused_path(w) == "/s100/domicilio/provincia"
    prov = QApplication.focusWidget()
    # nothing of «sco» landed here: only the ULE's province (prefilled), all selected,
    # so what is typed next replaces it
    assert prov.text() == "1501" and prov.selectedText() == "1501"
    qtbot.keyClicks(prov, "Cusco")
    QTest.keyClick(prov, Qt.Key.Key_Tab)
    assert w.session.get("/s100/domicilio/provincia") == "0801"
    dist = QApplication.focusWidget()
    assert focused_path(w) == "/s100/domicilio/distrito"
    # «San» names three districts: Enter keeps the clerk there and says why
    qtbot.keyClicks(dist, "San")
    QTest.keyClick(dist, Qt.Key.Key_Return)
    assert focused_path(w) == "/s100/domicilio/distrito"
    assert "3 opciones" in w.current_row.message.text()
    qtbot.keyClicks(dist, " Sebastian")  # no accent typed
    QTest.keyClick(dist, Qt.Key.Key_Return)
    assert w.session.get("/s100/domicilio/distrito") == "080105"
    assert focused_path(w) == "/s100/domicilio/centro_poblado"
    assert QApplication.focusWidget().text() == ""  # no «ebastian» in the code
    # a typed code still moves on by itself once it is complete and unambiguous
    w.jump("/s100/domicilio/departamento")
    qtbot.keyClicks(QApplication.focusWidget(), "15")
    assert focused_path(w) == "/s100/domicilio/provincia"
    w.close()


def test_a_refused_answer_keeps_the_clerk_with_the_message_beside_it(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    w.jump("/s100/solicitud/fecha_solicitud")
    field = QApplication.focusWidget()
    field.selectAll()
    qtbot.keyClicks(field, "01012099")  # 8 digits: a date normally moves on by itself
    row = w.current_row
    assert focused_path(w) == "/s100/solicitud/fecha_solicitud"
    assert "posterior a hoy" in row.message.text()
    assert row.message.isVisible()
    # the message sits under the field, not hundreds of pixels to the right
    field_pos = field.mapTo(w, QPoint(0, 0))
    msg_pos = row.message.mapTo(w, QPoint(0, 0))
    assert abs(msg_pos.x() - field_pos.x()) < 40
    assert 0 < msg_pos.y() - field_pos.y() < 80
    # a second Enter on the same answer goes on on purpose
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert focused_path(w) != "/s100/solicitud/fecha_solicitud"
    # a 5-digit phone is held too, and a corrected one moves on at once
    w.jump("/s100/solicitante/telefono")
    phone = QApplication.focusWidget()
    qtbot.keyClicks(phone, "12345")
    QTest.keyClick(phone, Qt.Key.Key_Return)
    assert focused_path(w) == "/s100/solicitante/telefono"
    assert "6 a 9 dígitos" in w.current_row.message.text()
    phone.clear()
    qtbot.keyClicks(phone, "987654321")
    QTest.keyClick(phone, Qt.Key.Key_Return)
    assert focused_path(w) != "/s100/solicitante/telefono"
    w.close()


def test_a_refused_multiple_choice_stays_on_its_page(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    w.jump("/fsu/hogar/equipamiento")
    page_before = w.stack.currentWidget()
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "1 99")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is page_before
    assert focused_path(w) == "/fsu/hogar/equipamiento"
    assert "Ninguno" in w.current_row.message.text()
    w.close()


def test_ctrl_enter_from_a_text_box_saves_the_text_and_completes(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    w.jump("/s100/solicitante/sol_apellido_paterno")
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "Huaman")  # no Enter: the cursor stays in the box
    QTest.keyClick(field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    # Completar ran: the form has errors left, so the issues list shows them all
    qtbot.waitUntil(lambda: w.complete_job is not None and w.complete_job.done, timeout=10000)
    assert w.session.get("/s100/solicitante/sol_apellido_paterno") == "Huaman"
    assert w.saver.flush()
    stored = ws.load_answers(w.uuid)["answers"]
    assert stored["/s100/solicitante/sol_apellido_paterno"] == "Huaman"
    assert w.issues.count() > 0
    w.close()


def _member(w: FormWindow, i: int, paterno: str, materno: str, nombres: str, dni: str) -> None:
    base = f"/fsu/integrantes[{i}]"
    for name, value in (
        ("apellido_paterno", paterno),
        ("apellido_materno", materno),
        ("nombres", nombres),
        ("tipo_doc", "1"),
        ("num_doc", dni),
    ):
        w.jump(f"{base}/{name}")
        field = QApplication.focusWidget()
        QTest.keyClicks(field, value)
        if w._row_of(QApplication.focusWidget()).path == f"{base}/{name}":
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def test_members_are_named_and_a_repeated_dni_points_at_its_question(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    w.add_member("/fsu/integrantes")
    w.add_member("/fsu/integrantes")
    _member(w, 1, "Quispe", "Flores", "Juan", "41234567")
    _member(w, 2, "Rojas", "Paz", "Maria", "41234567")
    page = w.pages["member:/fsu/integrantes[2]"]
    assert page.title.text() == "Integrante 2: Maria Rojas Paz"
    def issue_texts() -> list[str]:
        return [w.issues.item(i).text() for i in range(w.issues.count())]

    qtbot.waitUntil(lambda: any("repetido" in t for t in issue_texts()), timeout=3000)
    errors = issue_texts()
    dup = [t for t in errors if "repetido" in t]
    assert all("› dni" not in t for t in errors)
    assert any("Integrante 2: Maria Rojas Paz › Número de documento" in t for t in dup), dup
    # the member is not «completo» while its DNI is repeated
    spec = next(s for s in w.specs if s.key == "member:/fsu/integrantes[2]")
    assert w.page_mark(spec) == "✗"
    # the message sits beside the document number of that member
    num_row = page.row("/fsu/integrantes[2]/num_doc")
    assert "repetido" in num_row.message.text()
    # double-click on the error: the clerk lands on that member's document number
    w.jump("/fsu/ubicacion/telefono")
    item = next(
        w.issues.item(i)
        for i in range(w.issues.count())
        if "Integrante 2" in w.issues.item(i).text() and "repetido" in w.issues.item(i).text()
    )
    w.issues.itemDoubleClicked.emit(item)
    assert focused_path(w) == "/fsu/integrantes[2]/num_doc"
    w.close()


def test_a_reopened_draft_starts_where_the_clerk_stopped(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "s100")
    first = focused_path(w)
    w.jump("/s100/solicitante/sol_nombres")
    qtbot.keyClicks(QApplication.focusWidget(), "Rosa")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    stopped = focused_path(w)
    assert stopped not in ("", first)
    uuid = w.uuid
    w.close()
    again = open_window(ws, qtbot, "s100", uuid=uuid)
    qtbot.waitUntil(lambda: focused_path(again) != "", timeout=3000)
    assert focused_path(again) == stopped
    assert again.session.get("/s100/solicitante/sol_nombres") == "Rosa"
    again.close()


def test_a_short_dni_is_explained_as_a_dni_only(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    w.add_member("/fsu/integrantes")
    w.jump("/fsu/integrantes[1]/tipo_doc")
    qtbot.keyClicks(QApplication.focusWidget(), "1")  # DNI: a complete code moves on
    assert focused_path(w) == "/fsu/integrantes[1]/num_doc"
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "1234567")
    QTest.keyClick(field, Qt.Key.Key_Return)
    # the type was chosen before: the number typed is what is wrong, so it is held
    assert focused_path(w) == "/fsu/integrantes[1]/num_doc"
    message = w.current_row.message.text()
    assert "DNI tiene 8 dígitos" in message
    assert "carné" not in message.lower()
    w.close()


def test_a_rule_about_later_answers_does_not_hold_the_clerk(ws_factory, qtbot):
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    # «number of people» is compared with the members listed further on
    w.jump("/fsu/hogar/num_personas")
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "4")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert focused_path(w) != "/fsu/hogar/num_personas"
    assert "coincidir" in w.page(w.spec_for("/fsu/hogar/num_personas")).row(
        "/fsu/hogar/num_personas"
    ).message.text()
    # the centro poblado code is compared with the district given before: held
    w.jump("/fsu/ubicacion/centro_poblado")
    field = QApplication.focusWidget()
    qtbot.keyClicks(field, "15013")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert focused_path(w) == "/fsu/ubicacion/centro_poblado"
    w.close()


def test_every_advertised_shortcut_works_from_a_text_box(ws_factory, qtbot):
    from app.ui.common.help_panel import SHORTCUTS

    advertised = {k for k, _ in SHORTCUTS}
    assert {"Ctrl+Ins", "F8", "Ctrl+E", "Ctrl+Enter", "Ctrl+W", "F1"} <= advertised
    ws = ws_factory(create=True)
    w = open_window(ws, qtbot, "fsu")
    ctrl = Qt.KeyboardModifier.ControlModifier

    def in_text_box() -> None:
        w.jump("/fsu/ubicacion/nombre_via")
        assert focused_path(w) == "/fsu/ubicacion/nombre_via"

    in_text_box()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Insert, ctrl)  # Ctrl+Ins: copy in Qt
    assert w.session.repeat_count("/fsu/integrantes") == 1
    in_text_box()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_PageDown, ctrl)
    assert w.current_spec().title == "Vivienda"
    in_text_box()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F8)
    assert focused_path(w) != "/fsu/ubicacion/nombre_via"
    in_text_box()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_E, ctrl)
    assert QApplication.focusWidget() is w.issues
    in_text_box()
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_F1)
    assert w.help.isVisible()
    in_text_box()
    qtbot.keyClicks(QApplication.focusWidget(), "Los Incas")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_W, ctrl)
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=3000)
    assert ws.load_answers(w.uuid)["answers"]["/fsu/ubicacion/nombre_via"] == "Los Incas"
