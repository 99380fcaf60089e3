"""The sync client against the real reference server on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.sync import protocol as p
from app.sync.client import AdaptiveSizer, SizerConfig
from app.sync.lock import SyncLock
from app.sync.model import (
    DeviceRevoked,
    NotEnrolled,
    ReceiptOutcome,
    SyncBusy,
    SyncError,
    check_server_url,
    describe_outcome,
)
from app.sync.transport import Transport
from tests.conftest import ADMIN_PW
from tests.server.siee_client import Device
from tests.sync.conftest import ULE, add_queued, assert_exactly_once, fsu_version, states


def test_enroll_pins_keys_and_seals_the_device_key(ws, server):
    c = ws.centre.client()
    with pytest.raises(NotEnrolled):
        c.sync()
    info = c.enroll(server.url, server.admin.enroll_code(ULE), label="Laptop 1")
    assert info.server_signing_key == server.signing_public
    assert info.server_encryption_key == server.encryption_public
    assert ws.settings.values()["server_url"] == server.url
    # The private key is stored only sealed with the data key.
    raw = ws.db.execute("SELECT value FROM meta WHERE key='sync_device'").fetchone()[0]
    key = ws.centre.ports.device_key()
    assert p.b64e(p.private_bytes(key)) not in raw
    assert p.public_key_text(key) in {d["public_key"] for d in server.admin.list_devices()}
    # A used code does not enroll again; the message is Spanish.
    with pytest.raises(SyncError) as e:
        ws.centre.client().enroll(server.url, "AAAA-BBBB-CCCC")
    assert "código" in e.value.user_message


def test_sync_delivers_every_record_once(ws, enrolled, server):
    uuids = add_queued(ws, 120, seed=11)
    plain = sum(len(r.canonical()) for r in ws.centre.ports.take_outbox(1000))
    seen = []
    rep = enrolled.sync(progress=seen.append)
    assert rep.outcome.delivered == 120 and rep.batches >= 2  # starts small
    assert_exactly_once(server, ws, uuids)
    assert seen[-1].phase == "done"
    sends = [s for s in seen if s.phase == "send"]
    assert sends[-1].records_done == 120 and sends[-1].records_total == 120
    assert max(s.bytes_done for s in sends) == rep.bytes_sent
    st = ws.centre.status()
    assert (st.pending, st.delivered, st.in_flight) == (0, 120, 0)
    assert st.last_ok is not None
    assert ws.centre.log()[0].text == "Se enviaron 120 registros."
    # Nothing left: a second sync sends nothing and says so.
    rep2 = enrolled.sync()
    assert rep2.batches == 0
    assert "no había registros" in ws.centre.log()[0].text
    # Each delivery is in the record's history.
    assert any(e.action == "delivered" for e in ws.history(uuids[0]))
    # Compression: the wire carries far fewer bytes than the records' JSON.
    assert rep.bytes_sent < 0.35 * plain


def test_invalid_record_returns_to_author_with_reasons(ws, enrolled, server):
    def dup_dni(i, a):
        if i == 1:
            docs = [k for k in a if k.endswith("/num_doc")]
            a[docs[1]] = a[docs[0]]
        return a

    uuids = add_queued(ws, 3, seed=5, mutate=dup_dni)
    rep = enrolled.sync()
    assert rep.outcome.delivered == 2 and rep.outcome.returned == 1
    st = states(ws)
    assert st[uuids[1]] == "RETURNED" and st[uuids[0]] == "DELIVERED"
    ret = ws.notes(uuids[1])["returns"][-1]
    assert ret["source"] == "server" and ret["by"] == "SIEE central" and ret["revision"] == 1
    assert "repetido" in ret["reason"] and "/fsu/" not in ret["reason"]
    assert ret["questions"] and all(q.startswith("/fsu/integrantes") for q in ret["questions"])
    line = ws.centre.log()[0].text
    assert line.startswith("Se enviaron 3 registros; 1 fue observado: El DNI ")
    assert line.count("repetido") == 1 and line.endswith("distinto.")
    # The reason quotes a DNI: neither the log table nor the notes hold it in clear.
    dni = ret["reason"].split("El DNI ")[1][:8]
    db_bytes = Path(ws.data_dir / "siee-campo.db").read_bytes()
    assert dni.encode() not in db_bytes
    # Edited and sent again, it becomes a new revision that the server accepts.
    ws.reopen(uuids[1])
    assert ws.get(uuids[1]).revision == 2


def test_conflict_is_quarantined_never_deleted(ws, enrolled, server):
    uuids = add_queued(ws, 2, seed=8)
    other = Device.enroll(server.url, server.admin.enroll_code(ULE))
    # Another laptop already sent revision 1 of the same uuid with other answers.
    answers = ws.records.answers(ws.db.conn, ws.records.meta(ws.db.conn, uuids[0]))
    answers["/fsu/ubicacion/telefono"] = "999111222"
    rec = other.record(uuid=uuids[0], form_id="fsu", form_version=fsu_version(), answers=answers)
    assert other.send([rec]).results[0].status == "accepted"
    rep = enrolled.sync()
    assert rep.outcome.conflict == 1 and rep.outcome.delivered == 1
    m = ws.get(uuids[0])
    assert m.state == "QUEUED" and m.quarantined
    assert "otro contenido" in ws.notes(uuids[0])["quarantine"]
    assert ws.centre.status().quarantined == 1
    assert ws.centre.outbox_count() == 0  # not sent again and again
    assert "cuarentena" in ws.centre.log()[0].text
    # A supervisor return sends it back to its author; editing clears the quarantine.
    ws.admin.add_user("sup", "supervisor", "clave-sup-123", must_change=False)
    ws.logout()
    ws.login("sup", "clave-sup-123")
    ws.review.return_record(uuids[0], "Conflicto con otra versión")
    ws.logout()
    ws.login("admin", ADMIN_PW)
    m2 = ws.reopen(uuids[0])
    assert m2.revision == 2 and not ws.get(uuids[0]).quarantined


def test_inbox_returns_results_settings_and_forms(ws, enrolled, server, tmp_path):
    uuids = add_queued(ws, 3, seed=21)
    enrolled.sync()
    server.admin.return_record(uuids[0], None, ["Falta la firma del informante"])
    server.admin.post_result(uuids[1], None, "pobre", "2026-11-27", "2029-11-27")
    server.admin.set_settings({"review_required": False, "server_url": "http://evil"}, ULE)
    src = Path(__file__).resolve().parents[2] / "app/forms/bundled/s100.md"
    text = re.sub(r"(\| s100 \| s100 \| )\d{10}( \|)", r"\g<1>2099112799\g<2>",
                  src.read_text("utf-8"))
    newform = tmp_path / "s100-nueva.md"
    newform.write_text(text, "utf-8")
    server.admin.publish_form(newform)
    rep = enrolled.sync()
    assert rep.messages >= 4
    st = states(ws)
    assert st[uuids[0]] == "RETURNED" and st[uuids[1]] == "RESULT" and st[uuids[2]] == "DELIVERED"
    ret = ws.notes(uuids[0])["returns"][-1]
    assert ret["reason"] == "Falta la firma del informante." and ret["source"] == "server"
    assert ws.notes(uuids[1])["result"]["category"] == "pobre"
    assert ws.settings.values()["review_required"] is False
    assert ws.settings.values()["server_url"] == server.url  # the centre cannot move the laptop
    installed = ws.data_dir / "forms" / "s100-2099112799.md"
    assert installed.read_bytes() == newform.read_bytes()
    assert ws.hooks.formdef("s100", "2099112799").version == "2099112799"
    text_all = " ".join(rep.inbox_notes)
    assert "devolvió 1 ficha" in text_all and "resultado" in text_all and "formulario" in text_all
    # The cursor moved: the same messages are not applied twice.
    before = ws.centre.inbox_cursor()
    rep2 = enrolled.sync()
    assert rep2.messages == 0 and ws.centre.inbox_cursor() == before


def test_revoked_device_stops_and_says_so(ws, enrolled, server):
    add_queued(ws, 1, seed=31)
    enrolled.sync()
    server.admin.revoke_device(ws.centre.device().device_id, "Equipo robado")
    add_queued(ws, 1, seed=32)
    with pytest.raises(DeviceRevoked):
        enrolled.sync()
    assert ws.centre.status().revoked
    assert "robado" in ws.centre.log()[0].text
    with pytest.raises(SyncError) as e:
        enrolled.sync()
    assert "dio de baja" in e.value.user_message
    assert ws.centre.status().pending == 1  # kept


def test_reenroll_keeps_unsent_records(ws, enrolled, server):
    uuids = add_queued(ws, 30, seed=41)
    dev, key = ws.centre.device(), ws.centre.ports.device_key()
    # A batch stored and received by the server, but its answer was lost...
    env, data = enrolled._build(dev, key, 10, "http")
    t = Transport(server.url)
    t.identify(dev.device_id, key)
    t.put_batch(env.batch_id, data, 30)
    # ...and another stored but never sent.
    enrolled._build(dev, key, 10, "http")
    assert ws.centre.status().in_flight == 2
    # The laptop is re-enrolled (new identity; e.g. its data restored on a new laptop).
    c2 = ws.centre.client()
    c2.enroll(server.url, server.admin.enroll_code(ULE))
    assert ws.centre.device().device_id != dev.device_id
    rep = c2.sync()
    assert rep.outcome.delivered == 30 and rep.outcome.duplicate == 10
    assert_exactly_once(server, ws, uuids)
    assert ws.centre.status().in_flight == 0


def test_one_sync_at_a_time_across_processes(ws, enrolled, tmp_path):
    lock = SyncLock(ws.data_dir)
    lock.acquire()
    try:
        with pytest.raises(SyncBusy):
            enrolled.sync()
        with pytest.raises(SyncBusy):
            SyncLock(ws.data_dir).acquire()
    finally:
        lock.release()
    code = (
        f"import sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from app.sync.lock import SyncLock\n"
        f"SyncLock({str(ws.data_dir)!r}).acquire(); print('held', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"held"
        with pytest.raises(SyncBusy) as e:
            SyncLock(ws.data_dir).acquire()
        assert "otra ventana" in e.value.user_message
    finally:
        proc.kill()
        proc.wait()
    # The OS released the dead process's lock.
    with SyncLock(ws.data_dir):
        pass


def test_of_two_windows_taking_the_sync_lock_at_once_one_gets_it(tmp_path, monkeypatch):
    """Both starting at the same moment each hold the lock file briefly (creating it,
    setting its journal mode): without waiting a little (lock.GRACE_S), both gave up
    and neither synced — in about one try in thirty on a new folder."""
    import app.sync.lock as lock_module

    monkeypatch.setattr(lock_module, "GRACE_S", 0.1)  # the loser waits this per try
    for n in range(100):
        barrier = threading.Barrier(2)
        got: list[str] = []

        def take(lock: SyncLock, got: list[str] = got, barrier: threading.Barrier = barrier,
                 ) -> None:
            barrier.wait()
            try:
                lock.acquire()
                got.append("held")
            except SyncBusy:
                got.append("busy")

        folder = tmp_path / str(n)
        locks = [SyncLock(folder), SyncLock(folder)]
        threads = [threading.Thread(target=take, args=(lk,)) for lk in locks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        try:
            assert sorted(got) == ["busy", "held"]
        finally:
            for lk in locks:
                lk.release()


def test_urls_tls_and_proxy_rules(tmp_path):
    assert check_server_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert check_server_url("http://localhost:1") == "http://localhost:1"
    assert check_server_url("https://siee.example.pe") == "https://siee.example.pe"
    for bad in ("http://siee.example.pe", "ftp://x", "siee", "http://10.0.0.1:80"):
        with pytest.raises(SyncError):
            check_server_url(bad)
    t = Transport("https://siee.example.pe", ca_bundle=str(tmp_path / "ca.pem"))
    assert t.session.verify == str(tmp_path / "ca.pem") and t.session.trust_env
    t2 = Transport("https://siee.example.pe")
    assert t2.session.verify is True
    assert not Transport("http://127.0.0.1:9").session.trust_env


def test_clock_offset_heals_a_wrong_laptop_clock(ws, enrolled, server):
    dev, key = ws.centre.device(), ws.centre.ports.device_key()
    t = Transport(server.url)
    t.identify(dev.device_id, key)
    t.offset = -4000.0  # the laptop is more than an hour late
    page = t.inbox(0)
    assert "messages" in page and abs(t.offset) < 60


def test_unreachable_server_is_a_transient_error(ws, server):
    from app.sync.model import NetworkError
    from server.testing import free_port

    c = ws.centre.client(connect_timeout=2)
    c.enroll(server.url, server.admin.enroll_code(ULE))
    add_queued(ws, 2, seed=51)
    ws.centre.update_server_url(f"http://127.0.0.1:{free_port()}")
    assert not c.reachable()
    with pytest.raises(NetworkError) as e:
        c.sync()
    assert e.value.transient and "conexión" in e.value.user_message
    assert ws.centre.status().pending == 2 and ws.centre.status().last_error
    ws.centre.update_server_url(server.url)
    assert c.reachable()
    assert c.sync().outcome.delivered == 2


def test_sizer_grows_and_shrinks():
    s = AdaptiveSizer(1000, 8 << 20, SizerConfig(start_bytes=6000, est_record_bytes=600))
    assert s.next_count() == 10
    s.success(6000, 10, 0.1)
    assert s.next_count() == 20
    for _ in range(20):
        s.success(600 * s.next_count(), s.next_count(), 0.1)
    assert s.next_count() == 1000
    s.timeout()
    assert s.next_count() == 250
    s.success(600 * 250, 250, 30.0)  # slow: no growth
    assert s.next_count() == 250


def test_outcome_sentences():
    o = ReceiptOutcome("b", delivered=11, returned=1, reasons=["DNI repetido"])
    assert describe_outcome(o) == "Se enviaron 12 registros; 1 fue observado: DNI repetido."
    assert describe_outcome(ReceiptOutcome("b", delivered=1)) == "Se envió 1 registro."
    o3 = ReceiptOutcome("b", returned=1, reasons=["/a/b: Falta X.", "/a/c: Falta X.", "Otra"])
    assert describe_outcome(o3) == "Se envió 1 registro; 1 fue observado: Falta X; Otra."
    o2 = ReceiptOutcome("b", delivered=3, duplicate=2, conflict=1)
    assert "de ellos, 2 ya estaban en el servidor (no se duplicaron)" in describe_outcome(o2)
    assert "1 quedó en cuarentena" in describe_outcome(o2)
    # issue 17 item 10: duplicates are among the sent ones, never read as added to them
    assert describe_outcome(ReceiptOutcome("b", delivered=4, duplicate=4)) == (
        "Se enviaron 4 registros; todos ya estaban en el servidor (no se duplicaron).")
    assert describe_outcome(ReceiptOutcome("b", delivered=1, duplicate=1)) == (
        "Se envió 1 registro; ya estaba en el servidor (no se duplicó).")


def test_receipt_log_has_no_personal_data_in_clear(ws, enrolled):
    add_queued(ws, 2, seed=61)
    enrolled.sync()
    rows = ws.db.execute("SELECT text FROM sync_log").fetchall()
    assert rows and all(b"fichas" not in r[0] for r in rows)  # sealed
    assert json.loads(ws.db.execute("SELECT value FROM meta WHERE key='sync_device'")
                      .fetchone()[0])["device_id"]
    assert time.time() - ws.centre.status().last_ok < 600


def test_submission_computed_once_per_revision(ws, enrolled, server):
    uuids = add_queued(ws, 6, seed=71)
    assert ws.centre.prepare(4) == 4 and ws.centre.prepare(4) == 2 and ws.centre.prepare(4) == 0
    calls = []
    real = ws.hooks.submission
    ws.hooks.submission = lambda *a: calls.append(a) or real(*a)  # type: ignore[method-assign]
    recs = ws.centre.ports.take_outbox(10)
    assert not calls  # all prepared: the form engine is not run again
    assert {r.uuid for r in recs} == set(uuids)
    # What is sent is the form engine's submission (aside answers stay on the laptop).
    answers = ws.records.answers(ws.db.conn, ws.records.meta(ws.db.conn, uuids[0]))
    sent = next(r for r in recs if r.uuid == uuids[0]).answers
    assert sent == real("fsu", fsu_version(), answers)
    enrolled.sync()
    assert_exactly_once(server, ws, uuids)
    assert ws.db.execute("SELECT COUNT(*) FROM sync_submissions").fetchone()[0] == 0


def test_data_restored_on_a_new_laptop_sends_its_unsent_records(ws, enrolled, server,
                                                                tmp_path):
    from app.store.backup import restore_backup
    from app.workspace import Workspace
    from tests.conftest import FAST_KDF

    uuids = add_queued(ws, 25, seed=81)
    dev, key = ws.centre.device(), ws.centre.ports.device_key()
    env, data = enrolled._build(dev, key, 10, "http")  # reached the centre, answer lost
    t = Transport(server.url)
    t.identify(dev.device_id, key)
    t.put_batch(env.batch_id, data, 30)
    enrolled._build(dev, key, 5, "http")  # stored, never sent
    ws.admin.backup_to(tmp_path / "respaldo.sieebak")
    # The old laptop is stolen: the centre revokes it; the data comes back on a new one.
    server.admin.revoke_device(dev.device_id, "Robado")
    restore_backup(tmp_path / "respaldo.sieebak", tmp_path / "nueva", username="admin",
                   password=ADMIN_PW)
    new = Workspace.open(tmp_path / "nueva", kdf=FAST_KDF)
    try:
        new.login("admin", ADMIN_PW)
        c = new.centre.client()
        with pytest.raises(NotEnrolled):
            c.sync()
        c.enroll(server.url, server.admin.enroll_code(ULE))
        rep = c.sync()
        assert rep.outcome.delivered == 25 and rep.outcome.duplicate == 10
        assert_exactly_once(server, new, uuids)
    finally:
        new.close()
