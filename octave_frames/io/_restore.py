"""From raw rows to a DataFrame: plain inference, or exact restore from metadata.

A workbook written by ``to_excel`` carries metadata for its contacts sheet.
Columns are matched to it *by header text* (the k-th "Email" column to the
k-th written "Email" column), so a user who adds, removes or reorders columns
keeps the dtypes of the columns that are still there; new columns are
inferred. Empty strings are put back only in columns whose pattern of blank
cells is unchanged (rows sorted or deleted would make the positions lie).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from octave_frames.io._infer import canonical_text, infer_column
from octave_frames.io._meta import blank_digest, decode_label, dtype_from_spec, restore_column

__all__ = ["DtypeArg", "frame_from_rows"]

log = logging.getLogger("octave_frames")

Rows = list[list[object]]
DtypeArg = Any  # a dtype, or {column: dtype}


def _trim(body: Rows, keep: int = 0) -> Rows:
    """Drop trailing rows that are entirely blank (but never below ``keep`` rows)."""
    end = len(body)
    while end > keep and all(value is None for value in body[end - 1]):
        end -= 1
    return body[:end]


def _header_texts(head: Sequence[object]) -> list[str]:
    """Header texts, whitespace stripped (numbers spelled as shown)."""
    return ["" if value is None else canonical_text(value).strip() for value in head]


def _unique(headers: Sequence[str]) -> list[str]:
    """Name blank headers ``Unnamed: j`` and number repeats ``X.1``, as pandas does."""
    seen: Counter[str] = Counter()
    out = []
    for j, header in enumerate(headers):
        name = header or f"Unnamed: {j}"
        candidate = name
        while candidate in seen:
            candidate = f"{name}.{seen[name]}"
            seen[name] += 1
        seen[candidate] += 1
        out.append(candidate)
    return out


def _columns(body: Rows, width: int) -> list[list[object]]:
    """Transpose rows into columns."""
    if not body:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*body, strict=True)]


def _override(values: Sequence[object], dtype: Any) -> pd.Series:
    """Apply a user's dtype to the column's text, as ``pd.read_excel(dtype=...)`` would."""
    texts = [None if value is None else canonical_text(value) for value in values]
    return pd.Series(pd.array(texts, dtype="string")).astype(dtype)


def _dtype_for(dtype: DtypeArg, label: Hashable) -> Any:
    """Pick the user's dtype for one column, if any."""
    if dtype is None:
        return None
    if isinstance(dtype, Mapping):
        return dtype.get(label)
    return dtype


def frame_from_rows(
    rows: Rows,
    meta: Mapping[str, Any] | None = None,
    *,
    header: int = 0,
    nrows: int | None = None,
    dtype: DtypeArg = None,
) -> pd.DataFrame:
    """Build the frame of one sheet from its raw rows (blanks as None).

    Args:
        rows: Rows from A1, all of one width.
        meta: The metadata ``to_excel`` wrote for this sheet, if any.
        header: Row (0-based) holding the headers; rows above it are skipped.
        nrows: Read at most this many data rows.
        dtype: A dtype for every column, or ``{column: dtype}``; skips inference.

    Returns:
        The frame.

    """
    rows = rows[header:]
    if not rows:
        return pd.DataFrame()
    head, body = rows[0], rows[1:]
    if nrows is not None:
        body = body[:nrows]
    expected = int(meta["rows"]) if meta else 0
    body = _trim(body, keep=min(expected, len(body)))
    texts = _header_texts(head)
    columns = _columns(body, len(head))
    if meta is None:
        keep = [j for j, text in enumerate(texts) if text or any(v is not None for v in columns[j])]
        names = _unique([texts[j] for j in keep])
        data = {}
        for name, j in zip(names, keep, strict=True):
            wanted = _dtype_for(dtype, name)
            data[name] = (
                _override(columns[j], wanted)
                if wanted is not None
                else infer_column(columns[j], name)
            )
        return pd.DataFrame(data, index=pd.RangeIndex(len(body)))
    return _restore(texts, columns, len(body), meta, dtype)


def _match(texts: Sequence[str], written: Sequence[str]) -> list[int | None]:
    """For each sheet column, the written column with the same header and occurrence."""
    where: dict[str, list[int]] = {}
    for position, text in enumerate(written):
        where.setdefault(text, []).append(position)
    seen: Counter[str] = Counter()
    out: list[int | None] = []
    for text in texts:
        candidates = where.get(text, [])
        out.append(candidates[seen[text]] if seen[text] < len(candidates) else None)
        seen[text] += 1
    return out


def _restored(
    values: list[object], meta: Mapping[str, Any], position: int, header: str
) -> pd.Series:
    """Rebuild one written column; fall back to inference when the cells no longer fit."""
    key = str(position)
    empties: list[int] = meta["empties"].get(key, [])
    if empties:
        blank = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        if blank_digest(blank) != meta["blanks"].get(key):
            empties = []
    try:
        return restore_column(values, meta["specs"][position], empties, meta["extras"].get(key))
    except (ValueError, TypeError, OverflowError) as exc:
        log.info("column %r no longer fits its saved dtype (%s); inferring it", header, exc)
        return infer_column(values, header)


