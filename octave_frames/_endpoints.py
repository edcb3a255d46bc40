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
from typing import Any, Final

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
    SEQUENCE_PATH,
)
from ._exceptions import ArgumentError
from ._flatten import result_columns

__all__ = ["SEQUENCE", "Endpoint"]

#: Turns a row's flat fields (plus its runtime context) into the body sent for it.
Shape = Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]]


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
        invalid: A row's flat payload -> why this endpoint cannot take it, or None.
        check_context: Refuses ``context`` step keys the endpoint has no place for.

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
    invalid: Callable[[Mapping[str, Any]], str | None] = lambda payload: None
    check_context: Callable[[Mapping[Any, Any] | None], None] = lambda context: None

    def body(self, payload: dict[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
        """The wire body of one row (the ledger key is its hash)."""
        return self.shape(payload, request)


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
    Arg(
        "instructions",
        "Mapping[str | int, Spec] | None",
        None,
        "``runtimeInstructions`` by step key (``'all'``, ``'1'``-``'7'``); specs as for context.",
        check_mapping,
        Flag(metavar="KEY=TEMPLATE", pairs=True, help="like --context"),
    ),
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
    Arg(
        "custom_context",
        "Mapping[str, Any] | None",
        None,
        "``customContext``, e.g. ``{'persona': {'oId': 'p_1'}}``.",
        check_mapping,
        Flag(metavar="JSON", parse=parse_json_object),
    ),
    Arg(
        "include_full_annotation",
        "bool | None",
        None,
        "``includeFullAnnotation`` of the request.",
        check_maybe_flag,
    ),
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
