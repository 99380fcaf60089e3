"""Practice mode in the window (issue 18), with real widgets offscreen: the log-in's
«Modo práctica» opens the practice workspace marked on every window; an exercise
typed with known mistakes (keys sent to the form window) gets exactly those mistakes
reported; the supervisor exercise and the progress screen; the first-survey hints."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from app.practice import exercises as ex
from app.workspace.practice import BAND_TEXT, practice_dir
from tests.conftest import ADMIN_PW, FAST_KDF, end_windows, qt_windows
from tests.practice.conftest import TRAINEE_PW


@pytest.fixture(autouse=True)
def _close_stray_windows(qapp):
    """No window of a test, open or closed, survives into the next one (the same
    fixture as tests/ui's: tests.conftest.end_windows)."""
    before = qt_windows()
    yield
    end_windows(before)


@pytest.fixture
def practice_app(qtbot, data_dir: Path, clock):
    """The real window on a real workspace, and practice mode opened from its log-in,
    with an instructor and a trainee (digitador)."""
    from app.ui.shell.app_window import build
    from app.ui.shell.practice_window import open_practice
    from app.workspace import Workspace

    kw = {"kdf": FAST_KDF, "clock": clock}
    real_ws, _ = Workspace.create(data_dir, "admin", ADMIN_PW, ule_ubigeo="150101", **kw)
    real_ws.close()
    pws, _ = Workspace.create(practice_dir(data_dir), "instructor", ADMIN_PW,
                              ule_ubigeo="150101", practice=True, **kw)
    pws.admin.add_user("lucia", "digitador", TRAINEE_PW, display_name="Lucía Quispe",
                       must_change=False)
    pws.close()
    real = build(data_dir, kw)
    qtbot.addWidget(real)
    real.start()
    opened = []
    real.practice_requested.connect(lambda: opened.append(open_practice(real)))
    qtbot.mouseClick(real.login_page.practice_btn, Qt.MouseButton.LeftButton)
    assert opened and opened[0] is not None
    win = opened[0]
    qtbot.addWidget(win)
    yield real, win
    win.close()
    real.close()


def login(win, user: str, pw: str) -> None:
    win.login_page.user.setCurrentText(user)
    win.login_page.password.setText(pw)
    win.login_page.submit()
    assert win.stack.currentWidget() is win.records_page


def type_in(window, text: str) -> None:
    """Each character as a key press on the window (where a person's keys arrive)."""
    for ch in text:
        QTest.keyClick(window, ch)


def bands(w) -> list[QLabel]:
    return [lab for lab in w.findChildren(QLabel) if lab.objectName() == "practiceBand"]


def test_practice_mode_is_marked_on_every_window(practice_app):
    real, win = practice_app
    assert win.ws.practice.enabled and not real.ws.practice.enabled
    assert win.windowTitle().startswith("PRÁCTICA — ")
    assert [b.text() for b in bands(win)] == [BAND_TEXT]
    assert not bands(real) and not real.windowTitle().startswith("PRÁCTICA")
    login(win, "lucia", TRAINEE_PW)
    assert win.windowTitle().startswith("PRÁCTICA — ")  # the title changed at log-in
    pw = win.open_exercises()
    assert pw is not None and bands(pw) and pw.windowTitle().startswith("PRÁCTICA — ")
    assert pw.progress.threshold_btn.isHidden()  # a trainee does not set the threshold
    uuid = pw.exercises.start("fsu1", seed=4)
    form = win.forms[uuid]
    assert bands(form) and form.windowTitle().startswith("PRÁCTICA — ")
    # a window opened by the real program's own code (Supervisión, F9) is marked when it
    # gets the focus
    win.close_forms()
    win.logout()
    login(win, "instructor", ADMIN_PW)
    sw = win.records_page.supervision.open_supervision()
    assert sw is not None
    sw.activateWindow()
    assert QTest.qWaitForWindowActive(sw, 3000)
    QApplication.processEvents()
    assert bands(sw) and sw.windowTitle().startswith("PRÁCTICA — ")
    # the real window's log-in offers practice; the practice one offers to leave it
    assert "práctica" in real.login_page.practice_btn.text().lower()
    assert "Salir" in win.login_page.practice_btn.text()


def test_an_exercise_typed_with_known_mistakes_reports_exactly_them(practice_app, qtbot,
                                                                    tmp_path):
    _real, win = practice_app
    login(win, "lucia", TRAINEE_PW)
    pw = win.open_exercises()
    uuid = pw.exercises.start("fsu4", seed=21)
    key = ex.answer_key("fsu4", 21)
    form = win.forms[uuid]
    # the trainee "typed" everything right (the key), then makes three mistakes by keyboard
    for path, value in key.items():
        if "[" in path and form.session.repeat_count("/fsu/integrantes") < int(
                path.split("[")[1].split("]")[0]):
            form.session.add_repeat("/fsu/integrantes")
        form.session.set(path, value)
    form.replan()
    form.activateWindow()
    assert QTest.qWaitForWindowActive(form, 3000)
    window = form.windowHandle()
    form.jump("/fsu/ubicacion/nombre_via")
    qtbot.wait(100)
    QTest.keyClick(window, Qt.Key.Key_End)
    for _ in key["/fsu/ubicacion/nombre_via"]:
        QTest.keyClick(window, Qt.Key.Key_Backspace)
    type_in(window, "Jiron Cusco")
    QTest.keyClick(window, Qt.Key.Key_Return)
    form.jump("/fsu/ubicacion/manzana")  # blank on the paper: typed anyway
    type_in(window, "K")
    QTest.keyClick(window, Qt.Key.Key_Return)
    wrong_roof = "3" if key["/fsu/vivienda/techos"] != "3" else "1"
    form.jump("/fsu/vivienda/techos")
    type_in(window, wrong_roof)
    QTest.keyClick(window, Qt.Key.Key_Return)
    form.commit_current()
    with qtbot.waitSignal(form.saved, timeout=10000):
        form.request_save()
    form.close()
    pw.exercises.select_key(uuid)
    dlg = pw.exercises.score_selected()
    assert dlg is not None
    got = {(m.path, m.kind) for m in dlg.score.mistakes}
    assert got == {("/fsu/ubicacion/nombre_via", "wrong"), ("/fsu/ubicacion/manzana", "extra"),
                   ("/fsu/vivienda/techos", "wrong")}
    assert dlg.mistakes.rowCount() == 3
    assert dlg.score.keys and dlg.score.keys >= len("Jiron Cusco") + 4
    texts = [dlg.mistakes.item(r, 0).text() for r in range(3)]
    assert "Nombre de la vía" in texts and "Manzana" in texts
    # the paper of the same exercise, as a PDF
    out = pw.exercises.save_paper(tmp_path / "ficha.pdf")
    assert out is not None and out.read_bytes().startswith(b"%PDF")


def test_supervisor_exercise_and_progress_screen(practice_app, tmp_path):
    _real, win = practice_app
    login(win, "instructor", ADMIN_PW)
    pw = win.open_exercises()
    set_id = pw.exercises.start("review", seed=8)
    ws = win.ws
    from app.practice.review_exercise import review_sets

    uuids = review_sets(ws)[set_id]
    for u in uuids:
        info = ws.practice.exercise(u) or {}
        if info["planted"]:
            ws.review.return_record(u, "Inconsistencia", questions=info["paths"])
        else:
            ws.review.approve(u)
    pw.exercises.select_key(set_id)
    dlg = pw.exercises.score_selected()
    assert dlg.table.rowCount() == len(uuids)
    assert "100 %" in dlg.findChildren(QLabel)[0].text()
    pw.progress.reload()
    assert pw.progress.table.rowCount() == 1
    assert pw.progress.threshold.value() == 98 and not pw.progress.threshold_btn.isHidden()
    pw.progress.save_threshold(95)
    assert ws.settings.get("practice_ready_accuracy") == 95
    out = pw.progress.export("pdf", tmp_path / "avance.pdf")
    assert out is not None and out.read_bytes().startswith(b"%PDF")
    assert pw.progress.export("xlsx", tmp_path / "avance.xlsx") is not None


def test_first_survey_hints_show_once_per_section(practice_app, qtbot):
    _real, win = practice_app
    login(win, "lucia", TRAINEE_PW)
    pw = win.open_exercises()
    uuid = pw.exercises.start("fsu1", seed=2)
    form = win.forms[uuid]
    hints = form._practice_hints
    form.jump("/fsu/ubicacion/departamento")
    assert hints.isVisible() and "ubigeo" in hints.text.text()
    hints.dismiss()
    assert not hints.isVisible()
    form.jump("/fsu/vivienda/paredes")
    assert hints.isVisible() and "Vivienda" in hints.text.text()
    form.close()
    # reopened: the closed hint stays closed, the other one shows again
    form2 = win.open_record(uuid)
    form2.jump("/fsu/ubicacion/departamento")
    assert not form2._practice_hints.isVisible()
    form2.jump("/fsu/vivienda/paredes")
    assert form2._practice_hints.isVisible()


def test_sync_now_in_practice_mode_runs_the_simulated_centre(practice_app, qtbot):
    _real, win = practice_app
    login(win, "instructor", ADMIN_PW)
    from tests.sync.conftest import add_queued

    uuids = add_queued(win.ws, 4, seed=3)
    ctl = win.sync_menu.ctl
    ctl.refresh()
    assert ctl.status is not None and ctl.status.enrolled  # «Sincronizar ahora» is offered
    with qtbot.waitSignal(ctl.finished, timeout=20000) as sig:
        ctl.sync_now()
    assert sig.args[0].outcome.sent == 4
    states = {win.ws.get(u).state for u in uuids}
    assert states <= {"RESULT", "RETURNED"} and states


def test_handover_checklist_from_the_real_window(practice_app, tmp_path):
    real, win = practice_app
    login(real, "admin", ADMIN_PW)
    real.admin_menu.open_handover()
    dlg = real.admin_menu.dialog
    assert dlg is not None and "Lista de entrega" in dlg.text.toPlainText()
    assert "[ ] Inscripción del equipo en el SIEE" in dlg.text.toPlainText()
    out = dlg.save_pdf(tmp_path / "entrega.pdf")
    assert out is not None and out.read_bytes().startswith(b"%PDF")
    assert not bands(dlg)  # the real program's windows never carry the practice band
    dlg.close()
    # in practice mode the checklist is refused: it is about the real data
    login(win, "instructor", ADMIN_PW)
    win.admin_menu.open_handover()
    assert win.admin_menu.dialog is None


def test_a_practice_folder_opened_directly_is_still_marked(practice_app, qtbot):
    from app.ui.shell.practice_window import PracticeAppWindow, window_for

    real, win = practice_app
    direct = window_for(win.data_dir)
    qtbot.addWidget(direct)
    assert isinstance(direct, PracticeAppWindow) and bands(direct)
    ordinary = window_for(real.data_dir)
    qtbot.addWidget(ordinary)
    assert not isinstance(ordinary, PracticeAppWindow) and not bands(ordinary)


def test_completing_an_exercise_shows_its_score(practice_app, qtbot):
    _real, win = practice_app
    login(win, "lucia", TRAINEE_PW)
    pw = win.open_exercises()
    uuid = pw.exercises.start("fsu1", seed=12)
    form = win.forms[uuid]
    form.session = type(form.session)(form.fd, ex.answer_key("fsu1", 12))
    form.replan()
    form.request_save()
    with qtbot.waitSignal(form.completed, timeout=20000):
        form.complete()
    qtbot.waitUntil(lambda: pw.exercises.last_dialog is not None, timeout=10000)
    dlg = pw.exercises.last_dialog
    assert dlg.score.accuracy == 100.0 and dlg.score.mistakes == []
    assert win.ws.practice.results()[-1]["record"] == uuid
