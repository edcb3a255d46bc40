"""Run every benchmark, one after another, with the sizes the project's targets name.

    python benchmarks/run_all.py            # ~4 minutes on 2 cores

Each benchmark prints its own ratios: against its bound (rows / rate, rows x latency /
concurrency, 1 s for 100k expansions, 1.5x plain to_excel) and against the naive way,
measured side by side in the same run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = [
    ["bench_run.py"],
    ["bench_run.py", "--rows", "2000", "--latency", "1.0", "--concurrency", "128"],
    ["bench_flatten.py"],
    ["bench_excel.py", "--rows", "10000"],
    ["bench_ratelimit.py"],
    ["bench_async.py"],
]


def main() -> int:
    """Run each benchmark script in its own process; return the worst exit code."""
    worst = 0
    for script, *args in RUNS:
        print(f"\n######## {script} {' '.join(args)}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / script), *args], check=False)
        worst = max(worst, result.returncode)
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
