"""The public calls of every agent besides the Sequence Agent, and of workflows.

Each is made from its endpoint's declaration (``_agents``): the sync and the async form,
its real signature and documented arguments (`takes`), and a docstring saying what it
needs and which columns it adds. Nothing here differs per agent but words.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

import pandas as pd

from ._agents import (
    CALL_PREP,
    CONTENT,
    ENRICH_COMPANY,
    ENRICH_PERSON,
    PROSPECT,
    QUALIFY_COMPANY,
    QUALIFY_PERSON,
    ROW_COLUMN,
    WORKFLOW,
    agent_endpoint,
    generic_agent,
)
from ._arguments import Arg, takes
from ._endpoints import Endpoint
from ._mapping import NEEDS_TEXT, Needs
from ._options import call_args
from ._run import arun
from ._sync import run_sync

__all__ = [
    "acall_prep",
    "acontent",
    "aenrich_company",
    "aenrich_person",
    "aprospect",
    "aqualify_company",
    "aqualify_person",
    "arun_agent",
    "aworkflow",
    "call_prep",
    "content",
    "enrich_company",
    "enrich_person",
    "prospect",
    "qualify_company",
    "qualify_person",
    "run_agent",
    "workflow",
]

Sync = Callable[..., pd.DataFrame]
Async = Callable[..., Coroutine[Any, Any, pd.DataFrame]]


def _doc(endpoint: Endpoint, what: str, example: str) -> str:
    return f"""{what}

    Each row needs {NEEDS_TEXT[endpoint.needs]}; rows without are ``invalid`` and not sent.
    The step's own run columns are ``{endpoint.stem}_status``, ``{endpoint.stem}_error``,
    ``{endpoint.stem}_note``, ``{endpoint.stem}_request_id`` (``{endpoint.stem}_run_id`` in
    async mode) and ``{endpoint.stem}_usage``, so it chains with the other steps on one
    frame; answers are kept in the ledger, so a re-run resumes and pays for nothing twice.

    Args:
        frame: The rows.
        **kwargs: The keyword-only arguments below.

    Returns:
        A new frame: the input columns, then the run columns and the result columns
        (README, "Every agent").

    Example:
        >>> {example}

    """


def _calls(endpoint: Endpoint, what: str, example: str) -> tuple[Sync, Async]:
    """The sync and async public calls of ``endpoint``."""
    args: tuple[Arg, ...] = call_args(endpoint)
    if endpoint.modes == ("async",):
        args = tuple(a for a in args if a.name != "mode")

    async def acall(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        return await arun(frame, kwargs, endpoint=endpoint, args=args)

    def call(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        return run_sync(lambda: acall(frame, **kwargs))

    call.__doc__ = _doc(endpoint, what, example)
    acall.__doc__ = _doc(endpoint, f"Async form of `{endpoint.name}`: the same, awaited.", example)
    for func, name in ((call, endpoint.name), (acall, f"a{endpoint.name}")):
        func.__name__ = func.__qualname__ = name
        func.__module__ = "octave_frames"
        takes(args)(func)
    return call, acall


enrich_person, aenrich_person = _calls(
    ENRICH_PERSON,
    "Enrich every person: profile, summary, and the product, persona, use case and "
    "playbook they match (``person_*`` columns).",
    'people.octave.enrich_person(agent="ca_...").person_summary',
)
enrich_company, aenrich_company = _calls(
    ENRICH_COMPANY,
    "Enrich every company: description, size, location, funding, and what it matches "
    "(``company_*`` columns).",
    'accounts.octave.enrich_company(agent="ca_...").company_employee_count',
)
qualify_person, aqualify_person = _calls(
    QUALIFY_PERSON,
    "Qualify every person against your products, segments and playbooks: the score "
    "(1-10, ``qualification_score``), rationale, and each qualifying answer "
    "(``df.octave.answers()``).",
    'people.octave.qualify_person(agent="ca_...").query("qualification_score >= 7")',
)
qualify_company, aqualify_company = _calls(
    QUALIFY_COMPANY,
    "Qualify every company: the score (1-10, ``company_qualification_score``), rationale, "
    "and each qualifying answer (``df.octave.answers()``).",
    'accounts.octave.qualify_company(agent="ca_...").company_qualification_score',
)
call_prep, acall_prep = _calls(
    CALL_PREP,
    "Prepare a call with every person: script, person and company briefs, discovery "
    "questions, objection handling (``call_*`` columns).",
    'people.octave.call_prep(agent="ca_...").call_script',
)
content, acontent = _calls(
    CONTENT,
    "Generate content for every row (``content``; ``content_json`` with ``output_format='json'``).",
    'people.octave.content(agent="ca_...", instructions={"all": "A LinkedIn note"})',
)
prospect, aprospect = _calls(
    PROSPECT,
    "Find people at every company: one output row per person found, carrying its company "
    f"row's columns and index (``{ROW_COLUMN}``); a company with nobody found keeps one "
    "row, ``not_found``. The people's columns (``first_name``, ``last_name``, ``title``, "
    "``email``, ``linkedin_profile``, ``location``) feed ``enrich_person`` and ``sequence``.",
    'accounts.octave.prospect(agent="ca_...", titles=["VP Sales"], limit=5)',
)
workflow, aworkflow = _calls(
    WORKFLOW,
    "Run an Octave Workflow once per row, the row's fields as the entry node's input; "
    "always as async jobs (submitted, then collected), with the status's counts "
    "(``workflow_*_count``) and the output expanded (``workflow_output_*``).",
    'people.octave.workflow(workflow="caw_...")',
)

# The arguments every generic agent takes; its own endpoint is made per call (and kept in
# STEPS only then), so this one is not registered as a step.
_GENERIC: Final = call_args(
    agent_endpoint("agent", "agent", label="agent", needs="contact", spec=None, namespace="agent_")
)


@takes(_GENERIC)
def run_agent(
    frame: pd.DataFrame,
    path: str,
    *,
    step: str | None = None,
    needs: Needs = "contact",
    **kwargs: Any,
) -> pd.DataFrame:
    """Run any Octave agent endpoint that has no method of its own, one call per row.

    The answer's ``data`` is expanded generically: keys in snake_case under
    ``{step}_``, nested objects dotted, lists of values joined by ``"; "``.

    Args:
        frame: The rows.
        path: The agent: ``"context"``, or its path ``"/api/v2/agents/context/run"``.
        step: The step's name, the stem of its columns (default: from the path).
        needs: What a row must identify: ``"person"``, ``"company"``, ``"domain"`` or
            ``"contact"`` (either).
        **kwargs: The keyword-only arguments below.

    Returns:
        A new frame: the input, ``{step}_status`` ... and the answer's columns.

    Example:
        >>> df.octave.run_agent("context", agent="ca_...").context_reasoning

    """
    return run_sync(lambda: arun_agent(frame, path, step=step, needs=needs, **kwargs))


@takes(_GENERIC)
async def arun_agent(
    frame: pd.DataFrame,
    path: str,
    *,
    step: str | None = None,
    needs: Needs = "contact",
    **kwargs: Any,
) -> pd.DataFrame:
    """Async form of `run_agent`.

    Args:
        frame: The rows.
        path: The agent's name or path.
        step: The step's name.
        needs: What a row must identify.
        **kwargs: The keyword-only arguments below.

    Returns:
        The same frame as `run_agent` returns.

    """
    endpoint = generic_agent(path, step=step, needs=needs)
    return await arun(frame, kwargs, endpoint=endpoint)
