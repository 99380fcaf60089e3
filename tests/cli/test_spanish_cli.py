"""Issue 17 item 9: every command of siee-campo and siee-server speaks Spanish —
usage, section titles, the help of each option, and usage errors (with the next
step) — through one parser class (app/core/cli_spanish.py)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from app.cli.main import build_parser as campo_parser
from app.core.cli_spanish import SpanishArgumentParser
from server.cli import build_parser as server_parser
from tests.conftest import ROOT

# argparse's own English, and words that give away an English help line.
ARGPARSE_ENGLISH = re.compile(
    r"usage:|options:|positional arguments|show this help|show program|required:|"
    r"invalid choice|unrecognized|expected one")
ENGLISH_WORDS = re.compile(
    r"\b(the|of|and|with|show|file|folder|default|records|run|list|create|send|"
    r"received|devices?|server|answers)\b")


def all_parsers(parser: argparse.ArgumentParser, path: str = ""):
    yield path or parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from all_parsers(sub, f"{path} {name}".strip())


@pytest.mark.parametrize("build", [campo_parser, server_parser], ids=["campo", "server"])
def test_every_help_is_spanish(build):
    parsers = list(all_parsers(build()))
    assert len(parsers) > 15
    for path, parser in parsers:
        assert isinstance(parser, SpanishArgumentParser), path
        text = parser.format_help()
        assert not ARGPARSE_ENGLISH.search(text), f"{path}:\n{text}"
        assert text.startswith("uso: "), path
        helps = [a.help for a in parser._actions if a.help and a.help != argparse.SUPPRESS]
        for sub in parser._actions:
            if isinstance(sub, argparse._SubParsersAction):
                helps += [a.help for a in sub._choices_actions if a.help]
        for h in helps:
            # commands quoted «like this» keep their names
            found = ENGLISH_WORDS.search(re.sub(r"«[^»]*»", "", h.replace("%(default)s", "")))
            assert found is None, f"{path}: English help «{h}»"


def run(prog: str, *args: str) -> subprocess.CompletedProcess[str]:
    module = "app" if prog == "siee-campo" else "server"
    return subprocess.run(  # program: python (siee-campo / siee-server from source)
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("prog,args,says", [
    ("siee-campo", ["sync", "enroll"], "faltan estos datos obligatorios: --code"),
    ("siee-campo", ["users", "add", "ana", "--role", "jefe"],
     "--role: rol desconocido «jefe»; use uno de: «empadronador», «digitador», «supervisor» "
     "(responsable de ULE), «administrador»"),
    ("siee-campo", ["records", "list", "--nada"], "no se reconoce: --nada"),
    ("siee-campo", ["demo-data", "--households", "x"], "valor no válido: 'x'"),
    ("siee-server", ["enroll-code"], "faltan estos datos obligatorios: --ule"),
    ("siee-server", ["devices", "revoke"], "faltan estos datos obligatorios: EQUIPO"),
])
def test_usage_errors_are_spanish_and_say_what_next(prog, args, says):
    p = run(prog, *args)
    assert p.returncode == 2
    assert p.stderr.startswith("uso: "), p.stderr
    assert says in p.stderr, p.stderr
    assert "Para ver las opciones: " in p.stderr and "--help" in p.stderr
    assert not ARGPARSE_ENGLISH.search(p.stderr), p.stderr


@pytest.mark.parametrize("build", [campo_parser, server_parser], ids=["campo", "server"])
def test_sub_commands_are_listed_under_the_same_title_everywhere(build):
    """IT's day (issue 17): `users --help` listed its sub-commands under «datos:» and the
    main help under «órdenes:»; and «datos:» beside «--data CARPETA» (the data folder)
    read as the data folder. Sub-commands are «órdenes» at every level, positional
    values «argumentos»."""
    with_subs = 0
    for path, parser in all_parsers(build()):
        text = parser.format_help()
        assert "\ndatos:\n" not in text, f"{path}:\n{text}"
        if any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            with_subs += 1
            assert "\nórdenes:\n" in text, f"{path}:\n{text}"
        elif any(not a.option_strings for a in parser._actions):
            assert "\nargumentos:\n" in text, f"{path}:\n{text}"
    assert with_subs >= 5


def test_users_and_restore_help_from_the_command_line():
    users = run("siee-campo", "users", "--help")
    assert users.returncode == 0 and "\nórdenes:\n" in users.stdout
    assert "reset-password" in users.stdout.split("\nórdenes:\n", 1)[1]
    restore = run("siee-campo", "restore", "--help")
    assert restore.returncode == 0
    assert "\nargumentos:\n  ARCHIVO" in restore.stdout and "\ndatos:" not in restore.stdout
