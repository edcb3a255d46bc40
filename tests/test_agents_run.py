"""Every agent on a frame: request fields, typed columns, invalid rows, fan-out, chaining."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import octave_frames as of
from octave_frames._results import CONFIDENCE_DTYPE
from octave_frames.testing import Simulator, simulated_client


def _opts(sim: Simulator, cache: Path, **extra: Any) -> dict[str, Any]:
    """Run arguments against ``sim`` in process, fast."""
    return {"client": simulated_client(sim), "cache": cache, "rate": 10_000, "progress": False,
            **extra}  # fmt: skip


def _sim() -> Simulator:
    """A simulator with no latency and no random misses."""
    return Simulator(latency=(0, 0), not_found_rate=0.0)


PEOPLE = pd.DataFrame(
    {
        "Email": ["ann@acme.com", "ben@globex.com", None],
        "First Name": ["Ann", "Ben", "Cy"],
        "Company": ["Acme", "Globex", None],
    },
    index=["r1", "r2", "r3"],
)
ACCOUNTS = pd.DataFrame(
    {"Company": ["Acme", "Globex", "Nobody"], "Domain": ["acme.com", "globex.com", None]},
    index=[10, 20, 30],
)


def test_enrich_and_qualify_person_give_typed_columns_and_skip_invalid_rows(
    tmp_path: Path,
) -> None:
    """Scores are Float64, confidences ordered; a row without an identifier is not billed."""
    sim = _sim()
    out = PEOPLE.octave.enrich_person(agent="ca_enrich_person_1", **_opts(sim, tmp_path / "c"))
    assert list(out.enrich_person_status) == ["ok", "ok", "invalid"]
    assert out.person_persona_match_confidence.dtype == CONFIDENCE_DTYPE
    assert out.person_summary.dtype == "string"
    assert sim.counters.billed == 2
    q = out.octave.qualify_person(agent="ca_qualify_person_1", **_opts(sim, tmp_path / "c"))
    assert q.qualification_score.dtype == "Float64"
    assert q.qualification_score.iloc[:2].between(1, 10).all()
    assert list(q.enrich_person_status) == list(out.enrich_person_status)  # kept as input
    answers = q.octave.answers()
    assert set(answers.row) == {"r1", "r2"}
    assert answers.answer.dtype == "boolean" and answers.confidence.dtype == CONFIDENCE_DTYPE
    assert sim.counters.billed == 4


def test_company_agents_take_company_fields_only(tmp_path: Path) -> None:
    """A company agent is sent the domain and name, never a person's email."""
    sim = _sim()
    frame = ACCOUNTS.assign(Email=["x@acme.com", None, None])
    out = frame.octave.enrich_company(agent="ca_enrich_company_1", dry_run=True,
                                      **_opts(sim, tmp_path / "c"))  # fmt: skip
    payload = out.enrich_company_payload.iloc[0]
    assert "companyDomain" in payload and "email" not in payload
    assert out.enrich_company_status.iloc[2] != "invalid"  # a company name is enough
    real = frame.octave.enrich_company(agent="ca_enrich_company_1", **_opts(sim, tmp_path / "c"))
    assert real.company_employee_count.dtype == "Float64"
    with pytest.raises(of.ArgumentError, match="does not take email"):
        frame.octave.qualify_company(agent="ca_q", fields={"email": "Email"},
                                     **_opts(sim, tmp_path / "c"))  # fmt: skip


def test_prospect_fans_out_and_keeps_every_company(tmp_path: Path) -> None:
    """One row per person found, with its company row; a company without a domain stays."""
    sim = _sim()
    out = ACCOUNTS.octave.prospect(agent="ca_prospector_1", limit=3, **_opts(sim, tmp_path / "c"))
    assert set(out.company_row) == {10, 20, 30}
    assert (out.company_row == 10).sum() == 3
    assert out.loc[out.company_row == 30, "prospect_status"].tolist() == ["invalid"]
    people = out[out.prospect_status == "ok"]
    assert people.email.notna().all() and (people.Company.notna()).all()
    seq = people.octave.sequence(agent="ca_seq", **_opts(sim, tmp_path / "c"))
    assert (seq.octave_status == "ok").all()
    assert (seq.prospect_status == "ok").all()


def test_a_chain_rerun_pays_for_nothing_twice(tmp_path: Path) -> None:
    """Enrich -> qualify -> filter -> sequence, run twice: the second run is all ledger."""
    sim = _sim()
    cache = tmp_path / "c"

    def chain() -> pd.DataFrame:
        step = PEOPLE.octave.enrich_person(agent="ca_enrich_person_1", **_opts(sim, cache))
        step = step.octave.qualify_person(agent="ca_qualify_person_1", **_opts(sim, cache))
        good = step[step.qualify_person_status == "ok"]
        return good.octave.sequence(agent="ca_seq", context={"all": "{person_summary}"},
                                    **_opts(sim, cache))  # fmt: skip

    first = chain()
    billed = sim.counters.billed
    assert billed == 6  # 2 people x 3 steps
    second = chain()
    assert sim.counters.billed == billed and sim.counters.duplicates == 0
    assert second.email_1_text.tolist() == first.email_1_text.tolist()
    summary = second.octave.summary()
    assert set(summary.steps) == {"enrich_person", "qualify_person", "octave"}


def test_workflows_run_async_and_refuse_sync(tmp_path: Path) -> None:
    """A workflow is always async: one run per row, with its progress counts."""
    sim = _sim()
    out = PEOPLE.iloc[:2].octave.workflow(workflow="caw_1", poll=0.02,
                                          **_opts(sim, tmp_path / "c"))  # fmt: skip
    assert (out.workflow_status == "ok").all()
    assert out.workflow_run_id.str.startswith("bsjob_").all()
    assert (out.workflow_processed_count == out.workflow_total_count).all()
    with pytest.raises(of.ArgumentError, match="mode"):
        PEOPLE.octave.workflow(workflow="caw_1", mode="sync", **_opts(sim, tmp_path / "c"))


def test_run_agent_expands_an_unknown_agent_generically(tmp_path: Path) -> None:
    """``run_agent`` runs any agent path and names its columns after the step."""
    sim = _sim()
    frame = pd.DataFrame({"Email": ["ann@acme.com"], "Company": ["Acme"], "First Name": ["Ann"]})
    out = frame.octave.run_agent("call-prep", step="prep", agent="ca_call_prep_1",
                                 **_opts(sim, tmp_path / "c"))  # fmt: skip
    assert out.prep_status.tolist() == ["ok"]
    assert any(c.startswith("prep_") and c not in ("prep_status",) for c in out.columns)
