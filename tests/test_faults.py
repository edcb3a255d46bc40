"""Faults, money guards and dedupe, checked against the simulator's own bill.

The simulator counts what Octave would charge (``billed``) and how many of those
charges were for a payload already charged once (``duplicates``): the ground truth
for "nothing lost, nothing paid twice". Backoffs and Retry-After waits run on a
`ScaledClock`, so a 1 s wait lasts milliseconds while HTTP stays real.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _faultkit import ScaledClock, contacts, quiet_run

import octave_frames as of
from octave_frames.simulator import Simulator, serve

KEY = "sim-key"
# Nothing listens here: in-process tests hand the client the simulator's transport.
NOWHERE = "http://127.0.0.1:9"


def in_process(sim: Simulator, *, key: str = KEY, factor: float = 1000.0) -> of.Client:
    """A client that calls ``sim`` in process, with backoffs shrunk ``factor`` times."""
    return of.Client(key, base_url=NOWHERE, transport=sim.transport(), clock=ScaledClock(factor))


def run(frame: pd.DataFrame, client: of.Client, **kwargs: Any) -> pd.DataFrame:
    """Run ``sequence`` with quiet, fast defaults that each test may override."""
    return quiet_run(frame, client, agent="ca_faults", **kwargs)


def statuses(out: pd.DataFrame) -> dict[str, int]:
    """Rows per status."""
    return {str(k): int(v) for k, v in out["octave_status"].value_counts().items()}


@pytest.mark.slow
def test_faults_over_loopback_end_ok_unmixed_and_billed_once_except_timeouts(
    tmp_path: Path,
) -> None:
    """10% 5xx, hangs past the timeout and 429 bursts: all rows end right, no extra charges.

    Every row ends ``ok`` (``not_found`` exactly where the simulator cannot match),
    carries its own name and notes, and the only payloads charged twice are ones
    whose first call the client abandoned at its timeout (a hang Octave still bills).
    """
    factor = 20.0
    sim = Simulator(
        latency=(0.0, 0.005),
        error_rate=0.10,
        hang_rate=0.03,
        hang_seconds=30.0,
        rate=8.0,  # per scaled second: 160/s of real time, far below the client's pace
        burst=2,
        not_found_rate=0.0,
        clock=lambda: time.monotonic() * factor,
    )
    frame = contacts(150, unmatched_every=17)
    before = frame.copy(deep=True)
    with serve(sim) as url:
        client = of.Client(KEY, base_url=url, timeout=0.3, clock=ScaledClock(factor))
        # 13% of calls fail at random: 8 retries make a row failing by chance (~1e-7) moot.
        out = run(
            frame, client, concurrency=16, rate=1000, max_retries=8, cache=tmp_path / "c.sqlite"
        )
    counters = sim.counters
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_index_equal(out.index, frame.index)
    unmatched = frame["Email"].str.endswith(".invalid").to_numpy()
    assert (out["octave_status"][unmatched] == "not_found").all()
    assert (out["octave_status"][~unmatched] == "ok").all(), out["octave_error"].dropna()
    ok = out[~unmatched]
    assert (ok["email_1_greeting"] == "Hi " + frame["First Name"][~unmatched] + ",").all()
    for step in (1, 2, 3):
        body = ok[f"email_{step}_body"]
        notes = "NOTES: " + frame["Notes"][~unmatched]
        assert all(n in b for n, b in zip(notes, body, strict=True))
    # The faults really happened: 5xx, 429s, and calls the client gave up on (no reply sent).
    by_status = counters.by_status
    assert sum(by_status.get(s, 0) for s in (500, 502, 503)) >= 5
    assert by_status.get(429, 0) >= 1
    abandoned = counters.requests - sum(by_status.values())
    assert abandoned >= 1
    assert counters.duplicates <= abandoned
    assert counters.billed <= (~unmatched).sum() + abandoned


def test_max_credits_stops_sending_and_leaves_the_rest_not_sent() -> None:
    """max_credits=7 at 2 credits a call: 3 calls billed (the price is learnt), rest not_sent."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0, cost_per_call=2.0)
    out = run(contacts(12), in_process(sim), max_credits=7, concurrency=1)
    assert sim.counters.billed == 3  # a 4th call would make 8 credits
    assert statuses(out) == {"ok": 3, "not_sent": 9}
    reasons = out.loc[out["octave_status"] == "not_sent", "octave_error"]
    assert reasons.str.contains("max_credits=7").all()
    summary = out.octave.summary()
    assert summary.credits == 6.0
    assert "max_credits" in (summary.stopped or "")


