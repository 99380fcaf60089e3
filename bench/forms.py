"""Form engine benchmark: prints `name: value unit` lines; exits non-zero if it
cannot measure.

    forms.load_fsu_ms_cold     load the FSU through pyxform (no cache), median
    forms.load_fsu_ms_cached   load the FSU from the on-disk cache (memory cache cleared)
    forms.load_fsu_ms_cold_process / _cached_process
                               the same in a fresh process, imports included
    forms.full_eval_ms         open a 20-member FSU record (build + evaluate everything)
    forms.answer_p95_ms        set one answer, then read every node's state (20 members)
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def household(n: int) -> dict[str, str]:
    from app.core.identifiers import dni_check_chars

    ans = {
        "/fsu/ubicacion/departamento": "15", "/fsu/ubicacion/provincia": "1501",
        "/fsu/ubicacion/distrito": "150132", "/fsu/vivienda/tipo_vivienda": "1",
        "/fsu/vivienda/alumbrado": "1", "/fsu/vivienda/agua": "1",
        "/fsu/hogar/num_personas": str(n), "/fsu/hogar/equipamiento": "2 14",
    }
    for i in range(1, n + 1):
        p = f"/fsu/integrantes[{i}]/"
        digits = f"{40000000 + i * 7919:08d}"
        ans.update({
            p + "apellido_paterno": "Quispe", p + "apellido_materno": "Mamani",
            p + "nombres": f"Persona {i}", p + "fecha_nacimiento": f"{1950 + i * 3}-05-10",
            p + "tipo_doc": "1", p + "num_doc": f"{digits}-{dni_check_chars(digits)[0]}",
            p + "parentesco": "1" if i == 1 else "3", p + "sexo": "1" if i % 2 else "2",
            p + "seguro_salud": "4", p + "lengua_materna": "1", p + "discapacidad": "7",
            p + "programas": "99", p + "nivel_educativo": "3", p + "sabe_leer": "1",
        })
    return ans


_PROBE = """
import sys, time
t = time.perf_counter()
from app.forms import load_form
from app.forms.bundled import bundled_path
load_form(bundled_path("fsu"), cache_dir=sys.argv[1])
print((time.perf_counter() - t) * 1000)
"""


def fresh_process_ms(cache_dir: str) -> float:
    import subprocess

    out = subprocess.run([sys.executable, "-c", _PROBE, cache_dir], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    from app.forms import FormSession, loader
    from app.forms.bundled import bundled_path

    src = bundled_path("fsu")
    cold = []
    for _ in range(3):
        loader.clear_memory_cache()
        t = time.perf_counter()
        loader.load_form(src)
        cold.append((time.perf_counter() - t) * 1000)
    with tempfile.TemporaryDirectory() as cache:
        loader.clear_memory_cache()
        loader.load_form(src, cache_dir=cache)
        cached = []
        for _ in range(5):
            loader.clear_memory_cache()
            t = time.perf_counter()
            fd = loader.load_form(src, cache_dir=cache)
            cached.append((time.perf_counter() - t) * 1000)

    with tempfile.TemporaryDirectory() as cache:
        proc_cold = fresh_process_ms(cache)
        proc_cached = statistics.median(fresh_process_ms(cache) for _ in range(3))

    answers = household(20)
    full = []
    for _ in range(5):
        t = time.perf_counter()
        s = FormSession(fd, answers)
        full.append((time.perf_counter() - t) * 1000)
    if s.repeat_count("/fsu/integrantes") != 20:
        print("forms bench: household not built", file=sys.stderr)
        return 1

    rng = random.Random(7)
    fields = [
        ("parentesco", ["1", "2", "3", "5", "6"]),
        ("fecha_nacimiento", ["1960-01-01", "1990-07-15", "2015-03-03"]),
        ("sexo", ["1", "2"]),
        ("num_doc", ["41234567", "43876512", "12345678"]),
        ("nivel_educativo", ["1", "3", "4", "6"]),
        ("nombres", ["Ana", "Luis", "Rosa"]),
    ]
    times = []
    for _ in range(300):
        name, values = rng.choice(fields)
        path = f"/fsu/integrantes[{rng.randint(1, 20)}]/{name}"
        t = time.perf_counter()
        s.set(path, rng.choice(values))
        states = list(s.iter_nodes())
        times.append((time.perf_counter() - t) * 1000)
    if len(states) < 20 * 25:
        print("forms bench: too few nodes", file=sys.stderr)
        return 1
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"forms.load_fsu_ms_cold: {statistics.median(cold):.1f} ms")
    print(f"forms.load_fsu_ms_cached: {statistics.median(cached):.1f} ms")
    print(f"forms.load_fsu_ms_cold_process: {proc_cold:.1f} ms")
    print(f"forms.load_fsu_ms_cached_process: {proc_cached:.1f} ms")
    print(f"forms.full_eval_ms: {statistics.median(full):.1f} ms")
    print(f"forms.answer_p95_ms: {p95:.2f} ms")
    print(f"forms.answer_p50_ms: {times[len(times) // 2]:.2f} ms")
    print(f"forms.nodes_20_members: {len(states)} nodes")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"forms bench failed: {e!r}", file=sys.stderr)
        sys.exit(1)
