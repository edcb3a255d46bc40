"""Which column feeds which request field, from the headers and a sample of the values.

:func:`detect_fields` reads every header (:mod:`._headers`), samples the values of the
columns that could matter (:mod:`._sniff`), drops every candidate whose values contradict
its field, scores the rest and gives each field its best column. The rules are the table
and list in :mod:`._fields`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from ._columns import ColumnFinder
from ._constants import REQUEST_FIELDS
from ._exceptions import ArgumentError, ColumnError
from ._headers import (
    HeaderReading,
    check_field_name,
    email_vetoed,
    export_entity,
    read_header,
    vetoed_for_person,
)
from ._sniff import (
    SALESFORCE_PREFIX,
    Profile,
    Verdict,
    judge,
    profile,
    sample_positions,
    sample_texts,
)

__all__ = ["FieldDetection", "detect_fields"]

log = logging.getLogger("octave_frames")

_OUTPUT_COLUMN: Final = re.compile(
    r"(?:octave_|email_\d+_|product_|persona_|playbook_).*|output_type", re.IGNORECASE
)
# A column found by its values alone must be this clean: a wrong email writes to the wrong
# person, so a stray column of addresses (owners, senders) must not slip through.
_VALUE_ONLY_EMAIL: Final = 0.9
_VALUE_ONLY_DISTINCT: Final = 0.8
_VALUE_ONLY_LINKEDIN: Final = 0.8
_VALUE_ONLY_MIN: Final = 3
# dtype kinds that can hold no email or URL: numbers, booleans, datetimes.
_NOT_TEXT_KINDS: Final = "biufcmM"
_ID_BY_ENTITY: Final = {"contact": "crmContactId", "lead": "crmLeadId"}


@dataclass(frozen=True)
class FieldDetection:
    """The columns chosen for the request fields, and why.

    Attributes:
        columns: ``{request_field: column label}`` in the order of ``REQUEST_FIELDS``.
        reasons: ``{request_field: one readable line}`` for every field that was mapped,
            named in ``fields=``, or had a candidate column that was turned down.
        passed_over: ``{request_field: [column labels]}``: the other candidate columns
            of a field, best first, including those whose values contradicted it.

    """

    columns: dict[str, Hashable]
    reasons: dict[str, str]
    passed_over: dict[str, list[Hashable]] = field(default_factory=dict)


@dataclass
class _Candidate:
    field: str
    position: int
    name: str
    reading: HeaderReading | None  # None: found by its values alone
    verdict: Verdict
    shape: Profile
    score: float

    @property
    def work(self) -> bool:
        return self.reading is not None and self.reading.qualifier == "work"

    @property
    def personal(self) -> bool:
        return self.reading is not None and self.reading.qualifier in ("personal", "secondary")

    @property
    def free_mail(self) -> bool:
        return bool(self.verdict.fits) and self.shape.free_mail >= 0.5


class _Samples:
    """Profiles of a frame's columns, each sampled at most once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._rows: pd.DataFrame | None = None
        self._texts: dict[int, list[str]] = {}
        self._shapes: dict[int, Profile] = {}
        self._kinds = [getattr(dtype, "kind", "O") for dtype in frame.dtypes]

    def texts(self, position: int) -> list[str]:
        if position not in self._texts:
            if self._rows is None:  # one take for all columns, not one per column
                self._rows = self.frame.iloc[sample_positions(len(self.frame))]
            column = self._rows.iloc[:, position]
            self._texts[position] = sample_texts(column, presampled=True)
        return self._texts[position]

    def shape(self, position: int) -> Profile:
        if position not in self._shapes:
            self._shapes[position] = profile(self.texts(position))
        return self._shapes[position]

    def textual(self, position: int) -> bool:
        return self._kinds[position] not in _NOT_TEXT_KINDS


def _explicit(
    fields: Mapping[str, Hashable] | None, finder: ColumnFinder
) -> tuple[dict[str, Hashable], set[str], set[int]]:
    if fields is not None and not isinstance(fields, Mapping):
        raise ArgumentError(
            f"fields must be a dict such as {{'email': 'Work Email'}}, not {type(fields).__name__}"
        )
    explicit: dict[str, Hashable] = {}
    removed: set[str] = set()
    taken: set[int] = set()
    for key, label in (fields or {}).items():
        name = check_field_name(key)
        if label is None:
            removed.add(name)
            continue
        if not isinstance(label, Hashable):
            raise ArgumentError(
                f"fields[{name!r}] must be one column label, not {type(label).__name__}"
            )
        position = finder.locate(label, what=f"fields[{name!r}]")
        taken.add(position)
        explicit[name] = finder.labels[position]
    return explicit, removed, taken


