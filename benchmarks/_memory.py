"""Peak memory, one fresh child process per scenario (the peak RSS is per process).

Run as ``python -m benchmarks._memory MODE ROWS BASE_URL LEDGER``, it prints one JSON
line: the RSS after imports, the peak RSS and the result frame's own size (deep), in MB.
MODE is ``run`` (real HTTP against the simulator), ``rerun`` (the same rows again, every
answer from the ledger ``run`` left) or ``dry_run``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._sim import serve_child
from ._table import Goal, Scenario

__all__ = ["memory"]

MODES = ("run", "rerun", "dry_run")


def _status_mb(field: str) -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork
    # and exec, so a child would report this benchmark process's own peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _child(mode: str, rows: int, url: str, ledger: str) -> dict[str, float]:
    import octave_frames as of

    from ._network import RUN_ARGS, contacts

    frame = contacts(rows)
    base = _status_mb("VmRSS")
    kwargs: dict[str, Any] = {"base_url": url, "rate": 1e6, "concurrency": 64, **RUN_ARGS}
    if mode == "dry_run":
        out = of.sequence(frame, cache=False, dry_run=True, **kwargs)
    else:
        out = of.sequence(frame, cache=Path(ledger), **kwargs)
    peak = _status_mb("VmHWM")
    result = out.memory_usage(deep=True).sum() / 2**20
    ok = int((out["octave_status"] == "ok").sum())
    return {"base_mb": base, "peak_mb": peak, "result_mb": float(result), "ok": ok}


def memory(rows: int, *, server_gc: bool = False) -> Scenario:
    """Peak RSS of a run, a re-run from its ledger and a dry run, each in its own process."""
    scenario = Scenario(
        "memory", f"peak memory, {rows} rows, a fresh process each (RSS after imports -> peak)"
    )
    config: dict[str, Any] = {"latency": [0.005, 0.01], "not_found_rate": 0.0}
    with serve_child(**config, server_gc=server_gc) as server, tempfile.TemporaryDirectory() as tmp:
        ledger = str(Path(tmp) / "ledger.sqlite")
        for mode in MODES:
            args = [sys.executable, "-m", "benchmarks._memory", mode, str(rows), server.url, ledger]
            done = subprocess.run(args, capture_output=True, text=True, check=True)
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            scenario.figures[mode] = (
                f"{figures['base_mb']:.0f} MB -> peak {figures['peak_mb']:.0f} MB for a "
                f"{figures['result_mb']:.0f} MB result ({figures['ok']:.0f} rows ok)"
            )
            if mode == "run":
                allowed = 2 * figures["result_mb"] + 150
                what = "peak of the run (<= 2 x result + 150)"
                scenario.goals.append(Goal(what, figures["peak_mb"], allowed, unit="MB"))
    return scenario


if __name__ == "__main__":
    mode, rows, url, ledger = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    print(json.dumps(_child(mode, rows, url, ledger)))
