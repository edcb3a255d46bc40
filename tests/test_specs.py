"""Tests for octave_frames._specs: checking and rendering context / instructions specs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from octave_frames._exceptions import ArgumentError, ColumnError
from octave_frames._fields import ColumnFinder
from octave_frames._specs import (
    ColumnTexts,
    CompiledSpec,
    Rendered,
    normalize_steps,
    parse_template,
)
from octave_frames.testing import Simulator, simulated_client


def render(frame: pd.DataFrame, spec: object, key: str = "all") -> Rendered:
    """Check ``spec`` against ``frame`` and render it for every row."""
    checked = normalize_steps({key: spec}, argument="context")[key]
    compiled = CompiledSpec(key, checked, frame, ColumnFinder(frame.columns), argument="context")
    return compiled.render(ColumnTexts(frame))


@pytest.fixture
def contacts() -> pd.DataFrame:
    """Three contacts with spaces in headers, blanks and a float id column."""
    return pd.DataFrame(
        {
            "Account Research": ["Grew 8x", None, "  "],
            "Event": ["Signal Live", "Summit", None],
            "CRM Id": [12345.0, np.nan, 7.0],
            "Met": [pd.Timestamp("2025-03-15"), pd.NaT, pd.Timestamp("2025-04-01")],
        },
        index=["r1", "r2", "r3"],
    )


# --- normalize_steps ---------------------------------------------------------------------------


def test_step_keys_are_normalised_and_ordered() -> None:
    """'all' in any case, '1'…'7' and ints 1-7 become the sent keys, in step order."""
    specs = normalize_steps(
        {7: "g", " ALL ": "a", "3": "c", np.int64(2): "b", "5": None}, argument="context"
    )
    assert specs == {"all": "a", "2": "b", "3": "c", "7": "g"}
    assert list(specs) == ["all", "2", "3", "7"]


def test_none_means_no_specs() -> None:
    """No mapping and an empty mapping both mean no specs; a None spec drops its key."""
    assert normalize_steps(None, argument="context") == {}
    assert normalize_steps({}, argument="context") == {}
    assert normalize_steps({"1": None}, argument="context") == {}


@pytest.mark.parametrize("key", [0, 8, "8", "first", "step1", True, 1.0, None, ("all",)])
def test_unknown_step_key_names_it_and_the_valid_ones(key: object) -> None:
    """Anything but 'all', '1'…'7' or ints 1-7 raises ArgumentError naming key and valid keys."""
    with pytest.raises(ArgumentError) as info:
        normalize_steps({key: "x"}, argument="instructions")
    message = str(info.value)
    assert message.startswith("instructions:")
    assert repr(key) in message
    assert "'all', '1'…'7'" in message


def test_same_step_twice_is_refused() -> None:
    """1 and '1' (or 'all' and 'ALL') name one step: ArgumentError naming both."""
    with pytest.raises(ArgumentError, match=r"1 and '1' both mean step '1'"):
        normalize_steps({1: "a", "1": "b"}, argument="context")


def test_spec_map_must_be_a_mapping() -> None:
    """A bare string is refused with a hint to wrap it in a dict."""
    with pytest.raises(ArgumentError, match=r"context must be a dict such as \{'all': ...\}"):
        normalize_steps("Keep it short", argument="context")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "type_name"),
    [({"a": 1}, "dict"), (3, "int"), (pd.DataFrame(), "DataFrame"), (np.array(["a"]), "ndarray")],
)
def test_wrong_spec_type_names_key_and_type(spec: object, type_name: str) -> None:
    """A spec that is no template, list, Series or callable raises naming the key and type."""
    with pytest.raises(ArgumentError, match=rf"context\['2'\]: .*got {type_name}"):
        normalize_steps({2: spec}, argument="context")


def test_list_items_must_be_column_names() -> None:
    """A list holding a list is not a list of column names."""
    with pytest.raises(ArgumentError, match=r"context\['all'\]: .*\['a'\] is not a column name"):
        normalize_steps({"all": ["Event", ["a"]]}, argument="context")


def test_tuple_and_index_specs_become_lists() -> None:
    """Tuples and pd.Index of columns are accepted as list specs."""
    specs = normalize_steps({"1": ("a", "b"), "2": pd.Index(["c"])}, argument="context")
    assert specs == {"1": ["a", "b"], "2": ["c"]}


@pytest.mark.parametrize(
    ("template", "problem"),
    [("{Event", "unclosed '{'"), ("Event}", "single '}'"), ("a {} b", "empty placeholder")],
)
def test_malformed_template_names_the_key(template: str, problem: str) -> None:
    """Unbalanced braces and empty placeholders raise ArgumentError naming the step key."""
    with pytest.raises(ArgumentError, match=rf"context\['all'\]: bad template: {problem}"):
        normalize_steps({"all": template}, argument="context")


# --- templates --------------------------------------------------------------------------------


def test_parse_template() -> None:
    """Placeholder names are the verbatim text between braces; doubled braces are literal."""
    assert parse_template("{{x}} {Revenue ($): Q1} and {a!r}") == (
        ["{x} ", " and ", ""],
        ["Revenue ($): Q1", "a!r"],
    )
    assert parse_template("no placeholders") == (["no placeholders"], [])


def test_template_with_spaces_and_literal_braces(contacts: pd.DataFrame) -> None:
    """Names with spaces resolve, {{ }} stay literal, and cleaned values are substituted."""
    rendered = render(contacts, "{{json}} RESEARCH:\n{Account Research} @ {Event} #{CRM Id} {Met}")
    assert rendered.texts == [
        "{json} RESEARCH:\nGrew 8x @ Signal Live #12345 2025-03-15",
        "{json} RESEARCH:\n @ Summit #",
        "{json} RESEARCH:\n @  #7 2025-04-01",
    ]
    assert rendered.errors == {}


def test_template_whose_placeholders_are_all_empty_renders_nothing() -> None:
    """A row where every placeholder is empty leaves the key out instead of a bare label."""
    frame = pd.DataFrame({"Research": ["x", None, " ", np.nan]})
    assert render(frame, "RESEARCH:\n{Research}").texts == ["RESEARCH:\nx", None, None, None]


def test_constant_template_is_the_same_for_every_row(contacts: pd.DataFrame) -> None:
    """A string without placeholders is sent unchanged (stripped) for every row."""
    assert render(contacts, "  Keep it short. ").texts == ["Keep it short."] * 3
    assert render(contacts, "   ").texts == [None] * 3


def test_missing_placeholder_names_it_and_the_nearest(contacts: pd.DataFrame) -> None:
    """A placeholder naming no column raises ColumnError with the nearest columns."""
    with pytest.raises(ColumnError) as info:
        render(contacts, "{Acount Research}")
    message = str(info.value)
    assert "context['all'] placeholder {Acount Research}" in message
    assert "nearest: 'Account Research'" in message


def test_template_finds_int_and_multiindex_columns() -> None:
    """'{0}' finds column 0; '{Company Name}' finds the MultiIndex column ('Company', 'Name')."""
    frame = pd.DataFrame([["a", "Acme"]], columns=[0, 1])
    assert render(frame, "{0}/{1}").texts == ["a/Acme"]
    frame.columns = pd.MultiIndex.from_tuples([("Contact", "Email"), ("Company", "Name")])
    assert render(frame, "at {Company Name}").texts == ["at Acme"]


def test_template_on_duplicated_column_is_ambiguous() -> None:
    """A placeholder naming a duplicated column raises ColumnError naming it."""
    frame = pd.DataFrame([["a", "b"]], columns=["Event", "Event"])
    with pytest.raises(ColumnError, match="'Event' appears 2 times"):
        render(frame, "{Event}")


def test_control_characters_are_removed_from_templates(contacts: pd.DataFrame) -> None:
    """Control characters in the template text and in values never reach a request."""
    frame = pd.DataFrame({"Event": ["Sum\x00mit\x1b"]})
    assert render(frame, "A\x07\r\n{Event}").texts == ["A\nSummit"]


# --- lists ------------------------------------------------------------------------------------


def test_list_spec_builds_labelled_blocks(contacts: pd.DataFrame) -> None:
    """Each non-empty cell becomes a 'NAME:' line plus value; blank lines join the blocks."""
    rendered = render(contacts, ["Event", "Account Research", "CRM Id"])
    assert rendered.texts == [
        "EVENT:\nSignal Live\n\nACCOUNT RESEARCH:\nGrew 8x\n\nCRM ID:\n12345",
        "EVENT:\nSummit",
        "CRM ID:\n7",
    ]


def test_list_spec_with_all_cells_empty_and_empty_list() -> None:
    """A row whose listed cells are all empty, and an empty list, render nothing."""
    frame = pd.DataFrame({"a": [None, "x"]})
    assert render(frame, ["a"]).texts == [None, "A:\nx"]
    assert render(frame, []).texts == [None, None]


def test_list_spec_unknown_column(contacts: pd.DataFrame) -> None:
    """A listed column that does not exist raises ColumnError naming it and the nearest."""
    with pytest.raises(ColumnError, match=r"context\['all'\]: no column 'Evnt'; nearest: 'Event'"):
        render(contacts, ["Event", "Evnt"])


# --- Series -----------------------------------------------------------------------------------


def test_series_with_the_same_index(contacts: pd.DataFrame) -> None:
    """A Series built from the frame renders its cleaned values row by row."""
    series = contacts["Event"] + "!"
    assert render(contacts, series).texts == ["Signal Live!", "Summit!", None]


def test_series_is_aligned_on_labels_not_positions(contacts: pd.DataFrame) -> None:
    """A permuted or partial Series lands on the rows its labels name; others stay empty."""
    series = pd.Series({"r3": "third", "r1": 1.0})
    assert render(contacts, series).texts == ["1", None, "third"]


def test_series_with_foreign_labels_is_refused(contacts: pd.DataFrame) -> None:
    """A Series whose labels are not the frame's (e.g. after reset_index) is an ArgumentError."""
    with pytest.raises(
        ArgumentError, match=r"context\['all'\]: .*labels not in the frame: 0, 1, 2"
    ):
        render(contacts, pd.Series(["a", "b", "c"]))


