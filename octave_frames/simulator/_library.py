"""More of the simulated workspace, for the agents beyond the sequence agent.

Plain data, like ``_catalog``: the people a prospector can find, where companies sit,
what they do, the segments and use cases the workspace qualifies against, the questions
it asks, the documents its context agent searches and the objections call prep answers.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "DOCUMENTS",
    "FIRST_NAMES",
    "FUNDING_ROUNDS",
    "INDUSTRIES",
    "INVESTORS",
    "LAST_NAMES",
    "OBJECTIONS",
    "PLACES",
    "QUESTIONS",
    "REFERENCE_CUSTOMERS",
    "SEGMENTS",
    "SKILLS",
    "SPECIALTIES",
    "STREETS",
    "TITLES",
    "USE_CASES",
    "Document",
    "Place",
    "Segment",
    "UseCase",
]


class Place(NamedTuple):
    """Where a company or a person sits."""

    locality: str
    region: str
    country_code: str
    postal_code: str


class Segment(NamedTuple):
    """A market segment the workspace qualifies companies against."""

    name: str
    description: str


class UseCase(NamedTuple):
    """A use case of one of the workspace's products."""

    product: str
    name: str
    description: str


class Document(NamedTuple):
    """A document in the workspace's library, searched by the context agent."""

    name: str
    text: str


FIRST_NAMES: Final = (
    "Avery", "Priya", "Jonas", "Mei", "Tomás", "Fatima", "Liam", "Chloé", "Kenji", "Amara",
    "Noah", "Ingrid", "Mateo", "Zainab", "Oliver", "Sofia", "Arjun", "Hannah", "Diego", "Yara",
)  # fmt: skip
LAST_NAMES: Final = (
    "Okafor", "Lindqvist", "Nakamura", "Patel", "Moreau", "García", "Schneider", "O'Brien",
    "Kowalski", "Haddad", "Chen", "Rossi", "Andersen", "Mensah", "Fischer", "Silva",
)  # fmt: skip
#: Job titles a prospector finds; each matches a persona of ``_catalog.PERSONAS``.
TITLES: Final = (
    "VP of Sales",
    "Head of Revenue Operations",
    "Director of Partnerships",
    "Chief Marketing Officer",
    "Senior Account Executive",
    "Director of Engineering",
    "Head of Demand Generation",
    "Chief Executive Officer",
    "Sales Development Manager",
    "Channel Partner Manager",
    "VP of Engineering",
    "Marketing Operations Analyst",
)
PLACES: Final = (
    Place("San Francisco", "California", "US", "94105"),
    Place("New York", "New York", "US", "10013"),
    Place("Austin", "Texas", "US", "78701"),
    Place("London", "England", "GB", "EC2A 4NE"),
    Place("Berlin", "Berlin", "DE", "10115"),
    Place("Toronto", "Ontario", "CA", "M5V 2T6"),
    Place("Tel Aviv", "Tel Aviv District", "IL", "6789141"),
    Place("Sydney", "New South Wales", "AU", "2000"),
)
STREETS: Final = ("Market Street", "Harbour Road", "King Street", "Innovation Way", "Elm Avenue")
INDUSTRIES: Final = (
    "Software Development",
    "Financial Services",
    "IT Services and IT Consulting",
    "Telecommunications",
    "Retail",
    "Hospitals and Health Care",
    "Industrial Machinery Manufacturing",
)
SPECIALTIES: Final = (
    "Cloud platforms",
    "Customer experience",
    "Data analytics",
    "Workforce engagement",
    "Payments",
    "Security",
    "Artificial intelligence",
    "Supply chain",
)
SKILLS: Final = {
    "Sales Leader": ("Pipeline management", "Forecasting", "Negotiation", "Team building"),
    "Engineering Leader": ("System design", "Cloud architecture", "Hiring", "Reliability"),
    "Marketing Leader": ("Demand generation", "Brand strategy", "Campaigns", "Analytics"),
    "Partnerships Leader": ("Alliances", "Co-selling", "Channel strategy", "Negotiation"),
    "Operations Leader": ("Revenue operations", "CRM", "Process design", "Reporting"),
    "Executive": ("Strategy", "Fundraising", "Leadership", "Go-to-market"),
}
FUNDING_ROUNDS: Final = ("Seed", "Series A", "Series B", "Series C", "Series D")
INVESTORS: Final = (
    "Sequoia Capital",
    "Accel",
    "Index Ventures",
    "Lightspeed Venture Partners",
    "Insight Partners",
    "Balderton Capital",
)
SEGMENTS: Final = (
    Segment("Mid-market SaaS", "Software companies with 200 to 2,000 employees."),
    Segment("Enterprise", "Companies with more than 5,000 employees and a formal buying process."),
    Segment("High-growth startups", "Venture-backed companies that doubled headcount this year."),
)
USE_CASES: Final = (
    UseCase("Signal Studio", "Personalised outbound", "Write outreach grounded in account news."),
    UseCase("Signal Studio", "Event follow-up", "Reach attendees while the event is fresh."),
    UseCase("Pipeline Radar", "Account prioritisation", "Work the accounts showing intent."),
    UseCase("Pipeline Radar", "Forecast hygiene", "Catch deals that have quietly stalled."),
    UseCase("Partner Hub", "Partner co-selling", "Share pipeline with partners in one place."),
    UseCase("Partner Hub", "Partner attribution", "Show the revenue partners influence."),
)
#: Qualifying questions, ``{topic}`` filled with the section's subject.
QUESTIONS: Final = (
    "Does {company} have a team dedicated to {topic}?",
    "Has {company} invested in {topic} in the last year?",
    "Is {topic} a stated priority for {company} this quarter?",
    "Does {company} use a CRM that can sync with {topic} tooling?",
    "Is {company} hiring for roles tied to {topic}?",
    "Would {company} see value within 90 days from better {topic}?",
)
OBJECTIONS: Final = (
    (
        "We already have a tool for this.",
        "Most teams we work with did too; {product} sits beside it and fills the gap in {focus}.",
    ),
    (
        "Now is not a good time.",
        "Understood. A 15-minute look now saves {company} a quarter of {focus} work later.",
    ),
    (
        "We do not have budget.",
        "{product} usually pays for itself in the first quarter; happy to show the numbers.",
    ),
    (
        "Send me some information.",
        "Glad to; which part of {focus} matters most, so I send the right page?",
    ),
)
REFERENCE_CUSTOMERS: Final = (
    ("Contoso", "contoso.example", "Doubled outbound pipeline in two quarters."),
    ("Fabrikam", "fabrikam.example", "Cut research time per account from an hour to minutes."),
    ("Tailspin Toys", "tailspin.example", "Lifted partner-sourced revenue by a third."),
    ("Litware", "litware.example", "Replaced three point tools with one workflow."),
)
DOCUMENTS: Final = (
    Document("Signal Studio one-pager", "Signal Studio turns account research into outreach."),
    Document("Pipeline Radar battlecard", "How Pipeline Radar wins against spreadsheet scoring."),
    Document("Partner Hub case study", "Tailspin Toys grew partner revenue with Partner Hub."),
    Document("Pricing guide", "Per seat, annual; volume tiers from fifty seats."),
    Document("Security overview", "SOC 2 Type II, SSO, data stays in the customer's region."),
    Document("Ideal customer profile", "Mid-market SaaS with a sales team of twenty or more."),
)
