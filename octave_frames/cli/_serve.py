"""``octave-frames simulator``: serve the stand-in of Octave's API on a local port."""

from __future__ import annotations

import argparse
import contextlib
import socket
from typing import Any

from octave_frames._constants import ENV_AGENT_OID, ENV_API_KEY, ENV_BASE_URL
from octave_frames.cli._common import EXIT_OK, CliError, latency_arg
from octave_frames.simulator import Simulator, run_server

__all__ = ["add_parser", "serve_command"]


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``simulator`` subcommand to ``commands`` (argparse's subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "simulator",
        help="serve a local stand-in of Octave's API for notebooks and tests",
        description="Serve a deterministic simulator of Octave's API (Sequence Agent, key "
        "check, async runs) until Ctrl-C. It accepts the key 'sim-key' and agents ca_*.",
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
    parser.add_argument("--rate", type=float, metavar="R", help="requests/s per key, then 429")
    parser.add_argument("--burst", type=int, default=1, metavar="N", help="default %(default)s")
    parser.add_argument(
        "--max-in-flight", type=int, metavar="N", help="open runs at once, then 429"
    )
    parser.add_argument("--error-rate", type=float, default=0.0, metavar="F", help="share of 5xx")
    parser.add_argument(
        "--hang-rate", type=float, default=0.0, metavar="F", help="share of runs that hang"
    )
    parser.add_argument(
        "--not-found-rate",
        type=float,
        default=0.03,
        metavar="F",
        help="share of contacts answered found: false (default %(default)s)",
    )
    parser.add_argument("--steps", type=int, default=3, metavar="N", help="emails per sequence")
    parser.add_argument("--credits", type=float, default=1_000_000.0, help="starting balance")
    parser.add_argument("--seed", type=int, default=0, help="seeds faults and content")
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


def serve_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames simulator`` until Ctrl-C; return the exit code."""
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
    )
    port = args.port or _free_port(args.host)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{port}"
    key = sorted(sim.config.api_keys)[0]
    print(
        f"Octave simulator on {url} (SIMULATED answers; Ctrl-C stops it)\n"
        f"API key: {key} · agents: any id starting with ca_\n"
        "Point octave_frames at it:\n"
        f"  export {ENV_BASE_URL}={url} {ENV_API_KEY}={key} {ENV_AGENT_OID}=ca_demo",
        flush=True,
    )
    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal it caught.
    with contextlib.suppress(KeyboardInterrupt):
        run_server(sim, args.host, port, log_level=args.log_level)
    print("simulator stopped", flush=True)
    return EXIT_OK
