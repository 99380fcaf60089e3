import pytest

from app.core.errors import AccountLocked, AuthError, ValidationError
from app.store.crypto import KdfParams
from app.store.vault import BASE_LOCK_S
from tests.conftest import ADMIN_PW


def test_create_login_and_wrong_password(ws_factory):
    ws = ws_factory(create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.close()
    ws = ws_factory()
    assert ws.usernames() == ["admin", "ana"]
    with pytest.raises(AuthError) as e:
        ws.login("ana", "otra-clave")
    assert "incorrectos" in e.value.user_message and "4 intento" in e.value.user_message
    assert ws.login("ana", "clave-ana-1").role.value == "empadronador"


def test_unknown_user_gives_the_same_message(ws_factory):
    ws = ws_factory(create=True)
    with pytest.raises(AuthError) as e:
        ws.login("nadie", "x" * 10)
    assert "incorrectos" in e.value.user_message


def test_lockout_survives_restart_and_grows(ws_factory, clock):
    ws = ws_factory(create=True)
    ws.admin.add_user("ana", "empadronador", "clave-ana-1", must_change=False)
    ws.close()
    ws = ws_factory()
    for _ in range(4):
        with pytest.raises(AuthError):
            ws.login("ana", "mala-clave")
    with pytest.raises(AccountLocked) as e:
        ws.login("ana", "mala-clave")
    assert e.value.seconds_left == pytest.approx(BASE_LOCK_S)
    ws.close()
    # A restart does not lift the lock, not even with the right password.
    ws = ws_factory()
    with pytest.raises(AccountLocked) as e:
        ws.login("ana", "clave-ana-1")
    assert "Espere" in e.value.user_message
    clock.advance(BASE_LOCK_S + 1)
    for _ in range(4):
        with pytest.raises(AuthError):
            ws.login("ana", "mala-clave")
    with pytest.raises(AccountLocked) as e:
        ws.login("ana", "mala-clave")
    assert e.value.seconds_left == pytest.approx(2 * BASE_LOCK_S)  # growing delay
    clock.advance(2 * BASE_LOCK_S + 1)
    assert ws.login("ana", "clave-ana-1").username == "ana"
    # Failed attempts joined the audit chain at the next successful log-in.
    ws.logout()
    ws.login("admin", ADMIN_PW)
    fails = ws.admin.audit_entries(action="login_failed")
    assert len(fails) == 11 and ws.admin.audit_verify().ok


def test_recovery_code_resets_password_and_keeps_data(ws_factory, data_dir):
    ws = ws_factory(create=True)
    code = ws.recovery_code
    uid = ws.new_record("fsu", "1", {"head": "Quispe"})
    ws.close()
    ws = ws_factory()
    with pytest.raises(AuthError):
        ws.reset_password_with_recovery("admin", "AAAAA-BBBBB-CCCCC-DDDDD", "nueva-clave-1")
    ws.reset_password_with_recovery("admin", code.lower().replace("-", " "), "nueva-clave-1")
    with pytest.raises(AuthError):
        ws.login("admin", ADMIN_PW)
    ws.login("admin", "nueva-clave-1")
    assert ws.load_answers(uid) == {"head": "Quispe"}
    assert any(e.action == "password_reset" for e in ws.admin.audit_entries())


def test_password_change_and_policy(ws_factory):
    ws = ws_factory(create=True)
    with pytest.raises(ValidationError) as e:
        ws.change_password(ADMIN_PW, "corta")
    assert "8 caracteres" in e.value.user_message
    ws.change_password(ADMIN_PW, "otra-clave-larga")
    ws.logout()
    with pytest.raises(AuthError):
        ws.login("admin", ADMIN_PW)
    ws.login("admin", "otra-clave-larga")


def test_kdf_parameters_are_stored_per_slot(ws_factory):
    ws = ws_factory(create=True)
    rows = ws.db.execute("SELECT slot, kdf, length(salt) FROM key_slots").fetchall()
    assert {r[0] for r in rows} == {"user:1", "recovery"}
    assert all(KdfParams.from_json(r[1]).n == 2**10 and r[2] == 16 for r in rows)
    # Two slots wrap the same key under different salts: no equal blobs.
    blobs = [r[0] for r in ws.db.execute("SELECT wrapped FROM key_slots")]
    assert blobs[0] != blobs[1]


def test_production_kdf_cost(tmp_path):
    from app.workspace import Workspace

    ws, _ = Workspace.create(tmp_path / "d", "admin", ADMIN_PW)
    assert (
        KdfParams.from_json(ws.db.execute("SELECT kdf FROM key_slots LIMIT 1").fetchone()[0]).n
        >= 2**15
    )
    ws.close()
