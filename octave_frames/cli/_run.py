"""``octave-frames run``: a contact sheet in, the same sheet with email sequences out."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from octave_frames import _calls
from octave_frames._arguments import Arg, add_flags, kwargs_from_flags
from octave_frames._calls import sequence
from octave_frames._constants import (
    DEFAULT_CACHE_PATH,
    DRY_RUN_WOULD_CALL,
    ENV_AGENT_OID,
    ENV_API_KEY,
    REQUEST_FIELDS,
)
from octave_frames._endpoints import SEQUENCE
from octave_frames._exceptions import Interrupted
from octave_frames._options import SEQUENCE_CALL, collect_args, submit_args
from octave_frames._report import report_for
from octave_frames._status import Status
from octave_frames.cli._common import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    CliError,
    check_output_path,
    parse_assignments,
    say,
    write_result,
)
from octave_frames.io import CSV_LAYOUTS, read_excel

__all__ = ["add_parsers", "run_command"]

_INPUT_SUFFIXES: Final = (".xlsx", ".xlsm", ".csv", ".tsv")
_SAMPLES: Final = 2
_PAIR_EXAMPLES: Final = {
    "fields": "email=Work Email",
    "context": "all={Account Research}",
    "instructions": "all=Keep it short",
}
# Only names that look like environment variables are echoed: a key pasted by mistake is not.
_ENV_NAME: Final = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")

_SUBMIT_EPILOG: Final = f"""\
examples:
  octave-frames submit contacts.xlsx -o submitted.xlsx --agent ca_123 --context 'all={{Notes}}'
  octave-frames collect submitted.xlsx -o out.xlsx --agent ca_123 --context 'all={{Notes}}'
  octave-frames collect submitted.xlsx -o out.xlsx --agent ca_123 --wait --timeout 3600

Run ids are saved in {DEFAULT_CACHE_PATH} (or --cache) the moment Octave returns them, and the
submitted sheet carries them in octave_run_id: collect works from another process or machine,
hours later, and never submits a job twice. Pass --callback-url (the URL `octave-frames
callbacks` prints) to submit so results arrive without polling.
"""

_EPILOG: Final = f"""\
examples:
  octave-frames run contacts.xlsx -o out.xlsx --agent ca_123 \\
      --context 'all=ACCOUNT RESEARCH:\\n{{Account Research}}' --instructions 'all=Keep it short'
  octave-frames run contacts.csv --agent ca_123 --field 'email=Work Email' --dry-run
  octave-frames run out.xlsx -o out.xlsx --agent ca_123      # retry only the rows not done

The key is read from ${ENV_API_KEY} (or the variable --api-key-env names), never from
the command line. Answers are cached in {DEFAULT_CACHE_PATH} as they arrive: after a
failure or Ctrl-C, the same command resumes and pays for nothing twice.
"""


@dataclass(frozen=True)
class _Command:
    """One subcommand that runs rows through Octave: its call and its declared arguments."""

    name: str
    help: str
    description: str
    function: str
    args: tuple[Arg, ...]
    epilog: str

    def call(self, frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Run the command's public call (looked up when run, so tests can stand in)."""
        function: Callable[..., pd.DataFrame] = getattr(_calls, self.function)
        return function(frame, **kwargs)


_COMMANDS: Final = (
    _Command(
        "run",
        "write Octave email sequences for every contact of a sheet",
        "Run Octave's Sequence Agent on every row of INPUT and write the\n"
        "emails, match confidence and a run summary to OUTPUT. With --async the rows\n"
        "go as Octave's async jobs (submitted, their run ids saved, then collected).",
        "sequence",
        SEQUENCE_CALL,
        _EPILOG,
    ),
    _Command(
        "submit",
        "submit every contact as an async Octave job and return at once",
        "Submit every row of INPUT as an async Sequence Agent job under the rate limit,\n"
        "save each run id in the ledger as it arrives, write OUTPUT with the rows\n"
        "pending, and return. `octave-frames collect` fetches the results later.",
        "submit",
        submit_args(SEQUENCE),
        _SUBMIT_EPILOG,
    ),
    _Command(
        "collect",
        "fetch the results of jobs submitted before (never submits)",
        "Fill in the results of the jobs `octave-frames submit` started for INPUT (the\n"
        "submitted sheet, or the original with the same options): callbacks the ledger\n"
        "received first, then status checks; --wait waits for the jobs still running.",
        "collect",
        collect_args(SEQUENCE),
        _SUBMIT_EPILOG,
    ),
)


