"""End to end over real loopback HTTP: messy frames in, the right email for every row out."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import octave_frames as of
from octave_frames.simulator import Simulator, serve

FIRST = ["Ann", "Bjørn", "Zoë", "李", "José", "O'Neil", "Ana-María", " Kai ", "Émile", "Sam"]


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[Simulator, str]]:
    """One simulator on a loopback port for the module."""
    simulator = Simulator(latency=(0.0, 0.01), not_found_rate=0.0)
    with serve(simulator) as url:
        yield simulator, url


def messy(n: int, seed: int = 7) -> pd.DataFrame:
    """Contacts as CRM exports make them: odd headers, blanks, unicode, float ids, string index."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for i in range(n):
        first = FIRST[i % len(FIRST)]
        rows.append(
            {
                " Work E-mail ": f"  Person.{i}@Acme{i % 7}.COM " if i % 5 else None,
                "Given Name": first if i % 11 else np.nan,
                "SURNAME": f"Müller{i}" if i % 3 else "",
                "Account Name": f"Acme {i % 7} GmbH",
                "Website": f"https://www.Acme{i % 7}.com/about" if i % 4 else None,
                "Person Linkedin Url": f"https://linkedin.com/in/p{i}" if i % 5 == 0 else None,
                "Salesforce Contact ID": float(1000 + i) if i % 2 else np.nan,
                "Account Research": f"research-{i} 🚀" if i % 6 else "",
                "Event": f"event-{i}" if i % 2 == 0 else None,
                "noise": rng.random(),
            }
        )
    frame = pd.DataFrame(rows)
    frame.index = pd.Index([f"row-{i}" for i in range(n)], name="contact")
    return frame


def received_by_external_id(sim: Simulator) -> dict[str, dict[str, Any]]:
    """What the simulator received, keyed by the x-external-request-id header."""
    return {
        headers["x-external-request-id"]: body
        for body, headers in zip(sim.received, sim.received_headers, strict=True)
    }


def test_messy_rows_each_get_their_own_email(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    """300 messy rows run concurrently; every output row matches its own input, index kept."""
    simulator, url = sim
    simulator.reset()
    frame = messy(300)
    before = frame.copy(deep=True)
    out = frame.octave.sequence(
        agent="ca_e2e",
        context={"all": "RESEARCH: {Account Research}", "2": ["Event"]},
        instructions={"all": "Be brief.", 3: "Mention row {Given Name}."},
        api_key="sim-key",
        base_url=url,
        concurrency=24,
        rate=10_000,
        cache=tmp_path / "c.sqlite",
    )
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    pd.testing.assert_index_equal(out.index, frame.index)
    pd.testing.assert_frame_equal(out[frame.columns], frame)
    ok = out[out.octave_status == "ok"]
    assert len(ok) >= 290
    for label, row in ok.iterrows():
        i = int(str(label).split("-")[1])
        first = FIRST[i % len(FIRST)].strip()
        if i % 11:
            assert row["email_1_greeting"] == f"Hi {first},"
        if i % 6:
            assert f"research-{i} 🚀" in row["email_1_body"]
            assert f"research-{i} 🚀" in row["email_3_body"]
        if i % 2 == 0:
            assert f"event-{i}" in row["email_2_body"]
        assert f"event-{i}" not in str(row["email_1_body"])
        assert f"event-{i}" not in str(row["email_3_body"])
    invalid = out[out.octave_status == "invalid"]
    assert invalid.index.isin([f"row-{i}" for i in range(0, 300, 55)]).all()
    assert simulator.counters.agent_requests == len(ok) + (out.octave_status == "not_found").sum()


def test_nothing_dirty_on_the_wire(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    """Payloads carry clean values only: no 'nan', integer-text ids, normalised emails, domains."""
    simulator, url = sim
    simulator.reset()
    frame = messy(120)
    frame.octave.sequence(
        agent="ca_e2e",
        context={"all": "{Account Research}", "2": ["Event"]},
        api_key="sim-key",
        base_url=url,
        rate=10_000,
        cache=False,
    )
    for body in simulator.received:
        text = json.dumps(body, ensure_ascii=False)
        for dirty in ("nan", "None", "<NA>", "NaT", '.0"'):
            assert dirty not in text.replace("Bjørn", ""), (dirty, body)
        if "email" in body:
            assert body["email"] == body["email"].strip().lower()
        if "companyDomain" in body:
            assert body["companyDomain"].startswith("acme") and "/" not in body["companyDomain"]
        if "crmContactId" in body:
            assert body["crmContactId"].isdigit()
        assert body["agentOId"] == "ca_e2e"
        assert all(v not in ("", None) for v in body.values())
        for spec in ("runtimeContext", "runtimeInstructions"):
            if spec in body:
                assert set(body[spec]) <= {"all", "1", "2", "3", "4", "5", "6", "7"}
                assert all(v.strip() for v in body[spec].values())


def test_step_context_lands_on_its_step_only(sim: tuple[Simulator, str]) -> None:
    """Per-step keys are sent as given and reach only their own email."""
    simulator, url = sim
    simulator.reset()
    frame = pd.DataFrame({"email": ["a@b.co"], "First Name": ["Ann"], "Note": ["N-1"]})
    out = frame.octave.sequence(
        agent="ca_1",
        context={"all": "ALL-CTX", "2": "TWO-{Note}"},
        api_key="sim-key",
        base_url=url,
        cache=False,
    )
    assert simulator.received[0]["runtimeContext"] == {"all": "ALL-CTX", "2": "TWO-N-1"}
    assert "TWO-N-1" in out.loc[0, "email_2_body"]
    assert "TWO-N-1" not in out.loc[0, "email_1_body"] + out.loc[0, "email_3_body"]
    assert all("ALL-CTX" in out.loc[0, f"email_{i}_body"] for i in (1, 2, 3))


@pytest.mark.parametrize(
    "index",
    [
        pd.Index(["x", "x", "y", "z"]),
        pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1), ("b", 1)], names=["acct", "n"]),
        pd.Index([10, 3, 3, 7]),
        pd.date_range("2026-01-01", periods=4),
    ],
)
def test_any_index_is_kept(sim: tuple[Simulator, str], index: pd.Index) -> None:
    """Duplicate, MultiIndex, integer and date indexes come back exactly, rows in place."""
    _, url = sim
    frame = pd.DataFrame(
        {"email": ["a@x.co", "b@x.co", "c@x.co", "c@x.co"], "first_name": ["A", "B", "C", "C"]},
        index=index,
    )
    out = frame.octave.sequence(
        agent="ca_1", api_key="sim-key", base_url=url, cache=False, rate=10_000
    )
    pd.testing.assert_index_equal(out.index, frame.index)
    assert list(out.email_1_greeting) == ["Hi A,", "Hi B,", "Hi C,", "Hi C,"]


