"""Reading a column header as a request field: the synonym table and the header rules.

A header is read in steps (the rules are summed up in :mod:`._fields`):

1. spelling: camelCase is split (``firstName``), ``E-mail`` / ``e mail`` read ``email``,
   ``Linked In`` / ``LI`` read ``linkedin``, Salesforce's custom suffix ``__c`` is dropped;
2. words: letters and digits become words; a glued word is split into known words
   (``emailaddress`` -> ``email address``); numbers (``E-mail 2``) and a trailing
   ``Value`` (Google's ``E-mail 1 - Value``) are dropped, the number is remembered;
3. exact table: the remaining words are looked up in :data:`FIELD_SYNONYMS`;
4. otherwise the header is taken apart: entity words (``Contact``, ``Lead``, ``Person``,
   ``Account``, ``Company``, ``Organization``), tool names (``Salesforce``, ``Apollo``),
   qualifiers (``Work``, ``Personal``, ``Primary``, ``Secondary``) and veto words
   (``Status``, ``Opt Out``, ``Owner``, ...) are set aside and the rest must be a known
   core (``email``, ``first name``, ``title``, ``website``, ``id``, ...).

Each reading carries a score (exact synonyms score highest, in table order) and whether
values must confirm it (``URL``, bare ``Id``: the header alone cannot say).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Final, Literal

from ._columns import normalize_header
from ._constants import REQUEST_FIELDS
from ._exceptions import ArgumentError

__all__ = [
    "FIELD_SYNONYMS",
    "HeaderReading",
    "Qualifier",
    "check_field_name",
    "email_vetoed",
    "export_entity",
    "read_header",
    "vetoed_for_person",
]

#: Request field -> headers that feed it exactly, best first. Headers beyond these are read
#: by the rules of the module doc. Gathered from the column lists of public exports:
#: Salesforce and Zoho reports, HubSpot, Pipedrive, Apollo, ZoomInfo, Seamless.AI, Hunter,
#: Lusha, Cognism, Clay, Phantombuster, LinkedIn connections, Google Contacts, Outlook,
#: Close, Copper and Attio (see tests/data/exports/).
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
            "Professional Email",
            "Corporate Email",
            "Lead Email",
            "Email Addresses",
            "Primary Email Address",
            "Business Email Address",
            "Mail",
        ),
        "firstName": ("First Name", "Given Name", "First", "FName", "Forename"),
        "lastName": ("Last Name", "Surname", "Family Name", "Last", "LName"),
        "jobTitle": (
            "Job Title",
            "Title",
            "Position",
            "Role",
            "Job Position",
            "Job Role",
            "Designation",
            "Current Job Title",
            "Current Position",
            "Current Title",
            "Organization Title",
            "LinkedIn Job Title",
            "Occupation",
        ),
        "companyDomain": (
            "Company Domain",
            "Domain",
            "Website",
            "Company Website",
            "Company URL",
            "Website URL",
            "Company Domain Name",
            "Domain Name",
            "Web Page",
            "Account Website",
            "Organization Website",
            "Company Website URL",
            "Homepage",
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
            "Current Company",
            "Account",
            "Associated Company",
            "Business Name",
            "Company / Account",
        ),
        "linkedInProfile": (
            "LinkedIn Profile",
            "LinkedIn URL",
            "LinkedIn",
            "Person Linkedin Url",
            "LinkedIn Profile URL",
            "Contact LinkedIn URL",
            "LinkedIn Contact Profile URL",
            "LinkedIn Profile Link",
            "Profile URL",
            "Default Profile URL",
            "Public Profile URL",
            "LinkedIn Public URL",
        ),
        "crmContactId": (
            "CRM Contact ID",
            "Contact ID",
            "Salesforce Contact ID",
            "SFDC Contact ID",
            "HubSpot Contact ID",
            "Contact Record ID",
            "Person ID",
            "Converted Contact ID",
        ),
        "crmLeadId": ("CRM Lead ID", "Lead ID", "Salesforce Lead ID", "SFDC Lead ID"),
        "crmAccountId": (
            "CRM Account ID",
            "Account ID",
            "Salesforce Account ID",
            "SFDC Account ID",
            "HubSpot Company ID",
            "Company ID",
            "Associated Company ID",
            "Organization ID",
            "Converted Account ID",
        ),
    }
)

Qualifier = Literal["work", "primary", "personal", "secondary"]


@dataclass(frozen=True)
class HeaderReading:
    """One way a header can feed a request field.

    Attributes:
        field: The request field.
        score: How sure the header alone is, 0-100 (exact synonyms 80-100).
        reading: The header's words as read, for messages (``"work email"``).
        needs_values: The header alone cannot tell (``URL``, ``Id``); values must confirm.
        qualifier: ``work``, ``primary``, ``personal`` or ``secondary`` when the header says.
        index: The number in the header (``E-mail 2``), 1 when none.
        generic_id: An id header that names no record type (``Record ID``, ``Salesforce
            ID``, ``Id``): Salesforce key prefixes or the export's entity decide the field.

    """

    field: str
    score: int
    reading: str
    needs_values: bool = False
    qualifier: Qualifier | None = None
    index: int = 1
    generic_id: bool = False


_PERSON: Final = {
    "contact": "contact",
    "contacts": "contact",
    "person": "contact",
    "persons": "contact",
    "people": "contact",
    "member": "contact",
    "candidate": "contact",
    "lead": "lead",
    "leads": "lead",
    "prospect": "lead",
    "prospects": "lead",
}
_COMPANY: Final = frozenset(
    {"company", "companies", "account", "accounts", "organization", "organisation",
     "organizations", "organisations", "org", "employer"}
)  # fmt: skip
# Records that are not the contact: their fields never feed a contact's request.
_OTHER_ENTITY: Final = frozenset(
    {"deal", "deals", "opportunity", "opportunities", "ticket", "task", "activity", "note",
     "campaign", "sequence", "event", "page", "product", "invoice", "order", "quote",
     "meeting", "call", "list", "parent", "vendor", "partner", "spouse", "referral"}
)  # fmt: skip
_CRM_TOOLS: Final = frozenset(
    {"crm", "salesforce", "sfdc", "sf", "hubspot", "hs", "zoho", "pipedrive", "dynamics",
     "copper", "attio", "close"}
)  # fmt: skip
# Data vendors: their ids and profile pages are theirs, not the CRM's or LinkedIn's.
_VENDORS: Final = frozenset(
    {"apollo", "zoominfo", "lusha", "cognism", "seamless", "seamlessai", "clay", "hunter",
     "phantombuster", "dropcontact", "kaspr", "rocketreach", "clearbit", "snov", "lemlist",
     "outreach", "salesloft", "instantly", "smartlead", "navigator", "evaboot", "waalaxy"}
)  # fmt: skip
_QUALIFIERS: Final[Mapping[str, Qualifier]] = MappingProxyType(
    {
        "work": "work",
        "business": "work",
        "professional": "work",
        "corporate": "work",
        "office": "work",
        "primary": "primary",
        "main": "primary",
        "default": "primary",
        "preferred": "primary",
        "current": "primary",
        "personal": "personal",
        "home": "personal",
        "private": "personal",
        "secondary": "secondary",
        "other": "secondary",
        "alternate": "secondary",
        "alternative": "secondary",
        "alt": "secondary",
        "additional": "secondary",
        "extra": "secondary",
        "second": "secondary",
        "third": "secondary",
        "tertiary": "secondary",
        "backup": "secondary",
    }
)
_FILLER: Final = frozenset({"associated", "converted", "for", "the", "of", "s", "from", "c"})
# Words that make a header about something else: a status, a count, a date, another person.
_VETO: Final = frozenset(
    {"status", "verified", "verification", "verify", "valid", "validity", "validation",
     "opt", "optout", "optin", "unsubscribed", "unsubscribe", "bounced", "bounce", "bounces",
     "sent", "count", "opened", "opens", "open", "clicked", "clicks", "click", "replied",
     "reply", "replies", "confidence", "score", "source", "type", "label", "date", "catchall",
     "catch", "quality", "provider", "deliverable", "deliverability", "format", "pattern",
     "subscription", "consent", "permission", "marketing", "template", "step", "engagement",
     "history", "visits", "views", "owner", "rep", "assistant", "manager", "boss",
     "referrer", "referred", "sender", "recipient", "cc", "bcc", "created", "modified",
     "updated", "by", "user", "agent", "billing", "support", "phonetic", "yomi", "prefix",
     "suffix", "middle", "nickname", "maiden", "initial", "initials", "seniority",
     "department", "level", "function", "headline", "description", "old", "previous",
     "former", "past", "prior", "reports", "reporting", "hierarchy", "total", "ai",
     "display", "salutation", "number", "guessed", "accuracy",
     "grade", "enrichment", "find", "lookup", "result", "results", "json", "raw"}
)  # fmt: skip
# Vetoes that mean "another person": no value sniffing either for such a column.
_SOMEONE_ELSE: Final = frozenset(
    {"owner", "rep", "assistant", "manager", "boss", "referrer", "referred", "sender",
     "recipient", "cc", "bcc", "created", "modified", "updated", "by", "user", "agent",
     "billing", "support", "reports", "reporting", "spouse", "partner", "parent",
     "assigned", "assignee", "invited", "inviter", "requester", "approver", "colleague",
     "coworker", "teammate", "csm", "sdr", "bdr", "ae", "salesperson", "host", "organizer",
     "organiser", "sales", "from", "to", "reply", "sent", "team", "author", "admin"}
)  # fmt: skip
_SOCIAL: Final = frozenset(
    {"linkedin", "facebook", "twitter", "instagram", "youtube", "github", "crunchbase",
     "angellist", "xing", "tiktok", "x"}
)  # fmt: skip

# Core words (after entity, tool and qualifier words are set aside) -> field.
_PERSON_CORES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(
            ["email", "emailaddress", "mail", "mailaddress", "emails", "emailaddresses",
             "emailid", "correo", "courriel", "emailadresse", "mailadresse"],
            "email",
        ),
        **dict.fromkeys(
            ["firstname", "givenname", "first", "fname", "forename", "prenom", "vorname"],
            "firstName",
        ),
        **dict.fromkeys(
            ["lastname", "surname", "familyname", "last", "lname", "nachname"], "lastName"
        ),
        **dict.fromkeys(
            ["jobtitle", "title", "position", "role", "jobposition", "jobrole", "designation",
             "occupation", "linkedinjobtitle", "positiontitle", "jobtitles"],
            "jobTitle",
        ),
        **dict.fromkeys(
            ["linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl",
             "linkedinlink", "linkedinprofilelink", "profileurl", "linkedinpublicurl",
             "publicprofileurl", "linkedinurlprofile", "linkedinprofiles", "linkedinurls"],
            "linkedInProfile",
        ),
    }
)  # fmt: skip
_DOMAIN_CORES: Final = frozenset(
    {"domain", "website", "websiteurl", "webpage", "homepage", "site", "web", "webaddress",
     "domainname", "websitedomain", "weburl", "websites", "url"}
)  # fmt: skip
_COMPANY_NAME_CORES: Final = frozenset({"", "name", "nameforemails", "legalname", "names"})
_ID_CORES: Final = frozenset({"id", "ids", "recordid", "objectid", "identifier", "uid"})
# Headers that could be a LinkedIn profile or a website: only the values can tell.
_AMBIGUOUS_URL: Final = frozenset({"url", "link", "profile", "profilelink", "links", "urls"})

_ENTITY_ID_FIELD: Final = {
    "contact": "crmContactId",
    "lead": "crmLeadId",
    "company": "crmAccountId",
}

_CAMEL: Final = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_EMAIL_WORD: Final = re.compile(r"(?<![^\W_])e[\W_]*mail", re.UNICODE)
_LINKEDIN_WORD: Final = re.compile(r"(?<![^\W_])(?:linked[\W_]*in|li)(?![^\W\d_])")
_JOINS: Final = (
    (re.compile(r"\bweb[\W_]+(site|page)\b"), r"web\1"),
    (re.compile(r"\bhome[\W_]+page\b"), "homepage"),
    (re.compile(r"\bopt[\W_]+(out|in)\b"), r"opt\1"),
)
_WORDS: Final = re.compile(r"[^\W\d_]+|\d+")


def _vocabulary() -> frozenset[str]:
    words = {
        *_PERSON, *_COMPANY, *_OTHER_ENTITY, *_CRM_TOOLS, *_VENDORS, *_QUALIFIERS, *_FILLER,
        *_VETO, *_SOCIAL, "name", "names", "address", "addresses", "url", "urls", "id",
        "ids", "record", "object", "job", "title", "position", "role", "first", "last",
        "given", "family", "sur", "email", "emails", "mail", "profile", "link", "public",
        "domain", "website", "site", "web", "page", "homepage", "webpage", "legal",
        "designation", "occupation", "surname", "forename", "value", "phone", "mobile",
    }  # fmt: skip
    return frozenset(w for w in words if len(w) > 1)


_VOCAB: Final = _vocabulary()


@cache
def _split_glued(word: str) -> tuple[str, ...]:
    """Split a glued word into known words (``emailaddress``), or keep it whole."""
    if word in _VOCAB or len(word) < 5 or not word.isalpha():
        return (word,)
    # best[i]: fewest known words spelling word[:i]
    best: list[tuple[str, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 14), end):
            head = best[start]
            piece = word[start:end]
            if head is not None and piece in _VOCAB:
                candidate = (*head, piece)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    found = best[len(word)]
    return found if found else (word,)


def _words(header: str) -> tuple[list[str], int]:
    """Header -> its words (numbers and a trailing ``value`` dropped) and its number."""
    text = re.sub(r"__c$", "", header.strip())
    text = _CAMEL.sub(" ", text).casefold()
    text = _EMAIL_WORD.sub("email", text)
    text = _LINKEDIN_WORD.sub("linkedin", text)
    for pattern, repl in _JOINS:
        text = pattern.sub(repl, text)
    words: list[str] = []
    index = 1
    numbered = False
    for raw in _WORDS.findall(text):
        if raw.isdigit():
            index = int(raw) if not numbered else index
            numbered = True
            continue
        words.extend(_split_glued(raw))
    if len(words) > 1 and words[-1] == "value":
        words.pop()
    return words, index


# Exact table: the words of each synonym joined -> (field, rank).
_EXACT: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {
        "".join(_words(header)[0]): (field, rank)
        for field, headers in FIELD_SYNONYMS.items()
        for rank, header in enumerate(headers)
    }
)

_QUALIFIER_SCORE: Final[Mapping[Qualifier | None, int]] = MappingProxyType(
    {"work": 6, "primary": 2, None: 0, "personal": -15, "secondary": -25}
)


@dataclass
class _Parts:
    words: list[str]
    index: int
    entities: list[str]
    tools: list[str]
    vendors: list[str]
    qualifier: Qualifier | None
    vetoes: list[str]
    others: list[str]
    core: str


def _parts(header: str) -> _Parts:
    words, index = _words(header)
    entities: list[str] = []
    tools: list[str] = []
    vendors: list[str] = []
    vetoes: list[str] = []
    others: list[str] = []
    qualifier: Qualifier | None = None
    core: list[str] = []
    for word in words:
        if word in _PERSON:
            entities.append(_PERSON[word])
        elif word in _COMPANY:
            entities.append("company")
        elif word in _OTHER_ENTITY:
            others.append(word)
        elif word in _CRM_TOOLS:
            tools.append(word)
        elif word in _VENDORS:
            vendors.append(word)
        elif word in _QUALIFIERS:
            # The weakest qualifier wins: "Primary Personal Email" is still personal.
            found = _QUALIFIERS[word]
            if qualifier is None or _QUALIFIER_SCORE[found] < _QUALIFIER_SCORE[qualifier]:
                qualifier = found
        elif word in _VETO:
            vetoes.append(word)
        elif word not in _FILLER:
            core.append(word)
    return _Parts(words, index, entities, tools, vendors, qualifier, vetoes, others, "".join(core))


def vetoed_for_person(header: str) -> bool:
    """Whether a header is about someone or something else (``Owner Email``, ``Deal ...``).

    Such a column is never taken for any field, not even when its values look right.

    Example:
        >>> vetoed_for_person("Contact Owner Email"), vetoed_for_person("Notes")
        (True, False)

    """
    parts = _parts(header)
    return bool(parts.others) or any(w in _SOMEONE_ELSE for w in parts.words)


@cache
def read_header(header: str) -> tuple[HeaderReading, ...]:
    """Every field a header can feed, best first (see the module doc for the rules).

    Example:
        >>> [(r.field, r.qualifier) for r in read_header("Contact: Work E-mail")]
        [('email', 'work')]
        >>> read_header("Email Status")
        ()

    """
    parts = _parts(header)
    reading = " ".join(parts.words)
    if parts.others or parts.vetoes:
        return ()
    index_penalty = 5 * min(parts.index - 1, 4)
    qualifier = parts.qualifier
    exact = _EXACT.get("".join(parts.words))
    if exact is not None:
        field, rank = exact
        found = HeaderReading(
            field,
            100 - rank - index_penalty,
            reading,
            qualifier=qualifier if field == "email" else None,
            index=parts.index,
        )
        return (found,)
    return tuple(sorted(_structural(parts, reading), key=lambda r: -r.score))


def _structural(parts: _Parts, reading: str) -> Iterable[HeaderReading]:
    core = parts.core
    company = "company" in parts.entities
    person = [e for e in parts.entities if e != "company"]
    base = 75 - 5 * min(parts.index - 1, 4) + _QUALIFIER_SCORE[parts.qualifier]
    social = any(w in _SOCIAL for w in parts.words if w != "linkedin") or (
        "linkedin" in parts.words and core not in _PERSON_CORES
    )
    if core in _ID_CORES:
        yield from _id_readings(parts, reading, person, company)
        return
    if company:
        if core in _COMPANY_NAME_CORES and not parts.tools:
            yield HeaderReading("companyName", base, reading)
        elif core in ("title", "position", "jobtitle"):
            # Google Contacts' "Organization 1 - Title" is the person's title there.
            yield HeaderReading("jobTitle", base, reading)
        elif core in _DOMAIN_CORES and not social and parts.qualifier != "personal":
            yield HeaderReading("companyDomain", base, reading)
        return
    field = _PERSON_CORES.get(core)
    if field == "linkedInProfile" and parts.vendors:
        return  # a vendor's own profile page (ZoomInfo Contact Profile URL)
    if field is not None:
        qualifier = parts.qualifier if field == "email" else None
        needs = field == "linkedInProfile" and "linkedin" not in parts.words
        yield HeaderReading(
            field, base - (10 if needs else 0), reading, needs, qualifier, parts.index
        )
        return
    if core in _AMBIGUOUS_URL and not parts.vendors and not social:
        yield HeaderReading("linkedInProfile", 45, reading, needs_values=True)
        if core != "profile" and parts.qualifier != "personal":
            yield HeaderReading("companyDomain", 40, reading, needs_values=True)
        return
    if core in _DOMAIN_CORES and not social and parts.qualifier != "personal":
        yield HeaderReading("companyDomain", base - 5, reading)


def _id_readings(
    parts: _Parts, reading: str, person: list[str], company: bool
) -> Iterable[HeaderReading]:
    if parts.vendors:
        return  # Apollo / ZoomInfo ids are the vendor's, not the CRM's
    bonus = 5 if parts.tools else 0
    if company and not person:
        yield HeaderReading("crmAccountId", 80 + bonus, reading)
    elif person:
        # The entity nearest the id names it: "Lead Contact ID" is a contact's id.
        yield HeaderReading(_ENTITY_ID_FIELD[person[-1]], 80 + bonus, reading)
    elif parts.tools or parts.core == "recordid":
        # "Salesforce ID", HubSpot's "Record ID": the export's entity decides (detection).
        yield HeaderReading("crmContactId", 60 + bonus, reading, generic_id=True)
    else:
        yield HeaderReading("crmContactId", 40, reading, needs_values=True, generic_id=True)


def export_entity(headers: Iterable[str]) -> str:
    """Whether a frame's headers describe ``"lead"`` or ``"contact"`` records.

    A CRM names its owner column after the records (Zoho's and Salesforce's ``Lead
    Owner``); failing that, most entity-prefixed person headers (``Leads.Email``) decide.

    Example:
        >>> export_entity(["Record Id", "Lead Owner", "Email"])
        'lead'

    """
    owners: list[str] = []
    prefixed: list[str] = []
    for header in headers:
        parts = _parts(header)
        person = [e for e in parts.entities if e != "company"]
        if not person:
            continue
        if "owner" in parts.vetoes:
            owners.append(person[0])
        elif parts.core in _PERSON_CORES:
            prefixed.append(person[0])
    votes = owners or prefixed
    return "lead" if votes and votes.count("lead") * 2 > len(votes) else "contact"


def email_vetoed(header: str) -> bool:
    """Whether a header names an email *property* (status, opt-out), never the address.

    Example:
        >>> email_vetoed("Email Opt Out"), email_vetoed("Notes")
        (True, False)

    """
    parts = _parts(header)
    mentions = any(w in ("email", "emails", "mail") for w in parts.words)
    return mentions and bool(parts.vetoes or parts.others)


# Normalised synonym -> (field, rank), for check_field_name's hints.
_SYNONYM_INDEX: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {
        normalize_header(header): (field, rank)
        for field, headers in FIELD_SYNONYMS.items()
        for rank, header in enumerate(headers)
    }
)


def check_field_name(key: object) -> str:
    """Return ``key`` if it is a request field.

    Raises:
        ArgumentError: It is not; the message names the nearest request fields.

    Example:
        >>> check_field_name("email")
        'email'

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
