"""A record returned by the supervisor stands out in the list with its reasons,
and opening it shows them; the first saved answer reopens it as a new revision."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.core.states import State
from app.forms import FormSession, bundled_form

S100_ANSWERS = {
    "/s100/solicitud/tipo_solicitud": "2.1",
    "/s100/solicitante/sol_apellido_paterno": "Huamán",
    "/s100/solicitante/sol_nombres": "Delia",
    "/s100/solicitante/sol_tipo_doc": "1",
    "/s100/solicitante/sol_num_doc": "42345678",
    "/s100/solicitante/sol_fecha_nacimiento": "1983-09-02",
    "/s100/domicilio/departamento": "08",
    "/s100/domicilio/provincia": "0801",
    "/s100/domicilio/distrito": "080108",
    "/s100/domicilio/tipo_via": "1",
    "/s100/domicilio/nombre_via": "Tullumayo",
    "/s100/domicilio/numero_puerta": "120",
    "/s100/domicilio/comunidad_indigena": "2",
    "/s100/integrantes[1]/apellidos": "Huamán",
    "/s100/integrantes[1]/nombres": "Delia",
    "/s100/integrantes[1]/tipo_doc": "1",
    "/s100/integrantes[1]/num_doc": "42345678",
    "/s100/registro/ule": "080108",
    "/s100/registro/registrador": "María Soto",
}


def make_returned(ws_factory) -> tuple[str, str]:
    """maria (empadronadora) completes two S100; the admin returns one of them."""
    ws = ws_factory(create=True)
    ws.admin.add_user("maria", "empadronador", "clave-maria-1", "María Soto", must_change=False)
    ws.logout()
    ws.login("maria", "clave-maria-1")
    fd = bundled_form("s100")
    uuids = []
    for _ in range(2):
        s = FormSession(fd)
        s.add_repeat("/s100/integrantes")
        for path, value in S100_ANSWERS.items():
            s.set(path, value)
        assert not s.validate().errors
        uuid = ws.new_record("s100", fd.version, s.to_json())
        assert ws.complete(uuid)[0] == State.COMPLETE
        uuids.append(uuid)
    ws.logout()
    ws.login("admin", "clave-admin-123")
    ws.review.return_record(
        uuids[0],
        "Falta el teléfono del solicitante",
        ["/s100/solicitante/telefono"],
    )
    ws.close()
    return uuids[0], uuids[1]


def test_returned_record_shows_reasons(shell, ws_factory, qtbot):
    returned, other = make_returned(ws_factory)
    win = shell()
    win.start()
    win.login_page.user.setCurrentText("maria")
    win.login_page.password.setText("clave-maria-1")
    win.login_page.submit()
    page = win.records_page
    qtbot.waitUntil(lambda: page.model.rowCount() == 2, timeout=5000)
    first = page.model.rows[0]
    assert first.meta.uuid == returned  # returned records come first
    cells = first.cells()
    assert cells[4] == "Observada"
    assert cells[6] == "Falta el teléfono del solicitante"
    assert page.model.data(page.model.index(0, 0), Qt.ItemDataRole.BackgroundRole) is not None
    assert page.model.data(page.model.index(1, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert page.returned_banner.isVisibleTo(page)
    assert "Tiene 1 ficha observada" in page.returned_banner.text()
    assert page.count_buttons[State.RETURNED.value].text() == "Observada: 1"
    # the selected returned record shows who returned it and why
    assert page.detail.isVisibleTo(page)
    assert "Falta el teléfono" in page.detail.text() and "admin" in page.detail.text()
    # filter by state
    page.set_state_filter(State.RETURNED.value)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=5000)
    # open it: the banner repeats the reason and names the question
    win.activateWindow()
    QTest.qWaitForWindowActive(win, 3000)
    page.table.setFocus()
    QTest.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: returned in win.forms, timeout=5000)
    w = win.forms[returned]
    QTest.qWaitForWindowActive(w, 3000)
    assert w.editable
    assert "Falta el teléfono del solicitante" in w.banner.text()
    assert "Teléfono" in w.banner.text()
    # fixing the question: the save reopens the record as a new draft revision
    w.jump("/s100/solicitante/telefono")
    assert w.current_row.path == "/s100/solicitante/telefono"
    field = QApplication.focusWidget()
    assert field is w.current_row.editor.focus_widget()
    with qtbot.waitSignal(w.saved, timeout=5000):
        QTest.keyClicks(field, "984123456")
        QTest.keyClick(field, Qt.Key.Key_Return)
    meta = win.ws.get(returned)
    assert meta.state == State.DRAFT.value and meta.revision == 2
    assert win.ws.load_answers(returned)["answers"]["/s100/solicitante/telefono"] == "984123456"
    w.close()


def test_looking_at_a_returned_record_does_not_reopen_it(ws_factory, qtbot, clock):
    """Moving around a returned record and closing it saves nothing: it stays
    «Observada» (the resume position is kept only for drafts)."""
    from app.demo import households
    from app.ui.entry.form_window import FormWindow
    from tests.review.conftest import PASSWORDS, Team

    ws = ws_factory(create=True)
    team = Team(ws, clock)
    ws.admin.add_user("emp", "empadronador", PASSWORDS["emp"], "Juan Pérez", must_change=False)
    ws.admin.add_user("sup", "supervisor", PASSWORDS["sup"], "Rosa Quispe", must_change=False)
    team.as_("emp")
    uuid = team.fsu(households(1, seed=4)[0])
    team.as_("sup").review.return_record(uuid, "Revise el teléfono", ["/fsu/ubicacion/telefono"])
    ws = team.as_("emp")
    revision = ws.get(uuid).revision
    w = FormWindow(ws, uuid)
    qtbot.addWidget(w)
    w.show()
    w.jump("/fsu/hogar/habitaciones")
    w.jump("/fsu/ubicacion/telefono")
    w.close()
    m = ws.get(uuid)
    assert m.state == State.RETURNED.value and m.revision == revision
