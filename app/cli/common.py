"""What every command shares: password and user prompts, opening the workspace."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.core.errors import SieeError
from app.paths import default_data_dir
from app.workspace import Workspace


def say(msg: str) -> None:
    print(msg, file=sys.stderr)


def password(
    prompt: str = "Contraseña: ", env: str = "SIEE_PASSWORD", confirm: bool = False
) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    _need_terminal(f"la contraseña ({env})")
    pw = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repita la contraseña: ") != pw:
        raise SieeError("password confirmation mismatch", "Las contraseñas no coinciden.")
    return pw


def user() -> str:
    """The user name from SIEE_USER, else asked for (SieeError without a terminal)."""
    name = os.environ.get("SIEE_USER")
    if name:
        return name
    _need_terminal("el usuario (SIEE_USER)")
    return input("Usuario: ").strip()


def _need_terminal(what: str) -> None:
    """SieeError (Spanish) when there is no terminal to ask `what` on: the command runs
    from a script, a scheduled task or with its input redirected."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise SieeError(
            "no terminal to prompt on",
            f"No hay una consola donde preguntar {what}: la orden se ejecutó sin terminal "
            "(desde un script, una tarea programada o con la entrada redirigida) y no se "
            "hizo nada. Ejecútela en una consola, o pase el usuario y la contraseña en las "
            "variables SIEE_USER y SIEE_PASSWORD (SIEE_NEW_PASSWORD para una contraseña "
            "nueva).")


def command_for(args: argparse.Namespace, order: str) -> str:
    """`siee-campo ORDER` as IT must type it for the folder of `args.data`: with
    `--data FOLDER` (quoted when it has spaces) unless it is the default data folder.
    A next step named without it would act on the laptop's real data (issue 17: a test
    restore's «sync enroll» re-enrolled the real laptop)."""
    folder = Path(getattr(args, "data", None) or default_data_dir())
    try:
        same = folder.resolve() == default_data_dir().resolve()
    except OSError:
        same = False
    if same:
        return f"siee-campo {order}"
    text = str(folder.resolve())
    text = f'"{text}"' if any(c.isspace() for c in text) else text
    head, _, rest = order.partition(" ")
    sub, _, tail = rest.partition(" ")
    return " ".join(x for x in ("siee-campo", head, sub, "--data", text, tail) if x)


def open_workspace(args: argparse.Namespace, login: bool = True) -> Workspace:
    """The workspace of `--data`, IT's settings files applied, logged in (SIEE_USER /
    SIEE_PASSWORD or prompts) unless `login` is False. SieeError (Spanish) when the
    password is still one an administrator gave (it must be changed first)."""
    ws = Workspace.open(Path(args.data))
    ws.settings.apply_file()
    if login:
        name = user()
        ws.login(name, password())
        if ws.must_change_password:
            # The workspace refuses every operation anyway; say how to get out of it.
            ws.close()
            raise SieeError(
                "password change required",
                f"La contraseña de «{name}» es la que le dio el administrador: ingrese una "
                "vez al programa SIEE Campo con ella y elija una contraseña propia; luego "
                "repita la orden.",
            )
    return ws
