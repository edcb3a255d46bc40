"""The long email format: one row per contact and step.

``emails_long`` turns the wide ``email_{i}_*`` columns of a result frame into
one row per (contact, step) that has any content. It works column-wise: for
each field the step columns are stacked once and gathered with one ``take``,
so 100k contacts x 3 steps cost a few tenths of a second.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from octave_frames._constants import SECTIONS
from octave_frames._exceptions import ArgumentError
from octave_frames._results import step_count

__all__ = ["LONG_FIELDS", "emails_long", "index_columns", "long_with_positions"]

#: Per-step fields, in the order of the long format (after ``row`` and ``step``).
LONG_FIELDS: tuple[str, ...] = ("subject", *SECTIONS, "core_value_prop", "text")

_STATUS: Final = "octave_status"
# What a result column looks like under any prefix: the prefix is group 1.
_RESULT_RE: Final = re.compile(
    rf"(.*?)(?:{_STATUS}|email_[1-9][0-9]*_(?:{'|'.join(LONG_FIELDS)}))", re.DOTALL
)


def index_columns(index: pd.Index, taken: Sequence[Hashable] = ()) -> list[str]:
    """Column names standing for the index levels in the long format.

    A flat index becomes ``row``. A MultiIndex becomes one column per level,
    named after the level, or ``row_{k}`` when the level has no name or its name
    would clash with ``taken`` or with another level.
    """
    if not isinstance(index, pd.MultiIndex):
        return ["row"]
    names: list[str] = []
    for k, name in enumerate(index.names):
        label = str(name) if name is not None else ""
        if not label or label in taken or label in names or label == "step":
            label = f"row_{k}"
        names.append(label)
    return names


def _has_content(column: pd.Series) -> npt.NDArray[np.bool_]:
    """Mark the cells that hold a value that is neither NA nor an empty string."""
    present = column.notna().to_numpy(dtype=bool, copy=True)
    if present.any():
        text = column[present].astype("string")
        present[present] = text.ne("").to_numpy(dtype=bool, na_value=False)
    return present


def emails_long(frame: pd.DataFrame, *, prefix: str = "") -> pd.DataFrame:
    """One row per contact and step that has any content.

    Columns: the original index as ``row`` (a MultiIndex gives one column per
    level, named by the level name or ``row_0``, ``row_1``, ... when unnamed),
    then ``step`` (int), ``subject``, the seven sections, ``core_value_prop``
    and ``text``. Rows follow the frame's order, steps ascending within a
    contact; the result has a RangeIndex. A step counts when any of its fields
    is neither NA nor an empty string.

    Args:
        frame: A result frame of ``df.octave.sequence``.
        prefix: The ``prefix`` the run used for its output columns.

    Returns:
        A new frame; empty (with those columns) when the run produced no emails,
        e.g. every row failed.

    Raises:
        ArgumentError: ``frame`` holds no sequence results under ``prefix`` (neither
            an ``octave_status`` nor any ``email_*`` column): it was never run, or
            the run used another ``prefix``; the message names any prefix seen.

    Example:
        >>> long = emails_long(out)
        >>> long[long.step == 1][["row", "subject"]]

    """
    if f"{prefix}{_STATUS}" not in frame.columns and step_count(frame.columns, prefix=prefix) == 0:
        raise ArgumentError(_no_results_message(frame.columns, prefix))
    return long_with_positions(frame, prefix=prefix)[0]


def _no_results_message(columns: Iterable[object], prefix: str) -> str:
    """Say that the frame was never run, and point at a prefix its columns suggest."""
    where = f"with prefix={prefix!r} " if prefix else ""
    message = (
        f"emails: the frame has no sequence results {where}(no '{prefix}{_STATUS}' or "
        f"'{prefix}email_*' columns); run df.octave.sequence(...) first, or pass prefix= "
        "if the run used one"
    )
    seen = sorted(
        {
            match.group(1)
            for name in columns
            if isinstance(name, str) and (match := _RESULT_RE.fullmatch(name))
        }
        - {prefix}
    )
    if seen:
        message += f" (these columns suggest prefix={seen[0]!r})"
    return message


def long_with_positions(
    frame: pd.DataFrame, *, prefix: str = ""
) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """Return :func:`emails_long` and, per long row, the position of its contact in ``frame``."""
    steps = list(range(1, step_count(frame.columns, prefix=prefix) + 1))
    n_rows = len(frame)
    row_names = index_columns(frame.index, LONG_FIELDS)

    positions: list[np.ndarray] = []
    step_of: list[np.ndarray] = []
    for slot, step in enumerate(steps):
        mask = np.zeros(n_rows, dtype=bool)
        for field in LONG_FIELDS:
            label = f"{prefix}email_{step}_{field}"
            if label in frame.columns:
                mask |= _has_content(frame[label])
        found = np.flatnonzero(mask)
        positions.append(found)
        step_of.append(np.full(len(found), slot, dtype=np.intp))

    pos = np.concatenate(positions) if positions else np.empty(0, dtype=np.intp)
    slot_of = np.concatenate(step_of) if step_of else np.empty(0, dtype=np.intp)
    # Contact order first, then step: one lexsort instead of a groupby.
    order = np.lexsort((slot_of, pos))
    pos, slot_of = pos[order], slot_of[order]
    # Position of each wanted cell in the stacked (step-major) column.
    flat = slot_of * n_rows + pos

    out: dict[str, object] = {}
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        for k, name in enumerate(row_names):
            out[name] = index.get_level_values(k).take(pos)
    else:
        out[row_names[0]] = index.take(pos)
    out["step"] = np.asarray(steps, dtype=np.int64)[slot_of]

    for field in LONG_FIELDS:
        parts = []
        for step in steps:
            label = f"{prefix}email_{step}_{field}"
            if label in frame.columns:
                parts.append(frame[label].astype("string").reset_index(drop=True))
            else:
                parts.append(pd.Series(pd.NA, index=range(n_rows), dtype="string"))
        if parts:
            stacked = pd.concat(parts, ignore_index=True)
            out[field] = stacked.take(flat).reset_index(drop=True)
        else:
            out[field] = pd.Series([], dtype="string")

    result = pd.DataFrame({name: _plain(values) for name, values in out.items()})
    result.index = pd.RangeIndex(len(result))
    return result, pos


def _plain(values: object) -> object:
    """Strip index labels so every column aligns on the new RangeIndex."""
    if isinstance(values, pd.Index):
        return pd.Series(values, name=values.name).reset_index(drop=True)
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    return values
