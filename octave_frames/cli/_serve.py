"""``octave-frames simulator``: serve the stand-in of Octave's API on a local port."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
from collections.abc import Iterator
from types import FrameType
from typing import Any

from octave_frames._constants import ENV_AGENT_OID, ENV_API_KEY, ENV_BASE_URL
from octave_frames.cli._common import EXIT_OK, CliError, latency_arg
from octave_frames.simulator import Simulator, run_server

__all__ = ["add_parser", "serve_command"]

_COUNTERS_HELP = """\
counters: GET /_simulator/counters answers them as JSON (no api_key needed, never
billed, not counted as a request); POST /_simulator/reset zeroes them (and forgets
jobs); add ?polls_by_id=1 for the polls of each job. They are printed on stop too.
  requests              every API request (not /_simulator/...)
  agent_requests        requests to billable run endpoints (sync, async, headless, workflows)
  billed                runs started and charged: money spent
  unique_billed         distinct billing keys among them (x-external-request-id, or the
                        body when there is none); billed == unique_billed means nothing
                        was paid twice
  duplicates            billed - unique_billed: runs paid for a second time
  by_status             HTTP status -> responses sent with it
  credits_remaining     the balance now
  in_flight, max_in_flight_seen   billable requests open now / at most
  submissions           async jobs accepted (agent runs, headless emails, workflows)
  polls                 status requests naming an id; polls_per_job_max / _mean per job
  callbacks_sent        callback POSTs the receiver accepted (2xx), duplicates included
  callbacks_failed      callback POSTs that failed (then retried with backoff)
  callbacks_abandoned   callbacks given up after every retry failed
  callbacks_duplicated  callbacks delivered a second time on purpose
  callbacks_lost        callbacks never sent on purpose (--callback-loss-rate)
  callbacks_refused     callbacks not sent: the URL is not loopback (e.g. a no-op URL)

Routes: POST /api/v2/agents/sequence/run, GET /api/v2/api-key/validate,
POST /api/v2/async/agent/run, GET /api/v2/async/agent/run/status,
POST /api/v2/headless/generate-emails, POST /api/v2/async/headless/generate-emails,
POST /api/v2/workflows/run, GET /api/v2/workflows/run/status.
No rate limit unless --rate is given, so a client's own rate decides its speed."""


def _fraction(name: str) -> Any:
    """Return an argparse type for a share within [0, 1], named in its error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"{name} must be a number from 0 to 1, not {text!r}")
        return value

    return parse


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``simulator`` subcommand to ``commands`` (argparse's subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "simulator",
        help="serve a local stand-in of Octave's API for notebooks and tests",
        description="Serve a deterministic simulator of Octave's API (Sequence Agent, key "
        "check, async runs and callbacks, headless emails, workflows) until Ctrl-C or "
        "SIGTERM, then print its counters. It accepts the key 'sim-key', agents ca_* and "
        "workflows caw_*.",
        epilog=_COUNTERS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--host", default="127.0.0.1", help="default %(default)s")
    parser.add_argument(
        "--port", type=int, default=8080, help="default %(default)s; 0 picks a free one"
    )
    parser.add_argument(
        "--latency",
        type=latency_arg,
        default=(0.3, 0.6),
        metavar="LOW,HIGH",
        help="seconds per agent run (default 0.3,0.6; Octave takes 30-60)",
    )
    parser.add_argument(
        "--rate", type=float, metavar="R", help="requests/s per key, then 429 (default: no limit)"
    )
    parser.add_argument("--burst", type=int, default=1, metavar="N", help="default %(default)s")
    parser.add_argument(
        "--max-in-flight", type=int, metavar="N", help="open runs at once, then 429"
    )
    for flag, default, what in (
        ("--error-rate", 0.0, "share of 5xx"),
        ("--hang-rate", 0.0, "share of runs that hang"),
        ("--not-found-rate", 0.03, "share of contacts answered found: false (default %(default)s)"),
    ):
        parser.add_argument(flag, type=_fraction(flag), default=default, metavar="F", help=what)
    parser.add_argument("--steps", type=int, default=3, metavar="N", help="emails per sequence")
    parser.add_argument("--credits", type=float, default=1_000_000.0, help="starting balance")
    parser.add_argument("--seed", type=int, default=0, help="seeds faults and content")
    jobs = parser.add_argument_group("async jobs and callbacks")
    jobs.add_argument(
        "--async-result",
        choices=("envelope", "data"),
        default="envelope",
        help="what an async job's result holds: the whole sync answer or its data "
        "(default %(default)s)",
    )
    jobs.add_argument(
        "--job-duration",
        type=latency_arg,
        metavar="LOW,HIGH",
        help="seconds an async job runs (default: --latency)",
    )
    for flag, what in (
        ("--job-failure-rate", "share of async jobs that fail"),
        ("--job-never-rate", "share of async jobs that never finish"),
        ("--callback-duplicate-rate", "share of callbacks delivered twice"),
        ("--callback-loss-rate", "share of callbacks never delivered"),
    ):
        jobs.add_argument(flag, type=_fraction(flag), default=0.0, metavar="F", help=what)
    jobs.add_argument(
        "--callback-delay",
        type=latency_arg,
        default=(0.0, 0.0),
        metavar="LOW,HIGH",
        help="seconds a callback comes after its job is done (default 0)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's (default %(default)s; info logs every request)",
    )
    parser.set_defaults(handler=serve_command)
    return parser


def _free_port(host: str) -> int:
    """A port that is free now, so the URL can be printed before the server starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


class _Stopped(Exception):
    """SIGTERM arrived: stop like Ctrl-C does."""


def _on_sigterm(_sig: int, _frame: FrameType | None) -> None:
    raise _Stopped


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """Make SIGTERM end the command normally, so the counters are printed.

    uvicorn catches SIGTERM, shuts down gracefully, restores the handler it found and
    raises the signal again; with Python's default handler that would kill the process
    before anything after the server could run.
    """
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames simulator`` until Ctrl-C or SIGTERM; return the exit code."""
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be within 0-65535, not {args.port}")
    sim = Simulator(
        latency=args.latency,
        rate=args.rate,
        burst=args.burst,
        max_in_flight=args.max_in_flight,
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
        not_found_rate=args.not_found_rate,
        steps=args.steps,
        credits=args.credits,
        seed=args.seed,
        async_result=args.async_result,
        job_duration=args.job_duration,
        job_failure_rate=args.job_failure_rate,
        job_never_rate=args.job_never_rate,
        callback_duplicate_rate=args.callback_duplicate_rate,
        callback_loss_rate=args.callback_loss_rate,
        callback_delay=args.callback_delay,
    )
    port = args.port or _free_port(args.host)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}"
    key = sorted(sim.config.api_keys)[0]
    print(
        f"Octave simulator on {url} (SIMULATED answers; Ctrl-C stops it)\n"
        f"API key: {key} · agents: any id starting with ca_ · counters: "
        f"{url}/_simulator/counters\n"
        "Point octave_frames at it:\n"
        f"  export {ENV_BASE_URL}={url} {ENV_API_KEY}={key} {ENV_AGENT_OID}=ca_demo",
        flush=True,
    )
    try:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal it caught.
        with _sigterm_stops(), contextlib.suppress(KeyboardInterrupt, _Stopped):
            run_server(sim, args.host, port, log_level=args.log_level)
    finally:
        print("simulator stopped", flush=True)
        print("counters:", json.dumps(sim.counters.to_json(), indent=2), flush=True)
    return EXIT_OK