def test_max_credits_with_a_known_price_never_exceeds_the_budget(tmp_path: Path) -> None:
    """Once the ledger knows a call costs 2, max_credits=7 bills 3 calls (6 credits), never 8."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0, cost_per_call=2.0)
    cache = tmp_path / "c.sqlite"
    run(contacts(1, start=900), in_process(sim), cache=cache)  # teaches the ledger the price
    sim.reset()
    out = run(contacts(12), in_process(sim), max_credits=7, concurrency=4, cache=cache)
    assert sim.counters.billed == 3
    assert statuses(out) == {"ok": 3, "not_sent": 9}


def test_dry_run_reports_calls_after_dedupe_and_cache_hits_and_sends_nothing(
    tmp_path: Path,
) -> None:
    """A dry run counts only the calls still needed (duplicates folded, cached rows free)."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0, cost_per_call=3.0)
    cache = tmp_path / "c.sqlite"
    run(contacts(4), in_process(sim), cache=cache)  # 4 rows answered and priced at 3
    frame = contacts(10)
    frame = pd.concat([frame, frame.iloc[[5, 6, 6]]])  # 3 duplicate rows
    sim.reset()
    out = run(frame, in_process(sim), dry_run=True, cache=cache)
    assert sim.counters.requests == 0  # not even the key check
    assert statuses(out) == {"not_sent": 13}
    summary = out.octave.summary()
    assert summary.dry_run
    assert summary.calls == 6  # 10 unique payloads - 4 in the ledger
    assert summary.cache_hits == 4
    assert summary.duplicates == 3
    assert summary.estimated_credits == 18.0
    assert "~18 credits" in str(summary)
    payloads = out["octave_payload"].dropna()
    assert len(payloads) == 13


def test_preflight_refuses_a_bad_key_before_any_agent_call() -> None:
    """A key the workspace does not know raises AuthenticationError; no agent call goes out."""
    sim = Simulator(latency=(0, 0))
    with pytest.raises(of.AuthenticationError, match="401"):
        run(contacts(5), in_process(sim, key="sk-wrong"))
    assert sim.counters.agent_requests == 0
    assert sim.counters.requests == 1  # the api-key/validate call


def test_preflight_refuses_a_run_the_balance_cannot_pay_for() -> None:
    """5 calls against 3 credits left: InsufficientCreditsError naming both, nothing sent."""
    sim = Simulator(latency=(0, 0), credits=3.0)
    with pytest.raises(of.InsufficientCreditsError, match=r"5 credits.*3 left"):
        run(contacts(5), in_process(sim))
    assert sim.counters.agent_requests == 0


def test_preflight_lets_a_capped_run_spend_what_is_left() -> None:
    """With max_credits within the balance the preflight passes and the cap does the rest."""
    sim = Simulator(latency=(0, 0), credits=3.0, not_found_rate=0.0)
    out = run(contacts(5), in_process(sim), max_credits=3, concurrency=1)
    assert statuses(out) == {"ok": 3, "not_sent": 2}
    assert sim.counters.billed == 3


@pytest.mark.parametrize("outage", ["503 only", "mixed 5xx"])
def test_circuit_breaker_stops_a_dead_service_far_short_of_the_list(outage: str) -> None:
    """Octave answering 5xx to everything trips the breaker: few calls, rows not_sent, reason."""
    sim = Simulator(latency=(0, 0), error_rate=1.0 if outage == "mixed 5xx" else 0.0)
    if outage == "503 only":
        sim.fail_next(10_000, 503)
    out = run(contacts(300), in_process(sim), max_retries=2)
    counts = statuses(out)
    assert sim.counters.agent_requests <= 40
    assert counts["not_sent"] >= 280
    reasons = out.loc[out["octave_status"] == "not_sent", "octave_error"]
    assert reasons.str.startswith("circuit breaker").all()
    assert "circuit breaker" in (out.octave.summary().stopped or "")


def test_credits_running_out_mid_run_stop_sending_with_a_clear_reason() -> None:
    """The balance passes the preflight but runs dry (calls cost more than guessed): 402 stops."""
    sim = Simulator(latency=(0, 0), credits=40.0, cost_per_call=2.0, not_found_rate=0.0)
    out = run(contacts(30), in_process(sim), concurrency=2)
    counts = statuses(out)
    assert counts == {"ok": 20, "not_sent": 10}
    assert sim.counters.billed == 20
    assert sim.counters.by_status.get(402, 0) <= 2  # one per worker at most, then it stops
    reasons = out.loc[out["octave_status"] == "not_sent", "octave_error"]
    assert reasons.str.contains("insufficient credits").all()


def test_identical_rows_are_sent_once_and_fanned_out_to_every_row() -> None:
    """Duplicate contacts cost one call each; every copy gets the same answer on its own index."""
    sim = Simulator(latency=(0, 0), not_found_rate=0.0)
    base = contacts(5)
    frame = pd.concat([base, base.iloc[[0, 0, 3]], base.iloc[[0]]])
    frame.index = pd.Index([f"r{i}" for i in range(len(frame))])
    out = run(frame, in_process(sim))
    assert sim.counters.agent_requests == 5
    assert sim.counters.billed == 5
    assert statuses(out) == {"ok": 9}
    pd.testing.assert_index_equal(out.index, frame.index)
    same = out.loc[["r0", "r5", "r6", "r8"], ["octave_request_id", "email_1_text"]]
    assert same.nunique().tolist() == [1, 1]
    assert str(out.loc["r7", "email_1_text"]) == str(out.loc["r3", "email_1_text"])
    assert out.octave.summary().duplicates == 4