def test_series_with_duplicated_index() -> None:
    """With duplicate labels the Series must carry exactly the frame's index, used by position."""
    frame = pd.DataFrame({"a": ["x", "y", "z"]}, index=["k", "k", "j"])
    same = pd.Series(["one", "two", "three"], index=["k", "k", "j"])
    assert render(frame, same).texts == ["one", "two", "three"]
    with pytest.raises(ArgumentError, match="duplicate labels"):
        render(frame, pd.Series(["one", "three"], index=["k", "j"]))
    unique = pd.DataFrame({"a": ["x", "y"]}, index=["k", "j"])
    with pytest.raises(ArgumentError, match="duplicate labels"):
        render(unique, pd.Series(["one", "two", "three"], index=["k", "k", "j"]))


def test_series_on_multiindex_rows() -> None:
    """A Series aligns on a MultiIndex row index, including a reordered subset."""
    index = pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)])
    frame = pd.DataFrame({"x": [1, 2, 3]}, index=index)
    series = pd.Series(["B1", "A1"], index=pd.MultiIndex.from_tuples([("b", 1), ("a", 1)]))
    assert render(frame, series).texts == ["A1", None, "B1"]


# --- callables --------------------------------------------------------------------------------


def test_callable_gets_each_row_with_its_own_types() -> None:
    """The row keeps ints as ints next to floats and is named by its index label."""
    frame = pd.DataFrame({"id": [12345, 7], "score": [0.5, np.nan]}, index=["a", "b"])
    seen: list[tuple[object, object, object]] = []

    def spec(row: pd.Series[Any]) -> str:
        seen.append((row.name, row["id"], row["score"]))
        return f"{row['id']}"

    assert render(frame, spec).texts == ["12345", "7"]
    assert seen[0] == ("a", 12345, 0.5)
    assert type(seen[0][1]) is int


