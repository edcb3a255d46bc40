"""``python -m benchmarks``: run the scenarios, print each as it ends, write JSON.

Usage: ``python -m benchmarks [--quick] [--only NAME ...] [--json PATH] [--server-gc] [--list]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import _local, _memory, _network, bench_ratelimit
from ._network import FULL, QUICK, Sizes
from ._table import Scenario

Run = Callable[[Sizes], list[Scenario]]


def _one(make: Callable[[Sizes], Scenario]) -> Run:
    return lambda sizes: [make(sizes)]


#: name -> (what it measures, how to run it), in the order they run.
SCENARIOS: dict[str, tuple[str, Run]] = {
    "limiter": (
        "the limiter alone: sleeps per grant, pacing",
        lambda _: [bench_ratelimit.limiter()],
    ),
    "rate-bound": ("2,000 rows at 200/s against a 200/s limit", _one(_network.rate_bound)),
    "latency-64": (
        "no limit, 0.2-0.3 s calls, 64 in flight",
        _one(lambda s: _network.latency_bound(s, 64)),
    ),
    "latency-256": (
        "no limit, 0.2-0.3 s calls, 256 in flight",
        _one(lambda s: _network.latency_bound(s, 256)),
    ),
    "async": ("sync vs async mode, polled and with callbacks", _one(_network.async_modes)),
    "auto": ("rate='auto' against an unknown 50/s limit raised to 100/s", _one(_network.auto_rate)),
    "planning": ("dry runs at 1k/10k/100k rows", _one(_local.planning)),
    "ledger": ("re-runs from the ledger, every stage, at 1k/10k/100k", _local.ledger_and_stages),
    "memory": (
        "peak RSS of a run, a re-run and a dry run, one process each",
        lambda s: [_memory.memory(s.memory_rows, server_gc=s.server_gc)],
    ),
    "import": ("import octave_frames on top of pandas", _one(_local.import_time)),
}


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios; return 1 if any goal was missed, else 0."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under a minute")
    parser.add_argument(
        "--only", action="append", choices=list(SCENARIOS), metavar="NAME", help="repeatable"
    )
    parser.add_argument("--json", type=Path, default=Path(".octave/benchmarks.json"))
    parser.add_argument(
        "--server-gc", action="store_true", help="keep the simulator child's garbage collector on"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and stop")
    args = parser.parse_args(argv)
    if args.list:
        for name, (what, _) in SCENARIOS.items():
            print(f"{name:<12} {what}")
        return 0
    sizes = dataclasses.replace(QUICK if args.quick else FULL, server_gc=args.server_gc)
    print(
        f"octave_frames benchmarks ({'quick' if args.quick else 'full'}), Python "
        f"{platform.python_version()}, {os.cpu_count()} cores; CPU is this process's alone "
        "(the simulator runs in a child process); timings are noisy while others share the cores",
        flush=True,
    )
    results: list[Scenario] = []
    started = time.perf_counter()
    for name in args.only or list(SCENARIOS):
        began = time.perf_counter()
        scenarios = SCENARIOS[name][1](sizes)
        for scenario in scenarios:
            scenario.seconds = time.perf_counter() - began
            print(f"\n{scenario.render()}", flush=True)
        results.extend(scenarios)
    missed = [f"{s.name}: {g.what}" for s in results for g in s.goals if not g.met]
    total = time.perf_counter() - started
    print(f"\n{len(results)} scenarios in {total:.0f} s; goals missed: {len(missed)}")
    for item in missed:
        print(f"  {item}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "quick": args.quick,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "seconds": round(total, 1),
        "scenarios": [s.to_json() for s in results],
    }
    args.json.write_text(json.dumps(document, indent=2, default=str))
    print(f"results: {args.json}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