#: Under an email header, the share of email-shaped values that is enough (else FIT).
HEADER_EMAIL_FIT: Final = 0.3


def _header_candidate(
    reading: HeaderReading, position: int, name: str, samples: _Samples, entity: str
) -> _Candidate:
    shape = samples.shape(position)
    target = reading.field
    if reading.generic_id:
        prefix = shape.salesforce
        target = SALESFORCE_PREFIX[prefix] if prefix else _ID_BY_ENTITY[entity]
    verdict = judge(target, shape)
    if reading.generic_id and reading.needs_values and shape.salesforce is None:
        # A bare "Id" is as often a row number as a record id: only Salesforce ids count.
        verdict = Verdict(False, verdict.support, "a bare id header without Salesforce ids")
    elif reading.needs_values and verdict.fits is None:
        verdict = Verdict(False, 0.0, "no values to tell what the header means")
    elif target == "email" and verdict.fits is False and shape.email >= HEADER_EMAIL_FIT:
        # An email header over a messy column: the addresses in it are the contact's, and
        # every value that is not one is left out of its request with a note, never sent.
        verdict = Verdict(
            True,
            shape.email,
            f"{verdict.text.removeprefix('only ')} (the others are left out, with a note)",
        )
    score = reading.score + (20 * verdict.support if verdict.fits else 0)
    return _Candidate(target, position, name, reading, verdict, shape, score)


def _value_candidates(position: int, name: str, samples: _Samples) -> list[_Candidate]:
    if not samples.textual(position) or vetoed_for_person(name) or email_vetoed(name):
        return []
    # One C-level scan spares the full profile of the many columns with neither shape.
    joined = "\x00".join(samples.texts(position)).lower()
    if "@" not in joined and "linkedin.com/" not in joined:
        return []
    shape = samples.shape(position)
    if shape.n < _VALUE_ONLY_MIN:
        return []
    found: list[_Candidate] = []
    if shape.email >= _VALUE_ONLY_EMAIL and shape.distinct >= _VALUE_ONLY_DISTINCT:
        verdict = judge("email", shape)
        found.append(
            _Candidate("email", position, name, None, verdict, shape, 30 + 20 * shape.email)
        )
    if shape.linkedin_profile >= _VALUE_ONLY_LINKEDIN:
        verdict = judge("linkedInProfile", shape)
        score = 30 + 20 * shape.linkedin_profile
        found.append(_Candidate("linkedInProfile", position, name, None, verdict, shape, score))
    return found


def _order(field_name: str, found: list[_Candidate]) -> list[_Candidate]:
    """Viable candidates of one field, best first; contradicted ones last."""
    if field_name == "email":
        # Work beats unqualified beats personal; then fewer free-mail addresses; then score.
        return sorted(
            found,
            key=lambda c: (
                c.verdict.fits is False,
                not c.work,
                c.free_mail,
                c.personal,
                -c.score,
                c.position,
            ),
        )
    return sorted(found, key=lambda c: (c.verdict.fits is False, -c.score, c.position))


def _why_not(chosen: _Candidate, other: _Candidate, winners: Mapping[int, str]) -> str:
    if other.verdict.fits is False:
        return other.verdict.text
    if other.position in winners:
        return f"it feeds {winners[other.position]}"
    reasons = (
        (chosen.work and not other.work, "its header does not say work"),
        (other.free_mail and not chosen.free_mail, "mostly free-mail addresses"),
        (other.personal, "its header says personal or secondary"),
    )
    if chosen.field == "email":
        for applies, text in reasons:
            if applies:
                return text
    return "found by its values only" if other.reading is None else "a weaker header match"


def _describe(chosen: _Candidate) -> str:
    if chosen.reading is None:
        extra = ", nearly all different" if chosen.field == "email" else ""
        return f"{chosen.name!r}: no matching header, but {chosen.verdict.text}{extra}"
    return f"{chosen.name!r}: header {chosen.reading.reading!r}; {chosen.verdict.text}"


