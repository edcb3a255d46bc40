"""From a DataFrame to sheet plans: cell XML per column, widths, wrapping, metadata.

Work is column-wise: each column is turned into a list of ``<c>`` fragments in
one pass chosen by its dtype (text, number, bool, datetime, or a per-value
path for object columns), so a 10,000 x 50 frame costs well under a second
here. Everything a cell cannot say (dtype, labels, NA vs empty string) goes
into the metadata document that ``read_excel`` honours.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from octave_frames._exceptions import ArgumentError
from octave_frames._fields import display_name
from octave_frames.io._cells import MAX_CELL_CHARS, column_letter, fit_text, xml_text
from octave_frames.io._infer import canonical_text
from octave_frames.io._layout import SheetLayout
from octave_frames.io._meta import FORMAT, blank_digest, dtype_spec, encode_label
from octave_frames.io._sheetxml import ColumnPlan, SheetPlan, Styles

__all__ = ["CellWriter", "FitStats", "index_is_default", "metadata_plan", "table_plan"]

log = logging.getLogger("octave_frames")

_MIN_WIDTH: Final = 8.0
_MAX_WIDTH: Final = 60.0
_SAMPLE: Final = 200
# Above this many characters per line a text column wraps instead of widening.
_WRAP_AT: Final = 60
# Excel keeps 15 significant digits; bigger integers are written as text.
_BIG_INT: Final = 10**15
_FORMULA_START: Final = ("=", "+", "-", "@")
_NEEDS_FIT: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Microseconds, so subtracting it never promotes a column to (overflowing) nanoseconds.
_EXCEL_EPOCH: Final = pd.Timestamp("1899-12-30").as_unit("us")
# Before this day Excel's serials carry the 1900 leap-year bug; openpyxl handles it.
_FIRST_PLAIN_DAY: Final = pd.Timestamp("1900-03-01")
_FIRST_EXCEL_DAY: Final = pd.Timestamp("1900-01-01")
_MAX_ROWS: Final = 1_048_576
_MAX_COLUMNS: Final = 16_384
# JSON is ASCII here, so chunks of this size stay far below the cell limit.
_META_CHUNK: Final = 30_000


@dataclass
class FitStats:
    """How many cells had to change to fit Excel."""

    truncated: int = 0
    cleaned: int = 0


@dataclass
class _Column:
    """One converted column: fragments plus what formatting and metadata need."""

    cells: list[str | None]
    spec: dict[str, Any]
    extras: dict[str, Any]
    lengths: list[int]
    wrap: bool = False


class CellWriter:
    """Builds ``<c>`` fragments with the workbook's style ids, counting fixes."""

    def __init__(self, styles: Styles, stats: FitStats) -> None:
        self.styles = styles
        self.stats = stats

    def text(self, value: str, wrap: bool = False) -> str:
        """Fragment of one text cell (fitted, escaped, never a formula)."""
        if len(value) * 2 > MAX_CELL_CHARS or _NEEDS_FIT.search(value):
            value, cleaned, cut = fit_text(value)
            self.stats.cleaned += cleaned
            self.stats.truncated += cut
        if value.startswith(_FORMULA_START):
            style = self.styles.quote_wrap if wrap else self.styles.quote
        else:
            style = self.styles.wrap if wrap else ""
        return f'{style} t="inlineStr"><is><t xml:space="preserve">{xml_text(value)}</t></is></c>'

    def header(self, value: str) -> str:
        """Fragment of a bold header cell."""
        fitted = fit_text(value)[0]
        body = xml_text(fitted)
        return f'{self.styles.header} t="inlineStr"><is><t xml:space="preserve">{body}</t></is></c>'

    def number(self, value: float) -> str | None:
        """Fragment of a number cell; text for what Excel cannot hold as a number."""
        if isinstance(value, float) and not math.isfinite(value):
            return None if math.isnan(value) else self.text(repr(value))
        if isinstance(value, int) and abs(value) >= _BIG_INT:
            return self.text(str(value))
        return f"><v>{value!r}</v></c>"

    def moment(self, value: dt.datetime | dt.date, style: str) -> str:
        """Fragment of a date cell; ISO text before 1900, which Excel cannot show."""
        stamp = pd.Timestamp(value)
        if stamp < _FIRST_EXCEL_DAY:
            return self.text(stamp.isoformat())
        # Lazy: importing the package must not load openpyxl (it knows the 1900 leap-year bug).
        from openpyxl.utils.datetime import to_excel as excel_serial

        serial = excel_serial(stamp.to_pydatetime())  # type: ignore[no-untyped-call]
        return f"{style}><v>{serial!r}</v></c>"

    def any(self, value: object, wrap: bool = False) -> str | None:
        """Fragment of one value of an object column, by its Python type."""
        if value is None or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, str):
            return self.text(value, wrap) if value else None
        if isinstance(value, bool | np.bool_):
            return f' t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float | np.integer | np.floating):
            number = value.item() if isinstance(value, np.generic) else value
            return self.number(number)
        if isinstance(value, dt.datetime | dt.date):
            stamp = pd.Timestamp(value)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_localize(None)
            return self.moment(stamp, self.styles.datetime)
        return self.text(canonical_text(value))


