"""``octave-frames demo``: the whole job on the bundled sample, against the simulator.

Nothing leaves the machine and no key is used: the simulator answers in process
(``sim.transport()``), with its latency scaled down from Octave's 30-60 s so the demo
takes a few seconds. Every line that shows results says the emails are SIMULATED.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Final

from octave_frames._calls import sequence
from octave_frames._client import Client
from octave_frames.cli._common import (
    EXIT_OK,
    CliError,
    check_output_path,
    latency_arg,
    write_result,
)
from octave_frames.data import sample_workbook
from octave_frames.io import read_excel
from octave_frames.simulator import Simulator

__all__ = ["DEMO_AGENT", "add_parser", "demo_command"]

#: Agent id of the demo; it names the simulator so the workbook's Run sheet says so too.
DEMO_AGENT: Final = "ca_simulated_demo"
_SIM_KEY: Final = "sim-key"
_LATENCY: Final = (0.3, 1.0)
_CONCURRENCY: Final = 16
_RATE: Final = "50/s"
# A few "no match" answers make the demo show that status as well.
_NOT_FOUND_RATE: Final = 0.08
_CONTEXT: Final = {"all": "ACCOUNT RESEARCH:\n{Account Research}", "1": ["Recent Event"]}
_INSTRUCTIONS: Final = {
    "all": "Keep each email under 120 words and write to the contact's role.",
    "3": "Make this a short, friendly break-up email.",
}
_BANNER: Final = (
    "SIMULATED: these emails come from octave_frames' built-in simulator of Octave's API, "
    "not from Octave. No API key is used and nothing leaves this machine."
)


def _describe(name: str, specs: dict[str, Any]) -> str:
    """Show the specs as an ops person would read them, one step key a line."""
    lines = [f"{name} (per step; {{Column}} is the contact's value):"]
    for key, spec in specs.items():
        shown = f"the columns {', '.join(spec)}" if isinstance(spec, list) else repr(spec)
        lines.append(f"  {key:<4} {shown}")
    return "\n".join(lines) + "\n"


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subcommand to ``commands`` (argparse's subparsers object)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo",
        help="the whole job on sample contacts against a built-in simulator (no key needed)",
        description="Read the bundled sample workbook, write an email sequence for every "
        "contact with Octave's simulator (the emails are SIMULATED), and save the workbook "
        "an ops team would get.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "-o", "--output", type=Path, default=Path("octave_demo.xlsx"), help="default %(default)s"
    )
    parser.add_argument("--rows", type=int, metavar="N", help="use only the first N contacts")
    parser.add_argument(
        "--latency",
        type=latency_arg,
        default=_LATENCY,
        metavar="LOW,HIGH",
        help="simulated seconds per call (default 0.3,1.0; Octave takes 30-60)",
    )
    parser.add_argument(
        "--cache", type=Path, metavar="PATH", help="keep answers in PATH (default: none)"
    )
    parser.set_defaults(handler=demo_command)
    return parser


def demo_command(args: argparse.Namespace) -> int:
    """Run ``octave-frames demo``; return the exit code."""
    check_output_path(args.output)
    if args.rows is not None and args.rows < 1:
        raise CliError(f"--rows must be at least 1, not {args.rows}")
    source = sample_workbook()
    contacts = read_excel(source)
    if args.rows is not None:
        contacts = contacts.head(args.rows)
    sim = Simulator(latency=args.latency, not_found_rate=_NOT_FOUND_RATE)
    # The in-process transport never opens a socket; the URL only has to pass the
    # loopback check.
    client = Client(_SIM_KEY, base_url="http://127.0.0.1", transport=sim.transport())
    print(f"octave-frames demo: {len(contacts)} sample contacts from {source.name}")
    print(_BANNER)
    print(_describe("context", _CONTEXT) + _describe("instructions", _INSTRUCTIONS))
    out = sequence(
        contacts,
        agent=DEMO_AGENT,
        context=_CONTEXT,
        instructions=_INSTRUCTIONS,
        client=client,
        concurrency=_CONCURRENCY,
        rate=_RATE,
        cache=args.cache if args.cache is not None else False,
    )
    written = write_result(out, args.output)
    print(out.octave.summary())
    ok = out[out["octave_status"] == "ok"]
    if len(ok):
        first = ok.iloc[0]
        print(
            f"\n--- SIMULATED email 1 to {first['First Name']} {first['Last Name']}, "
            f"{first['Company']} ---\nSubject: {first['email_1_subject']}\n\n"
            f"{first['email_1_text']}\n---"
        )
    print(f"\n{written}: SIMULATED emails, open it in Excel.")
    print(
        "To run for real: export OCTAVE_API_KEY=<your key>, then\n"
        "  octave-frames run contacts.xlsx -o out.xlsx --agent ca_... "
        "--context 'all={Account Research}'"
    )
    return EXIT_OK
