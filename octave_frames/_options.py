"""The keyword arguments of a run, declared once.

Each argument is one :class:`Arg`: its name, the type shown in the signature, its
default, one line of help, the check that validates and normalises it, and how it
appears on the command line. Everything else is derived from that table:

- the real keyword-only signature and the ``Args:`` section of every public call
  (:func:`takes`), so ``help(df.octave.sequence)`` and Jupyter's Shift-Tab show them;
- :func:`parse_options`, which refuses an unknown keyword with "did you mean ...?",
  checks every value before any payload is built or any credit spent, and returns
  the normalised :class:`Options`;
- the CLI flags of ``octave-frames run`` (:func:`add_flags`, :func:`kwargs_from_flags`).
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import os
import textwrap
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import pandas as pd

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
from ._ratelimit import parse_rate

if TYPE_CHECKING:
    import argparse

    from ._client import Client

__all__ = [
    "RUN_ARGS",
    "SEQUENCE_ARGS",
    "SEQUENCE_CALL",
    "Arg",
    "Flag",
    "Options",
    "add_flags",
    "kwargs_from_flags",
    "parse_options",
    "takes",
]

Rerun = Literal["failed", "all", "none"]
Errors = Literal["record", "raise"]
Dedupe = Literal["request", "person"]
RERUN: Final = ("failed", "all", "none")
ERRORS: Final = ("record", "raise")
DEDUPE: Final = ("request", "person")

F = TypeVar("F", bound=Callable[..., Any])


class _Type:
    """A type as the signature shows it (``inspect`` prints the repr of an annotation)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


@dataclass(frozen=True, slots=True)
class Flag:
    """How an argument appears on the command line.

    Attributes:
        metavar: The value's placeholder in ``--help``.
        parse: Turns the flag's text into the argument's value (None: the text itself).
        pairs: The flag repeats as ``KEY=VALUE`` and the values form a dict.
        choices: The values argparse accepts.
        switch: A flag without a value that sets the argument to True.
        help: Help for the CLI when it differs from the argument's own.
        name: The flag when it is not ``--`` + the argument's name with dashes.
        negate: A second flag that sets the argument to False (``--no-cache``).

    """

    metavar: str | None = None
    parse: Callable[[str], Any] | None = None
    pairs: bool = False
    choices: tuple[str, ...] | None = None
    switch: bool = False
    help: str | None = None
    name: str | None = None
    negate: str | None = None


@dataclass(frozen=True, slots=True)
class Arg:
    """One keyword argument of a run.

    Attributes:
        name: The keyword.
        type: The type as the signature shows it.
        default: Its default value.
        help: One line for the docstring and ``--help``.
        check: Validates a value and returns it normalised; raises `ArgumentError`.
        flag: How it appears on the command line; None keeps it off the CLI.

    """

    name: str
    type: str
    default: Any
    help: str
    check: Callable[[str, Any], Any]
    flag: Flag | None = None

    @property
    def option(self) -> str:
        """The command-line flag, e.g. ``--max-credits``."""
        if self.flag is not None and self.flag.name is not None:
            return self.flag.name
        return "--" + self.name.replace("_", "-")


# --- checks: (argument name, value) -> normalised value, or ArgumentError -----------------


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name: str, value: Any) -> str:
        if isinstance(value, str) and value in choices:
            return value
        near = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ArgumentError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}{hint}")

    return check


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise ArgumentError(f"{name} must be a string, not {type(value).__name__} ({value!r:.40})")


