"""Every kind of bad input a user throws at ``df.octave.sequence``.

Each gets a clear `OctaveError` naming the problem (before anything is sent), or a
per-row ``invalid`` status with a reason; never an unhandled pandas KeyError,
AttributeError, IndexError or TypeError. The input frame is never mutated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _faultkit import CONTEXT, contacts

import octave_frames as of
from octave_frames._options import SEQUENCE_CALL
from octave_frames.simulator import Simulator

AGENT = "ca_hostile"


@pytest.fixture
def sim() -> Simulator:
    """A fresh in-process simulator that answers every contact."""
    return Simulator(latency=(0, 0), not_found_rate=0.0)


def client(sim: Simulator) -> of.Client:
    """A client calling ``sim`` in process."""
    return of.Client("sim-key", base_url="http://127.0.0.1:9", transport=sim.transport())


def run(frame: Any, sim: Simulator, **kwargs: Any) -> pd.DataFrame:
    """Call ``of.sequence`` against ``sim``; fail the test if the input frame changed."""
    before = copy.deepcopy(frame)
    options: dict[str, Any] = {
        "agent": AGENT,
        "client": client(sim),
        "rate": 10_000,
        "cache": False,
        "progress": False,
    }
    options.update(kwargs)
    if options["client"] is None:
        del options["client"]
    try:
        return of.sequence(frame, **options)
    finally:
        if isinstance(frame, pd.DataFrame):
            pd.testing.assert_frame_equal(frame, before)


def refused(
    sim: Simulator, frame: Any, error: type[of.OctaveError], match: str, **kwargs: Any
) -> None:
    """Assert the call raises ``error`` matching ``match`` and sends nothing."""
    with pytest.raises(error, match=match):
        run(frame, sim, **kwargs)
    assert sim.counters.requests == 0


def statuses(out: pd.DataFrame) -> list[str]:
    """The status column as a plain list."""
    return [str(s) for s in out["octave_status"]]


# -- frames --------------------------------------------------------------------------


def test_empty_frame_returns_an_empty_result_and_sends_nothing(sim: Simulator) -> None:
    """Zero rows: the input columns plus the status columns, no request at all."""
    out = run(contacts(3).iloc[:0], sim, context=CONTEXT)
    assert len(out) == 0
    assert list(out.columns[:4]) == ["First Name", "Company", "Email", "Notes"]
    assert "octave_status" in out.columns
    assert sim.counters.requests == 0


def test_a_frame_without_columns_or_rows_is_fine(sim: Simulator) -> None:
    """``pd.DataFrame()`` is a no-op run, not a crash."""
    out = run(pd.DataFrame(), sim)
    assert len(out) == 0
    assert sim.counters.requests == 0


def test_one_row(sim: Simulator) -> None:
    """A single contact is a single call with its own answer."""
    out = run(contacts(1), sim, context=CONTEXT)
    assert statuses(out) == ["ok"]
    assert out["email_1_greeting"].iloc[0] == "Hi First0,"
    assert sim.counters.agent_requests == 1


def test_duplicate_column_names_feeding_a_field_are_refused(sim: Simulator) -> None:
    """Two 'Email' columns: a ColumnError naming the column and how to fix it."""
    frame = contacts(3)
    frame.columns = pd.Index(["First Name", "Company", "Email", "Email"])
    refused(sim, frame, of.ColumnError, "'Email'.*more than once")


def test_duplicate_column_names_elsewhere_do_not_matter(sim: Simulator) -> None:
    """Duplicated labels no field or template uses are carried through untouched."""
    frame = contacts(3)
    frame.insert(4, "x", 1)
    frame.insert(5, "x", 2, allow_duplicates=True)
    out = run(frame, sim)
    assert statuses(out) == ["ok"] * 3
    assert list(out.columns[:6]) == ["First Name", "Company", "Email", "Notes", "x", "x"]


def multiindex_frame(top: str = "person") -> pd.DataFrame:
    """Contacts under two-level column labels."""
    frame = contacts(3)
    frame.columns = pd.MultiIndex.from_tuples(
        [(top, "First Name"), ("org", "Company"), (top, "Email"), ("org", "Notes")]
    )
    return frame


def test_multiindex_columns_are_matched_on_their_joined_levels(sim: Simulator) -> None:
    """('person', 'Email') reads as 'person Email', a known header: rows are sent."""
    out = run(multiindex_frame(), sim)
    assert statuses(out) == ["ok"] * 3
    assert [body["email"] for body in sim.received] == [f"person{i}@acme.com" for i in range(3)]


def test_multiindex_columns_nobody_can_read_get_a_column_error(sim: Simulator) -> None:
    """Headers and values that identify nobody: the ColumnError names the nearest, nothing sent."""
    frame = multiindex_frame("x")
    frame[("x", "Email")] = ["n/a", "unknown", "-"]
    refused(sim, frame, of.ColumnError, "no column can identify.*nearest: 'x Email'")


def test_a_column_of_emails_is_found_by_its_values_under_any_header(sim: Simulator) -> None:
    """('x', 'Email') or an int label holding distinct addresses is the email column."""
    out = run(multiindex_frame("x"), sim)
    assert statuses(out) == ["ok"] * 3


def test_multiindex_columns_work_with_explicit_fields_and_tuple_placeholders(
    sim: Simulator,
) -> None:
    """fields= naming tuple labels sends every row, with a list spec of tuple columns."""
    out = run(
        multiindex_frame(),
        sim,
        fields={"email": ("person", "Email"), "firstName": ("person", "First Name")},
        context={"all": [("org", "Notes")]},
    )
    assert statuses(out) == ["ok"] * 3
    assert out["email_1_greeting"].tolist() == ["Hi First0,", "Hi First1,", "Hi First2,"]


def test_non_string_headers(sim: Simulator) -> None:
    """Integer headers: the emails are found by their values; fields={'email': 2} works too."""
    frame = contacts(3)
    frame.columns = pd.Index([0, 1, 2, 3])
    assert statuses(run(frame, sim)) == ["ok"] * 3
    out = run(frame, sim, fields={"email": 2, "firstName": 0})
    assert statuses(out) == ["ok"] * 3
    pd.testing.assert_index_equal(out.columns[:4], pd.Index([0, 1, 2, 3], dtype=object))


def test_mixed_odd_headers_are_carried_through(sim: Simulator) -> None:
    """None, float and Timestamp labels beside a real 'Email' header do not break the run."""
    frame = contacts(3)
    frame.columns = pd.Index([None, 1.5, "Email", pd.Timestamp("2024-01-01")], dtype=object)
    out = run(frame, sim)
    assert statuses(out) == ["ok"] * 3


def test_all_nan_identifier_columns_make_every_row_invalid_and_send_nothing(
    sim: Simulator,
) -> None:
    """Mapped but empty identifier columns: each row `invalid` with the reason, no request."""
    frame = contacts(3)
    frame[["Email", "First Name"]] = np.nan
    out = run(frame, sim)
    assert statuses(out) == ["invalid"] * 3
    assert out["octave_error"].str.startswith("no usable identifier").all()
    assert sim.counters.agent_requests == 0


def test_an_all_nan_context_column_leaves_the_key_out(sim: Simulator) -> None:
    """An empty context column renders nothing: rows go out without runtimeContext."""
    frame = contacts(3)
    frame["Notes"] = np.nan
    out = run(frame, sim, context=CONTEXT | {"2": ["Notes"]})
    assert statuses(out) == ["ok"] * 3
    assert all("runtimeContext" not in body for body in sim.received)


def test_a_one_megabyte_context_cell_makes_only_that_row_invalid(sim: Simulator) -> None:
    """A 1 MB cell is not paid for: its row is `invalid` naming the limit, others are sent."""
    frame = contacts(3)
    frame.loc["c1", "Notes"] = "x" * 1_000_000
    out = run(frame, sim, context=CONTEXT)
    assert statuses(out) == ["ok", "invalid", "ok"]
    assert "over the limit" in str(out.loc["c1", "octave_error"])
    assert sim.counters.agent_requests == 2


def test_control_characters_are_cleaned_before_sending(sim: Simulator) -> None:
    """NUL, BEL and ESC never reach Octave; the rest of the text does."""
    frame = contacts(2)
    frame["Notes"] = "a\x00b\x07c\x1b[31m done"
    out = run(frame, sim, context=CONTEXT)
    assert statuses(out) == ["ok", "ok"]
    sent = sim.received[0]["runtimeContext"]["all"]
    assert not any(ch in sent for ch in "\x00\x07\x1b")
    assert sent.endswith("done")


def test_emoji_and_joined_emoji_survive_the_round_trip(sim: Simulator) -> None:
    """Astral-plane characters and ZWJ sequences go out and come back unchanged."""
    frame = contacts(2)
    frame["First Name"] = "Zoë 👩‍👩‍👧"
    frame["Notes"] = "🚀 launch"
    out = run(frame, sim, context=CONTEXT)
    assert out["email_1_greeting"].tolist() == ["Hi Zoë 👩‍👩‍👧,"] * 2
    assert out["email_1_body"].str.contains("NOTES: 🚀 launch", regex=False).all()


def test_a_user_column_named_like_an_output_column_is_refused(sim: Simulator) -> None:
    """A frame's own 'octave_error' column would be duplicated: a ColumnError suggests prefix=."""
    frame = contacts(2)
    frame["octave_error"] = "mine"
    refused(sim, frame, of.ColumnError, "named like the output.*'octave_error'.*prefix")
    out = run(frame, sim, prefix="ai_")
    assert out.columns.is_unique
    assert statuses(out.rename(columns={"ai_octave_status": "octave_status"})) == ["ok"] * 2


