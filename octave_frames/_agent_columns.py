"""Typed result columns for the answers of Octave's other agents.

Every agent answers in the Sequence Agent's envelope (``{_metadata, found,
message, data}``); what sits under ``data`` differs. Each agent's columns are
a declaration here, a tuple of :class:`Column` (name, path into ``data``,
kind), and one function, :func:`agent_columns`, applies any declaration to
many bodies. Adding an agent is a tuple, not code.

The cell rules are the Sequence Agent's (``_flatten``): text is pandas'
nullable ``"string"`` (missing = NA, never ``"nan"``), numbers ``"Float64"``,
confidences the ordered :data:`CONFIDENCE_DTYPE`, flags ``"boolean"``.
Nothing in a body makes a function here raise: junk becomes NA.

Leniency, decided once:

- a key is looked up as written (camelCase, as Octave documents it), then in
  snake_case (``employeeCount`` / ``employee_count``);
- numbers may be text: ``"1,200"`` is 1200, ``"$2.5M"`` 2,500,000, ``"8/10"``
  8, and a range such as ``"51-200"`` or ``"10,001+"`` its **lower bound**
  (what the company is known to reach; a midpoint would invent a number);
  other text is NA;
- a confidence is read in any case and spacing; a value outside
  ``LOW``/``MEDIUM``/``HIGH`` is NA, kept at the front of the column named by
  :attr:`Column.note` as ``"[matchConfidence: VERY_HIGH] ..."``, and warned
  about once per call (:class:`UnknownConfidenceWarning`);
- funding totals add ``roundAmount`` as sent: currencies are not converted,
  so ``company_funding_currency`` is NA when the rounds disagree.

The long views (one row per qualifying answer, people found by the
prospector) and the flattening of an unknown agent are in ``_agent_rows``.

Speed: columns are read a level of the JSON tree at a time, every column
sharing a path prefix sharing its lookups, each a ``dict.get`` mapped over a
list in C; only list-shaped cells take a Python call per cell.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from octave_frames._agent_cells import (
    LOCATION_PARTS,
    Path,
    alternate_key,
    flag,
    items_of,
    json_text,
    lookup,
    number,
    part_text,
)
from octave_frames._constants import CONFIDENCE_LEVELS
from octave_frames._exceptions import ArgumentError
from octave_frames._results import (
    CONFIDENCE_DTYPE,
    LEVEL_CODES,
    UnknownConfidenceWarning,
    cell_text,
    confidence_code,
)

__all__ = [
    "CALL_PREP_COLUMNS",
    "CONTENT_COLUMNS",
    "CONTEXT_COLUMNS",
    "ENRICH_COMPANY_COLUMNS",
    "ENRICH_PERSON_COLUMNS",
    "QUALIFYING_SECTIONS",
    "QUALIFY_COMPANY_COLUMNS",
    "QUALIFY_PERSON_COLUMNS",
    "Column",
    "Kind",
    "Reduce",
    "agent_columns",
]

Kind = Literal["text", "number", "confidence", "list", "bool", "json"]
#: How a list-valued cell becomes one value (None: the cell is the value).
Reduce = Literal["sum", "count", "yes", "top", "same"]

_KINDS: Final = frozenset(("text", "number", "confidence", "list", "bool", "json"))
_REDUCES: Final = frozenset(("sum", "count", "yes", "top", "same"))
_EMPTY: Final[dict[Any, Any]] = {}
# Exact levels and null are the rule; only the rest is normalised one by one.
_CODES: Final[dict[object, int]] = {None: -1}
_CODES.update(LEVEL_CODES)


@dataclass(frozen=True)
class Column:
    """One result column: where its value sits under ``data`` and what kind it is.

    Attributes:
        name: Output column name (before any prefix).
        path: Keys (and list positions) from ``data`` to the value.
        kind: ``text``, ``number`` (Float64), ``confidence`` (ordered LOW < MEDIUM <
            HIGH), ``list`` (items joined into text), ``bool`` (``"boolean"``) or
            ``json`` (the value as JSON text).
        also: Further paths, tried in order where ``path`` holds nothing; for a
            ``reduce`` column their items are added to those of ``path``.
        each: Paths read from each item of a list-valued cell (a dict counts as a
            one-item list), their texts joined by ``inner``; empty: the item itself.
        inner: Joins the ``each`` parts of one item.
        sep: Joins the items of a ``list`` column.
        reduce: How a list becomes one value: ``sum`` of the items' numbers,
            ``count`` of the items, ``yes`` = how many items' flag is true,
            ``top`` = the item whose ``by`` value is greatest, ``same`` = the one
            value all items share (NA if they differ).
        by: For ``top``: the path, in each item, of the value to rank by.
        note: For ``confidence``: the text column (same spec) where an unknown
            level is kept.
    """

    name: str
    path: Path
    kind: Kind = "text"
    also: tuple[Path, ...] = ()
    each: tuple[Path, ...] = ()
    inner: str = " "
    sep: str = "; "
    reduce: Reduce | None = None
    by: Path = ()
    note: str | None = None
    _paths: tuple[Path, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ArgumentError(f"column {self.name!r}: unknown kind {self.kind!r}")
        if self.reduce is not None and self.reduce not in _REDUCES:
            raise ArgumentError(f"column {self.name!r}: unknown reduce {self.reduce!r}")
        if self.reduce == "top" and not self.by:
            raise ArgumentError(f"column {self.name!r}: reduce='top' needs a `by` path")
        object.__setattr__(self, "_paths", (self.path, *self.also))


def _joined(values: list[Any], column: Column) -> list[str | None]:
    each, inner, sep = column.each, column.inner, column.sep
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value.__class__ is list:
            try:
                # A list of strings is the rule: stripped and joined in C.
                texts = list(map(str.strip, value))
            except TypeError:
                pass
            else:
                out.append(sep.join(filter(None, texts)) or None)
                continue
        parts = [part_text(item, each, inner) for item in items_of(value)]
        out.append(sep.join([p for p in parts if p is not None]) or None)
    return out


def _rank(value: object) -> tuple[int, float | str] | None:
    """Sort key for ``top``: a number, else the text (ISO dates sort as text); text ranks higher."""
    n = number(value)
    if n is not None:
        return (0, n)
    text = cell_text(value)
    return None if text is None else (1, text)


def _best(items: list[Any], by: Path) -> int | None:
    """Where the item whose ``by`` value ranks highest is (first on ties); None: no item has one."""
    best: int | None = None
    top: tuple[int, float | str] | None = None
    for k, item in enumerate(items):
        rank = _rank(lookup(item, by))
        if rank is not None and (top is None or rank > top):
            best, top = k, rank
    return best


def _reduced(
    values: list[Any], column: Column, memo: dict[tuple[int, Path], int | None]
) -> list[Any]:
    """Reduce each cell's items (``None`` = no list anywhere) to one raw value.

    ``memo`` keeps each list's ``top`` position by ``(id, by)``, for the columns
    that pick fields of the same item; the caller keeps the lists alive.
    """
    each = column.each
    how = column.reduce

    def pick(item: object) -> object:
        return lookup(item, each[0]) if each else item

    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        items = items_of(value)
        if how == "count":
            out.append(float(sum(1 for item in items if item is not None)))
        elif how == "yes":
            out.append(float(sum(1 for item in items if flag(pick(item)) is True)))
        elif how == "sum":
            found = [n for n in map(number, map(pick, items)) if n is not None]
            out.append(math.fsum(found) if found else None)
        elif how == "same":
            texts = {cell_text(pick(item)) for item in items} - {None}
            out.append(texts.pop() if len(texts) == 1 else None)
        else:  # top
            key = (id(value), column.by)
            best = memo[key] if key in memo else memo.setdefault(key, _best(items, column.by))
            if best is None:
                out.append(None)
                continue
            chosen = items[best]
            out.append(
                part_text(chosen, each, column.inner)
                if column.kind in ("text", "list")
                else pick(chosen)
            )
    return out


def _step(parents: list[Any], key: str | int) -> list[Any]:
    """The ``key`` of every parent (either spelling), None where it has none."""
    if isinstance(key, int):
        return [
            p[key] if p.__class__ is list and -len(p) <= key < len(p) else None for p in parents
        ]
    types = set(map(type, parents))
    if not types <= {dict}:
        if types == {type(None)}:
            return parents  # nothing lies below a missing value
        parents = [
            p if p.__class__ is dict else dict(p) if isinstance(p, Mapping) else _EMPTY
            for p in parents
        ]
    values = list(map(dict.get, parents, repeat(key)))
    if None in values:
        other = alternate_key(key)
        # Both lookups run in C; the per-row merge only when the other spelling occurs.
        others = list(map(dict.get, parents, repeat(other))) if other != key else []
        if others and others.count(None) < len(others):
            values = [o if v is None else v for v, o in zip(values, others, strict=True)]
    return values


def _walk(roots: list[Any], paths: set[Path]) -> dict[Path, list[Any]]:
    """The values at every path in ``paths``, sharing lookups along common prefixes."""
    found: dict[Path, list[Any]] = {(): roots}
    for path in sorted(paths, key=len):
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in found:
                found[prefix] = _step(found[path[: depth - 1]], path[depth - 1])
    return found


def _first(lists: list[list[Any]]) -> list[Any]:
    """Per row, the first value that is not None across ``lists``."""
    values = lists[0]
    for more in lists[1:]:
        if None in values:
            values = [m if v is None else v for v, m in zip(values, more, strict=True)]
    return values


def _concat(lists: list[list[Any]]) -> list[Any]:
    """Per row, the items of every list (None where no path held anything)."""
    if len(lists) == 1:
        return lists[0]
    out: list[Any] = []
    for cells in zip(*lists, strict=True):
        present = [cell for cell in cells if cell is not None]
        out.append([item for cell in present for item in items_of(cell)] if present else None)
    return out


def _texts(values: list[Any]) -> list[str | None]:
    try:
        # All strings is the rule: stripping maps in C; anything else takes the slow path.
        return [v or None for v in map(str.strip, values)]
    except TypeError:
        return [
            None if v is None else (v.strip() or None) if v.__class__ is str else cell_text(v)
            for v in values
        ]


def _numbers(values: list[Any]) -> Any:
    if set(map(type, values)) <= {int, float, type(None)}:
        try:
            array = np.array(values, dtype=float)  # None becomes NaN
        except OverflowError:
            array = None
        if array is not None:
            array[~np.isfinite(array)] = np.nan
            return pd.array(array, dtype="Float64")
    floats = [number(v) for v in values]
    return pd.array(np.array([math.nan if f is None else f for f in floats]), dtype="Float64")


def _levels(values: list[Any]) -> tuple[Any, dict[int, str]]:
    """Confidence codes (-1 = NA) and, by row, the raw text of each unknown level."""
    try:
        codes = np.fromiter(map(_CODES.get, values, repeat(-2)), dtype=np.int8)
    except TypeError:  # unhashable junk where a level should be
        codes = np.full(len(values), -2, dtype=np.int8)
    unknown: dict[int, str] = {}
    for k in np.flatnonzero(codes == -2).tolist():
        codes[k], odd = confidence_code(values[k])
        if odd is not None:
            unknown[k] = odd
    return codes, unknown


def _jsons(values: list[Any]) -> list[str | None]:
    return list(map(json_text, values))


def _check_spec(spec: Sequence[Column]) -> None:
    names = [column.name for column in spec]
    if not all(isinstance(column, Column) for column in spec):
        raise ArgumentError("spec must hold Column objects")
    if len(set(names)) != len(names):
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        raise ArgumentError(f"spec names a column more than once: {repeated}")
    for column in spec:
        if column.note is not None and column.note not in names:
            raise ArgumentError(f"column {column.name!r}: note column {column.note!r} not in spec")


def agent_columns(
    bodies: Sequence[Mapping[str, Any] | None],
    spec: Sequence[Column],
    *,
    prefix: str = "",
    root: str | None = "data",
) -> pd.DataFrame:
    """Turn agent answers into the typed columns that ``spec`` declares.

    Args:
        bodies: One parsed answer envelope per row, or None (a row with no answer).
        spec: The columns, e.g. :data:`ENRICH_COMPANY_COLUMNS`.
        prefix: Prepended to every column name.
        root: The envelope key the paths start under; None: the bodies themselves
            (e.g. the people :func:`prospect_rows` returns).

    Returns:
        A frame on a RangeIndex of ``len(bodies)`` with one column per spec entry,
        in order: text and list columns ``"string"``, numbers ``"Float64"``,
        confidences :data:`CONFIDENCE_DTYPE`, flags ``"boolean"``. Missing or
        malformed values are NA; nothing in a body makes this raise.

    Raises:
        ArgumentError: ``spec`` is not a tuple of :class:`Column` with distinct names.

    Warns:
        UnknownConfidenceWarning: A confidence was outside LOW/MEDIUM/HIGH.

    Example:
        >>> body = {"data": {"company": {"name": "Acme", "employeeCount": "51-200"}}}
        >>> agent_columns([body], ENRICH_COMPANY_COLUMNS).loc[0, "company_employee_count"]
        np.float64(51.0)

    """
    _check_spec(spec)
    roots = list(bodies)
    if root is not None:
        roots = _step(roots, root)
    found = _walk(roots, {path for column in spec for path in column._paths})
    raw: dict[str, Any] = {}
    notes: list[tuple[str, dict[int, str]]] = []
    memo: dict[tuple[int, Path], int | None] = {}
    for column in spec:
        lists = [found[path] for path in column._paths]
        values = _reduced(_concat(lists), column, memo) if column.reduce else _first(lists)
        kind = column.kind
        if kind == "number":
            raw[column.name] = _numbers(values)
        elif kind == "bool":
            raw[column.name] = pd.array(list(map(flag, values)), dtype="boolean")
        elif kind == "confidence":
            codes, unknown = _levels(values)
            raw[column.name] = pd.Categorical.from_codes(codes, dtype=CONFIDENCE_DTYPE)
            if unknown:
                notes.append((column.note or "", unknown))
        elif kind == "list" and column.reduce is None:
            raw[column.name] = _joined(values, column)
        else:
            raw[column.name] = _jsons(values) if kind == "json" else _texts(values)
    odd: Counter[str] = Counter()
    for note, unknown in notes:
        odd.update(unknown.values())
        target = raw.get(note)
        if isinstance(target, list):
            for k, text in unknown.items():
                tag = f"[matchConfidence: {text}]"
                target[k] = f"{tag} {target[k]}" if target[k] else tag
    if odd:
        shown = ", ".join(repr(v) for v, _ in odd.most_common(5))
        warnings.warn(
            f"{sum(odd.values())} value(s) outside {'/'.join(CONFIDENCE_LEVELS)} ({shown}): "
            f"the confidence is NA there and the raw value is kept in its note column",
            UnknownConfidenceWarning,
            stacklevel=2,
        )
    columns = {
        prefix + name: pd.array(values, dtype="string") if isinstance(values, list) else values
        for name, values in raw.items()
    }
    return pd.DataFrame(columns, index=pd.RangeIndex(len(roots)), copy=False)


def _matched(entity: str, key: str) -> tuple[Column, ...]:
    """The Sequence Agent's ``{entity}_*`` columns, same names and dtypes."""
    return (
        Column(f"{entity}_name", (key, "name")),
        Column(
            f"{entity}_match_confidence",
            (key, "matchConfidence"),
            "confidence",
            note=f"{entity}_match_analysis",
        ),
        Column(f"{entity}_match_analysis", (key, "matchAnalysis")),
    )