def test_callable_exception_becomes_the_rows_reason() -> None:
    """An exception in the callable marks only that row, naming the step key and the error."""
    frame = pd.DataFrame({"n": [1, 0, 2]})
    rendered = render(frame, lambda row: f"{10 // row['n']}", key="3")
    assert rendered.texts == ["10", None, "5"]
    assert rendered.errors == {
        1: "context['3'] raised ZeroDivisionError: integer division or modulo by zero"
    }


def test_callable_results_are_cleaned_or_refused() -> None:
    """None and blanks render nothing, numbers are cleaned, containers mark the row invalid."""
    results: list[object] = [None, "  ", 12.0, float("nan"), ["a"], " ok "]
    frame = pd.DataFrame({"i": range(len(results))})
    rendered = render(frame, lambda row: results[row["i"]])
    assert rendered.texts == [None, None, "12", None, None, "ok"]
    assert rendered.errors == {4: "context['all'] returned list, not str or None"}


def test_callable_cannot_mutate_the_frame() -> None:
    """Writing into the row handed to a callable leaves the frame untouched."""
    frame = pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]})
    before = copy.deepcopy(frame)

    def spec(row: pd.Series[Any]) -> str:
        row["a"] = "changed"
        row.iloc[1] = -1
        return str(row["a"])

    assert render(frame, spec).texts == ["changed", "changed"]
    pd.testing.assert_frame_equal(frame, before)


