"""Start-up benchmarks: prints `name: value unit` lines (see DESIGN.md "Measuring").

startup.source_ms   `python -m app --data D` to the log-in window shown (offscreen),
                    median of the runs after one warm-up
startup.bundle_ms   the same with the packaged program (dist/siee-campo, built by
                    `make package`; built into a temporary folder when missing)
bundle.size_mb      size of the one-folder bundle (files, 10^6 bytes)

The program prints a marker line when its first window is shown and quits
(SIEE_STARTUP_PROBE=1, app/ui/shell/startup_probe.py). Goals: start <= 2000 ms,
bundle <= 150 MB.

    python bench/startup.py [--bundle DIR] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = "SIEE_STARTUP_READY"
EXE = "siee-campo.exe" if sys.platform.startswith("win") else "siee-campo"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SIEE_STARTUP_PROBE": "1",
        "SIEE_USER": "admin",
        "SIEE_PASSWORD": "bench-clave-123",
    }


def launch_ms(cmd: list[str]) -> float:
    """Wall time from process start to the marker line (the log-in window shown)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(  # program: python siee-campo (from source, or the bundle)
        cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith(MARKER):
            ms = (time.perf_counter() - t0) * 1000
            if "iniciar sesión" not in line:
                p.kill()
                raise RuntimeError(f"first window is not the log-in: {line.strip()}")
            p.wait(timeout=30)
            return ms
    p.wait(timeout=30)
    raise RuntimeError(f"no start-up marker (exit {p.returncode})")


def median_ms(cmd: list[str], runs: int) -> float:
    launch_ms(cmd)  # warm-up: file cache, Python bytecode
    return statistics.median(launch_ms(cmd) for _ in range(runs))


def build_bundle(into: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(into / "dist"),
            "--workpath",
            str(into / "build"),
            str(ROOT / "packaging" / "siee-campo.spec"),
        ],
        cwd=ROOT,
        check=True,
    )
    return into / "dist" / "siee-campo"


def size_mb(d: Path) -> float:
    return sum(f.stat().st_size for f in d.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", type=Path, default=ROOT / "dist" / "siee-campo")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="siee-startup-") as tmp:
        data = Path(tmp) / "datos"
        subprocess.run(
            [sys.executable, "-m", "app", "init", "--data", str(data), "--admin", "admin"],
            cwd=ROOT,
            env=_env(),
            check=True,
            capture_output=True,
        )
        src = median_ms([sys.executable, "-m", "app", "--data", str(data)], args.runs)
        print(f"startup.source_ms: {src:.0f} ms", flush=True)
        bundle = args.bundle
        if not (bundle / EXE).is_file():
            print(f"(no bundle in {bundle}: building one)", file=sys.stderr)
            bundle = build_bundle(Path(tmp) / "pyinstaller")
        exe = [str(bundle / EXE), "--data", str(data)]
        print(f"startup.bundle_ms: {median_ms(exe, args.runs):.0f} ms", flush=True)
        print(f"bundle.size_mb: {size_mb(bundle):.1f} MB")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the bench must say it could not measure
        print(f"startup bench failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