def test_confidence_filter_and_result_dtypes(sim: tuple[Simulator, str]) -> None:
    """Confidence is ordered LOW < MEDIUM < HIGH and text columns use NA, never 'nan'."""
    _, url = sim
    frame = messy(60)
    out = frame.octave.sequence(
        agent="ca_1", api_key="sim-key", base_url=url, cache=False, rate=10_000
    )
    conf = out.persona_match_confidence
    assert isinstance(conf.dtype, pd.CategoricalDtype) and conf.dtype.ordered
    assert list(conf.cat.categories) == ["LOW", "MEDIUM", "HIGH"]
    high = out[out.persona_match_confidence >= "MEDIUM"]
    assert set(high.persona_match_confidence.astype(str)) <= {"MEDIUM", "HIGH"}
    assert out.email_1_subject.dtype == "string"
    assert out.octave_usage.dtype == "Float64"
    assert not (out.select_dtypes("string") == "nan").any().any()


def test_prefix_raw_and_dry_run(sim: tuple[Simulator, str]) -> None:
    """A prefix renames every output column; raw adds the JSON; dry_run sends nothing."""
    simulator, url = sim
    simulator.reset()
    frame = pd.DataFrame({"email": ["a@x.co", "a@x.co", None], "first_name": ["A", "A", "B"]})
    dry = frame.octave.sequence(
        agent="ca_1", base_url=url, dry_run=True, prefix="oc_", cache=False
    )  # no key needed for a dry run
    assert simulator.counters.requests == 0
    assert list(dry.oc_octave_status) == ["not_sent", "not_sent", "invalid"]
    payload = json.loads(dry.loc[0, "oc_octave_payload"])
    assert payload == {
        "email": "a@x.co",
        "firstName": "A",
        "outputFormat": "text",
        "agentOId": "ca_1",
    }
    summary = dry.octave.summary(prefix="oc_")
    assert "1" in repr(summary)
    out = frame.octave.sequence(
        agent="ca_1", api_key="sim-key", base_url=url, raw=True, prefix="oc_", cache=False
    )
    assert simulator.counters.agent_requests == 1  # the duplicate row shared the call
    assert all(c in frame.columns or str(c).startswith("oc_") for c in out.columns)
    assert out.loc[0, "oc_octave_response"]["found"] is True


def test_errors_raise_after_the_run(sim: tuple[Simulator, str], tmp_path: Path) -> None:
    """errors='raise' raises RunFailedError after the run, with answers kept for a resume."""
    simulator, url = sim
    simulator.reset()
    frame = pd.DataFrame({"email": ["a@x.co", None], "first_name": ["A", None]})
    with pytest.raises(of.RunFailedError, match="1 of 2 rows") as info:
        frame.octave.sequence(
            agent="ca_1", api_key="sim-key", base_url=url, errors="raise", cache=tmp_path / "c"
        )
    assert info.value.counts == {"ok": 1, "invalid": 1}
    frame.octave.sequence(agent="ca_1", api_key="sim-key", base_url=url, cache=tmp_path / "c")
    assert simulator.counters.billed == 1
