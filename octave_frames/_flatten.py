"""Expand Sequence Agent answers into the tidy result columns of the contract.

The engine hands over, per input row and in order, a status, an error text and
the parsed JSON body. :func:`result_columns` turns them into one frame whose
columns are named and typed as ``CONTRACT.md`` §2 promises. It never raises on
what Octave sent: JSON that is not the documented shape becomes NA, so a single
odd answer cannot cost a 100,000-row run its results.

Speed: each *distinct* body object is read once (rows sharing an answer share
its dict). Bodies go in chunks of ``_CHUNK`` so that a chunk's objects stay in
cache while all its columns are read; within a chunk the work goes a column at a
time, mapping ``dict.get`` and ``str.strip`` over lists in C, with a slower
per-value path only for a column holding null or junk. ``pd.json_normalize`` is
several times slower on the same input (``benchmarks/bench_flatten.py``).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from octave_frames._constants import CONFIDENCE_LEVELS, ENTITIES, SECTIONS
from octave_frames._exceptions import ArgumentError

__all__ = [
    "CONFIDENCE_DTYPE",
    "RAW_COLUMN",
    "UnknownConfidenceWarning",
    "is_output_column",
    "merge_results",
    "normalize_result_columns",
    "output_column_names",
    "result_columns",
    "step_count",
]

#: Dtype of every ``{entity}_match_confidence`` column: ``LOW < MEDIUM < HIGH``.
CONFIDENCE_DTYPE: Final = pd.CategoricalDtype(list(CONFIDENCE_LEVELS), ordered=True)
#: Name (before the prefix) of the column that ``raw=True`` adds.
RAW_COLUMN: Final = "octave_response"

_HEAD: Final = ("octave_status", "octave_error", "octave_request_id", "octave_usage")
_EMAIL_FIELDS: Final = ("subject", *SECTIONS, "core_value_prop", "text")
_ENTITY_FIELDS: Final = ("name", "match_confidence", "match_analysis")
_TAIL: Final = (*(f"{e}_{f}" for e in ENTITIES for f in _ENTITY_FIELDS), "output_type")
_FIXED: Final = frozenset((*_HEAD, *_TAIL, RAW_COLUMN))
_EMAIL_RE: Final = re.compile(rf"email_([1-9][0-9]*)_({'|'.join(_EMAIL_FIELDS)})")
_LEVEL_CODE: Final = {level: code for code, level in enumerate(CONFIDENCE_LEVELS)}

# Distinct bodies per chunk: small enough for a chunk's objects to stay in cache.
_CHUNK: Final = 256
_EMPTY: Final[dict[Any, Any]] = {}
_NO_TEXT: Final = pd.array([None], dtype="string")
_NO_LIST: Final[list[Any]] = []


class UnknownConfidenceWarning(UserWarning):
    """Octave sent a ``matchConfidence`` outside ``LOW``/``MEDIUM``/``HIGH``.

    The confidence cell becomes NA (an ordered categorical cannot hold it, and
    guessing where ``VERY_HIGH`` ranks would make ``>= "MEDIUM"`` filters lie),
    the raw value is kept at the front of ``{entity}_match_analysis`` as
    ``"[matchConfidence: VERY_HIGH] ..."``, and this warning says how many rows
    were affected, once per call.
    """


def output_column_names(n_steps: int, *, prefix: str = "", raw: bool = False) -> list[str]:
    """Return the result column names, in contract order, for ``n_steps`` email groups.

    Args:
        n_steps: Number of ``email_{i}_*`` groups (the longest sequence returned).
        prefix: Prepended to every name.
        raw: Whether ``octave_response`` is included (last).

    Returns:
        The names, e.g. ``["octave_status", ..., "email_1_subject", ..., "output_type"]``.

    Raises:
        ArgumentError: ``n_steps`` is negative.

    Example:
        >>> output_column_names(1)[4:6]
        ['email_1_subject', 'email_1_greeting']

    """
    if n_steps < 0:
        raise ArgumentError(f"n_steps must be >= 0, got {n_steps}")
    emails = (f"email_{i}_{f}" for i in range(1, n_steps + 1) for f in _EMAIL_FIELDS)
    names = [*_HEAD, *emails, *_TAIL, *((RAW_COLUMN,) if raw else ())]
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


def _scalar(value: object) -> str | None:
    """Text for one JSON leaf: stripped, NA for empty, null, NaN and containers."""
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


def _numbers(values: list[Any]) -> npt.NDArray[np.float64]:
    """Credits per body as floats, NaN standing for NA."""
    try:
        if set(map(type, values)) <= {int, float}:
            return np.array(values, dtype=float)
    except OverflowError:  # an integer past float range
        pass
    return np.array([_number(v) for v in values], dtype=float)


def _level(value: object) -> tuple[int, str | None]:
    """Confidence code (-1 = NA) and, for a value outside the levels, its text."""
    text = _scalar(value)
    if text is None:
        return -1, None
    code = _LEVEL_CODE.get("_".join(text.upper().split()), -1)
    return (code, None) if code >= 0 else (-1, text)


def _as_dict(value: object) -> dict[Any, Any]:
    return dict(value) if isinstance(value, Mapping) else _EMPTY


def _dicts(values: list[Any]) -> list[dict[Any, Any]]:
    """``values`` with every non-dict replaced, so ``dict.get`` can map over them in C."""
    if set(map(type, values)) <= {dict}:
        return values
    return [v if v.__class__ is dict else _as_dict(v) for v in values]


def _get(parents: list[dict[Any, Any]], key: str) -> list[Any]:
    return list(map(dict.get, parents, repeat(key)))


def _texts(parents: list[dict[Any, Any]], key: str) -> list[str]:
    """Return the ``key`` of every parent as stripped text, ``""`` standing for NA.

    Null, containers and other junk become ``""``; numbers become their text.
    ``_Columns.put`` turns ``""`` into NA when it stores the column.
    """
    values = list(map(dict.get, parents, repeat(key), repeat("")))
    try:
        # The rule (all strings) runs in C; null or junk anywhere takes the slow path.
        return list(map(str.strip, values))
    except TypeError:
        return [v.strip() if v.__class__ is str else _scalar(v) or "" for v in values]


def _clean(values: Iterable[object]) -> list[str | None]:
    """Run-level texts (statuses, errors) stripped, None for missing or blank."""
    return [(v.strip() or None) if v.__class__ is str else _scalar(v) for v in values]


def _levels(parents: list[dict[Any, Any]]) -> tuple[npt.NDArray[np.int8], list[str | None]]:
    """Confidence codes (-1 = NA) and, per parent, the raw text of an unknown level."""
    raw = _get(parents, "matchConfidence")
    try:
        codes = np.array(list(map(_LEVEL_CODE.get, raw, repeat(-2))), dtype=np.int8)
    except TypeError:  # an unhashable value: lists or dicts where a level should be
        codes = np.full(len(raw), -2, dtype=np.int8)
    unknown: list[str | None] = [None] * len(raw)
    # Exact levels are the rule; the rest is normalised once per distinct value.
    memo: dict[object, tuple[int, str | None]] = {}
    for k in np.flatnonzero(codes == -2).tolist():
        value = raw[k]
        key = value if value.__class__ is str else id(value)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _level(value)
        codes[k], unknown[k] = found
    return codes, unknown


def _strings(values: Any) -> Any:
    """Build a nullable ``"string"`` array; None becomes NA."""
    return pd.array(values, dtype="string")


def _objects(values: Iterable[object]) -> npt.NDArray[np.object_]:
    """Build an object array holding each value as is (no broadcasting of lists)."""
    items = list(values)
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _extract(bodies: list[object], emit: Callable[[str, Any], None]) -> list[str]:
    """Pass ``emit`` each result column but status and error, one value per body.

    Works a column at a time: each level of the JSON tree is a list of dicts and
    ``dict.get`` mapped over it runs in C. Text columns use ``""`` for NA.

    Returns:
        Per body, the raw text of an unknown confidence level, or ``""``.
    """
    roots = _dicts(bodies)
    metas = _dicts(_get(roots, "_metadata"))
    datas = _dicts(_get(roots, "data"))
    lists = [v if v.__class__ is list else _NO_LIST for v in _get(datas, "emails")]
    emit("octave_request_id", _texts(metas, "requestId"))
    emit("octave_usage", _numbers(_get(metas, "usage")))
    lengths = list(map(len, lists))
    shortest = min(lengths, default=0)
    for i in range(max(lengths, default=0)):
        if i < shortest:
            items = _dicts(list(map(itemgetter(i), lists)))
        else:
            items = _dicts([v[i] if len(v) > i else None for v in lists])
        sections = _dicts(_get(items, "sections"))
        name = f"email_{i + 1}_"
        emit(name + "subject", _texts(items, "subject"))
        parts = [_texts(sections, key) for key in SECTIONS]
        for key, part in zip(SECTIONS, parts, strict=True):
            emit(name + key, part)
        emit(name + "core_value_prop", _texts(items, "coreValueProp"))
        blocks = map(filter, repeat(None), zip(*parts, strict=True))
        emit(name + "text", list(map("\n\n".join, blocks)))
    odd_bodies = [""] * len(bodies)
    for entity in ENTITIES:
        found = _dicts(_get(datas, entity))
        codes, odd = _levels(found)
        analysis = _texts(found, "matchAnalysis")
        for k, text in enumerate(odd) if any(odd) else ():
            if text is not None:
                odd_bodies[k] = text
                tag = f"[matchConfidence: {text}]"
                analysis[k] = f"{tag} {analysis[k]}" if analysis[k] else tag
        emit(f"{entity}_name", _texts(found, "name"))
        emit(f"{entity}_match_confidence", codes)
        emit(f"{entity}_match_analysis", analysis)
    emit("output_type", _texts(datas, "outputType"))
    return odd_bodies


class _Columns:
    """Full-length result arrays, filled one chunk of bodies at a time.

    Chunks keep every body's objects in cache while all its columns are read,
    converted and stored; one pass per column over 100,000 bodies would fetch
    each object from memory again for every column.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.start = 0
        self.arrays: dict[str, Any] = {}

    def put(self, name: str, values: Any) -> None:
        target = self.arrays.get(name)
        if target is None:
            target = self.arrays[name] = _missing(_kind(name), self.size, numpy=True)
        stop = self.start + len(values)
        if name == "octave_usage" or name.endswith("_match_confidence"):
            target[self.start : stop] = values
        else:
            chunk = np.array(values, dtype=object)
            chunk[chunk == ""] = None
            target[self.start : stop] = chunk

    def finish(self, codes: npt.NDArray[np.intp] | None) -> dict[str, Any]:
        """Fan the per-body arrays out to rows and give them their pandas dtypes."""
        out = {}
        for name, values in self.arrays.items():
            taken = values if codes is None else values.take(codes)
            if name == "octave_usage":
                out[name] = pd.array(taken, dtype="Float64")
            elif name.endswith("_match_confidence"):
                out[name] = pd.Categorical.from_codes(taken, dtype=CONFIDENCE_DTYPE)
            else:
                out[name] = _strings(taken)
        return out


