"""Command line for IT and scripts: the same operations as the window, no Qt.

The password comes from SIEE_PASSWORD (the user from SIEE_USER) when set,
else it is asked for. Messages for people are Spanish; exit codes: 0 ok,
1 refused or failed, 2 bad usage."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from app import __version__
from app.core.errors import SieeError
from app.core.roles import Role
from app.core.states import STATE_LABELS, State
from app.paths import default_data_dir, setup_logging

Handler = Callable[[argparse.Namespace], int]


def _say(msg: str) -> None:
    print(msg, file=sys.stderr)


def _password(
    prompt: str = "Contraseña: ", env: str = "SIEE_PASSWORD", confirm: bool = False
) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    pw = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repita la contraseña: ") != pw:
        raise SieeError("password confirmation mismatch", "Las contraseñas no coinciden.")
    return pw


def _user() -> str:
    return os.environ.get("SIEE_USER") or input("Usuario: ").strip()


def _open(args: argparse.Namespace, login: bool = True):
    from app.workspace import Workspace

    ws = Workspace.open(Path(args.data))
    ws.apply_file_settings()
    if login:
        ws.login(_user(), _password())
    return ws


# -- commands ------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from app.workspace import Workspace

    password = _password("Contraseña del administrador: ", confirm=True)
    ws, code = Workspace.create(Path(args.data), args.admin, password, ule_ubigeo=args.ule)
    ws.apply_file_settings()
    ws.close()
    print("Datos creados en:", args.data)
    print()
    print("CÓDIGO DE RECUPERACIÓN (se muestra una sola vez; anótelo y guárdelo en lugar seguro):")
    print(f"    {code}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    if args.users_cmd == "reset-password":
        from app.workspace import Workspace

        ws = Workspace.open(Path(args.data))
        new = _password("Nueva contraseña: ", env="SIEE_NEW_PASSWORD", confirm=True)
        ws.reset_password_with_recovery(args.username, args.recovery_code, new)
        ws.close()
        print(f"Contraseña de «{args.username}» cambiada.")
        return 0
    ws = _open(args)
    try:
        if args.users_cmd == "add":
            pw = _password("Contraseña del nuevo usuario: ", env="SIEE_NEW_PASSWORD", confirm=True)
            ws.add_user(args.username, args.role, pw, args.name or "")
            print(f"Usuario «{args.username}» creado ({args.role}).")
        elif args.users_cmd == "list":
            for u in ws.list_users():
                state = "activo" if u.active else "desactivado"
                print(f"{u.username}\t{u.role.value}\t{state}\t{u.display_name}")
        elif args.users_cmd == "disable":
            ws.set_user_active(args.username, False)
            print(f"Usuario «{args.username}» desactivado.")
    finally:
        ws.close()
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    ws = _open(args)
    try:
        if args.records_cmd == "list":
            rows = ws.list_records(state=args.state)
            if args.json:
                out = [
                    {
                        "uuid": m.uuid,
                        "revision": m.revision,
                        "form_id": m.form_id,
                        "form_version": m.form_version,
                        "state": m.state,
                        "updated_at": m.updated_at,
                        "author": ws.username_of(m.author_id),
                        "summary": m.summary,
                        "damaged": m.damaged,
                    }
                    for m in rows
                ]
                print(json.dumps(out, ensure_ascii=False, indent=1))
            else:
                for m in rows:
                    head = m.summary.get("head_name", "") if not m.damaged else "(dañada)"
                    print(f"{m.uuid}\t{m.form_id}\t{STATE_LABELS[State(m.state)]}\t{head}")
                print(f"{len(rows)} ficha(s).", file=sys.stderr)
        elif args.records_cmd == "import":
            data = json.loads(Path(args.file).read_text("utf-8"))
            items = data if isinstance(data, list) else [data]
            version = args.version or _bundled_version(args.form)
            for answers in items:
                uuid = ws.new_record(args.form, version, answers)
                print(uuid)
    finally:
        ws.close()
    return 0


def _bundled_version(form_id: str) -> str:
    try:
        from app.forms import bundled_form

        return str(bundled_form(form_id).version)
    except Exception:
        return "1"


def cmd_audit(args: argparse.Namespace) -> int:
    ws = _open(args)
    try:
        report = ws.audit_verify()
    finally:
        ws.close()
    print(report.message)
    return 0 if report.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import load_demo

    ws = _open(args)
    try:
        n = load_demo(ws, args.households, seed=args.seed, progress=_progress_printer())
    finally:
        ws.close()
    print(f"Se crearon {n} fichas de demostración.")
    return 0


def _progress_printer() -> Callable[[int, int], None]:
    def show(i: int, total: int) -> None:
        if i == total or i % 50 == 0:
            print(f"  {i}/{total}", file=sys.stderr)

    return show


def cmd_selftest(args: argparse.Namespace) -> int:
    from app.selftest import run_selftest

    return run_selftest(gui=getattr(args, "gui", False))


def cmd_run(args: argparse.Namespace) -> int:
    from app.ui.main import run_gui

    data = Path(args.data)
    _apply_settings_file(data)
    if os.environ.get("SIEE_STARTUP_PROBE") == "1":
        from app.ui.startup_probe import install

        install()
    return run_gui(data, demo=args.demo)


def _apply_settings_file(data: Path) -> None:
    from app.workspace import Workspace

    if Workspace.is_initialized(data):
        ws = Workspace.open(data)
        try:
            ws.apply_file_settings()
        finally:
            ws.close()


def cmd_backup(args: argparse.Namespace) -> int:
    ws = _open(args)
    try:
        info = ws.backup_to(Path(args.to), progress=_progress_bytes())
    finally:
        ws.close()
    print(
        f"Copia de respaldo creada: {info.path} ({info.size / 1e6:.1f} MB, {info.records} fichas)."
    )
    print("Se abre con el código de recuperación o con la contraseña de un administrador.")
    return 0


def _progress_bytes() -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if done == total:
            print(f"  {total / 1e6:.1f} MB cifrados", file=sys.stderr)

    return show


def cmd_restore(args: argparse.Namespace) -> int:
    from app.backup import inspect_backup, restore_backup

    info = inspect_backup(Path(args.file))
    _say(
        f"Copia del {_when(info.created_at)} (programa {info.program_version}): "
        f"{info.records} fichas."
    )
    if args.recovery_code:
        kw = {"recovery_code": args.recovery_code}
    else:
        kw = {"username": _user(), "password": _password("Contraseña de administrador: ")}
    res = restore_backup(
        Path(args.file), Path(args.target), keep_enrollment=args.keep_enrollment, **kw
    )
    print(f"Restauradas {res.records} fichas y {res.forms} formulario(s) en {res.target}.")
    if res.enrollment_cleared:
        print(
            "Este equipo debe inscribirse de nuevo en el servidor (pida un código de inscripción); "
            "las fichas pendientes se enviarán después."
        )
    return 0


def _when(ts: float) -> str:
    import time

    return time.strftime("%d/%m/%Y %H:%M", time.localtime(ts))


def cmd_doctor(args: argparse.Namespace) -> int:
    from app.doctor import doctor_report, format_report, integrity_alarm

    report = doctor_report(Path(args.data))
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(format_report(report))
    db = report["database"]
    healthy = not db.get("exists") or (db.get("integrity_check") == "ok" and not db.get("error"))
    return 0 if healthy and not integrity_alarm(report) else 1


# -- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data",
        default=str(default_data_dir()),
        help="carpeta de datos (por defecto: %(default)s)",
    )
    p = argparse.ArgumentParser(prog="siee-campo", description="SIEE Campo — empadronamiento")
    p.add_argument("--version", action="version", version=f"siee-campo {__version__}")
    p.add_argument("--selftest", action="store_true", help="autoverificación y salir")
    p.add_argument(
        "--data",
        dest="gui_data",
        metavar="DATA",
        help="sin orden: abrir el programa con esos datos",
    )
    sub = p.add_subparsers(dest="cmd")

    s = sub.add_parser("init", parents=[common], help="crear los datos y el administrador")
    s.add_argument("--admin", required=True)
    s.add_argument("--ule", help="ubigeo INEI de la ULE")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("users", parents=[common], help="usuarios")
    us = s.add_subparsers(dest="users_cmd", required=True)
    a = us.add_parser("add", parents=[common])
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=[r.value for r in Role])
    a.add_argument("--name", help="nombre para mostrar")
    us.add_parser("list", parents=[common])
    d = us.add_parser("disable", parents=[common])
    d.add_argument("username")
    r = us.add_parser("reset-password", parents=[common])
    r.add_argument("username")
    r.add_argument("--recovery-code", required=True)
    s.set_defaults(func=cmd_users)

    s = sub.add_parser("records", parents=[common], help="fichas")
    rs = s.add_subparsers(dest="records_cmd", required=True)
    a = rs.add_parser("list", parents=[common])
    a.add_argument("--state", choices=[st.value for st in State])
    a.add_argument("--json", action="store_true")
    a = rs.add_parser("import", parents=[common])
    a.add_argument("--form", required=True)
    a.add_argument("--version")
    a.add_argument("file")
    s.set_defaults(func=cmd_records)

    s = sub.add_parser("audit", parents=[common], help="bitácora")
    au = s.add_subparsers(dest="audit_cmd", required=True)
    au.add_parser("verify", parents=[common])
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("demo-data", parents=[common], help="hogares de demostración")
    s.add_argument("--households", type=int, default=20)
    s.add_argument("--seed", type=int, default=None)
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("selftest", parents=[common], help="autoverificación")
    s.add_argument("--gui", action="store_true", help="incluir Qt (offscreen)")
    s.set_defaults(func=cmd_selftest)

    s = sub.add_parser("backup", parents=[common], help="copia de respaldo cifrada")
    s.add_argument("--to", required=True, help="archivo de la copia (p. ej. respaldo.sieebak)")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="restaurar una copia de respaldo en una carpeta vacía")
    s.add_argument("file")
    # dest "target": the main() sets up logging under args.data, which would make
    # the folder non-empty before the restore.
    s.add_argument(
        "--data",
        dest="target",
        default=str(default_data_dir()),
        help="carpeta de destino, nueva o vacía (por defecto: %(default)s)",
    )
    s.add_argument("--recovery-code", help="código de recuperación (si no, usuario administrador)")
    s.add_argument(
        "--keep-enrollment",
        action="store_true",
        help="conservar la inscripción en el servidor (solo al restaurar en el mismo equipo)",
    )
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("doctor", parents=[common], help="diagnóstico para soporte")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("run", parents=[common], help="abrir el programa")
    s.add_argument("--demo", action="store_true")
    s.set_defaults(func=cmd_run)

    try:
        from app.forms.cli import register as register_forms
    except ImportError:
        register_forms = None
    if register_forms is not None:
        register_forms(sub)
    from app.sync.cli import register as register_sync

    register_sync(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.selftest:
        from app.selftest import run_selftest

        return run_selftest(gui=True)
    if args.gui_data and getattr(args, "func", None):
        # `siee-campo --data DIR COMMAND`: the folder given before the command counts.
        for attr in ("data", "target"):
            if getattr(args, attr, None) == str(default_data_dir()):
                setattr(args, attr, args.gui_data)
    if not getattr(args, "func", None):
        if args.gui_data or (argv is None and len(sys.argv) <= 1 and getattr(sys, "frozen", False)):
            # The packaged program opens its window when started without a command.
            data = args.gui_data or str(default_data_dir())
            setup_logging(Path(data))
            return cmd_run(argparse.Namespace(data=data, demo=False))
        parser.print_help()
        return 2
    if hasattr(args, "data"):
        setup_logging(Path(args.data))
    try:
        return int(args.func(args) or 0)
    except SieeError as e:
        logging.getLogger("siee.cli").info("refused: %s", e)
        _say(f"Error: {e.user_message}")
        return 1
    except (KeyboardInterrupt, EOFError):
        _say("Cancelado.")
        return 1
    except (OSError, json.JSONDecodeError) as e:
        _say(f"Error: no se pudo leer o escribir un archivo ({type(e).__name__}).")
        return 1
