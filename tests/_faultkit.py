"""Shared pieces of the fault, resume and interrupt tests, and a subprocess entry point.

Run as a script, it enriches a generated contact frame against a simulator that the
*test* process serves (so the simulator's counters outlive this process)::

    python tests/_faultkit.py BASE_URL LEDGER_PATH ROWS CONCURRENCY [MODE]

MODE is ``in-loop``, ``submit`` or ``sequence-async``.

``in-loop`` makes the synchronous call from inside a running event loop, the way a
Jupyter cell does (the run then goes through a blocking portal on a worker thread);
``submit`` submits async jobs and returns; ``sequence-async`` runs in async mode.
It prints ``STARTED``, then ``DONE <status counts as JSON>`` on success.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pandas as pd

__all__ = ["CONTEXT", "HERE", "ScaledClock", "contacts", "run_worker"]

HERE = Path(__file__).resolve().parent
#: Every row's context names its own row, so a mixed-up answer is caught.
CONTEXT = {"all": "NOTES: {Notes}"}


class ScaledClock:
    """Real time running ``factor`` times faster: a 1 s backoff or Retry-After lasts 1/factor s.

    Unlike a FakeClock it needs no autojump task, so it also works in a plain
    synchronous ``sequence`` call, over loopback HTTP and inside a subprocess.
    """

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def now(self) -> float:
        """Return scaled monotonic seconds."""
        return time.monotonic() * self.factor

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of scaled time."""
        await anyio.sleep(max(seconds, 0.0) / self.factor)

    def __repr__(self) -> str:
        return f"ScaledClock({self.factor!r})"


def quiet_run(frame: pd.DataFrame, client: Any, *, agent: str, **kwargs: Any) -> pd.DataFrame:
    """Run ``sequence`` with quiet, fast defaults that each test may override."""
    import octave_frames as of

    options: dict[str, Any] = {
        "agent": agent,
        "rate": 10_000,
        "concurrency": 4,
        "cache": False,
        "progress": False,
        "context": CONTEXT,
    }
    options.update(kwargs)
    return of.sequence(frame, client=client, **options)


def contacts(n: int, *, unmatched_every: int = 0, start: int = 0) -> pd.DataFrame:
    """Return ``n`` distinct contacts; every ``unmatched_every``-th uses a ``.invalid`` domain.

    The simulator answers ``found: false`` for ``.invalid`` domains, so which rows end
    ``not_found`` is known in advance.
    """
    ids = range(start, start + n)
    return pd.DataFrame(
        {
            "First Name": [f"First{i}" for i in ids],
            "Company": [f"Company {i}" for i in ids],
            "Email": [
                f"person{i}@gone.invalid"
                if unmatched_every and i % unmatched_every == 0
                else f"person{i}@acme.com"
                for i in ids
            ],
            "Notes": [f"row-{i}-notes" for i in ids],
        },
        index=pd.Index([f"c{i}" for i in ids], name="contact"),
    )


def run_worker(argv: list[str]) -> int:
    """Run one enrichment over loopback; the subprocess side of the kill/interrupt tests."""
    import octave_frames as of

    url, ledger, rows, concurrency = argv[0], argv[1], int(argv[2]), int(argv[3])
    timeout = float(os.environ.get("FAULTKIT_TIMEOUT", "5"))
    client = of.Client("sim-key", base_url=url, timeout=timeout, clock=ScaledClock(100.0))
    kwargs: dict[str, Any] = {
        "agent": "ca_worker",
        "client": client,
        "context": CONTEXT,
        "rate": 10_000,
        "concurrency": concurrency,
        "cache": ledger,
        "progress": False,
    }
    print("STARTED", flush=True)
    if argv[4:] == ["submit"]:
        out = of.submit(contacts(rows), **kwargs)
    elif argv[4:] == ["sequence-async"]:
        # poll is in the scaled clock's seconds: 5 s here is 0.05 s of real time.
        out = of.sequence(contacts(rows), mode="async", poll=5.0, **kwargs)
    elif argv[4:] == ["in-loop"]:

        async def cell() -> pd.DataFrame:
            return of.sequence(contacts(rows), **kwargs)

        # Not asyncio.run: like ipykernel, keep Python's own SIGINT -> KeyboardInterrupt.
        loop = asyncio.new_event_loop()
        try:
            out = loop.run_until_complete(cell())
        finally:
            loop.close()
    else:
        out = of.sequence(contacts(rows), **kwargs)
    counts = {str(k): int(v) for k, v in out["octave_status"].value_counts().items()}
    print("DONE " + json.dumps(counts, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_worker(sys.argv[1:]))