def _person(*, tail: tuple[Column, ...] = ()) -> tuple[Column, ...]:
    p = ("person",)
    return (
        Column("person_first_name", (*p, "firstName")),
        Column("person_last_name", (*p, "lastName")),
        Column("person_title", (*p, "title"), also=((*p, "jobTitle"),)),
        *tail,
        Column("person_linkedin_profile", (*p, "linkedInProfile"), also=((*p, "profileUrl"),)),
    )


def _company(c: Path) -> tuple[Column, ...]:
    return (
        Column("company_name", (*c, "name")),
        Column("company_domain", (*c, "domain")),
    )


_MATCHES: Final = tuple(
    column
    for entity, key in (
        ("product", "product"),
        ("persona", "persona"),
        ("use_case", "useCase"),
        ("playbook", "playbook"),
    )
    for column in _matched(entity, key)
)

#: ``enrich-person``: the enriched profile plus the matched product, persona, use case, playbook.
ENRICH_PERSON_COLUMNS: Final[tuple[Column, ...]] = (
    *_person(
        tail=(
            Column("person_headline", ("person", "headline")),
            Column("person_seniority", ("person", "seniority")),
            Column(
                "person_location", ("person", "location"), "list", each=LOCATION_PARTS, inner=", "
            ),
            Column("person_skills", ("person", "skills"), "list", each=(("name",),)),
            Column("person_summary", ("person", "summary"), also=(("summary",),)),
        )
    ),
    Column("company_name", ("person", "company", "name"), also=(("company", "name"),)),
    *_MATCHES,
)

