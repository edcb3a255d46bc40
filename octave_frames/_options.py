"""The arguments every run takes, declared once, and the validated options of a run.

The request arguments of each endpoint are declared with the endpoint (`_endpoints`); a
public call takes those plus :data:`RUN_ARGS`. :func:`parse_options` checks them all before
any payload is built or any credit spent and returns :class:`Options`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urlsplit

import pandas as pd

from ._arguments import (
    Arg,
    Flag,
    check_arguments,
    check_cache,
    check_choice,
    check_client,
    check_credits,
    check_flag,
    check_mapping,
    check_maybe_flag,
    check_rate,
    check_seconds,
    check_string,
    check_text,
    check_whole,
)
from ._constants import (
    DEFAULT_CACHE_PATH,
    DEFAULT_COLLECT_TIMEOUT,
    DEFAULT_CONCURRENCY,
    DEFAULT_JOB_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_POLL,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT,
)
from ._endpoints import SEQUENCE, Endpoint
from ._exceptions import ArgumentError

if TYPE_CHECKING:
    from ._client import Client

__all__ = [
    "RUN_ARGS",
    "SEQUENCE_CALL",
    "WAIT_ARGS",
    "Options",
    "call_args",
    "collect_args",
    "parse_options",
    "submit_args",
]

Rerun = Literal["failed", "all", "none"]
Errors = Literal["record", "raise"]
Dedupe = Literal["request", "person"]
Mode = Literal["sync", "async"]
RERUN: Final = ("failed", "all", "none")
ERRORS: Final = ("record", "raise")
DEDUPE: Final = ("request", "person")
MODES: Final = ("sync", "async")


def check_positive(name: str, value: Any) -> float:
    """A positive number of seconds (not None)."""
    seconds = check_seconds(name, value)
    if seconds is None:
        raise ArgumentError(f"{name} must be a positive number of seconds, not None")
    return seconds


def check_callback_url(name: str, value: Any) -> str | None:
    """An http(s) URL; plain http only to loopback (Octave itself needs public HTTPS)."""
    text = check_text(name, value)
    if text is None:
        return None
    from ._client import is_loopback

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(
            f"{name}={text!r} is not an http(s) URL; pass the URL `octave-frames callbacks` prints"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ArgumentError(
            f"{name}={text!r}: Octave posts results only to public https:// URLs (plain http is "
            "allowed for loopback, the simulator); put a tunnel or reverse proxy in front of "
            "`octave-frames callbacks` and pass its https address"
        )
    return text


RUN_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "fields",
        "Mapping[str, Hashable | None] | None",
        None,
        "``{request_field: column}``; overrides auto-detection, ``None`` removes a field.",
        check_mapping,
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
        check_mapping,
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
        check_whole(1),
        Flag(metavar="N", parse=int),
    ),
    Arg(
        "rate",
        "float | str",
        DEFAULT_RATE,
        "Requests per second at most, or ``'60/min'``, ``'2/s'``, ``'3600/hour'``; "
        "``'auto'`` finds the server's limit from its 429s (starts at 2/s, settles "
        "just under the limit, follows it when it changes).",
        check_rate,
        Flag(metavar="RATE"),
    ),
    Arg(
        "timeout",
        "float | None",
        None,
        f"Seconds for one HTTP call (Octave runs take 30-60 s); default {DEFAULT_TIMEOUT:g}.",
        check_seconds,
        Flag(metavar="S", parse=float),
    ),
    Arg(
        "max_retries",
        "int",
        DEFAULT_MAX_RETRIES,
        "Retries of one row on 5xx, timeouts and connection errors (a 429 slows the run instead).",
        check_whole(0),
        Flag(metavar="N", parse=int),
    ),
    Arg(
        "cache",
        "bool | str | os.PathLike[str]",
        True,
        f"The ledger that makes runs resumable: True (``{DEFAULT_CACHE_PATH}``), a path, or False.",
        check_cache,
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
        check_choice(RERUN),
        Flag(choices=RERUN),
    ),
    Arg(
        "dedupe",
        "Literal['request', 'person']",
        "request",
        "``'request'``: identical requests are sent once; ``'person'``: one sequence per "
        "person (same email, else LinkedIn, else name + company), copied to their other rows.",
        check_choice(DEDUPE),
        Flag(choices=DEDUPE),
    ),
    Arg(
        "errors",
        "Literal['record', 'raise']",
        "record",
        "``'record'``: failures are per-row statuses; ``'raise'``: `RunFailedError` after the run.",
        check_choice(ERRORS),
    ),
    Arg(
        "progress",
        "bool | None",
        None,
        "Progress bar; None shows it in notebooks and terminals.",
        check_maybe_flag,
    ),
    Arg(
        "dry_run",
        "bool",
        False,
        "Build and check every payload, send nothing; adds ``octave_payload``.",
        check_flag,
        Flag(
            switch=True, help="show the mapping, sample payloads, calls and credits; send nothing"
        ),
    ),
    Arg(
        "max_credits",
        "float | None",
        None,
        "Stop sending once this many credits are spent.",
        check_credits,
        Flag(metavar="N", parse=float),
    ),
    Arg("prefix", "str", "", "Prepended to every output column name.", check_string, Flag()),
    Arg("raw", "bool", False, "Add ``octave_response``, the parsed JSON answer.", check_flag),
    Arg(
        "mode",
        "Literal['sync', 'async']",
        "sync",
        "``'sync'``: one open call per row; ``'async'``: Octave's async jobs, submitted under "
        "the rate limit, their run ids saved, then collected (adds ``octave_run_id``).",
        check_choice(MODES),
        Flag(choices=MODES),
    ),
    Arg(
        "callback_url",
        "str | None",
        None,
        "Async mode: where Octave posts each result (a URL of ``octave-frames callbacks``); "
        "default a no-op, and results are polled.",
        check_callback_url,
        Flag(metavar="URL"),
    ),
    Arg(
        "poll",
        "float",
        DEFAULT_POLL,
        "Async mode: seconds between status checks of one job (jittered by a third either "
        "way); the first check waits for the usual job time.",
        check_positive,
        Flag(metavar="S", parse=float),
    ),
    Arg(
        "job_timeout",
        "float",
        DEFAULT_JOB_TIMEOUT,
        "Async mode: seconds a job may take from submission before its row is ``failed`` "
        "(its run id is kept: ``collect`` looks again, never resubmits).",
        check_positive,
        Flag(metavar="S", parse=float),
    ),
    Arg("api_key", "str | None", None, "Octave API key; default $OCTAVE_API_KEY.", check_text),
    Arg(
        "base_url",
        "str | None",
        None,
        "API root; default $OCTAVE_BASE_URL or https://app.octavehq.com.",
        check_text,
        Flag(metavar="URL"),
    ),
    Arg(
        "client",
        "Client | None",
        None,
        "A ready `octave_frames.Client` (instead of api_key / base_url / timeout).",
        check_client,
    ),
)


@dataclass(frozen=True)
class Options:
    """The validated, normalised arguments of one run.

    Attributes:
        endpoint: What the rows are run through.
        request: The endpoint's own arguments, checked (``agent``, ``instructions`` ...).

    The other attributes are the run's shared arguments (:data:`RUN_ARGS`).
    """

    endpoint: Endpoint
    request: dict[str, Any]
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
    mode: Mode
    callback_url: str | None
    poll: float
    job_timeout: float
    api_key: str | None
    base_url: str | None
    client: Client

    @property
    def static(self) -> dict[str, Any]:
        """The body keys every row's request carries (agent, output format, ...)."""
        return self.endpoint.static(self.request)

    @property
    def instructions(self) -> Mapping[Any, Any] | None:
        """``runtimeInstructions`` specs, for endpoints that take them."""
        value = self.request.get("instructions")
        return value if isinstance(value, Mapping) else None

    def settings(self) -> dict[str, str]:
        """The arguments that shape the answers and the run, readable, for the Run sheet."""
        out: dict[str, str] = {"endpoint": self.endpoint.name}
        values = {**self.request, **{arg.name: getattr(self, arg.name) for arg in RUN_ARGS}}
        for name, value in values.items():
            if name in ("api_key", "client") or value is None:
                continue
            if name in ("context", "instructions", "fields") and isinstance(value, Mapping):
                for key, spec in value.items():
                    out[f"{name}[{key}]"] = _describe_spec(spec)
            elif name == "rate":
                out["rate"] = f"{value:g}/s"
            else:
                out[name] = str(value)
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


