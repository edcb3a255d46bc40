"""Finding the rows of a frame that are the same person ("one person, one sequence").

Rows with identical payloads are already sent once. Rows for one person that differ in a
note, in case or in a job title are not, and each would be a paid sequence. This module
says which rows are one person, so a dry run can warn and ``dedupe="person"`` can send one
request per person and copy its answer to the person's other rows.

Identity keys, cleaned on top of the payload's own cleaning:

- **email**: stripped, lower-cased, ``mailto:`` dropped;
- **LinkedIn person profile**: ``linkedin.com/in/<slug>``, lower-cased and percent-decoded,
  without scheme, ``www.``/country/``m.`` subdomain, query, fragment, trailing slash or
  deeper path (``https://uk.linkedin.com/in/Ann-Lee/?utm=x`` -> ``linkedin.com/in/ann-lee``).
  Anything else (a company page, a bare slug) is not a person profile and is ignored;
- **name + company**: first and last name (case-folded, accents folded, whitespace
  collapsed; a missing last name only matches another missing last name) together with
  either the company name (also without a trailing ``Inc``, ``LLC``, ``Ltd``, ``GmbH``,
  ``Corp``, ``Co.`` ...) or the company domain. Names are never compared with domains.

The rule: **two rows are one person when they share the strongest identifier both have.**
If both have an email, the emails decide (two addresses are two people, whatever the
names say); else if both have a LinkedIn profile, it decides; else name + company does.
Rows with identical payloads are one person too: they are one request.

Applied over a whole frame the rule is not transitive, so rows are joined in three rounds
(union-find), each refusing joins that would break it:

1. rows with the same email;
2. rows with the same LinkedIn profile. Rows without an email join the email person that
   has the profile, unless the profile appears with two emails: then they form their own
   person, as nobody can say which address they belong to;
3. rows with the same name + company. Every tangle of rows linked this way is joined only
   if no two of its people are told apart by the rules above (two different emails, or
   two different LinkedIn profiles). Otherwise *nobody* in
   the tangle is joined by name: e.g. ``Ann Lee <ann@acme.com>``, ``Ann Lee <a.lee@acme.com>``
   and an ``Ann Lee`` at Acme without address stay three people. Missing a duplicate costs
   one extra sequence; a wrong join would send someone another person's email.

So two rows with different emails are never one person.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import unquote

from ._gc import gc_paused

__all__ = ["Group", "People", "describe", "find_people", "representatives"]

JoinedBy = Literal["email", "linkedin", "name+company"]

# Ranks of the rounds that joined rows; a person's `by` is the weakest round it needed.
_SAME_PAYLOAD: Final = 0
_EMAIL: Final = 1
_LINKEDIN: Final = 2
_NAME: Final = 3
_BY: Final[dict[int, JoinedBy]] = {
    _SAME_PAYLOAD: "email",
    _EMAIL: "email",
    _LINKEDIN: "linkedin",
    _NAME: "name+company",
}

# Scheme optional; one optional subdomain label (www, m, uk, de-de ...) in front of linkedin.com.
_LINKEDIN_PROFILE: Final = re.compile(
    r"^(?:[a-z][a-z0-9+.\-]*://)?(?:[a-z0-9\-]+\.)?linkedin\.com/+in/+([^/?#\s]+)"
)
# Trailing legal forms, compared after case folding and with dots and commas removed
# ("L.L.C." -> "llc", "S.A." -> "sa").
_COMPANY_SUFFIXES: Final = frozenset(
    {
        "inc",
        "incorporated",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "gmbh",
        "corp",
        "corporation",
        "co",
        "plc",
        "ag",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "pty",
        "pte",
        "oy",
        "ab",
        "kg",
    }
)
_COMPANY_PUNCTUATION: Final = re.compile(r"[.,]")
_DESCRIBE_ROWS: Final = 10
# Up to this many rows, a person's distinct payloads are found by pairwise comparison.
_PAIRWISE: Final = 16


@dataclass(frozen=True)
class Group:
    """A person that would get more than one sequence.

    Attributes:
        identity: The person, readable: ``"ann@acme.com"``, ``"linkedin.com/in/ann-lee"``
            or ``"Ann Lee at Acme"`` (the strongest identifier the rows have).
        by: The weakest rule that was needed to join the rows: ``"email"`` (all of them
            share the address, or are identical requests), ``"linkedin"`` or
            ``"name+company"`` (worth a look before trusting it).
        rows: Row positions, ascending.
        calls: Distinct payloads among the rows: the sequences that would be paid.
    """

    identity: str
    by: JoinedBy
    rows: list[int]
    calls: int


@dataclass(frozen=True)
class People:
    """Who is who in a list of payloads.

    Attributes:
        person: Per row, a person number (numbered in order of first appearance, rows of
            one person share it); ``None`` for rows without a payload.
        groups: The persons with more than one distinct payload, most calls first (ties:
            more rows first, then earlier first row).
    """

    person: list[int | None]
    groups: list[Group]


class _UnionFind:
    """Disjoint sets over row positions, each set remembering the weakest join it took."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.rank = [_SAME_PAYLOAD] * n

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int, by: int) -> int:
        # The smaller position becomes the root so roots are each person's first row.
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.rank[ra] = max(self.rank[ra], self.rank[rb], by)
        return ra


