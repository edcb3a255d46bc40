"""The call-prep, generate-content, prospector and context agents' answers.

Like ``_profiles``: facts hash from identity (a prospector's people from the domain
alone, so ``limit=5`` is the first five of ``limit=10``), wording from the request,
and every answer names the contact or the company it is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._catalog import PRODUCTS, SENDER
from ._content import Format, Hash, library_matches, oid, persona_for, text
from ._library import (
    DOCUMENTS,
    FIRST_NAMES,
    LAST_NAMES,
    OBJECTIONS,
    PLACES,
    REFERENCE_CUSTOMERS,
    TITLES,
    USE_CASES,
)
from ._profiles import company_profile, domain_of, seniority, slug, who

__all__ = ["call_prep", "context", "generate_content", "prospector", "prospects"]


def call_prep(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``call-prep`` run.

    Args:
        payload: The validated body (person fields).
        h: The body's hash.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"discoveryQuestions", "callScript", "personBrief", "companyBrief",
        "objectionHandling"}``.

    """
    person = who(payload)
    first, company = person.first or "there", person.company or "your company"
    persona, _ = persona_for(person.title, h)
    product = h.pick(PRODUCTS, "product")
    profile = company_profile(payload, h)
    role = f"as {person.title}" if person.title else "in your role"
    questions = [
        f"How does {company} handle {persona.focus} today?",
        f"What does success look like for you {role} this year, {first}?",
        f"Which tools does {company} rely on for {persona.focus}?",
        f"Who else at {company} weighs in when you change how {persona.focus} works?",
        f"What would make {persona.focus} a priority before the end of the quarter?",
    ][: 4 + h.index(2, "questions")]
    value = product.value_props[h.index(len(product.value_props), "vp")]
    script = "\n\n".join(
        (
            f"Hi {first}, this is {SENDER[0]} from Northwind Signal.",
            f"I am calling because teams like {company} often {persona.pain}.",
            f"{value}: that is what {product.name} does.",
            f"Would it make sense to compare notes on {persona.focus} for 20 minutes?",
        )
    )
    start = h.index(len(OBJECTIONS), "objections")
    words = {"product": product.name, "focus": persona.focus, "company": company}
    objections = [
        {"objection": objection, "response": response.format(**words)}
        for objection, response in (
            OBJECTIONS[(start + i) % len(OBJECTIONS)] for i in range(2 + h.index(2, "n-obj"))
        )
    ]
    name = " ".join(x for x in (person.first, person.last) if x) or "This contact"
    data = {
        "discoveryQuestions": questions,
        "callScript": script,
        "personBrief": (
            f"{name} is {person.title or 'a contact'} at {company}; as a {persona.name} "
            f"they care most about {persona.focus}."
        ),
        "companyBrief": profile["description"],
        "objectionHandling": objections,
    }
    return data, f"Prepared a call with {first} at {company}"


