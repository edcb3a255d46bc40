"""Octave's other agents and its workflows, each one :class:`Endpoint` declaration.

Every agent runs on the Sequence Agent's machinery (mapping, limiter, retries, ledger,
async jobs, Excel); what differs is declared here: the path, the arguments, the fields
the body carries and what a row must identify, the step name of its run columns, and
its result columns (the specs of ``_agent_columns``, put in a namespace of their own so
that steps chained on one frame never write over each other:
``enrich_person`` -> ``person_*``, ``qualify_person`` -> ``qualification_*`` ...).

:data:`STEPS` holds every declaration by step name; `run_agent` adds the ones it makes,
so a frame's columns can always be told apart by step (:func:`other_outputs`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from ._agent_cells import number
from ._agent_columns import (
    CALL_PREP_COLUMNS,
    CONTENT_COLUMNS,
    ENRICH_COMPANY_COLUMNS,
    ENRICH_PERSON_COLUMNS,
    QUALIFY_COMPANY_COLUMNS,
    QUALIFY_PERSON_COLUMNS,
    QUALIFYING_SECTIONS,
    Column,
    agent_columns,
)
from ._agent_rows import PROSPECT_PERSON_COLUMNS, generic_columns, prospect_rows
from ._arguments import (
    Arg,
    Flag,
    check_choice,
    check_mapping,
    check_maybe_flag,
    check_text,
    parse_json_object,
)
from ._constants import (
    ASYNC_RUN_PATH,
    ASYNC_STATUS_PATH,
    OUTPUT_FORMATS,
    REQUEST_FIELDS,
    WORKFLOW_RUN_PATH,
    WORKFLOW_STATUS_PATH,
)
from ._endpoints import ANNOTATION_ARG, CUSTOM_CONTEXT_ARG, INSTRUCTIONS_ARG, SEQUENCE, Endpoint
from ._exceptions import ArgumentError
from ._headless import HEADLESS
from ._mapping import Needs
from ._results import cell_text, credits, object_array
from ._status import Outcome, Status
from ._steps import merge_step_results

__all__ = [
    "CALL_PREP",
    "CONTENT",
    "ENRICH_COMPANY",
    "ENRICH_PERSON",
    "PROSPECT",
    "QUALIFY_COMPANY",
    "QUALIFY_PERSON",
    "ROW_COLUMN",
    "STEPS",
    "WORKFLOW",
    "agent_endpoint",
    "answers_column",
    "fan_out",
    "other_outputs",
]

#: The column of a prospector's output naming the input (company) row each person came from.
ROW_COLUMN: Final = "company_row"
_COMPANY_FIELDS: Final = ("companyDomain", "companyName", "crmAccountId")
_STEM: Final = re.compile(r"[^0-9a-z]+")


# --- arguments ------------------------------------------------------------------------------


def _agent_arg(label: str) -> Arg:
    return Arg(
        "agent",
        "str | None",
        None,
        f"The id of your {label} (``ca_...``, on Octave's Agents page).",
        check_text,
        Flag(metavar="ca_..."),
    )


_CONTENT_FORMATS: Final = (*OUTPUT_FORMATS, "json")


def _check_limit(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= 1000:
        raise ArgumentError(f"{name} must be a whole number from 1 to 1000, got {value!r}")
    return int(value)


def _check_words(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise ArgumentError(f"{name} must be a string or a list of strings, got {value!r}")
    words = tuple(v.strip() for v in items if v.strip())
    return words or None


def _words_flag() -> Flag:
    return Flag(metavar="TEXT", parse=lambda text: [w.strip() for w in text.split(",")])


_PROSPECT_ARGS: Final = (
    _agent_arg("Prospector agent"),
    Arg("limit", "int | None", None, "People to find per company, 1-1000.", _check_limit,
        Flag(metavar="N", parse=int)),
    Arg("minimal", "bool | None", None, "``minimal``: fewer fields per person (Octave's "
        "default: true).", check_maybe_flag),
    Arg("titles", "str | Sequence[str] | None", None, "Job titles to look for, loosely "
        "(``searchContext.fuzzyTitles``).", _check_words, _words_flag()),
    Arg("exact_titles", "str | Sequence[str] | None", None, "Job titles to match exactly "
        "(``searchContext.exactTitles``).", _check_words, _words_flag()),
    Arg("exclude_titles", "str | Sequence[str] | None", None, "Job titles to leave out "
        "(``searchContext.excludeTitles``).", _check_words, _words_flag()),
    Arg("personas", "str | Sequence[str] | None", None, "Persona ids to look for "
        "(``searchContext.personaOIds``).", _check_words, _words_flag()),
    Arg("location", "Mapping[str, str] | None", None, "Where people are, e.g. "
        "``{'country': 'US'}`` (``searchContext.personLocation``).", check_mapping,
        Flag(metavar="JSON", parse=parse_json_object)),
    ANNOTATION_ARG,
)  # fmt: skip

_CONTENT_ARGS: Final = (
    _agent_arg("Content agent"),
    INSTRUCTIONS_ARG,
    Arg("output_format", "Literal['text', 'html', 'markdown', 'json']", "text",
        "``outputFormat``: ``'json'`` fills ``content_json``.", check_choice(_CONTENT_FORMATS),
        Flag(choices=_CONTENT_FORMATS)),
    Arg("url", "str | None", None, "``url``: a page the content should draw on.", check_text,
        Flag(metavar="URL")),
    CUSTOM_CONTEXT_ARG,
    ANNOTATION_ARG,
)  # fmt: skip

_WORKFLOW_ARGS: Final = (
    Arg(
        "workflow",
        "str | None",
        None,
        "The workflow's id (``caw_...``, on Octave's Workflows page).",
        check_text,
        Flag(metavar="caw_..."),
    ),
)


# --- request ---------------------------------------------------------------------------------


def _needs_agent(label: str) -> Callable[[dict[str, Any]], None]:
    def check(request: dict[str, Any]) -> None:
        if not request.get("agent"):
            raise ArgumentError(
                f"no agent: pass agent='ca_...', the id of your {label} (Octave -> Agents)"
            )

    return check


def _check_workflow(request: dict[str, Any]) -> None:
    if not request.get("workflow"):
        raise ArgumentError("no workflow: pass workflow='caw_...' (Octave -> Workflows)")


_KEYS: Final = (
    ("output_format", "outputFormat"),
    ("url", "url"),
    ("custom_context", "customContext"),
    ("include_full_annotation", "includeFullAnnotation"),
    ("limit", "limit"),
    ("minimal", "minimal"),
)
_SEARCH: Final = (
    ("personas", "personaOIds"),
    ("titles", "fuzzyTitles"),
    ("exact_titles", "exactTitles"),
    ("exclude_titles", "excludeTitles"),
    ("location", "personLocation"),
)


def _agent_static(request: Mapping[str, Any]) -> dict[str, Any]:
    """The run-wide body keys of an agent run: its id, then the arguments it was given."""
    static: dict[str, Any] = {"agentOId": request["agent"]}
    for name, key in _KEYS:
        value = request.get(name)
        if value is not None:
            static[key] = value.upper() if key == "outputFormat" else value
    search = {key: request[name] for name, key in _SEARCH if request.get(name) is not None}
    if search:
        static["searchContext"] = {
            k: dict(v) if isinstance(v, Mapping) else list(v) for k, v in search.items()
        }
    if isinstance(static.get("customContext"), Mapping):
        static["customContext"] = dict(static["customContext"])
    return static


# --- answers -> columns ---------------------------------------------------------------------


def _run_columns(
    stem: str,
    statuses: Sequence[str],
    errors: Sequence[str | None],
    bodies: Sequence[Mapping[str, Any] | None],
    *,
    notes: Sequence[str | None] | None,
    run_ids: Sequence[str | None] | None,
) -> dict[str, Any]:
    """A step's run columns: ``{stem}_status``, error, note, request id, (run id), usage."""
    metas: list[Mapping[str, Any]] = []
    for body in bodies:
        meta = body.get("_metadata") if isinstance(body, Mapping) else None
        metas.append(meta if isinstance(meta, Mapping) else {})
    texts: dict[str, list[str | None]] = {
        "status": [str(s) for s in statuses],
        "error": list(errors),
        "note": list(notes) if notes is not None else [None] * len(bodies),
        "request_id": [cell_text(m.get("requestId")) for m in metas],
    }
    if run_ids is not None:
        texts["run_id"] = list(run_ids)
    out: dict[str, Any] = {
        f"{stem}_{part}": pd.array(values, dtype=pd.StringDtype()) for part, values in texts.items()
    }
    out[f"{stem}_usage"] = pd.Series(credits([m.get("usage") for m in metas]), dtype="Float64")
    return out


