"""The simulator's other agents: shapes, determinism, per-contact content, 400s, billing, async."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from _simkit import client, make

from octave_frames._constants import ASYNC_RUN_PATH, ASYNC_STATUS_PATH, CONFIDENCE_LEVELS
from octave_frames.simulator import Simulator
from octave_frames.simulator._agents import AGENT_TYPES, AGENTS, agent_for

pytestmark = pytest.mark.anyio

NOOP = "https://example.invalid/noop"
PERSON = {
    "agentOId": "ca_JxNickJCXUdxFQe2CFKCF",
    "email": "sarah.jackson@nice.com",
    "firstName": "Sarah",
    "lastName": "Jackson",
    "companyName": "NICE Ltd",
    "companyDomain": "nice.com",
    "jobTitle": "Strategic Alliance Director",
}
OTHER = {
    "agentOId": "ca_JxNickJCXUdxFQe2CFKCF",
    "email": "omar.haddou@globex.io",
    "firstName": "Omar",
    "lastName": "Haddou",
    "companyName": "Globex",
    "companyDomain": "globex.io",
    "jobTitle": "VP of Engineering",
}
COMPANY = {"agentOId": "ca_JxNickJCXUdxFQe2CFKCF", "companyDomain": "nice.com"}
BODIES: dict[str, dict[str, Any]] = {
    "enrich-person": PERSON,
    "enrich-company": {**COMPANY, "companyName": "NICE Ltd", "crmAccountId": "001ABC"},
    "qualify-person": PERSON,
    "qualify-company": {**COMPANY, "companyName": "NICE Ltd"},
    "call-prep": PERSON,
    "generate-content": {**PERSON, "url": "https://nice.com/news", "customContext": "Q3 push"},
    "prospector": {**COMPANY, "limit": 5},
    "context": {
        "agentOId": "ca_JxNickJCXUdxFQe2CFKCF",
        "query": "pricing and security",
        "additionalContext": {"company": {"name": "NICE Ltd", "domain": "nice.com"}},
    },
}
DATA_KEYS = {
    "enrich-person": {"person", "product", "persona", "playbook"},
    "enrich-company": {"company", "product", "persona", "playbook"},
    "qualify-person": {"score", "rationale", "product", "segment", "playbook", "person"},
    "qualify-company": {"score", "rationale", "product", "segment", "playbook", "company"},
    "call-prep": {
        "discoveryQuestions",
        "callScript",
        "personBrief",
        "companyBrief",
        "objectionHandling",
    },
    "generate-content": {
        "content",
        "jsonContent",
        "product",
        "persona",
        "playbook",
        "useCases",
        "referenceCustomers",
    },
    "prospector": {"contacts"},
    "context": {"documents", "reasoning"},
}
PERSON_AGENTS = ("enrich-person", "qualify-person", "call-prep", "generate-content")
COMPANY_AGENTS = ("enrich-company", "qualify-company")


def path(name: str) -> str:
    """Return the sync run path of agent ``name``."""
    return f"/api/v2/agents/{name}/run"


async def run(sim: Simulator, name: str, body: dict[str, Any]) -> httpx.Response:
    """POST one run of agent ``name`` to ``sim``."""
    async with client(sim) as c:
        return await c.post(path(name), json=body)


async def data_of(sim: Simulator, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run agent ``name`` and return its ``data``, checking the answer is a found 200."""
    answer = await run(sim, name, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["found"] is True
    data: dict[str, Any] = answer.json()["data"]
    return data


# -- shapes -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BODIES))
async def test_every_agent_answers_the_envelope_with_its_documented_data(name: str) -> None:
    """Each agent answers 200 with the sync envelope, one credit of usage and its data keys."""
    answer = await run(make(), name, BODIES[name])
    assert answer.status_code == 200, answer.text
    payload = answer.json()
    assert set(payload) == {"_metadata", "found", "message", "data"}
    assert set(payload["_metadata"]) == {"requestId", "timestamp", "usage", "message"}
    assert payload["_metadata"]["usage"] == 1
    assert payload["found"] is True and isinstance(payload["message"], str)
    assert DATA_KEYS[name] <= set(payload["data"])


async def test_enrich_person_returns_a_profile_naming_the_person_and_company() -> None:
    """enrich-person's person has every documented field, typed, and its summary names them."""
    data = await data_of(make(), "enrich-person", PERSON)
    person = data["person"]
    assert set(person) == {
        "firstName",
        "lastName",
        "title",
        "headline",
        "summary",
        "location",
        "linkedInProfile",
        "seniority",
        "department",
        "skills",
    }
    assert (person["firstName"], person["lastName"]) == ("Sarah", "Jackson")
    assert person["title"] == PERSON["jobTitle"] and person["seniority"] == "Director"
    assert "Sarah" in person["summary"] and "NICE Ltd" in person["summary"]
    assert person["skills"] and all(isinstance(s, str) for s in person["skills"])
    for section in ("product", "persona", "playbook"):
        assert data[section]["matchConfidence"] in CONFIDENCE_LEVELS
        assert isinstance(data[section]["matchAnalysis"], str)
    if "useCase" in data:
        assert data["useCase"]["matchConfidence"] in CONFIDENCE_LEVELS


async def test_enrich_person_from_an_email_alone_finds_the_name_and_company() -> None:
    """An email is enough: the name comes from its local part, the company from its domain."""
    body = {"agentOId": "ca_x1", "email": "li.wei@acme-robotics.com"}
    person = (await data_of(make(), "enrich-person", body))["person"]
    assert (person["firstName"], person["lastName"]) == ("Li", "Wei")
    assert "Acme Robotics" in person["headline"] and person["title"]


async def test_enrich_company_returns_every_documented_company_field() -> None:
    """enrich-company's company carries the documented fields, location and funding rounds."""
    company = (await data_of(make(), "enrich-company", BODIES["enrich-company"]))["company"]
    assert {
        "name",
        "description",
        "domain",
        "website",
        "founded",
        "location",
        "employeeCount",
        "followerCount",
        "type",
        "slug",
        "logoUrl",
        "specialties",
        "industry",
        "crunchBaseFunding",
    } == set(company)
    assert set(company["location"]) == {
        "region",
        "locality",
        "postalCode",
        "countryCode",
        "streetAddress",
    }
    assert company["name"] == "NICE Ltd" and company["domain"] == "nice.com"
    assert "NICE Ltd" in company["description"] and "nice.com" in company["description"]
    assert isinstance(company["employeeCount"], int) and isinstance(company["founded"], int)
    for funding in company["crunchBaseFunding"]:
        assert {"roundName", "roundDate", "roundAmount", "roundCurrency", "investorNames"} == set(
            funding
        )


async def test_company_facts_hash_from_the_domain_so_agents_agree() -> None:
    """enrich-company, qualify-company and call-prep describe nice.com the same way."""
    sim = make()
    company = (await data_of(sim, "enrich-company", BODIES["enrich-company"]))["company"]
    qualified = (await data_of(sim, "qualify-company", BODIES["qualify-company"]))["company"]
    brief = (await data_of(sim, "call-prep", PERSON))["companyBrief"]
    assert qualified["industry"] == company["industry"]
    assert qualified["employeeCount"] == company["employeeCount"]
    assert brief == company["description"]


@pytest.mark.parametrize("name", ["qualify-person", "qualify-company"])
async def test_qualification_scores_and_answers_are_within_their_ranges(name: str) -> None:
    """Scores are 1-10, each section answers 3-5 Yes/No questions with a known confidence."""
    data = await data_of(make(), name, BODIES[name])
    assert isinstance(data["score"], int) and 1 <= data["score"] <= 10
    for section in ("product", "segment", "playbook"):
        part = data[section]
        assert {"oId", "name", "description", "message", "qualification"} <= set(part)
        qualification = part["qualification"]
        assert 1 <= qualification["score"] <= 10
        assert 3 <= len(qualification["answers"]) <= 5
        for answer in qualification["answers"]:
            assert answer["answer"] in ("Yes", "No")
            assert answer["confidence"] in ("HIGH", "MEDIUM", "LOW")
            assert "NICE Ltd" in answer["question"]
    subject = data["person"] if name == "qualify-person" else data["company"]
    assert "NICE Ltd" in json.dumps(subject)


async def test_call_prep_briefs_the_person_and_lists_objections() -> None:
    """call-prep's questions, script and briefs are strings naming the contact."""
    data = await data_of(make(), "call-prep", PERSON)
    assert 4 <= len(data["discoveryQuestions"]) <= 5
    assert data["callScript"].startswith("Hi Sarah,")
    assert "Sarah Jackson" in data["personBrief"] and "NICE Ltd" in data["personBrief"]
    assert data["objectionHandling"]
    assert all(set(o) == {"objection", "response"} for o in data["objectionHandling"])


async def test_generate_content_fills_json_content_only_for_json_output() -> None:
    """The jsonContent field is null for text output and an object naming the recipient for JSON."""
    sim = make()
    text = await data_of(sim, "generate-content", BODIES["generate-content"])
    as_json = await data_of(sim, "generate-content", {**PERSON, "outputFormat": "JSON"})
    assert text["jsonContent"] is None
    assert "NICE Ltd" in text["content"] and "Q3 push" in text["content"]
    assert "https://nice.com/news" in text["content"]
    assert as_json["jsonContent"]["recipient"] == {"firstName": "Sarah", "companyName": "NICE Ltd"}
    assert text["useCases"] and text["referenceCustomers"]


async def test_prospector_finds_people_at_the_domain_within_the_limit() -> None:
    """Contacts are at the asked domain, at most ``limit``, and a smaller limit is a prefix."""
    sim = make()
    five = (await data_of(sim, "prospector", BODIES["prospector"]))["contacts"]
    two = (await data_of(sim, "prospector", {**COMPANY, "limit": 2}))["contacts"]
    default = (await data_of(sim, "prospector", COMPANY))["contacts"]
    assert 1 <= len(five) <= 5 and len(default) <= 10
    assert two == five[:2] == default[:2]
    for person in five:
        assert set(person) == {
            "firstName",
            "lastName",
            "title",
            "email",
            "linkedInProfile",
            "location",
            "companyName",
            "companyDomain",
        }
        assert person["email"].endswith("@nice.com") and person["companyDomain"] == "nice.com"


async def test_prospector_search_context_filters_titles_and_minimal_false_adds_fields() -> None:
    """The excludeTitles filter drops titles; minimal: false adds headline, seniority, persona."""
    sim = make()
    body = {**COMPANY, "limit": 50, "minimal": False, "searchContext": {"excludeTitles": ["vp"]}}
    contacts = (await data_of(sim, "prospector", body))["contacts"]
    assert contacts and not any("vp" in c["title"].lower() for c in contacts)
    assert all({"headline", "seniority", "persona"} <= set(c) for c in contacts)
    exact = {**COMPANY, "limit": 50, "searchContext": {"exactTitles": ["chief executive officer"]}}
    answer = (await run(sim, "prospector", exact)).json()
    titles = {c["title"] for c in answer["data"]["contacts"]}
    assert titles <= {"Chief Executive Officer"}
    assert answer["found"] is bool(titles)


async def test_context_ranks_documents_best_first() -> None:
    """The context agent returns 2-4 documents, best score first, and reasoning naming the query."""
    data = await data_of(make(), "context", BODIES["context"])
    documents = data["documents"]
    assert 2 <= len(documents) <= 4
    assert all(set(d) == {"id", "name", "data", "score", "reasoning"} for d in documents)
    scores = [d["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)
    assert "pricing and security" in data["reasoning"] and "NICE Ltd" in data["reasoning"]


# -- determinism and per-contact content -----------------------------------------------------
@pytest.mark.parametrize("name", sorted(BODIES))
async def test_the_same_input_gets_the_same_data_in_a_fresh_simulator(name: str) -> None:
    """Two simulators with the same seed give one body the same data."""
    first = await data_of(make(), name, BODIES[name])
    again = await data_of(make(), name, BODIES[name])
    assert first == again


@pytest.mark.parametrize("name", PERSON_AGENTS)
async def test_each_person_gets_an_answer_about_themselves(name: str) -> None:
    """Two people's answers each name their own first name and company, never the other's."""
    sim = make()
    sarah = json.dumps(await data_of(sim, name, {**BODIES[name], **PERSON}))
    omar = json.dumps(await data_of(sim, name, {**BODIES[name], **OTHER}))
    assert "Sarah" in sarah and "NICE Ltd" in sarah
    assert "Omar" in omar and "Globex" in omar
    assert "Omar" not in sarah and "Globex" not in sarah
    assert "Sarah" not in omar and "NICE Ltd" not in omar


@pytest.mark.parametrize("name", [*COMPANY_AGENTS, "prospector"])
async def test_each_company_gets_an_answer_about_itself(name: str) -> None:
    """Two companies' answers each name their own domain, never the other's."""
    sim = make()
    nice = json.dumps(await data_of(sim, name, BODIES[name]))
    globex = json.dumps(await data_of(sim, name, {**BODIES[name], "companyDomain": "globex.io"}))
    assert "nice.com" in nice and "globex.io" not in nice
    assert "globex.io" in globex and "nice.com" not in globex


# -- bad requests ---------------------------------------------------------------------------
BAD = [
    ("enrich-person", {"agentOId": "ca_x", "firstName": "Sarah"}, "needs an email"),
    ("qualify-person", {"agentOId": "ca_x", "jobTitle": "CTO"}, "needs an email"),
    ("call-prep", {"agentOId": "ca_x", "companyName": "NICE Ltd"}, "needs an email"),
    ("enrich-company", {"agentOId": "ca_x", "crmAccountId": "1"}, "companyDomain or companyName"),
    ("qualify-company", {"agentOId": "ca_x"}, "companyDomain or companyName"),
    ("generate-content", {"agentOId": "ca_x", "url": "https://x.example"}, "needs a person"),
    ("generate-content", {**PERSON, "outputFormat": "PDF"}, "outputFormat"),
    ("prospector", {"agentOId": "ca_x", "companyName": "NICE Ltd"}, "companyDomain is required"),
    ("prospector", {**COMPANY, "limit": 0}, "limit must be an integer from 1 to 1000"),
    ("prospector", {**COMPANY, "limit": 1001}, "limit must be an integer from 1 to 1000"),
    ("prospector", {**COMPANY, "limit": True}, "limit must be an integer"),
    ("prospector", {**COMPANY, "searchContext": ["vp"]}, "searchContext must be an object"),
    ("context", {"agentOId": "ca_x"}, "query is required"),
    ("context", {"agentOId": "ca_x", "query": "q", "additionalContext": 3}, "additionalContext"),
    ("enrich-person", {"email": "a@b.com"}, "agentOId"),
]


@pytest.mark.parametrize(("name", "body", "fragment"), BAD)
async def test_missing_or_bad_fields_are_400s_naming_them_and_not_billed(
    name: str, body: dict[str, Any], fragment: str
) -> None:
    """A body without what the agent needs is a 400 whose message names it; nothing is billed."""
    sim = make()
    answer = await run(sim, name, body)
    assert answer.status_code == 400
    assert fragment in answer.json()["message"]
    assert sim.counters.billed == 0 and sim.counters.by_status == {400: 1}


async def test_an_unknown_agent_id_is_a_404_on_every_agent() -> None:
    """An id that is not ``ca_…`` is "Agent not found" on the new agents too."""
    answer = await run(make(), "enrich-company", {**COMPANY, "agentOId": "nope"})
    assert answer.status_code == 404 and answer.json()["message"] == "Agent not found"


# -- billing, counters, found: false, pipeline ------------------------------------------------
async def test_each_run_bills_one_credit_and_counts_as_an_agent_request() -> None:
    """Every agent run is one billed call, one credit, one agent request, one 200."""
    sim = make(credits=100)
    for name, body in BODIES.items():
        assert (await run(sim, name, body)).status_code == 200
    counters = sim.counters
    assert counters.billed == counters.unique_billed == len(BODIES)
    assert counters.agent_requests == len(BODIES) and counters.by_status == {200: len(BODIES)}
    assert counters.credits_remaining == 100 - len(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_an_invalid_domain_is_found_false_and_free(name: str) -> None:
    """A ``.invalid`` domain answers 200 ``found: false``, usage 0, unbilled; prospector: []."""
    body = {**BODIES[name], "companyDomain": "ghost.invalid", "email": "x@ghost.invalid"}
    if name == "context":
        body = {**BODIES[name], "additionalContext": {"company": {"domain": "ghost.invalid"}}}
    sim = make()
    answer = await run(sim, name, body)
    assert answer.status_code == 200
    payload = answer.json()
    assert payload["found"] is False and payload["_metadata"]["usage"] == 0
    assert payload["data"] == ({"contacts": []} if name == "prospector" else None)
    assert sim.counters.billed == 0


async def test_prospector_drops_a_share_of_domains_by_hash() -> None:
    """With not_found_rate, some domains (the same ones every time) have nobody to find."""
    sim = make(not_found_rate=0.3)
    found = []
    for i in range(40):
        answer = (await run(sim, "prospector", {**COMPANY, "companyDomain": f"d{i}.com"})).json()
        found.append(answer["found"])
        assert answer["found"] is bool(answer["data"]["contacts"])
    again = [
        (
            await run(
                make(not_found_rate=0.3), "prospector", {**COMPANY, "companyDomain": "d0.com"}
            )
        ).json()["found"]
    ]
    assert 0 < found.count(False) < 40 and again == found[:1]


async def test_agents_share_auth_and_scripted_faults() -> None:
    """No key is a 401; ``fail_next`` answers a new agent with the scripted status, unbilled."""
    sim = make()
    async with httpx.AsyncClient(transport=sim.transport(), base_url="http://sim") as bare:
        assert (await bare.post(path("call-prep"), json=PERSON)).status_code == 401
    sim.fail_next(1, 503, retry_after=2)
    answer = await run(sim, "qualify-company", BODIES["qualify-company"])
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert sim.counters.billed == 0


async def test_agents_share_one_rate_limit_per_key() -> None:
    """The key's rate limit counts every agent: a second agent's call in the same instant is 429."""
    sim = make(rate=1, burst=1, clock=lambda: 100.0)
    first = await run(sim, "enrich-person", PERSON)
    second = await run(sim, "prospector", BODIES["prospector"])
    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["retry-after"] == "1" and sim.counters.billed == 1


@pytest.mark.parametrize("kind", AGENT_TYPES)
def test_every_agent_type_has_a_self_describing_id_and_an_agent_type_name(kind: str) -> None:
    """``ca_<type>_…`` and ``agentType`` (any case) both select the agent of that type."""
    by_id = agent_for({"agentOId": f"ca_{kind.lower()}_Zq9"})
    by_type = agent_for({"agentOId": "ca_plain", "agentType": kind.lower()})
    assert by_id is by_type is AGENTS[kind]
    assert agent_for({"agentOId": "ca_JxNickJCXUdxFQe2CFKCF"}) is AGENTS["EMAIL"]


# -- async ----------------------------------------------------------------------------------
async def poll_result(c: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """Submit ``body`` to the async agent endpoint and return the finished job's result."""
    submitted = await c.post(ASYNC_RUN_PATH, json={**body, "callbackUrl": NOOP})
    assert submitted.status_code == 200, submitted.text
    rid = submitted.json()["requestId"]
    with anyio.fail_after(3):
        while True:
            data = (await c.get(ASYNC_STATUS_PATH, params={"requestId": rid})).json()["data"]
            if data["result"] is not None:
                result: dict[str, Any] = data["result"]
                return result
            await anyio.sleep(0.01)


async def test_a_self_describing_agent_id_runs_that_agent_async() -> None:
    """``ca_enrich_company_…`` on the async endpoint gives the sync enrich-company data."""
    body = {**BODIES["enrich-company"], "agentOId": "ca_enrich_company_Nw1"}
    sim = make(job_duration=(0, 0))
    async with client(sim) as c:
        result = await poll_result(c, body)
        sync = (await c.post(path("enrich-company"), json=body)).json()
    assert result["found"] is True and result["data"] == sync["data"]
    assert sim.counters.billed == 2 and sim.counters.submissions == 1


async def test_agent_type_overrides_the_id_and_a_bad_type_is_a_400() -> None:
    """``agentType`` picks the agent for a plain id; an unknown type is a 400 listing them."""
    sim = make(job_duration=(0, 0))
    async with client(sim) as c:
        result = await poll_result(c, {**PERSON, "agentType": "QUALIFY_PERSON"})
        bad = await c.post(
            ASYNC_RUN_PATH, json={**PERSON, "agentType": "POEM", "callbackUrl": NOOP}
        )
        missing = await c.post(
            ASYNC_RUN_PATH,
            json={"agentOId": "ca_prospector_1", "companyName": "NICE", "callbackUrl": NOOP},
        )
    assert 1 <= result["data"]["score"] <= 10 and "person" in result["data"]
    assert bad.status_code == 400 and "QUALIFY_COMPANY" in bad.json()["message"]
    assert missing.status_code == 400 and "companyDomain" in missing.json()["message"]


async def test_an_async_prospector_with_nobody_to_find_ends_found_false() -> None:
    """An async prospector run for a ``.invalid`` domain ends with an empty contact list."""
    body = {"agentOId": "ca_prospector_Nw1", "companyDomain": "ghost.invalid"}
    sim = make(job_duration=(0, 0))
    async with client(sim) as c:
        result = await poll_result(c, body)
    assert result["found"] is False and result["data"] == {"contacts": []}
    assert sim.counters.billed == 0


async def test_one_client_id_on_two_agents_is_two_requests_a_resend_is_a_duplicate() -> None:
    """The same x-external-request-id enriching then qualifying is not a duplicate; a resend is."""
    sim = make()
    headers = {"x-external-request-id": "row-7"}
    async with client(sim) as c:
        for name in ("enrich-person", "qualify-person", "qualify-person"):
            assert (await c.post(path(name), json=PERSON, headers=headers)).status_code == 200
    assert sim.counters.billed == 3 and sim.counters.duplicates == 1