def _email_key(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    key = value.strip().lower()
    if key.startswith("mailto:"):
        key = key[7:].strip()
    return key or None


def _linkedin_key(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    match = _LINKEDIN_PROFILE.match(value.strip().lower())
    if match is None:
        return None
    slug = unquote(match.group(1)).strip().lower()
    return f"linkedin.com/in/{slug}" if slug else None


def _fold(text: str) -> str:
    """Case-folded, accent-free text with runs of whitespace as one space."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def _company_key(name: str) -> str:
    words = _COMPANY_PUNCTUATION.sub(" ", _fold(name)).split()
    # Keep the last word even if it is a suffix: a company called "Co" is still a company.
    while len(words) > 1 and words[-1] in _COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)


# (first name, last name, "c" or "d", company name or domain): names never meet domains.
_NameKey = tuple[str, str, str, str]


class _NameKeys:
    """Name + company keys of payloads; folding is memoised, as names and companies repeat."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._companies: dict[str, str] = {}

    def name(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """Folded first and last name, ``""`` for a missing one."""
        names = self._names
        first = payload.get("firstName")
        last = payload.get("lastName")
        folded_first = folded_last = ""
        if isinstance(first, str):
            folded_first = names.get(first) or names.setdefault(first, _fold(first))
        if isinstance(last, str):
            folded_last = names.get(last) or names.setdefault(last, _fold(last))
        return folded_first, folded_last

    def of(self, payload: Mapping[str, Any]) -> list[_NameKey]:
        """The row's keys: none without a first name, else one per company name or domain."""
        first, last = self.name(payload)
        if not first:
            return []
        keys = []
        company = payload.get("companyName")
        if isinstance(company, str):
            folded = self._companies.get(company)
            if folded is None:
                folded = self._companies[company] = _company_key(company)
            if folded:
                keys.append((first, last, "c", folded))
        domain = payload.get("companyDomain")
        if isinstance(domain, str) and (domain := domain.strip().lower()):
            keys.append((first, last, "d", domain))
        return keys


def _canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(
        payload,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=lambda o: dict(o) if isinstance(o, Mapping) else str(o),
    )


def _name_readable(payload: Mapping[str, Any]) -> str:
    def text(field: str) -> str:
        value = payload.get(field)
        return " ".join(value.split()) if isinstance(value, str) else ""

    name = " ".join(part for part in (text("firstName"), text("lastName")) if part)
    return f"{name} at {text('companyName') or text('companyDomain')}"


def _join_by_linkedin(
    uf: _UnionFind, emails: list[str | None], links: dict[str, list[int]]
) -> None:
    for rows in links.values():
        owners = {emails[i] for i in rows if emails[i] is not None}
        loose = [i for i in rows if emails[i] is None]
        for i in loose[1:]:
            uf.union(loose[0], i, _LINKEDIN)
        if len(owners) == 1 and loose:
            owner = next(i for i in rows if emails[i] is not None)
            uf.union(owner, loose[0], _LINKEDIN)


def _compatible(
    roots: Sequence[int], email_of: dict[int, str], links_of: dict[int, set[str]]
) -> bool:
    """Whether the people `roots` may be one person (see the module doc, round 3)."""
    with_email = [r for r in roots if r in email_of]
    if len(with_email) > 1:
        return False
    # After round 2 a person without email has at most one profile, unique to it.
    loose_links = [links_of[r] for r in roots if r not in email_of and r in links_of]
    if len(loose_links) > 1:
        return False
    if with_email and loose_links:
        own = links_of.get(with_email[0])
        return not own or not own.isdisjoint(loose_links[0])
    return True


def _join_by_name(
    uf: _UnionFind,
    payloads: Sequence[Mapping[str, Any] | None],
    emails: list[str | None],
    linkedins: list[str | None],
) -> list[int]:
    """Round 3; returns the rows without email or profile that it could not settle."""
    name_keys = _NameKeys()
    # Only rows without an email can be joined by name; emailed rows matter only when a
    # row without one shares their name, so most frames fold almost nothing here.
    by_key: dict[_NameKey, list[int]] = {}
    loose_names: set[tuple[str, str]] = set()
    unsettled = []
    for i, payload in enumerate(payloads):
        if payload is None or emails[i] is not None:
            continue
        keys = name_keys.of(payload)
        if not keys:
            if linkedins[i] is None:
                unsettled.append(i)
            continue
        loose_names.add(keys[0][:2])
        for key in keys:
            by_key.setdefault(key, []).append(i)
    if not loose_names:
        return unsettled
    # A key no row without email has joins nobody, and would only make tangles that
    # wrongly look contested, so emailed rows are filed only under existing keys.
    for i, payload in enumerate(payloads):
        if payload is not None and emails[i] is not None and name_keys.name(payload) in loose_names:
            for key in name_keys.of(payload):
                bucket = by_key.get(key)
                if bucket is not None:
                    bucket.append(i)

    shared = [
        roots
        for rows in by_key.values()
        if len(rows) > 1
        if len(roots := {uf.find(i) for i in rows}) > 1
    ]
    if not shared:
        return unsettled
    tangle = _UnionFind(len(payloads))
    for roots in shared:
        first_root = min(roots)
        for r in roots:
            tangle.union(first_root, r, _NAME)
    members: dict[int, set[int]] = {}
    for roots in shared:
        for r in roots:
            members.setdefault(tangle.find(r), set()).add(r)
    involved = set().union(*members.values())
    email_of: dict[int, str] = {}
    links_of: dict[int, set[str]] = {}
    for i in range(len(payloads)):
        email, link = emails[i], linkedins[i]
        if email is None and link is None:
            continue
        r = uf.find(i)
        if r not in involved:
            continue
        if email is not None:
            email_of[r] = email
        if link is not None:
            links_of.setdefault(r, set()).add(link)
    for roots in members.values():
        ordered = sorted(roots)
        if _compatible(ordered, email_of, links_of):
            for r in ordered[1:]:
                uf.union(ordered[0], r, _NAME)
        else:
            # Rows with neither email nor profile are still unjoined, so each is its own root.
            unsettled.extend(r for r in ordered if r not in email_of and r not in links_of)
    return unsettled


def find_people(payloads: Sequence[Mapping[str, Any] | None]) -> People:
    """Say which rows are the same person, and which persons would get several sequences.

    See the module documentation for the identity rules.

    Args:
        payloads: Per row, the request payload (``email``, ``linkedInProfile``,
            ``firstName``, ``lastName``, ``companyName``, ``companyDomain`` identify the
            person; every key counts when comparing payloads), or ``None`` for a row that
            is not sent.

    Returns:
        The person number of each row and the persons with more than one distinct payload.

    Example:
        >>> people = find_people([
        ...     {"email": "ann@acme.com", "runtimeContext": {"note": "met at expo"}},
        ...     None,
        ...     {"email": "ANN@acme.com "},
        ... ])
        >>> people.person
        [0, None, 0]
        >>> people.groups[0].identity, people.groups[0].rows, people.groups[0].calls
        ('ann@acme.com', [0, 2], 2)

    """
    with gc_paused():
        return _find_people(payloads)


def _find_people(payloads: Sequence[Mapping[str, Any] | None]) -> People:
    n = len(payloads)
    uf = _UnionFind(n)
    emails: list[str | None] = [None] * n
    linkedins: list[str | None] = [None] * n
    by_email: dict[str, int] = {}
    links: dict[str, list[int]] = {}
    for i, payload in enumerate(payloads):
        if payload is None:
            continue
        email = emails[i] = _email_key(payload.get("email"))
        if email is not None:
            first = by_email.setdefault(email, i)
            if first != i:
                uf.union(first, i, _EMAIL)
        link = linkedins[i] = _linkedin_key(payload.get("linkedInProfile"))
        if link is not None:
            links.setdefault(link, []).append(i)
    _join_by_linkedin(uf, emails, links)
    # Identical requests are one person even where no key could join them; the rows the
    # keys did settle are joined already, so only these few are serialised.
    same: dict[str, int] = {}
    for i in _join_by_name(uf, payloads, emails, linkedins):
        payload = payloads[i]
        if payload is not None:
            first = same.setdefault(_canonical(payload), i)
            if first != i:
                uf.union(first, i, _SAME_PAYLOAD)

    number: dict[int, int] = {}
    person: list[int | None] = [None] * n
    rows_of: dict[int, list[int]] = {}
    for i, payload in enumerate(payloads):
        if payload is not None:
            root = uf.find(i)
            person[i] = number.setdefault(root, len(number))
            rows_of.setdefault(root, []).append(i)
    groups = []
    for root, rows in rows_of.items():
        if len(rows) > 1 and (calls := _distinct([payloads[i] for i in rows])) > 1:
            identity = _identity(rows, payloads, emails, linkedins)
            groups.append(Group(identity, _BY[uf.rank[root]], rows, calls))
    groups.sort(key=lambda g: (-g.calls, -len(g.rows), g.rows[0]))
    return People(person=person, groups=groups)


def _distinct(payloads: list[Mapping[str, Any] | None]) -> int:
    """How many different requests `payloads` are, as canonical JSON would tell them apart."""
    if len(payloads) > _PAIRWISE:
        return len({_canonical(p) for p in payloads if p is not None})
    # For the few rows of a usual person, dict equality says the same as canonical JSON
    # (payloads hold cleaned text, no NaN) at a fraction of the cost of serialising.
    kinds: list[Mapping[str, Any] | None] = []
    for p in payloads:
        if all(p != k for k in kinds):
            kinds.append(p)
    return len(kinds)


def _identity(
    rows: list[int],
    payloads: Sequence[Mapping[str, Any] | None],
    emails: list[str | None],
    linkedins: list[str | None],
) -> str:
    for keys in (emails, linkedins):
        found = next((keys[i] for i in rows if keys[i] is not None), None)
        if found is not None:
            return found
    named = next(p for i in rows if (p := payloads[i]) is not None and p.get("firstName"))
    return _name_readable(named)


def representatives(people: People) -> list[int | None]:
    """The row whose answer each row takes when only one request is sent per person.

    Args:
        people: The result of `find_people`.

    Returns:
        Per row, the position of the first row of its person (a row with a payload;
        itself for a person's first row), or ``None`` for a row without a payload.

    Example:
        >>> representatives(find_people([{"email": "a@x.com"}, None, {"email": "A@x.com"}]))
        [0, None, 0]

    """
    first: dict[int, int] = {}
    return [None if p is None else first.setdefault(p, i) for i, p in enumerate(people.person)]


def describe(groups: Sequence[Group], labels: Sequence[Hashable], *, limit: int = 5) -> list[str]:
    """Readable lines about persons that would get several sequences, for a dry run.

    Args:
        groups: `People.groups`, or any of them.
        labels: The frame's index labels, by row position (``list(frame.index)``).
        limit: How many persons get a line of their own; the rest are counted on a last
            ``"... and N more people"`` line.

    Returns:
        One line per person, e.g. ``"ann@acme.com: rows 2, 5, 9 would get 3 sequences"``;
        an empty list when there are no groups.

    Raises:
        ValueError: `limit` is negative, or a row position is not in `labels`.

    Example:
        >>> g = Group("ann@acme.com", "email", [0, 1, 2], 3)
        >>> describe([g], ["r2", "r5", "r9"])
        ['ann@acme.com: rows r2, r5, r9 would get 3 sequences']

    """
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    lines = []
    for group in groups[:limit]:
        try:
            shown = [str(labels[i]) for i in group.rows[:_DESCRIBE_ROWS]]
        except IndexError:
            raise ValueError(
                f"row positions {group.rows} do not all fit {len(labels)} labels"
            ) from None
        if len(group.rows) > _DESCRIBE_ROWS:
            shown.append(f"... ({len(group.rows)} rows)")
        how = " (matched on name and company)" if group.by == "name+company" else ""
        lines.append(
            f"{group.identity}{how}: rows {', '.join(shown)} would get {group.calls} sequences"
        )
    if len(groups) > limit:
        lines.append(f"... and {len(groups) - limit} more people")
    return lines