def _lengths(values: Sequence[object]) -> list[int]:
    """Display lengths (longest line) of the first present values."""
    out = []
    for value in values:
        if value is None:
            continue
        text = value if isinstance(value, str) else canonical_text(value)
        out.append(max((len(line) for line in text.split("\n")), default=0))
        if len(out) >= _SAMPLE:
            break
    return out


def _na_flavour(series: pd.Series) -> str:
    """Name the NA object an object column uses, so reading can put the same one back."""
    for value in series[series.isna()].head(1):
        if value is None:
            return "none"
        if value is pd.NA:
            return "NA"
        if value is pd.NaT:
            return "NaT"
        return "nan"
    return "none"


def _convert(series: pd.Series, cells: CellWriter) -> _Column:
    """Turn one column into cell fragments by its dtype."""
    dtype = series.dtype
    spec = dtype_spec(dtype)
    extras: dict[str, Any] = {}
    missing = series.isna().to_numpy(dtype=bool)
    kind = spec["kind"]
    if kind in ("string", "other", "timedelta") or (
        kind == "category" and spec["categories_dtype"]["kind"] in ("string", "object")
    ):
        values = series.astype(object).where(~missing, None).tolist()
        if kind in ("other", "timedelta"):
            values = [None if v is None else str(v) for v in values]
        lengths = _lengths(values)
        wrap = (bool(lengths) and max(lengths) > _WRAP_AT) or any(
            "\n" in v for v in values[:_SAMPLE] if isinstance(v, str)
        )
        text = cells.text
        out = [text(v, wrap) if v else None for v in values]
        return _Column(out, spec, extras, lengths, wrap)
    if kind == "number":
        if series.dtype.kind == "f":
            values = series.to_numpy(dtype="float64", na_value=np.nan).tolist()
        else:
            values = series.astype(object).where(~missing, None).tolist()
            values = [None if v is None else int(v) for v in values]
        number = cells.number
        out = [None if v is None else number(v) for v in values]
        return _Column(out, spec, extras, _lengths(values))
    if kind == "bool":
        flags = series.astype(object).where(~missing, None).tolist()
        out = [None if f is None else f' t="b"><v>{int(f)}</v></c>' for f in flags]
        return _Column(out, spec, extras, [5])
    if kind == "datetime":
        naive = series
        if spec["tz"]:
            naive = series.dt.tz_localize(None)
            # Wall-clock times repeat once a year; remember which were summer time.
            relocal = naive.dt.tz_localize(spec["tz"], ambiguous="NaT", nonexistent="NaT")
            twice = np.flatnonzero(relocal.isna().to_numpy() & ~missing)
            summer = [int(p) for p in twice if series.iloc[p].dst()]
            if summer:
                extras["dst"] = summer
        whole_days = bool((naive.dropna() == naive.dropna().dt.normalize()).all())
        style = cells.styles.date if whole_days else cells.styles.datetime
        out = _serials(naive, missing, style, cells)
        return _Column(out, spec, extras, [10 if whole_days else 19])
    values = series.astype(object).tolist()
    if kind == "object":
        extras["na"] = _na_flavour(series)
        present = [v for v, m in zip(values, missing, strict=True) if not m]
        if present and all(isinstance(v, dict | list) for v in present):
            # Parsed JSON (``raw=True``'s octave_response): written as JSON, read back parsed.
            extras["json"] = True
            values = [
                v if m else json.dumps(v, ensure_ascii=False)
                for v, m in zip(values, missing, strict=True)
            ]
    # Mixed columns (the Run sheet's values) wrap cell by cell: only the long texts.
    wraps = [isinstance(v, str) and _wraps(v) for v in values]
    out = [None if m else cells.any(v, w) for v, m, w in zip(values, missing, wraps, strict=True)]
    shown = [None if m else v for v, m in zip(values, missing, strict=True)]
    return _Column(out, spec, extras, _lengths(shown), any(wraps))


