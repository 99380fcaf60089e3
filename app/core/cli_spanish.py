"""The command line in Spanish: one `ArgumentParser` subclass for every command of
`siee-campo` and `siee-server` (usage, options, help and errors).

argparse writes its own texts ("usage:", "options", "the following arguments are
required: ...") through gettext, and Python ships no Spanish catalog for them. The
table below is that catalog, written once; `SpanishArgumentParser` installs it in
the argparse module (its texts are looked up when they are used, so the parsers
built afterwards, subcommands included, speak Spanish) and ends every usage error
with the command that shows the help. Sub-commands are listed under «órdenes» at
every level (`siee-campo --help`, `siee-campo users --help`…).

No I/O besides argparse's own printing; no Qt."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

# argparse's messages (Python 3.11-3.13) -> Spanish (Peru). Formatting keys stay.
SPANISH: dict[str, str] = {
    "usage: ": "uso: ",
    # not «datos»: every command has a --data CARPETA option (the data folder)
    "positional arguments": "argumentos",
    "options": "opciones",
    "show this help message and exit": "mostrar esta ayuda y salir",
    "show program's version number and exit": "mostrar la versión del programa y salir",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s: %(message)s",
    "the following arguments are required: %s": "faltan estos datos obligatorios: %s",
    "one of the arguments %s is required": "hace falta uno de estos datos: %s",
    "unrecognized arguments: %s": "no se reconoce: %s",
    "not allowed with argument %s": "no se puede usar junto con %s",
    "ignored explicit argument %r": "no lleva valor (sobra %r)",
    "expected one argument": "falta su valor",
    "expected at most one argument": "admite como máximo un valor",
    "expected at least one argument": "necesita al menos un valor",
    "ambiguous option: %(option)s could match %(matches)s":
        "opción ambigua: %(option)s puede ser %(matches)s",
    "unexpected option string: %s": "opción inesperada: %s",
    "invalid %(type)s value: %(value)r": "valor no válido: %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "valor no válido: %(value)r (elija entre %(choices)s)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "orden desconocida: %(parser_name)r (elija entre %(choices)s)",
    "can't open '%(filename)s': %(error)s": "no se pudo abrir «%(filename)s»: %(error)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: error: %(message)s\n",
}
# The help's title of the sub-commands of any command.
SUBCOMMANDS_TITLE = "órdenes"
SPANISH_PLURAL: dict[str, tuple[str, str]] = {
    "expected %s argument": ("necesita %s valor", "necesita %s valores"),
}


def spanish(message: str) -> str:
    """argparse's text `message` in Spanish (unchanged when the table lacks it)."""
    return SPANISH.get(message, message)


def spanish_plural(singular: str, plural: str, n: int) -> str:
    """argparse's ngettext, in Spanish."""
    es = SPANISH_PLURAL.get(singular)
    if es is None:
        return singular if n == 1 else plural
    return es[0] if n == 1 else es[1]


def install() -> None:
    """Make argparse speak Spanish in this process (idempotent)."""
    argparse._ = spanish  # type: ignore[attr-defined]
    argparse.ngettext = spanish_plural  # type: ignore[attr-defined]


class SpanishArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are in Spanish; its subcommands
    (add_subparsers) are of the same class. A usage error prints the usage, the
    error and the command that shows the help, and exits with status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        install()
        super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        """argparse's add_subparsers, listed in the help under «órdenes» (the main help's
        title) and shown as ORDEN in the usage, unless the caller says otherwise."""
        kwargs.setdefault("title", SUBCOMMANDS_TITLE)
        kwargs.setdefault("metavar", "ORDEN")
        return super().add_subparsers(**kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n"
                     f"Para ver las opciones: {self.prog} --help\n")
