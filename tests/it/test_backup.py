"""Backup and restore of a whole workspace: real SQLite files, real crypto."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from app.core.errors import AuthError, IntegrityFailure, NotAllowed, SieeError, ValidationError
from app.store.backup import (
    MAGIC,
    MSG_NOT_BACKUP,
    MSG_TAMPERED,
    MSG_TRUNCATED,
    MSG_WRONG_SECRET,
    inspect_backup,
    restore_backup,
)
from app.store.db import DB_NAME
from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF


@pytest.fixture
def filled(ws_factory, data_dir: Path):
    """A workspace with demo households in several states and an installed form."""
    from app.demo_answers import load_demo

    ws = ws_factory(create=True)
    load_demo(ws, 3, seed=11)
    drafts = ws.list_records()
    ws.complete(drafts[0].uuid)
    ws.admin.add_user("ana", "empadronador", "clave-ana-123", must_change=False)
    forms = data_dir / "forms"
    forms.mkdir(exist_ok=True)  # opening the workspace keeps the shipped versions there
    (forms / "s100-2099.md").write_text("# a newer form version\n", "utf-8")
    with ws.db.conn:
        ws.db.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('sync_device', ?)",
            (json.dumps({"device_id": "dev-old", "server_url": "https://x"}),),
        )
    return ws


def _snapshot(ws: Workspace) -> dict[str, tuple]:
    return {
        m.uuid: (m.revision, m.form_id, m.form_version, m.state, ws.load_answers(m.uuid))
        for m in ws.list_records()
    }


def _open(d: Path) -> Workspace:
    ws = Workspace.open(d, kdf=FAST_KDF)
    ws.login("admin", ADMIN_PW)
    return ws


def test_restore_gives_the_same_records(filled: Workspace, tmp_path: Path) -> None:
    before = _snapshot(filled)
    assert len(before) == 6 and {v[3] for v in before.values()} == {"DRAFT", "COMPLETE"}
    seen = []
    info = filled.admin.backup_to(
        tmp_path / "respaldo.sieebak", progress=lambda d, t: seen.append(t)
    )
    assert info.records == 6 and info.admins == ["admin"] and seen
    assert inspect_backup(info.path).backup_id == info.backup_id
    with pytest.raises(ValidationError) as exists:
        filled.admin.backup_to(info.path)
    assert "Ya existe el archivo" in exists.value.user_message

    target = tmp_path / "nueva-laptop" / "datos"
    res = restore_backup(info.path, target, recovery_code=filled.recovery_code.lower())
    # every form file of the laptop: the centre's and the shipped versions it keeps
    kept = sorted(os.listdir(filled.data_dir / "forms"))
    assert "s100-2099.md" in kept and len(kept) > 1
    assert res.records == 6 and res.forms == len(kept) and res.enrollment_cleared
    assert sorted(os.listdir(target)) == ["forms", DB_NAME]
    assert sorted(os.listdir(target / "forms")) == kept
    assert (target / "forms" / "s100-2099.md").read_text("utf-8") == "# a newer form version\n"
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]

    ws2 = _open(target)
    try:
        assert _snapshot(ws2) == before
        assert ws2.admin.audit_verify().ok
        actions = [e.action for e in ws2.admin.audit_entries()]
        assert "restore" in actions and "backup" not in actions  # taken before the backup
        assert ws2.db.execute("SELECT value FROM meta WHERE key='sync_device'").fetchone() is None
        # Other users keep their passwords; the workspace keeps working.
        assert "ana" in ws2.usernames()
        uuid = ws2.new_record("s100", "1", {"x": 1})
        assert ws2.load_answers(uuid) == {"x": 1}
    finally:
        ws2.close()


def test_admin_password_opens_and_enrollment_can_be_kept(filled, tmp_path: Path) -> None:
    info = filled.admin.backup_to(tmp_path / "r.sieebak")
    target = tmp_path / "vacia"
    (target / "logs").mkdir(parents=True)  # a folder with only the program's logs is "empty"
    (target / "logs" / "siee-campo.log").write_text("opened once\n", "utf-8")
    res = restore_backup(
        info.path, target, username="Admin", password=ADMIN_PW, keep_enrollment=True
    )
    assert not res.enrollment_cleared
    assert (target / "logs" / "siee-campo.log").read_text("utf-8") == "opened once\n"
    ws2 = _open(target)
    try:
        row = ws2.db.execute("SELECT value FROM meta WHERE key='sync_device'").fetchone()
        assert json.loads(row[0])["device_id"] == "dev-old"
    finally:
        ws2.close()


def test_wrong_secrets_and_non_admins_cannot_open(filled, tmp_path: Path) -> None:
    info = filled.admin.backup_to(tmp_path / "r.sieebak")
    for kw in (
        {"recovery_code": "AAAAA-BBBBB-CCCCC-DDDDD"},
        {"username": "admin", "password": "otra-clave-999"},
        {"username": "ana", "password": "clave-ana-123"},  # not an administrator
        {},
    ):
        with pytest.raises(AuthError) as e:
            restore_backup(info.path, tmp_path / "t", **kw)
        assert e.value.user_message == MSG_WRONG_SECRET
        assert not (tmp_path / "t").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_only_admins_back_up(filled, data_dir: Path, tmp_path: Path) -> None:
    filled.logout()
    filled.login("ana", "clave-ana-123")
    with pytest.raises(NotAllowed):
        filled.admin.backup_to(tmp_path / "r.sieebak")
    assert not (tmp_path / "r.sieebak").exists()


def test_target_with_data_is_never_overwritten(filled, data_dir: Path, tmp_path: Path) -> None:
    info = filled.admin.backup_to(tmp_path / "r.sieebak")
    with pytest.raises(ValidationError, match="not empty") as e:
        restore_backup(info.path, data_dir, recovery_code=filled.recovery_code)
    assert "no está vacía" in e.value.user_message
    other = tmp_path / "otra"
    (other / "logs").mkdir(parents=True)
    (other / "notas.txt").write_text("x", "utf-8")
    with pytest.raises(ValidationError, match="not empty"):
        restore_backup(info.path, other, recovery_code=filled.recovery_code)
    assert sorted(p.name for p in other.iterdir()) == ["logs", "notas.txt"]


def _restore_fails(path: Path, tmp_path: Path, code: str) -> SieeError:
    target = tmp_path / "destino"
    with pytest.raises(SieeError) as e:
        restore_backup(path, target, recovery_code=code)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    return e.value


def _chunks(blob: bytes, start: int) -> list[bytes]:
    out, i = [], start
    while i < len(blob):
        _flag, n = struct.unpack(">BI", blob[i : i + 5])
        out.append(blob[i : i + 5 + n])
        i += 5 + n
    return out


def test_tampered_backups_are_refused(filled, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("app.store.backup.CHUNK_SIZE", 8192)  # many chunks
    info = filled.admin.backup_to(tmp_path / "r.sieebak")
    good = info.path.read_bytes()
    code = filled.recovery_code
    (n,) = struct.unpack(">I", good[8:12])
    body_start = 12 + n + 32
    bad = tmp_path / "bad.sieebak"

    # One bit flipped in the middle of the encrypted content.
    b = bytearray(good)
    b[body_start + 5000] ^= 0x01
    bad.write_bytes(bytes(b))
    e = _restore_fails(bad, tmp_path, code)
    assert isinstance(e, IntegrityFailure) and e.user_message == MSG_TAMPERED

    # The clear header edited (claims other counts), same length.
    head = good[12 : 12 + n].replace(b'"COMPLETE": 1', b'"COMPLETE": 7')
    assert head != good[12 : 12 + n]
    bad.write_bytes(good[:12] + head + good[12 + n :])
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_TAMPERED

    # Cut short (a copy that did not finish), at several places.
    for cut in (len(good) - 1, len(good) // 2, body_start + 3, 20):
        bad.write_bytes(good[:cut])
        assert _restore_fails(bad, tmp_path, code).user_message == MSG_TRUNCATED, cut

    # Something appended after the end.
    bad.write_bytes(good + b"\x00" * 10)
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_TAMPERED

    chunks = _chunks(good, body_start)
    assert len(chunks) > 3 and b"".join(chunks) == good[body_start:]
    head_part = good[:body_start]
    # The last chunk dropped: incomplete.
    bad.write_bytes(head_part + b"".join(chunks[:-1]))
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_TRUNCATED
    # ... and the previous chunk's flag forged as "last": refused too.
    forged = b"\x01" + chunks[-2][1:]
    bad.write_bytes(head_part + b"".join(chunks[:-2]) + forged)
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_TAMPERED
    # Two chunks swapped.
    swapped = [chunks[0], chunks[2], chunks[1], *chunks[3:]]
    bad.write_bytes(head_part + b"".join(swapped))
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_TAMPERED
    # The untouched file still restores.
    assert restore_backup(info.path, tmp_path / "ok", recovery_code=code).records == 6
    # Not a backup at all.
    bad.write_bytes(b"PK\x03\x04 this is a zip file")
    assert _restore_fails(bad, tmp_path, code).user_message == MSG_NOT_BACKUP


def test_no_personal_data_in_the_backup_file(filled, tmp_path: Path) -> None:
    answers = [filled.load_answers(m.uuid) for m in filled.list_records()]
    texts = json.dumps(answers, ensure_ascii=False)
    dnis = {w for w in texts.replace('"', " ").split() if w.isdigit() and len(w) == 8}
    assert dnis
    info = filled.admin.backup_to(tmp_path / "r.sieebak")
    blob = info.path.read_bytes()
    for dni in dnis:
        assert dni.encode() not in blob
    assert MAGIC == blob[:8]
    header = json.loads(blob[12 : 12 + struct.unpack(">I", blob[8:12])[0]])
    assert set(header) >= {"slots", "counts", "backup_id", "salt"}


def test_backup_while_another_process_writes(filled, data_dir: Path, tmp_path: Path) -> None:
    """The snapshot is consistent while the workspace is in use by another program.

    The writer reports each record it committed; each backup starts only once the
    writer committed more than the previous backup held, so every snapshot must hold
    more records than the one before, however fast or loaded the machine is."""
    import subprocess
    import sys
    import textwrap

    from tests.conftest import ROOT

    stop = tmp_path / "stop-writing"
    writer = textwrap.dedent(
        f"""
        import pathlib, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from app.store.crypto import KdfParams
        from app.workspace import Workspace
        ws = Workspace.open({str(data_dir)!r}, kdf=KdfParams(n=2**10, r=8, p=1))
        ws.login("admin", {ADMIN_PW!r})
        print("ready", flush=True)
        stop = pathlib.Path({str(stop)!r})
        give_up = time.monotonic() + 300  # the test went away: do not write forever
        n = 0
        while not stop.exists() and time.monotonic() < give_up:
            ws.new_record("demo", "1", {{"/demo/n": n, "/demo/pad": "x" * 3000}})
            n += 1
            print(n, flush=True)
        print("done", n, flush=True)
        """
    )
    base = sum(filled.counts_by_state().values())
    p = subprocess.Popen(
        # stderr not piped: its log lines would fill the pipe and block the writer
        [sys.executable, "-c", writer],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    written = 0

    def until_written(more_than: int) -> None:
        """Read the writer's reports until it committed more than `more_than` records."""
        nonlocal written
        assert p.stdout is not None
        while written <= more_than:
            line = p.stdout.readline()
            assert line.strip().isdigit(), f"writer stopped: {line!r}"
            written = int(line)

    counts = []
    try:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        until_written(0)
        for i in range(3):
            info = filled.admin.backup_to(tmp_path / f"r{i}.sieebak")  # the writer goes on
            res = restore_backup(info.path, tmp_path / f"t{i}",
                                 recovery_code=filled.recovery_code)
            counts.append(res.records)  # integrity_check, audit chain and counts checked inside
            until_written(res.records - base)
        stop.touch()
        out, _ = p.communicate(timeout=60)
    finally:
        stop.touch()
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0
    total = int(out.split()[-1])
    assert base < counts[0] < counts[1] < counts[2] <= base + total
