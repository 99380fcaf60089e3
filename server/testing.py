"""Run a real server for tests and benchmarks.

    from server.testing import running_server

    with running_server() as srv:            # SQLite in a fresh temp data dir
        code = srv.admin.enroll_code("150101")
        requests.get(srv.url + "/v1/health")

`srv.admin` is a server.service.Service on the same database and data dir
(create enrollment codes, return records, post results, publish forms, revoke
devices...). The server runs as a separate `python -m server serve` process
on 127.0.0.1 and is stopped when the block ends. The database URL reaches that process
through its environment (SIEE_DB), never its command line."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.sync.protocol import ProtocolError
from server.db import drop_all
from server.service import Service
from server.settings import Settings
from server.startup import DB_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent
# The forms the tests' records use (form id and version): every running_server holds
# them, as a real centre holds every version the laptops send (issue 19 item 6: a
# record of a version the centre does not hold is held apart, not stored).
TEST_FORMS_DIR = REPO_ROOT / "tests" / "data" / "forms"


def test_forms() -> list[Path]:
    """The XLSForm files of TEST_FORMS_DIR (none when the tests are not there)."""
    if not TEST_FORMS_DIR.is_dir():
        return []
    return sorted(p for p in TEST_FORMS_DIR.iterdir() if p.suffix in (".md", ".xlsx"))


def publish_forms(service: Service, forms: Sequence[Path]) -> None:
    """Publish each form unless that version is published already (a reused data dir)."""
    for path in forms:
        try:
            service.publish_form(path)
        except ProtocolError as exc:
            if exc.code != "already_published":
                raise


class Admin:
    """Admin operations on a running server's storage (what the CLI does)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def enroll_code(self, ule: str = "150101", hours: int | None = None) -> str:
        return self.service.create_enroll_code(ule, hours)[0]

    def __getattr__(self, name: str) -> Any:  # return_record, post_result, publish_form, ...
        return getattr(self.service, name)


@dataclass
class RunningServer:
    url: str
    port: int
    data_dir: Path
    db_url: str
    admin: Admin
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def signing_public(self) -> str:
        return self.admin.service.keys.signing_public

    @property
    def encryption_public(self) -> str:
        return self.admin.service.keys.encryption_public

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port_file: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_file.exists():
            return int(port_file.read_text())
        if proc.poll() is not None:
            return 0
        time.sleep(0.05)
    return 0


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def another_process(srv: RunningServer, *extra_args: str,
                    startup_timeout: float = 30.0) -> Iterator[str]:
    """A second `python -m server serve` process on the same data dir (keys) and database
    as `srv`, on its own loopback port; yields its base URL. For tests of shared state
    across processes (as behind a reverse proxy with several upstreams)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env[DB_ENV] = srv.db_url  # never on the command line (a password shows in ps)
    port_file = srv.data_dir / f"server-{os.getpid()}-{time.monotonic_ns()}.port"
    log_path = srv.data_dir / "server-2.log"
    cmd = [sys.executable, "-m", "server", "serve", "--data", str(srv.data_dir),
           "--host", "127.0.0.1", "--port", "0",
           "--port-file", str(port_file), "--log-level", "warning", *extra_args]
    with open(log_path, "ab") as logf:
        proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), env=env, stdout=logf,
                                stderr=subprocess.STDOUT)
    try:
        port = _wait_port(port_file, proc, startup_timeout)
        url = f"http://127.0.0.1:{port}"
        if not port or not _wait_healthy(url, proc, startup_timeout):
            raise RuntimeError("second server did not start:\n"
                               + log_path.read_text(errors="replace"))
        yield url
    finally:
        _stop(proc)
        port_file.unlink(missing_ok=True)


@contextmanager
def running_server(
    db_url: str | None = None,
    data_dir: Path | str | None = None,
    *,
    reset_db: bool = False,
    max_batch_bytes: int | None = None,
    max_records: int | None = None,
    rate_per_minute: int | None = None,
    timestamp_window: int | None = None,
    log_level: str = "info",
    startup_timeout: float = 120.0,  # a loaded 2-core CI machine needs more than 30 s
    workers: int = 1,
    forms: Sequence[Path] | None = None,
    **more_limits: int | float,
) -> Iterator[RunningServer]:
    """Start `python -m server serve` on 127.0.0.1 with a fresh data dir (unless given).

    db_url: None = SQLite file in the data dir; a postgresql+psycopg:// URL works too
    (reset_db=True drops the server's tables first, for a clean test database).
    workers: processes of `serve --workers N`. forms: XLSForms published before the
    server starts (default: test_forms(), the versions the tests send; [] for none).
    more_limits: other Settings limits (enroll_per_address, max_inflight_ingest, ...)."""
    own_dir = data_dir is None
    ddir = Path(tempfile.mkdtemp(prefix="siee-server-")) if own_dir else Path(data_dir)
    ddir.mkdir(parents=True, exist_ok=True)
    # Tests enroll many laptops from 127.0.0.1: the enrollment limits are off unless a
    # test asks for them.
    more_limits.setdefault("enroll_per_address", 0)
    more_limits.setdefault("enroll_per_minute", 0)
    limits = {k: v for k, v in dict(max_batch_bytes=max_batch_bytes, max_records=max_records,
                                    rate_per_minute=rate_per_minute,
                                    timestamp_window=timestamp_window, **more_limits).items()
              if v is not None}
    settings = Settings(data_dir=ddir, db_url=db_url or "", **limits)
    if reset_db:
        drop_all(settings.db_url)
    service = Service(settings)  # creates keys and tables before the server starts
    publish_forms(service, test_forms() if forms is None else forms)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.setdefault("PYTHONUNBUFFERED", "1")
    # The database URL (a PostgreSQL password in it) goes to the server through its
    # environment, as systemd's EnvironmentFile does in production: never on the command
    # line, which every user of the machine reads in ps or /proc/PID/cmdline.
    env[DB_ENV] = settings.db_url
    log_path = ddir / "server.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        port_file = ddir / "server.port"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "server", "serve", "--data", str(ddir),
               "--host", "127.0.0.1", "--port", "0",
               "--port-file", str(port_file), "--log-level", log_level,
               "--workers", str(workers)]
        for k, v in limits.items():
            cmd += ["--" + k.replace("_", "-"), str(v)]
        with open(log_path, "ab") as logf:
            proc = subprocess.Popen(cmd, cwd=str(REPO_ROOT), env=env, stdout=logf,
                                    stderr=subprocess.STDOUT)
        port = _wait_port(port_file, proc, startup_timeout)
        url = f"http://127.0.0.1:{port}"
        if not port or not _wait_healthy(url, proc, startup_timeout):
            raise RuntimeError("server did not start:\n" + log_path.read_text(errors="replace"))
        assert proc is not None
        yield RunningServer(url, port, ddir, settings.db_url, Admin(service), proc, log_path)
    finally:
        if proc is not None:
            _stop(proc)
        service.close()
        if own_dir:
            shutil.rmtree(ddir, ignore_errors=True)
