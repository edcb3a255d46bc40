"""Expand Sequence Agent answers into the tidy result columns of the contract.

The engine hands over, per input row and in order, a status, an error text and
the parsed JSON body. :func:`result_columns` turns them into one frame whose
columns are named and typed as ``CONTRACT.md`` §2 promises. It never raises on
what Octave sent: JSON that is not the documented shape becomes NA, so a single
odd answer cannot cost a 100,000-row run its results. What the rest of the
package knows about those columns (names, re-reading, merging) is in
``_results``; this module re-exports it.

Speed: 100,000 answers hold millions of objects scattered over memory, and a
touch of one that is no longer in cache costs more than the work done on it;
about half the time goes to such misses. So each *distinct* body object is read
once (rows sharing an answer share its dict), bodies go in chunks of ``_CHUNK``
whose objects stay in cache while all their columns are read, cleaned and
stored, and nothing walks the strings again afterwards: a column is stored
straight into its full-length array, and the ``"string"`` arrays are built from
those without pandas' per-cell check (every cell is ``str`` or NA by
construction). Within a chunk the work goes a column at a time, mapping
``itemgetter`` and ``str.strip`` over lists in C, with slower paths only for a
column missing a key or holding null or junk. The email text is joined from
the raw sections before they are stripped, so the strips find them in cache.
Bodies parsed from JSON text cost ~20% more than dicts built in Python: each
has its own key strings, which every lookup must compare.
``benchmarks/bench_flatten.py`` measures it against the one-second target and
against ``pd.json_normalize``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from octave_frames._constants import ENTITIES, SECTIONS
from octave_frames._exceptions import ArgumentError
from octave_frames._results import (
    CONFIDENCE_DTYPE,
    LEVEL_CODES,
    RAW_COLUMN,
    RUN_ID_COLUMN,
    UnknownConfidenceWarning,
    cell_text,
    confidence_code,
    credits,
    is_output_column,
    merge_results,
    normalize_result_columns,
    object_array,
    output_column_names,
    result_frame,
    step_count,
    warn_unknown,
)

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

# Distinct bodies per chunk: small enough for a chunk's objects to stay in cache.
_CHUNK: Final = 256
_EMPTY: Final[dict[Any, Any]] = {}
_NO_LIST: Final[list[Any]] = []
_JOIN: Final = "\n\n".join
# pandas' own constructor re-checks every cell; ours are str or NA by construction.
# Missing in some future pandas, the checked route is taken.
_SIMPLE_NEW: Final = getattr(pd.arrays.StringArray, "_simple_new", None)


def _as_dict(value: object) -> dict[Any, Any]:
    return dict(value) if isinstance(value, Mapping) else _EMPTY


def _dicts(values: list[Any]) -> list[dict[Any, Any]]:
    """``values`` with every non-dict replaced, so ``dict.get`` can map over them in C."""
    if set(map(type, values)) <= {dict}:
        return values
    return [v if v.__class__ is dict else _as_dict(v) for v in values]


def _get(parents: list[dict[Any, Any]], key: str) -> list[Any]:
    """Return the ``key`` of every parent, None where it has none."""
    try:
        # itemgetter on plain dicts is the quicker C call while every key is there.
        return list(map(itemgetter(key), parents))
    except KeyError:
        return list(map(dict.get, parents, repeat(key)))


def _stripped(values: list[Any]) -> list[str]:
    """Return ``values`` as stripped text, ``""`` standing for NA (see :func:`_texts`)."""
    try:
        return list(map(str.strip, values))
    except TypeError:
        return [v.strip() if v.__class__ is str else cell_text(v) or "" for v in values]


def _joined(columns: list[list[Any]]) -> list[str] | None:
    """Join each row's truthy values by a blank line; None if one of them is not text."""
    present = [column for column in columns if any(column)]
    rows = zip(*present, strict=True)
    gaps = not all(map(all, present))
    try:
        return list(map(_JOIN, map(filter, repeat(None), rows) if gaps else rows))
    except TypeError:
        return None


def _texts(parents: list[dict[Any, Any]], key: str) -> list[str]:
    """Return the ``key`` of every parent as stripped text, ``""`` standing for NA.

    Null, containers and other junk become ``""``; numbers become their text.
    """
    try:
        # The rule (all strings) runs in C; null or junk anywhere takes the slow path.
        try:
            return list(map(str.strip, map(itemgetter(key), parents)))
        except KeyError:
            return list(map(str.strip, map(dict.get, parents, repeat(key), repeat(""))))
    except TypeError:
        values = map(dict.get, parents, repeat(key), repeat(""))
        return [v.strip() if v.__class__ is str else cell_text(v) or "" for v in values]


