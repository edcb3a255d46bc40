"""The keyword arguments of ``sequence``: their types, defaults and validation.

Every argument is checked here, before any payload is built or any credit spent,
with a message that names the argument, what was given and what would work.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

import pandas as pd

from ._client import Client
from ._constants import (
    DEFAULT_CACHE_PATH,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT,
    ENV_AGENT_OID,
    OUTPUT_FORMATS,
)
from ._exceptions import ArgumentError
from ._mapping import Spec
from ._ratelimit import parse_rate

__all__ = ["SequenceKwargs", "SequenceOptions", "parse_options"]

Rerun = Literal["failed", "all", "none"]
Errors = Literal["record", "raise"]


class SequenceKwargs(TypedDict, total=False):
    """Keyword arguments of ``sequence`` / ``asequence`` (see the README's table)."""

    agent: str | None
    experiment: str | None
    fields: Mapping[str, Any] | None
    context: Mapping[Any, Spec] | None
    instructions: Mapping[Any, Spec] | None
    output_format: str
    lang: str | None
    playbook_context: str | None
    custom_context: Mapping[str, Any] | None
    include_full_annotation: bool | None
    concurrency: int
    rate: float | str
    timeout: float | None
    max_retries: int
    cache: bool | str | os.PathLike[str]
    rerun: Rerun
    errors: Errors
    progress: bool | None
    dry_run: bool
    max_credits: float | None
    prefix: str
    raw: bool
    api_key: str | None
    base_url: str | None
    client: Client | None


@dataclass(frozen=True)
class SequenceOptions:
    """Validated, normalised arguments of one run."""

    static: dict[str, Any]
    fields: Mapping[str, Any] | None
    context: Mapping[Any, Any] | None
    instructions: Mapping[Any, Any] | None
    concurrency: int
    rate: float
    max_retries: int
    cache: Path | None
    rerun: Rerun
    errors: Errors
    progress: bool | None
    dry_run: bool
    max_credits: float | None
    prefix: str
    raw: bool
    client: Client


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    near = difflib.get_close_matches(str(value), choices, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise ArgumentError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}{hint}")


def _optional_str(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value.strip() or None if isinstance(value, str) else None
    raise ArgumentError(f"{name} must be a string, not {type(value).__name__} ({value!r:.40})")


def _positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArgumentError(f"{name} must be a whole number >= {minimum}, not {value!r}")
    return value


# context / instructions take step keys; the other dict arguments do not.
_EXAMPLES = {"fields": "{'email': 'Work Email'}", "custom_context": "{'region': 'EMEA'}"}


def _mapping(name: str, value: object) -> Mapping[Any, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    example = _EXAMPLES.get(name, "{'all': '...'}")
    wrap = name not in _EXAMPLES and isinstance(value, str | list | pd.Series)
    raise ArgumentError(
        f"{name} must be a dict such as {example}, not {type(value).__name__}"
        + (" (wrap it: {'all': ...})" if wrap else "")
    )


def _cache_path(value: object) -> Path | None:
    if value is False or value is None:
        return None
    if value is True:
        return Path(DEFAULT_CACHE_PATH)
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise ArgumentError(f"cache must be True, False or a file path, not {value!r}")


def _agent(agent: object, experiment: object) -> dict[str, str]:
    agent = _optional_str("agent", agent)
    experiment = _optional_str("experiment", experiment)
    if agent and experiment:
        raise ArgumentError("pass agent= or experiment=, not both (Octave takes one of them)")
    if experiment:
        return {"experimentOId": experiment}
    agent = agent or os.environ.get(ENV_AGENT_OID, "").strip() or None
    if not agent:
        raise ArgumentError(
            f"no agent: pass agent='ca_...' (the Sequence Agent's id from Octave's Agents page), "
            f"experiment='ae_...', or set ${ENV_AGENT_OID}"
        )
    return {"agentOId": agent}


def parse_options(
    *,
    agent: str | None = None,
    experiment: str | None = None,
    fields: Mapping[str, Any] | None = None,
    context: Mapping[Any, Spec] | None = None,
    instructions: Mapping[Any, Spec] | None = None,
    output_format: str = "text",
    lang: str | None = None,
    playbook_context: str | None = None,
    custom_context: Mapping[str, Any] | None = None,
    include_full_annotation: bool | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rate: float | str = DEFAULT_RATE,
    timeout: float | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    cache: bool | str | os.PathLike[str] = True,
    rerun: Rerun = "failed",
    errors: Errors = "record",
    progress: bool | None = None,
    dry_run: bool = False,
    max_credits: float | None = None,
    prefix: str = "",
    raw: bool = False,
    api_key: str | None = None,
    base_url: str | None = None,
    client: Client | None = None,
) -> SequenceOptions:
    """Check every argument of ``sequence`` and return them normalised.

    Raises:
        ArgumentError: An argument has the wrong type or value; the message names it.

    """
    static: dict[str, Any] = _agent(agent, experiment)
    static["outputFormat"] = _choice("output_format", output_format, OUTPUT_FORMATS)
    for name, key, value in (
        ("lang", "lang", lang),
        ("playbook_context", "playbookSelectionContext", playbook_context),
    ):
        if (text := _optional_str(name, value)) is not None:
            static[key] = text
    if (custom := _mapping("custom_context", custom_context)) is not None:
        static["customContext"] = dict(custom)
    if include_full_annotation is not None:
        if not isinstance(include_full_annotation, bool):
            raise ArgumentError(
                f"include_full_annotation must be True or False, not {include_full_annotation!r}"
            )
        static["includeFullAnnotation"] = include_full_annotation
    if max_credits is not None and (
        isinstance(max_credits, bool)
        or not isinstance(max_credits, int | float)
        or not math.isfinite(max_credits)
        or max_credits < 0
    ):
        raise ArgumentError(f"max_credits must be a number >= 0, not {max_credits!r}")
    for flag_name, flag in (("dry_run", dry_run), ("raw", raw)):
        if not isinstance(flag, bool):
            raise ArgumentError(f"{flag_name} must be True or False, not {flag!r}")
    if progress is not None and not isinstance(progress, bool):
        raise ArgumentError(f"progress must be True, False or None, not {progress!r}")
    if not isinstance(prefix, str):
        raise ArgumentError(f"prefix must be a string, not {prefix!r}")
    if client is not None:
        if not isinstance(client, Client):
            raise ArgumentError(
                f"client must be an octave_frames.Client, not {type(client).__name__}"
            )
        if api_key is not None or base_url is not None or timeout is not None:
            raise ArgumentError(
                "pass api_key/base_url/timeout to the Client, or pass them here without client="
            )
    else:
        client = Client(
            api_key, base_url=base_url, timeout=DEFAULT_TIMEOUT if timeout is None else timeout
        )
    return SequenceOptions(
        static=static,
        fields=_mapping("fields", fields),
        context=_mapping("context", context),
        instructions=_mapping("instructions", instructions),
        concurrency=_positive_int("concurrency", concurrency),
        rate=parse_rate(rate),
        max_retries=_positive_int("max_retries", max_retries, minimum=0),
        cache=_cache_path(cache),
        rerun=_choice("rerun", rerun, ("failed", "all", "none")),  # type: ignore[arg-type]
        errors=_choice("errors", errors, ("record", "raise")),  # type: ignore[arg-type]
        progress=progress,
        dry_run=dry_run,
        max_credits=None if max_credits is None else float(max_credits),
        prefix=prefix,
        raw=raw,
        client=client,
    )