def _restore(
    texts: list[str], columns: list[list[object]], n: int, meta: Mapping[str, Any], dtype: DtypeArg
) -> pd.DataFrame:
    """Rebuild the frame ``to_excel`` wrote, tolerating user edits (see the module doc)."""
    match = _match(texts, meta["headers"])
    levels = int(meta["index"]["levels"])
    has_index = levels > 0 and match[:levels] == list(range(levels))
    start = levels if has_index else 0
    labels_meta = [decode_label(label) for label in meta["columns"]["labels"]]

    labels: list[Hashable] = []
    series: list[pd.Series] = []
    written: list[int | None] = []
    for j in range(start, len(texts)):
        position = match[j]
        if position is not None and position < levels:
            position = None  # an index column that no longer leads the sheet: plain data
        if position is None and not texts[j] and all(v is None for v in columns[j]):
            continue
        label: Hashable = labels_meta[position - levels] if position is not None else texts[j]
        wanted = _dtype_for(dtype, label)
        if wanted is not None:
            values = _override(columns[j], wanted)
        elif position is not None:
            values = _restored(columns[j], meta, position, texts[j])
        else:
            values = infer_column(columns[j], texts[j])
        labels.append(label)
        series.append(values)
        written.append(None if position is None else position - levels)

    labels, series = _frame_order(labels, series, written, meta)
    index = _index(columns, n, meta, has_index, texts)
    frame = pd.concat(series, axis=1, ignore_index=True) if series else pd.DataFrame(index=range(n))
    if len(frame) != n:
        frame = frame.reindex(range(n))
    frame.index = index
    frame.columns = _column_index(labels, _in_frame_order(labels_meta, meta), meta)
    return frame


def _in_frame_order(sheet_items: list[Any], meta: Mapping[str, Any]) -> list[Any]:
    """Reorder per-column items listed in sheet order into the frame's order."""
    positions = meta["columns"].get("frame_positions")
    if positions is None:  # written before sheets could differ from frames
        return sheet_items
    out: list[Any] = [None] * len(sheet_items)
    for sheet, frame in enumerate(positions):
        out[frame] = sheet_items[sheet]
    return out


def _frame_order(
    labels: list[Hashable],
    series: list[pd.Series],
    written: list[int | None],
    meta: Mapping[str, Any],
) -> tuple[list[Hashable], list[pd.Series]]:
    """Put the columns back in the frame's order when the sheet shows them in another.

    Columns a user added follow the column they were added after. A user who
    reordered our columns meant it: then the sheet's order is kept.
    """
    positions = meta["columns"].get("frame_positions")
    ours = [w for w in written if w is not None]
    if positions is None or ours != sorted(ours):
        return labels, series
    keys: list[tuple[int, int]] = []
    anchor = -1
    for j, w in enumerate(written):
        if w is not None:
            anchor = int(positions[w])
        keys.append((anchor, j))
    ranked = sorted(range(len(labels)), key=keys.__getitem__)
    return [labels[k] for k in ranked], [series[k] for k in ranked]


def _column_index(
    labels: list[Hashable], written: list[Hashable], meta: Mapping[str, Any]
) -> pd.Index:
    """The columns Index: exactly the original one when every column is still there, in order."""
    names = [decode_label(name) for name in meta["columns"]["names"]]
    if labels == written and labels:
        if all(isinstance(label, tuple) for label in labels):
            return pd.MultiIndex.from_tuples(labels, names=names)  # type: ignore[arg-type]
        try:
            dtype = dtype_from_spec(meta["columns"]["dtype"])
            exact: pd.Index = pd.Index(cast(Any, labels), dtype=dtype, name=names[0])
        except (TypeError, ValueError):
            exact = pd.Index(cast(Any, labels), name=names[0])
        return exact
    return pd.Index(labels, dtype=object if any(not isinstance(x, str) for x in labels) else None)


def _index(
    columns: list[list[object]], n: int, meta: Mapping[str, Any], has_index: bool, texts: list[str]
) -> pd.Index:
    """The original index: from its leading columns, or the RangeIndex it was."""
    info = meta["index"]
    names = [decode_label(name) for name in info["names"]]
    span = info.get("range")
    if not has_index:
        start, step = span if span and info["levels"] == 0 else (0, 1)
        return pd.RangeIndex(start, start + step * n, step, name=names[0] if span else None)
    arrays = [_restored(columns[k], meta, k, texts[k]) for k in range(int(info["levels"]))]
    if len(arrays) == 1:
        index: pd.Index = pd.Index(arrays[0], name=names[0])
        if span:
            start, step = span
            candidate = pd.RangeIndex(start, start + step * n, step, name=names[0])
            if index.equals(candidate):
                return candidate
        return index
    return pd.MultiIndex.from_arrays(arrays, names=names)
