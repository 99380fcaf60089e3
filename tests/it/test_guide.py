"""docs/guia-it.md cannot drift from the program (issue 17): every command of its
```console blocks runs (in this process, through the commands' own `main`), in order, against a
temporary laptop (its own default data
folder, IT's settings file taken from the guide's ```toml block) and the real
reference server on loopback; the lines under a command are fragments of what it
must print («…» separates fragments). `siee-server` commands get the server's
`--data`. The guide's example codes are replaced by the real ones as they appear
(recovery code from `init`, enrollment code from `enroll-code`, device id from
`sync enroll`). A `<!-- guía probada: laptop nueva -->` comment switches to a
second laptop (a fresh default data folder), for the replacement steps.

Other blocks: ```toml is IT's settings file and must read without a problem;
```console bundle lines must parse with the program's own parser (the bundle test
runs the install line); ```make targets must exist in the Makefile; ```powershell
(Windows build) must name files that exist. Every inline `siee-campo …` or
`siee-server …` must parse too. Any other block fails the test."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from app.cli.main import build_parser as campo_parser
from app.cli.main import main as campo_main
from app.workspace.settings import load_file_settings
from server.cli import build_parser as server_parser
from server.cli import main as server_main
from server.testing import running_server
from tests.conftest import ROOT

GUIDE = ROOT / "docs" / "guia-it.md"
PW = "clave-admin-123"
NEW_LAPTOP = "<!-- guía probada: laptop nueva -->"
# the guide's example values -> the kind of real value that replaces them
EXAMPLE_CODE = "K7QP-M2XD-9HTA"
EXAMPLE_RECOVERY = "XXXXX-XXXXX-XXXXX-XXXXX"
EXAMPLE_DEVICE = "dev-3f2a9c1d0e4b5a67"
EXAMPLE_URL = "https://siee.ejemplo.gob.pe"
EXAMPLE_USB = "/media/soporte/USB"
# the server key's fingerprint: learnt from the laptop's enrollment, so the guide's
# `siee-server keys` step checks that the centre shows the same value
EXAMPLE_FINGERPRINT = "522b3d6a9e74df42"
FORMATS = {
    EXAMPLE_CODE: r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}",
    EXAMPLE_RECOVERY: r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}",
    EXAMPLE_DEVICE: r"dev-[0-9a-f]{16}",
    EXAMPLE_FINGERPRINT: r"[0-9a-f]{16}",
}
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.M | re.S)


@dataclass
class Block:
    info: str
    body: str
    new_laptop: bool  # a NEW_LAPTOP comment came before it


@dataclass
class Step:
    command: str
    expected: list[str] = field(default_factory=list)
    new_laptop: bool = False


def blocks(text: str) -> list[Block]:
    out, pending = [], False
    pos = 0
    for m in FENCE.finditer(text):
        if NEW_LAPTOP in text[pos:m.start()]:
            pending = True
        out.append(Block(m.group(1).strip(), m.group(2), pending))
        pending = False
        pos = m.end()
    return out


def steps(block: Block) -> list[Step]:
    out: list[Step] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            out.append(Step(line[2:].strip(), new_laptop=block.new_laptop and not out))
        elif line.strip():
            assert out, f"output before any command in a console block: {line}"
            out[-1].expected.append(line.strip())
    return out


def test_every_block_of_the_guide_is_of_a_checked_kind():
    kinds = {b.info for b in blocks(GUIDE.read_text("utf-8"))}
    assert kinds <= {"console", "console bundle", "toml", "make", "powershell"}, kinds
    assert "console" in kinds and "toml" in kinds


def _parses(build, args: list[str]) -> str | None:
    """None when `args` parse (or ask for help); else what argparse said."""
    try:
        build().parse_args(args)
    except SystemExit as e:
        return None if e.code == 0 else f"exit {e.code}"
    return None


def test_inline_commands_and_other_blocks_match_the_program(capsys):
    text = GUIDE.read_text("utf-8")
    inline = re.findall(r"`((?:siee-campo|siee-server) [^`]+)`", text)
    assert len(inline) >= 5
    for snippet in inline:
        prog, *args = shlex.split(snippet)
        build = campo_parser if prog == "siee-campo" else server_parser
        assert _parses(build, args) is None, (snippet, capsys.readouterr().err)
    makefile = (ROOT / "Makefile").read_text("utf-8")
    for b in blocks(text):
        if b.info == "console bundle":
            for st in steps(b):
                words = shlex.split(st.command)
                words = words[1:] if words[0] == "sudo" else words
                assert words[0].endswith("siee-campo/siee-campo"), words
                assert _parses(campo_parser, words[1:]) is None, st.command
        elif b.info == "make":
            for line in b.body.split("\n"):
                if line.strip():
                    target = line.split()[1]
                    assert re.search(rf"^{target}:", makefile, re.M), target
        elif b.info == "powershell":
            for path in re.findall(r"packaging\\[\w.-]+", b.body):
                assert (ROOT / path.replace("\\", "/")).is_file(), path


def guide_install_line() -> list[str]:
    """The Linux install command of the guide (run by tests/packaging with the bundle)."""
    for b in blocks(GUIDE.read_text("utf-8")):
        if b.info == "console bundle":
            words = shlex.split(steps(b)[0].command)
            return words[1:] if words[0] == "sudo" else words
    raise AssertionError("the guide has no install command")


class Runner:
    """Runs the guide's commands: siee-campo and siee-server of this source tree, in
    this process (`main(argv)`, as the installed commands do), with the laptop's
    environment and working folder."""

    def __init__(self, base: Path, server, monkeypatch) -> None:
        self.base, self.server, self.mp = base, server, monkeypatch
        self.work = base / "consola"
        self.work.mkdir()
        self.usb = base / "usb"
        self.usb.mkdir()
        self.laptop = 1
        self.values = {EXAMPLE_URL: server.url, EXAMPLE_USB: str(self.usb)}
        self.conf = base / "xdg"
        for k in [k for k in os.environ if k.startswith("SIEE_")]:
            monkeypatch.delenv(k)
        for k, v in {"XDG_CONFIG_DIRS": str(self.conf), "SIEE_USER": "admin",
                     "SIEE_PASSWORD": PW, "SIEE_NEW_PASSWORD": "clave-nueva-123",
                     "QT_QPA_PLATFORM": "offscreen"}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.chdir(self.work)
        self._laptop_env()

    def _laptop_env(self) -> None:
        self.mp.setenv("XDG_DATA_HOME", str(self.base / f"laptop{self.laptop}"))

    def fill(self, text: str) -> str:
        for example, real in self.values.items():
            text = text.replace(example, real)
        return text

    def run(self, step: Step) -> str:
        if step.new_laptop:
            self.laptop += 1
            self._laptop_env()
        words = shlex.split(self.fill(step.command))
        prog, args = words[0], words[1:]
        assert prog in ("siee-campo", "siee-server"), step.command
        if prog == "siee-server":
            args += ["--data", str(self.server.data_dir)]
        out_buf, err_buf = io.StringIO(), io.StringIO()
        main = campo_main if prog == "siee-campo" else server_main
        with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
            try:
                code = main(args)
            except SystemExit as e:  # argparse
                code = e.code
        out = out_buf.getvalue() + err_buf.getvalue()
        assert code == 0 and "Traceback" not in out, (
            f"guide command failed ({code}): {step.command}\n{out}")
        self.learn(out)  # a value first shown here stands for the guide's example below
        for expected in step.expected:
            pos = 0
            for piece in (x.strip() for x in self.fill(expected).split("…")):
                found = out.find(piece, pos) if piece else pos
                assert found >= 0, f"{step.command}: «{piece}» not in\n{out}"
                pos = found + len(piece)
        return out

    def learn(self, out: str) -> None:
        """The real codes that replace the guide's examples from now on."""
        m = re.search(r"RECUPERACIÓN[^\n]*\n\s*(\S+)", out)
        if m:
            self.values[EXAMPLE_RECOVERY] = m.group(1)
        m = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})$", out, re.M)
        if m:
            self.values[EXAMPLE_CODE] = m.group(1)
        m = re.search(r"Equipo inscrito: (dev-[0-9a-f]+)", out)
        if m and EXAMPLE_DEVICE not in self.values:
            self.values[EXAMPLE_DEVICE] = m.group(1)  # the first laptop: revoked later
        m = re.search(r"^Huella de la clave del servidor: ([0-9a-f]{16})$", out, re.M)
        if m and EXAMPLE_FINGERPRINT not in self.values:
            self.values[EXAMPLE_FINGERPRINT] = m.group(1)  # as the laptop showed it


