"""Excel export and import: layout, safety, round trips, plain user workbooks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from octave_frames._constants import STATUSES
from octave_frames._exceptions import ArgumentError
from octave_frames.io import read_excel, to_excel
from octave_frames.io._cells import MAX_CELL_CHARS
from octave_frames.io._sample import sample_result_frame

SHEETS = ["Contacts", "Emails", "Run"]


@pytest.fixture
def result() -> pd.DataFrame:
    """A small result frame with tricky text and a duplicated string index."""
    frame = sample_result_frame(40, steps=2)
    frame.loc[0, "Title"] = '=HYPERLINK("http://evil.example", "click")'
    frame.loc[1, "Title"] = "+1 (415) 555-0100"
    frame.loc[2, "Title"] = "@SUM(A1:A2)"
    frame.loc[3, "Title"] = "https://acme.example/about"
    frame.loc[4, "Title"] = ""
    frame.index = pd.Index([f"c{i % 30}" for i in range(40)], name="contact")
    return frame


def _cells(path: Path, sheet: str) -> list[list[openpyxl.cell.cell.Cell]]:
    """All cells of a sheet, through openpyxl."""
    return [list(row) for row in openpyxl.load_workbook(path)[sheet].iter_rows()]


def test_workbook_has_the_three_sheets_and_a_very_hidden_metadata_sheet(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """The workbook shows Contacts, Emails and Run; the metadata sheet is very hidden."""
    path = tmp_path / "out.xlsx"
    to_excel(result, path)
    book = openpyxl.load_workbook(path)
    visible = [ws.title for ws in book.worksheets if ws.sheet_state == "visible"]
    assert visible == SHEETS
    assert [ws.sheet_state for ws in book.worksheets if ws.title not in SHEETS] == ["veryHidden"]
    assert book.active.title == "Contacts"
    assert CalamineWorkbook.from_path(str(path)).sheet_names[:3] == SHEETS


def test_headers_are_bold_frozen_filtered_and_widths_are_capped(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Each sheet has a bold header row, frozen panes, an autofilter and widths in 8..60."""
    path = tmp_path / "out.xlsx"
    to_excel(result, path)
    book = openpyxl.load_workbook(path)
    contacts = book["Contacts"]
    assert contacts.freeze_panes == "B2"  # header row and the index column
    assert contacts.auto_filter.ref == f"A1:{contacts.cell(1, contacts.max_column).column_letter}41"
    for ws in (contacts, book["Emails"], book["Run"]):
        assert all(cell.font.b for cell in ws[1])
        assert ws.freeze_panes is not None
        widths = [dim.width for dim in ws.column_dimensions.values()]
        assert widths and all(8 <= width <= 60 for width in widths)
    header = [cell.value for cell in contacts[1]]
    body = contacts.cell(
        2 + int(np.argmax(result["octave_status"] == "ok")), header.index("email_1_body") + 1
    )
    assert body.alignment.wrap_text
    assert not contacts.cell(2, header.index("Email") + 1).alignment.wrap_text


