"""Who a request is about, and the enrich and qualify agents' answers about them.

Facts (a person's location and seniority, a company's industry, size and funding) hash
from the identity alone (email, LinkedIn profile or name; domain or company name), so
every agent describes the same person and the same company the same way. Wording and
choices that depend on the question asked hash from the whole request. Every answer
names the contact's first name and company, so a test can tell no row took another's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple

from .._constants import CONFIDENCE_LEVELS
from ._catalog import PERSONAS, PLAYBOOKS, PRODUCTS, Persona
from ._content import Hash, library_matches, oid, persona_for, text
from ._library import (
    FUNDING_ROUNDS,
    INDUSTRIES,
    INVESTORS,
    PLACES,
    QUESTIONS,
    SEGMENTS,
    SKILLS,
    SPECIALTIES,
    STREETS,
    TITLES,
    USE_CASES,
)

__all__ = [
    "Who",
    "company_profile",
    "domain_of",
    "enrich_company",
    "enrich_person",
    "qualify_company",
    "qualify_person",
    "seniority",
    "slug",
    "who",
]

_DEPARTMENTS = {
    "Sales Leader": "Sales",
    "Engineering Leader": "Engineering",
    "Marketing Leader": "Marketing",
    "Partnerships Leader": "Business Development",
    "Operations Leader": "Operations",
    "Executive": "Executive",
}
_SENIORITY = (
    (("chief", "ceo", "cto", "cmo", "cro", "founder", "president"), "Executive"),
    (("vp", "vice"), "VP"),
    (("director",), "Director"),
    (("head",), "Head"),
    (("manager", "lead"), "Manager"),
)
_ROUND_SIZE = {"Seed": 2e6, "Series A": 1e7, "Series B": 3e7, "Series C": 8e7, "Series D": 1.5e8}


class Who(NamedTuple):
    """The person and company a request is about, as far as its fields tell."""

    first: str
    last: str
    title: str
    email: str
    linkedin: str
    company: str
    domain: str


def slug(raw: str) -> str:
    """Return ``raw`` as a lower-case ASCII slug: ``"Chloé O'Brien"`` → ``"chloe-obrien"``."""
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower().replace("'", "")).strip("-")


def domain_of(raw: str) -> str:
    """Return a bare domain: no scheme, no ``www.``, no path, lower case."""
    bare = re.sub(r"^[a-z]+://", "", raw.strip().lower()).split("/")[0]
    return bare.removeprefix("www.")


def _company_from_domain(domain: str) -> str:
    label = domain.split(".", maxsplit=1)[0] if domain else ""
    return " ".join(part.capitalize() for part in re.split(r"[-_]", label) if part)


def _name_parts(raw: str) -> list[str]:
    return [p.capitalize() for p in re.split(r"[._\-+]", raw) if p.isalpha()]


def who(payload: Mapping[str, Any]) -> Who:
    """Return who ``payload`` is about, filling gaps the way enrichment would.

    A missing name comes from the email's local part or the LinkedIn slug, a missing
    company name from the domain, a missing domain from the email or the company name.

    Args:
        payload: A request body with flat person and company fields.

    Returns:
        The resolved identity; fields stay ``""`` when nothing tells them.

    """
    email = text(payload, "email").lower()
    local, _, email_domain = email.partition("@")
    linkedin = text(payload, "linkedInProfile")
    in_slug = linkedin.rstrip("/").rpartition("/in/")[2] if "/in/" in linkedin else ""
    guessed = _name_parts(local) or _name_parts(in_slug)
    company = text(payload, "companyName")
    domain = domain_of(text(payload, "companyDomain") or email_domain)
    if not domain and company:
        domain = f"{slug(company).replace('-', '')}.com"
    return Who(
        first=text(payload, "firstName") or (guessed[0] if guessed else ""),
        last=text(payload, "lastName") or (guessed[1] if len(guessed) > 1 else ""),
        title=text(payload, "jobTitle"),
        email=email,
        linkedin=linkedin,
        company=company or _company_from_domain(domain),
        domain=domain,
    )


def _person_hash(h: Hash, person: Who) -> Hash:
    key = person.email or person.linkedin or f"{person.first} {person.last}@{person.domain}"
    return h.sub({"person": key.lower()})


def seniority(title: str) -> str:
    """Return the seniority a job title implies (``"VP"``, ``"Director"``, ...)."""
    words = set(re.findall(r"[a-z]+", title.lower()))
    return next(
        (level for keys, level in _SENIORITY if words & set(keys)), "Individual Contributor"
    )


def _matches_for(payload: Mapping[str, Any], person: Who, h: Hash) -> dict[str, Any]:
    # The persona follows the title enrichment found, not only the one the caller sent.
    return library_matches({**payload, "jobTitle": person.title, "companyName": person.company}, h)


def _a(phrase: str) -> str:
    return f"{'an' if phrase[:1] in 'aeiou' else 'a'} {phrase}"


def _place(hp: Hash) -> str:
    place = hp.pick(PLACES, "place")
    return f"{place.locality}, {place.region}, {place.country_code}"


def enrich_person(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of an ``enrich-person`` run.

    Args:
        payload: The validated body (person fields).
        h: The body's hash.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"person", "product", "persona", "playbook"}`` and, when a use case
        fits, ``"useCase"``.

    """
    base = who(payload)
    hp = _person_hash(h, base)
    person = base._replace(title=base.title or hp.pick(TITLES, "title"))
    persona, _ = persona_for(person.title, hp)
    company = person.company or "their company"
    skills = list(SKILLS[persona.name])[: 3 + hp.index(2, "skills")]
    profile = person.linkedin or (
        f"https://www.linkedin.com/in/{slug(f'{person.first} {person.last}')}-"
        f"{hp.index(9000, 'handle') + 1000}"
    )
    matches = _matches_for(payload, person, h)
    data: dict[str, Any] = {
        "person": {
            "firstName": person.first,
            "lastName": person.last,
            "title": person.title,
            "headline": f"{person.title} at {company}",
            "summary": (
                f"{person.first} {person.last} is {person.title} at {company}, focused on "
                f"{persona.focus}. Like many in the role, they {persona.pain}."
            ).replace("  ", " "),
            "location": _place(hp),
            "linkedInProfile": profile,
            "seniority": seniority(person.title),
            "department": _DEPARTMENTS[persona.name],
            "skills": skills,
        },
        **matches,
    }
    product = matches["product"]["name"]
    fitting = [u for u in USE_CASES if u.product == product]
    if h.unit("use-case") < 0.8:
        use = h.pick(fitting, "use-case-pick")
        data["useCase"] = {
            "oId": oid("uc_", use.name),
            "name": use.name,
            "description": use.description,
            "matchConfidence": h.pick(CONFIDENCE_LEVELS, "confidence:uc"),
            "matchAnalysis": f"{use.name} answers {company}'s need for {persona.focus}.",
        }
    return data, f"Enriched {person.first or 'the person'} at {company}"


