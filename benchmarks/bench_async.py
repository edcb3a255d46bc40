"""Async mode against sync mode: wall time, bound and the status calls each job costs.

The simulator runs in a child process on loopback. Each job takes 0.3-0.6 s (Octave's
30-60 s scaled by 1/100), so ``poll`` is scaled the same way: 0.075 s stands for Octave's
advised 7.5 s. Measured in one run, on the same rows:

- sync: one open call per row, ``concurrency`` in flight; bound = rows x mean latency /
  concurrency (or rows / rate when that is larger);
- async, polled: every job submitted under the rate limit, then status checks;
  bound = rows / rate + the last job's run time;
- async with callbacks: the same, with a callback receiver on the same ledger.

    python benchmarks/bench_async.py [--rows 1000] [--rate 200] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
from bench_run import KEY, free_port, wait_until_up

import octave_frames as of
from octave_frames.simulator import serve

SERVER = """
import sys
from octave_frames.simulator import Simulator, run_server
port = int(sys.argv[1])
sim = Simulator(latency=(0.3, 0.6), job_duration=(0.3, 0.6), not_found_rate=0.0)
run_server(sim, port=port, log_level="warning")
"""


@contextmanager
def simulator() -> Iterator[str]:
    """Serve the simulator from a child process; yield its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        yield url
    finally:
        proc.terminate()
        proc.wait()


def counters(url: str) -> dict[str, Any]:
    """The served simulator's counters."""
    document: dict[str, Any] = httpx.get(f"{url}/_simulator/counters").json()
    return document


def frame(rows: int) -> pd.DataFrame:
    """Distinct contacts."""
    return pd.DataFrame(
        {
            "Email": [f"p{i}@c{i}.com" for i in range(rows)],
            "First Name": [f"P{i}" for i in range(rows)],
            "Company": [f"C{i}" for i in range(rows)],
        }
    )


def measure(name: str, url: str, rows: int, bound: float, **kwargs: Any) -> None:
    """Run once; print wall time, bound, ratio, CPU per row and status calls per job."""
    before = counters(url)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "ledger.sqlite"
        hooks = kwargs.pop("callbacks", False)
        start, cpu = time.perf_counter(), time.process_time()
        if hooks:
            receiver = of.callback_app(cache)
            with serve(receiver) as base:
                out = frame(rows).octave.sequence(
                    cache=cache, callback_url=of.callback_url(base, cache), **kwargs
                )
            receiver.close()
        else:
            out = frame(rows).octave.sequence(cache=cache, **kwargs)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = counters(url)
    ok = int((out["octave_status"] == "ok").sum())
    polls = after["polls"] - before["polls"]
    jobs = max(after["submissions"] - before["submissions"], 1)
    print(
        f"{name:<22} {wall:7.2f} s  bound {bound:6.2f} s  bound/wall {bound / wall:5.3f}  "
        f"cpu {1000 * cpu / rows:5.2f} ms/row  ok {ok}/{rows}  "
        f"status calls/job {polls / jobs:4.2f}",
        flush=True,
    )


def main() -> None:
    """Measure sync, async polled and async with callbacks on the same rows."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    rows, rate, concurrency = args.rows, args.rate, args.concurrency
    common: dict[str, Any] = {
        "agent": "ca_bench",
        "api_key": KEY,
        "rate": rate,
        "concurrency": concurrency,
        "progress": False,
    }
    with simulator() as url:
        common["base_url"] = url
        sync_bound = max(rows * 0.45 / concurrency, rows / rate)
        async_bound = (rows - 1) / rate + 0.6
        measure("sync", url, rows, sync_bound, **common)
        measure("async, polled", url, rows, async_bound, mode="async", poll=0.075, **common)
        measure(
            "async, callbacks",
            url,
            rows,
            async_bound,
            mode="async",
            poll=0.075,
            callbacks=True,
            **common,
        )


if __name__ == "__main__":
    main()
