"""Approval as people type it in Excel, and the rows an export keeps (``only=``).

An ops team reviews the emails in the workbook and marks the ones to send in a column
of its own: ``approved`` (or ``Approved``, ``Approve?``, ``approval``, ``OK to send``,
``send?``; headers are read case- and punctuation-insensitively). Its cells are read the
way people fill them in: ``x``, ``yes``, ``✓``, ``TRUE`` (Excel's boolean, or the text),
``1`` approve; ``no``, ``0``, ``✗``, ``skip`` or a blank cell do not. Anything else
(``maybe``, ``yes?``) is an :class:`~octave_frames.ArgumentError` naming the rows, so a
typo never sends an email nobody approved, nor silently drops one somebody did.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Final, Literal, get_args

import numpy as np
import numpy.typing as npt
import pandas as pd

from octave_frames._columns import ColumnFinder, display_name, normalize_header
from octave_frames._exceptions import ArgumentError
from octave_frames._results import is_output_column
from octave_frames._status import Status

__all__ = [
    "APPROVAL_HEADERS",
    "APPROVE_WORDS",
    "ONLY_CHOICES",
    "REJECT_WORDS",
    "Only",
    "approved_mask",
    "find_approval_column",
    "select_rows",
]

Only = Literal["approved", "ok"]
#: The ``only`` values of the exports (e.g. for a CLI's choices).
ONLY_CHOICES: Final[tuple[Only, ...]] = get_args(Only)

#: Headers of an approval column, as :func:`normalize_header` reads them.
APPROVAL_HEADERS: Final = frozenset(
    {"approved", "approve", "approval", "oktosend", "send", "approvedtosend"}
)
#: Cell texts that approve a row (case-folded, surrounding spaces ignored).
APPROVE_WORDS: Final = (
    "yes", "y", "x", "✓", "✔", "☑", "✅", "true", "1", "1.0", "ok", "okay", "approved", "send",
)  # fmt: skip
#: Cell texts that do not; a blank cell does not either.
REJECT_WORDS: Final = (
    "no", "n", "false", "0", "0.0", "na", "n/a", "none", "✗", "✘", "❌", "rejected", "skip",
)  # fmt: skip

_YES: Final = frozenset(APPROVE_WORDS)
_NO: Final = frozenset((*REJECT_WORDS, ""))
_SHOWN: Final = 5  # rows named in an error message


def _verdict(value: object) -> bool | None:  # noqa: PLR0911 - one return per kind of value
    """True (approved), False (not approved) or None (not a yes or a no)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return {1: True, 0: False}.get(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return False
        return {1.0: True, 0.0: False}.get(number)
    if isinstance(value, str):
        # U+FE0F turns ☑ into the emoji ☑️ on phones; it is the same mark.
        text = value.replace("\ufe0f", "").strip().casefold()
        if text in _YES:
            return True
        if text in _NO:
            return False
    return None


def find_approval_column(
    frame: pd.DataFrame, column: Hashable | None = None, *, prefix: str = ""
) -> Hashable | None:
    """Find the column that says which rows are approved.

    Args:
        frame: The frame (usually a result read back with ``read_excel``).
        column: The column's label, when it has a header of its own; else it is found by
            its header (:data:`APPROVAL_HEADERS`, case and punctuation ignored).
        prefix: The run's output prefix; output columns are never the approval column.

    Returns:
        The column's label, or None when the frame has none.

    Raises:
        ColumnError: ``column`` names no column (the nearest are named) or a duplicated one.
        ArgumentError: Several columns have an approval header and ``column`` is not given.

    Example:
        >>> find_approval_column(pd.DataFrame({"Email": ["a@x.com"], "OK to send?": ["x"]}))
        'OK to send?'

    """
    position = _position(frame, column, prefix)
    return None if position is None else frame.columns[position]


def _position(frame: pd.DataFrame, column: Hashable | None, prefix: str) -> int | None:
    """Where :func:`find_approval_column`'s column is (same rules, same errors)."""
    finder = ColumnFinder(frame.columns)
    if column is not None:
        return finder.locate(column, what="approved")
    found = [
        j
        for j, label in enumerate(finder.labels)
        if not is_output_column(label, prefix=prefix)
        and normalize_header(finder.names[j]) in APPROVAL_HEADERS
    ]
    if len(found) > 1:
        names = ", ".join(repr(finder.names[j]) for j in found)
        raise ArgumentError(
            f"several columns could be the approval column ({names}); "
            "name the one to use with approved=..."
        )
    if found and finder.duplicated(found[0]):
        finder.locate(finder.labels[found[0]], what="approved")  # raises: ambiguous label
    return found[0] if found else None


def _no_column_message() -> str:
    """Say how to add an approval column."""
    return (
        "only='approved' needs a column saying which rows to send, and the frame has none: "
        "add a column named 'approved' (in Excel: a new column on the Contacts sheet) and "
        "mark the rows to send with x, yes, ✓, TRUE or 1 (blank, no or 0: not sent); "
        "a column with another header can be named with approved=..."
    )


def _bad_values_message(label: Hashable, index: pd.Index, bad: list[tuple[int, object]]) -> str:
    """Name the column, the first rows and their values, and what is accepted."""
    shown = ", ".join(f"row {index[k]!r}: {value!r}" for k, value in bad[:_SHOWN])
    more = f" and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
    return (
        f"approval column {display_name(label)!r}: {len(bad)} row(s) are neither a yes nor a "
        f"no ({shown}{more}); approve with {', '.join(APPROVE_WORDS)} (or TRUE in Excel), "
        f"leave out with {', '.join(REJECT_WORDS)} or a blank cell (case does not matter)"
    )


def _parse(series: pd.Series) -> tuple[npt.NDArray[np.bool_], list[tuple[int, object]]]:
    """Each cell's verdict, and the (position, value) of cells that are neither yes nor no."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.fillna(False).to_numpy(dtype=bool), []
    values = series.to_numpy(dtype=object)
    out = np.zeros(len(values), dtype=bool)
    bad: list[tuple[int, object]] = []
    seen: dict[tuple[type, object], bool | None] = {}
    for k, value in enumerate(values):
        try:
            key = (type(value), value)
            verdict = seen[key] if key in seen else seen.setdefault(key, _verdict(value))
        except TypeError:  # an unhashable cell (a list from a JSON column): not a yes
            verdict = None
        if verdict is None:
            bad.append((k, value))
        else:
            out[k] = verdict
    return out, bad


def approved_mask(
    frame: pd.DataFrame, column: Hashable | None = None, *, prefix: str = ""
) -> pd.Series:
    """Read the approval column: True for the rows marked to send.

    Args:
        frame: The frame (usually a result read back with ``read_excel``).
        column: The approval column's label; found by its header when omitted
            (``approved``, ``Approve?``, ``approval``, ``OK to send``, ``send?``, ...).
        prefix: The run's output prefix; output columns are never the approval column.

    Returns:
        A bool Series on ``frame``'s index, named after the column.

    Raises:
        ArgumentError: The frame has no approval column (the message says how to add
            one), several columns could be it, or cells are neither a yes nor a no (the
            column, the first rows and their values are named, with what is accepted).
        ColumnError: ``column`` names no column, or a duplicated one.

    Example:
        >>> frame = pd.DataFrame({"Approved": ["x", "", "TRUE", "no"]})
        >>> approved_mask(frame).tolist()
        [True, False, True, False]

    """
    position = _position(frame, column, prefix)
    if position is None:
        raise ArgumentError(_no_column_message())
    label = frame.columns[position]
    verdicts, bad = _parse(frame.iloc[:, position])
    if bad:
        raise ArgumentError(_bad_values_message(label, frame.index, bad))
    return pd.Series(verdicts, index=frame.index, name=label, dtype=bool)


def select_rows(
    frame: pd.DataFrame,
    only: Only | None,
    *,
    prefix: str = "",
    approved: Hashable | None = None,
) -> pd.DataFrame:
    """The rows an export writes: all, those with status ``ok``, or approved ``ok`` rows.

    Args:
        frame: A result frame.
        only: None (every row), ``"ok"`` (rows whose ``octave_status`` is ``ok``) or
            ``"approved"`` (``ok`` rows marked in the approval column).
        prefix: The run's output prefix.
        approved: The approval column's label, for ``only="approved"``.

    Returns:
        ``frame`` itself for ``only=None``, else a new frame of the kept rows.

    Raises:
        ArgumentError: ``only`` is not one of :data:`ONLY_CHOICES`; ``approved`` without
            ``only="approved"``; the frame has no status column; or what
            :func:`approved_mask` raises.
        ColumnError: ``approved`` names no column.

    Example:
        >>> to_send = select_rows(out, "approved")

    """
    if only is None:
        if approved is not None:
            raise ArgumentError(
                f"approved={approved!r} names the approval column of only='approved'; "
                "pass only='approved' too"
            )
        return frame
    if only not in ONLY_CHOICES:
        choices = " or ".join(map(repr, ONLY_CHOICES))
        raise ArgumentError(f"only must be {choices} (or None for every row), not {only!r}")
    status = f"{prefix}octave_status"
    if status not in frame.columns:
        where = f" with prefix={prefix!r}" if prefix else ""
        raise ArgumentError(
            f"only={only!r}: the frame has no '{status}' column{where}, so which rows were "
            "answered is unknown; export a result of df.octave.sequence(...) (pass prefix= "
            "if the run used one)"
        )
    keep = frame[status].astype("string").eq(Status.OK.value).fillna(False).to_numpy(dtype=bool)
    if only == "approved":
        keep &= approved_mask(frame, approved, prefix=prefix).to_numpy(dtype=bool)
    return frame.iloc[np.flatnonzero(keep)]
