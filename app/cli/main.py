"""Command line for IT and scripts: the same operations as the window, no Qt.

The password comes from SIEE_PASSWORD (the user from SIEE_USER) when set,
else it is asked for. Messages for people are Spanish; exit codes: 0 ok,
1 refused or failed, 2 bad usage."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

from app import __version__
from app.cli.cases import register as register_cases
from app.cli.common import open_workspace, password, say, user
from app.cli.doctor import doctor_report, format_report, integrity_alarm
from app.cli.install import bundle_dir, install_linux
from app.cli.practice import register as register_practice
from app.cli.sync import register as register_sync
from app.core.cli_spanish import SpanishArgumentParser
from app.core.errors import SieeError, ValidationError
from app.core.roles import ROLE_LABELS, Role
from app.core.states import STATE_LABELS, State
from app.core.ubigeo import catalog
from app.demo_answers import load_demo
from app.forms import bundled_form
from app.forms.cli import register as register_forms
from app.paths import default_data_dir, setup_logging
from app.selftest import qt_probe, run_selftest
from app.store.backup import inspect_backup, restore_backup
from app.store.vault import check_password_policy, check_username
from app.sync.model import check_server_url
from app.workspace import Workspace

Handler = Callable[[argparse.Namespace], int]
# `run`: the one-time enrollment code, kept out of the command line (other users of
# the computer can read a process's arguments)
ENV_ENROLL_CODE = "SIEE_ENROLL_CODE"


# -- commands ------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    data = Path(args.data)
    if Workspace.is_initialized(data):
        raise ValidationError(
            "init: data folder already set up",
            f"La carpeta {data} ya tiene datos de SIEE Campo: no se cambió nada. Para "
            "usarlos, abra el programa con esa carpeta («siee-campo --data CARPETA»); para "
            "empezar de cero elija otra carpeta con --data, o para poner en ella una copia "
            "de respaldo use «siee-campo restore» con una carpeta nueva.")
    # Everything that can refuse comes before anything is written: a refused `init` (no
    # terminal to ask the password on, a wrong ubigeo, user name or password) leaves no
    # data folder behind, not even its log folder.
    if args.ule:
        catalog().validate(args.ule)
    check_username(args.admin)
    secret = password("Contraseña del administrador: ", confirm=True)
    check_password_policy(secret)
    setup_logging(data)
    ws, code = Workspace.create(data, args.admin, secret, ule_ubigeo=args.ule)
    ws.settings.apply_file()
    ws.close()
    print("Datos creados en:", args.data)
    print()
    print("CÓDIGO DE RECUPERACIÓN (se muestra una sola vez; anótelo y guárdelo en lugar seguro):")
    print(f"    {code}")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    if args.users_cmd == "reset-password":
        ws = Workspace.open(Path(args.data))
        new = password("Nueva contraseña: ", env="SIEE_NEW_PASSWORD", confirm=True)
        ws.reset_password_with_recovery(args.username, args.recovery_code, new)
        ws.close()
        print(f"Contraseña de «{args.username}» cambiada.")
        return 0
    ws = open_workspace(args)
    try:
        if args.users_cmd == "add":
            pw = password("Contraseña del nuevo usuario: ", env="SIEE_NEW_PASSWORD", confirm=True)
            ws.admin.add_user(args.username, args.role, pw, args.name or "")
            print(f"Usuario «{args.username}» creado ({role_label(args.role)}). Deberá "
                  "cambiar la contraseña la primera vez que ingrese.")
        elif args.users_cmd == "list":
            for u in ws.admin.list_users():
                state = "activo" if u.active else "desactivado"
                print(f"{u.username}\t{role_label(u.role)}\t{state}\t{u.display_name}")
        elif args.users_cmd == "disable":
            ws.admin.set_user_active(args.username, False)
            print(f"Usuario «{args.username}» desactivado (se reactiva con «siee-campo users "
                  f"enable {args.username}»).")
        elif args.users_cmd == "enable":
            ws.admin.set_user_active(args.username, True)
            print(f"Usuario «{args.username}» reactivado: puede ingresar con su contraseña.")
    finally:
        ws.close()
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
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
        return str(bundled_form(form_id).version)
    except Exception:
        return "1"


def cmd_audit(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        report = ws.admin.audit_verify()
    finally:
        ws.close()
    print(report.message)
    return 0 if report.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
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
    if getattr(args, "qt_probe", False):
        return qt_probe()
    return run_selftest(gui=getattr(args, "gui", False))


def cmd_run(args: argparse.Namespace) -> int:
    # Qt is imported here only, on purpose: every other command runs without it
    # (and starts faster); the window is the one command that needs it.
    from app.ui.shell.main import run_gui

    data = Path(args.data)
    try:
        _apply_settings_file(data)
    except sqlite3.DatabaseError as e:
        # the window says it (AppWindow.start checks the file read-only): a person
        # starting the program from its icon never sees this console
        logging.getLogger("siee.cli").error("settings not applied, database unreadable: %s", e)
    enrollment = _enrollment(args)
    if os.environ.get("SIEE_STARTUP_PROBE") == "1":
        from app.ui.shell.startup_probe import install  # Qt: deferred like run_gui above

        install()
    return run_gui(data, demo=args.demo, enrollment=enrollment, ule=getattr(args, "ule", None))


def _enrollment(args: argparse.Namespace) -> tuple[str, str] | None:
    """`run --server URL --enroll-code CODE`: (url, code) for the window, checked.
    SieeError (Spanish) when only one is given or the address is not allowed."""
    url = (getattr(args, "server", None) or "").strip()
    code = (getattr(args, "enroll_code", None) or "").strip()
    if not url and not code:
        return None
    if not url or not code:
        raise ValidationError(
            "run: --server and --enroll-code go together",
            "Para inscribir el equipo indique la dirección del servidor (--server) y el "
            f"código de inscripción (--enroll-code o la variable {ENV_ENROLL_CODE}).",
        )
    return check_server_url(url), code


def _apply_settings_file(data: Path) -> None:
    if Workspace.is_initialized(data):
        ws = Workspace.open(data)
        try:
            ws.settings.apply_file()
        finally:
            ws.close()


def cmd_backup(args: argparse.Namespace) -> int:
    ws = open_workspace(args)
    try:
        info = ws.admin.backup_to(Path(args.to), progress=_progress_bytes())
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
    info = inspect_backup(Path(args.file))
    say(
        f"Copia del {_when(info.created_at)} (programa {info.program_version}): "
        f"{info.records} fichas."
    )
    if args.recovery_code:
        kw = {"recovery_code": args.recovery_code}
    else:
        kw = {"username": user(), "password": password("Contraseña de administrador: ")}
    res = restore_backup(
        Path(args.file), Path(args.target), keep_enrollment=args.keep_enrollment, **kw
    )
    print(f"Restauradas {res.records} fichas y {res.forms} formulario(s) en {res.target}.")
    for line in restore_next_steps(Path(res.target), res.enrollment_cleared):
        print(line)
    return 0


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _shell_arg(path: Path) -> str:
    """A folder as IT types it in a command: quoted when it has spaces."""
    text = str(path)
    return f'"{text}"' if any(c.isspace() for c in text) else text


def restore_next_steps(target: Path, enrollment_cleared: bool) -> list[str]:
    """What to do after `restore` into `target` (Spanish lines). Into the default data
    folder: enroll this laptop. Into another folder (a test of the copy, or a shared
    data folder): every command it names carries `--data target` (without it, `sync
    enroll` re-enrolled the REAL laptop and revoked its id: issue 17, IT's day), and a
    test restore is told not to enroll at all (it would be one more device holding the
    real laptop's records)."""
    if _same_folder(target, default_data_dir()):
        if not enrollment_cleared:
            return []
        return ["Este equipo debe inscribirse de nuevo en el servidor: pida un código de "
                "inscripción a la sede central y use «siee-campo sync enroll --code CÓDIGO» "
                "(o el menú Sincronización); al inscribirse se envían las fichas pendientes."]
    where = _shell_arg(target)
    if enrollment_cleared:
        return [
            f"Esta carpeta no está inscrita en el servidor (la copia no conserva la "
            f"inscripción). Si solo probaba la copia, NO la inscriba: revísela con "
            f"«siee-campo records list --data {where}» o abriendo el programa con "
            f"«siee-campo --data {where}», y luego borre la carpeta.",
            f"Solo si este equipo va a trabajar con esta carpeta (por ejemplo, la carpeta de "
            f"datos común de la laptop), pida un código de inscripción a la sede central y "
            f"use «siee-campo sync enroll --data {where} --code CÓDIGO»; al inscribirse se "
            f"envían las fichas pendientes.",
        ]
    return []


def _when(ts: float) -> str:
    return time.strftime("%d/%m/%Y %H:%M", time.localtime(ts))


def cmd_install_linux(args: argparse.Namespace) -> int:
    done = install_linux(bundle_dir(), Path(args.prefix), args.gui_folder)
    print(f"Programa instalado en {done.program_dir}.")
    print(f"Orden: {done.command} (escriba «siee-campo» en una consola nueva).")
    print(f"Lanzador del menú: {done.desktop_file}"
          + (f" (abre la carpeta de datos {args.gui_folder}; en la consola use "
             f"«--data {args.gui_folder}» en cada orden)" if args.gui_folder else ""))
    if str(done.command.parent) not in os.environ.get("PATH", "").split(os.pathsep):
        say(f"Atención: {done.command.parent} no está en el PATH de esta consola; agréguelo "
            "o use --prefix /usr/local.")
    print("Compruebe la instalación con «siee-campo --selftest» desde el escritorio.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
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
    common = SpanishArgumentParser(add_help=False)
    common.add_argument(
        "--data",
        metavar="CARPETA",
        default=str(default_data_dir()),
        help="carpeta de datos (por defecto: %(default)s)",
    )
    p = SpanishArgumentParser(prog="siee-campo", description="SIEE Campo — empadronamiento")
    p.add_argument("--version", action="version", version=f"siee-campo {__version__}",
                   help="mostrar la versión del programa y salir")
    p.add_argument("--selftest", action="store_true", help="autoverificación y salir")
    p.add_argument(
        "--data",
        dest="gui_data",
        metavar="CARPETA",
        help="sin orden: abrir el programa con esos datos",
    )
    sub = p.add_subparsers(dest="cmd", title="órdenes", metavar="ORDEN")

    s = sub.add_parser("init", parents=[common], help="crear los datos y el administrador")
    s.add_argument("--admin", metavar="USUARIO", required=True,
                   help="usuario del administrador (pide su contraseña dos veces)")
    s.add_argument("--ule", metavar="UBIGEO", help="ubigeo INEI de la ULE")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("users", parents=[common], help="usuarios")
    us = s.add_subparsers(dest="users_cmd", required=True, metavar="ORDEN")
    a = us.add_parser("add", parents=[common], help="crear un usuario (pide su contraseña)")
    a.add_argument("username", metavar="USUARIO", help="nombre de usuario para ingresar")
    a.add_argument("--role", metavar="ROL", required=True, type=role_name,
                   help=f"uno de: {ROLE_CHOICES}")
    a.add_argument("--name", metavar="NOMBRE", help="nombre para mostrar")
    us.add_parser("list", parents=[common], help="listar los usuarios")
    d = us.add_parser("disable", parents=[common],
                      help="desactivar un usuario (no se borra; la bitácora lo conserva)")
    d.add_argument("username", metavar="USUARIO", help="el usuario a desactivar")
    en = us.add_parser("enable", parents=[common], help="reactivar un usuario desactivado")
    en.add_argument("username", metavar="USUARIO", help="el usuario a reactivar")
    r = us.add_parser("reset-password", parents=[common],
                      help="nueva contraseña con el código de recuperación")
    r.add_argument("username", metavar="USUARIO",
                   help="el usuario que olvidó su contraseña (pide la nueva dos veces)")
    r.add_argument("--recovery-code", metavar="CÓDIGO", required=True,
                   help="el código de recuperación que se anotó al crear los datos")
    s.set_defaults(func=cmd_users)

    s = sub.add_parser("records", parents=[common], help="fichas")
    rs = s.add_subparsers(dest="records_cmd", required=True, metavar="ORDEN")
    a = rs.add_parser("list", parents=[common],
                      help="listar las fichas (identificador, formulario, estado, jefe de hogar)")
    a.add_argument("--state", metavar="ESTADO", type=state_name,
                   help="solo las de este estado, con el nombre que usa el programa: "
                   + ", ".join(f"«{STATE_LABELS[st]}»" for st in State)
                   + " (sin importar mayúsculas ni tildes; entre comillas si lleva "
                   'espacios, p. ej. --state "En cola de envío")')
    a.add_argument("--json", action="store_true",
                   help="en JSON, con el resumen de cada ficha (para scripts)")
    a = rs.add_parser("import", parents=[common],
                      help="crear fichas en borrador desde un archivo JSON de respuestas")
    a.add_argument("--form", metavar="FORMULARIO", required=True,
                   help="formulario de las fichas (p. ej. s100 o fsu)")
    a.add_argument("--version", metavar="VERSIÓN",
                   help="versión del formulario (por defecto: la que trae el programa)")
    a.add_argument("file", metavar="ARCHIVO",
                   help="JSON: las respuestas de una ficha, o una lista de ellas")
    s.set_defaults(func=cmd_records)

    s = sub.add_parser("audit", parents=[common], help="bitácora")
    au = s.add_subparsers(dest="audit_cmd", required=True, metavar="ORDEN")
    au.add_parser("verify", parents=[common],
                  help="comprobar la cadena de la bitácora (pide usuario y contraseña)")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("demo-data", parents=[common], help="hogares de demostración")
    s.add_argument("--households", metavar="N", type=int, default=20,
                   help="cuántos hogares crear (por defecto: %(default)s)")
    s.add_argument("--seed", metavar="N", type=int, default=None,
                   help="semilla: el mismo número crea los mismos hogares")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("selftest", parents=[common], help="autoverificación")
    s.add_argument("--gui", action="store_true",
                   help="incluir la ventana, en la pantalla que usará el programa")
    s.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_selftest)

    s = sub.add_parser("backup", parents=[common], help="copia de respaldo cifrada")
    s.add_argument("--to", metavar="ARCHIVO", required=True,
                   help="archivo de la copia (p. ej. respaldo.sieebak)")
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("restore", help="restaurar una copia de respaldo en una carpeta vacía")
    s.add_argument("file", metavar="ARCHIVO", help="la copia (.sieebak)")
    # dest "target": the main() sets up logging under args.data, which would make
    # the folder non-empty before the restore.
    s.add_argument(
        "--data",
        dest="target",
        metavar="CARPETA",
        default=str(default_data_dir()),
        help="carpeta de destino, nueva o vacía (por defecto: %(default)s)",
    )
    s.add_argument("--recovery-code", metavar="CÓDIGO",
                   help="código de recuperación (si no, usuario administrador)")
    s.add_argument(
        "--keep-enrollment",
        action="store_true",
        help="conservar la inscripción en el servidor (solo al restaurar en el mismo equipo)",
    )
    s.set_defaults(func=cmd_restore)

    s = sub.add_parser("install-linux",
                       help="Linux: instalar el programa empaquetado (orden en el PATH y "
                       "lanzador del menú)")
    s.add_argument("--prefix", metavar="CARPETA", default="/usr/local",
                   help="dónde instalar (por defecto: %(default)s, para todas las cuentas: "
                   "use sudo; p. ej. ~/.local para solo su cuenta); CARPETA/bin debe estar "
                   "en el PATH")
    s.add_argument("--data", dest="gui_folder", metavar="CARPETA", default=None,
                   help="solo para el lanzador del menú: lo abre con esta carpeta de datos "
                   "(si varias cuentas usan la laptop); las órdenes de consola siguen "
                   "necesitando su propio --data")
    s.set_defaults(func=cmd_install_linux)

    s = sub.add_parser("doctor", parents=[common],
                       help="diagnóstico para soporte (sin contraseña; no cambia nada)")
    s.add_argument("--json", action="store_true", help="en JSON (para scripts)")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("run", parents=[common], help="abrir el programa")
    s.add_argument("--demo", action="store_true",
                   help="en una carpeta nueva, cargar hogares de demostración al terminar "
                   "el asistente")
    s.add_argument(
        "--server",
        metavar="URL",
        help="dirección del servidor del SIEE para inscribir este equipo (con --enroll-code): "
        "el asistente inicial la muestra, y el equipo se inscribe cuando ingresa un "
        "administrador, como si se hubiera escrito en el asistente",
    )
    s.add_argument(
        "--enroll-code",
        metavar="CÓDIGO",
        default=os.environ.get(ENV_ENROLL_CODE) or None,
        help=f"código de inscripción de un solo uso (o la variable {ENV_ENROLL_CODE})",
    )
    s.add_argument("--ule", metavar="UBIGEO", help="distrito que el asistente inicial propone")
    s.set_defaults(func=cmd_run)

    register_forms(sub)
    register_sync(sub)
    register_practice(sub)
    register_cases(sub)
    return p


def _plain(text: str) -> str:
    """Lower case, no accents, words separated by one space (hyphens and underscores
    count as spaces): how IT may type a state name."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("-", " ").replace("_", " ").lower().split())


def state_name(text: str) -> str:
    """`records list --state`: a state as the window names it («Borrador», «En cola de
    envío»…, any case, with or without accents, spaces or hyphens) -> its stored value.
    The stored English values (DRAFT…) are accepted too, for older scripts.
    argparse.ArgumentTypeError (Spanish) for anything else."""
    wanted = _plain(text)
    for st in State:
        if wanted in (_plain(STATE_LABELS[st]), _plain(st.value)):
            return st.value
    names = ", ".join(f"«{STATE_LABELS[st]}»" for st in State)
    raise argparse.ArgumentTypeError(f"estado desconocido «{text}»; use uno de: {names}")


# `users add --role`: the Spanish names IT types (the window's, in lower case), listed in
# the help and in the refusal of an unknown name.
ROLE_NAMES: dict[str, Role] = {
    "empadronador": Role.EMPADRONADOR,
    "digitador": Role.DIGITADOR,
    "supervisor": Role.SUPERVISOR,
    "administrador": Role.ADMIN,
}
# also accepted, not advertised: the window's full label and the stored id of older scripts
_ROLE_ALIASES: dict[str, Role] = {
    "responsable de ule": Role.SUPERVISOR,
    "admin": Role.ADMIN,
    **{_label: r for r, _label in ((r, ROLE_LABELS[r].lower()) for r in Role)},
}
ROLE_CHOICES = "«empadronador», «digitador», «supervisor» (responsable de ULE), «administrador»"


def role_name(text: str) -> str:
    """`users add --role`: a role as IT types it (the Spanish names of ROLE_NAMES, any
    case or accents) -> its stored value. argparse.ArgumentTypeError (Spanish, listing the
    accepted names) for anything else."""
    wanted = _plain(text)
    for names in (ROLE_NAMES, _ROLE_ALIASES):
        for name, role in names.items():
            if wanted == _plain(name):
                return role.value
    raise argparse.ArgumentTypeError(f"rol desconocido «{text}»; use uno de: {ROLE_CHOICES}")


def role_label(role: Role | str) -> str:
    """A role as the window names it («Empadronador», «Administrador»…)."""
    return ROLE_LABELS[Role(role)]


_OS_REASONS = {errno.ENOENT: "no existe (revise la ruta)", errno.EACCES: "no hay permiso",
               errno.EPERM: "no hay permiso", errno.EISDIR: "es una carpeta, no un archivo",
               errno.ENOSPC: "no queda espacio en el disco", errno.EROFS: "el disco es de solo "
               "lectura", errno.ENOTDIR: "una parte de la ruta no es una carpeta"}


def _os_error_text(e: OSError) -> str:
    """A Spanish line for a failed file operation: which file and why (the exception's
    English text goes to the log only)."""
    where = f"«{e.filename}»" if getattr(e, "filename", None) else "un archivo"
    why = _OS_REASONS.get(e.errno or 0, "el sistema no lo permitió")
    return f"Error: no se pudo leer o escribir {where}: {why}."


def _data_after_command(argv: list[str], cmd: str | None) -> str | None:
    """The last `--data X` / `--data=X` written after the command name in `argv`, or None
    (a folder given before the command is the top-level option, handled apart)."""
    if not cmd or cmd not in argv:
        return None
    value = None
    rest = argv[argv.index(cmd) + 1:]
    for i, a in enumerate(rest):
        if a == "--data" and i + 1 < len(rest):
            value = rest[i + 1]
        elif a.startswith("--data="):
            value = a.split("=", 1)[1]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.selftest:
        return run_selftest(gui=True)
    given = _data_after_command(sys.argv[1:] if argv is None else argv, getattr(args, "cmd", None))
    if given and getattr(args, "data", None) == str(default_data_dir()):
        # argparse lets a sub-order's default replace `users --data X list`'s folder
        args.data = given
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
    if hasattr(args, "data") and (Path(args.data).exists() or args.func is cmd_run):
        # Only `init` and the window make a data folder (`init` once it has all it needs:
        # cmd_init): a mistyped --data given to any other order (doctor included) must
        # not be created by its log.
        setup_logging(Path(args.data))
    try:
        return int(args.func(args) or 0)
    except SieeError as e:
        logging.getLogger("siee.cli").info("refused: %s", e)
        say(f"Error: {e.user_message}")
        return 1
    except KeyboardInterrupt:
        say("Cancelado (Ctrl+C): la orden se detuvo. Repítala cuando quiera.")
        return 1
    except EOFError:
        say("Cancelado: la entrada terminó antes de escribir el usuario o la contraseña. "
            "Escríbalos en la consola, o páselos en las variables SIEE_USER y SIEE_PASSWORD "
            "(SIEE_NEW_PASSWORD para una contraseña nueva).")
        return 1
    except sqlite3.DatabaseError as e:
        logging.getLogger("siee.cli").error("database unreadable: %s", e)
        folder = getattr(args, "data", "")
        say(f"Error: la base de datos de SIEE Campo en {folder} está dañada o no se puede "
            f"leer. No escriba nada en esa carpeta. Ejecute «siee-campo doctor --data "
            f"{folder}» y siga la guía de TI (base de datos dañada): restaure la última "
            "copia de respaldo en una carpeta nueva.")
        return 1
    except OSError as e:
        logging.getLogger("siee.cli").info("file operation failed: %s", e)
        say(_os_error_text(e))
        return 1
    except json.JSONDecodeError as e:
        logging.getLogger("siee.cli").info("unreadable JSON: %s", e)
        say(f"Error: el archivo no es un JSON válido (línea {e.lineno}, columna {e.colno}).")
        return 1
