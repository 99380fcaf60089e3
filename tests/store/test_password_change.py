"""Accounts a ULE runs alone (issue 16 item 10), below the window: a password an
administrator gives must be changed before anything else, by the workspace itself."""

import pytest

from app.core.errors import AuthError, NotAllowed, PasswordChangeRequired, ValidationError
from app.store.db import MIGRATIONS, schema_version


def test_an_initial_password_allows_nothing_but_changing_it(ws_factory):
    ws = ws_factory(create=True)
    ws.admin.add_user("ana", "empadronador", "clave-inicial-1", "Ana Torres")
    assert next(u for u in ws.admin.list_users() if u.username == "ana").must_change_password
    ws.logout()
    user = ws.login("ana", "clave-inicial-1")  # the log-in itself works
    assert user.must_change_password and ws.must_change_password
    for op in (ws.list_records, ws.counts_by_state, lambda: ws.new_draft("s100"),
               ws.centre.status, ws.admin.list_users):
        with pytest.raises(PasswordChangeRequired) as e:
            op()
        assert "elija una contraseña propia" in e.value.user_message
    with pytest.raises(AuthError):  # the old one must be known
        ws.change_password("otra-cosa-1", "clave-propia-ana")
    with pytest.raises(ValidationError) as same:
        ws.change_password("clave-inicial-1", "clave-inicial-1")
    assert "distinta" in same.value.user_message
    ws.change_password("clave-inicial-1", "clave-propia-ana")
    assert not ws.must_change_password
    assert ws.list_records() == []
    ws.close()
    # the flag is stored: after a restart the chosen password is enough
    ws = ws_factory()
    assert not ws.login("ana", "clave-propia-ana").must_change_password
    ws.new_draft("s100")


def test_the_flag_survives_a_restart_and_an_admin_reset_sets_it_again(ws_factory):
    ws = ws_factory(create=True)
    assert schema_version(ws.db) == len(MIGRATIONS)
    ws.admin.add_user("ana", "empadronador", "clave-inicial-1")
    ws.close()
    ws = ws_factory()
    ws.login("ana", "clave-inicial-1")
    with pytest.raises(PasswordChangeRequired):
        ws.list_records()
    ws.change_password("clave-inicial-1", "clave-propia-ana")
    ws.logout()
    ws.login("admin", "clave-admin-123")
    with pytest.raises(NotAllowed):  # one's own password is changed, not reset
        ws.admin.reset_password("admin", "nueva-clave-admin")
    ws.admin.reset_password("ana", "clave-olvido-1")
    entry = ws.admin.audit_entries()[0]
    assert entry.action == "password_reset" and entry.detail["by"] == "admin"
    ws.logout()
    with pytest.raises(AuthError):
        ws.login("ana", "clave-propia-ana")
    ws.login("ana", "clave-olvido-1")
    with pytest.raises(PasswordChangeRequired):
        ws.list_records()
    ws.logout()
    # only an administrator resets
    ws.login("admin", "clave-admin-123")
    ws.admin.add_user("sup", "supervisor", "clave-sup-12", must_change=False)
    ws.logout()
    ws.login("sup", "clave-sup-12")
    with pytest.raises(NotAllowed):
        ws.admin.reset_password("ana", "clave-otra-99")


def test_the_recovery_code_sets_a_password_the_person_chose(ws_factory):
    ws = ws_factory(create=True)
    code = ws.recovery_code
    ws.logout()
    ws.reset_password_with_recovery("admin", code, "clave-recuperada-1")
    assert not ws.login("admin", "clave-recuperada-1").must_change_password
    assert ws.role_of("admin").value == "admin" and ws.role_of("nadie") is None
    assert ws.admin_usernames() == ["admin"]
