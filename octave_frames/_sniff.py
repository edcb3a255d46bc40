"""What a column's values look like, from a small deterministic sample.

Detection never reads a whole column: :func:`sample_texts` takes at most
:data:`SAMPLE_CELLS` positions (the first rows and rows spread evenly over the rest), cleans
them like values to be sent, and keeps the first :data:`SAMPLE_SIZE` non-empty ones. So a
100,000-row frame costs what a 400-row frame costs. :func:`profile` then says which share of
those values has each shape, and :func:`judge` whether they fit a request field.

The value checks are also what :mod:`._mapping` uses to leave out single bad cells
(:func:`is_email`, :func:`is_domain`, :func:`is_linkedin_profile`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import pandas as pd

from ._clean import clean_text, normalize_domain

__all__ = [
    "FREE_MAIL",
    "SAMPLE_CELLS",
    "SAMPLE_SIZE",
    "Profile",
    "Verdict",
    "is_domain",
    "is_email",
    "is_linkedin_profile",
    "judge",
    "profile",
    "sample_positions",
    "sample_texts",
]

#: Most non-empty values looked at per column.
SAMPLE_SIZE: Final = 200
#: Most cells read per column to find them (half from the top, half spread over the rest).
SAMPLE_CELLS: Final = 400

#: Free-mail domains: an address there is personal, not work.
FREE_MAIL: Final = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com",
     "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com", "msn.com",
     "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com",
     "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.ru", "yandex.com",
     "zoho.com", "qq.com", "163.com", "126.com", "orange.fr", "free.fr", "laposte.net",
     "btinternet.com", "comcast.net", "verizon.net", "att.net", "fastmail.com", "hey.com",
     "mail.ru", "rediffmail.com", "libero.it", "t-online.de"}
)  # fmt: skip
_SOCIAL_HOSTS: Final = frozenset(
    {"linkedin.com", "facebook.com", "twitter.com", "x.com", "instagram.com", "youtube.com",
     "github.com", "crunchbase.com", "angel.co", "wellfound.com", "xing.com", "tiktok.com",
     "zoominfo.com", "apollo.io", "lnkd.in", "fb.com", "t.co"}
)  # fmt: skip

_EMAIL: Final = re.compile(r"(?:mailto:)?[^\s@<>(),;:\"\[\]]+@(?:[^\W_][\w-]*\.)+[^\W\d_]{2,}")
_LOOSE_EMAIL: Final = re.compile(r"[^\s@]+@[^\s@]+")
_LINKEDIN_PROFILE: Final = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/(?:in|pub)/[^/?#\s]+/?(?:[?#]\S*)?",
    re.IGNORECASE,
)
_LINKEDIN_ANY: Final = re.compile(r"(?:^|[/.@])(?:linkedin\.com|lnkd\.in)(?:[/:?#]|$)", re.I)
_HOST: Final = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,}")
_HAS_SCHEME: Final = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)
_SALUTATIONS: Final = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mme", "mlle", "m",
     "herr", "frau", "sr", "sra", "srta", "rev", "hon", "dame", "lord", "lady"}
)  # fmt: skip
_NUMBER: Final = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-:.]{0,63}")
_SALESFORCE_ID: Final = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
#: Salesforce key prefixes -> the request field their records feed.
SALESFORCE_PREFIX: Final = {"003": "crmContactId", "00Q": "crmLeadId", "001": "crmAccountId"}


def is_email(text: str) -> bool:
    """Whether ``text`` (already cleaned and lower-cased) can be sent as an email.

    Deliberately loose: one ``@`` with something on both sides and no spaces. Octave
    judges deliverability; this only stops text that is plainly not an address.

    Example:
        >>> is_email("ann@acme.com"), is_email("not-an-email"), is_email("a @b.c")
        (True, False, False)

    """
    return bool(_LOOSE_EMAIL.fullmatch(text)) and text.count("@") == 1


def is_domain(host: str) -> bool:
    """Whether a host from :func:`._clean.normalize_domain` can be a company's domain.

    Example:
        >>> is_domain("acme.com"), is_domain("acme"), is_domain("linkedin.com")
        (True, False, False)

    """
    return bool(_HOST.fullmatch(host)) and _site(host) not in _SOCIAL_HOSTS


def _site(host: str) -> str:
    """The registrable-looking tail of a host, enough to spot a social network."""
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


def is_linkedin_profile(text: str) -> bool:
    """Whether ``text`` is a LinkedIn person profile URL (``linkedin.com/in/...``).

    Company pages, school pages and Sales Navigator links are not person profiles.

    Example:
        >>> is_linkedin_profile("https://www.linkedin.com/in/ann-lee")
        True
        >>> is_linkedin_profile("https://www.linkedin.com/company/acme")
        False

    """
    return bool(_LINKEDIN_PROFILE.fullmatch(text.strip()))


def sample_positions(n: int) -> np.ndarray[Any, Any]:
    """Row positions a sample reads from an ``n``-row frame: the top, then evenly spread.

    Example:
        >>> sample_positions(3).tolist()
        [0, 1, 2]

    """
    if n <= SAMPLE_CELLS:
        return np.arange(n)
    head = SAMPLE_CELLS // 2
    spread = np.linspace(head, n - 1, SAMPLE_CELLS - head).astype(np.int64)
    return np.unique(np.concatenate([np.arange(head), spread]))


def sample_texts(series: pd.Series[Any], *, presampled: bool = False) -> list[str]:
    """Up to :data:`SAMPLE_SIZE` non-empty cleaned values of a column, always the same ones.

    Args:
        series: The column.
        presampled: ``series`` already holds only the rows of :func:`sample_positions`
            (detection takes them once for the whole frame).

    Returns:
        The non-empty cleaned texts, in row order.

    Example:
        >>> sample_texts(pd.Series([" a ", None, "", "b"]))
        ['a', 'b']

    """
    cells = series if presampled else series.iloc[sample_positions(len(series))]
    return [t for t in clean_text(cells) if t is not None][:SAMPLE_SIZE]


@dataclass(frozen=True)
class Profile:
    """Shares of a sample's values that have each shape (all 0.0 for an empty sample).

    Attributes:
        n: How many non-empty values were sampled.
        email: Look like email addresses.
        free_mail: Of those emails, the share at free-mail domains (gmail.com, ...).
        linkedin_profile: Are LinkedIn person profile URLs.
        linkedin_other: Are other LinkedIn URLs (company pages, Sales Navigator).
        domain: Are websites or bare domains (not social networks, not emails).
        name: Could be a person's name (has a letter; no email, URL or long text).
        salutation: Are salutations (Mr, Ms, Dr).
        text: Are free text that is neither an email nor a URL (titles, company names).
        number: Are plain numbers.
        identifier: Are one token with a digit (CRM ids).
        salesforce: Salesforce key prefix shared by most ids (``003``), or None.
        distinct: Distinct values / sampled values.

    """

    n: int
    email: float = 0.0
    free_mail: float = 0.0
    linkedin_profile: float = 0.0
    linkedin_other: float = 0.0
    domain: float = 0.0
    name: float = 0.0
    salutation: float = 0.0
    text: float = 0.0
    number: float = 0.0
    identifier: float = 0.0
    salesforce: str | None = None
    distinct: float = 0.0


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


_SPACE: Final = re.compile(r"\s")
# The shape flags of one value, in the order _FLAGS names them.
_FLAGS: Final = (
    "email", "free_mail", "linkedin_profile", "linkedin_other", "domain", "name",
    "salutation", "text", "number", "identifier",
)  # fmt: skip


def _flags(text: str) -> tuple[bool, ...]:
    lowered = text.lower()
    email = bool(_EMAIL.fullmatch(lowered))
    free = email and lowered.rpartition("@")[2] in FREE_MAIL
    profile_url = bool(_LINKEDIN_PROFILE.fullmatch(text))
    linkedin = bool(_LINKEDIN_ANY.search(lowered))
    url = bool(_HAS_SCHEME.match(lowered)) or "www." in lowered
    domain = not email and not _SPACE.search(text) and is_domain(normalize_domain(lowered) or "")
    salutation = lowered.rstrip(".") in _SALUTATIONS
    # Lenient on purpose: a wrong name only reads oddly, so only numbers, emails, URLs and
    # long text contradict a name column ("Ann2" from a test list still counts).
    name = (
        not salutation
        and len(text) <= 60
        and text.count(" ") <= 4
        and "@" not in text
        and not url
        and _has_letter(text)
    )
    prose = "@" not in text and not url and not domain and len(text) <= 200 and _has_letter(text)
    number = bool(_NUMBER.fullmatch(text))
    identifier = "@" not in text and bool(_ID.fullmatch(text)) and _has_digit(text)
    return (
        email, free, profile_url, linkedin and not profile_url, domain, name, salutation,
        prose, number, identifier,
    )  # fmt: skip


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def profile(texts: list[str]) -> Profile:
    """Measure the shapes of sampled values (see :class:`Profile`).

    Each distinct value is classified once: exports repeat values (owners, statuses).

    Example:
        >>> profile(["ann@acme.com", "bo@gmail.com"]).free_mail
        0.5

    """
    if not texts:
        return Profile(0)
    counts = Counter(texts)
    totals = [0] * len(_FLAGS)
    for text, count in counts.items():
        for k, flag in enumerate(_flags(text)):
            if flag:
                totals[k] += count
    n = len(texts)
    shares = dict(zip(_FLAGS, (t / n for t in totals), strict=True))
    emails = totals[0]
    shares["free_mail"] = totals[1] / emails if emails else 0.0
    prefixes = Counter(
        t[:3] for t in texts if t[:3] in SALESFORCE_PREFIX and _SALESFORCE_ID.fullmatch(t)
    )
    top = prefixes.most_common(1)[0] if prefixes else None
    return Profile(
        n=n,
        salesforce=top[0] if top is not None and top[1] * 2 > n else None,
        distinct=len({t.lower() for t in counts}) / n,
        **shares,
    )


@dataclass(frozen=True)
class Verdict:
    """Whether sampled values fit a field.

    Attributes:
        fits: True when they fit, False when they contradict the field, None when the
            sample was empty (nothing to check).
        support: The share of values with the field's shape (0.0-1.0).
        text: One readable clause, e.g. ``"97% of 200 sampled values are emails"``.

    """

    fits: bool | None
    support: float
    text: str


#: Share of sampled values that must have the field's shape: a clear majority.
FIT: Final = 0.6
_ID_FIELDS: Final = ("crmContactId", "crmLeadId", "crmAccountId")


def _pct(share: float) -> str:
    return f"{share:.0%}"


def judge(field: str, shape: Profile) -> Verdict:
    """Say whether values of the shape ``shape`` fit ``field`` (thresholds: :data:`FIT`).

    Example:
        >>> judge("email", profile(["valid", "bounced"])).text
        'only 0% of 2 sampled values are emails'

    """
    n = shape.n
    if n == 0:
        return Verdict(None, 0.0, "no values to check")
    of = f"of {n} sampled value{'s' if n != 1 else ''}"
    share, what, extra_ok = _support(field, shape)
    if share >= FIT and extra_ok:
        return Verdict(True, share, f"{_pct(share)} {of} {what}")
    for fields, measure, clause in _CONTRADICTIONS:
        if field in fields and measure(shape) >= 0.5:
            return Verdict(False, share, f"{_pct(measure(shape))} {of} {clause}")
    return Verdict(False, share, f"only {_pct(share)} {of} {what}")


# Contradictions worth naming: (fields, share of the sample, what that share is).
_CONTRADICTIONS: Final[tuple[tuple[tuple[str, ...], Callable[[Profile], float], str], ...]] = (
    (
        ("linkedInProfile",),
        lambda p: p.linkedin_other,
        "are LinkedIn pages that are not person profiles",
    ),
    (
        ("companyDomain",),
        lambda p: p.linkedin_other + p.linkedin_profile,
        "are LinkedIn URLs, not company websites",
    ),
    (("jobTitle",), lambda p: p.salutation, "are salutations (Mr, Ms)"),
    (("firstName", "lastName"), lambda p: p.number, "are numbers, not names"),
    (("firstName", "lastName", "companyName", "jobTitle"), lambda p: p.email, "are emails"),
)

# Field -> (the share of values with its shape, how to say it, a share that must stay low).
_SUPPORT: Final[Mapping[str, tuple[Callable[[Profile], float], str, Callable[[Profile], bool]]]] = (
    MappingProxyType(
        {
            "email": (lambda p: p.email, "are emails", lambda p: True),
            "linkedInProfile": (
                lambda p: p.linkedin_profile,
                "are LinkedIn profile URLs",
                lambda p: True,
            ),
            "companyDomain": (lambda p: p.domain, "are websites or domains", lambda p: True),
            "firstName": (lambda p: p.name, "look like names", lambda p: p.email < 0.2),
            "lastName": (lambda p: p.name, "look like names", lambda p: p.email < 0.2),
            "jobTitle": (
                lambda p: p.text - p.salutation,
                "look like job titles",
                lambda p: p.salutation < 0.5,
            ),
            "companyName": (
                lambda p: p.text,
                "look like company names",
                lambda p: p.email < 0.2,
            ),
            **dict.fromkeys(
                _ID_FIELDS, (lambda p: p.identifier, "look like record ids", lambda p: True)
            ),
        }
    )
)


def _support(field: str, shape: Profile) -> tuple[float, str, bool]:
    """The share of values with ``field``'s shape, how to say it, and any other condition."""
    measure, what, other_ok = _SUPPORT[field]
    return measure(shape), what, other_ok(shape)