def result_columns(
    statuses: Sequence[str],
    errors: Sequence[str | None],
    bodies: Sequence[Mapping[str, Any] | None],
    *,
    prefix: str = "",
    raw: bool = False,
) -> pd.DataFrame:
    """Expand per-row statuses, errors and answer bodies into the result columns.

    Args:
        statuses: One status per row (``ok``, ``not_found``, ...).
        errors: One readable error per row, or None.
        bodies: One parsed Sequence Agent envelope per row, or None. Rows sharing an
            answer may pass the same dict object; it is parsed once.
        prefix: Prepended to every column name.
        raw: Add ``octave_response`` (object dtype) holding each body as given.

    Returns:
        A frame with a RangeIndex of ``len(statuses)`` and exactly
        ``output_column_names(N, prefix=prefix, raw=raw)`` as columns, N being the
        longest ``emails`` list. Text columns are ``"string"`` (missing = NA),
        ``octave_usage`` is ``"Float64"``, confidences are :data:`CONFIDENCE_DTYPE`.
        Malformed parts of a body become NA; nothing in a body makes this raise.

    Raises:
        ArgumentError: The three sequences differ in length.

    Warns:
        UnknownConfidenceWarning: Some ``matchConfidence`` was outside the levels.

    Example:
        >>> body = {"data": {"emails": [{"subject": "Hi", "sections": {"body": "Yo"}}]}}
        >>> result_columns(["ok"], [None], [body]).loc[0, "email_1_text"]
        'Yo'

    """
    n = len(statuses)
    if len(errors) != n or len(bodies) != n:
        raise ArgumentError(
            f"statuses, errors and bodies must have one entry per row; "
            f"got {n}, {len(errors)} and {len(bodies)}"
        )
    slot: dict[int, int] = {}
    distinct: list[object] = []
    row_slots: list[int] = []
    for body in bodies:
        # `bodies` keeps every object alive for the whole call, so ids stay unique.
        k = slot.get(id(body))
        if k is None:
            k = slot[id(body)] = len(distinct)
            distinct.append(body)
        row_slots.append(k)
    codes = None if len(distinct) == n else np.asarray(row_slots, dtype=np.intp)
    columns = _Columns(len(distinct))
    odd: list[str] = []
    for columns.start in range(0, len(distinct), _CHUNK):
        odd += _extract(distinct[columns.start : columns.start + _CHUNK], columns.put)
    if not distinct:
        _extract([], columns.put)
    out = {
        "octave_status": _strings(_clean(statuses)),
        "octave_error": _strings(_clean(errors)),
        **columns.finish(codes),
    }
    if raw:
        out[RAW_COLUMN] = _objects(bodies)
    if any(odd):
        per_row = odd if codes is None else [odd[k] for k in codes.tolist()]
        _warn(sum(map(bool, per_row)), Counter(filter(None, per_row)))
    names = output_column_names(step_count(out), raw=raw)
    return _frame({name: out[name] for name in names}, n, prefix)