def call_args(endpoint: Endpoint, *, leave_out: Sequence[str] = ()) -> tuple[Arg, ...]:
    """The arguments of a call on ``endpoint``, in the order its signature shows them.

    Who (the endpoint's identity arguments), what (fields, context, the rest of the
    request), how (the run's arguments).

    Args:
        endpoint: The endpoint the call runs.
        leave_out: Run arguments the call does not take (``submit`` has no ``mode``).

    Returns:
        The declared arguments.

    """
    first = [a for a in endpoint.args if a.name in ("agent", "experiment")]
    run = {arg.name: arg for arg in RUN_ARGS if arg.name not in leave_out}
    rest = [a for a in endpoint.args if a not in first]
    head = [run.pop(name) for name in ("fields", "context") if name in run]
    return (*first, *head, *rest, *run.values())


#: ``sequence``'s arguments.
SEQUENCE_CALL: Final = call_args(SEQUENCE)

#: What ``collect`` takes besides the arguments that give the rows their request keys.
WAIT_ARGS: Final[tuple[Arg, ...]] = (
    Arg(
        "wait",
        "bool",
        False,
        "Wait for the jobs still running (else fill in what has finished and return).",
        check_flag,
        Flag(switch=True, help="wait for the jobs still running"),
    ),
    Arg(
        "timeout",
        "float | None",
        DEFAULT_COLLECT_TIMEOUT,
        "With ``wait=True``: seconds to wait at most; jobs still running then are "
        "``failed`` with the reason (their run ids are kept for the next collect).",
        check_seconds,
        Flag(metavar="S", parse=float),
    ),
)