def generate_content(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``generate-content`` run.

    Args:
        payload: The validated body (person/company fields, ``url``, ``customContext``,
            ``outputFormat``; ``JSON`` fills ``jsonContent``).
        h: The body's hash.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"content", "jsonContent", "product", "persona", "playbook",
        "useCases", "referenceCustomers"}``; ``jsonContent`` is ``None`` unless JSON.

    """
    person = who(payload)
    company = person.company or "your team"
    matches = library_matches({**payload, "companyName": person.company}, h)
    product = matches["product"]["name"]
    kind = str(payload.get("outputFormat") or "text").lower()
    fmt = Format(kind if kind != "json" else "text")
    custom = payload.get("customContext")
    notes = custom if isinstance(custom, str) else ""
    url = text(payload, "url")
    headline = f"{product} for {company}"
    body = (
        f"{person.first + ', here' if person.first else 'Here'} is how {product} helps "
        f"{company}: {matches['product']['description']}"
    )
    call_to_action = "Worth a 15-minute look next week?"
    content = fmt.paras(
        fmt.emph(headline),
        fmt.t(body),
        fmt.t(f"Source: {url}") if url else "",
        fmt.t(notes),
        fmt.t(call_to_action),
    )
    json_content = None
    if kind == "json":
        json_content = {
            "headline": headline,
            "body": body,
            "callToAction": call_to_action,
            "recipient": {"firstName": person.first, "companyName": person.company},
        }
    start = h.index(len(REFERENCE_CUSTOMERS), "customers")
    data = {
        "content": content,
        "jsonContent": json_content,
        **matches,
        "useCases": [
            {"oId": oid("uc_", u.name), "name": u.name, "description": u.description}
            for u in USE_CASES
            if u.product == product
        ],
        "referenceCustomers": [
            {"name": name, "domain": domain, "summary": summary}
            for name, domain, summary in (
                REFERENCE_CUSTOMERS[(start + i) % len(REFERENCE_CUSTOMERS)] for i in range(2)
            )
        ],
    }
    return data, f"Generated content for {company}"


def _words(raw: object) -> list[str]:
    if not isinstance(raw, list):
        return []
    return [str(x).strip().lower() for x in raw if str(x).strip()]


def prospects(payload: Mapping[str, Any], h: Hash) -> list[dict[str, Any]]:
    """Return the people a ``prospector`` run finds, after ``searchContext`` and ``limit``.

    The people hash from the domain alone: the same domain always has the same staff.

    Args:
        payload: The validated body (``companyDomain``, ``limit``, ``minimal``,
            ``searchContext``).
        h: Any hash of the run.

    Returns:
        Up to ``limit`` contacts (``minimal: false`` adds headline, seniority, persona).

    """
    domain = domain_of(text(payload, "companyDomain"))
    company = text(payload, "companyName") or who(payload).company
    hd = h.sub({"prospector": domain})
    search = payload.get("searchContext")
    search = search if isinstance(search, Mapping) else {}
    exact, fuzzy = _words(search.get("exactTitles")), _words(search.get("fuzzyTitles"))
    exclude, personas = _words(search.get("excludeTitles")), _words(search.get("personaOIds"))
    location = search.get("personLocation")
    wanted_places = (
        [str(v).lower() for v in location.values() if isinstance(v, str) and v]
        if isinstance(location, Mapping)
        else []
    )
    size = 3 + hd.index(38, "size")
    offsets = [hd.index(n, f"offset:{n}") for n in (len(FIRST_NAMES), len(LAST_NAMES))]
    title_at, place_at = hd.index(len(TITLES), "titles"), hd.index(len(PLACES), "places")
    minimal = payload.get("minimal", True) is not False
    found: list[dict[str, Any]] = []
    for i in range(size):
        first = FIRST_NAMES[(offsets[0] + i) % len(FIRST_NAMES)]
        last = LAST_NAMES[(offsets[1] + 3 * i) % len(LAST_NAMES)]
        title = TITLES[(title_at + 5 * i) % len(TITLES)]
        place = PLACES[(place_at + i // 4) % len(PLACES)]
        where = f"{place.locality}, {place.region}, {place.country_code}"
        persona, _ = persona_for(title, hd)
        lower = title.lower()
        keep = (
            (not exact or lower in exact)
            and (not fuzzy or any(f in lower for f in fuzzy))
            and not any(x in lower for x in exclude)
            and (not personas or oid("pe_", persona.name).lower() in personas)
            and all(p in where.lower() for p in wanted_places)
        )
        if not keep:
            continue
        handle = slug(f"{first} {last}")
        person: dict[str, Any] = {
            "firstName": first,
            "lastName": last,
            "title": title,
            "email": f"{handle.replace('-', '.')}@{domain}",
            "linkedInProfile": f"https://www.linkedin.com/in/{handle}-{i + 1:03d}",
            "location": where,
            "companyName": company,
            "companyDomain": domain,
        }
        if not minimal:
            person["headline"] = f"{title} at {company}"
            person["seniority"] = seniority(title)
            person["persona"] = {"oId": oid("pe_", persona.name), "name": persona.name}
        found.append(person)
    limit = payload.get("limit", 10)
    return found[: limit if isinstance(limit, int) else 10]


def prospector(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``prospector`` run: ``data`` = ``{"contacts": [...]}``."""
    contacts = prospects(payload, h)
    domain = domain_of(text(payload, "companyDomain"))
    return {"contacts": contacts}, f"Found {len(contacts)} contacts at {domain}"


def context(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``context`` run.

    Args:
        payload: The validated body (``query``, ``additionalContext{person, company}``).
        h: The body's hash.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"documents": [{"id", "name", "data", "score", "reasoning"}],
        "reasoning"}``, best document first.

    """
    query = text(payload, "query")
    extra = payload.get("additionalContext")
    extra = extra if isinstance(extra, Mapping) else {}
    about: dict[str, Any] = {}
    for part in (extra.get("person"), extra.get("company")):
        about.update(part if isinstance(part, Mapping) else {})
    company = text(about, "companyName") or text(about, "name") or text(about, "domain")
    words = set(re.findall(r"[a-z]+", query.lower()))

    def relevance(doc_index: int) -> float:
        doc = DOCUMENTS[doc_index]
        overlap = len(words & set(re.findall(r"[a-z]+", f"{doc.name} {doc.text}".lower())))
        return overlap + h.unit(f"doc:{doc_index}")

    ranked = sorted(range(len(DOCUMENTS)), key=relevance, reverse=True)[: 2 + h.index(3, "n")]
    suffix = f" for {company}" if company else ""
    documents = []
    for rank, index in enumerate(ranked):
        doc = DOCUMENTS[index]
        documents.append(
            {
                "id": oid("doc_", doc.name),
                "name": doc.name,
                "data": doc.text,
                "score": round(0.95 - 0.15 * rank - 0.05 * h.unit(f"score:{rank}"), 3),
                "reasoning": f"{doc.name} answers {query!r}{suffix}.",
            }
        )
    reasoning = f"Picked {len(documents)} documents that answer {query!r}{suffix}."
    return {"documents": documents, "reasoning": reasoning}, f"Found {len(documents)} documents"