def test_no_cell_is_a_formula_and_readers_get_the_literal_text(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """Text starting with = + - @ stays text for openpyxl and calamine, with a quote prefix."""
    path = tmp_path / "out.xlsx"
    to_excel(result, path)
    for sheet in SHEETS:
        assert all(cell.data_type != "f" for row in _cells(path, sheet) for cell in row)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Contacts").to_python()
    column = rows[0].index("Title")
    titles = [row[column] for row in rows[1:6]]
    assert titles[:4] == [
        '=HYPERLINK("http://evil.example", "click")',
        "+1 (415) 555-0100",
        "@SUM(A1:A2)",
        "https://acme.example/about",
    ]
    cell = openpyxl.load_workbook(path)["Contacts"].cell(2, column + 1)
    assert cell.quotePrefix
    assert not openpyxl.load_workbook(path)["Contacts"]._hyperlinks


def test_long_text_is_cut_with_a_marker_and_control_characters_are_removed(tmp_path: Path) -> None:
    """Over-long text fits the 32,767 limit (UTF-16 units) with a marker; control chars go."""
    frame = pd.DataFrame(
        {
            "long": pd.array(["x" * 40_000, "🚀" * 20_000], dtype="string"),
            "ctrl": pd.array(["a\x00b\x1fc\x0b", "tab\tnew\nline\rcr"], dtype="string"),
        }
    )
    path = tmp_path / "cut.xlsx"
    to_excel(frame, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Contacts").to_python()
    for text, units in ((rows[1][0], 40_000), (rows[2][0], 40_000)):
        assert len(text.encode("utf-16-le")) // 2 <= MAX_CELL_CHARS
        assert text.endswith(" characters]") and "… [truncated: " in text
        assert units > MAX_CELL_CHARS
    assert rows[1][1] == "abc"
    assert rows[2][1] == "tab\tnew\nline\rcr"
    run = read_excel(path, "Run")
    counts = dict(zip(run["item"], run["value"], strict=True))
    assert counts["cells cut to 32,767 characters"] == 2
    assert counts["cells with control characters removed"] == 1


def test_status_cells_are_coloured_by_conditional_formatting(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """The status column carries one fill rule per status, with the documented colours."""
    path = tmp_path / "out.xlsx"
    to_excel(result, path)
    ws = openpyxl.load_workbook(path)["Contacts"]
    header = [cell.value for cell in ws[1]]
    letter = ws.cell(1, header.index("octave_status") + 1).column_letter
    fills = {}
    for rng in ws.conditional_formatting:
        assert str(rng.sqref) == f"{letter}2:{letter}41"
        for rule in rng.rules:
            fills[rule.formula[0].strip('"')] = rule.dxf.fill.fgColor.rgb[-6:]
    assert fills == {
        "ok": "C6EFCE",
        "not_found": "D9D9D9",
        "failed": "FFC7CE",
        "invalid": "F8CBAD",
        "not_sent": "FFEB9C",
        "pending": "DDEBF7",
    }
    assert set(fills) == set(STATUSES)


def test_reexport_keeps_the_users_other_sheets(result: pd.DataFrame, tmp_path: Path) -> None:
    """Writing into an existing workbook replaces only our sheets, twice over."""
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes["A1"] = "keep me"
    notes["B2"] = "=1+1"
    book.create_sheet("Contacts")["A1"] = "old contacts"
    book.save(path)
    to_excel(result, path)
    to_excel(result.iloc[:5], path)
    reread = openpyxl.load_workbook(path)
    assert [ws.title for ws in reread.worksheets][:4] == ["Notes", "Contacts", "Emails", "Run"]
    assert reread["Notes"]["A1"].value == "keep me"
    assert reread["Notes"]["B2"].value == "=1+1" and reread["Notes"]["B2"].data_type == "f"
    assert reread["Contacts"]["A1"].value == "contact"
    pd.testing.assert_frame_equal(read_excel(path), result.iloc[:5])
    assert not list(tmp_path.glob(".octave-*"))  # no temporary files left behind


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_result_frame_round_trips_with_multiindex(
    result: pd.DataFrame, tmp_path: Path, engine: str
) -> None:
    """read_excel gives back a result frame exactly: MultiIndex, NA, '' and categoricals."""
    frame = result.copy()
    frame.index = pd.MultiIndex.from_arrays(
        [frame.index, np.arange(len(frame)) % 3], names=["contact", None]
    )
    frame.iloc[5, frame.columns.get_loc("email_1_ps")] = ""  # by position: unsorted MultiIndex
    path = tmp_path / "rt.xlsx"
    to_excel(frame, path)
    back = read_excel(path, engine=engine)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(back, frame)
    assert back["persona_match_confidence"].cat.ordered


def test_reading_survives_user_edits(result: pd.DataFrame, tmp_path: Path) -> None:
    """Added, edited and deleted cells keep the other columns' dtypes; blanks become NA."""
    path = tmp_path / "edited.xlsx"
    to_excel(result, path)
    book = openpyxl.load_workbook(path)
    ws = book["Contacts"]
    header = [cell.value for cell in ws[1]]
    ws.cell(1, len(header) + 1, "Notes")
    ws.cell(2, len(header) + 1, "call back")
    ws.cell(3, header.index("persona_match_confidence") + 1, "VERY HIGH")
    ws.delete_rows(40)
    book.save(path)
    back = read_excel(path)
    assert len(back) == 39
    assert back.columns[-1] == "Notes" and back["Notes"].iloc[0] == "call back"
    assert back["octave_usage"].dtype == "Float64"
    assert back["persona_match_confidence"].iloc[1] == "VERY HIGH"
    assert back["persona_match_confidence"].cat.ordered
    assert back.index.name == "contact"


def test_plain_user_workbook_keeps_identifiers_as_text(tmp_path: Path) -> None:
    """Leading zeros, CRM ids, phones, zips and long ids stay text; numbers and dates type."""
    path = tmp_path / "contacts.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([" Email ", "Zip", "CRM Id", "Phone", "Account", "Employees", "Revenue", "Since"])
    ws.append(
        [
            "a@x.com",
            "00123",
            "0061a00000AbCdE",
            4155550100,
            "12345678901234567",
            12,
            1.5,
            dt.datetime(2024, 1, 2),
        ]
    )
    ws.append(
        [
            "b@x.com",
            "94105",
            "0061a00000XyZ",
            4155550101,
            "2",
            None,
            2,
            dt.datetime(2024, 3, 4, 5, 6),
        ]
    )
    ws.append([None, None, None, None, None, None, None, None])
    book.save(path)
    frame = read_excel(path)
    assert list(frame.columns) == [
        "Email",
        "Zip",
        "CRM Id",
        "Phone",
        "Account",
        "Employees",
        "Revenue",
        "Since",
    ]
    assert len(frame) == 2
    assert frame["Zip"].tolist() == ["00123", "94105"]
    assert frame["CRM Id"].iloc[0] == "0061a00000AbCdE"
    assert frame["Phone"].tolist() == ["4155550100", "4155550101"]
    assert frame["Account"].tolist() == ["12345678901234567", "2"]
    assert frame["Employees"].dtype == "Int64" and frame["Employees"].isna().iloc[1]
    assert frame["Revenue"].dtype == "Float64"
    assert frame["Since"].iloc[1] == pd.Timestamp("2024-03-04 05:06")
    assert frame["Email"].dtype == "string"


def test_csv_input_is_read_with_the_same_rule(tmp_path: Path) -> None:
    """A .csv path (with a BOM) keeps 00123, types plain numbers and ISO dates."""
    path = tmp_path / "contacts.csv"
    path.write_text(
        "\ufeffZip, Count ,Day,Name\n00123,3,2024-01-05,Zoë\n10001,,2024-02-01,\n", encoding="utf-8"
    )
    frame = read_excel(path)
    assert frame["Zip"].tolist() == ["00123", "10001"]
    assert frame["Count"].dtype == "Int64"
    assert frame["Day"].iloc[0] == pd.Timestamp("2024-01-05")
    assert frame["Name"].iloc[0] == "Zoë" and pd.isna(frame["Name"].iloc[1])


def test_default_sheet_of_our_workbook_is_contacts(result: pd.DataFrame, tmp_path: Path) -> None:
    """sheet_name=0 reads Contacts even when a user's sheet comes first."""
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Readme"
    book.save(path)
    to_excel(result, path)
    pd.testing.assert_frame_equal(read_excel(path), result)
    assert read_excel(path, "Readme").empty


def test_bad_arguments_raise_argument_errors(result: pd.DataFrame, tmp_path: Path) -> None:
    """Wrong suffix, bad sheet names, a missing sheet and a non-workbook raise ArgumentError."""
    with pytest.raises(ArgumentError, match=r"\.xlsx"):
        to_excel(result, tmp_path / "out.xls")
    with pytest.raises(ArgumentError, match="sheet_names"):
        to_excel(result, tmp_path / "out.xlsx", sheet_names={"summary": "S"})
    with pytest.raises(ArgumentError, match="cannot name"):
        to_excel(result, tmp_path / "out.xlsx", sheet_names={"run": "a/b"})
    to_excel(result, tmp_path / "out.xlsx", sheet_names={"emails": None, "run": "Stats"})
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames[:2] == ["Contacts", "Stats"]
    with pytest.raises(ArgumentError, match="no sheet 'Emails'"):
        read_excel(tmp_path / "out.xlsx", "Emails")
    (tmp_path / "junk.xlsx").write_text("not a zip")
    with pytest.raises(ArgumentError):
        read_excel(tmp_path / "junk.xlsx")
    with pytest.raises(ArgumentError):
        to_excel(result, tmp_path / "junk.xlsx")


# --- round-trip property -------------------------------------------------------------------

_ILLEGAL = set(range(0x00, 0x09)) | {0x0B, 0x0C} | set(range(0x0E, 0x20)) | {0xFFFE, 0xFFFF}
_TEXT = st.one_of(
    st.text(
        st.characters(
            blacklist_categories=("Cs",), blacklist_characters="".join(map(chr, _ILLEGAL))
        ),
        max_size=12,
    ),
    st.sampled_from(["", " ", "00123", "=1+2", "-5", "a\r\nb", "_x000D_", "🚀", " x ", "nan"]),
)
_LABEL = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=6)
_MOMENT = st.datetimes(dt.datetime(1901, 1, 1), dt.datetime(2199, 12, 31)).map(
    lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)
)
_KINDS = ["string", "str", "object", "Int64", "int64", "Float64", "float64", "bool", "boolean"]
_KINDS += ["datetime", "category", "ordered"]


_INTS = st.integers(-(2**63), 2**63 - 1)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
# kind -> (values, dtype, whether NA may appear)
_SIMPLE: dict[str, tuple[st.SearchStrategy[object], object, bool]] = {
    "string": (_TEXT, "string", True),
    "object": (_TEXT, object, True),
    "Int64": (_INTS, "Int64", True),
    "int64": (_INTS, "int64", False),
    "Float64": (_FLOATS, "Float64", True),
    "float64": (_FLOATS, "float64", True),
    "bool": (st.booleans(), bool, False),
    "boolean": (st.booleans(), "boolean", True),
}
try:  # pandas 3's default `str` dtype; pandas 2.2 has no na_value=, and no such dtype
    _SIMPLE["str"] = (_TEXT, pd.StringDtype(na_value=np.nan), True)  # type: ignore[call-arg]
except TypeError:
    _KINDS.remove("str")


@st.composite
def _column(draw: st.DrawFn, kind: str, n: int) -> pd.Series:
    """One column of ``n`` values of the given kind, NA included where the dtype allows."""

    def values(elements: st.SearchStrategy[object], nullable: bool = True) -> list[object]:
        one = st.one_of(st.none(), elements) if nullable else elements
        return draw(st.lists(one, min_size=n, max_size=n))

    if kind in _SIMPLE:
        elements, dtype, nullable = _SIMPLE[kind]
        return pd.Series(values(elements, nullable), dtype=dtype)
    if kind == "datetime":
        unit = draw(st.sampled_from(["ns", "us", "ms"]))
        return pd.Series(values(_MOMENT), dtype=f"datetime64[{unit}]")
    levels = draw(st.lists(_TEXT, min_size=1, max_size=4, unique=True))
    chosen = values(st.sampled_from(levels))
    return pd.Series(pd.Categorical(chosen, categories=levels, ordered=kind == "ordered"))


@st.composite
def _index(draw: st.DrawFn, n: int) -> pd.Index:
    """An index of one of the kinds a contact frame has: default, range, text, int, multi."""
    kind = draw(st.sampled_from(["default", "range", "text", "int", "multi"]))
    name = draw(st.one_of(st.none(), _LABEL))
    if kind == "range":
        return pd.RangeIndex(5, 5 + 3 * n, 3, name=name)
    if kind == "text":  # duplicates and "" welcome
        return pd.Index(draw(st.lists(_TEXT, min_size=n, max_size=n)), dtype="string", name=name)
    if kind == "int":
        return pd.Index(
            draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype="int64", name=name
        )
    if kind == "multi":
        first = draw(st.lists(st.sampled_from(["a", "b", "Zoë"]), min_size=n, max_size=n))
        second = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
        return pd.MultiIndex.from_arrays([first, second], names=[name, None])
    return pd.RangeIndex(n)


@st.composite
def _frames(draw: st.DrawFn) -> pd.DataFrame:
    """Small frames mixing every supported dtype, labels (duplicates allowed) and index kinds."""
    n = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=5))
    labels = draw(st.lists(_LABEL, min_size=len(kinds), max_size=len(kinds)))
    frame = pd.concat([draw(_column(kind, n)) for kind in kinds], axis=1, ignore_index=True)
    frame.columns = pd.Index(labels)
    frame.index = draw(_index(n))
    return frame


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=_frames())
def test_any_small_frame_round_trips_exactly(frame: pd.DataFrame, tmp_path: Path) -> None:
    """to_excel then read_excel gives back the same frame: values, NA vs '', dtypes, index."""
    path = tmp_path / "prop.xlsx"
    to_excel(frame, path)
    pd.testing.assert_frame_equal(read_excel(path), frame)


