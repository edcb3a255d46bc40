"""Time ``review`` on realistic result frames of 1k, 10k and 100k contacts.

Usage::

    python benchmarks/bench_review.py [--rows 1000 10000 100000] [--steps 3] [--html]
                                      [--ascii] [--repeat 3] [--no-limit]

Each frame looks like what ``sequence`` returns: contact columns, ``octave_status`` and,
per step, the subject, the seven sections, ``core_value_prop`` and the sendable text
(sections joined by blank lines, ~120 words / ~900 characters with curly quotes and
dashes, so the text is not ASCII, unless ``--ascii``); 5% of the rows failed (no emails)
and ~1% carry a planted defect. The frame is built before the clock starts; the best and
the worst of ``--repeat`` runs are printed, in seconds. The word limit is given
(``max_words=150``) unless ``--no-limit``. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octave_frames._review import review

_VOCABULARY = (
    "pipeline revenue quota outbound signal intent persona playbook account team forecast "
    "churn renewal expansion meeting calendar budget quarter insight data workflow handoff "
    "territory coverage velocity conversion cadence research reply rates we\u2019re "
    "it\u2019s \u2014 teams like yours usually see results within the first month of rollout"
)
WORDS = _VOCABULARY.split(" ")
FIRST = ["Ann", "Ben", "Zoë", "José", "Mía", "Wei", "Aarav", "Olu", "Søren", "Grace", "Linus"]
LAST = ["Lee", "Ode", "Müller", "García", "Nakamura", "O'Neil", "Ng", "Hopper", "Torvalds"]
SECTIONS = ("greeting", "opening", "body", "closing", "cta", "ps", "signature")


def _paragraph(rng: random.Random, words: int, vocabulary: list[str] = WORDS) -> str:
    chosen = rng.choices(vocabulary, k=words)
    chosen[0] = chosen[0].capitalize()
    return " ".join(chosen) + "."


def make_frame(
    rows: int, *, steps: int = 3, html: bool = False, ascii_only: bool = False, seed: int = 0
) -> pd.DataFrame:
    """A result frame of ``rows`` contacts with ``steps`` emails each, ~1% with a defect."""
    rng = random.Random(seed)
    words = [w for w in WORDS if w.isascii()] if ascii_only else WORDS
    data: dict[str, list[object]] = {
        "First Name": [],
        "Last Name": [],
        "Company": [],
        "Email": [],
        "octave_status": [],
    }
    columns: dict[str, list[str | None]] = {
        f"email_{i}_{name}": []
        for i in range(1, steps + 1)
        for name in ("subject", *SECTIONS, "core_value_prop", "text")
    }

    def para(text: str) -> str:
        return f"<p>{text}</p>" if html else text

    for r in range(rows):
        first, last = FIRST[r % len(FIRST)], LAST[r % len(LAST)]
        company = f"Company{r} Inc"
        data["First Name"].append(first)
        data["Last Name"].append(last)
        data["Company"].append(company)
        data["Email"].append(f"{first.lower()}.{r}@company{r}.com")
        failed = r % 20 == 19
        data["octave_status"].append("failed" if failed else "ok")
        for i in range(1, steps + 1):
            if failed:
                for name in ("subject", *SECTIONS, "core_value_prop", "text"):
                    columns[f"email_{i}_{name}"].append(None)
                continue
            defect = rng.random() < 0.01
            sections = {
                "greeting": para(f"Hi {'{first_name}' if defect else first},"),
                "opening": para(
                    f"I have been following Company{r} and {_paragraph(rng, 20, words)}"
                ),
                "body": para(_paragraph(rng, 45, words))
                + ("\n\n" if not html else "")
                + para(_paragraph(rng, 30, words)),
                "closing": para("Either way, I hope the quarter is going well."),
                "cta": para("Would a 15-minute call next week be useful?"),
                "ps": para("P.S. The walkthrough takes two minutes."),
                "signature": para(
                    "Morgan Reyes" + ("<br>" if html else "\n") + "Account Executive"
                ),
            }
            subject = f"Idea for Company{r}" if i == 1 else f"Re: {_paragraph(rng, 4, words)}"
            columns[f"email_{i}_subject"].append(subject)
            for name, value in sections.items():
                columns[f"email_{i}_{name}"].append(value)
            columns[f"email_{i}_core_value_prop"].append("Reps spend time on conversations")
            columns[f"email_{i}_text"].append("\n\n".join(sections.values()))
    frame = pd.DataFrame(data)
    for name, values in columns.items():
        frame[name] = pd.array(values, dtype="string")
    return frame


def main() -> int:
    """Build each frame, review it ``--repeat`` times, print the seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--ascii", action="store_true", help="no curly quotes or dashes")
    parser.add_argument("--no-limit", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    limit = None if args.no_limit else 150
    for rows in args.rows:
        frame = make_frame(rows, steps=args.steps, html=args.html, ascii_only=args.ascii)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = review(frame, max_words=limit)
            times.append(time.perf_counter() - start)
        flagged = int((~out["octave_review_ok"].fillna(True)).sum())
        print(
            f"review {rows:>7,} rows x {args.steps} steps "
            f"({'html' if args.html else 'text'}{', ascii' if args.ascii else ''}): "
            f"best {min(times):.3f} s, worst {max(times):.3f} s; {flagged:,} rows flagged",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