def _wraps(text: str) -> bool:
    """Tell whether a text is long or multi-line enough to wrap in its cell."""
    return "\n" in text or len(text) > _WRAP_AT


def _serials(
    naive: pd.Series, missing: np.ndarray, style: str, cells: CellWriter
) -> list[str | None]:
    """Date cells as Excel serial numbers, computed for the whole column at once."""
    # In nanoseconds, dates after ~2193 overflow when measured from 1899.
    stamps = naive.dt.as_unit("us") if naive.dt.unit == "ns" else naive
    days = ((stamps - _EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(
        dtype="float64", na_value=np.nan
    )
    early = (stamps < _FIRST_PLAIN_DAY).to_numpy(dtype=bool, na_value=False)
    out: list[str | None] = []
    for value, gone, odd, stamp in zip(days.tolist(), missing, early, stamps, strict=True):
        if gone:
            out.append(None)
        elif odd:
            out.append(cells.moment(stamp, style))
        else:
            out.append(f"{style}><v>{value!r}</v></c>")
    return out


def _width(header: str, lengths: Sequence[int], wrap: bool) -> float:
    """Column width from the header and a sample of value lengths, capped."""
    # The 90th percentile: one freak value should not make a column huge.
    longest = sorted(lengths)[int(0.9 * (len(lengths) - 1))] if lengths else 0
    if wrap:
        longest = max(longest, int(_MAX_WIDTH))
    # +4 leaves room for the autofilter button beside the header.
    wanted = max(len(header) + 4, longest + 2)
    return float(min(max(wanted, _MIN_WIDTH), _MAX_WIDTH))


def index_is_default(index: pd.Index) -> bool:
    """Tell whether ``index`` is the unnamed 0..n-1 RangeIndex, which is not worth a column."""
    return (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )


def _index_headers(index: pd.Index) -> list[str]:
    """Header texts of the index columns: level names, else ``index`` / ``level_k``."""
    if isinstance(index, pd.MultiIndex):
        return [
            display_name(n) if n is not None else f"level_{k}" for k, n in enumerate(index.names)
        ]
    return [display_name(index.name) if index.name is not None else "index"]


def table_plan(
    name: str,
    frame: pd.DataFrame,
    cells: CellWriter,
    *,
    status_label: Hashable | None = None,
    freeze_after: int = 0,
    layout: SheetLayout | None = None,
) -> tuple[SheetPlan, dict[str, Any]]:
    """Plan a sheet for ``frame`` (index as leading columns unless default) and its metadata.

    Args:
        name: The sheet's name.
        frame: The frame to show.
        cells: Builds the cell fragments.
        status_label: The column whose cells are coloured by status, if any.
        freeze_after: Leading columns (after the index) to keep frozen.
        layout: Where the sheet shows each column and which to fold; frame order when None.

    Returns:
        The sheet plan and the metadata document describing it. The metadata lists
        columns in sheet order; ``columns.frame_positions`` maps them back.

    """
    write_index = not index_is_default(frame.index)
    width = frame.shape[1] + (frame.index.nlevels if write_index else 0)
    if len(frame) + 1 > _MAX_ROWS or width > _MAX_COLUMNS:
        raise ArgumentError(
            f"sheet {name!r} would have {len(frame) + 1:,} rows x {width:,} columns; "
            f"Excel allows {_MAX_ROWS:,} x {_MAX_COLUMNS:,}"
        )
    index = frame.index
    levels: list[pd.Series] = []
    headers: list[str] = []
    if write_index:
        headers = _index_headers(index)
        levels = [
            pd.Series(index.get_level_values(k), index=range(len(frame)))
            for k in range(index.nlevels)
        ]
    if layout is None:
        layout = SheetLayout(tuple(range(frame.shape[1])))
    order = layout.order
    if sorted(order) != list(range(frame.shape[1])):
        raise ValueError(f"layout order {order!r} is not a permutation of the frame's columns")
    headers += [display_name(frame.columns[j]) for j in order]
    sources = [*levels, *(frame.iloc[:, j] for j in order)]

    plans: list[ColumnPlan] = []
    specs: list[dict[str, Any]] = []
    extras: dict[str, Any] = {}
    empties: dict[str, list[int]] = {}
    blanks: dict[str, str] = {}
    for position, (header, source) in enumerate(zip(headers, sources, strict=True)):
        column = _convert(source.reset_index(drop=True), cells)
        plans.append(
            ColumnPlan(
                cells.header(header), column.cells, _width(header, column.lengths, column.wrap)
            )
        )
        specs.append(column.spec)
        if column.extras:
            extras[str(position)] = column.extras
        blank = np.fromiter((c is None for c in column.cells), dtype=bool, count=len(column.cells))
        empty = np.flatnonzero(blank & source.notna().to_numpy(dtype=bool))
        if len(empty):
            empties[str(position)] = empty.tolist()
            blanks[str(position)] = blank_digest(blank)

    status = None
    if status_label is not None:
        found = [k for k, j in enumerate(order) if frame.columns[j] == status_label]
        status = found[0] + len(levels) if found else None
    frozen = len(levels) + freeze_after
    plan = SheetPlan(
        name=name,
        columns=plans,
        rows=len(frame),
        freeze=f"{column_letter(frozen + 1)}2",
        status_column=status,
        folded=tuple((first + len(levels), last + len(levels)) for first, last in layout.folded),
    )
    columns = frame.columns
    meta = {
        "format": FORMAT,
        "sheet": name,
        "rows": len(frame),
        "headers": [fit_text(header)[0].strip() for header in headers],
        "index": {
            "levels": len(levels),
            "names": [encode_label(n) for n in index.names],
            "range": [index.start, index.step] if isinstance(index, pd.RangeIndex) else None,
        },
        "columns": {
            "labels": [encode_label(columns[j]) for j in order],
            "frame_positions": list(order),
            "names": [encode_label(n) for n in columns.names],
            "dtype": dtype_spec(columns.dtype),
        },
        "specs": specs,
        "extras": extras,
        "empties": empties,
        "blanks": blanks,
    }
    return plan, meta


def metadata_plan(name: str, document: str, cells: CellWriter) -> SheetPlan:
    """Plan the very hidden sheet that carries the metadata JSON, in cell-sized chunks."""
    chunks = [document[i : i + _META_CHUNK] for i in range(0, len(document), _META_CHUNK)]
    column = ColumnPlan(header="", cells=[cells.text(chunk) for chunk in chunks])
    return SheetPlan(
        name=name,
        columns=[column],
        rows=len(chunks),
        header=False,
        freeze=None,
        autofilter=False,
        hidden=True,
    )