def _levels(parents: list[dict[Any, Any]]) -> tuple[npt.NDArray[np.int8], dict[int, str]]:
    """Confidence codes (-1 = NA) and, by position, the raw text of each unknown level."""
    raw = _get(parents, "matchConfidence")
    try:
        codes = np.fromiter(map(LEVEL_CODES.get, raw, repeat(-2)), dtype=np.int8, count=len(raw))
    except TypeError:  # an unhashable value: lists or dicts where a level should be
        codes = np.full(len(raw), -2, dtype=np.int8)
    unknown: dict[int, str] = {}
    # Exact levels are the rule; the rest is normalised once per distinct value.
    memo: dict[object, tuple[int, str | None]] = {}
    for k in np.flatnonzero(codes == -2).tolist():
        value = raw[k]
        key = value if value.__class__ is str else id(value)
        found = memo.get(key)
        if found is None:
            found = memo[key] = confidence_code(value)
        codes[k] = found[0]
        if found[1] is not None:
            unknown[k] = found[1]
    return codes, unknown


def _fill(target: npt.NDArray[np.object_], values: list[str] | None) -> int:
    """Copy ``values`` into the NA-filled ``target``, ``""`` staying NA (None: all NA).

    Returns:
        0 if every value was NA, 1 if some were, 2 if none was.
    """
    if values is None or not any(values):
        return 0
    target[:] = values
    if all(values):
        return 2
    target[target == ""] = pd.NA
    return 1


def _text_array(values: npt.NDArray[np.object_]) -> Any:
    """Wrap an object array holding only ``str`` and NA as a ``"string"`` array."""
    dtype = pd.StringDtype()
    if _SIMPLE_NEW is not None and dtype.storage == "python":
        return _SIMPLE_NEW(values, dtype)
    return pd.array(values, dtype=dtype)


class _Sink:
    """Full-length per-body arrays, filled one chunk of bodies at a time.

    Chunks keep every body's objects in cache while all its columns are read,
    cleaned and stored; one pass per column over 100,000 bodies would fetch
    each object from memory again for every column.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.start = self.stop = 0
        self.texts: dict[str, npt.NDArray[np.object_]] = {}
        self.codes: dict[str, npt.NDArray[np.int8]] = {}
        self.usage = np.full(size, np.nan)

    def text(self, name: str, values: list[str] | None) -> int:
        """Store this chunk of a text column (``""`` or None for NA); see :func:`_fill`."""
        target = self.texts.get(name)
        if target is None:
            target = self.texts[name] = np.full(self.size, pd.NA, dtype=object)
        return _fill(target[self.start : self.stop], values)

    def confidence(self, name: str, codes: npt.NDArray[np.int8]) -> None:
        """Store this chunk of a confidence column's category codes."""
        target = self.codes.get(name)
        if target is None:
            target = self.codes[name] = np.full(self.size, -1, dtype=np.int8)
        target[self.start : self.stop] = codes

    def finish(self, rows: npt.NDArray[np.intp] | None) -> dict[str, Any]:
        """Fan the per-body arrays out to ``rows`` and give them their pandas dtypes."""

        def fan(values: Any) -> Any:
            return values if rows is None else values.take(rows)

        out: dict[str, Any] = {"octave_usage": pd.array(fan(self.usage), dtype="Float64")}
        for name, codes in self.codes.items():
            out[name] = pd.Categorical.from_codes(fan(codes), dtype=CONFIDENCE_DTYPE)
        for name, texts in self.texts.items():
            out[name] = _text_array(fan(texts))
        return out


def _email(items: list[dict[Any, Any]], name: str, sink: _Sink) -> None:
    """Store the ``email_{i}_*`` columns of one step, ``name`` being ``"email_{i}_"``."""
    sections = _dicts(_get(items, "sections"))
    sink.text(name + "subject", _texts(items, "subject"))
    raws = [_get(sections, key) for key in SECTIONS]
    # The join reads every section from end to end, so joining the raw values
    # first leaves them in cache for the strips. The result stands if stripping
    # changed nothing (the rule): every column equals its raw values, or had no
    # truthy raw value and no text.
    text = _joined(raws)
    parts = []
    for key, raw in zip(SECTIONS, raws, strict=True):
        part = _stripped(raw)
        filled = sink.text(name + key, part)
        if text is not None and (part != raw if filled else any(raw)):
            text = None
        parts.append(part)
    if text is None:
        text = _joined(parts)
    sink.text(name + "core_value_prop", _texts(items, "coreValueProp"))
    sink.text(name + "text", text)


