"""Progress, readiness and its Excel export; the paper FSU; the handover checklist
from a real workspace's state (issue 18 items 2, 5 and 6)."""

from __future__ import annotations

import openpyxl

from app.practice.handover import handover_items, handover_text
from app.practice.paper import paper_html
from app.practice.progress import progress
from app.practice.report import write_progress_xlsx
from tests.practice.conftest import as_user
from tests.sync.conftest import add_queued


def test_readiness_follows_the_threshold_setting(practice_ws, tmp_path):
    ws = practice_ws
    as_user(ws, "ana", "digitador")
    ws.practice.add_result({"exercise": "fsu4", "accuracy": 97.5, "seconds": 400})
    ws.practice.add_result({"exercise": "fsu1", "accuracy": 100.0, "seconds": 90})
    ws.logout()
    from tests.conftest import ADMIN_PW
    ws.login("instructor", ADMIN_PW)
    ws.admin.add_user("beto", "digitador", "clave-beto-123", must_change=False)
    ws.logout()
    ws.login("beto", "clave-beto-123")
    ws.practice.add_result({"exercise": "fsu4", "accuracy": 98.0, "seconds": 500})
    ws.logout()
    ws.login("instructor", ADMIN_PW)
    rows, ready, threshold = progress(ws)
    assert threshold == 98
    assert {r.username: r.ready for r in ready} == {"ana": False, "beto": True}
    ws.settings.save(practice_ready_accuracy=95)
    _rows, ready, _t = progress(ws)
    assert {r.username: r.ready for r in ready} == {"ana": True, "beto": True}
    out = write_progress_xlsx(rows, ready, 95, tmp_path / "avance.xlsx")
    wb = openpyxl.load_workbook(out)
    cells = [[c.value for c in row] for row in wb["Intentos"].iter_rows()]
    assert cells[0][0] == "Usuario" and len(cells) == 4
    assert [r[0] for r in wb["Listos"].iter_rows(values_only=True)][1:] == ["ana", "beto"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_paper_fsu_prints_every_answer_of_the_key():
    from app.practice.exercises import answer_key, fsu
    from app.practice.scoring import shown

    page = paper_html("fsu8", 4)
    key = answer_key("fsu8", 4)
    fd = fsu()
    for path, value in key.items():
        if fd.node(path).list_name and fd.node(path).list_name.endswith(".csv"):
            continue
        import html
        assert html.escape(shown(fd, path, value)) in page, path
    assert "PRÁCTICA" in page and "Integrante 8" in page


def test_handover_checklist_reflects_the_real_workspace(tmp_path):
    from app.workspace import Workspace
    from tests.conftest import ADMIN_PW, FAST_KDF

    ws, _ = Workspace.create(tmp_path / "real", "admin", ADMIN_PW, ule_ubigeo="150101",
                             kdf=FAST_KDF)
    try:
        ws.admin.add_user("rosa", "empadronador", "clave-rosa-123", display_name="Rosa Q",
                          must_change=False)
        ws.admin.set_user_active("rosa", False)
        add_queued(ws, 2)
        items = {i.title: i for i in handover_items(ws)}
        unsent = items["Fichas que todavía no llegaron a la sede central"]
        assert not unsent.ok and "2 aprobadas sin enviar" in unsent.lines
        assert not items["Inscripción del equipo en el SIEE"].ok
        assert not items["Copia de respaldo"].ok
        users = items["Usuarios del equipo"].lines
        assert any("rosa" in x and "desactivada" in x for x in users)
        ws.admin.backup_to(tmp_path / "copia.siee")
        items = {i.title: i for i in handover_items(ws)}
        assert items["Copia de respaldo"].ok
        text = handover_text(ws)
        assert "Código de recuperación" in text and "ULE de" in text
    finally:
        ws.close()


def test_handover_counts_records_waiting_in_a_batch_once(tmp_path):
    """A record in a batch that awaits its receipt (sent, or exported to USB) is still
    QUEUED, so SyncStatus.pending counts it; adding the batches (in_flight) on top
    counted it twice: «3 aprobadas sin enviar» for two records."""
    from app.store.db import transaction
    from app.store.outbox import OutboxStore
    from app.workspace import Workspace
    from tests.conftest import ADMIN_PW, FAST_KDF

    ws, _ = Workspace.create(tmp_path / "real", "admin", ADMIN_PW, ule_ubigeo="150101",
                             kdf=FAST_KDF)
    try:
        first, _second = add_queued(ws, 2)
        with ws.ctx.lock, transaction(ws.db) as conn:  # as a USB export leaves it
            OutboxStore.save_batch(conn, batch_id="lote-1", device_id="equipo-1",
                                   created_at=1.0, via="usb", envelope=b"sobre",
                                   sha256="0" * 64, count=1, items=[(first, 1)])
        st = ws.centre.status()
        assert (st.pending, st.in_flight) == (2, 1)
        items = {i.title: i for i in handover_items(ws)}
        lines = items["Fichas que todavía no llegaron a la sede central"].lines
        assert "2 aprobadas sin enviar" in lines, lines
    finally:
        ws.close()


def test_a_percentage_just_under_the_threshold_never_reads_as_reaching_it():
    from app.practice.progress import pct, readiness, rows_of

    rows = rows_of([{"username": "ana", "exercise": "fsu4", "accuracy": 97.98, "at": 0}])
    (r,) = readiness(rows, 98)
    assert not r.ready and pct(r.best) == 97.9
    assert pct(98.0) == 98.0 and pct(100.0) == 100.0