def company_profile(payload: Mapping[str, Any], h: Hash) -> dict[str, Any]:
    """Return the ``company`` object enrichment finds for the payload's company.

    Args:
        payload: A body with ``companyDomain`` and/or ``companyName`` (or an email).
        h: Any hash of the run; the facts hash from the domain (or name) alone.

    Returns:
        Octave's documented company fields, with a description naming the company and
        its domain.

    """
    base = who(payload)
    hc = h.sub({"company": base.domain or base.company.lower()})
    name, domain = base.company, base.domain
    place = hc.pick(PLACES, "place")
    industry = hc.pick(INDUSTRIES, "industry")
    employees = int(10 * 5000 ** hc.unit("employees"))
    public = employees > 5000 and hc.unit("public") < 0.6
    founded = 1985 + hc.index(38, "founded")
    start = hc.index(len(SPECIALTIES), "specialties")
    specialties = [SPECIALTIES[(start + i) % len(SPECIALTIES)] for i in range(3)]
    rounds = 0 if public else hc.index(4, "rounds")
    funding = []
    for i in range(rounds):
        year = min(2025, founded + 1 + 2 * i)
        amount = _ROUND_SIZE[FUNDING_ROUNDS[i]] * (0.5 + hc.unit(f"amount:{i}"))
        first_investor = hc.index(len(INVESTORS), f"investor:{i}")
        funding.append(
            {
                "roundName": FUNDING_ROUNDS[i],
                "roundDate": f"{year}-{1 + hc.index(12, f'month:{i}'):02d}-15",
                "roundAmount": int(round(amount, -5)),
                "roundCurrency": "USD",
                "investorNames": [
                    INVESTORS[(first_investor + k) % len(INVESTORS)] for k in range(1 + i % 3)
                ],
            }
        )
    company_slug = slug(name) or slug(domain)
    return {
        "name": name,
        "description": (
            f"{name} ({domain}) is {_a(industry.lower())} company founded in {founded}, "
            f"headquartered in {place.locality}, with about {employees:,} employees."
        ),
        "domain": domain,
        "website": f"https://www.{domain}" if domain else "",
        "founded": founded,
        "location": {
            "region": place.region,
            "locality": place.locality,
            "postalCode": place.postal_code,
            "countryCode": place.country_code,
            "streetAddress": f"{1 + hc.index(400, 'street-no')} {hc.pick(STREETS, 'street')}",
        },
        "employeeCount": employees,
        "followerCount": employees * (3 + hc.index(20, "followers")),
        "type": "Public Company" if public else "Privately Held",
        "slug": company_slug,
        "logoUrl": f"https://logos.octave.example/{company_slug}.png",
        "specialties": specialties,
        "industry": industry,
        "crunchBaseFunding": funding,
    }