def _warn(rows: int, values: Counter[str]) -> None:
    shown = ", ".join(repr(v) for v, _ in values.most_common(5))
    more = f" and {len(values) - 5} more" if len(values) > 5 else ""
    warnings.warn(
        f"{rows} row(s) carry a matchConfidence outside {'/'.join(CONFIDENCE_LEVELS)} "
        f"({shown}{more}); the confidence column is NA there and the raw value is kept "
        f"at the front of the match_analysis column",
        UnknownConfidenceWarning,
        stacklevel=3,
    )


def _frame(columns: dict[str, Any], n: int, prefix: str) -> pd.DataFrame:
    index = pd.RangeIndex(n)
    if RAW_COLUMN in columns:
        columns[RAW_COLUMN] = _object_series(columns[RAW_COLUMN], index)
    return pd.DataFrame(
        {prefix + name: values for name, values in columns.items()}, index=index, copy=False
    )


def _object_series(values: Any, index: pd.Index) -> pd.Series:
    # pandas 3 would infer "str" for an object array of strings; a Series keeps object.
    return pd.Series(values, index=index, dtype=object, copy=False)


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
    levels = [_level(v) for v in values.tolist()]
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
        return pd.array(_numbers(values.tolist()), dtype="Float64")
    if kind == "object":
        return _objects(_parse_json(v) for v in values.tolist())
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is pd.NA:
        return values.array  # already canonical, e.g. straight from result_columns
    return _strings([_scalar(v) for v in values.tolist()])