Results = Callable[[Sequence[Mapping[str, Any] | None], str], pd.DataFrame]


def _columns_of(stem: str, results: Results) -> Callable[..., pd.DataFrame]:
    """The endpoint's ``columns``: run columns, then ``results(bodies, prefix)``."""

    def columns(
        statuses: Sequence[str],
        errors: Sequence[str | None],
        bodies: Sequence[Mapping[str, Any] | None],
        *,
        notes: Sequence[str | None] | None = None,
        run_ids: Sequence[str | None] | None = None,
        prefix: str = "",
        raw: bool = False,
    ) -> pd.DataFrame:
        n = len(statuses)
        head = _run_columns(stem, statuses, errors, bodies, notes=notes, run_ids=run_ids)
        frame = pd.DataFrame(
            {prefix + k: v for k, v in head.items()}, index=pd.RangeIndex(n), copy=False
        )
        answers = results(bodies, prefix)
        parts = [frame, answers]
        if raw:
            response = pd.DataFrame({f"{prefix}{stem}_response": object_array(bodies)})
            parts.append(response)
        return pd.concat(parts, axis=1)

    return columns


def _spec_results(spec: tuple[Column, ...], extra: Results | None = None) -> Results:
    def results(bodies: Sequence[Mapping[str, Any] | None], prefix: str) -> pd.DataFrame:
        frame = agent_columns(bodies, spec, prefix=prefix)
        if extra is None:
            return frame
        return pd.concat([frame, extra(bodies, prefix)], axis=1)

    return results


