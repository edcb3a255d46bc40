"""Interruption: cancelling asequence or Ctrl-C stops sending at once and keeps every answer."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pandas as pd
import pytest
from _faultkit import CONTEXT, HERE, contacts

import octave_frames as of
from octave_frames._ledger import Ledger
from octave_frames.simulator import Simulator, serve

RESUME_HINT = "run the same call again to resume without paying for them twice"


def options(sim: Simulator, cache: Path | bool, **kwargs: Any) -> dict[str, Any]:
    """Arguments of a run against ``sim`` in process."""
    client = of.Client("sim-key", base_url="http://127.0.0.1:9", transport=sim.transport())
    base: dict[str, Any] = {
        "agent": "ca_interrupt",
        "client": client,
        "context": CONTEXT,
        "rate": 10_000,
        "concurrency": 8,
        "cache": cache,
        "progress": False,
    }
    return base | kwargs


def answered(ledger: Path) -> int:
    """Answers the ledger holds."""
    with Ledger(ledger) as kept:
        stats = kept.stats()
    return stats["ok"] + stats["not_found"]


@pytest.mark.anyio
async def test_cancelling_asequence_stops_at_once_and_keeps_every_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cancel scope ends the run: nothing more is sent, answers stay, a re-run bills the rest."""
    rows = 120
    sim = Simulator(latency=(0.02, 0.06), not_found_rate=0.0)
    frame = contacts(rows)
    cache = tmp_path / "c.sqlite"
    with anyio.move_on_after(0.25) as scope:
        await frame.octave.asequence(**options(sim, cache))
    assert scope.cancelled_caught
    requests_at_cancel = sim.counters.agent_requests
    assert 0 < requests_at_cancel < rows
    assert sim.counters.in_flight == 0  # in-flight calls were cancelled, not left running
    await anyio.sleep(0.2)
    assert sim.counters.agent_requests == requests_at_cancel  # and no worker sent again
    saved = answered(cache)
    assert saved > 0
    err = capsys.readouterr().err
    assert f"interrupted. {saved} answers are saved in {cache}" in err
    assert RESUME_HINT in err
    billed_before = sim.counters.billed
    out = await frame.octave.asequence(**options(sim, cache))
    assert (out["octave_status"] == "ok").all()
    assert sim.counters.billed - billed_before == rows - saved  # only the rest is paid for
    assert out.octave.summary().cache_hits == saved


@pytest.mark.slow
@pytest.mark.parametrize("where", ["script", "in-loop"])
def test_ctrl_c_in_sync_code_stops_at_once_and_resume_bills_only_the_rest(
    tmp_path: Path, where: str
) -> None:
    """SIGINT to a process in ``sequence`` (plain, or inside a running loop as in Jupyter).

    The process stops within a second, says that re-running resumes, and keeps every
    answer it received: the re-run pays only for rows it had no answer for.
    """
    rows, concurrency = 200, 8
    sim = Simulator(latency=(0.02, 0.05), not_found_rate=0.0)
    ledger = tmp_path / "ledger.sqlite"
    with serve(sim) as url:
        args = [sys.executable, str(HERE / "_faultkit.py"), url, str(ledger), str(rows)]
        args.append(str(concurrency))
        extra = [] if where == "script" else ["in-loop"]
        with subprocess.Popen(
            [*args, *extra], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            try:
                deadline = time.monotonic() + 60
                while sim.counters.billed < 50:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the worker never got going"
                    time.sleep(0.002)
                proc.send_signal(signal.SIGINT)
                signalled = time.monotonic()
                billed_at_signal = sim.counters.billed
                _, err = proc.communicate(timeout=10)
                took = time.monotonic() - signalled
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode != 0
        assert took < 2.0, f"took {took:.2f} s to stop"
        assert "KeyboardInterrupt" in err
        assert sim.counters.billed <= billed_at_signal + concurrency
        match = re.search(r"interrupted\. (\d+) answers are saved in (.+?); " + RESUME_HINT, err)
        assert match is not None, err
        saved = answered(ledger)
        assert int(match[1]) == saved
        assert match[2] == str(ledger)
        billed_before = sim.counters.billed
        restart = subprocess.run(
            args, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert restart.returncode == 0, restart.stderr
    assert restart.stdout.splitlines()[-1] == 'DONE {"ok": 200}'
    assert sim.counters.billed - billed_before == rows - saved


def test_an_interrupted_run_without_a_cache_says_nothing_was_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With cache=False the interruption message does not promise a resume."""
    sim = Simulator(latency=(0.05, 0.05), not_found_rate=0.0)

    async def main() -> None:
        with anyio.move_on_after(0.1):
            await contacts(40).octave.asequence(**options(sim, False))

    anyio.run(main)
    err = capsys.readouterr().err
    assert "interrupted" in err
    assert "cache=False, so answers of this run were not kept" in err
    assert RESUME_HINT not in err


def test_ctrl_c_while_a_callable_spec_runs_is_not_swallowed(tmp_path: Path) -> None:
    """Ctrl-C inside a user's callable spec is not turned into an ``invalid`` row: it propagates.

    Callable specs that raise make their row ``invalid``; KeyboardInterrupt must not be
    caught that way, or Ctrl-C while payloads are built would be ignored. Nothing is sent.
    """
    sim = Simulator(latency=(0, 0))

    def ctrl_c(row: pd.Series) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        contacts(3).octave.sequence(**options(sim, tmp_path / "c.sqlite", context={"all": ctrl_c}))
    assert sim.counters.requests == 0
