"""What the commands share: exit codes, the CLI's own error, output files, messages."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Final

import pandas as pd

from octave_frames._constants import SHEET_CONTACTS, SHEET_EMAILS, SHEET_RUN
from octave_frames.io import to_csv
from octave_frames.io._csv import CsvLayout

__all__ = [
    "EXIT_AUTH",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "PROG",
    "CliError",
    "check_output_path",
    "latency_arg",
    "parse_assignments",
    "say",
    "write_result",
]

PROG: Final = "octave-frames"
EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
EXIT_AUTH: Final = 3
EXIT_INTERRUPTED: Final = 130
EXIT_TERMINATED: Final = 143

_EXCEL_SUFFIXES: Final = (".xlsx", ".xlsm")
_OUTPUT_SUFFIXES: Final = (*_EXCEL_SUFFIXES, ".csv")
# Shells make newlines awkward to type, so templates may spell them "\n".
_ESCAPE_RE: Final = re.compile(r"\\([\\nt])")
_ESCAPES: Final = {"\\": "\\", "n": "\n", "t": "\t"}


class CliError(Exception):
    """A problem the command reports in one line, with the exit code it ends with."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def say(message: str) -> None:
    """Print a one-line message for the person at the terminal (stderr, not the output)."""
    print(f"{PROG}: {message}", file=sys.stderr)


def parse_assignments(
    pairs: list[str] | None, *, option: str, example: str, unescape: bool = True
) -> dict[str, str | None] | None:
    r"""Turn repeated ``KEY=VALUE`` options into a dict; an empty value becomes None.

    Args:
        pairs: The values given, in order (None when the option was not used).
        option: The option's name, for messages (``--context``).
        example: A valid value, for messages.
        unescape: Turn ``\n``, ``\t`` and ``\\`` in values into newline, tab, backslash.

    Raises:
        CliError: A value without ``=``, an empty key, or a key given twice.

    """
    if not pairs:
        return None
    out: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CliError(f"{option} expects KEY=VALUE such as {example!r}, not {pair!r}")
        if key in out:
            raise CliError(f"{option} gives {key!r} twice; give each key once")
        if unescape:
            value = _ESCAPE_RE.sub(lambda m: _ESCAPES[m[1]], value)
        out[key] = value or None
    return out


def latency_arg(text: str) -> tuple[float, float]:
    """Parse ``LOW,HIGH`` (or one number for both) seconds of simulated latency."""
    try:
        low, _, high = text.partition(",")
        return float(low), float(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH seconds such as 0.3,1.0, not {text!r}"
        ) from None


def check_output_path(path: Path) -> None:
    """Refuse, before any credit is spent, an output that could not be written.

    Raises:
        CliError: An unsupported suffix or a folder that does not exist.

    """
    if path.suffix.lower() not in _OUTPUT_SUFFIXES:
        raise CliError(f"cannot write {path.name!r}: the output must end in .xlsx, .xlsm or .csv")
    if not path.parent.is_dir():
        raise CliError(f"cannot write {path}: the folder {path.parent} does not exist")


def write_result(frame: pd.DataFrame, path: Path, *, csv_layout: CsvLayout = "long") -> str:
    """Write a result frame by the path's suffix; return a line saying what was written.

    Workbooks get the ``Contacts``, ``Emails`` and ``Run`` sheets; a CSV is injection-safe,
    one row per email step (``"long"``, as `df.octave.to_csv`) or per contact (``"wide"``).
    """
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        frame.octave.to_excel(path)
        return (
            f"wrote {path} ({len(frame):,} rows; sheets {SHEET_CONTACTS}, {SHEET_EMAILS}, "
            f"{SHEET_RUN})"
        )
    to_csv(frame, path, layout=csv_layout)
    what = "one per contact" if csv_layout == "wide" else "one row per email step"
    return f"wrote {path} ({len(frame):,} contacts, {what})"