def _namespaced(
    spec: tuple[Column, ...], namespace: str, *, drop: Sequence[str] = ()
) -> tuple[Column, ...]:
    """``spec`` with every name in ``namespace`` (``product_name`` -> ``person_product_name``).

    A name already in the namespace, or in its tail (``qualification_score`` under
    ``company_qualification_``), gets only what it lacks; ``drop`` names columns left out.
    """
    parts = namespace.split("_")[:-1]
    tails = ["_".join(parts[i:]) + "_" for i in range(len(parts))]

    def named(name: str) -> str:
        if name == namespace.rstrip("_"):
            return name
        tail = next((t for t in tails if name.startswith(t)), "")
        return namespace[: len(namespace) - len(tail)] + name

    return tuple(
        dataclasses.replace(c, name=named(c.name), note=named(c.note) if c.note else None)
        for c in spec
        if c.name not in drop
    )


def answers_column(namespace: str) -> str:
    """The column of a qualify step holding every qualifying answer as JSON text."""
    return f"{namespace}answers"


def _answers(namespace: str) -> Results:
    """The qualifying answers of each body, by section, as JSON text (for the long view)."""
    name = answers_column(namespace)

    def results(bodies: Sequence[Mapping[str, Any] | None], prefix: str) -> pd.DataFrame:
        texts: list[str | None] = []
        for body in bodies:
            data = body.get("data") if isinstance(body, Mapping) else None
            found: dict[str, Any] = {}
            if isinstance(data, Mapping):
                for section in (*QUALIFYING_SECTIONS, *(k for k in data if k not in
                                                         QUALIFYING_SECTIONS)):  # fmt: skip
                    part = data.get(section)
                    qual = part.get("qualification") if isinstance(part, Mapping) else None
                    items = qual.get("answers") if isinstance(qual, Mapping) else None
                    if isinstance(items, list) and items:
                        found[str(section)] = items
            texts.append(json.dumps(found, ensure_ascii=False) if found else None)
        return pd.DataFrame({prefix + name: pd.array(texts, dtype="string")})

    return results


def _generic(namespace: str, key: str | None = None) -> Results:
    """Columns of an answer this package has no spec for: its ``data`` (or ``data[key]``)."""

    def results(bodies: Sequence[Mapping[str, Any] | None], prefix: str) -> pd.DataFrame:
        if key is not None:
            parts = [b.get("data") if isinstance(b, Mapping) else None for b in bodies]
            bodies = [{"data": p.get(key)} if isinstance(p, Mapping) else None for p in parts]
        return generic_columns(bodies, prefix=prefix + namespace)

    return results


def _owns_names(names: Sequence[str]) -> Callable[[str], bool]:
    own = frozenset(names)
    return own.__contains__


