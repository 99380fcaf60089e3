"""Child process for the crash test: saves forever, printing each save that returned."""

import random
import sys
from pathlib import Path

from app.workspace import Workspace
from tests.conftest import ADMIN_PW, FAST_KDF
from tests.store.hooks import PlainHooks


def main() -> None:
    data_dir, seed = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    ws = Workspace.open(data_dir, kdf=FAST_KDF, hooks=PlainHooks())
    ws.login("admin", ADMIN_PW)
    uuids: list[str] = [m.uuid for m in ws.list_records()]
    i = seed * 1_000_000  # save numbers grow across trials
    while True:
        i += 1
        answers = {"head": f"H{i}", "i": i, "pad": "x" * rng.randint(200, 6000)}
        if not uuids or rng.random() < 0.3:
            u = ws.new_record("fsu", "1", answers)
            uuids.append(u)
        else:
            u = rng.choice(uuids)
            ws.save_answers(u, answers)
        print(f"{u} {i}", flush=True)


if __name__ == "__main__":
    main()
