"""Async mode, submit and collect: every row right, few polls, no job ever submitted twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _faultkit import CONTEXT, HERE, contacts

import octave_frames as of
from octave_frames._ledger import Ledger
from octave_frames.simulator import Simulator, serve

AGENT = "ca_async"


def options(url: str, cache: Path | bool, **extra: Any) -> dict[str, Any]:
    """Fast, quiet arguments of an async run against a served simulator."""
    base: dict[str, Any] = {
        "agent": AGENT,
        "api_key": "sim-key",
        "base_url": url,
        "context": CONTEXT,
        "rate": 5_000,
        "concurrency": 64,
        "cache": cache,
        "progress": False,
        "poll": 0.05,
    }
    return base | extra


def assert_rows_are_their_own(out: pd.DataFrame) -> None:
    """Each answered row greets its own contact and carries its own notes."""
    ok = out[out["octave_status"] == "ok"]
    assert (ok["email_1_greeting"] == "Hi " + ok["First Name"] + ",").all()
    notes = ok["Notes"].tolist()
    assert all(note in text for note, text in zip(notes, ok["email_1_body"], strict=True))


@pytest.mark.slow
def test_a_thousand_rows_in_async_mode_are_all_right_with_few_status_calls(
    tmp_path: Path,
) -> None:
    """1,000 async jobs: all ok, row by row, one billed submission each, under 3 polls a job."""
    rows = 1_000
    sim = Simulator(latency=(0.0, 0.005), job_duration=(0.1, 0.3), not_found_rate=0.0)
    with serve(sim) as url:
        out = contacts(rows).octave.sequence(mode="async", **options(url, tmp_path / "l.sqlite"))
    assert (out["octave_status"] == "ok").all()
    assert_rows_are_their_own(out)
    assert out["octave_run_id"].notna().all() and out["octave_run_id"].is_unique
    counters = sim.counters
    assert counters.submissions == counters.billed == rows
    assert counters.duplicates == 0
    assert counters.polls / rows <= 3.0, counters.polls
    summary = out.octave.summary()
    assert summary.counts["ok"] == rows and summary.answer_credits == rows


def test_both_result_shapes_give_the_same_columns(tmp_path: Path) -> None:
    """A status `result` that is the whole envelope, or only its data, reads the same."""
    frames = []
    for shape in ("envelope", "data"):
        sim = Simulator(latency=(0, 0), job_duration=(0.0, 0.05), async_result=shape)
        with serve(sim) as url:
            out = contacts(20).octave.sequence(mode="async", **options(url, False))
        frames.append(out.drop(columns=["octave_run_id", "octave_request_id", "octave_usage"]))
        assert out["octave_status"].isin(["ok", "not_found", "failed"]).all()
    ok = frames[0]["octave_status"] == "ok"
    pd.testing.assert_series_equal(
        frames[0].loc[ok, "email_1_text"], frames[1].loc[ok, "email_1_text"]
    )


def test_submit_returns_pending_and_collect_never_submits_again(tmp_path: Path) -> None:
    """submit: pending rows with run ids; again: nothing new; collect(wait) fills every row."""
    rows = 60
    ledger = tmp_path / "l.sqlite"
    sim = Simulator(latency=(0, 0), job_duration=(0.2, 0.4), not_found_rate=0.0)
    frame = contacts(rows)
    with serve(sim) as url:
        sub = frame.octave.submit(**_submit_options(url, ledger))
        assert (sub["octave_status"] == "pending").all()
        assert sub["octave_run_id"].notna().all()
        assert sim.counters.submissions == rows and sim.counters.polls == 0
        frame.octave.submit(**_submit_options(url, ledger))
        assert sim.counters.submissions == rows  # every run id was known: nothing resubmitted
        out = sub.octave.collect(wait=True, timeout=30, **options(url, ledger))
    assert (out["octave_status"] == "ok").all()
    assert_rows_are_their_own(out)
    assert sim.counters.submissions == sim.counters.billed == rows


def test_collect_from_a_workbook_without_the_ledger_uses_the_run_ids_it_carries(
    tmp_path: Path,
) -> None:
    """A submitted sheet read back from Excel, on a machine with no ledger, still collects."""
    rows = 12
    sim = Simulator(latency=(0, 0), job_duration=(0.0, 0.1), not_found_rate=0.0)
    with serve(sim) as url:
        submitted = contacts(rows).octave.submit(**_submit_options(url, tmp_path / "a.sqlite"))
        submitted.octave.to_excel(tmp_path / "submitted.xlsx")
        again = of.read_excel(tmp_path / "submitted.xlsx")
        out = again.octave.collect(wait=True, timeout=30, **options(url, tmp_path / "b.sqlite"))
    assert (out["octave_status"] == "ok").all()
    assert sim.counters.submissions == rows


def _submit_options(url: str, ledger: Path | bool) -> dict[str, Any]:
    """The arguments submit takes (no poll or job timeout)."""
    opts = options(url, ledger)
    del opts["poll"]
    return opts


def test_a_job_that_never_finishes_fails_at_the_timeout_and_is_never_resubmitted(
    tmp_path: Path,
) -> None:
    """job_never_rate=1: failed with the reason after job_timeout; collect polls, not resubmits."""
    ledger = tmp_path / "l.sqlite"
    sim = Simulator(latency=(0, 0), job_never_rate=1.0)
    frame = contacts(5)
    with serve(sim) as url:
        out = frame.octave.sequence(mode="async", job_timeout=0.5, **options(url, ledger))
        assert (out["octave_status"] == "failed").all()
        assert out["octave_error"].str.contains("no result").all()
        assert out["octave_error"].str.contains("never resubmits").all()
        again = out.octave.collect(wait=True, timeout=0.3, **options(url, ledger))
        assert (again["octave_status"] == "failed").all()
        looked = frame.octave.collect(**options(url, ledger))
    assert (looked["octave_status"] == "pending").all()
    assert sim.counters.submissions == 5


def test_a_failed_job_is_failed_with_octaves_reason(tmp_path: Path) -> None:
    """A job Octave reports failed ends failed with the reason, its run id in the frame."""
    sim = Simulator(latency=(0, 0), job_duration=(0, 0.05), job_failure_rate=1.0)
    with serve(sim) as url:
        out = contacts(3).octave.sequence(mode="async", **options(url, False))
    assert (out["octave_status"] == "failed").all()
    assert out["octave_error"].str.startswith("the async job failed").all()
    assert out["octave_run_id"].notna().all()


@pytest.mark.slow
def test_callbacks_duplicate_late_and_lost_still_give_every_row_once(tmp_path: Path) -> None:
    """With a callback receiver, duplicates are harmless, lost ones are polled, polls are few."""
    rows = 80
    ledger = tmp_path / "l.sqlite"
    sim = Simulator(
        latency=(0, 0),
        job_duration=(0.05, 0.1),
        not_found_rate=0.0,
        callback_duplicate_rate=0.3,
        callback_loss_rate=0.2,
        callback_delay=(0.0, 0.2),
    )
    receiver = of.callback_app(ledger)
    with serve(receiver) as hooks, serve(sim) as url:
        callback = of.callback_url(hooks, ledger)
        out = contacts(rows).octave.sequence(
            mode="async", callback_url=callback, **options(url, ledger, poll=0.3)
        )
    assert (out["octave_status"] == "ok").all()
    assert_rows_are_their_own(out)
    counters = sim.counters
    assert counters.callbacks_duplicated > 0 and counters.callbacks_lost > 0
    assert counters.submissions == rows
    assert counters.polls < rows  # most results came by callback
    with Ledger(ledger) as kept:
        assert len(kept.callbacks(out["octave_run_id"].tolist())) == counters.callbacks_sent - (
            counters.callbacks_duplicated
        )


@pytest.mark.slow
def test_submit_killed_then_collect_in_another_process_loses_no_run_id(tmp_path: Path) -> None:
    """SIGKILL during submit; another process's collect finds every job; none paid twice."""
    rows = 40
    ledger = tmp_path / "ledger.sqlite"
    sim = Simulator(latency=(0.05, 0.1), job_duration=(0.1, 0.2), not_found_rate=0.0)
    with serve(sim) as url:
        worker = [sys.executable, str(HERE / "_faultkit.py"), url, str(ledger), str(rows), "4"]
        with subprocess.Popen(
            [*worker, "submit"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as proc:
            deadline = time.monotonic() + 60
            while sim.counters.submissions < 10:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
        submitted = sim.counters.submissions
        assert submitted < rows
        with Ledger(ledger) as kept:
            assert kept.stats()["pending"] >= submitted - 4  # run ids were on disk at once
        done = subprocess.run(
            [*worker, "sequence-async"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f'DONE {{"ok": {rows}}}'
    assert sim.counters.submissions == sim.counters.billed
    assert sim.counters.duplicates <= 4  # at most the submissions in flight at the kill


@pytest.mark.slow
def test_ctrl_c_in_async_mode_keeps_every_run_id_and_says_how_to_collect(tmp_path: Path) -> None:
    """SIGINT while jobs run: the message names collect; collecting pays for nothing twice."""
    rows = 30
    ledger = tmp_path / "ledger.sqlite"
    sim = Simulator(latency=(0.01, 0.02), job_duration=(2.0, 3.0), not_found_rate=0.0)
    with serve(sim) as url:
        worker = [sys.executable, str(HERE / "_faultkit.py"), url, str(ledger), str(rows), "4"]
        with subprocess.Popen(
            [*worker, "sequence-async"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:
            deadline = time.monotonic() + 60
            while sim.counters.submissions < rows:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.005)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=20)
        assert proc.returncode != 0
        assert "async jobs are submitted and their run ids saved" in err
        assert "collect" in err
        same = options(url, ledger) | {"agent": "ca_worker"}  # the worker's arguments
        out = contacts(rows).octave.collect(wait=True, timeout=30, **same)
    assert (out["octave_status"] == "ok").all()
    assert sim.counters.submissions == sim.counters.billed == rows


def test_credits_running_out_stops_submitting_but_still_collects_the_paid_jobs(
    tmp_path: Path,
) -> None:
    """A 402 stops sending; the jobs already accepted (and paid) are still collected."""
    sim = Simulator(
        latency=(0, 0), job_duration=(0.05, 0.1), not_found_rate=0.0, credits=40, cost_per_call=2
    )
    with serve(sim) as url:
        out = contacts(30).octave.sequence(mode="async", **options(url, False, concurrency=2))
    statuses = out["octave_status"].value_counts().to_dict()
    assert statuses.get("ok", 0) == sim.counters.submissions > 0
    assert statuses.get("pending", 0) == 0
    assert out.loc[out["octave_status"] == "not_sent", "octave_error"].str.contains("credits").all()