def detect_fields(
    frame: pd.DataFrame, fields: Mapping[str, Hashable] | None = None
) -> FieldDetection:
    """Find the column of every request field, from headers and sampled values.

    Explicit entries of ``fields`` win and are not checked; ``None`` keeps a field out.
    Every other field takes its best candidate column (rules in :mod:`._fields`); a
    column feeds at most one field, and a column whose sampled values contradict a field
    is never taken for it. Only a sample of each column is read, so this costs the same
    on 100 rows as on 100,000.

    Args:
        frame: The contacts; only read.
        fields: ``{request_field: column label or None}``.

    Returns:
        :class:`FieldDetection`: the mapping, a reason per field, the columns passed over.

    Raises:
        ArgumentError: A key of ``fields`` is not a request field (the nearest are named),
            or ``fields`` is not a dict, or a value is not one label.
        ColumnError: A named column is missing (the nearest are named), or a column to be
            used has a duplicated label.

    Example:
        >>> frame = pd.DataFrame({"Personal Email": ["ann@gmail.com"],
        ...                       "Work Email": ["ann@acme.com"], "Email Status": ["valid"]})
        >>> found = detect_fields(frame)
        >>> found.columns
        {'email': 'Work Email'}
        >>> found.reasons["email"]
        "'Work Email': header 'work email'; 100% of 1 sampled value are emails; chosen over 'Personal Email' (its header does not say work)"

    """  # noqa: E501
    finder = ColumnFinder(frame.columns)
    explicit, removed, taken = _explicit(fields, finder)
    samples = _Samples(frame)
    entity = export_entity(finder.names)
    by_field: dict[str, list[_Candidate]] = {}
    for position, name in enumerate(finder.names):
        if position in taken or _OUTPUT_COLUMN.fullmatch(name):
            continue
        readings = read_header(name)
        found = (
            [_header_candidate(r, position, name, samples, entity) for r in readings]
            if readings
            else _value_candidates(position, name, samples)
        )
        for candidate in found:
            if candidate.field not in explicit and candidate.field not in removed:
                by_field.setdefault(candidate.field, []).append(candidate)
    ordered = {name: _order(name, found) for name, found in by_field.items()}
    chosen = _assign(ordered)
    winners = {c.position: name for name, c in chosen.items()}
    reasons: dict[str, str] = {}
    passed_over: dict[str, list[Hashable]] = {}
    for name in REQUEST_FIELDS:
        if name in explicit:
            reasons[name] = "fields= (explicit)"
        elif name in removed:
            reasons[name] = "fields= None: left out"
        elif name in chosen:
            best = chosen[name]
            others = [c for c in ordered[name] if c is not best]
            line = _describe(best)
            if others:
                why = ", ".join(f"{c.name!r} ({_why_not(best, c, winners)})" for c in others[:3])
                line += f"; chosen over {why}"
                passed_over[name] = [finder.labels[c.position] for c in others]
                log.info("field %s: using column %r over %s", name, best.name, why)
            reasons[name] = line
        elif name in ordered:
            turned = ordered[name]
            reasons[name] = "not mapped: " + "; ".join(
                f"{c.name!r} {c.verdict.text if c.verdict.fits is False else 'feeds another field'}"
                for c in turned[:3]
            )
            passed_over[name] = [finder.labels[c.position] for c in turned]
    columns = dict(explicit)
    for name, best in chosen.items():
        label = finder.labels[best.position]
        if finder.duplicated(best.position):
            raise ColumnError(
                f"fields: column {label!r} would feed {name!r} but appears more than once in "
                f"the frame; rename the duplicates or pass fields={{{name!r}: None}}"
            )
        columns[name] = label
    return FieldDetection(
        {name: columns[name] for name in REQUEST_FIELDS if name in columns},
        reasons,
        passed_over,
    )


def _assign(ordered: Mapping[str, list[_Candidate]]) -> dict[str, _Candidate]:
    """Give each field its best free, uncontradicted column; higher scores choose first."""
    chosen: dict[str, _Candidate] = {}
    used: set[int] = set()
    while True:
        offers: list[tuple[float, int, str, _Candidate]] = []
        for rank, name in enumerate(REQUEST_FIELDS):
            if name in chosen or name not in ordered:
                continue
            for candidate in ordered[name]:
                if candidate.verdict.fits is not False and candidate.position not in used:
                    offers.append((-candidate.score, rank, name, candidate))
                    break
        if not offers:
            return chosen
        _, _, name, candidate = min(offers, key=lambda offer: offer[:2])
        chosen[name] = candidate
        used.add(candidate.position)
