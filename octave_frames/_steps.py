"""A step's results on a re-run: the rows kept from before, the rest from this run.

The Sequence Agent's columns have their own merge (``_results.merge_results``: it knows
the ``email_{i}_*`` groups); every other step's columns are whatever its declaration
produced, so they merge by name: this run's columns in its order, then any the earlier
run had and this one did not, each in this run's dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._exceptions import ArgumentError

__all__ = ["merge_step_results"]


def _as(values: pd.Series, dtype: Any) -> Any:
    """``values`` in ``dtype`` (they came from an earlier run, maybe through a file)."""
    if values.dtype == dtype:
        return values.array
    try:
        return values.astype(dtype).array
    except (TypeError, ValueError):
        if isinstance(dtype, pd.StringDtype):
            return pd.array([None if pd.isna(v) else str(v) for v in values], dtype=dtype)
        return pd.array([pd.NA] * len(values), dtype=dtype)


def _missing(dtype: Any, n: int) -> Any:
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return np.full(n, None, dtype=object)
    return pd.Series([pd.NA] * n, dtype=dtype).array


def merge_step_results(
    previous: pd.DataFrame,
    fresh: pd.DataFrame,
    keep: npt.ArrayLike,
    *,
    prefix: str = "",
) -> pd.DataFrame:
    """Combine a step's earlier results with this run's, row by row.

    Args:
        previous: The step's columns the frame already carried.
        fresh: This run's columns, same length; rows match by position.
        keep: Per row: True takes ``previous``, False ``fresh``.
        prefix: Unused here (names already carry it); kept for the shared signature.

    Returns:
        One frame on a RangeIndex: ``fresh``'s columns, then ``previous``-only ones.

    Raises:
        ArgumentError: The lengths differ.

    """
    n = len(fresh)
    mask = np.asarray(keep, dtype=bool)
    if len(previous) != n or mask.shape != (n,):
        raise ArgumentError(
            f"previous ({len(previous)} rows), fresh ({n} rows) and keep must describe the "
            "same rows"
        )
    out: dict[Any, Any] = {}
    for name in [*fresh.columns, *(c for c in previous.columns if c not in fresh.columns)]:
        new = fresh[name] if name in fresh.columns else None
        old = previous[name] if name in previous.columns else None
        dtype = new.dtype if new is not None else old.dtype  # type: ignore[union-attr]
        merged = _missing(dtype, n) if new is None else new.array.copy()
        if old is not None and mask.any():
            merged[mask] = _as(old, dtype)[mask]
        out[name] = merged
    return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)
