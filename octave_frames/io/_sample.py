"""Realistic result frames without calling Octave, for benchmarks, tests and demos.

The frame has the columns a ``sequence`` run returns (``CONTRACT.md`` §2):
contact inputs, the status columns, ``steps`` email groups, the entity
columns and ``output_type``, with the dtypes the contract names. A share of
rows did not succeed (NA emails), and a few cells carry the text that trips
spreadsheets: leading ``=``/``+``/``-``/``@``, unicode, empty strings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from octave_frames._constants import CONFIDENCE_LEVELS, ENTITIES, SECTIONS, STATUSES

__all__ = ["sample_result_frame"]

_FIRST = ["Ada", "Grace", "Linus", "Zoë", "José", "Mía", "Wei", "Aarav", "Olu", "Søren"]
_LAST = ["Lovelace", "Hopper", "Torvalds", "Müller", "García", "Nakamura", "O'Neil", "Ng"]
_COMPANY = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
_TITLE = ["VP Sales", "Head of RevOps", "CRO", "SDR Manager", "=Founder", "-", "@ops lead"]
_WORDS = [
    *[
        "pipeline",
        "revenue",
        "quota",
        "outbound",
        "signal",
        "intent",
        "persona",
        "playbook",
        "account",
        "team",
    ],
    *[
        "forecast",
        "churn",
        "renewal",
        "expansion",
        "meeting",
        "calendar",
        "budget",
        "quarter",
        "insight",
        "data",
    ],
    *[
        "workflow",
        "handoff",
        "territory",
        "coverage",
        "velocity",
        "conversion",
        "cadence",
        "—",
        "naïve",
        "café",
        "🚀",
    ],
]
# Share of each status in a synthetic result frame (no async jobs, so none pending).
_SHARES = {"ok": 0.85, "not_found": 0.05, "failed": 0.04, "invalid": 0.03, "not_sent": 0.03}
_STATUS_SHARE = tuple(_SHARES.get(status, 0.0) for status in STATUSES)


def _paragraphs(rng: np.random.Generator, count: int, words: int) -> np.ndarray:
    """Build a pool of ``count`` paragraphs of ``words`` words each."""
    picks = rng.integers(0, len(_WORDS), size=(count, words))
    vocab = np.asarray(_WORDS, dtype=object)
    return np.asarray([" ".join(vocab[row]).capitalize() + "." for row in picks], dtype=object)


def _text(pool: np.ndarray, rng: np.random.Generator, ok: np.ndarray) -> pd.Series:
    """One text per row drawn from ``pool``; NA where the row did not succeed."""
    values = pool[rng.integers(0, len(pool), size=len(ok))].copy()
    values[~ok] = None
    return pd.Series(values, dtype="string")


def sample_result_frame(
    rows: int = 1000, *, steps: int = 3, seed: int = 0, prefix: str = ""
) -> pd.DataFrame:
    """Build a frame shaped like ``df.octave.sequence(...)`` output, with a RangeIndex.

    Args:
        rows: Number of contacts.
        steps: Number of ``email_{i}_*`` groups.
        seed: Seed of the random choices, so runs compare like with like.
        prefix: Prefix of the output columns.

    Returns:
        A new frame; text columns use the nullable ``"string"`` dtype.

    Example:
        >>> sample_result_frame(10).octave_status.value_counts()

    """
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    first = np.asarray(_FIRST, dtype=object)[ids % len(_FIRST)]
    last = np.asarray(_LAST, dtype=object)[(ids // 3) % len(_LAST)]
    company = np.asarray(_COMPANY, dtype=object)[(ids // 7) % len(_COMPANY)]
    data: dict[str, object] = {
        "First Name": pd.array(first, dtype="string"),
        "Last Name": pd.array(last, dtype="string"),
        "Email": pd.array([f"contact{i}@example.com" for i in ids], dtype="string"),
        "Company": pd.array(company, dtype="string"),
        "Title": pd.array(np.asarray(_TITLE, dtype=object)[ids % len(_TITLE)], dtype="string"),
        "Zip": pd.array([f"{(i * 7919) % 100000:05d}" for i in ids], dtype="string"),
        "CRM Id": pd.array([f"0061a{i:010d}AbC" for i in ids], dtype="string"),
        "Employees": pd.array(rng.integers(5, 50_000, size=rows), dtype="Int64"),
    }
    status = rng.choice(np.asarray(STATUSES, dtype=object), size=rows, p=_STATUS_SHARE)
    ok = status == "ok"
    error = np.full(rows, None, dtype=object)
    error[status == "failed"] = "HTTP 500: Internal Server Error"
    error[status == "invalid"] = "no email, LinkedIn profile, or first name with company"
    error[status == "not_found"] = "Octave found no match"
    usage = np.where(ok, rng.integers(1, 4, size=rows).astype(float), np.nan)
    data[f"{prefix}octave_status"] = pd.array(status, dtype="string")
    data[f"{prefix}octave_error"] = pd.array(error, dtype="string")
    request_ids = [None if s == "invalid" else f"req_{i}" for i, s in zip(ids, status, strict=True)]
    data[f"{prefix}octave_request_id"] = pd.array(request_ids, dtype="string")
    data[f"{prefix}octave_usage"] = pd.array(usage, dtype="Float64")

    short = _paragraphs(rng, 64, 8)
    long = _paragraphs(rng, 64, 60)
    for step in range(1, steps + 1):
        parts = {section: _text(short, rng, ok) for section in SECTIONS}
        parts["body"] = _text(long, rng, ok)
        parts["ps"] = parts["ps"].where(rng.random(rows) < 0.7, "")
        data[f"{prefix}email_{step}_subject"] = _text(short, rng, ok)
        for section in SECTIONS:
            data[f"{prefix}email_{step}_{section}"] = parts[section]
        data[f"{prefix}email_{step}_core_value_prop"] = _text(short, rng, ok)
        joined = parts[SECTIONS[0]]
        for section in SECTIONS[1:]:
            piece = parts[section]
            joined = joined.where(piece.fillna("") == "", joined + "\n\n" + piece)
        data[f"{prefix}email_{step}_text"] = joined

    levels = np.asarray(CONFIDENCE_LEVELS, dtype=object)
    confidence = pd.CategoricalDtype(list(CONFIDENCE_LEVELS), ordered=True)
    for entity in ENTITIES:
        data[f"{prefix}{entity}_name"] = _text(np.asarray(_COMPANY, dtype=object), rng, ok)
        picked = pd.Series(levels[rng.integers(0, 3, size=rows)], dtype=object)
        data[f"{prefix}{entity}_match_confidence"] = picked.where(ok).astype(confidence)
        data[f"{prefix}{entity}_match_analysis"] = _text(long, rng, ok)
    data[f"{prefix}output_type"] = pd.array(
        ["SCOPED_PLAYBOOK" if done else None for done in ok], dtype="string"
    )
    return pd.DataFrame(data)
