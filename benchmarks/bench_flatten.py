"""Time ``result_columns`` against the naive ``pd.json_normalize`` route on the same bodies.

Usage::

    python benchmarks/bench_flatten.py [--rows 100000] [--naive-rows 20000] [--repeat 3]

Bodies are realistic Sequence Agent envelopes (three emails, every field filled,
distinct text per row). The naive route runs on the first ``--naive-rows`` bodies
only (it is slow) and its rate is scaled to the full size; it also does less work
(no ``email_{i}_text``, no NA or dtype cleaning), so the ratio flatters it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from octave_frames._flatten import result_columns

__all__ = ["main", "make_bodies", "naive_columns"]

WORDS = [
    *[
        "pipeline",
        "revenue",
        "outbound",
        "signal",
        "account",
        "playbook",
        "quarter",
        "launch",
        "partner",
        "churn",
    ],
    *[
        "forecast",
        "territory",
        "onboarding",
        "enablement",
        "expansion",
        "renewal",
        "hiring",
        "budget",
        "team",
    ],
    *[
        "platform",
        "workflow",
        "insight",
        "customer",
        "growth",
        "market",
        "segment",
        "persona",
        "message",
        "value",
    ],
]


def make_bodies(rows: int, steps: int = 3, seed: int = 7) -> list[dict[str, Any]]:
    """Build ``rows`` distinct answer envelopes with ``steps`` emails each."""
    rng = random.Random(seed)
    pool = [
        " ".join(rng.choices(WORDS, k=rng.randint(8, 24))).capitalize() + "." for _ in range(4000)
    ]

    def text(i: int, sentences: int) -> str:
        picked = " ".join(pool[rng.randrange(len(pool))] for _ in range(sentences))
        return f"{picked} (ref {i})"

    def entity(i: int, level: str) -> dict[str, Any]:
        # The documented extras (product data, qualifying questions, ...) ride along.
        questions = [
            {"question": text(i, 1), "rationale": text(i, 1), "fitType": "GOOD", "weight": "MEDIUM"}
            for _ in range(2)
        ]
        return {
            "oId": f"o{i}",
            "name": text(i, 1)[:30],
            "internalName": f"Internal {i % 7}",
            "description": text(i, 1),
            "data": {"type": "PRODUCT", "summary": text(i, 1), "capabilities": ["A", "B"]},
            "qualifyingQuestions": questions,
            "matchConfidence": level,
            "matchAnalysis": text(i, 2),
        }

    bodies = []
    for i in range(rows):
        emails = [
            {
                "email": f"contact{i}@example.com",
                "subject": text(i, 1)[:60],
                "coreValueProp": text(i, 1),
                "sections": {
                    "greeting": f"Hi Contact{i},",
                    "opening": text(i, 1),
                    "body": text(i, 4),
                    "closing": text(i, 1),
                    "cta": text(i, 1),
                    "ps": text(i, 1) if step == 0 else "",
                    "signature": f"Best,\nRep {i % 50}",
                },
            }
            for step in range(steps)
        ]
        bodies.append(
            {
                "_metadata": {
                    "requestId": f"req_{i}",
                    "timestamp": "2025-01-01T00:00:00.000Z",
                    "usage": 1.0,
                    "message": "ok",
                },
                "found": True,
                "message": None,
                "data": {
                    "emails": emails,
                    "product": entity(i, "HIGH"),
                    "persona": entity(i, "MEDIUM"),
                    "playbook": entity(i, "LOW"),
                    "outputType": "SCOPED_PLAYBOOK",
                    "annotations": {"annotations": [], "metadata": None},
                },
            }
        )
    return bodies


def naive_columns(bodies: list[dict[str, Any]]) -> pd.DataFrame:
    """The obvious pandas route: json_normalize, explode the emails, unstack by step."""
    flat = pd.json_normalize(bodies)
    emails = flat.pop("data.emails").explode()
    step = emails.groupby(level=0).cumcount() + 1
    per_email = pd.json_normalize(emails.tolist())
    per_email.index = pd.MultiIndex.from_arrays([emails.index, step.to_numpy()])
    wide = per_email.unstack()
    assert isinstance(wide, pd.DataFrame)
    fields = wide.columns.get_level_values(0).str.removeprefix("sections.")
    steps = wide.columns.get_level_values(1)
    wide.columns = [f"email_{step}_{field}" for field, step in zip(fields, steps, strict=True)]
    return flat.join(wide)


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """Fastest wall and CPU seconds of ``repeat`` runs (the machine may be shared)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


def main(argv: list[str] | None = None) -> None:
    """Run both routes and print seconds, rows per second and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    rows, naive_rows = args.rows, min(args.naive_rows, args.rows)

    bodies = make_bodies(rows)
    statuses, errors = ["ok"] * rows, [None] * rows
    ours_wall, ours_cpu = best_of(args.repeat, lambda: result_columns(statuses, errors, bodies))
    shared = [bodies[i % 1000] for i in range(rows)]
    shared_wall, _ = best_of(args.repeat, lambda: result_columns(statuses, errors, shared))
    sample = bodies[:naive_rows]
    naive_wall, naive_cpu = best_of(1, lambda: naive_columns(sample))
    scale = rows / naive_rows

    print(f"rows: {rows:,} distinct bodies, 3 emails each (best of {args.repeat})")
    print(
        f"result_columns:   {ours_wall:7.3f} s wall  {ours_cpu:7.3f} s cpu  "
        f"{rows / ours_wall:12,.0f} rows/s"
    )
    print(f"  (same rows sharing 1,000 answers: {shared_wall:.3f} s wall)")
    print(
        f"naive ({naive_rows:,} rows, scaled x{scale:g}): {naive_wall * scale:7.3f} s wall  "
        f"{naive_cpu * scale:7.3f} s cpu  {naive_rows / naive_wall:12,.0f} rows/s"
    )
    print(
        f"ratio naive / result_columns: {naive_wall * scale / ours_wall:.1f}x (wall), "
        f"{naive_cpu * scale / ours_cpu:.1f}x (cpu)"
    )


if __name__ == "__main__":
    main()