def _owns_prefix(namespace: str) -> Callable[[str], bool]:
    return lambda bare: bare.startswith(namespace)


# --- the declarations ------------------------------------------------------------------------


def agent_endpoint(
    name: str,
    agent_path: str,
    *,
    label: str,
    needs: Needs,
    spec: tuple[Column, ...] | None,
    namespace: str,
    drop: Sequence[str] = (),
    answers: bool = False,
    args: tuple[Arg, ...] | None = None,
    takes: tuple[str, ...] = REQUEST_FIELDS,
) -> Endpoint:
    """Declare one agent: ``POST /api/v2/agents/<agent_path>/run`` and its async twin.

    Args:
        name: The step name: the method's name and the stem of its run columns.
        agent_path: The agent's path segment (``enrich-person``).
        label: What messages call it (``"Enrich Person agent"``).
        needs: What a row must identify.
        spec: Its result columns, put in ``namespace`` (None: the answer expanded
            generically under ``namespace``).
        namespace: Prefix of its result columns.
        drop: Columns of ``spec`` left out (what the input row already says).
        answers: Add the qualifying answers' JSON column (``{namespace}answers``).
        args: Its own arguments (default: agent, instructions, custom context, annotation).
        takes: The request fields it is sent.

    Returns:
        The endpoint.

    """
    if spec is not None:
        extra = _answers(namespace) if answers else None
        results = _spec_results(_namespaced(spec, namespace, drop=drop), extra)
        owns = _owns_names(list(results([], "").columns))  # what it writes, derived
    else:
        results, owns = _generic(namespace), _owns_prefix(namespace)
    return Endpoint(
        name=name,
        path=f"/api/v2/agents/{agent_path}/run",
        async_path=ASYNC_RUN_PATH,
        status_path=ASYNC_STATUS_PATH,
        status_param="requestId",
        args=args or (_agent_arg(label), INSTRUCTIONS_ARG, CUSTOM_CONTEXT_ARG, ANNOTATION_ARG),
        static=_agent_static,
        check=_needs_agent(label),
        columns=_columns_of(name, results),
        merge=merge_step_results,
        stem=name,
        needs=needs,
        takes=takes,
        owns=owns,
        label=f"the {label}",
    )


#: ``enrich-person``: the enriched profile, the matched product, persona, use case, playbook.
ENRICH_PERSON: Final = agent_endpoint(
    "enrich_person",
    "enrich-person",
    label="Enrich Person agent",
    needs="person",
    spec=ENRICH_PERSON_COLUMNS,
    namespace="person_",
)
#: ``enrich-company``: the company profile and funding, the matched product ... playbook.
ENRICH_COMPANY: Final = agent_endpoint(
    "enrich_company",
    "enrich-company",
    label="Enrich Company agent",
    needs="company",
    spec=ENRICH_COMPANY_COLUMNS,
    namespace="company_",
    drop=("company_name", "company_domain"),
    takes=_COMPANY_FIELDS,
)
_WHO: Final = (
    "person_first_name", "person_last_name", "person_title", "person_linkedin_profile",
    "company_name", "company_domain",
)  # fmt: skip
#: ``qualify-person``: the overall score (1-10), each section's, the answers.
QUALIFY_PERSON: Final = agent_endpoint(
    "qualify_person",
    "qualify-person",
    label="Qualify Person agent",
    needs="person",
    spec=QUALIFY_PERSON_COLUMNS,
    namespace="qualification_",
    drop=_WHO,
    answers=True,
)
#: ``qualify-company``: the same for a company, under ``company_qualification_*``.
QUALIFY_COMPANY: Final = agent_endpoint(
    "qualify_company",
    "qualify-company",
    label="Qualify Company agent",
    needs="company",
    spec=QUALIFY_COMPANY_COLUMNS,
    namespace="company_qualification_",
    drop=_WHO,
    answers=True,
    takes=_COMPANY_FIELDS,
)
#: ``call-prep``: the script, the briefs, discovery questions and objection handling.
CALL_PREP: Final = agent_endpoint(
    "call_prep",
    "call-prep",
    label="Call Prep agent",
    needs="person",
    spec=CALL_PREP_COLUMNS,
    namespace="call_",
)
#: ``generate-content``: the content (text and JSON) and what it drew on.
CONTENT: Final = agent_endpoint(
    "content",
    "generate-content",
    label="Content agent",
    needs="contact",
    spec=CONTENT_COLUMNS,
    namespace="content_",
    args=_CONTENT_ARGS,
)
_PEOPLE_SPEC: Final = tuple(
    c for c in PROSPECT_PERSON_COLUMNS if c.name not in ("company_name", "company_domain")
)