def _string(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be a string, not {value!r}")
    return value


def _whole(minimum: int) -> Callable[[str, Any], int]:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ArgumentError(f"{name} must be a whole number >= {minimum}, not {value!r}")
        return value

    return check


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True or False, not {value!r}")
    return value


def _maybe_flag(name: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ArgumentError(f"{name} must be True, False or None, not {value!r}")
    return value


def _credits(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ArgumentError(f"{name} must be a number >= 0, not {value!r}")
    return float(value)


def _seconds(name: str, value: Any) -> float | None:
    if value is None:
        return None
    # `not > 0` also refuses NaN, which would reach anyio as a NaN deadline.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ArgumentError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


_EXAMPLES: Final = {"fields": "{'email': 'Work Email'}", "custom_context": "{'region': 'EMEA'}"}


def _mapping(name: str, value: Any) -> Mapping[Any, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    example = _EXAMPLES.get(name, "{'all': '...'}")
    # context / instructions take step keys; a bare spec is one step away from right.
    wrap = name not in _EXAMPLES and isinstance(value, str | list | pd.Series)
    raise ArgumentError(
        f"{name} must be a dict such as {example}, not {type(value).__name__}"
        + (" (wrap it: {'all': ...})" if wrap else "")
    )


def _rate(name: str, value: Any) -> float:
    return parse_rate(value)


def _cache(name: str, value: Any) -> Path | None:
    if value is False or value is None:
        return None
    if value is True:
        return Path(DEFAULT_CACHE_PATH)
    if isinstance(value, str | os.PathLike):
        return Path(value)
    raise ArgumentError(f"{name} must be True, False or a file path, not {value!r}")


def _client(name: str, value: Any) -> Client | None:
    from ._client import Client

    if value is not None and not isinstance(value, Client):
        raise ArgumentError(f"{name} must be an octave_frames.Client, not {type(value).__name__}")
    return value


def _json_object(text: str) -> Any:
    """CLI: a JSON object such as ``{"persona": {"oId": "p_1"}}``."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ArgumentError(f"expected a JSON object, not {text!r}: {exc}") from None


# --- the declaration ------------------------------------------------------------------------

#: The arguments of the Sequence Agent's request (``agentOId``, ``outputFormat`` ...).
SEQUENCE_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "agent",
        "str | None",
        None,
        f"The Sequence Agent's id (``ca_...``, on Octave's Agents page); default ${ENV_AGENT_OID}.",
        _text,
        Flag(metavar="ca_..."),
    ),
    Arg(
        "experiment",
        "str | None",
        None,
        "An experiment id (``ae_...``) instead of an agent; give one of the two.",
        _text,
        Flag(metavar="ae_..."),
    ),
    Arg(
        "instructions",
        "Mapping[str | int, Spec] | None",
        None,
        "``runtimeInstructions`` by step key (``'all'``, ``'1'``-``'7'``); specs as for context.",
        _mapping,
        Flag(metavar="KEY=TEMPLATE", pairs=True, help="like --context"),
    ),
    Arg(
        "output_format",
        "Literal['text', 'html', 'markdown']",
        "text",
        "``'text'``, ``'html'`` or ``'markdown'``.",
        _choice(OUTPUT_FORMATS),
        Flag(choices=OUTPUT_FORMATS),
    ),
    Arg("lang", "str | None", None, "``lang`` of the request, e.g. ``'de'``.", _text, Flag()),
    Arg(
        "playbook_context",
        "str | None",
        None,
        "``playbookSelectionContext``: text that steers which playbook is chosen.",
        _text,
        Flag(metavar="TEXT"),
    ),
    Arg(
        "custom_context",
        "Mapping[str, Any] | None",
        None,
        "``customContext``, e.g. ``{'persona': {'oId': 'p_1'}}``.",
        _mapping,
        Flag(metavar="JSON", parse=_json_object),
    ),
    Arg(
        "include_full_annotation",
        "bool | None",
        None,
        "``includeFullAnnotation`` of the request.",
        _maybe_flag,
    ),
)

#: The arguments every run takes: mapping, pacing, cache, money guards and output.
RUN_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "fields",
        "Mapping[str, Hashable | None] | None",
        None,
        "``{request_field: column}``; overrides auto-detection, ``None`` removes a field.",
        _mapping,
        Flag(
            metavar="FIELD=COLUMN",
            pairs=True,
            name="--field",
            help="send COLUMN as request FIELD (e.g. 'email=Work Email'; 'FIELD=' sends none); "
            "other fields are detected; repeatable",
        ),
    ),
    Arg(
        "context",
        "Mapping[str | int, Spec] | None",
        None,
        "``runtimeContext`` by step key; a spec is a ``'{Column}'`` template, a list of "
        "columns, a Series or a callable ``row -> str``.",
        _mapping,
        Flag(
            metavar="KEY=TEMPLATE",
            pairs=True,
            help="runtime context for step KEY ('all' or 1-7); {Column} is the row's value, "
            "\\n a newline; repeatable",
        ),
    ),
    Arg(
        "concurrency",
        "int",
        DEFAULT_CONCURRENCY,
        "Requests in flight at most.",
        _whole(1),
        Flag(metavar="N", parse=int),
    ),
    Arg(
        "rate",
        "float | str",
        DEFAULT_RATE,
        "Requests per second at most, or ``'60/min'``, ``'2/s'``, ``'3600/hour'``.",
        _rate,
        Flag(metavar="RATE"),
    ),
    Arg(
        "timeout",
        "float | None",
        None,
        f"Seconds for one HTTP call (Octave runs take 30-60 s); default {DEFAULT_TIMEOUT:g}.",
        _seconds,
        Flag(metavar="S", parse=float),
    ),
    Arg(
        "max_retries",
        "int",
        DEFAULT_MAX_RETRIES,
        "Retries of one row on 5xx, timeouts and connection errors (a 429 slows the run instead).",
        _whole(0),
        Flag(metavar="N", parse=int),
    ),
    Arg(
        "cache",
        "bool | str | os.PathLike[str]",
        True,
        f"The ledger that makes runs resumable: True (``{DEFAULT_CACHE_PATH}``), a path, or False.",
        _cache,
        Flag(
            metavar="PATH",
            parse=Path,
            negate="--no-cache",
            help=f"the ledger of answers that makes runs resumable (default {DEFAULT_CACHE_PATH})",
        ),
    ),
    Arg(
        "rerun",
        "Literal['failed', 'all', 'none']",
        "failed",
        "Rows that already carry results: ``'failed'`` re-sends those not done, ``'all'`` "
        "every row, ``'none'`` none.",
        _choice(RERUN),
        Flag(choices=RERUN),
    ),
    Arg(
        "dedupe",
        "Literal['request', 'person']",
        "request",
        "``'request'``: identical requests are sent once; ``'person'``: one sequence per "
        "person (same email, else LinkedIn, else name + company), copied to their other rows.",
        _choice(DEDUPE),
        Flag(choices=DEDUPE),
    ),
    Arg(
        "errors",
        "Literal['record', 'raise']",
        "record",
        "``'record'``: failures are per-row statuses; ``'raise'``: `RunFailedError` after the run.",
        _choice(ERRORS),
    ),
    Arg(
        "progress",
        "bool | None",
        None,
        "Progress bar; None shows it in notebooks and terminals.",
        _maybe_flag,
    ),
    Arg(
        "dry_run",
        "bool",
        False,
        "Build and check every payload, send nothing; adds ``octave_payload``.",
        _flag,
        Flag(
            switch=True, help="show the mapping, sample payloads, calls and credits; send nothing"
        ),
    ),
    Arg(
        "max_credits",
        "float | None",
        None,
        "Stop sending once this many credits are spent.",
        _credits,
        Flag(metavar="N", parse=float),
    ),
    Arg("prefix", "str", "", "Prepended to every output column name.", _string, Flag()),
    Arg("raw", "bool", False, "Add ``octave_response``, the parsed JSON answer.", _flag),
    Arg("api_key", "str | None", None, "Octave API key; default $OCTAVE_API_KEY.", _text),
    Arg(
        "base_url",
        "str | None",
        None,
        "API root; default $OCTAVE_BASE_URL or https://app.octavehq.com.",
        _text,
        Flag(metavar="URL"),
    ),
    Arg(
        "client",
        "Client | None",
        None,
        "A ready `octave_frames.Client` (instead of api_key / base_url / timeout).",
        _client,
    ),
)

_ALL: Final = {arg.name: arg for arg in (*SEQUENCE_ARGS, *RUN_ARGS)}

#: ``sequence``'s arguments in the order its signature shows them: who, what, how.
SEQUENCE_CALL: Final[tuple[Arg, ...]] = tuple(
    _ALL[name]
    for name in (
        "agent",
        "experiment",
        "fields",
        "context",
        "instructions",
        *(arg.name for arg in SEQUENCE_ARGS[3:]),
        *(arg.name for arg in RUN_ARGS[2:]),
    )
)


@dataclass(frozen=True)
class Options:
    """The validated, normalised arguments of one run (one field per declared `Arg`)."""

    agent: str | None
    experiment: str | None
    instructions: Mapping[Any, Any] | None
    output_format: str
    lang: str | None
    playbook_context: str | None
    custom_context: Mapping[str, Any] | None
    include_full_annotation: bool | None
    fields: Mapping[str, Hashable | None] | None
    context: Mapping[Any, Any] | None
    concurrency: int
    rate: float
    timeout: float | None
    max_retries: int
    cache: Path | None
    rerun: Rerun
    dedupe: Dedupe
    errors: Errors
    progress: bool | None
    dry_run: bool
    max_credits: float | None
    prefix: str
    raw: bool
    api_key: str | None
    base_url: str | None
    client: Client

    @property
    def static(self) -> dict[str, Any]:
        """The request keys every row's body carries (agent, output format, ...)."""
        static: dict[str, Any] = (
            {"experimentOId": self.experiment} if self.experiment else {"agentOId": self.agent}
        )
        static["outputFormat"] = self.output_format
        if self.lang is not None:
            static["lang"] = self.lang
        if self.playbook_context is not None:
            static["playbookSelectionContext"] = self.playbook_context
        if self.custom_context is not None:
            static["customContext"] = dict(self.custom_context)
        if self.include_full_annotation is not None:
            static["includeFullAnnotation"] = self.include_full_annotation
        return static

    def settings(self) -> dict[str, str]:
        """The arguments that shape the answers and the run, readable, for the Run sheet."""
        out: dict[str, str] = {}
        for arg in SEQUENCE_CALL:
            value = getattr(self, arg.name)
            if arg.name in ("api_key", "client") or value is None:
                continue
            if arg.name in ("context", "instructions", "fields") and isinstance(value, Mapping):
                for key, spec in value.items():
                    out[f"{arg.name}[{key}]"] = _describe_spec(spec)
            elif arg.name == "rate":
                out["rate"] = f"{value:g}/s"
            else:
                out[arg.name] = str(value)
        out["base_url"] = self.client.base_url
        return out


def _describe_spec(spec: object) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, pd.Series):
        return f"a Series ({spec.name!r})" if spec.name is not None else "a Series"
    if callable(spec):
        return f"a callable ({getattr(spec, '__qualname__', type(spec).__name__)})"
    if isinstance(spec, list | tuple):
        return "columns " + ", ".join(map(repr, spec))
    return repr(spec)


def _unknown(name: str) -> ArgumentError:
    near = difflib.get_close_matches(name, _ALL, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return ArgumentError(
        f"unknown argument {name!r}{hint} (the arguments are {', '.join(sorted(_ALL))})"
    )


def parse_options(kwargs: Mapping[str, Any]) -> Options:
    """Check every keyword argument of a run and return them normalised.

    Args:
        kwargs: The keyword arguments as the user gave them; missing ones take their default.

    Returns:
        The :class:`Options` of the run; ``client`` is built from ``api_key``,
        ``base_url`` and ``timeout`` when not given.

    Raises:
        ArgumentError: An unknown keyword (with the nearest name), a wrong type or value
            (naming the argument and what would work), or contradicting arguments.

    """
    for name in kwargs:
        if name not in _ALL:
            raise _unknown(name)
    values = {name: arg.check(name, kwargs.get(name, arg.default)) for name, arg in _ALL.items()}
    if values["agent"] and values["experiment"]:
        raise ArgumentError("pass agent= or experiment=, not both (Octave takes one of them)")
    if not values["experiment"]:
        values["agent"] = values["agent"] or os.environ.get(ENV_AGENT_OID, "").strip() or None
        if not values["agent"]:
            raise ArgumentError(
                "no agent: pass agent='ca_...' (the Sequence Agent's id from Octave's Agents "
                f"page), experiment='ae_...', or set ${ENV_AGENT_OID}"
            )
    if values["client"] is not None:
        if any(values[name] is not None for name in ("api_key", "base_url", "timeout")):
            raise ArgumentError(
                "pass api_key/base_url/timeout to the Client, or pass them here without client="
            )
    else:
        from ._client import Client

        timeout = values["timeout"]
        values["client"] = Client(
            values["api_key"],
            base_url=values["base_url"],
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        )
    return Options(**values)


# --- derived: signatures and docstrings -------------------------------------------------------


def _parameters(args: Sequence[Arg]) -> list[inspect.Parameter]:
    return [
        inspect.Parameter(
            arg.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=arg.default,
            annotation=_Type(arg.type),
        )
        for arg in args
    ]


def _args_section(args: Sequence[Arg], indent: str) -> str:
    lines = []
    for arg in args:
        default = "" if arg.default is None else f" Default ``{arg.default!r}``."
        text = f"{arg.name}: {arg.help}{default}"
        lines.append(
            textwrap.fill(text, 92, initial_indent=indent, subsequent_indent=indent + "    ")
        )
    return "\n".join(lines)


def takes(args: Sequence[Arg] = SEQUENCE_CALL) -> Callable[[F], F]:
    """Give a ``(..., **kwargs)`` function the real signature and docs of ``args``.

    The function's own positional parameters stay first; the declared arguments follow as
    keyword-only parameters with their defaults and types. Their help lines replace the
    docstring's ``**kwargs:`` line (or end its ``Args:`` section, before ``Returns:``).

    Args:
        args: The declared arguments the function accepts through ``**kwargs``.

    Returns:
        A decorator returning the same function with ``__signature__`` and ``__doc__`` set.

    """

    def decorate(func: F) -> F:
        own = inspect.signature(func)
        kept = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
        func.__signature__ = own.replace(parameters=[*kept, *_parameters(args)])  # type: ignore[attr-defined]
        doc = inspect.cleandoc(func.__doc__ or "")
        section = _args_section(args, "    ")
        lines = doc.splitlines()
        marker = [i for i, line in enumerate(lines) if line.strip().startswith("**kwargs:")]
        if marker:
            lines[marker[0]] = section
            doc = "\n".join(lines)
        elif "\nReturns:" in doc:
            head, _, tail = doc.partition("\nReturns:")
            title = "" if "\nArgs:" in head else "\nArgs:"
            doc = f"{head.rstrip()}\n{title}\n{section}\n\nReturns:{tail}".replace("\n\n\n", "\n\n")
        else:
            doc = f"{doc}\n\nArgs:\n{section}"
        func.__doc__ = doc
        return func

    return decorate


# --- derived: the command line ----------------------------------------------------------------


def add_flags(parser: argparse.ArgumentParser, args: Sequence[Arg]) -> None:
    """Add a flag to ``parser`` for every argument of ``args`` that has one.

    Args:
        parser: The subcommand's parser.
        args: Declared arguments; those with ``flag=None`` are left off.

    """
    for arg in args:
        flag = arg.flag
        if flag is None:
            continue
        text = flag.help or arg.help.replace("``", "")
        if not isinstance(arg.default, bool | type(None)) and arg.default != "" and not flag.switch:
            text += f" (default {arg.default})"
        text = text.replace("%", "%%")
        if flag.negate is not None:
            group = parser.add_mutually_exclusive_group()
            group.add_argument(
                arg.option, dest=arg.name, metavar=flag.metavar or arg.name.upper(), help=text
            )
            group.add_argument(
                flag.negate,
                dest=arg.name,
                action="store_false",
                default=None,
                help=f"no {arg.name}",
            )
        elif flag.switch:
            parser.add_argument(arg.option, dest=arg.name, action="store_true", help=text)
        elif flag.pairs:
            parser.add_argument(
                arg.option, dest=arg.name, action="append", metavar=flag.metavar, help=text
            )
        else:
            parser.add_argument(
                arg.option,
                dest=arg.name,
                metavar=None if flag.choices else flag.metavar or arg.name.upper(),
                choices=flag.choices,
                help=text,
            )


def kwargs_from_flags(
    namespace: argparse.Namespace,
    args: Sequence[Arg],
    pairs: Callable[[list[str], Arg], dict[str, Any]],
) -> dict[str, Any]:
    """Turn the parsed flags back into keyword arguments; flags not given are left out.

    Args:
        namespace: What argparse parsed.
        args: The declared arguments behind the flags.
        pairs: Turns the repeated ``KEY=VALUE`` texts of one argument into its dict.

    Returns:
        The keyword arguments for the run, so the library's defaults (one place) apply.

    Raises:
        ArgumentError: A flag's text cannot be turned into the argument's value.

    """
    out: dict[str, Any] = {}
    for arg in args:
        flag = arg.flag
        value = getattr(namespace, arg.name, None)
        if flag is None or value is None or (flag.switch and value is False):
            continue
        if value is False:  # the negating flag
            out[arg.name] = False
        elif flag.pairs:
            out[arg.name] = pairs(value, arg)
        elif flag.parse is not None:
            try:
                out[arg.name] = flag.parse(value)
            except ValueError:
                raise ArgumentError(f"{arg.option} {value!r} is not a {flag.metavar}") from None
        else:
            out[arg.name] = value
    return out