def enrich_company(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of an ``enrich-company`` run.

    Args:
        payload: The validated body (``companyDomain``, ``companyName``, ``crmAccountId``).
        h: The body's hash.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"company", "product", "persona", "playbook"}``.

    """
    company = company_profile(payload, h)
    data = {"company": company, **library_matches({"companyName": company["name"]}, h)}
    return data, f"Enriched {company['name']}"


def _qualification(h: Hash, salt: str, company: str, topic: str) -> dict[str, Any]:
    """Answer 3-5 qualifying questions about ``company`` on ``topic`` and score them."""
    n = 3 + h.index(3, f"{salt}:n")
    start = h.index(len(QUESTIONS), f"{salt}:q")
    answers = []
    for i in range(n):
        yes = h.unit(f"{salt}:a{i}") < 0.6
        answers.append(
            {
                "question": QUESTIONS[(start + i) % len(QUESTIONS)].format(
                    company=company, topic=topic
                ),
                "answer": "Yes" if yes else "No",
                "rationale": (
                    f"Public signals show {company} working on {topic}."
                    if yes
                    else f"Nothing public ties {company} to {topic} yet."
                ),
                "confidence": h.pick(CONFIDENCE_LEVELS, f"{salt}:c{i}"),
            }
        )
    yes_count = sum(a["answer"] == "Yes" for a in answers)
    score = max(1, min(10, round(1 + 9 * yes_count / n)))
    rationale = f"{yes_count} of {n} {topic} criteria met for {company}."
    return {"score": score, "rationale": rationale, "answers": answers}


def _sections(h: Hash, company: str, persona: Persona) -> dict[str, dict[str, Any]]:
    product, segment = h.pick(PRODUCTS, "product"), h.pick(SEGMENTS, "segment")
    playbook = h.pick(PLAYBOOKS, "playbook")
    items = {
        "product": ("pr_", product.name, product.summary, persona.focus),
        "segment": ("sg_", segment.name, segment.description, "growth"),
        "playbook": ("pb_", playbook.name, playbook.description, persona.focus),
    }
    sections = {}
    for key, (prefix, name, description, topic) in items.items():
        qualification = _qualification(h, key, company, topic)
        sections[key] = {
            "oId": oid(prefix, name),
            "name": name,
            "description": description,
            "message": f"{company} scores {qualification['score']}/10 on {name}.",
            "qualification": qualification,
        }
    return sections


def _overall(sections: Mapping[str, Mapping[str, Any]], subject: str) -> dict[str, Any]:
    scores = {k: s["qualification"]["score"] for k, s in sections.items()}
    score = round(sum(scores.values()) / len(scores))
    best, worst = max(scores, key=scores.__getitem__), min(scores, key=scores.__getitem__)
    rationale = (
        f"{subject} scores {score}/10: strongest on {sections[best]['name']}, "
        f"weakest on {sections[worst]['name']}."
    )
    return {"score": score, "rationale": rationale, **sections}


def qualify_person(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``qualify-person`` run.

    Args:
        payload: The validated body (person fields).
        h: The body's hash; draws the answers.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"score", "rationale", "product", "segment", "playbook", "person"}``.

    """
    person = who(payload)
    company = person.company or "their company"
    persona, _ = persona_for(person.title, h) if person.title else (h.pick(PERSONAS, "pe"), False)
    subject = f"{person.first or 'This contact'} at {company}"
    data = _overall(_sections(h, company, persona), subject)
    data["person"] = {
        "firstName": person.first,
        "lastName": person.last,
        "title": person.title,
        "profileUrl": person.linkedin,
        "company": {"name": person.company, "domain": person.domain},
    }
    return data, f"Qualified {subject}"


def qualify_company(payload: Mapping[str, Any], h: Hash, _steps: int) -> tuple[Any, str]:
    """Return ``(data, message)`` of a ``qualify-company`` run.

    Args:
        payload: The validated body (``companyDomain`` and/or ``companyName``).
        h: The body's hash; draws the answers.
        _steps: Unused (the shared producer signature).

    Returns:
        ``data`` = ``{"score", "rationale", "product", "segment", "playbook", "company"}``.

    """
    profile = company_profile(payload, h)
    name = profile["name"]
    data = _overall(_sections(h, name, h.pick(PERSONAS, "pe")), name)
    data["company"] = {
        k: profile[k] for k in ("name", "domain", "website", "industry", "employeeCount")
    }
    return data, f"Qualified {name}"
