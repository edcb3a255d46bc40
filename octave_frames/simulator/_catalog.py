"""The simulated workspace's library: products, personas, playbooks and phrasing.

Plain data, so the generator in ``_content`` stays about logic. The sender is a
fictional company, Northwind Signal, selling to go-to-market teams.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "CLOSINGS",
    "CTAS",
    "OPENINGS",
    "PERSONAS",
    "PLAYBOOKS",
    "PRODUCTS",
    "PS_LINES",
    "SENDER",
    "SUBJECTS",
    "Persona",
    "Playbook",
    "Product",
]

SENDER: Final = ("Morgan Reyes", "Account Executive, Northwind Signal")


class Product(NamedTuple):
    """A product the workspace sells."""

    name: str
    internal_name: str
    summary: str
    url: str
    value_props: tuple[str, ...]
    capabilities: tuple[str, ...]


class Persona(NamedTuple):
    """A buyer persona, matched from the contact's job title."""

    name: str
    internal_name: str
    keywords: tuple[str, ...]
    focus: str
    pain: str


class Playbook(NamedTuple):
    """A go-to-market playbook."""

    name: str
    description: str
    insight: str


PRODUCTS: Final = (
    Product(
        "Signal Studio",
        "signal-studio",
        "Turns account research and buying signals into personalised outreach.",
        "https://northwind.example/signal-studio",
        (
            "Reps spend their time on conversations, not on research",
            "Every email is grounded in what the account is actually doing",
            "Pipeline from outbound doubles without adding headcount",
        ),
        ("Signal capture", "Account research", "Sequence generation"),
    ),
    Product(
        "Pipeline Radar",
        "pipeline-radar",
        "Scores accounts on intent so teams work the ones that are ready to buy.",
        "https://northwind.example/pipeline-radar",
        (
            "Forecasts stop depending on gut feel",
            "The top tenth of accounts gets the attention it deserves",
            "Marketing and sales agree on what a good account looks like",
        ),
        ("Intent scoring", "Account prioritisation", "CRM sync"),
    ),
    Product(
        "Partner Hub",
        "partner-hub",
        "Runs co-selling with partners from one shared workspace.",
        "https://northwind.example/partner-hub",
        (
            "Partner-sourced deals close faster",
            "Partners get the context they need without a weekly sync",
            "Alliances can show the revenue they influence",
        ),
        ("Shared pipeline", "Partner enablement", "Attribution"),
    ),
)

PERSONAS: Final = (
    Persona(
        "Sales Leader",
        "Sally the Sales Leader",
        ("sales", "revenue", "cro", "account", "accounts", "business development", "sdr", "bdr"),
        "pipeline quality",
        "are asked for more pipeline with the same team",
    ),
    Persona(
        "Engineering Leader",
        "Eddie the Engineering Leader",
        ("engineer", "engineering", "cto", "technology", "developer", "platform", "architect"),
        "platform reliability",
        "are balancing roadmap work against keeping the platform steady",
    ),
    Persona(
        "Marketing Leader",
        "Maya the Marketing Leader",
        ("marketing", "growth", "brand", "demand", "content", "cmo"),
        "demand generation",
        "need campaigns that turn into meetings, not just clicks",
    ),
    Persona(
        "Partnerships Leader",
        "Pat the Partnerships Leader",
        ("alliance", "alliances", "partner", "partners", "partnerships", "channel", "ecosystem"),
        "partner-led growth",
        "are scaling partner programs faster than the tooling behind them",
    ),
    Persona(
        "Operations Leader",
        "Olly the Operations Leader",
        ("operations", "ops", "revops", "enablement", "analyst", "analytics"),
        "go-to-market efficiency",
        "are stitching together data from too many tools",
    ),
    Persona(
        "Executive",
        "Erin the Executive",
        ("ceo", "founder", "president", "owner", "chief", "managing director"),
        "efficient growth",
        "want growth that does not depend on hiring ahead of revenue",
    ),
)

PLAYBOOKS: Final = (
    Playbook(
        "Event Follow-up",
        "Follow up with people who attended or engaged with an event.",
        "Reference the session they attended, not the event in general.",
    ),
    Playbook(
        "New Leadership",
        "Reach leaders in their first 90 days in a role.",
        "New leaders are expected to change things; offer a quick win.",
    ),
    Playbook(
        "Hiring Signal",
        "Reach teams that are hiring for roles our product supports.",
        "A hiring spree means the current process does not scale.",
    ),
    Playbook(
        "Competitive Displacement",
        "Reach accounts running a competing tool near renewal.",
        "Lead with what changes on day one, not with a feature list.",
    ),
)

SUBJECTS: Final = (
    "Idea for {company}",
    "{first}, a question about {focus}",
    "{company} and {product}",
    "Following up on {focus}",
    "A thought on {focus} at {company}",
    "Worth a look, {first}?",
    "Closing the loop on {focus}",
)

OPENINGS: Final = (
    "As {title} at {company}, you are probably close to {focus}.",
    "I have been following {company} and how its team approaches {focus}.",
    "Most people working as {title} I talk to {pain}.",
    "I work with teams that {pain}.",
)

CLOSINGS: Final = (
    "Either way, I hope the quarter is going well.",
    "Happy to share what worked for similar teams.",
    "No pressure if the timing is off.",
    "I will keep this short from here on.",
)

CTAS: Final = (
    "Would a 15-minute call next week be useful?",
    "Worth a quick look together?",
    "Open to comparing notes on Thursday?",
    "Should I send over a two-minute walkthrough?",
    "Who on your team owns this today?",
)

PS_LINES: Final = (
    "P.S. The walkthrough takes two minutes and needs no login.",
    "P.S. Teams like yours usually see results in the first month.",
    "P.S. Happy to send a short case study first if that is easier.",
)