def test_timezones_timedeltas_and_mixed_objects_round_trip(tmp_path: Path) -> None:
    """Aware datetimes (DST fold included), timedeltas and mixed object columns come back."""
    wall = pd.Timestamp("2024-10-27 02:30")  # happens twice in Paris: summer, then winter time
    summer = wall.tz_localize("Europe/Paris", ambiguous=True)
    fold = wall.tz_localize("Europe/Paris", ambiguous=False)
    frame = pd.DataFrame(
        {
            "when": pd.Series([summer, fold, pd.NaT], dtype="datetime64[us, Europe/Paris]"),
            "took": pd.to_timedelta(["1 days 02:00:00", None, "00:00:01.5"]),
            "mixed": pd.Series(["a", 2.5, None], dtype=object),
        }
    )
    path = tmp_path / "tz.xlsx"
    to_excel(frame, path)
    pd.testing.assert_frame_equal(read_excel(path), frame)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Contacts").to_python()
    assert rows[1][0] == dt.datetime(2024, 10, 27, 2, 30)  # the wall clock a person expects


def test_openpyxl_engine_decodes_ooxml_escapes(tmp_path: Path) -> None:
    """Carriage returns and literal _xHHHH_ text survive the openpyxl reader too."""
    frame = pd.DataFrame({"t": pd.array(["a\rb", "keep _x0041_ literal"], dtype="string")})
    path = tmp_path / "esc.xlsx"
    to_excel(frame, path)
    pd.testing.assert_frame_equal(read_excel(path, engine="openpyxl"), frame)


