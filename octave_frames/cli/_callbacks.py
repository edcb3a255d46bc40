"""``octave-frames callbacks``: receive Octave's async callbacks into the ledger."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Any, Final
from urllib.parse import urlsplit

import uvicorn

from octave_frames._callbacks import CALLBACK_PREFIX, HEALTH_PATH, CallbackApp, callback_app
from octave_frames._constants import DEFAULT_CACHE_PATH
from octave_frames.cli._common import EXIT_OK, PROG, CliError

# One SIGTERM/port helper for every serving command; they live with the simulator's.
from octave_frames.cli._serve import _free_port, _sigterm_stops, _Stopped

__all__ = ["add_parser", "callbacks_command"]

_DEFAULT_PORT: Final = 8081
_GRACEFUL_SECONDS: Final = 1
_LOOPBACK: Final = ("localhost", "127.0.0.1", "::1")

_EPILOG = f"""\
How it works: jobs submitted with a callback URL (`{PROG} submit --callback-url
URL`, or callback_url= in Python) make Octave POST each job's result to that URL
when it is done. This command listens for those POSTs and stores each one in the
ledger (--cache, the file the jobs were submitted with), so `{PROG} collect`
polls only for what has not arrived.

The URL it prints ends with a secret token kept in the ledger: Octave does not sign its
callbacks, so only requests to that URL naming a run id this ledger submitted are stored.
Anything else is refused and changes nothing; a callback delivered twice is stored once.

Octave needs a public HTTPS address. Put a reverse proxy (nginx, Caddy) or a tunnel in front
of --host/--port, for example
  cloudflared tunnel --url http://127.0.0.1:{_DEFAULT_PORT}
  ngrok http {_DEFAULT_PORT}
and pass the address it gives as --public-url; the printed callback URL then uses it.

Routes: POST {CALLBACK_PREFIX}TOKEN (callbacks), GET {HEALTH_PATH} (health check, no token).
On Ctrl-C or SIGTERM it prints how many callbacks were stored, delivered again, or refused."""


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``callbacks`` subcommand to ``commands`` (argparse's subparsers object).

    Args:
        commands: The object ``ArgumentParser.add_subparsers`` returned.

    Returns:
        The subcommand's parser.

    """
    parser: argparse.ArgumentParser = commands.add_parser(
        "callbacks",
        help="receive Octave's async callbacks into the ledger; prints the URL to pass",
        description="Serve a receiver for Octave's async callbacks until Ctrl-C or SIGTERM. "
        "It prints the exact URL to pass as --callback-url / callback_url=, stores every "
        "callback in the ledger the moment it arrives, and prints counts on stop.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=_DEFAULT_PORT,
        help="port to listen on (default %(default)s; 0 picks a free one)",
    )
    parser.add_argument(
        "--cache",
        default=DEFAULT_CACHE_PATH,
        metavar="PATH",
        help="the ledger the jobs were submitted with (default %(default)s)",
    )
    parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the HTTPS address a tunnel or reverse proxy exposes for this port, "
        "e.g. https://hooks.example.com; used in the printed callback URL",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="info also logs each callback stored (default %(default)s); URLs are never "
        "logged, so the token stays out of logs",
    )
    parser.set_defaults(handler=callbacks_command)
    return parser


def _check_public_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"--public-url must look like https://host[/path], not {url!r}")
    if parts.query or parts.fragment:
        raise CliError(f"--public-url must not hold a query or fragment: {url!r}")
    return url.strip()


def _show_info_lines(level: str) -> None:
    """Print the receiver's INFO lines too; ``main`` already prints its warnings."""
    if level not in ("info", "debug"):
        return
    logger = logging.getLogger("octave_frames.callbacks")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    handler.addFilter(lambda record: record.levelno < logging.WARNING)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


def _banner(app: CallbackApp, local: str, public: str | None) -> str:
    lines = [
        f"Octave callback receiver on {local} (Ctrl-C stops it), storing into {app.ledger.path}",
        "Pass this URL to Octave as --callback-url / callback_url=:",
        f"  {app.local_url(public or local)}",
    ]
    host = urlsplit(public).hostname if public else None
    if public is None or host in _LOOPBACK:
        lines.append(
            "That address is only reachable from this machine. Octave needs a public HTTPS "
            "address: put a reverse proxy or a tunnel (e.g. `cloudflared tunnel --url "
            f"{local}` or `ngrok http {urlsplit(local).port}`) in front of this port and "
            "start again with --public-url https://..."
        )
    elif public.lower().startswith("http://"):
        lines.append("Octave requires HTTPS: an http:// callback URL will be refused by it.")
    return "\n".join(lines)


def callbacks_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames callbacks`` until Ctrl-C or SIGTERM; return the exit code.

    Args:
        args: The parsed command line.

    Returns:
        The exit code (0 once stopped).

    Raises:
        CliError: A bad ``--port`` or ``--public-url``.

    """
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be within 0-65535, not {args.port}")
    public = None if args.public_url is None else _check_public_url(args.public_url)
    app = callback_app(args.cache)
    try:
        port = args.port or _free_port(args.host)
        host = f"[{args.host}]" if ":" in args.host else args.host
        local = f"http://{host}:{port}"
        print(_banner(app, local, public), flush=True)
        _show_info_lines(args.log_level)
        config = uvicorn.Config(
            app,
            host=args.host,
            port=port,
            log_level=args.log_level,
            lifespan="off",
            # uvicorn's access log prints each path, and the path holds the token.
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_SECONDS,
        )
        try:
            # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal it caught.
            with _sigterm_stops(), contextlib.suppress(KeyboardInterrupt, _Stopped):
                uvicorn.Server(config).run()
        finally:
            counts = app.counts
            summary = (
                f"callback receiver stopped: {counts.stored} stored, "
                f"{counts.duplicates} duplicates, {counts.refused} refused"
            )
            if counts.errors:
                summary += f", {counts.errors} not stored (ledger errors; Octave retries them)"
            print(summary, flush=True)
    finally:
        app.close()
    return EXIT_OK
