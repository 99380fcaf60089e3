"""`siee-campo selftest`: checks crypto, the store, the bundled data, the forms,
that the packaged program holds no development part (the reference server,
devtools/) and (optionally) Qt offscreen; prints a short report and returns 0 or 1.

Each check imports what it checks inside the check, on purpose: in a damaged
installation a missing part is reported as that check failing, instead of the
whole self-test failing to start (and Qt is loaded only for the GUI check)."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _crypto() -> str:
    from app.store import crypto

    key = crypto.random_key()
    blob = crypto.seal(key, b"prueba" * 100, b"aad", compress=True)
    assert crypto.unseal(key, blob, b"aad") == b"prueba" * 100
    return "AES-256-GCM y scrypt disponibles"


def _store() -> str:
    from app.store.crypto import KdfParams
    from app.workspace import EngineHooks, Workspace

    class _NoForms(EngineHooks):
        def facts(self, form_id, version, answers):  # type: ignore[override]
            return {}, []

    with tempfile.TemporaryDirectory(prefix="siee-selftest-") as d:
        kdf = KdfParams(n=2**12)
        ws, _ = Workspace.create(Path(d), "admin", "selftest-1234", kdf=kdf, hooks=_NoForms())
        u = ws.new_record("fsu", "1", {"prueba": 1})
        ws.close()
        ws = Workspace.open(Path(d), kdf=kdf, hooks=_NoForms())
        ws.login("admin", "selftest-1234")
        assert ws.load_answers(u) == {"prueba": 1}
        assert ws.admin.audit_verify().ok
        ws.close()
    return "SQLite cifrado: escribir, reabrir, leer y bitácora OK"


def _catalog() -> str:
    from app.core.ubigeo import catalog

    n = len(catalog())
    assert n > 1800, n
    return f"catálogo de ubigeos INEI: {n} distritos"


def _forms() -> str:
    from app.forms import bundled_form, list_bundled

    names = []
    for form_id, version, _title in list_bundled():
        bundled_form(form_id)
        names.append(f"{form_id} v{version}")
    assert names
    return "formularios: " + ", ".join(names)


def _settings() -> str:
    from app.workspace.settings import load_file_settings

    fs = load_file_settings()
    if fs.errors:
        raise ValueError(" ".join(fs.errors))
    if not fs.files:
        return "sin archivo de configuración de TI (valores del equipo)"
    return "archivo de TI: " + ", ".join(str(p) for p in fs.files)


# Top-level packages of the repository that must never ship in the program: the
# reference server and the development tools (local server, network simulator).
NOT_SHIPPED = ("server", "devtools")


def _no_dev_parts(frozen: bool | None = None) -> str:
    """In the packaged program (`frozen`, default: sys.frozen), NOT_SHIPPED must not
    be importable; AssertionError names the ones found. Run from source they are
    part of the repository, and the check says so."""
    if frozen is None:
        frozen = bool(getattr(sys, "frozen", False))
    if not frozen:
        return "programa sin empaquetar: el servidor se revisa solo en el paquete"
    found = [name for name in NOT_SHIPPED if importlib.util.find_spec(name) is not None]
    assert not found, "el paquete incluye " + ", ".join(found)
    return "el servidor de referencia y las herramientas de desarrollo no están incluidos"


def _qt() -> str:
    from app.ui.shell.selftest_qt import check_qt

    return check_qt()


def run_selftest(gui: bool = False) -> int:
    checks: list[tuple[str, Callable[[], str]]] = [
        ("cifrado", _crypto),
        ("almacén", _store),
        ("catálogo", _catalog),
        ("formularios", _forms),
        ("configuración", _settings),
        ("sin servidor", _no_dev_parts),
    ]
    if gui:
        checks.append(("interfaz", _qt))
    failed = 0
    for name, fn in checks:
        t0 = time.perf_counter()
        try:
            detail = fn()
            ok = True
        except Exception as e:  # the report must name the failure, not crash
            detail, ok = f"{type(e).__name__}: {e}", False
            failed += 1
        ms = (time.perf_counter() - t0) * 1000
        print(f"[{'OK' if ok else 'FALLA'}] {name}: {detail} ({ms:.0f} ms)")
    print("Autoverificación correcta." if not failed else f"{failed} verificación(es) fallaron.")
    return 0 if not failed else 1