_FUNDING: Final = ("company", "crunchBaseFunding")

#: ``enrich-company``: the company profile, its funding, and the matched product ... playbook.
ENRICH_COMPANY_COLUMNS: Final[tuple[Column, ...]] = (
    *_company(("company",)),
    Column("company_description", ("company", "description")),
    Column("company_website", ("company", "website")),
    Column("company_industry", ("company", "industry")),
    Column("company_type", ("company", "type")),
    Column("company_employee_count", ("company", "employeeCount"), "number"),
    Column("company_follower_count", ("company", "followerCount"), "number"),
    Column("company_founded", ("company", "founded"), "number"),
    Column("company_location", ("company", "location"), "list", each=LOCATION_PARTS, inner=", "),
    Column("company_specialties", ("company", "specialties"), "list"),
    Column("company_funding_total", _FUNDING, "number", reduce="sum", each=(("roundAmount",),)),
    Column("company_funding_currency", _FUNDING, reduce="same", each=(("roundCurrency",),)),
    Column("company_funding_rounds", _FUNDING, "number", reduce="count"),
    Column("company_last_round", _FUNDING, reduce="top", by=("roundDate",), each=(("roundName",),)),
    Column(
        "company_last_round_date", _FUNDING, reduce="top", by=("roundDate",), each=(("roundDate",),)
    ),
    *_MATCHES,
)