def _missing(kind: str, n: int, *, numpy: bool = False) -> Any:
    """Build an all-NA array of the canonical dtype (numbers as plain numpy if ``numpy``)."""
    if kind == "category":
        codes = np.full(n, -1, dtype=np.int8)
        return codes if numpy else pd.Categorical.from_codes(codes, dtype=CONFIDENCE_DTYPE)
    if kind == "object" or (numpy and kind == "string"):
        return np.full(n, None, dtype=object)
    if kind == "Float64":
        values = np.full(n, np.nan)
        return values if numpy else pd.array(values, dtype="Float64")
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
        _warn(sum(unknown.values()), unknown)
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
        >>> old = result_columns(["ok"], [None], [None])
        >>> new = result_columns(["failed"], ["boom"], [None])
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
    unknown: Counter[str] = Counter()
    out: dict[str, Any] = {}
    for name in output_column_names(n_steps, raw=raw):
        kind = _kind(name)
        sides = []
        for frame in (previous, fresh):
            column = frame.get(prefix + name)
            sides.append(_missing(kind, n) if column is None else _coerce(column, kind, unknown))
        merged = sides[1].copy()
        merged[mask] = sides[0][mask]
        out[name] = merged
    if unknown:
        _warn(sum(unknown.values()), unknown)
    return _frame(out, n, prefix)