def _nothing(bodies: Sequence[Mapping[str, Any] | None], prefix: str) -> pd.DataFrame:
    """No columns per company: the people are rows of their own (:func:`fan_out`)."""
    return pd.DataFrame(index=pd.RangeIndex(len(bodies)))


#: ``prospector``: one company row in, one row per person found out.
PROSPECT: Final = dataclasses.replace(
    agent_endpoint(
        "prospect",
        "prospector",
        label="Prospector agent",
        needs="domain",
        spec=None,
        namespace="prospect_",
        args=_PROSPECT_ARGS,
        takes=("companyDomain",),
    ),
    columns=_columns_of("prospect", _nothing),
    owns=_owns_names([ROW_COLUMN, *(c.name for c in _PEOPLE_SPEC)]),
    feeds=True,
    fan_out=True,
)


def _read_workflow(document: Mapping[str, Any], run_id: str) -> Outcome | None:
    """Read a workflow's status answer or callback: its outcome, or None while it runs.

    Lenient: the output may sit in ``data.output``, ``data.result`` or at the top of a
    callback; it is done when it has an output, a ``completedAt``, a final status, or
    every item processed.
    """
    data = document.get("data")
    where: Mapping[str, Any] = data if isinstance(data, Mapping) else document
    output = next(
        (d[k] for d in (where, document) for k in ("output", "result") if d.get(k) is not None),
        None,
    )
    status = str(where.get("status") or document.get("status") or "").lower()
    total, processed = number(where.get("totalCount")), number(where.get("processedCount"))
    finished = (
        output is not None
        or bool(where.get("completedAt"))
        or status in ("succeeded", "completed", "failed", "partial", "cancelled", "error")
        or (total is not None and processed is not None and total > 0 and processed >= total)
    )
    if not finished:
        return None
    reason = where.get("circuitBreakerReason") or where.get("error") or document.get("error")
    if output is None and (reason or status in ("failed", "cancelled", "error")):
        why = cell_text(reason) or f"Octave reports the workflow run {status or 'failed'}"
        return Outcome(Status.FAILED, error=f"the workflow run failed: {why}", run_id=run_id)
    meta = document.get("_metadata")
    body = {
        "_metadata": dict(meta) if isinstance(meta, Mapping) else {},
        "found": True,
        "data": {**where, "output": output},
    }
    outcome = Outcome.from_envelope(body)
    outcome.run_id = run_id
    return outcome


_WORKFLOW_SPEC: Final = (
    Column("workflow_total_count", ("totalCount",), "number"),
    Column("workflow_processed_count", ("processedCount",), "number"),
    Column("workflow_success_count", ("successCount",), "number"),
    Column("workflow_failed_count", ("failedCount",), "number"),
    Column("workflow_started_at", ("startedAt",)),
    Column("workflow_completed_at", ("completedAt",)),
)
#: Octave Workflows: one run per row, always async; the output expanded generically.
WORKFLOW: Final = Endpoint(
    name="workflow",
    path=WORKFLOW_RUN_PATH,
    async_path=WORKFLOW_RUN_PATH,
    status_path=WORKFLOW_STATUS_PATH,
    status_param="jobOId",
    args=_WORKFLOW_ARGS,
    static=lambda request: {"workflowOId": request["workflow"]},
    check=_check_workflow,
    merge=merge_step_results,
    columns=_columns_of(
        "workflow", _spec_results(_WORKFLOW_SPEC, _generic("workflow_output_", "output"))
    ),
    stem="workflow",
    needs="contact",
    owns=_owns_prefix("workflow_"),
    modes=("async",),
    read=_read_workflow,
    label="the workflow",
)

#: Every step a frame can carry, by step name (``run_agent`` adds its own).
STEPS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        SEQUENCE,
        HEADLESS,
        ENRICH_PERSON,
        ENRICH_COMPANY,
        QUALIFY_PERSON,
        QUALIFY_COMPANY,
        CALL_PREP,
        CONTENT,
        PROSPECT,
        WORKFLOW,
    )
}