QUALIFYING_SECTIONS: Final = ("product", "segment", "playbook")
_ANSWERS: Final = tuple((s, "qualification", "answers") for s in QUALIFYING_SECTIONS)

_QUALIFICATION: Final[tuple[Column, ...]] = (
    Column("qualification_score", ("score",), "number", also=(("qualification", "score"),)),
    Column("qualification_rationale", ("rationale",), also=(("qualification", "rationale"),)),
    *(
        column
        for s in QUALIFYING_SECTIONS
        for column in (
            Column(f"{s}_name", (s, "name")),
            Column(f"{s}_score", (s, "qualification", "score"), "number"),
            Column(f"{s}_rationale", (s, "qualification", "rationale")),
        )
    ),
    Column(
        "answers_yes", _ANSWERS[0], "number", also=_ANSWERS[1:], reduce="yes", each=(("answer",),)
    ),
    Column("answers_total", _ANSWERS[0], "number", also=_ANSWERS[1:], reduce="count"),
)

#: ``qualify-person``: who was qualified, the overall score and each section's.
QUALIFY_PERSON_COLUMNS: Final[tuple[Column, ...]] = (*_person(), *_QUALIFICATION)
#: ``qualify-company``: which company, the overall score and each section's.
QUALIFY_COMPANY_COLUMNS: Final[tuple[Column, ...]] = (*_company(("company",)), *_QUALIFICATION)