def add_parsers(commands: Any) -> list[argparse.ArgumentParser]:
    """Add ``run``, ``submit`` and ``collect`` to ``commands`` (argparse's subparsers object)."""
    return [_add(commands, command) for command in _COMMANDS]


def _add(commands: Any, command: _Command) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        command.name,
        help=command.help,
        description=command.description,
        epilog=command.epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help=".xlsx, .xlsm, .csv or .tsv")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=".xlsx (sheets Contacts, Emails, Run) or .csv; required unless --dry-run",
    )
    parser.add_argument(
        "--csv-layout",
        choices=CSV_LAYOUTS,
        default=CSV_LAYOUTS[0],
        help="a .csv OUTPUT: one row per email step (long, the default, as in Python) "
        "or one row per contact (wide)",
    )
    parser.add_argument("--sheet", metavar="NAME", help="sheet of INPUT (default: the first)")
    parser.add_argument(
        "--api-key-env",
        default=ENV_API_KEY,
        metavar="VAR",
        help=f"environment variable holding the key (default {ENV_API_KEY})",
    )
    if any(arg.name == "mode" for arg in command.args):
        parser.add_argument(
            "--async", dest="mode", action="store_const", const="async", help="--mode async"
        )
    add_flags(parser, command.args)
    parser.set_defaults(handler=run_command, command_spec=command)
    return parser


def _read_input(path: Path, sheet: str | None) -> pd.DataFrame:
    if path.suffix.lower() not in _INPUT_SUFFIXES:
        raise CliError(f"cannot read {path.name!r}: INPUT must be .xlsx, .xlsm, .csv or .tsv")
    if not path.exists():
        raise CliError(f"no such file: {path}")
    if sheet is not None and path.suffix.lower() in (".csv", ".tsv"):
        raise CliError(f"--sheet applies to workbooks; {path.name} is a text file")
    return read_excel(path, sheet_name=sheet if sheet is not None else 0)


def _check_variable_name(variable: str) -> None:
    if not _ENV_NAME.fullmatch(variable):
        raise CliError(
            "--api-key-env takes the NAME of an environment variable, such as "
            f"{ENV_API_KEY}, not the key itself"
        )


def _api_key(variable: str) -> str:
    key = os.environ.get(variable, "").strip()
    if not key:
        raise CliError(
            f"no API key: ${variable} is not set. Export your Octave API key in it (keys are "
            "never taken on the command line), or try `octave-frames demo`, which needs none",
            EXIT_AUTH,
        )
    return key


def _pairs(values: list[str], arg: Arg) -> dict[str, Any]:
    example = _PAIR_EXAMPLES.get(arg.name, "all=...")
    parsed = parse_assignments(
        values, option=arg.option, example=example, unescape=arg.name != "fields"
    )
    return dict(parsed or {})


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    if not (args.agent or args.experiment or os.environ.get(ENV_AGENT_OID, "").strip()):
        raise CliError(
            "no agent: pass --agent ca_... (the Sequence Agent's id from Octave's Agents "
            f"page) or --experiment ae_..., or set ${ENV_AGENT_OID}"
        )
    return kwargs_from_flags(args, args.command_spec.args, _pairs)