#: Run arguments that make no sense for a call that only submits, or only collects.
NOT_FOR_SUBMIT: Final = ("mode", "poll", "job_timeout")
NOT_FOR_COLLECT: Final = ("mode", "job_timeout", "timeout", "callback_url")


def submit_args(endpoint: Endpoint) -> tuple[Arg, ...]:
    """The arguments of ``submit`` on ``endpoint``."""
    return call_args(endpoint, leave_out=NOT_FOR_SUBMIT)


def collect_args(endpoint: Endpoint) -> tuple[Arg, ...]:
    """The arguments of ``collect``: those that shape a request, and how long to wait."""
    return (*call_args(endpoint, leave_out=NOT_FOR_COLLECT), *WAIT_ARGS)


def parse_options(
    kwargs: Mapping[str, Any],
    endpoint: Endpoint = SEQUENCE,
    args: Sequence[Arg] | None = None,
    **fixed: Any,
) -> Options:
    """Check every keyword argument of a run and return them normalised.

    Args:
        kwargs: The keyword arguments as the user gave them; missing ones take their default.
        endpoint: The endpoint the run goes to.
        args: The call's declared arguments (default: the endpoint's and every run argument).
        **fixed: Run arguments the call sets itself (``submit`` is ``mode="async"``).

    Returns:
        The :class:`Options` of the run; ``client`` is built from ``api_key``,
        ``base_url`` and ``timeout`` when not given.

    Raises:
        ArgumentError: An unknown keyword (with the nearest name), a wrong type or value
            (naming the argument and what would work), or contradicting arguments.

    """
    values = check_arguments(kwargs, args if args is not None else call_args(endpoint))
    for arg in RUN_ARGS:
        if arg.name not in values:
            values[arg.name] = arg.check(arg.name, fixed.get(arg.name, arg.default))
    request = {arg.name: values.pop(arg.name) for arg in endpoint.args}
    endpoint.check(request)
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
    return Options(endpoint=endpoint, request=request, **values)