#: ``call-prep``: the script, the briefs, the questions (one a line) and objection handling.
CALL_PREP_COLUMNS: Final[tuple[Column, ...]] = (
    Column("call_script", ("callScript",)),
    Column("person_brief", ("personBrief",)),
    Column("company_brief", ("companyBrief",)),
    Column("discovery_questions", ("discoveryQuestions",), "list", each=(("question",),), sep="\n"),
    Column(
        "objections",
        ("objections",),
        "list",
        also=(("objectionHandling",),),
        each=(("objection",), ("response",)),
        inner=": ",
        sep="\n",
    ),
)

#: ``generate-content``: the content (text and JSON), what it drew on.
CONTENT_COLUMNS: Final[tuple[Column, ...]] = (
    Column("content", ("content",)),
    Column("content_json", ("jsonContent",), "json"),
    Column("use_cases", ("useCases",), "list", each=(("name",),)),
    Column("reference_customers", ("referenceCustomers",), "list", each=(("name",),)),
    Column("product_name", ("product", "name")),
    Column("persona_name", ("persona", "name")),
    Column("playbook_name", ("playbook", "name")),
)

_DOCS: Final = ("documents",)

#: ``context``: the reasoning and the documents found, best first by score.
CONTEXT_COLUMNS: Final[tuple[Column, ...]] = (
    Column("context_reasoning", ("reasoning",)),
    Column("documents", _DOCS, "list", each=(("name",),)),
    Column("document_count", _DOCS, "number", reduce="count"),
    Column("top_document", _DOCS, reduce="top", by=("score",), each=(("name",),)),
    Column("top_document_score", _DOCS, "number", reduce="top", by=("score",), each=(("score",),)),
    Column("top_document_reasoning", _DOCS, reduce="top", by=("score",), each=(("reasoning",),)),
)