def generic_agent(path: str, *, step: str | None = None, needs: Needs = "contact") -> Endpoint:
    """The endpoint of an agent without a method of its own (``run_agent``).

    Args:
        path: ``"context"``, ``"agents/context/run"`` or ``"/api/v2/agents/context/run"``.
        step: The step name (default: from the path, ``context``).
        needs: What a row must identify.

    Returns:
        The endpoint, registered in :data:`STEPS`.

    Raises:
        ArgumentError: ``path`` or ``step`` is not usable.

    """
    if not isinstance(path, str) or not path.strip("/ "):
        raise ArgumentError(f"path must name an agent endpoint, e.g. 'context'; got {path!r}")
    segment = path.strip("/ ")
    for head in ("api/v2/", "agents/"):
        segment = segment.removeprefix(head)
    segment = segment.removesuffix("/run").strip("/")
    if not segment or "/" in segment:
        raise ArgumentError(
            f"path {path!r} is not an agent endpoint: give its name ('context') or its "
            "full path ('/api/v2/agents/context/run')"
        )
    stem = step if step is not None else _STEM.sub("_", segment.lower()).strip("_")
    if not isinstance(stem, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", stem):
        raise ArgumentError(f"step must be a lower-case name such as 'context', got {stem!r}")
    known = STEPS.get(stem)
    if known is not None and known.path != f"/api/v2/agents/{segment}/run":
        raise ArgumentError(
            f"step {stem!r} is {known.label}'s name; pass step='...' with another name"
        )
    endpoint = known or agent_endpoint(
        stem, segment, label=f"{segment} agent", needs=needs, spec=None, namespace=f"{stem}_"
    )
    if endpoint.needs != needs:
        endpoint = dataclasses.replace(endpoint, needs=needs)
    STEPS.setdefault(stem, endpoint)
    return endpoint


def other_outputs(columns: Sequence[object], endpoint: Endpoint, prefix: str) -> list[int]:
    """Positions of columns another step wrote (and that are not contacts to read from).

    Field detection passes over them: ``person_linkedin_profile`` from ``enrich_person``
    is no reason to move a sequence's ``linkedInProfile`` off the sheet's own column.
    """
    others = [e for e in STEPS.values() if e.stem != endpoint.stem and not e.feeds]
    return [
        i
        for i, name in enumerate(columns)
        if any(e.is_output(name, p) for e in others for p in {"", prefix})
    ]


def fan_out(
    base: pd.DataFrame,
    results: pd.DataFrame,
    bodies: Sequence[Mapping[str, Any] | None],
    labels: pd.Index,
    *,
    prefix: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn a prospector's company rows into one row per person found.

    Every company stays: one with nobody found (or not run, failed, invalid) keeps one
    row, people's columns NA, and an ``ok`` answer without people becomes ``not_found``.

    Args:
        base: The input columns, on a RangeIndex.
        results: The run columns of each company row, on the same RangeIndex.
        bodies: Each company row's answer, or None.
        labels: The input index, for :data:`ROW_COLUMN`.
        prefix: Of the output names.

    Returns:
        ``(base, results)`` repeated per person, and the people's columns joined to
        ``results`` after ``company_row``; both on a new RangeIndex.

    """
    people = prospect_rows(bodies)
    counts = np.array([max(1, len(p)) for p in people], dtype=np.intp)
    take = np.repeat(np.arange(len(people), dtype=np.intp), counts)
    flat: list[Mapping[str, Any] | None] = []
    for found in people:
        flat.extend(found if found else [None])
    status_name = f"{prefix}prospect_status"
    status = results[status_name].astype("string")
    nobody = np.array([not p for p in people], dtype=bool)
    empty_ok = (status == Status.OK).fillna(False).to_numpy(dtype=bool) & nobody
    if empty_ok.any():
        results = results.copy()
        results.loc[empty_ok, status_name] = str(Status.NOT_FOUND)
        results.loc[empty_ok, f"{prefix}prospect_error"] = "the prospector found no one"
    company_row = pd.DataFrame(
        {prefix + ROW_COLUMN: pd.Series(labels.take(take), copy=False).array}
    )
    person = agent_columns(flat, _PEOPLE_SPEC, prefix=prefix, root=None)
    out = pd.concat([results.take(take).reset_index(drop=True), company_row, person], axis=1)
    return base.take(take).reset_index(drop=True), out
