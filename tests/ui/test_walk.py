"""The whole day of a ULE in one walk, keyboard only, on the real windows:
first run → log-in → new S100 → FSU from it (household carried over) → five
members with skips and a constraint error fixed → Completar."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.core.states import State
from bench.entry import ADD, CONTROL, HOGAR, MEMBERS, NEXT, VIVIENDA, KeyDriver

S100_HEAD = [
    ("tipo_solicitud", "1"),  # typed by position: 1 = option 2.1
    ("fecha_solicitud", ""),  # today() by default: Enter keeps it
    ("sol_apellido_paterno", "Quispe"),
    ("sol_apellido_materno", "Flores"),
    ("sol_nombres", "Juan Carlos"),
    ("sol_tipo_doc", "1"),
    ("sol_num_doc", "41234567"),
    ("sol_fecha_nacimiento", "14031980"),
    ("telefono", "987654321"),
    # the ULE's district is there already: Enter keeps it
    ("departamento", ""),
    ("provincia", ""),
    ("distrito", ""),
    ("centro_poblado", ""),
    ("tipo_via", "2"),
    ("nombre_via", "Los Incas"),
    ("numero_puerta", "245"),
    ("block", ""),
    ("piso", ""),
    ("interior", ""),
    ("manzana", ""),
    ("lote", ""),
    ("km", ""),
    ("referencia", ""),
    ("suministro_luz", "12345678"),
    ("suministro_agua", ""),
    ("comunidad_indigena", "2"),  # «No»: nombre_comunidad is skipped
]
CARRIED = {"apellido_paterno", "apellido_materno", "nombres", "tipo_doc", "num_doc"}


def member_values(steps: list[tuple[str, str]]) -> dict[str, str]:
    return dict(steps)


def s100_script() -> list[tuple[str, str]]:
    steps = list(S100_HEAD)
    for m in MEMBERS:
        v = member_values(m)
        steps += [
            (ADD, ""),
            ("apellidos", f"{v['apellido_paterno']} {v['apellido_materno']}"),
            ("nombres", v["nombres"]),
            ("tipo_doc", "1"),
            ("num_doc", v["num_doc"]),
        ]
    # the ULE and the clerk are prefilled from the configuration and the log-in
    steps += [(NEXT, ""), ("ule", ""), ("registrador", "")]
    return steps


def fsu_member_steps(m: list[tuple[str, str]], requester: bool = False) -> list[tuple[str, str]]:
    """What is still typed for a member carried over from the S100 (the requester's
    birth date came too)."""
    carried = CARRIED | {"fecha_nacimiento"} if requester else CARRIED
    return [(name, "" if name in carried else text) for name, text in m]


def open_form(win, qtbot, before: set[str]):
    qtbot.waitUntil(lambda: bool(set(win.forms) - before), timeout=5000)
    (uuid,) = set(win.forms) - before
    w = win.forms[uuid]
    QTest.qWaitForWindowActive(w, 3000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=3000)
    return uuid, w


def settled(page) -> bool:
    """The list shows the answer of the newest load."""
    return page.load_job is not None and page.load_job.done and page.status.text() != "Cargando…"


def complete(w, qtbot) -> None:
    with qtbot.waitSignal(w.completed, timeout=10000):
        QTest.keyClick(
            QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )


def test_first_run_to_completed_fsu(shell, qtbot):
    win = shell()
    win.start()
    wiz = win.wizard
    a = wiz.admin_page
    QTest.keyClicks(a.name, "Ana Torres")
    a.username.clear()
    QTest.keyClicks(a.username, "atorres")
    QTest.keyClicks(a.password, "clave-segura-1")
    QTest.keyClicks(a.password2, "clave-segura-1")
    wiz.next()
    wiz.ubigeo_page.picker.set_value("150132")
    wiz.next()
    wiz.recovery_page.ack.setChecked(True)
    QTest.keyClicks(wiz.recovery_page.confirm, wiz.recovery_code[-5:])
    wiz.next()
    wiz.accept()
    qtbot.waitUntil(win.isVisible)

    # log in with the keyboard
    win.activateWindow()
    QTest.qWaitForWindowActive(win, 3000)
    QTest.keyClicks(win.login_page.password, "clave-segura-1")
    QTest.keyClick(win.login_page.password, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.records_page
    ws = win.ws
    page = win.records_page

    # new S100 (Ctrl+N), typed to the end and completed
    QTest.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    s100_uuid, w = open_form(win, qtbot, set())
    KeyDriver(w).run(s100_script())
    assert w.session.repeat_count("/s100/integrantes") == 5
    assert w.session.state("/s100/domicilio/nombre_comunidad").relevant is False
    complete(w, qtbot)
    assert ws.get(s100_uuid).state == State.COMPLETE.value
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: s100_uuid not in win.forms)
    QTest.qWaitForWindowActive(win, 3000)
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() == 1, timeout=5000)
    row = page.model.rows[0]
    assert row.meta.uuid == s100_uuid
    assert "Juan Carlos" in row.cells()[0]
    assert row.cells()[1] == "*****567"
    assert row.cells()[2] == "San Juan de Lurigancho"

    # FSU from the selected S100 (Ctrl+U): the household comes along
    page.table.setFocus()
    page.table.selectRow(0)
    QTest.keyClick(page.table, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    fsu_uuid, w = open_form(win, qtbot, set())
    s = w.session
    assert s.get("/fsu/ubicacion/distrito") == "150132"
    assert s.repeat_count("/fsu/integrantes") == 5
    assert s.get("/fsu/integrantes[1]/apellido_paterno") == "Quispe"
    assert s.get("/fsu/integrantes[1]/apellido_materno") == "Flores"
    assert s.get("/fsu/integrantes[5]/num_doc") == "78123456"
    # the requester (member 1 by DNI) brings the birth date; the enumerator is the user
    assert s.get("/fsu/integrantes[1]/fecha_nacimiento") == "1980-03-14"
    assert s.get("/fsu/control/empadronador") == "Ana Torres"

    d = KeyDriver(w)
    d.run(
        [
            ("departamento", ""),
            ("provincia", ""),
            ("distrito", ""),
            ("centro_poblado", ""),
            ("area", "1"),
            # the address and the phone came from the S100: Enter keeps them
            ("tipo_via", ""),
            ("nombre_via", ""),
            ("numero_puerta", ""),
            ("block", ""),
            ("piso", ""),
            ("interior", ""),
            ("manzana", ""),
            ("lote", ""),
            ("km", ""),
            ("referencia", ""),
            ("telefono", ""),
        ]
    )
    assert s.get("/fsu/ubicacion/nombre_via") == "Los Incas"
    assert s.get("/fsu/ubicacion/telefono") == "987654321"
    d.run(VIVIENDA)
    # num_personas typed wrong on purpose: 4 for a household of 5
    d.run([*HOGAR[:-1], ("num_personas", "4")])
    num_row = next(
        r
        for p in w.pages.values()
        for r in getattr(p, "rows", [])
        if r.path.endswith("num_personas")
    )
    assert "debe coincidir" in num_row.message.text()
    # roster: members are already there; ↓ and Enter open the first one
    d.key(Qt.Key.Key_Down)
    d.key(Qt.Key.Key_Return)
    for i, m in enumerate(MEMBERS, 1):
        steps = fsu_member_steps(m, requester=i == 1)
        if i == 3:
            # a birth date in the future: the message appears beside the question,
            # Shift+Tab goes back and the date is typed again
            cut = [n for n, _ in steps].index("fecha_nacimiento")
            d.run(steps[:cut])
            d.answer("fecha_nacimiento", "01012030")
            row = w.current_row
            assert row.path.endswith("tipo_doc")
            date_row = next(r for r in w._page_of(row).rows if r.path.endswith("fecha_nacimiento"))
            assert "entre 1900 y hoy" in date_row.message.text()
            d.key(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
            d.answer("fecha_nacimiento", steps[cut][1])
            assert date_row.message.text() == ""
            d.run(steps[cut + 1 :])
        else:
            d.run(steps)
    # the toddler's page skipped estado civil, reading, education and occupation
    assert not s.state("/fsu/integrantes[5]/nivel_educativo").relevant
    assert not s.state("/fsu/integrantes[1]/gestante").relevant
    d.run([(NEXT, ""), *CONTROL])
    assert QApplication.focusWidget() is w.complete_btn

    # Completar refuses (num_personas) and jumps to the question; fix and complete
    QTest.keyClick(w.complete_btn, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.complete_job is not None and w.complete_job.done, timeout=10000)
    qtbot.waitUntil(lambda: w.current_row is num_row, timeout=5000)
    assert ws.get(fsu_uuid).state == State.DRAFT.value
    assert any(
        "num_personas" in w.issues.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(w.issues.count())
    )
    d.answer("num_personas", "5")
    assert num_row.message.text() == ""
    complete(w, qtbot)
    assert ws.get(fsu_uuid).state == State.COMPLETE.value
    stored = ws.load_answers(fsu_uuid)
    assert stored["answers"]["/fsu/integrantes[3]/fecha_nacimiento"] == "2008-06-21"
    assert stored["answers"]["/fsu/hogar/num_personas"] == "5"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: settled(page) and page.model.rowCount() == 2, timeout=5000)
    counts = {b: page.count_buttons[b].text() for b in page.count_buttons}
    assert counts[State.COMPLETE.value] == "Completa: 2"
    # search by DNI finds both records of the household
    QTest.qWaitForWindowActive(win, 3000)
    QTest.keyClick(page.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.dni
    QTest.keyClicks(page.dni, "70123456")
    QTest.keyClick(page.dni, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.status.text() == "2 fichas de 1 hogar (expediente)",
                    timeout=5000)
    assert page._search_uuids == {s100_uuid, fsu_uuid}
    page.dni.clear()
    QTest.keyClicks(page.dni, "10000000")
    QTest.keyClick(page.dni, Qt.Key.Key_Return)
    # the message stands where the table was (and is not repeated in the corner)
    qtbot.waitUntil(
        lambda: page.table_area.showing_note and page.table_area.note.text()
        == "Ninguna ficha con el DNI 10000000: revise el número o pulse Limpiar (Alt+L) "
        "para ver todas.",
        timeout=5000,
    )
    assert page.status.text() == "0 fichas"
    assert not win.forms
    # a completed record opens read-only
    w = win.open_record(fsu_uuid)
    assert not w.editable and "solo lectura" in w.banner.text()
    assert not w.complete_btn.isEnabled()
    w.close()
