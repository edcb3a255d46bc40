"""``main``: parse the command line, run a command, turn failures into exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from octave_frames import __version__
from octave_frames._constants import ENV_API_KEY
from octave_frames._exceptions import (
    ArgumentError,
    AuthenticationError,
    ColumnError,
    NotFoundError,
    OctaveError,
)
from octave_frames.cli import _callbacks, _demo, _run, _serve
from octave_frames.cli._common import (
    EXIT_AUTH,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    PROG,
    CliError,
    say,
)

__all__ = ["build_parser", "main"]

Command = Callable[[argparse.Namespace], int]

_EXAMPLES = f"""\
examples:
  {PROG} demo                                   # the whole job on the built-in simulator
  {PROG} run contacts.xlsx --agent ca_123 --dry-run        # mapping, payloads, credits
  {PROG} run contacts.xlsx -o out.xlsx --agent ca_123 \\
      --context 'all=ACCOUNT RESEARCH:\\n{{Account Research}}'
  {PROG} run out.xlsx -o out.xlsx --agent ca_123            # retry only the rows not done
  {PROG} simulator --port 8080                  # a local Octave stand-in, no key needed

The key is read from ${ENV_API_KEY}. Ctrl-C finishes the calls already sent (they are
paid) and saves them; the same command resumes. `{PROG} COMMAND --help` for the options.
"""


class _NoKeyOnCommandLine(argparse.Action):
    """Refuse ``--api-key VALUE`` without echoing the value.

    Without this option argparse would either report the key back as an unrecognised
    argument or, worse, take ``--api-key`` as an abbreviation of ``--api-key-env``.
    """

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.error(
            "the API key is never taken on the command line (it would stay in your shell "
            "history and be visible in `ps`); export OCTAVE_API_KEY instead"
        )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``octave-frames`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Octave's AI sales agents on a contact sheet: personalised email "
        "sequences for every row, written back to Excel or CSV.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the full traceback of an unexpected error (for bug reports)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for target in (
        parser,
        _demo.add_parser(commands),
        *_run.add_parsers(commands),
        _serve.add_parser(commands),
        _callbacks.add_parser(commands),
    ):
        target.add_argument(
            "--api-key", nargs="?", action=_NoKeyOnCommandLine, help=argparse.SUPPRESS
        )
    return parser


def _exit_code(exc: BaseException) -> int | None:
    """The exit code for an error the user can act on, or None for an unexpected one."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, AuthenticationError):
        return EXIT_AUTH
    if isinstance(
        exc, ArgumentError | ColumnError | NotFoundError | FileNotFoundError | IsADirectoryError
    ):
        return EXIT_USAGE
    if isinstance(exc, OctaveError | OSError):
        return EXIT_FAILURE
    return None


def _interrupted_hint(args: argparse.Namespace) -> str:
    if args.command in ("run", "submit", "collect") and getattr(args, "cache", None) is not False:
        return "answers received so far are kept in the cache: run the same command again to resume"
    return "nothing more was sent"


def main(argv: list[str] | None = None) -> int:
    """Run ``octave-frames`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Example:
        >>> main(["demo", "--rows", "5", "-o", "demo.xlsx"])  # doctest: +SKIP
        0

    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error argparse printed (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    command: Command = args.handler
    # Library warnings (a run stopped early, cells cut to fit Excel) matter here; its
    # INFO lines would only repeat what the command prints.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("octave_frames")
    logger.addHandler(handler)
    try:
        return command(args)
    except BrokenPipeError:
        # The reader went away (`| head`); Python's documented way to exit quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except KeyboardInterrupt:
        say(f"interrupted; {_interrupted_hint(args)}")
        return EXIT_INTERRUPTED
    except Exception as exc:
        code = _exit_code(exc)
        if code is None and args.traceback:
            raise
        if code is None:
            say(
                f"error: {type(exc).__name__}: {exc} (this looks like a bug: run again with "
                "--traceback and report it)"
            )
            return EXIT_FAILURE
        hint = ""
        if isinstance(exc, AuthenticationError):
            hint = f"; check the key in ${getattr(args, 'api_key_env', ENV_API_KEY)}"

        say(f"error: {exc}{hint}")
        return code
    finally:
        logger.removeHandler(handler)