def test_callable_on_a_frame_without_columns() -> None:
    """A callable still runs once per row when the frame has an index but no columns."""
    frame = pd.DataFrame(index=["a", "b"])
    assert render(frame, lambda row: str(row.name)).texts == ["a", "b"]


def test_callable_raising_on_every_leading_row_is_one_error() -> None:
    """Failing alike on the first five rows raises once, naming spec, error and first row."""
    frame = pd.DataFrame({"n": range(30)}, index=[f"c{i}" for i in range(30)])
    calls: list[object] = []

    def spec(row: pd.Series[Any]) -> str:
        calls.append(row.name)
        return str(row["Missing Column"])

    with pytest.raises(ArgumentError) as info:
        render(frame, spec)
    message = str(info.value)
    assert message.startswith("context['all']: the callable raised KeyError: 'Missing Column'")
    assert "on row 'c0'" in message and "first 5 rows" in message
    assert "nothing was sent" in message
    assert isinstance(info.value.__cause__, KeyError)
    assert calls == ["c0", "c1", "c2", "c3", "c4"]


@pytest.mark.parametrize("rows", [1, 3])
def test_small_frame_failing_on_every_row_is_one_error(rows: int) -> None:
    """A frame smaller than the probe raises when the callable fails on all of its rows."""
    frame = pd.DataFrame({"n": range(rows)}, index=pd.Index(range(10, 10 + rows)))
    with pytest.raises(ArgumentError, match=r"ZeroDivisionError.*on row 10") as info:
        render(frame, lambda row: str(1 // 0), key="2")
    assert str(info.value).startswith("context['2']")
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_callable_failing_on_leading_rows_with_mixed_errors_marks_rows() -> None:
    """Different exception types on the leading rows stay per-row reasons, not one error."""
    frame = pd.DataFrame({"n": range(6)})

    def spec(row: pd.Series[Any]) -> str:
        if row["n"] == 2:
            raise ValueError("odd one")
        raise KeyError("usual")

    rendered = render(frame, spec)
    assert rendered.texts == [None] * 6
    assert sorted(rendered.errors) == list(range(6))
    assert rendered.errors[2] == "context['all'] raised ValueError: odd one"


def test_callable_failing_after_a_good_row_marks_only_failing_rows() -> None:
    """Once a leading row renders, later failures (even all of them) are per-row reasons."""
    frame = pd.DataFrame({"n": range(8)})
    rendered = render(frame, lambda row: "ok" if row["n"] == 0 else str(1 // 0))
    assert rendered.texts == ["ok"] + [None] * 7
    assert sorted(rendered.errors) == list(range(1, 8))


def test_broken_callable_stops_a_run_before_anything_is_sent() -> None:
    """Through ``sequence``, a callable failing on every row raises and sends no request."""
    sim = Simulator(latency=(0, 0))
    frame = pd.DataFrame(
        {"Email": [f"p{i}@acme.com" for i in range(30)], "Company": ["Acme"] * 30},
        index=pd.Index([f"c{i}" for i in range(30)], name="contact"),
    )
    with pytest.raises(ArgumentError, match=r"instructions\['all'\].*AttributeError.*'c0'"):
        frame.octave.sequence(
            agent="ca_specs",
            client=simulated_client(sim),
            instructions={"all": lambda row: row.no_such_column.upper()},
            cache=False,
            progress=False,
        )
    assert sim.counters.requests == 0
