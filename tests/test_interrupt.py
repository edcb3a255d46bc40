"""Interruption: Ctrl-C, SIGTERM or a cancel starts nothing new, saves the paid calls in flight."""

from __future__ import annotations

import os
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
async def test_cancelling_asequence_lets_paid_calls_finish_and_keeps_every_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cancel scope ends the run; calls in flight finish and are saved, so none is paid twice."""
    rows = 120
    sim = Simulator(latency=(0.02, 0.06), not_found_rate=0.0)
    frame = contacts(rows)
    cache = tmp_path / "c.sqlite"
    with anyio.move_on_after(0.25) as scope:
        await frame.octave.asequence(**options(sim, cache))
    assert scope.cancelled_caught
    requests_at_cancel = sim.counters.agent_requests
    assert 0 < requests_at_cancel < rows
    assert sim.counters.in_flight == 0  # the calls in flight ended before the run returned
    await anyio.sleep(0.2)
    assert sim.counters.agent_requests == requests_at_cancel  # and no worker sent again
    saved = answered(cache)
    assert saved == sim.counters.billed  # every billed call is in the ledger
    err = capsys.readouterr().err
    assert f"interrupted. {saved} of {rows} calls answered and saved in {cache}" in err
    assert RESUME_HINT in err
    out = await frame.octave.asequence(**options(sim, cache))
    assert (out["octave_status"] == "ok").all()
    assert sim.counters.billed == rows  # billed calls = unique contacts
    assert sim.counters.duplicates == 0
    assert out.octave.summary().cache_hits == saved


def _start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _wait_for_billing(sim: Simulator, proc: subprocess.Popen[str], at_least: int) -> None:
    deadline = time.monotonic() + 60
    while sim.counters.billed < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the worker never got going"
        time.sleep(0.002)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["script", "in-loop"])
def test_ctrl_c_in_sync_code_drains_then_resume_pays_nothing_twice(
    tmp_path: Path, where: str
) -> None:
    """SIGINT to a process in ``sequence`` (plain, or inside a running loop as in Jupyter).

    The calls in flight finish and are saved, the process stops with KeyboardInterrupt
    and says how to resume, and after the re-run the simulator has billed exactly one
    call per contact.
    """
    rows, concurrency = 40, 8
    sim = Simulator(latency=(0.15, 0.25), not_found_rate=0.0)
    ledger = tmp_path / "ledger.sqlite"
    with serve(sim) as url:
        args = [sys.executable, str(HERE / "_faultkit.py"), url, str(ledger), str(rows)]
        args.append(str(concurrency))
        extra = [] if where == "script" else ["in-loop"]
        with _start([*args, *extra], tmp_path) as proc:
            try:
                _wait_for_billing(sim, proc, 10)
                proc.send_signal(signal.SIGINT)
                signalled = time.monotonic()
                _, err = proc.communicate(timeout=10)
                took = time.monotonic() - signalled
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode != 0
        assert took < 2.0, f"took {took:.2f} s to stop"
        assert "KeyboardInterrupt" in err or "Interrupted" in err
        assert "press Ctrl-C again to abandon them" in err
        saved = answered(ledger)
        assert sim.counters.billed == saved  # nothing paid was thrown away
        match = re.search(r"interrupted\. (\d+) of \d+ calls answered and saved in (.+?); ", err)
        assert match is not None, err
        assert int(match[1]) == saved
        assert match[2] == str(ledger)
        restart = subprocess.run(
            args, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert restart.returncode == 0, restart.stderr
    assert restart.stdout.splitlines()[-1] == f'DONE {{"ok": {rows}}}'
    assert sim.counters.billed == rows
    assert sim.counters.duplicates == 0


def _cli(url: str, contacts_csv: Path, out: Path, ledger: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "octave_frames.cli",
        "run",
        str(contacts_csv),
        "-o",
        str(out),
        "--agent",
        "ca_cli",
        "--context",
        "all=NOTES: {Notes}",
        "--rate",
        "1000/s",
        "--concurrency",
        "8",
        "--cache",
        str(ledger),
        "--base-url",
        url,
    ]


def _cli_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["OCTAVE_API_KEY"] = "sim-key"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_interrupted_writes_its_output_and_the_rerun_bills_each_contact_once(
    tmp_path: Path, signum: int
) -> None:
    """`run` stopped by Ctrl-C or SIGTERM drains, writes -o with the rest not_sent, exits 130/143.

    The same command then finishes the job; the simulator bills one call per contact.
    """
    rows = 40
    frame = contacts(rows)
    source = tmp_path / "contacts.csv"
    frame.to_csv(source, index=False)
    out, ledger = tmp_path / "out.xlsx", tmp_path / "ledger.sqlite"
    sim = Simulator(latency=(0.15, 0.3), not_found_rate=0.0)
    with serve(sim) as url:
        command = _cli(url, source, out, ledger)
        with subprocess.Popen(
            command,
            cwd=tmp_path,
            env=_cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            try:
                _wait_for_billing(sim, proc, 8)
                proc.send_signal(signum)
                _, err = proc.communicate(timeout=20)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode == (130 if signum == signal.SIGINT else 143), err
        assert "press Ctrl-C again to abandon them" in err
        written = of.read_excel(out)
        status = written["octave_status"].value_counts().to_dict()
        assert status.get("ok", 0) == answered(ledger) == sim.counters.billed
        assert status.get("not_sent", 0) == rows - status.get("ok", 0) > 0
        assert "not done" in err
        again = subprocess.run(
            command,
            cwd=tmp_path,
            env=_cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert again.returncode == 0, again.stderr
    assert (of.read_excel(out)["octave_status"] == "ok").all()
    assert sim.counters.billed == rows
    assert sim.counters.duplicates == 0


@pytest.mark.slow
def test_a_second_ctrl_c_abandons_the_calls_in_flight(tmp_path: Path) -> None:
    """The second SIGINT cuts the slow calls in flight off at once instead of waiting them out."""
    rows = 16
    sim = Simulator(latency=(30.0, 30.0), not_found_rate=0.0)
    ledger = tmp_path / "ledger.sqlite"
    with serve(sim) as url:
        args = [sys.executable, str(HERE / "_faultkit.py"), url, str(ledger), str(rows), "4"]
        with _start(args, tmp_path, FAULTKIT_TIMEOUT="60") as proc:
            try:
                deadline = time.monotonic() + 30
                while sim.counters.in_flight < 4:
                    assert time.monotonic() < deadline and proc.poll() is None
                    time.sleep(0.01)
                proc.send_signal(signal.SIGINT)
                assert proc.stderr is not None
                line = proc.stderr.readline()
                assert "finishing 4 calls" in line, line
                signalled = time.monotonic()
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=20)
                took = time.monotonic() - signalled
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
    assert took < 10.0, f"took {took:.2f} s to abandon 30-second calls"
    assert "abandoning 4 calls in flight" in err
    assert proc.returncode != 0
    assert answered(ledger) == 0


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
    assert "cache=False, so they were not kept" in err
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