def test_a_prefixed_result_can_be_re_run(sim: Simulator) -> None:
    """Re-running a frame whose results carry prefix= re-sends only its failed row."""
    sim.fail_next(1, 400)
    out = run(contacts(3), sim, prefix="ai_", concurrency=1)
    assert out["ai_octave_status"].tolist() == ["failed", "ok", "ok"]
    again = run(out, sim, prefix="ai_")
    assert again["ai_octave_status"].tolist() == ["ok"] * 3
    assert sim.counters.agent_requests == 4
    assert list(again.columns) == list(out.columns)


@pytest.mark.parametrize(
    "index",
    [
        pd.Index([0, 0, 0]),
        pd.MultiIndex.from_tuples([(1, "a"), (1, "a"), (2, "b")]),
        pd.Index(["b", "a", "b"]),
    ],
    ids=["duplicate ints", "duplicate MultiIndex", "duplicate strings"],
)
def test_duplicate_and_multi_indexes_are_kept(sim: Simulator, index: pd.Index) -> None:
    """Duplicate labels and MultiIndex rows come back as they were, each with its own answer."""
    frame = contacts(3)
    frame.index = index
    out = run(frame, sim)
    pd.testing.assert_index_equal(out.index, index)
    assert out["email_1_greeting"].tolist() == ["Hi First0,", "Hi First1,", "Hi First2,"]


