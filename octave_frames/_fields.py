"""Which column feeds which request field, and finding columns by name.

Headers are matched against :data:`FIELD_SYNONYMS` after normalising both sides:
case-folded, every character that is not a letter or digit dropped. So ``"E-mail"``,
``" EMAIL "`` and ``"email"`` all match ``"Email"``; ``"first_name"`` and ``"FIRST NAME"``
match ``"First Name"``. The API's own names match too (``"firstName"`` normalises like
``"First Name"``). MultiIndex headers are matched on their levels joined with a space
(``("Company", "Name")`` reads as ``"Company Name"``).

+-----------------+--------------------------------------------------------------------+
| field           | headers, best first                                                |
+=================+====================================================================+
| email           | Email, Work Email, Business Email, Email Address,                  |
|                 | Work Email Address, Contact Email, Person Email, Primary Email     |
+-----------------+--------------------------------------------------------------------+
| firstName       | First Name, Given Name, First, FName, Forename                     |
+-----------------+--------------------------------------------------------------------+
| lastName        | Last Name, Surname, Family Name, Last, LName                       |
+-----------------+--------------------------------------------------------------------+
| jobTitle        | Job Title, Title, Position, Role, Job Position, Job Role           |
+-----------------+--------------------------------------------------------------------+
| companyDomain   | Company Domain, Domain, Website, Company Website, Company URL,     |
|                 | Website URL, Company Domain Name                                   |
+-----------------+--------------------------------------------------------------------+
| companyName     | Company Name, Company, Account Name, Organization, Organisation,   |
|                 | Organization Name, Employer, Company Name for Emails               |
+-----------------+--------------------------------------------------------------------+
| linkedInProfile | LinkedIn Profile, LinkedIn URL, LinkedIn, Person Linkedin Url,     |
|                 | LinkedIn Profile URL, Contact LinkedIn URL                         |
+-----------------+--------------------------------------------------------------------+
| crmContactId    | CRM Contact ID, Contact ID, Salesforce Contact ID,                 |
|                 | SFDC Contact ID, HubSpot Contact ID                                |
+-----------------+--------------------------------------------------------------------+
| crmLeadId       | CRM Lead ID, Lead ID, Salesforce Lead ID, SFDC Lead ID             |
+-----------------+--------------------------------------------------------------------+
| crmAccountId    | CRM Account ID, Account ID, Salesforce Account ID,                 |
|                 | SFDC Account ID, HubSpot Company ID, Company ID                    |
+-----------------+--------------------------------------------------------------------+

A bare ``"URL"`` is deliberately absent: it is as often a LinkedIn URL as a website,
and ``"Company Linkedin Url"`` (Apollo) matches nothing, so a company page is never sent
as the person's profile.

When several columns match one field, the best-ranked header wins (the order above), then
the leftmost column; the columns passed over are logged. Two columns with the same label
cannot be told apart, so using such a label raises :class:`ColumnError`. Columns that
octave_frames itself writes (``octave_*``, ``email_<n>_*``, ``product_*``, ``persona_*``,
``playbook_*``, ``output_type``) are never auto-detected.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Final

import pandas as pd

from ._constants import REQUEST_FIELDS
from ._exceptions import ArgumentError, ColumnError

__all__ = [
    "FIELD_SYNONYMS",
    "ColumnFinder",
    "check_field_name",
    "display_name",
    "normalize_header",
    "resolve_fields",
]

log = logging.getLogger("octave_frames")

#: Request field -> the headers that feed it, best first (see the module doc).
FIELD_SYNONYMS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "email": (
            "Email",
            "Work Email",
            "Business Email",
            "Email Address",
            "Work Email Address",
            "Contact Email",
            "Person Email",
            "Primary Email",
        ),
        "firstName": ("First Name", "Given Name", "First", "FName", "Forename"),
        "lastName": ("Last Name", "Surname", "Family Name", "Last", "LName"),
        "jobTitle": ("Job Title", "Title", "Position", "Role", "Job Position", "Job Role"),
        "companyDomain": (
            "Company Domain",
            "Domain",
            "Website",
            "Company Website",
            "Company URL",
            "Website URL",
            "Company Domain Name",
        ),
        "companyName": (
            "Company Name",
            "Company",
            "Account Name",
            "Organization",
            "Organisation",
            "Organization Name",
            "Employer",
            "Company Name for Emails",
        ),
        "linkedInProfile": (
            "LinkedIn Profile",
            "LinkedIn URL",
            "LinkedIn",
            "Person Linkedin Url",
            "LinkedIn Profile URL",
            "Contact LinkedIn URL",
        ),
        "crmContactId": (
            "CRM Contact ID",
            "Contact ID",
            "Salesforce Contact ID",
            "SFDC Contact ID",
            "HubSpot Contact ID",
        ),
        "crmLeadId": ("CRM Lead ID", "Lead ID", "Salesforce Lead ID", "SFDC Lead ID"),
        "crmAccountId": (
            "CRM Account ID",
            "Account ID",
            "Salesforce Account ID",
            "SFDC Account ID",
            "HubSpot Company ID",
            "Company ID",
        ),
    }
)

_OUTPUT_COLUMN: Final = re.compile(
    r"(?:octave_|email_\d+_|product_|persona_|playbook_).*|output_type", re.IGNORECASE
)


def normalize_header(name: str) -> str:
    """Case-fold ``name`` and keep only its letters and digits.

    Example:
        >>> normalize_header(" Work E-mail ")
        'workemail'

    """
    return "".join(ch for ch in name.casefold() if ch.isalnum())


# Normalised header -> (field, rank); rank orders the synonyms of one field.
_SYNONYM_INDEX: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {
        normalize_header(header): (field, rank)
        for field, headers in FIELD_SYNONYMS.items()
        for rank, header in enumerate(headers)
    }
)


def display_name(label: Hashable) -> str:
    """How a column label reads in messages, templates and headers.

    Example:
        >>> display_name(("Company", "", "Name")), display_name(3)
        ('Company Name', '3')

    """
    if isinstance(label, tuple):
        return " ".join(str(level) for level in label if str(level).strip())
    return str(label)


def _same(a: Hashable, b: Hashable) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # exotic labels whose == is not a truth value
        return False


class ColumnFinder:
    """Find columns of one frame by label, with messages that name the nearest columns."""

    def __init__(self, columns: pd.Index) -> None:
        self.labels: list[Hashable] = list(columns)
        self.names: list[str] = [display_name(label) for label in self.labels]

    def nearest(self, label: Hashable, limit: int = 3) -> str:
        """Describe the columns whose names come closest to ``label``, for an error message."""
        wanted = display_name(label)
        key = normalize_header(wanted)
        same_key = [n for n in self.names if key and normalize_header(n) == key]
        close = difflib.get_close_matches(wanted, self.names, n=limit, cutoff=0.5)
        picks = list(dict.fromkeys([*same_key, *close]))[:limit]
        if picks:
            return "nearest: " + ", ".join(map(repr, picks))
        shown = ", ".join(map(repr, self.names[:10])) + (", ..." if len(self.names) > 10 else "")
        return f"the columns are: {shown}" if self.names else "the frame has no columns"

    def duplicated(self, position: int) -> bool:
        """Whether the label at ``position`` appears more than once."""
        label = self.labels[position]
        return sum(_same(other, label) for other in self.labels) > 1

    def locate(self, label: Hashable, *, what: str) -> int:
        """Position of the one column called ``label``.

        An exact label wins; a string also matches a column whose :func:`display_name`
        equals it (so ``"Company Name"`` finds ``("Company", "Name")``, ``"3"`` finds ``3``).

        Raises:
            ColumnError: No such column (naming the nearest), or the label is ambiguous.

        """
        found = [i for i, other in enumerate(self.labels) if _same(other, label)]
        if not found and isinstance(label, str):
            found = [i for i, name in enumerate(self.names) if name == label]
        if len(found) == 1:
            return found[0]
        if found:
            raise ColumnError(
                f"{what}: column {label!r} appears {len(found)} times in the frame, so it is "
                "ambiguous; rename the duplicates (e.g. df.loc[:, ~df.columns.duplicated()])"
            )
        raise ColumnError(f"{what}: no column {label!r}; {self.nearest(label)}")


def check_field_name(key: object) -> str:
    """Return ``key`` if it is a request field.

    Raises:
        ArgumentError: It is not; the message names the nearest request fields.

    """
    if isinstance(key, str) and key in REQUEST_FIELDS:
        return key
    text = str(key)
    by_key = [f for f in REQUEST_FIELDS if normalize_header(f) == normalize_header(text)]
    by_synonym = _SYNONYM_INDEX.get(normalize_header(text))
    near = list(
        dict.fromkeys(
            [
                *by_key,
                *([by_synonym[0]] if by_synonym else []),
                *difflib.get_close_matches(text, REQUEST_FIELDS, n=3, cutoff=0.5),
            ]
        )
    )
    hint = f"did you mean {', '.join(map(repr, near))}? " if near else ""
    raise ArgumentError(
        f"fields: {key!r} is not a request field; {hint}"
        f"the request fields are {', '.join(REQUEST_FIELDS)}"
    )


def resolve_fields(
    frame: pd.DataFrame, fields: Mapping[str, Hashable] | None = None
) -> dict[str, Hashable]:
    """Map request fields to the columns that feed them.

    Explicit entries of ``fields`` win; a value of ``None`` keeps a field out of
    auto-detection; every other request field is looked for among the headers with
    :data:`FIELD_SYNONYMS` (rules in the module doc). A column named explicitly is not
    auto-detected for another field.

    Args:
        frame: The contacts.
        fields: ``{request_field: column label or None}``.

    Returns:
        ``{request_field: column label}`` in the order of ``REQUEST_FIELDS``.

    Raises:
        ArgumentError: A key of ``fields`` is not a request field (the nearest are named).
        ColumnError: A named column is missing (the nearest are named), or a column to be
            used has a duplicated label.

    Example:
        >>> frame = pd.DataFrame(columns=["Work Email", "First Name", "Notes"])
        >>> resolve_fields(frame, {"firstName": None})
        {'email': 'Work Email'}

    """
    if fields is not None and not isinstance(fields, Mapping):
        raise ArgumentError(
            f"fields must be a dict such as {{'email': 'Work Email'}}, not {type(fields).__name__}"
        )
    finder = ColumnFinder(frame.columns)
    explicit: dict[str, Hashable] = {}
    removed: set[str] = set()
    taken: set[int] = set()
    for key, label in (fields or {}).items():
        field = check_field_name(key)
        if label is None:
            removed.add(field)
            continue
        if not isinstance(label, Hashable):
            raise ArgumentError(
                f"fields[{field!r}] must be one column label, not {type(label).__name__}"
            )
        position = finder.locate(label, what=f"fields[{field!r}]")
        taken.add(position)
        explicit[field] = finder.labels[position]
    candidates: dict[str, list[tuple[int, int]]] = {}
    for position, name in enumerate(finder.names):
        if position in taken or _OUTPUT_COLUMN.fullmatch(name):
            continue
        match = _SYNONYM_INDEX.get(normalize_header(name))
        if match is None or match[0] in explicit or match[0] in removed:
            continue
        candidates.setdefault(match[0], []).append((match[1], position))
    resolved = dict(explicit)
    for field, found in candidates.items():
        found.sort()
        position = found[0][1]
        label = finder.labels[position]
        if finder.duplicated(position):
            raise ColumnError(
                f"fields: column {label!r} would feed {field!r} but appears more than once in "
                f"the frame; rename the duplicates or pass fields={{{field!r}: None}}"
            )
        resolved[field] = label
        if len(found) > 1:
            passed = ", ".join(repr(finder.labels[p]) for _, p in found[1:])
            log.info("field %s: using column %r over %s", field, label, passed)
    return {field: resolved[field] for field in REQUEST_FIELDS if field in resolved}
