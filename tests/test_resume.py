"""Resume: a killed run restarts without paying twice; re-runs send only what is not done."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _faultkit import HERE, ScaledClock, contacts, quiet_run

import octave_frames as of
from octave_frames._ledger import Ledger
from octave_frames.simulator import Simulator, serve

NOWHERE = "http://127.0.0.1:9"


def run(frame: pd.DataFrame, sim: Simulator, **kwargs: Any) -> pd.DataFrame:
    """Run ``sequence`` against ``sim`` in process, quietly and with fast backoffs."""
    client = of.Client(
        "sim-key", base_url=NOWHERE, transport=sim.transport(), clock=ScaledClock(1000.0)
    )
    return quiet_run(frame, client, agent="ca_resume", **kwargs)


def sent_emails(sim: Simulator, since: int = 0) -> list[str]:
    """The ``email`` of every agent request the simulator received after the first ``since``."""
    return sorted(str(body.get("email")) for body in sim.received[since:])


def statuses(out: pd.DataFrame) -> dict[str, int]:
    """Rows per status."""
    return {str(k): int(v) for k, v in out["octave_status"].value_counts().items()}


@pytest.mark.slow
def test_sigkill_halfway_then_restart_bills_at_most_rows_plus_concurrency(tmp_path: Path) -> None:
    """A run killed with SIGKILL mid-way and started again ends all ok for <= rows + concurrency.

    The simulator is served by this process, so its bill survives the client's death.
    """
    rows, concurrency = 200, 8
    sim = Simulator(latency=(0.02, 0.05), not_found_rate=0.0)
    ledger = tmp_path / "ledger.sqlite"
    worker = [sys.executable, str(HERE / "_faultkit.py")]
    with serve(sim) as url:
        args = [*worker, url, str(ledger), str(rows), str(concurrency)]
        with subprocess.Popen(
            args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            try:
                deadline = time.monotonic() + 60
                while sim.counters.billed < rows // 2:
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the worker never got halfway"
                    time.sleep(0.002)
            finally:
                proc.kill()  # SIGKILL: no cleanup, no atexit, no flush
                proc.communicate(timeout=10)
        assert proc.returncode == -9
        billed_at_kill = sim.counters.billed
        assert billed_at_kill < rows, "the worker finished before it was killed"
        with Ledger(ledger) as kept:
            saved = kept.stats()["ok"]
        # Only the calls in flight at the kill can be lost.
        assert billed_at_kill - concurrency <= saved <= billed_at_kill
        restart = subprocess.run(
            args, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
        )
        assert restart.returncode == 0, restart.stderr
    assert restart.stdout.splitlines()[-1] == "DONE " + json.dumps({"ok": rows})
    counters = sim.counters
    assert counters.billed <= rows + concurrency
    assert counters.billed - counters.duplicates == rows
    assert counters.billed == billed_at_kill + (rows - saved)


def test_same_call_again_is_answered_from_the_ledger_without_a_call(tmp_path: Path) -> None:
    """Running the same call twice pays once; the second run's 1,000 rows come from disk fast."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    frame = contacts(1000)
    cache = tmp_path / "c.sqlite"
    first = run(frame, sim, cache=cache, concurrency=16)
    sim.reset()
    started = time.perf_counter()
    again = run(frame, sim, cache=cache)
    elapsed = time.perf_counter() - started
    assert sim.counters.requests == 0
    pd.testing.assert_frame_equal(again, first)
    assert again.octave.summary().cache_hits == 1000
    assert elapsed < 3.0  # about 0.2 s here; generous for a loaded CI machine


