"""``octave-frames run``: a contact sheet in, the same sheet with email sequences out."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any, Final, cast

import pandas as pd

from octave_frames._accessor import sequence
from octave_frames._constants import (
    DEFAULT_CACHE_PATH,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT,
    DRY_RUN_WOULD_CALL,
    ENV_AGENT_OID,
    ENV_API_KEY,
    ENV_BASE_URL,
    OUTPUT_FORMATS,
    REQUEST_FIELDS,
)
from octave_frames._options import SequenceKwargs
from octave_frames._report import report_for
from octave_frames.cli._common import (
    EXIT_AUTH,
    EXIT_OK,
    CliError,
    check_output_path,
    parse_assignments,
    say,
    write_result,
)
from octave_frames.io import read_excel

__all__ = ["add_parser", "run_command"]

_INPUT_SUFFIXES: Final = (".xlsx", ".xlsm", ".csv", ".tsv")
_SAMPLES: Final = 2
# Only names that look like environment variables are echoed: a key pasted by mistake is not.
_ENV_NAME: Final = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")

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


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``run`` subcommand to ``commands`` (argparse's subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="write Octave email sequences for every contact of a sheet",
        description="Run Octave's Sequence Agent on every row of INPUT and write the\n"
        "emails, match confidence and a run summary to OUTPUT.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("input", type=Path, metavar="INPUT", help=".xlsx, .xlsm, .csv or .tsv")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help=".xlsx (sheets Contacts, Emails, Run) or .csv (one row per contact); "
        "required unless --dry-run",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--agent", metavar="ca_...", help=f"agent id (default ${ENV_AGENT_OID})")
    who.add_argument("--experiment", metavar="ae_...", help="experiment id instead of an agent")
    parser.add_argument(
        "--context",
        action="append",
        metavar="KEY=TEMPLATE",
        help="runtime context for step KEY ('all' or 1-7); {Column} is the row's value, "
        "\\n a newline; repeatable",
    )
    parser.add_argument(
        "--instructions", action="append", metavar="KEY=TEMPLATE", help="like --context"
    )
    parser.add_argument(
        "--field",
        action="append",
        metavar="FIELD=COLUMN",
        help="send COLUMN as request FIELD (e.g. 'email=Work Email'; 'FIELD=' sends none); "
        "other fields are found from the headers; repeatable",
    )
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, help="default text")
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"calls in flight (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--rate", metavar="RATE", help=f"e.g. 2/s, 90/min (default {DEFAULT_RATE})")
    parser.add_argument(
        "--timeout", type=float, metavar="S", help=f"seconds per call (default {DEFAULT_TIMEOUT:g})"
    )
    parser.add_argument(
        "--max-retries", type=int, metavar="N", help=f"default {DEFAULT_MAX_RETRIES}"
    )
    parser.add_argument("--max-credits", type=float, metavar="N", help="stop after spending N")
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache", type=Path, metavar="PATH", help=f"answer cache (default {DEFAULT_CACHE_PATH})"
    )
    cache.add_argument("--no-cache", action="store_true", help="keep no answers (no resume)")
    parser.add_argument(
        "--rerun",
        choices=("failed", "all", "none"),
        help="rows of INPUT that already carry results: re-send the failed ones (default), "
        "all, or none",
    )
    parser.add_argument("--sheet", metavar="NAME", help="sheet of INPUT (default: the first)")
    parser.add_argument(
        "--api-key-env",
        default=ENV_API_KEY,
        metavar="VAR",
        help=f"environment variable holding the key (default {ENV_API_KEY})",
    )
    parser.add_argument("--base-url", metavar="URL", help=f"default ${ENV_BASE_URL} or Octave's")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show the field mapping, sample payloads, calls and credits; send nothing",
    )
    parser.set_defaults(handler=run_command)
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


def _kwargs(args: argparse.Namespace) -> SequenceKwargs:
    if not (args.agent or args.experiment or os.environ.get(ENV_AGENT_OID, "").strip()):
        raise CliError(
            "no agent: pass --agent ca_... (the Sequence Agent's id from Octave's Agents "
            f"page) or --experiment ae_..., or set ${ENV_AGENT_OID}"
        )
    cache: bool | Path | None = False if args.no_cache else args.cache
    options: dict[str, Any] = {
        "agent": args.agent,
        "experiment": args.experiment,
        "fields": parse_assignments(
            args.field, option="--field", example="email=Work Email", unescape=False
        ),
        "context": parse_assignments(
            args.context, option="--context", example="all={Account Research}"
        ),
        "instructions": parse_assignments(
            args.instructions, option="--instructions", example="all=Keep it short"
        ),
        "output_format": args.output_format,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "max_credits": args.max_credits,
        "cache": cache,
        "rerun": args.rerun,
        "base_url": args.base_url,
    }
    # Unset options are left out so the library's defaults (one place) apply.
    return cast(SequenceKwargs, {k: v for k, v in options.items() if v is not None})


def run_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames run``; return the exit code."""
    if args.output is None and not args.dry_run:
        raise CliError("run needs -o OUTPUT (.xlsx or .csv), or --dry-run to only look")
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
    out = sequence(frame, **kwargs)
    written = write_result(out, args.output)
    summary = out.octave.summary()
    print(summary)
    print(written)
    undone = summary.counts.get("failed", 0) + summary.counts.get("not_sent", 0)
    if undone:
        how = (
            f"run the same command on {args.output} (rows already done are skipped)"
            if args.no_cache
            else "run the same command again: answers already received come from the cache"
        )
        say(f"{undone:,} rows were not done; to retry only those, {how}")
    return EXIT_OK


def _dry_run(frame: pd.DataFrame, kwargs: SequenceKwargs) -> int:
    cache = kwargs.get("cache", True)
    path = Path(DEFAULT_CACHE_PATH) if cache is True else cache
    if isinstance(path, Path) and not path.exists():
        kwargs["cache"] = False  # looking must not create a cache file
    kwargs["dry_run"] = True
    kwargs["progress"] = False
    out = sequence(frame, **kwargs)
    report = report_for(out)
    fields = report.fields if report is not None else {}
    print("Field mapping (request field <- column):")
    for name, column in fields.items():
        print(f"  {name:<16} <- {column}")
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
    invalid = reason[status == "invalid"].value_counts()
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
    print("Dry run: nothing was sent.")
    return EXIT_OK
