"""The result columns of the contract: their names, dtypes and cell rules.

``CONTRACT.md`` §2 promises the names and dtypes that :func:`result_columns`
(in ``_flatten``, the hot path) produces. This module holds what the rest of the
package needs to know about those columns without expanding answers: which
names are result columns (:func:`is_output_column`, :func:`step_count`), how a
frame read back from Excel or CSV gets its dtypes back
(:func:`normalize_result_columns`), and how a re-run combines old and new
results (:func:`merge_results`).

The cell rules shared with ``_flatten`` (:func:`cell_text`, :func:`credits`,
:func:`confidence_code`, ...) are listed in ``__all__`` for that module; the
package does not re-export them.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from octave_frames._constants import CONFIDENCE_LEVELS, ENTITIES, SECTIONS
from octave_frames._exceptions import ArgumentError

__all__ = [
    "CONFIDENCE_DTYPE",
    "LEVEL_CODES",
    "RAW_COLUMN",
    "UnknownConfidenceWarning",
    "cell_text",
    "confidence_code",
    "credits",
    "is_output_column",
    "merge_results",
    "normalize_result_columns",
    "object_array",
    "output_column_names",
    "result_frame",
    "step_count",
    "warn_unknown",
]

#: Dtype of every ``{entity}_match_confidence`` column: ``LOW < MEDIUM < HIGH``.
CONFIDENCE_DTYPE: Final = pd.CategoricalDtype(list(CONFIDENCE_LEVELS), ordered=True)
#: Name (before the prefix) of the column that ``raw=True`` adds.
RAW_COLUMN: Final = "octave_response"
#: The async job's run id: present in results of async runs (``mode="async"``, submit, collect).
RUN_ID_COLUMN: Final = "octave_run_id"
#: Category code of each confidence level in :data:`CONFIDENCE_DTYPE`.
LEVEL_CODES: Final = {level: code for code, level in enumerate(CONFIDENCE_LEVELS)}

_HEAD: Final = (
    "octave_status",
    "octave_error",
    "octave_note",
    "octave_request_id",
    "octave_usage",
)
_EMAIL_FIELDS: Final = ("subject", *SECTIONS, "core_value_prop", "text")
_ENTITY_FIELDS: Final = ("name", "match_confidence", "match_analysis")
_TAIL: Final = (*(f"{e}_{f}" for e in ENTITIES for f in _ENTITY_FIELDS), "output_type")
_FIXED: Final = frozenset((*_HEAD, *_TAIL, RAW_COLUMN, RUN_ID_COLUMN))
_EMAIL_RE: Final = re.compile(rf"email_([1-9][0-9]*)_({'|'.join(_EMAIL_FIELDS)})")
_NO_TEXT: Final = pd.array([None], dtype="string")


class UnknownConfidenceWarning(UserWarning):
    """Octave sent a ``matchConfidence`` outside ``LOW``/``MEDIUM``/``HIGH``.

    The confidence cell becomes NA (an ordered categorical cannot hold it, and
    guessing where ``VERY_HIGH`` ranks would make ``>= "MEDIUM"`` filters lie),
    the raw value is kept at the front of ``{entity}_match_analysis`` as
    ``"[matchConfidence: VERY_HIGH] ..."``, and this warning says how many rows
    were affected, once per call.
    """


def output_column_names(
    n_steps: int, *, prefix: str = "", raw: bool = False, run_id: bool = False
) -> list[str]:
    """Return the result column names, in contract order, for ``n_steps`` email groups.

    Args:
        n_steps: Number of ``email_{i}_*`` groups (the longest sequence returned).
        prefix: Prepended to every name.
        raw: Whether ``octave_response`` is included (last).
        run_id: Whether ``octave_run_id`` is included (after ``octave_request_id``).

    Returns:
        The names, e.g. ``["octave_status", ..., "email_1_subject", ..., "output_type"]``.

    Raises:
        ArgumentError: ``n_steps`` is negative.

    Example:
        >>> output_column_names(1)[5:7]
        ['email_1_subject', 'email_1_greeting']

    """
    if n_steps < 0:
        raise ArgumentError(f"n_steps must be >= 0, got {n_steps}")
    emails = (f"email_{i}_{f}" for i in range(1, n_steps + 1) for f in _EMAIL_FIELDS)
    head = [*_HEAD[:4], RUN_ID_COLUMN, *_HEAD[4:]] if run_id else list(_HEAD)
    names = [*head, *emails, *_TAIL, *((RAW_COLUMN,) if raw else ())]
    return [prefix + name for name in names] if prefix else names


def is_output_column(name: object, *, prefix: str = "") -> bool:
    """Tell whether ``name`` is a result column (fixed names or ``email_{i}_*`` for any i >= 1).

    Example:
        >>> is_output_column("email_12_cta"), is_output_column("email_0_cta")
        (True, False)

    """
    if not isinstance(name, str) or not name.startswith(prefix):
        return False
    bare = name[len(prefix) :]
    return bare in _FIXED or _EMAIL_RE.fullmatch(bare) is not None


def step_count(columns: Iterable[object], *, prefix: str = "") -> int:
    """Return the highest ``i`` among ``email_{i}_*`` columns in ``columns`` (0 if none).

    Example:
        >>> step_count(["email_1_text", "email_3_subject", "x"])
        3

    """
    top = 0
    for name in columns:
        if isinstance(name, str) and name.startswith(prefix):
            match = _EMAIL_RE.fullmatch(name[len(prefix) :])
            if match:
                top = max(top, int(match.group(1)))
    return top


def cell_text(value: object) -> str | None:
    """Return the text of one JSON leaf: stripped; None for empty, null, NaN and containers."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # Past 4300 digits str() refuses; such a number is junk, not text.
        return str(value) if abs(value) < 10**100 else None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # Like CRM ids read back as 12345.0, a whole float is the integer's text.
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _number(value: object) -> float:
    """Credits as a float; NaN (NA) for anything that is not a number."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return float(value)
        except (ValueError, OverflowError):
            return math.nan
    return math.nan


def credits(values: list[Any]) -> npt.NDArray[np.float64]:
    """Return the credits of each value as floats, NaN standing for NA."""
    try:
        if set(map(type, values)) <= {int, float}:
            return np.array(values, dtype=float)
    except OverflowError:  # an integer past float range
        pass
    return np.array([_number(v) for v in values], dtype=float)


def confidence_code(value: object) -> tuple[int, str | None]:
    """Return the confidence code (-1 = NA) and, for a value outside the levels, its text."""
    text = cell_text(value)
    if text is None:
        return -1, None
    code = LEVEL_CODES.get("_".join(text.upper().split()), -1)
    return (code, None) if code >= 0 else (-1, text)


def warn_unknown(rows: int, values: Counter[str]) -> None:
    """Warn once that ``rows`` rows held the unknown confidence ``values``.

    ``stacklevel`` points at the caller of the public function that calls this.
    """
    shown = ", ".join(repr(v) for v, _ in values.most_common(5))
    more = f" and {len(values) - 5} more" if len(values) > 5 else ""
    warnings.warn(
        f"{rows} row(s) carry a matchConfidence outside {'/'.join(CONFIDENCE_LEVELS)} "
        f"({shown}{more}); the confidence column is NA there and the raw value is kept "
        f"at the front of the match_analysis column",
        UnknownConfidenceWarning,
        stacklevel=3,
    )


def object_array(values: Iterable[object]) -> npt.NDArray[np.object_]:
    """Build an object array holding each value as is (no broadcasting of lists)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def result_frame(columns: dict[str, Any], n: int, prefix: str) -> pd.DataFrame:
    """Wrap bare-named result arrays, in order, into a frame with a RangeIndex of ``n``."""
    index = pd.RangeIndex(n)
    if RAW_COLUMN in columns:
        columns[RAW_COLUMN] = _object_series(columns[RAW_COLUMN], index)
    return pd.DataFrame(
        {prefix + name: values for name, values in columns.items()}, index=index, copy=False
    )