def test_changing_one_row_re_sends_only_that_row(tmp_path: Path) -> None:
    """A changed context cell changes that row's key: only it is sent, nothing stale served."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    frame = contacts(6)
    cache = tmp_path / "c.sqlite"
    run(frame, sim, cache=cache)
    changed = frame.copy()
    changed.loc["c2", "Notes"] = "fresh research"
    sim.reset()
    out = run(changed, sim, cache=cache)
    assert sent_emails(sim) == ["person2@acme.com"]
    assert "NOTES: fresh research" in str(out.loc["c2", "email_1_body"])


def first_run(sim: Simulator, **kwargs: Any) -> pd.DataFrame:
    """Ten contacts: two refused with HTTP 400, two unmatched, one invalid, five ok."""
    frame = contacts(10, unmatched_every=4, start=1)  # c4 and c8 end not_found
    frame.loc["c10", ["Email", "Company"]] = None  # no identifier left: invalid
    sim.fail_next(2, 400)  # the first two calls, with concurrency 1: c1 and c2
    out = run(frame, sim, concurrency=1, **kwargs)
    assert statuses(out) == {"ok": 5, "failed": 2, "not_found": 2, "invalid": 1}
    return out


def test_rerun_failed_sends_only_rows_not_ok_or_not_found() -> None:
    """On a frame carrying results the default re-sends the failed rows only, and says why."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    out = first_run(sim)
    failed = sorted(out.loc[out["octave_status"] == "failed", "Email"])
    seen = len(sim.received)
    again = run(out, sim)
    assert sent_emails(sim, seen) == failed
    assert statuses(again) == {"ok": 7, "not_found": 2, "invalid": 1}
    assert list(again.columns) == list(out.columns)
    summary = again.octave.summary()
    assert summary.skipped == {
        "already ok (rerun='failed')": 5,
        "already not_found (rerun='failed')": 2,
    }
    assert "skipped: 5 already ok (rerun='failed')" in str(summary)


def test_rerun_failed_after_an_excel_round_trip_sends_only_the_failed(tmp_path: Path) -> None:
    """A result written with to_excel and read back with of.read_excel re-sends only failures."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    out = first_run(sim)
    path = tmp_path / "results.xlsx"
    out.octave.to_excel(path)
    back = of.read_excel(path)
    seen = len(sim.received)
    again = run(back, sim)
    assert sent_emails(sim, seen) == sorted(out.loc[out["octave_status"] == "failed", "Email"])
    assert statuses(again) == {"ok": 7, "not_found": 2, "invalid": 1}
    kept = out["octave_status"].isin(["ok", "not_found"]).to_numpy()
    assert again.loc[kept, "email_1_text"].tolist() == out.loc[kept, "email_1_text"].tolist()


def test_rerun_all_without_a_ledger_re_sends_every_valid_row() -> None:
    """rerun='all' with cache=False sends every row that has a payload, done or not."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    out = first_run(sim)
    seen = len(sim.received)
    again = run(out, sim, rerun="all")
    assert len(sim.received) - seen == 9  # all but the invalid row
    assert statuses(again) == {"ok": 7, "not_found": 2, "invalid": 1}
    assert again.octave.summary().skipped == {}


def test_rerun_all_serves_unchanged_answered_rows_from_the_ledger(tmp_path: Path) -> None:
    """rerun='all' processes every row, but answers the ledger holds cost nothing again."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    cache = tmp_path / "c.sqlite"
    out = first_run(sim, cache=cache)
    seen = len(sim.received)
    again = run(out, sim, rerun="all", cache=cache)
    # Only the two failures are not in the ledger; the 7 answered rows are cache hits.
    assert sent_emails(sim, seen) == sorted(out.loc[out["octave_status"] == "failed", "Email"])
    summary = again.octave.summary()
    assert summary.cache_hits == 7
    assert summary.skipped == {}


def test_rerun_none_sends_no_row_that_carries_results() -> None:
    """rerun='none' leaves every row with a status alone; only a brand-new row is sent."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    out = first_run(sim)
    newcomer = contacts(1, start=50)
    frame = pd.concat([out, newcomer])  # its result columns are NA
    seen = len(sim.received)
    again = run(frame, sim, rerun="none")
    assert sent_emails(sim, seen) == ["person50@acme.com"]
    assert statuses(again) == {"ok": 6, "failed": 2, "not_found": 2, "invalid": 1}
    summary = again.octave.summary()
    assert summary.skipped == {
        "already ok (rerun='none')": 5,
        "already failed (rerun='none')": 2,
        "already not_found (rerun='none')": 2,
        "already invalid (rerun='none')": 1,
    }
