"""The long email format plus the columns that say who each email is for.

A long table keyed only by the frame's index is hard to use in a sequencer
import or a review sheet; the contact's email, name, company and ids make each
row self-explanatory. "Identifying" columns are the input columns whose
headers match a request field's synonyms (``octave_frames._fields``).
"""

from __future__ import annotations

from typing import Final

import pandas as pd

from octave_frames._fields import FIELD_SYNONYMS, display_name, normalize_header
from octave_frames._longform import LONG_FIELDS, long_with_positions
from octave_frames._results import is_output_column

__all__ = ["contact_positions", "long_with_contact"]

_IDENTIFYING: Final = frozenset(
    normalize_header(header) for headers in FIELD_SYNONYMS.values() for header in headers
)


def contact_positions(frame: pd.DataFrame, *, prefix: str = "") -> list[int]:
    """Positions of the input columns that identify a contact (email, names, company, ids)."""
    return [
        j
        for j, label in enumerate(frame.columns)
        if not is_output_column(label, prefix=prefix)
        and normalize_header(display_name(label)) in _IDENTIFYING
    ]


def long_with_contact(frame: pd.DataFrame, *, prefix: str = "") -> tuple[pd.DataFrame, int]:
    """Return ``emails_long`` with the contact's identifying columns after ``row``.

    Identifying columns whose names clash with the long format's own are left
    out. Also returns how many leading columns (row, contact, ``step``) a sheet
    should keep frozen.
    """
    long, positions = long_with_positions(frame, prefix=prefix)
    own = {"step", *LONG_FIELDS}
    row_columns = [name for name in long.columns if name not in own]
    taken = {*own, *row_columns}
    keep = [
        j
        for j in contact_positions(frame, prefix=prefix)
        if display_name(frame.columns[j]) not in taken
    ]
    contact = frame.iloc[positions, keep].reset_index(drop=True)
    parts = [long[row_columns], contact, long[["step", *LONG_FIELDS]]]
    return pd.concat(parts, axis=1), len(row_columns) + len(keep) + 1
