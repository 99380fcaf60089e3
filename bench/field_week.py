"""A week in a ULE (sim/field_week.py): prints `name: value unit`.

fieldweek.households              households registered (40 a day for five days)
fieldweek.delivered_exactly_once  1 when the server holds every approved record revision
                                  exactly once (and nothing else) and every laptop marked
                                  each of them delivered
fieldweek.returns_reached_author  fraction of the centre's returns whose author read the
                                  centre's reason on the laptop that holds the record
fieldweek.results_shown           fraction of the centre's CSE results shown on the laptop
                                  that holds the record (state RESULT, same category)
fieldweek.latency_vs_ideal        mean time from approval to the centre holding the record,
                                  over the mean time from approval to the first chance to
                                  send it (the next link window; the next USB trip for the
                                  laptop without a link)
fieldweek.lost                    households whose latest revision is not at the server with
                                  the laptop's answers, or not on the laptop (must be 0)

Then some extra lines (fieldweek.x.*) and, with --table, the day-by-day table in Markdown.
Options: --seed, --small (the test's size), --chart FILE.png, --table, --verbose."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.field_week import Config, Result, run_field_week  # noqa: E402

UNITS = {
    "households": "households",
    "delivered_exactly_once": "bool",
    "returns_reached_author": "fraction",
    "results_shown": "fraction",
    "latency_vs_ideal": "ratio",
    "lost": "count",
}


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    return str(int(v)) if float(v).is_integer() else f"{v:.3f}"


def print_figures(res: Result) -> None:
    for k, v in res.figures.items():
        print(f"fieldweek.{k}: {_fmt(v)} {UNITS[k]}")
    for k, v in res.extra.items():
        print(f"fieldweek.x.{k}: {_fmt(v)}")
    print(f"fieldweek.x.simulated_days: {res.sim_days}")
    print(f"fieldweek.x.trace: {res.trace}")
    print(f"fieldweek.x.real_seconds: {res.seconds:.1f} s", file=sys.stderr)


def print_table(res: Result) -> None:
    cols = ("day", "date", "entered", "approved", "held_link", "held_usb", "returned",
            "returns_seen", "results", "results_seen", "waiting_end", "faults")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in res.days:
        print("| " + " | ".join(str(row[c]) for c in cols) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--small", action="store_true", help="the size run by the tests")
    ap.add_argument("--no-faults", action="store_true")
    ap.add_argument("--no-usb-inbox", action="store_true",
                    help="do not carry the inbox on the USB stick (what the program does today)")
    ap.add_argument("--chart", type=Path, default=None, help="write the PNG chart here")
    ap.add_argument("--table", action="store_true", help="print the day-by-day table")
    ap.add_argument("--verbose", action="store_true", help="print the events as they happen")
    args = ap.parse_args(argv)
    cfg = Config.small(args.seed) if args.small else Config(seed=args.seed)
    if args.no_faults:
        cfg = replace(cfg, faults=False)
    if args.no_usb_inbox:
        cfg = replace(cfg, usb_inbox=False)
    log = (lambda s: print(s, file=sys.stderr)) if args.verbose else None
    try:
        res = run_field_week(cfg, log=log)
    except Exception as e:  # noqa: BLE001 - a bench that could not measure exits non-zero
        print(f"fieldweek: could not measure: {type(e).__name__}: {e}", file=sys.stderr)
        raise
    print_figures(res)
    if args.table:
        print_table(res)
    if args.chart is not None:
        from sim.chart import draw_chart

        draw_chart(res, args.chart)
        print(f"chart: {args.chart}", file=sys.stderr)
    return 0 if res.figures["delivered_exactly_once"] == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