def run_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames run``, ``submit`` or ``collect``; return the exit code."""
    command: _Command = args.command_spec
    if args.output is None and not args.dry_run:
        raise CliError(f"{command.name} needs -o OUTPUT (.xlsx or .csv), or --dry-run to only look")
    if args.output is not None:
        check_output_path(args.output)
    kwargs = _kwargs(args)
    if args.dry_run:
        return _dry_run(_read_input(args.input, args.sheet), kwargs)
    _check_variable_name(args.api_key_env)
    frame = _read_input(args.input, args.sheet)
    if not os.environ.get(args.api_key_env, "").strip():
        # Report what is wrong with the sheet and templates before asking for a key.
        check = kwargs.copy()
        check["dry_run"], check["cache"], check["progress"] = True, False, False
        sequence(frame, **check)
    kwargs["api_key"] = _api_key(args.api_key_env)
    try:
        out = command.call(frame, **kwargs)
    except Interrupted as stop:
        if stop.frame is None:
            raise
        _report(stop.frame, args, kwargs)
        return EXIT_TERMINATED if stop.signal_name == "SIGTERM" else EXIT_INTERRUPTED
    _report(out, args, kwargs)
    return EXIT_OK


def _report(out: pd.DataFrame, args: argparse.Namespace, kwargs: dict[str, Any]) -> None:
    """Write OUTPUT, print the summary, and say how to finish what is not done."""
    written = write_result(out, args.output, csv_layout=args.csv_layout)
    summary = out.octave.summary()
    print(summary)
    print(written)
    pending = summary.counts.get(Status.PENDING, 0)
    if pending:
        say(
            f"{pending:,} jobs are still running; their run ids are saved (in the ledger "
            f"and in {args.output}): `octave-frames collect {args.output} -o {args.output} "
            "--wait` fetches them"
        )
    undone = summary.counts.get(Status.FAILED, 0) + summary.counts.get(Status.NOT_SENT, 0)
    if undone:
        how = (
            f"run the same command on {args.output} (rows already done are skipped)"
            if kwargs.get("cache") is False
            else "run the same command again: answers already received come from the cache"
        )
        say(f"{undone:,} rows were not done; to retry only those, {how}")


def _dry_run(frame: pd.DataFrame, kwargs: dict[str, Any]) -> int:
    cache = kwargs.get("cache", True)
    path = Path(DEFAULT_CACHE_PATH) if cache is True else cache
    if isinstance(path, Path) and not path.exists():
        kwargs["cache"] = False  # looking must not create a cache file
    kwargs["dry_run"] = True
    kwargs["progress"] = False
    out = sequence(frame, **kwargs)
    report = report_for(out)
    fields = report.fields if report is not None else {}
    reasons = report.field_reasons if report is not None else {}
    print("Field mapping (request field <- column):")
    for name, column in fields.items():
        why = reasons.get(name)
        print(f"  {name:<16} <- {column}" + (f"   ({why})" if why else ""))
    unmapped = [name for name in REQUEST_FIELDS if name not in fields]
    if unmapped:
        print(f"  not mapped: {', '.join(unmapped)}")
    status = out["octave_status"].astype("string")
    reason = out["octave_error"].astype("string")
    sending = (reason == DRY_RUN_WOULD_CALL).fillna(False).astype(bool)
    payloads = out.loc[sending, "octave_payload"].drop_duplicates()
    for number, (label, text) in enumerate(payloads.head(_SAMPLES).items(), start=1):
        print(f"\nSample payload {number} of {len(payloads):,} (row {label!r}):")
        print(json.dumps(json.loads(str(text)), indent=2, ensure_ascii=False))
    invalid = reason[status == Status.INVALID].value_counts()
    parts = [
        f"duplicates sent once: {report.duplicates if report else 0:,}",
        f"from the cache: {report.cache_hits if report else 0:,}",
        f"already done: {sum(report.skipped.values()) if report else 0:,}",
        f"invalid: {int(invalid.sum()):,}",
    ]
    print(f"\nPlan: {len(out):,} rows -> {len(payloads):,} calls to Octave ({', '.join(parts)})")
    credits = report.estimated_credits if report is not None else None
    print(f"Estimated credits: ~{credits or 0:g}")
    for text, count in invalid.items():
        print(f"  invalid x{count}: {text}")
    notes = out["octave_note"].dropna()
    if len(notes):
        print(f"\nValues left out of {len(notes):,} rows (see octave_note):")
        for label, text in notes.head(_SAMPLES * 2).items():
            print(f"  row {label!r}: {text}")
    if report is not None and report.people:
        print("\nPeople who would get more than one sequence (--dedupe person sends one each):")
        for line in report.people:
            print(f"  {line}")
    print("Dry run: nothing was sent.")
    return EXIT_OK
