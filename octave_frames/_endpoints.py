"""Octave's endpoints, each declared once: paths, request arguments, body, result columns.

An :class:`Endpoint` says everything that differs between Octave's agents: where a row's
request goes in sync and async mode, which arguments shape it (declared as `Arg`s, so the
signature, the checks and the CLI follow), the run-wide keys of its body, how a row's
fields become the body on the wire, and how answers become columns. The engine, ledger,
limiter, progress bar, Excel and CLI work for every declaration unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

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
    ENV_AGENT_OID,
    OUTPUT_FORMATS,
    REQUEST_FIELDS,
    SEQUENCE_PATH,
)
from ._exceptions import ArgumentError
from ._flatten import result_columns
from ._mapping import Needs
from ._results import is_output_column, merge_results

if TYPE_CHECKING:
    from ._status import Outcome

__all__ = [
    "ANNOTATION_ARG",
    "CUSTOM_CONTEXT_ARG",
    "INSTRUCTIONS_ARG",
    "RUN_PARTS",
    "SEQUENCE",
    "Endpoint",
]

#: Turns a row's flat fields (plus its runtime context) into the body sent for it.
Shape = Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]
#: Reads a status answer or callback of an async job: its outcome, or None while it runs.
Read = Callable[[Mapping[str, Any], str], "Outcome | None"]
#: The run columns every step has, named ``{stem}_{part}`` (``octave_status``, ...).
RUN_PARTS: Final = ("status", "error", "note", "request_id", "run_id", "usage", "response")


def _sequence_owns(bare: str) -> bool:
    return is_output_column(bare)


def _flat(payload: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    return payload


@dataclass(frozen=True)
class Endpoint:
    """One Octave endpoint a frame's rows can be run through.

    Attributes:
        name: What the user calls it (``"sequence"``); also the summary's label.
        path: The sync run: one POST per row, the answer in the response.
        async_path: The async twin: POST returns a run id, the result comes later.
        status_path: Where an async run's status is polled.
        status_param: The query parameter naming the run id there.
        args: The request's own arguments (the run's shared ones are in `_options`).
        static: Validated request arguments -> the body keys every row carries.
        check: Cross-argument rules and environment defaults (may fill ``request``).
        shape: A row's flat body -> the body on the wire (flat for agents).
        columns: Per-row statuses, errors and answer bodies -> the result columns.
        merge: Combines the step's earlier result columns with this run's on a re-run.
        invalid: A row's flat payload -> why this endpoint cannot take it, or None.
        check_context: Refuses ``context`` step keys the endpoint has no place for.
        stem: Names the step's run columns, ``{stem}_status`` ... (``octave`` for the
            Sequence Agent, whose columns the contract names ``octave_status`` ...).
        needs: What a row must identify to be sent (person, company, domain, contact).
        takes: The request fields its body carries (a company agent takes no email).
        owns: Tells whether a column name (without prefix) is one of this step's outputs.
        feeds: Its output columns are contacts later steps read fields from (prospect).
        fan_out: One input row gives many output rows (prospect).
        modes: The modes it runs in (workflows are async only).
        read: Reads an async status answer or callback (default: the agent pattern's).
        label: What messages call it (``"the Enrich Person agent"``).

    """

    name: str
    path: str
    async_path: str
    status_path: str
    status_param: str
    args: tuple[Arg, ...]
    static: Callable[[Mapping[str, Any]], dict[str, Any]]
    check: Callable[[dict[str, Any]], None] = lambda request: None
    shape: Shape = _flat
    columns: Callable[..., pd.DataFrame] = field(default=result_columns)
    merge: Callable[..., pd.DataFrame] = field(default=merge_results)
    invalid: Callable[[Mapping[str, Any]], str | None] = lambda payload: None
    check_context: Callable[[Mapping[Any, Any] | None], None] = lambda context: None
    stem: str = "octave"
    needs: Needs = "person"
    takes: tuple[str, ...] = REQUEST_FIELDS
    owns: Callable[[str], bool] = _sequence_owns
    feeds: bool = False
    fan_out: bool = False
    modes: tuple[str, ...] = ("sync", "async")
    read: Read | None = None
    label: str = "the Sequence Agent"

    def column(self, part: str, prefix: str = "") -> str:
        """The name of one of the step's run columns, e.g. ``column("status")``."""
        return f"{prefix}{self.stem}_{part}"

    def is_output(self, name: object, prefix: str = "") -> bool:
        """Tell whether column ``name`` is one of this step's outputs (run or result)."""
        if not isinstance(name, str) or not name.startswith(prefix):
            return False
        bare = name[len(prefix) :]
        return bare in self._run_names or self.owns(bare)

    @property
    def _run_names(self) -> frozenset[str]:
        return frozenset(f"{self.stem}_{part}" for part in RUN_PARTS)

    def body(self, payload: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
        """The wire body of one row (the ledger key is its hash)."""
        return self.shape(payload, request)


# --- arguments more than one agent takes -------------------------------------------------------

#: ``runtimeInstructions``: the Sequence Agent's, and any agent's that takes them.
INSTRUCTIONS_ARG: Final = Arg(
    "instructions",
    "Mapping[str | int, Spec] | None",
    None,
    "``runtimeInstructions`` by step key (``'all'``, ``'1'``-``'7'``); specs as for context.",
    check_mapping,
    Flag(metavar="KEY=TEMPLATE", pairs=True, help="like --context"),
)
#: ``customContext``.
CUSTOM_CONTEXT_ARG: Final = Arg(
    "custom_context",
    "Mapping[str, Any] | None",
    None,
    "``customContext``, e.g. ``{'persona': {'oId': 'p_1'}}``.",
    check_mapping,
    Flag(metavar="JSON", parse=parse_json_object),
)
#: ``includeFullAnnotation``.
ANNOTATION_ARG: Final = Arg(
    "include_full_annotation",
    "bool | None",
    None,
    "``includeFullAnnotation`` of the request.",
    check_maybe_flag,
)


# --- the Sequence Agent -----------------------------------------------------------------------

_SEQUENCE_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "agent",
        "str | None",
        None,
        f"The Sequence Agent's id (``ca_...``, on Octave's Agents page); default ${ENV_AGENT_OID}.",
        check_text,
        Flag(metavar="ca_..."),
    ),
    Arg(
        "experiment",
        "str | None",
        None,
        "An experiment id (``ae_...``) instead of an agent; give one of the two.",
        check_text,
        Flag(metavar="ae_..."),
    ),
    INSTRUCTIONS_ARG,
    Arg(
        "output_format",
        "Literal['text', 'html', 'markdown']",
        "text",
        "``'text'``, ``'html'`` or ``'markdown'``.",
        check_choice(OUTPUT_FORMATS),
        Flag(choices=OUTPUT_FORMATS),
    ),
    Arg("lang", "str | None", None, "``lang`` of the request, e.g. ``'de'``.", check_text, Flag()),
    Arg(
        "playbook_context",
        "str | None",
        None,
        "``playbookSelectionContext``: text that steers which playbook is chosen.",
        check_text,
        Flag(metavar="TEXT"),
    ),
    CUSTOM_CONTEXT_ARG,
    ANNOTATION_ARG,
)

