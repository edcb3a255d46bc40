"""The long view of qualifying answers: one row per question a qualify step answered.

A qualify step keeps every answer of a row in one JSON text column
(``qualification_answers``, ``company_qualification_answers``), so the answers survive
Excel and CSV round trips; this turns those columns into one tidy table, like
``emails()`` does for sequences.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ._agent_rows import qualifying_answers
from ._agents import QUALIFY_COMPANY, QUALIFY_PERSON, answers_column
from ._exceptions import ArgumentError

__all__ = ["answers_long", "has_answers"]

_COLUMNS = (
    (QUALIFY_PERSON.name, answers_column("qualification_")),
    (QUALIFY_COMPANY.name, answers_column("company_qualification_")),
)


def _bodies(texts: pd.Series) -> list[dict[str, Any] | None]:
    bodies: list[dict[str, Any] | None] = []
    for text in texts.tolist():
        try:
            found = json.loads(text) if isinstance(text, str) and text else None
        except ValueError:
            found = None
        if not isinstance(found, dict):
            bodies.append(None)
            continue
        data = {
            section: {"qualification": {"answers": items}}
            for section, items in found.items()
            if isinstance(items, list)
        }
        bodies.append({"data": data})
    return bodies


def has_answers(frame: pd.DataFrame, prefix: str = "") -> bool:
    """Tell whether ``frame`` holds a qualify step's answers column."""
    return any(prefix + name in frame.columns for _, name in _COLUMNS)


def answers_long(frame: pd.DataFrame, *, prefix: str = "") -> pd.DataFrame:
    """One row per qualifying answer of every qualify step the frame holds.

    Args:
        frame: A frame returned by ``qualify_person`` / ``qualify_company`` (or read back).
        prefix: The ``prefix`` the runs used.

    Returns:
        Columns ``row`` (the frame's index label), ``step`` (``qualify_person`` or
        ``qualify_company``), ``section``, ``question``, ``answer`` (``"boolean"``: Yes
        is True), ``confidence`` (ordered ``LOW < MEDIUM < HIGH``) and ``rationale``.

    Raises:
        ArgumentError: The frame holds no qualifying answers column.

    Example:
        >>> people.octave.qualify_person(agent="ca_...").octave.answers().query("answer")

    """
    parts = []
    for step, name in _COLUMNS:
        label = prefix + name
        if label in frame.columns:
            long = qualifying_answers(_bodies(frame[label]), list(frame.index))
            long.insert(1, "step", pd.Series([step] * len(long), dtype="string"))
            parts.append(long)
    if not parts:
        raise ArgumentError(
            "this frame has no qualifying answers (no 'qualification_answers' column): run "
            "df.octave.qualify_person(...) or qualify_company(...) first"
        )
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
