"""What a cell cannot say about its column: dtypes and labels as JSON, and back.

``to_excel`` stores, in a very hidden sheet, one JSON document describing the
Contacts sheet: each written column's dtype spec (see :func:`dtype_spec`), the
original labels, the index levels and where empty strings (rather than NA)
were. ``read_excel`` rebuilds each column from its cells with
:func:`restore_column`; a column it cannot rebuild (a user edit that does not
fit the dtype) falls back to the plain inference of :mod:`._infer`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Hashable, Sequence
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from octave_frames.io._infer import canonical_text

__all__ = [
    "FORMAT",
    "blank_digest",
    "decode_label",
    "dtype_from_spec",
    "dtype_spec",
    "encode_label",
    "restore_column",
]

#: ``format`` key of the metadata document; bump the suffix on incompatible changes.
FORMAT: Final = "octave_frames.workbook/1"

Spec = dict[str, Any]


def blank_digest(blank: np.ndarray) -> str:
    """Fingerprint a column's pattern of blank cells, to tell whether rows moved."""
    packed = np.packbits(np.asarray(blank, dtype=bool)).tobytes()
    return hashlib.blake2b(packed + len(blank).to_bytes(8, "little"), digest_size=8).hexdigest()


def encode_label(label: Hashable) -> Any:
    """Return a JSON value standing for a column label or index name."""
    if isinstance(label, np.generic):
        label = label.item()
    if label is None or isinstance(label, str | bool | int):
        return label
    if isinstance(label, float):
        return {"float": repr(label)}
    if isinstance(label, tuple):
        return {"tuple": [encode_label(part) for part in label]}
    if isinstance(label, dt.date):
        return {"timestamp": pd.Timestamp(label).isoformat()}
    return str(label)


def decode_label(value: Any) -> Hashable:
    """Invert :func:`encode_label`."""
    if isinstance(value, dict):
        if "tuple" in value:
            return tuple(decode_label(part) for part in value["tuple"])
        if "float" in value:
            return float(value["float"])
        if "timestamp" in value:
            return pd.Timestamp(value["timestamp"])
    return value  # type: ignore[no-any-return]


def _json_values(index: pd.Index) -> list[Any]:
    """Encode category values as JSON (timestamps as ISO text)."""
    if index.dtype.kind in "mM":
        return [str(value) for value in index]
    return [value.item() if isinstance(value, np.generic) else value for value in index]


_KIND_NAMES: Final = {"m": "timedelta", "b": "bool", "i": "number", "u": "number", "f": "number"}


def dtype_spec(dtype: Any) -> Spec:
    """Describe ``dtype`` as JSON; :func:`dtype_from_spec` gives it back."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "kind": "category",
            "ordered": bool(dtype.ordered),
            "categories": _json_values(categories),
            "categories_dtype": dtype_spec(categories.dtype),
        }
    if isinstance(dtype, pd.StringDtype):
        nan = isinstance(dtype.na_value, float)
        return {"kind": "string", "storage": dtype.storage, "na": "nan" if nan else "NA"}
    if isinstance(dtype, pd.DatetimeTZDtype) or getattr(dtype, "kind", "") == "M":
        tz = getattr(dtype, "tz", None)
        unit = dtype.unit if tz is not None else np.datetime_data(dtype)[0]
        return {"kind": "datetime", "unit": unit, "tz": None if tz is None else str(tz)}
    name = _KIND_NAMES.get(getattr(dtype, "kind", "O"))
    if name is not None:
        return {"kind": name, "dtype": str(dtype)}
    return (
        {"kind": "object"} if dtype == np.dtype(object) else {"kind": "other", "dtype": str(dtype)}
    )


def _string_dtype(spec: Spec) -> pd.StringDtype:
    """Rebuild a string dtype with its storage and NA flavour."""
    na_value = np.nan if spec["na"] == "nan" else pd.NA
    try:
        return pd.StringDtype(storage=spec["storage"], na_value=na_value)
    except TypeError:  # pandas 2.2 has no na_value argument
        return pd.StringDtype(storage=spec["storage"])


def dtype_from_spec(spec: Spec) -> Any:
    """Rebuild the dtype a :func:`dtype_spec` describes."""
    kind = spec["kind"]
    if kind == "category":
        base = pd.Index(spec["categories"], dtype=object)
        categories = base.astype(dtype_from_spec(spec["categories_dtype"]))
        return pd.CategoricalDtype(categories, ordered=spec["ordered"])
    if kind == "string":
        return _string_dtype(spec)
    if kind == "datetime":
        tz, unit = spec["tz"], spec["unit"]
        return pd.DatetimeTZDtype(unit=unit, tz=tz) if tz else np.dtype(f"datetime64[{unit}]")
    return np.dtype(object) if kind == "object" else pd.api.types.pandas_dtype(spec["dtype"])


def _number(value: object) -> int | float | None:
    """Read a number back from a cell: a number, or the text we wrote for big or odd ones."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            return float(text)
    raise TypeError(f"not a number: {value!r}")