#: The arguments every run takes: mapping, pacing, cache, money guards and output.


def _sequence_static(request: Mapping[str, Any]) -> dict[str, Any]:
    static: dict[str, Any] = (
        {"experimentOId": request["experiment"]}
        if request["experiment"]
        else {"agentOId": request["agent"]}
    )
    static["outputFormat"] = request["output_format"]
    for name, key in (
        ("lang", "lang"),
        ("playbook_context", "playbookSelectionContext"),
        ("include_full_annotation", "includeFullAnnotation"),
    ):
        if request[name] is not None:
            static[key] = request[name]
    if request["custom_context"] is not None:
        static["customContext"] = dict(request["custom_context"])
    return static


def _sequence_check(request: dict[str, Any]) -> None:
    if request["agent"] and request["experiment"]:
        raise ArgumentError("pass agent= or experiment=, not both (Octave takes one of them)")
    if not request["experiment"]:
        request["agent"] = request["agent"] or os.environ.get(ENV_AGENT_OID, "").strip() or None
        if not request["agent"]:
            raise ArgumentError(
                "no agent: pass agent='ca_...' (the Sequence Agent's id from Octave's Agents "
                f"page), experiment='ae_...', or set ${ENV_AGENT_OID}"
            )


#: The Sequence Agent: a personalised multi-step email sequence per contact.
SEQUENCE: Final = Endpoint(
    name="sequence",
    path=SEQUENCE_PATH,
    async_path=ASYNC_RUN_PATH,
    status_path=ASYNC_STATUS_PATH,
    status_param="requestId",
    args=_SEQUENCE_ARGS,
    static=_sequence_static,
    check=_sequence_check,
)
