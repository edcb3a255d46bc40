"""Money truth: the credits shown are what the simulator billed, and one person gets one sequence.

Each finding is checked end to end: the `octave-frames` CLI in a subprocess against a
simulator served by the test process, whose billing counters are the referee.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest

import octave_frames as of
from octave_frames.simulator import Simulator, serve

COST = 2.0
BALANCE = 1_000.0


def contacts() -> pd.DataFrame:
    """Ten rows, seven people: an exact duplicate row, and one person on three rows.

    Rows 0-2 are Ann Lee: the same address in another case, and a different note (so a
    different request) on each; row 4 repeats row 3 exactly.
    """
    return pd.DataFrame(
        {
            "Email": [
                "ann@acme.com",
                "ANN@acme.com ",
                "ann@acme.com",
                "bo@beta.io",
                "bo@beta.io",
                "cy@gamma.co",
                "di@delta.co",
                "ed@eps.co",
                "fi@phi.co",
                "gus@psi.co",
            ],
            "First Name": ["Ann", "Ann", "Ann", "Bo", "Bo", "Cy", "Di", "Ed", "Fi", "Gus"],
            "Company": ["Acme"] * 3 + ["Beta"] * 2 + ["Gamma", "Delta", "Eps", "Phi", "Psi"],
            "Notes": ["met at expo", "asked for pricing", "", "n", "n", "a", "b", "c", "d", "e"],
        }
    )


@pytest.fixture
def sim() -> Iterator[tuple[Simulator, str]]:
    """A served simulator charging COST credits a call, and its base URL."""
    sim = Simulator(latency=(0.0, 0.01), not_found_rate=0.0, cost_per_call=COST, credits=BALANCE)
    with serve(sim) as url:
        yield sim, url


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``octave-frames run contacts.csv ...`` in a subprocess against ``url``."""
    env = dict(os.environ, OCTAVE_API_KEY="sim-key")
    command = [sys.executable, "-m", "octave_frames.cli", "run", "contacts.csv"]
    command += ["--agent", "ca_money", "--context", "all={Notes}", "--rate", "1000/s"]
    command += ["--base-url", url, *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def billed_credits(sim: Simulator) -> float:
    """Credits the simulator charged so far."""
    return BALANCE - sim.counters.credits_remaining


@pytest.mark.slow
def test_credits_printed_are_the_credits_billed_then_zero_from_the_ledger(
    sim: tuple[Simulator, str],
) -> None:
    """A run prints what Octave billed (a shared call once); a re-run from the ledger spends 0."""
    simulator, url = sim
    contacts().to_csv("contacts.csv", index=False)
    first = cli(url, "-o", "out.xlsx")
    assert first.returncode == 0, first.stderr
    unique_requests = 9  # rows 3 and 4 are one request
    assert simulator.counters.billed == unique_requests
    assert billed_credits(simulator) == unique_requests * COST
    head = first.stdout.splitlines()[0]
    assert f"{unique_requests * COST:g} credits spent by this run" in head
    assert f"{unique_requests * COST:g} credits behind these answers" in head

    again = cli(url, "-o", "again.xlsx")
    assert again.returncode == 0, again.stderr
    assert simulator.counters.billed == unique_requests  # nothing paid twice
    assert "· 0 credits spent by this run" in again.stdout.splitlines()[0]
    assert f"{unique_requests * COST:g} credits behind these answers" in again.stdout

    run_sheet = pd.read_excel("again.xlsx", sheet_name="Run", header=None, engine="openpyxl")
    facts = dict(zip(run_sheet[0], run_sheet[1], strict=False))
    assert float(facts["credits spent by this run"]) == 0.0
    assert float(facts["credits behind the answers"]) == unique_requests * COST


@pytest.mark.slow
def test_max_credits_shows_what_was_billed_not_a_sum_per_row(sim: tuple[Simulator, str]) -> None:
    """With a budget of 5 at 2 a call, two calls go out and the run says 4 credits, as billed."""
    simulator, url = sim
    contacts().to_csv("contacts.csv", index=False)
    done = cli(url, "-o", "out.xlsx", "--max-credits", "5", "--concurrency", "1")
    assert done.returncode == 0, done.stderr
    assert billed_credits(simulator) <= 5
    spent = re.search(r"· ([\d.]+) credits spent by this run", done.stdout)
    assert spent is not None, done.stdout
    assert float(spent[1]) == billed_credits(simulator)


@pytest.mark.slow
def test_one_person_one_sequence_is_said_before_spending_and_chosen_with_dedupe(
    sim: tuple[Simulator, str],
) -> None:
    """The dry run names the person on three rows; --dedupe person pays one call per person."""
    simulator, url = sim
    contacts().to_csv("contacts.csv", index=False)
    looked = cli(url, "--dry-run")
    assert looked.returncode == 0, looked.stderr
    assert "ann@acme.com: rows 0, 1, 2 would get 3 sequences" in looked.stdout
    assert simulator.counters.billed == 0

    done = cli(url, "-o", "out.xlsx", "--dedupe", "person")
    assert done.returncode == 0, done.stderr
    people = 7
    assert simulator.counters.billed == people == simulator.counters.unique_billed
    out = of.read_excel("out.xlsx")
    assert (out["octave_status"] == "ok").all()
    assert out.loc[1, "email_1_text"] == out.loc[0, "email_1_text"]
    assert "same person as row 0" in str(out.loc[1, "octave_note"])


def test_a_value_left_out_of_the_request_says_so() -> None:
    """An email cell that is no email is left out; the dry run and octave_note say so."""
    frame = pd.DataFrame(
        {"Email": ["not-an-email", "ok@acme.com"], "First Name": ["Ann", "Bo"], "Company": "Acme"}
    )
    out = frame.octave.sequence(agent="ca_1", dry_run=True, cache=False, progress=False)
    note = str(out.loc[0, "octave_note"])
    assert "'not-an-email'" in note and "left out" in note
    assert pd.isna(out.loc[1, "octave_note"])
    assert '"email"' not in str(out.loc[0, "octave_payload"])  # it goes by name + company
    assert out.octave.summary().notes == 1