def _datetimes(values: Sequence[object], spec: Spec, extras: Spec) -> pd.Series:
    """Rebuild a datetime column from date cells (or ISO text for dates Excel cannot hold)."""
    naive: pd.Series = pd.to_datetime(pd.Series(list(values), dtype=object), format="ISO8601")
    naive = naive.astype(cast(Any, f"datetime64[{spec['unit']}]"))
    if not spec["tz"]:
        return naive
    ambiguous = np.zeros(len(naive), dtype=bool)
    ambiguous[extras.get("dst", [])] = True
    localized: pd.Series = naive.dt.tz_localize(
        spec["tz"], ambiguous=ambiguous, nonexistent="raise"
    )
    return localized


def _category(values: Sequence[object], spec: Spec, empties: Sequence[int], _: Spec) -> pd.Series:
    """Rebuild a categorical column, keeping values a user typed that are not categories."""
    dtype = dtype_from_spec(spec)
    if spec["categories_dtype"]["kind"] in ("number", "bool"):
        # Matched against the categories as objects: an int64 dtype could not hold NA.
        base = pd.Series([_number(value) for value in values], dtype=object)
    else:
        base = restore_column(values, spec["categories_dtype"], empties)
    known = set(dtype.categories)
    extra = [value for value in pd.unique(base.dropna()) if value not in known]
    if extra:  # a user typed a new value: keep it rather than turn it into NA
        dtype = pd.CategoricalDtype([*dtype.categories, *extra], ordered=dtype.ordered)
    return pd.Series(pd.Categorical(base, dtype=dtype))


def _text(values: Sequence[object], spec: Spec, empties: Sequence[int], _: Spec) -> pd.Series:
    """Rebuild a string column (and timedelta / other columns written as text)."""
    texts: list[object] = [
        value if isinstance(value, str) or value is None else canonical_text(value)
        for value in values
    ]
    for position in empties:
        texts[position] = ""
    if spec["kind"] == "string":
        return pd.Series(cast(Any, texts), dtype=_string_dtype(spec))
    strings = pd.Series(cast(Any, texts), dtype="string")
    if spec["kind"] == "timedelta":
        deltas: pd.Series = pd.to_timedelta(strings)
        return deltas.astype(spec["dtype"])
    return strings.astype(pd.api.types.pandas_dtype(spec["dtype"]))


def _numbers(values: Sequence[object], spec: Spec, _: Sequence[int], __: Spec) -> pd.Series:
    """Rebuild a numeric column; integers written as text (over 15 digits) come back exact."""
    dtype = pd.api.types.pandas_dtype(spec["dtype"])
    numbers = [_number(value) for value in values]
    if dtype.kind in "iu":
        # Whole floats must become ints first: a list mixing floats and big ints
        # would go through float64 and lose the ints' last digits.
        numbers = [int(n) if isinstance(n, float) and n.is_integer() else n for n in numbers]
        if isinstance(dtype, np.dtype):
            return pd.Series(np.asarray(numbers, dtype=dtype))
        return pd.Series(cast(Any, numbers), dtype=dtype)
    floats = [math.nan if number is None else float(number) for number in numbers]
    return pd.Series(floats, dtype="float64").astype(dtype)


def _flags(values: Sequence[object], spec: Spec, _: Sequence[int], __: Spec) -> pd.Series:
    """Rebuild a bool / boolean column."""
    flags = [None if value is None else bool(value) for value in values]
    if spec["dtype"] == "bool":
        if None in flags:
            raise ValueError("a bool column has blank cells")
        return pd.Series(np.asarray(flags, dtype=bool))
    nullable: pd.Series = pd.Series(cast(Any, flags), dtype=cast(Any, spec["dtype"]))
    return nullable


def _json_or_text(value: object) -> object:
    """Parse a cell written as JSON; text that no longer parses (cut, edited) stays text."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _objects(values: Sequence[object], _: Spec, empties: Sequence[int], extras: Spec) -> pd.Series:
    """Rebuild an object column with the NA object it had."""
    objects = list(values)
    for position in empties:
        objects[position] = ""
    if extras.get("json"):
        objects = [_json_or_text(value) for value in objects]
    missing = {"nan": math.nan, "NA": pd.NA, "NaT": pd.NaT}.get(extras.get("na", ""))
    if missing is not None:
        objects = [missing if value is None else value for value in objects]
    return pd.Series(objects, dtype=object)


_RESTORERS: Final = {
    "category": _category,
    "string": _text,
    "other": _text,
    "timedelta": _text,
    "number": _numbers,
    "bool": _flags,
    "datetime": lambda values, spec, _, extras: _datetimes(values, spec, extras),
    "object": _objects,
}


def restore_column(
    values: Sequence[object], spec: Spec, empties: Sequence[int], extras: Spec | None = None
) -> pd.Series:
    """Rebuild one column from its raw cell values (None = blank) and its dtype spec.

    Args:
        values: Cell values as a reader returns them, blanks as None.
        spec: The column's :func:`dtype_spec`.
        empties: Positions whose blank cell held an empty string, not NA.
        extras: Per-column facts beyond the dtype (DST flags, object NA flavour).

    Returns:
        A Series with a RangeIndex.

    Raises:
        ValueError: The cells do not fit the dtype (a user edit); so may TypeError.

    """
    return _RESTORERS[spec["kind"]](values, spec, empties, extras or {})