def _extract(bodies: list[object], sink: _Sink) -> dict[int, str]:
    """Store every result column but status and error for ``bodies``, one chunk.

    Works a column at a time: each level of the JSON tree is a list of dicts and
    a lookup mapped over it runs in C.

    Returns:
        By position in ``bodies``, the raw text of an unknown confidence level.
    """
    roots = _dicts(bodies)
    metas = _dicts(_get(roots, "_metadata"))
    datas = _dicts(_get(roots, "data"))
    sink.text("octave_request_id", _texts(metas, "requestId"))
    sink.usage[sink.start : sink.stop] = credits(_get(metas, "usage"))
    lists = _get(datas, "emails")
    if not set(map(type, lists)) <= {list}:
        lists = [v if v.__class__ is list else _NO_LIST for v in lists]
    lengths = list(map(len, lists))
    shortest = min(lengths, default=0)
    for i in range(max(lengths, default=0)):
        if i < shortest:
            items = _dicts(list(map(itemgetter(i), lists)))
        else:
            items = _dicts([v[i] if len(v) > i else None for v in lists])
        _email(items, f"email_{i + 1}_", sink)
    odd: dict[int, str] = {}
    for entity in ENTITIES:
        found = _dicts(_get(datas, entity))
        codes, unknown = _levels(found)
        analysis = _texts(found, "matchAnalysis")
        for k, text in unknown.items():
            odd[k] = text
            tag = f"[matchConfidence: {text}]"
            analysis[k] = f"{tag} {analysis[k]}" if analysis[k] else tag
        sink.text(f"{entity}_name", _texts(found, "name"))
        sink.confidence(f"{entity}_match_confidence", codes)
        sink.text(f"{entity}_match_analysis", analysis)
    sink.text("output_type", _texts(datas, "outputType"))
    return odd


def _run_texts(values: Sequence[Any]) -> Any:
    """Run-level texts (statuses, errors) stripped, NA for missing or blank."""
    try:
        texts = list(map(str.strip, values))
    except TypeError:
        # Errors are mostly None: that case stays out of cell_text.
        texts = [
            v.strip() if v.__class__ is str else "" if v is None else cell_text(v) or ""
            for v in values
        ]
    out = np.full(len(texts), pd.NA, dtype=object)
    _fill(out, texts)
    return _text_array(out)


def result_columns(
    statuses: Sequence[str],
    errors: Sequence[str | None],
    bodies: Sequence[Mapping[str, Any] | None],
    *,
    notes: Sequence[str | None] | None = None,
    run_ids: Sequence[str | None] | None = None,
    prefix: str = "",
    raw: bool = False,
) -> pd.DataFrame:
    """Expand per-row statuses, errors and answer bodies into the result columns.

    Args:
        statuses: One status per row (``ok``, ``not_found``, ...).
        errors: One readable error per row, or None.
        bodies: One parsed Sequence Agent envelope per row, or None. Rows sharing an
            answer may pass the same dict object; it is parsed once.
        notes: One note per row for ``octave_note`` (values left out of the request, a
            person's sequence copied from another row ...), or None; default all None.
        run_ids: One async run id per row for ``octave_run_id``; None leaves the column out.
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
    # `bodies` keeps every object alive for the whole call, so ids stay unique.
    # An id seen again keeps its first place and its (identical) object.
    rows = None
    distinct: list[object] = list(bodies)
    if len(set(map(id, bodies))) < n:
        by_id = dict(zip(map(id, bodies), bodies, strict=True))
        distinct = list(by_id.values())
        slot = dict(zip(by_id, range(len(distinct)), strict=True))
        rows = np.fromiter(map(slot.__getitem__, map(id, bodies)), dtype=np.intp, count=n)
    sink = _Sink(len(distinct))
    odd: dict[int, str] = {}
    for start in range(0, len(distinct), _CHUNK):
        sink.start, sink.stop = start, min(start + _CHUNK, len(distinct))
        for k, text in _extract(distinct[start : sink.stop], sink).items():
            odd[start + k] = text
    if not distinct:
        _extract([], sink)
    out = {
        "octave_status": _run_texts(statuses),
        "octave_error": _run_texts(errors),
        "octave_note": _run_texts(notes if notes is not None else [None] * n),
        **sink.finish(rows),
    }
    if run_ids is not None:
        out[RUN_ID_COLUMN] = _run_texts(run_ids)
    if raw:
        out[RAW_COLUMN] = object_array(bodies)
    if odd:
        values = _fanned(odd, rows)
        warn_unknown(sum(values.values()), values)
    names = output_column_names(step_count(out), raw=raw, run_id=run_ids is not None)
    return result_frame({name: out[name] for name in names}, n, prefix)


def _fanned(odd: dict[int, str], rows: npt.NDArray[np.intp] | None) -> Counter[str]:
    """Count the unknown levels ``odd`` (by body) once per row that shares the body."""
    per_body = None if rows is None else np.bincount(rows)
    values: Counter[str] = Counter()
    # In body order, which is first-row order: ties in the message list first seen first.
    for k in sorted(odd):
        values[odd[k]] += 1 if per_body is None else int(per_body[k])
    return values
