"""``to_csv``: CSV for sequencer imports, safe to open in Excel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal, get_args

import pandas as pd

from octave_frames._exceptions import ArgumentError
from octave_frames._fields import display_name
from octave_frames.io._identity import long_with_contact
from octave_frames.io._write import index_is_default

__all__ = ["CSV_LAYOUTS", "CsvLayout", "to_csv"]

CsvLayout = Literal["long", "wide"]
#: The ``layout`` values of :func:`to_csv`, default first (e.g. for a CLI's choices).
CSV_LAYOUTS: Final[tuple[CsvLayout, ...]] = get_args(CsvLayout)

# OWASP "CSV injection": a spreadsheet runs cells starting with these as formulas.
_FORMULA_START: Final = r"^[=+\-@\t\r]"


def _is_text(series: pd.Series) -> bool:
    """Tell whether a column holds text (numbers, dates and booleans are left alone)."""
    kind = series.dtype.kind if not isinstance(series.dtype, pd.CategoricalDtype) else "O"
    return kind not in "iufcbmM"


def _escape(series: pd.Series) -> pd.Series:
    """Prefix ``'`` to cells that a spreadsheet would run as a formula."""
    text = series.astype("string")
    risky = text.str.contains(_FORMULA_START, regex=True).fillna(False).astype(bool)
    return text.mask(risky, "'" + text)


def _escape_header(label: object) -> str:
    """A header as text, escaped like a cell."""
    name = display_name(label)
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def to_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    layout: CsvLayout = CSV_LAYOUTS[0],
    prefix: str = "",
) -> None:
    """Write a result frame as CSV for a sequencer import.

    ``layout="long"`` writes one row per contact and email step: ``row`` (the
    index), the contact's identifying columns (email, names, company, title,
    domain, LinkedIn, CRM ids, when present), ``step``, ``subject``, the
    sections, ``core_value_prop`` and ``text``. ``layout="wide"`` writes the
    frame itself (its index first, unless it is the default RangeIndex).

    Text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return get a leading ``'`` so a spreadsheet shows them instead of running
    them (OWASP CSV injection); number, date and boolean columns are written
    as they are. The file is UTF-8 with a byte-order mark and CRLF line ends.

    Args:
        frame: The frame to write (usually a ``sequence`` result).
        path: Target file.
        layout: ``"long"`` (one row per email, the default) or ``"wide"`` (one row per
            contact); :data:`CSV_LAYOUTS` lists them.
        prefix: The ``prefix`` the run used for its output columns.

    Raises:
        ArgumentError: ``layout`` is neither ``"long"`` nor ``"wide"``.

    Example:
        >>> to_csv(out, "sequences.csv")

    """
    if layout == "long":
        table = long_with_contact(frame, prefix=prefix)[0]
    elif layout == "wide":
        table = frame if index_is_default(frame.index) else frame.reset_index(allow_duplicates=True)
    else:
        choices = " or ".join(map(repr, CSV_LAYOUTS))
        raise ArgumentError(f"layout must be {choices}, not {layout!r}")
    columns = {
        j: _escape(table.iloc[:, j]) if _is_text(table.iloc[:, j]) else table.iloc[:, j]
        for j in range(table.shape[1])
    }
    out = pd.DataFrame(columns)
    out.columns = [_escape_header(label) for label in table.columns]
    # Excel reads a CSV without a BOM in the machine's legacy code page, turning
    # "Zoë" into "ZoÃ«"; the UTF-8 BOM makes it read UTF-8.
    out.to_csv(Path(path), index=False, encoding="utf-8-sig", lineterminator="\r\n")
