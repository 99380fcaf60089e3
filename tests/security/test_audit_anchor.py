"""Issue 19 item 3 (laptop side): the audit chain's end is sealed, so deleting its
last entries (or all of them) outside the program is reported by `audit verify`,
in the CLI and the window's check, and by `doctor`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.cli.doctor import doctor_report, format_report, integrity_alarm
from tests.conftest import ADMIN_PW, ROOT
from tests.security.conftest import drop_guards, raw
from tests.store.hooks import PlainHooks


def _workspace_with_history(ws_factory, n: int = 6):
    ws = ws_factory(hooks=PlainHooks(), create=True)
    for i in range(n):
        ws.new_record("fsu", "1", {"head": str(i)})
    rep = ws.admin.audit_verify()
    assert rep.ok
    ws.close()
    return rep


@pytest.mark.parametrize("cut", [1, 3])
def test_cut_off_end_is_reported(ws_factory, data_dir, cut):
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    last = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    drop_guards(con)
    con.execute("DELETE FROM audit WHERE seq > ?", (last - cut,))
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.problem == "truncated"
    # The log-in appended entries after the cut: the loss stays visible (a gap entry).
    assert rep.missing_tail == cut
    assert f"¡Faltan {cut} registro(s)" in rep.message
    ws.logout()
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.missing_tail == cut, "a later log-in must not hide the cut"
    ws.close()
    text = format_report(doctor_report(data_dir))
    assert "¡bitácora o contadores de acceso alterados! (truncated)" in text


def test_cut_off_end_found_even_without_a_new_log_in(ws_factory, data_dir):
    """doctor (no log-in) compares the clear sequence of the head with the chain."""
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    drop_guards(con)
    last = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    con.execute("DELETE FROM audit WHERE seq > ?", (last - 2,))
    con.close()
    report = doctor_report(data_dir)
    text = format_report(report)
    assert f"¡la bitácora termina en el N° {last - 2} pero su sello dice N° {last}!" in text
    assert integrity_alarm(report)  # `siee-campo doctor` exits 1


def test_everything_deleted_is_reported(ws_factory, data_dir):
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    drop_guards(con)
    last = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    con.execute("DELETE FROM audit")
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    rep = ws.admin.audit_verify()
    assert not rep.ok and rep.problem == "truncated"
    assert rep.missing_tail == last


def test_everything_and_the_seal_deleted_is_reported(ws_factory, data_dir):
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    drop_guards(con)
    con.execute("DELETE FROM audit")
    con.execute("DELETE FROM meta WHERE key='audit_head'")
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)  # appends a "login" entry: the chain is no longer empty
    rep = ws.admin.audit_verify()
    assert not rep.ok


@pytest.mark.parametrize("how", ["forged", "removed"])
def test_seal_removed_or_forged_is_reported(ws_factory, data_dir, how):
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    if how == "forged":
        con.execute("UPDATE meta SET value='{\"seq\": 3, \"sealed\": \"AAAA\"}' "
                    "WHERE key='audit_head'")
    else:
        con.execute("DELETE FROM meta WHERE key='audit_head'")
    con.close()
    ws = ws_factory(hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    for _ in range(2):  # and it stays reported after further entries
        rep = ws.admin.audit_verify()
        assert not rep.ok
        assert rep.problem == ("head_damaged" if how == "forged" else "head_missing")
        assert "sello del final de la bitácora" in rep.message
        ws.new_record("fsu", "1", {"head": "x"})


def test_cli_reports_cut_off_end(ws_factory, data_dir):
    _workspace_with_history(ws_factory)
    con = raw(data_dir)
    drop_guards(con)
    last = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
    con.execute("DELETE FROM audit WHERE seq > ?", (last - 2,))
    con.close()
    p = subprocess.run(
        [sys.executable, "-m", "app", "audit", "verify", "--data", str(data_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SIEE_USER": "admin",
             "SIEE_PASSWORD": ADMIN_PW},
    )
    assert p.returncode == 1, p.stdout + p.stderr
    assert "¡Faltan 2 registro(s)" in p.stdout
