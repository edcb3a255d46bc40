"""From a contact frame to one clean Sequence Agent request body per row.

The pieces: :mod:`._fields` finds the columns (synonym table, ``resolve_fields``),
:mod:`._specs` checks and renders ``context`` / ``instructions``, :mod:`._clean` cleans
values. :func:`build_requests` puts them together. Every whole-run problem (unknown
field, missing column, bad spec) raises here, before anything is sent; every per-row
problem becomes that row's ``invalid`` reason.

A single value that cannot be what its field says is left out of the body, and the row's
``notes`` entry says so (the row may still be sent on its other identifiers): an email
without exactly one ``@`` or with spaces, a domain that is no host name (``n/a``, ``Acme
Inc``) or is a social network, a LinkedIn value that is not a person profile URL
(``linkedin.com/company/...`` or a bare name). Such a note reads ``email 'not-an-email'
(column 'Email') is not an email address: left out``; several are joined by ``"; "``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final, Literal

import pandas as pd

from ._clean import field_rule
from ._constants import MAX_TEXT_CHARS, REQUEST_FIELDS
from ._exceptions import ArgumentError, ColumnError
from ._fields import FIELD_SYNONYMS, ColumnFinder, check_field_name, resolve_fields
from ._sniff import is_domain, is_email, is_linkedin_profile
from ._specs import ColumnTexts, CompiledSpec, Spec, normalize_steps

__all__ = [
    "FIELD_SYNONYMS",
    "NEEDS_TEXT",
    "Needs",
    "Requests",
    "Spec",
    "build_requests",
    "normalize_steps",
    "resolve_fields",
]

# Payload keys in the order of Octave's reference, so equal requests serialise equally.
# Static keys Octave adds later go after these, sorted.
_BEFORE_RUNTIME: Final = ("lang", "requestId", "outputFormat")
_AFTER_RUNTIME: Final = (
    "playbookSelectionContext",
    "customContext",
    "agentOId",
    "experimentOId",
    "includeFullAnnotation",
)
_RUNTIME: Final = {"context": "runtimeContext", "instructions": "runtimeInstructions"}
_NO_IDENTIFIER: Final = (
    "no usable identifier (Octave needs an email, a LinkedIn profile, or a first name "
    "with a company name or domain)"
)

#: What a row must identify for an endpoint: a ``person`` (email, LinkedIn profile, or first
#: name with company), a ``company`` (domain or name), a ``domain``, or a ``contact`` (either).
Needs = Literal["person", "company", "domain", "contact"]
_NO_COMPANY: Final = "no company to look up (a company domain or name is needed)"
_NO_DOMAIN: Final = "no company domain (the prospector searches a company's domain)"
#: What each kind of row must hold, as the error messages and docs say it.
NEEDS_TEXT: Final[dict[str, str]] = {
    "person": "an email, a LinkedIn profile, or a first name with a company name or domain",
    "company": "a company domain or a company name",
    "domain": "a company domain",
    "contact": "a person (email, LinkedIn profile) or a company (domain, name)",
}


@dataclass
class Requests:
    """Request bodies for a frame's rows, by position.

    Attributes:
        payloads: One JSON-ready dict per row, or None when the row is invalid. Nested
            static values (``customContext``) are shared between rows: treat as read-only.
        invalid: Why each row cannot be sent, or None when it can.
        notes: Which values of each row were left out and why (``"; "``-joined), or None.
            Set for invalid rows too; their ``invalid`` reason repeats a dropped email.

    """

    payloads: list[dict[str, Any] | None]
    invalid: list[str | None]
    notes: list[str | None]


def _static_parts(static: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    clash = [key for key in static if key in REQUEST_FIELDS or key in _RUNTIME.values()]
    if clash:
        raise ArgumentError(
            f"static holds per-row keys {', '.join(map(repr, clash))}; map columns with "
            "fields= and pass context= / instructions= instead"
        )
    given = {key: value for key, value in static.items() if value is not None}
    before: dict[str, Any] = {key: given[key] for key in _BEFORE_RUNTIME if key in given}
    after: dict[str, Any] = {key: given[key] for key in _AFTER_RUNTIME if key in given}
    after |= {key: given[key] for key in sorted(given) if key not in before and key not in after}
    return before, after


def _can_identify(fields: Mapping[str, Hashable], needs: Needs = "person") -> bool:
    person = (
        "email" in fields
        or "linkedInProfile" in fields
        or ("firstName" in fields and ("companyName" in fields or "companyDomain" in fields))
    )
    company = "companyDomain" in fields or "companyName" in fields
    if needs == "person":
        return person
    if needs == "company":
        return company
    if needs == "domain":
        return "companyDomain" in fields
    return person or company


def _linkedin_problem(text: str) -> str:
    if "linkedin.com/company/" in text.lower():
        return "is a LinkedIn company page, not a person's profile"
    return "is not a LinkedIn profile URL (linkedin.com/in/...)"


def _drop_bad_values(
    values: dict[str, list[str | None]],
    raw: Mapping[str, list[str | None]],
    labels: Mapping[str, Hashable],
    notes: dict[int, list[str]],
) -> dict[int, str]:
    """Leave out values that cannot be their field; note each; return the bad emails."""
    bad_emails: dict[int, str] = {}
    for field, texts in values.items():
        if field == "email":
            bad = [i for i, t in enumerate(texts) if t is not None and not is_email(t)]
            why = {i: "is not an email address" for i in bad}
        elif field == "companyDomain":
            sound = {t: is_domain(t) for t in set(texts) if t is not None}
            originals = raw[field]
            bad = [
                i
                for i, (t, o) in enumerate(zip(texts, originals, strict=True))
                if o is not None and (t is None or not sound[t])
            ]
            why = {i: "is not a company domain" for i in bad}
        elif field == "linkedInProfile":
            bad = [i for i, t in enumerate(texts) if t is not None and not is_linkedin_profile(t)]
            why = {i: _linkedin_problem(texts[i] or "") for i in bad}
        else:
            continue
        if not bad:
            continue
        kept = list(texts)
        for i in bad:
            detail = f"{field} {raw[field][i]!r:.60} (column {labels[field]!r}) {why[i]}"
            notes.setdefault(i, []).append(f"{detail}: left out")
            if field == "email":
                bad_emails[i] = detail
            kept[i] = None
        values[field] = kept
    return bad_emails


def _identifier_reasons(
    values: dict[str, list[str | None]],
    n: int,
    reasons: dict[int, list[str]],
    bad_emails: Mapping[int, str],
    needs: Needs = "person",
) -> None:
    """Note every row nobody can identify, naming a dropped email if it had one."""
    missing: list[str | None] = [None] * n
    emails = values.get("email", missing)
    linkedin = values.get("linkedInProfile", missing)
    first = values.get("firstName", missing)
    company = values.get("companyName", missing)
    domain = values.get("companyDomain", missing)
    rows = zip(emails, linkedin, first, company, domain, strict=True)
    for i, (email, profile, name, org, site) in enumerate(rows):
        if needs == "domain":
            if not site:
                reasons.setdefault(i, [])[:0] = [_NO_DOMAIN]
            continue
        if needs in ("company", "contact") and (org or site):
            continue
        if needs == "company":
            reasons.setdefault(i, [])[:0] = [_NO_COMPANY]
            continue
        if email or profile or (name and (org or site)):
            continue  # an unusable email does not matter when another identifier works
        detail = [bad_emails[i]] if i in bad_emails else []
        if name and not (org or site):
            detail.append("it has a first name but no company name or domain")
        elif (org or site) and not name:
            detail.append("it has a company but no first name")
        reasons.setdefault(i, [])[:0] = [_NO_IDENTIFIER, *detail]


def _too_long(texts: list[str | None], what: str, reasons: dict[int, list[str]]) -> None:
    # One C-level pass finds the longest; only an over-long column pays for the row scan.
    if max(map(len, filter(None, texts)), default=0) <= MAX_TEXT_CHARS:
        return
    for i, text in enumerate(texts):
        if text is not None and len(text) > MAX_TEXT_CHARS:
            reasons.setdefault(i, []).append(
                f"{what} is {len(text):,} characters long, over the limit of {MAX_TEXT_CHARS:,}"
            )


def _compile_steps(
    specs: Mapping[str, Spec],
    argument: str,
    frame: pd.DataFrame,
    finder: ColumnFinder,
) -> list[CompiledSpec]:
    checked = normalize_steps(specs, argument=argument)
    return [
        CompiledSpec(key, spec, frame, finder, argument=argument) for key, spec in checked.items()
    ]


def build_requests(
    frame: pd.DataFrame,
    *,
    fields: Mapping[str, Hashable],
    context: Mapping[str, Spec],
    instructions: Mapping[str, Spec],
    static: Mapping[str, Any],
    needs: Needs = "person",
) -> Requests:
    """Build the request body of every row, or the reason it cannot be sent.

    Args:
        frame: The contacts; never modified.
        fields: ``{request_field: column label}``, usually from :func:`resolve_fields`.
        context: ``runtimeContext`` specs by step key (see :mod:`._specs`).
        instructions: ``runtimeInstructions`` specs by step key.
        static: Run-wide request keys (``agentOId`` or ``experimentOId``, ``outputFormat``,
            ``lang``, ``playbookSelectionContext``, ``customContext``,
            ``includeFullAnnotation``) copied into every body; None values are left out.
        needs: What a row must identify to be sent (:data:`Needs`); the others are
            ``invalid`` with the reason.

    Returns:
        :class:`Requests`, positional: one entry per row (payload, invalid reason, note
            on values left out). Keys of a body come in the
        order of Octave's reference; ``runtimeContext`` / ``runtimeInstructions`` hold
        only the step keys that rendered non-empty, and are absent when none did.

    Raises:
        ArgumentError: An unknown field or step key, a bad spec, a per-row key in ``static``.
        ColumnError: A named column or placeholder is missing, a used label is duplicated,
            or (for a frame with rows) no mapped column can identify a contact.

    Example:
        >>> frame = pd.DataFrame({"Email": [" Ann@Acme.com ", None], "Notes": ["VIP", "x"]})
        >>> built = build_requests(
        ...     frame, fields={"email": "Email"}, context={"all": "NOTES: {Notes}"},
        ...     instructions={}, static={"agentOId": "ca_1"})
        >>> built.payloads[0]
        {'email': 'ann@acme.com', 'runtimeContext': {'all': 'NOTES: VIP'}, 'agentOId': 'ca_1'}
        >>> built.invalid[1][:20]
        'no usable identifier'

    """
    n = len(frame)
    finder = ColumnFinder(frame.columns)
    before, after = _static_parts(static)
    positions: dict[str, int] = {}
    for field, label in fields.items():
        positions[check_field_name(field)] = finder.locate(label, what=f"fields[{field!r}]")
    if n and not _can_identify(positions, needs):
        what = NEEDS_TEXT[needs]
        example, field = "Email", "email"
        if needs in ("company", "domain"):
            example, field = "Domain", "companyDomain"
        raise ColumnError(
            f"no column can identify a {'contact' if needs == 'person' else needs}: this "
            f"needs {what}; {finder.nearest(example)}; name yours with "
            f"fields={{{field!r}: ...}}"
        )
    compiled = {
        argument: _compile_steps(specs, argument, frame, finder)
        for argument, specs in (("context", context), ("instructions", instructions))
    }
    columns = ColumnTexts(frame)
    reasons: dict[int, list[str]] = {}
    values: dict[str, list[str | None]] = {}
    raw: dict[str, list[str | None]] = {}
    labels: dict[str, Hashable] = {}
    for field in REQUEST_FIELDS:
        if field in positions:
            raw[field] = columns.text(positions[field])
            values[field] = field_rule(field, raw[field])
            labels[field] = label = finder.labels[positions[field]]
            _too_long(values[field], f"field {field} (column {label!r})", reasons)
    notes: dict[int, list[str]] = {}
    bad_emails = _drop_bad_values(values, raw, labels, notes)
    _identifier_reasons(values, n, reasons, bad_emails, needs)
    runtime: dict[str, list[tuple[str, list[str | None]]]] = {}
    for argument, specs in compiled.items():
        runtime[argument] = []
        for spec in specs:
            rendered = spec.render(columns)
            for i, error in rendered.errors.items():
                reasons.setdefault(i, []).append(error)
            _too_long(rendered.texts, spec.where, reasons)
            runtime[argument].append((spec.key, rendered.texts))
    built = _assemble(n, values, runtime, static=(before, after), reasons=reasons)
    for i, said in notes.items():
        built.notes[i] = "; ".join(said)
    return built


def _blocks(steps: list[tuple[str, list[str | None]]], n: int) -> list[dict[str, str] | None]:
    """Per row, the ``{step_key: text}`` of the steps that rendered, or None if none did."""
    blocks: list[dict[str, str] | None] = [None] * n
    for key, texts in steps:  # column-wise: one cheap pass per step, not a dict build per row
        for i, text in enumerate(texts):
            if text is not None:
                block = blocks[i]
                if block is None:
                    blocks[i] = {key: text}
                else:
                    block[key] = text
    return blocks


def _assemble(
    n: int,
    values: dict[str, list[str | None]],
    runtime: dict[str, list[tuple[str, list[str | None]]]],
    *,
    static: tuple[dict[str, Any], dict[str, Any]],
    reasons: dict[int, list[str]],
) -> Requests:
    before, after = static
    payloads: list[dict[str, Any] | None] = [None] * n
    invalid: list[str | None] = [None] * n
    for i, why in reasons.items():
        invalid[i] = "; ".join(why)
    keys = list(values)
    rows: Iterable[tuple[str | None, ...]] = (
        zip(*values.values(), strict=True) if keys else repeat((), n)
    )
    runtime_blocks = [
        (_RUNTIME[argument], _blocks(steps, n)) for argument, steps in runtime.items() if steps
    ]
    for i, row in enumerate(rows):
        if i in reasons:
            continue
        payload: dict[str, Any] = (
            dict(zip(keys, row, strict=True))
            if None not in row
            else {key: value for key, value in zip(keys, row, strict=True) if value is not None}
        )
        payload.update(before)
        for name, blocks in runtime_blocks:
            if (block := blocks[i]) is not None:
                payload[name] = block
        payload.update(after)
        payloads[i] = payload
    return Requests(payloads, invalid, [None] * n)