def _object_series(values: Any, index: pd.Index) -> pd.Series:
    # pandas 3 would infer "str" for an object array of strings; a Series keeps object.
    return pd.Series(values, index=index, dtype=object, copy=False)


def _strings(values: Any) -> Any:
    """Build a nullable ``"string"`` array; None becomes NA."""
    return pd.array(values, dtype="string")


def _kind(bare: str) -> str:
    """Canonical dtype family of a result column named ``bare`` (prefix removed)."""
    if bare == "octave_usage":
        return "Float64"
    if bare == RAW_COLUMN:
        return "object"
    return "category" if bare.endswith("_match_confidence") else "string"


def _parse_json(value: object) -> object:
    """Turn JSON text read back from a file into the dict it was; keep anything else."""
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return None if value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value


def _confidences(values: pd.Series, unknown: Counter[str]) -> pd.Categorical:
    levels = [confidence_code(v) for v in values.tolist()]
    unknown.update(odd for _, odd in levels if odd is not None)
    codes = np.array([code for code, _ in levels], dtype=np.int8)
    return pd.Categorical.from_codes(codes, dtype=CONFIDENCE_DTYPE)


def _coerce(values: pd.Series, kind: str, unknown: Counter[str]) -> Any:
    """``values`` as an array of the canonical dtype, however it was stored or read back."""
    dtype = values.dtype
    if kind == "category":
        return values.array if dtype == CONFIDENCE_DTYPE else _confidences(values, unknown)
    if kind == "Float64":
        if dtype.kind in "fiu" and not isinstance(dtype, pd.CategoricalDtype):
            return values.astype("Float64").array
        return pd.array(credits(values.tolist()), dtype="Float64")
    if kind == "object":
        return object_array(_parse_json(v) for v in values.tolist())
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA:
        return values.array  # already canonical, e.g. straight from result_columns
    return _strings([cell_text(v) for v in values.tolist()])