@pytest.mark.parametrize(
    "cells",
    [[1, 2.5, None], [["a@b.co"], {"x": 1}, b"bytes@x.co"], [pd.Timestamp(0), pd.NaT, np.nan]],
    ids=["numbers", "containers", "times"],
)
def test_non_text_cells_in_an_identifier_column_do_not_crash(
    sim: Simulator, cells: list[Any]
) -> None:
    """Numbers, lists, dicts, bytes and timestamps in 'Email' become text or are left out."""
    frame = contacts(3)
    frame["Email"] = pd.Series(cells, index=frame.index, dtype=object)
    out = run(frame, sim)
    assert set(statuses(out)) <= {"ok", "invalid"}


# -- specs ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["8", 0, None, 1.5, True, "step1", "one"])
def test_bad_step_keys_are_named(sim: Simulator, key: Any) -> None:
    """A step key outside 'all', '1'-'7' is an ArgumentError that names it."""
    refused(sim, contacts(2), of.ArgumentError, f"unknown step key {key!r}", context={key: "x"})


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        ("{Nope}", of.ColumnError, r"placeholder \{Nope\}: no column 'Nope'; nearest: 'Notes'"),
        (["Nope"], of.ColumnError, "no column 'Nope'"),
        ("{Notes", of.ArgumentError, "unclosed '{'"),
        ("Notes}", of.ArgumentError, "single '}'"),
        ("{}", of.ArgumentError, "empty placeholder"),
        (5, of.ArgumentError, "got int"),
        ({"a": 1}, of.ArgumentError, "got dict"),
        (pd.Series(["a"], index=["zzz"]), of.ArgumentError, "index does not match"),
    ],
    ids=["unknown", "unknown in list", "unclosed", "stray", "empty", "int", "dict", "series"],
)
def test_bad_specs_are_refused_before_sending(
    sim: Simulator, spec: Any, error: type[of.OctaveError], match: str
) -> None:
    """Unknown template columns and malformed specs raise, naming the problem."""
    refused(sim, contacts(2), error, match, context={"all": spec})
    refused(sim, contacts(2), error, match, instructions={"1": spec})


def test_a_callable_spec_that_raises_makes_its_rows_invalid(sim: Simulator) -> None:
    """A user's callable failing on a row is that row's `invalid` reason, not a crash."""

    def research(row: pd.Series) -> str:
        if row["First Name"] == "First1":
            raise ValueError("no research for this one")
        return f"R: {row['Notes']}"

    out = run(contacts(3), sim, context={"all": research})
    assert statuses(out) == ["ok", "invalid", "ok"]
    assert "no research for this one" in str(out.loc["c1", "octave_error"])
    assert sim.counters.agent_requests == 2


# -- arguments -----------------------------------------------------------------------