def test_frames_beyond_excels_grid_are_refused(tmp_path: Path) -> None:
    """More columns than Excel's 16,384 raise ArgumentError before anything is written."""
    wide = pd.DataFrame([list(range(16_385))])
    with pytest.raises(ArgumentError, match="16,384"):
        to_excel(wide, tmp_path / "wide.xlsx")
    assert not list(tmp_path.iterdir())


def test_a_refused_export_leaves_the_existing_workbook_and_no_temp_files(
    result: pd.DataFrame, tmp_path: Path
) -> None:
    """An export that fails after opening an existing workbook leaves it as it was."""
    path = tmp_path / "book.xlsx"
    to_excel(result, path)
    before = path.read_bytes()
    with pytest.raises(ArgumentError, match="16,384"):
        to_excel(pd.DataFrame([list(range(16_385))]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]
    with pytest.raises(FileNotFoundError, match="no such folder"):
        to_excel(result, tmp_path / "missing" / "out.xlsx")


def test_new_workbook_is_as_readable_as_any_saved_file(tmp_path: Path) -> None:
    """The atomic write does not leave the workbook user-only (mkstemp's 0600)."""
    import os

    path = tmp_path / "team.xlsx"
    old = os.umask(0o022)
    try:
        to_excel(pd.DataFrame({"a": ["x"]}), path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