def _missing(kind: str, n: int) -> Any:
    """Build an all-NA array of the canonical dtype."""
    if kind == "category":
        return pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), dtype=CONFIDENCE_DTYPE)
    if kind == "object":
        return np.full(n, None, dtype=object)
    if kind == "Float64":
        return pd.array(np.full(n, np.nan), dtype="Float64")
    # take() fills in C; building from n Nones would check each one.
    return _NO_TEXT.take(np.full(n, -1, dtype=np.intp), allow_fill=True)


def _check_columns(frame: pd.DataFrame, label: str, prefix: str) -> None:
    strangers = [c for c in frame.columns if not is_output_column(c, prefix=prefix)]
    if strangers:
        raise ArgumentError(
            f"{label} holds columns that are not result columns (prefix {prefix!r}): "
            f"{strangers[:5]!r}"
        )
    if frame.columns.has_duplicates:
        raise ArgumentError(f"{label} has duplicate column names")


def normalize_result_columns(frame: pd.DataFrame, *, prefix: str = "") -> pd.DataFrame:
    """Return a copy of ``frame`` whose result columns carry their canonical dtypes.

    For frames read back from Excel or CSV: text becomes ``"string"`` (blank and
    NaN cells NA, whole floats such as ``12345.0`` the integer's text), usage
    ``"Float64"``, confidences :data:`CONFIDENCE_DTYPE`, and an ``octave_response``
    cell holding JSON text the parsed dict. Other columns are left as they are;
    ``frame`` is not modified.

    Warns:
        UnknownConfidenceWarning: A confidence cell held a value outside the levels.

    Example:
        >>> df = pd.DataFrame({"name": ["Ann"], "persona_match_confidence": ["high"]})
        >>> normalize_result_columns(df).persona_match_confidence.dtype == CONFIDENCE_DTYPE
        True

    """
    out = frame.copy(deep=False)
    unknown: Counter[str] = Counter()
    for position, name in enumerate(frame.columns):
        if is_output_column(name, prefix=prefix):
            kind = _kind(str(name)[len(prefix) :])
            values = _coerce(frame.iloc[:, position], kind, unknown)
            if kind == "object":
                values = _object_series(values, frame.index)
            out.isetitem(position, values)
    if unknown:
        warn_unknown(sum(unknown.values()), unknown)
    return out


def merge_results(
    previous: pd.DataFrame,
    fresh: pd.DataFrame,
    keep: npt.ArrayLike,
    *,
    prefix: str = "",
) -> pd.DataFrame:
    """Combine two result-column frames row by row, for re-runs.

    Args:
        previous: Results already carried by the frame (e.g. read back from Excel).
        fresh: Results of this run, same length; rows are matched by position.
        keep: Boolean per row: True takes ``previous``, False takes ``fresh``.
        prefix: The column prefix both frames use.

    Returns:
        A frame with a RangeIndex holding every result column for the larger
        number of email groups (plus ``octave_response`` if either has it), in
        canonical order and dtypes. A column one side lacks is NA on that side.

    Raises:
        ArgumentError: Lengths differ, ``keep`` is not one flag per row, or a
            frame holds a column that is not a result column.

    Example:
        >>> old = pd.DataFrame({"octave_status": ["ok"]})
        >>> new = pd.DataFrame({"octave_status": ["failed"], "octave_error": ["boom"]})
        >>> merge_results(old, new, np.array([True])).loc[0, "octave_status"]
        'ok'

    """
    n = len(fresh)
    mask = np.asarray(keep, dtype=bool)
    if len(previous) != n or mask.shape != (n,):
        raise ArgumentError(
            f"previous ({len(previous)} rows), fresh ({n} rows) and keep "
            f"(shape {mask.shape}) must describe the same rows"
        )
    _check_columns(previous, "previous", prefix)
    _check_columns(fresh, "fresh", prefix)
    n_steps = max(
        step_count(previous.columns, prefix=prefix), step_count(fresh.columns, prefix=prefix)
    )
    raw = prefix + RAW_COLUMN in previous.columns or prefix + RAW_COLUMN in fresh.columns
    run_id = prefix + RUN_ID_COLUMN in previous.columns or prefix + RUN_ID_COLUMN in fresh.columns
    unknown: Counter[str] = Counter()
    out: dict[str, Any] = {}
    for name in output_column_names(n_steps, raw=raw, run_id=run_id):
        kind = _kind(name)
        sides = []
        for frame in (previous, fresh):
            column = frame.get(prefix + name)
            sides.append(_missing(kind, n) if column is None else _coerce(column, kind, unknown))
        merged = sides[1].copy()
        merged[mask] = sides[0][mask]
        out[name] = merged
    if unknown:
        warn_unknown(sum(unknown.values()), unknown)
    return result_frame(out, n, prefix)
