"""Every Octave agent the simulator runs, each one declaration.

An :class:`Agent` says which path it answers (``POST /api/v2/agents/<name>/run``), what
its body needs (a person, a company, a domain, a query), how it answers and what "no
match" looks like. The app turns each into a sync endpoint with the shared pipeline
(auth, faults, limits, latency, billing, counters).

The async endpoint (``POST /api/v2/async/agent/run``) runs whichever agent the body
names: ``agentType`` (``PROSPECTOR``, ``CONTENT``, ``EMAIL``, ``ENRICH_PERSON``,
``ENRICH_COMPANY``, ``QUALIFY_PERSON``, ``QUALIFY_COMPANY``, ``CALL_PREP``, ``CONTEXT``)
when given, else the ``agentOId`` itself: the simulator's agent ids are self-describing,
``ca_<type in lower case>_…`` (``ca_enrich_person_x1``, ``ca_qualify_company_x2``,
``ca_content_x3``), as Octave knows each saved agent's type from its id. Any other
``ca_…`` id is a Sequence Agent (``EMAIL``), as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._constants import OUTPUT_FORMATS
from ._briefs import call_prep, context, generate_content, prospector, prospects
from ._content import Hash, sequence_data, text
from ._http import agent_body_problem, is_unmatched
from ._jobs import NO_MATCH
from ._profiles import (
    domain_of,
    enrich_company,
    enrich_person,
    qualify_company,
    qualify_person,
)

__all__ = [
    "AGENTS",
    "AGENT_TYPES",
    "ASYNC_AGENT",
    "Agent",
    "Needs",
    "Nothing",
    "Produce",
    "Unmatched",
    "agent_for",
    "async_agent_problem",
    "billing_scope",
    "no_match",
]

Produce = Callable[[Mapping[str, Any], Hash, int], tuple[Any, str]]
Unmatched = Callable[[Mapping[str, Any], Hash, float], bool]
Nothing = Callable[[Mapping[str, Any]], tuple[Any, str]]
#: What an agent's body must identify: ``None`` (the sequence agent checks no contact).
Needs = Literal["person", "company", "domain", "query", "contact"] | None

_OBJECTS: Final = ("runtimeContext", "runtimeInstructions", "customContext")
_LIMIT: Final = (1, 1000)


def no_match(_body: Mapping[str, Any]) -> tuple[Any, str]:
    """Return the ``(data, message)`` of a ``found: false`` answer: no data."""
    return None, NO_MATCH


def _filled(body: Mapping[str, Any], *keys: str) -> bool:
    return any(text(body, k) for k in keys)


def _needs_problem(needs: Needs, name: str, body: Mapping[str, Any]) -> str | None:
    person = _filled(body, "email", "linkedInProfile") or (
        _filled(body, "firstName") and _filled(body, "companyName", "companyDomain")
    )
    company = _filled(body, "companyDomain", "companyName")
    if needs == "person" and not person:
        return f"{name} needs an email, a linkedInProfile, or firstName with companyName"
    if needs == "company" and not company:
        return f"{name} needs companyDomain or companyName"
    if needs == "domain" and not _filled(body, "companyDomain"):
        return f"companyDomain is required for {name}"
    if needs == "query" and not (isinstance(body.get("query"), str) and text(body, "query")):
        return "query is required and must be a non-empty string"
    if needs == "contact" and not (person or company):
        return f"{name} needs a person (email, linkedInProfile) or a company (companyDomain)"
    return None


@dataclass(frozen=True, slots=True)
class Agent:
    """One Octave agent: its type, its path, what its body needs and how it answers."""

    type: str
    name: str
    produce: Produce
    needs: Needs = None
    formats: tuple[str, ...] = OUTPUT_FORMATS
    objects: tuple[str, ...] = _OBJECTS
    check: Callable[[Mapping[str, Any]], str | None] = lambda _body: None
    unmatched: Unmatched = is_unmatched
    nothing: Nothing = no_match

    @property
    def path(self) -> str:
        """The sync run path, ``/api/v2/agents/<name>/run``."""
        return f"/api/v2/agents/{self.name}/run"

    def problem(self, body: object, *, async_run: bool) -> str | None:
        """Return why ``body`` cannot run this agent (naming the field), or ``None``."""
        basic = agent_body_problem(
            body, async_run=async_run, formats=self.formats, objects=self.objects
        )
        if basic is not None or not isinstance(body, dict):
            return basic
        return _needs_problem(self.needs, self.name, body) or self.check(body)


def _sequence(body: Mapping[str, Any], h: Hash, steps: int) -> tuple[Any, str]:
    return sequence_data(body, h, steps), f"Generated a {steps}-step sequence"


def _prospector_check(body: Mapping[str, Any]) -> str | None:
    limit, minimal = body.get("limit"), body.get("minimal")
    low, high = _LIMIT
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not low <= limit <= high
    ):
        return f"limit must be an integer from {low} to {high}, got {limit!r}"
    if minimal is not None and not isinstance(minimal, bool):
        return f"minimal must be true or false, got {minimal!r}"
    return None


def _prospector_unmatched(body: Mapping[str, Any], h: Hash, rate: float) -> bool:
    """A ``.invalid`` domain, a domain drawn as unknown, or no one left after filters."""
    domain = domain_of(text(body, "companyDomain"))
    if domain.endswith(".invalid") or h.sub({"prospector": domain}).unit("found") < rate:
        return True
    return not prospects(body, h)


def _no_contacts(body: Mapping[str, Any]) -> tuple[Any, str]:
    return {"contacts": []}, f"No contacts found at {domain_of(text(body, 'companyDomain'))}"


def _content_check(body: Mapping[str, Any]) -> str | None:
    custom = body.get("customContext")
    if custom is not None and not isinstance(custom, (str, dict)):
        return "customContext must be a string or an object"
    return None


def _context_unmatched(body: Mapping[str, Any], h: Hash, rate: float) -> bool:
    # The context agent's contact, if any, sits in additionalContext{person, company}.
    extra = body.get("additionalContext")
    extra = extra if isinstance(extra, Mapping) else {}
    person, company = extra.get("person"), extra.get("company")
    flat = {
        "email": person.get("email") if isinstance(person, Mapping) else None,
        "companyDomain": company.get("domain") if isinstance(company, Mapping) else None,
    }
    return is_unmatched(flat, h, rate)


_CONTENT_FORMATS: Final = tuple(
    f for lower in (*OUTPUT_FORMATS, "json") for f in (lower, lower.upper())
)

AGENTS: Final[Mapping[str, Agent]] = {
    agent.type: agent
    for agent in (
        Agent("EMAIL", "sequence", _sequence),
        Agent("ENRICH_PERSON", "enrich-person", enrich_person, "person"),
        Agent("ENRICH_COMPANY", "enrich-company", enrich_company, "company"),
        Agent("QUALIFY_PERSON", "qualify-person", qualify_person, "person"),
        Agent("QUALIFY_COMPANY", "qualify-company", qualify_company, "company"),
        Agent("CALL_PREP", "call-prep", call_prep, "person"),
        Agent(
            "CONTENT",
            "generate-content",
            generate_content,
            "contact",
            formats=_CONTENT_FORMATS,
            objects=("runtimeContext", "runtimeInstructions"),
            check=_content_check,
        ),
        Agent(
            "PROSPECTOR",
            "prospector",
            prospector,
            "domain",
            objects=(*_OBJECTS, "searchContext"),
            check=_prospector_check,
            unmatched=_prospector_unmatched,
            nothing=_no_contacts,
        ),
        Agent(
            "CONTEXT",
            "context",
            context,
            "query",
            objects=(*_OBJECTS, "additionalContext"),
            unmatched=_context_unmatched,
        ),
    )
}
#: Octave's agent types, as its n8n node lists them.
AGENT_TYPES: Final = tuple(AGENTS)
# Longest prefix first, so no type's prefix can shadow a longer one.
_BY_PREFIX: Final = sorted(
    ((f"ca_{t.lower()}_", a) for t, a in AGENTS.items()), key=lambda pair: -len(pair[0])
)


def agent_for(body: Mapping[str, Any]) -> Agent | None:
    """Return the agent an async body runs; ``None`` when its ``agentType`` is unknown.

    Args:
        body: The async run's body.

    Returns:
        The agent ``agentType`` names, else the one ``agentOId``'s ``ca_<type>_`` prefix
        names, else the Sequence Agent.

    """
    named = body.get("agentType")
    if named is not None:
        return AGENTS.get(str(named).upper())
    oid = str(body.get("agentOId") or "").lower()
    return next((agent for prefix, agent in _BY_PREFIX if oid.startswith(prefix)), AGENTS["EMAIL"])


def _resolved(body: Mapping[str, Any]) -> Agent:
    # Only called on bodies async_agent_problem accepted, where agent_for is never None.
    return agent_for(body) or AGENTS["EMAIL"]


def async_agent_problem(body: object) -> str | None:
    """Return why an async agent body is unacceptable (for the agent it names), or ``None``."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    agent = agent_for(body)
    if agent is None:
        return f"agentType must be one of {', '.join(AGENT_TYPES)}, got {body['agentType']!r}"
    return agent.problem(body, async_run=True)


#: The async endpoint's producer, "no match" test and empty answer: the named agent's.
ASYNC_AGENT: Final = Agent(
    "ASYNC",
    "async",
    lambda body, h, steps: _resolved(body).produce(body, h, steps),
    unmatched=lambda body, h, rate: _resolved(body).unmatched(body, h, rate),
    nothing=lambda body: _resolved(body).nothing(body),
)


def billing_scope(agent: Agent, body: Mapping[str, Any]) -> str:
    """Return what tells apart two agents' runs of one body (or one client id) in billing.

    The same contact enriched and then qualified is two requests, not a duplicate. The
    Sequence Agent keeps the bare key it always had (``""``).
    """
    real = _resolved(body) if agent is ASYNC_AGENT else agent
    return "" if real.type == "EMAIL" else f"{real.type}|"