def test_the_guide_runs_as_written(tmp_path, monkeypatch):
    text = GUIDE.read_text("utf-8")
    all_blocks = blocks(text)
    with running_server(log_level="warning", rate_per_minute=0) as server:
        r = Runner(tmp_path, server, monkeypatch)
        # IT's settings file: the guide's example, as the machine-wide file
        toml = [b for b in all_blocks if b.info == "toml"]
        assert len(toml) == 1
        machine = r.conf / "siee-campo" / "siee-campo.toml"
        machine.parent.mkdir(parents=True)
        machine.write_text(r.fill(toml[0].body), "utf-8")
        (machine.parent / "ca-siee.pem").write_text("", "utf-8")
        fs = load_file_settings([("equipo", machine)])
        assert not fs.errors and fs.locked == {"server_url", "ca_bundle"}
        ran = []
        for b in all_blocks:
            if b.info != "console":
                continue
            for st in steps(b):
                r.run(st)
                ran.append(st.command)
        assert r.laptop == 2  # the replacement steps ran on a second laptop
        assert len(ran) >= 20, ran
        # what the guide promised happened: the first laptop is revoked on the centre
        devices = {d["device_id"]: d for d in server.admin.list_devices()}
        assert devices[r.values[EXAMPLE_DEVICE]]["status"] == "revoked"
        assert sum(d["status"] == "active" for d in devices.values()) == 1
        assert "Traceback" not in server.log_text()
    # the guide's examples look like what IT will see (formats, lower-case device ids)
    for example, fmt in FORMATS.items():
        assert re.fullmatch(fmt, example) and re.fullmatch(fmt, r.values[example]), example