#: One wrong value per keyword of sequence; a new keyword must add its row here.
WRONG: dict[str, Any] = {
    "agent": 123,
    "experiment": ["ae_1"],
    "fields": ["Email"],
    "context": "NOTES: {Notes}",
    "instructions": 5,
    "output_format": "pdf",
    "lang": 7,
    "playbook_context": {"a": 1},
    "custom_context": "EMEA",
    "include_full_annotation": "yes",
    "concurrency": "8",
    "rate": "fast",
    "timeout": -1,
    "max_retries": -1,
    "cache": 3.5,
    "rerun": "sometimes",
    "dedupe": "people",
    "errors": "ignore",
    "progress": "yes",
    "dry_run": "no",
    "max_credits": -5,
    "prefix": 1,
    "raw": "true",
    "mode": "batch",
    "callback_url": "ftp://hooks.example.com/x",
    "poll": 0,
    "job_timeout": -1,
    "api_key": 12345,
    "base_url": 8080,
    "client": "sim-key",
}
#: These go to a Client that sequence builds itself, so no ``client=`` may be passed.
WITHOUT_CLIENT = {"timeout", "api_key", "base_url"}


def test_the_wrong_argument_table_covers_every_keyword() -> None:
    """Every declared keyword has a wrong value below (so none goes unchecked)."""
    assert set(WRONG) == {arg.name for arg in SEQUENCE_CALL}


@pytest.mark.parametrize(("name", "value"), list(WRONG.items()), ids=list(WRONG))
def test_a_wrong_type_for_any_argument_is_an_argument_error_naming_it(
    sim: Simulator, name: str, value: Any
) -> None:
    """A wrong value for any keyword raises ArgumentError whose message names the keyword."""
    extra: dict[str, Any] = {name: value}
    if name in WITHOUT_CLIENT:
        extra.setdefault("client", None)
        extra.setdefault("api_key", "sim-key")
    refused(sim, contacts(2), of.ArgumentError, name, **extra)


@pytest.mark.parametrize("value", [float("nan"), 0, True, "30"])
def test_odd_timeouts_are_refused(sim: Simulator, value: Any) -> None:
    """NaN, zero, a bool or a string timeout is an ArgumentError, not an anyio ValueError."""
    refused(sim, contacts(1), of.ArgumentError, "timeout", client=None, api_key="k", timeout=value)


@pytest.mark.parametrize(
    "url", ["http://octave.example.com", "http://10.0.0.5:8080", "ftp://app.octavehq.com", "app"]
)
def test_a_non_https_remote_base_url_is_refused(sim: Simulator, url: str) -> None:
    """Plain HTTP to a remote host (the key in clear text) or a non-URL is refused."""
    refused(sim, contacts(1), of.ArgumentError, "base_url", client=None, api_key="k", base_url=url)


def test_agent_and_experiment_together_are_refused(sim: Simulator) -> None:
    """Octave takes one of agentOId / experimentOId; both is an ArgumentError."""
    refused(sim, contacts(1), of.ArgumentError, "not both", experiment="ae_1")


def test_client_with_its_own_settings_is_refused(sim: Simulator) -> None:
    """api_key next to client= is ambiguous: an ArgumentError saying where it belongs."""
    refused(sim, contacts(1), of.ArgumentError, "to the Client", api_key="other")


@pytest.mark.parametrize(
    "thing",
    [pd.Series(["a@b.co"]), [{"Email": "a@b.co"}], None, "contacts.xlsx", np.array([[1]])],
    ids=["Series", "list", "None", "path", "ndarray"],
)
def test_anything_but_a_frame_is_refused(sim: Simulator, thing: Any) -> None:
    """A Series (or a list, a path, ...) given as the frame is an ArgumentError naming its type."""
    expected = f"expected a pandas DataFrame, got {type(thing).__name__}"
    refused(sim, thing, of.ArgumentError, expected)


def test_an_unknown_field_name_suggests_the_right_one(sim: Simulator) -> None:
    """fields={'emial': ...} names the typo and the field it probably meant."""
    refused(sim, contacts(1), of.ArgumentError, "did you mean 'email'", fields={"emial": "Email"})


def test_a_field_naming_a_missing_column_is_a_column_error(sim: Simulator) -> None:
    """fields={'email': 'Nope'} is a ColumnError (a KeyError too) naming the nearest column."""
    with pytest.raises(KeyError, match="no column 'Nope'"):
        run(contacts(1), sim, fields={"email": "Nope"})
    assert sim.counters.requests == 0


@pytest.fixture(autouse=True)
def _no_stray_cache() -> Iterator[None]:
    """Hostile runs use cache=False; none may leave a default .octave/ directory behind."""
    yield
    assert not Path(".octave").exists()
