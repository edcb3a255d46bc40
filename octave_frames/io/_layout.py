"""Where the Contacts sheet shows each column: what a person sends first, details folded.

A result frame keeps the contract's column order (``email_1_subject``, seven
sections, ``core_value_prop``, ``email_1_text``, ...), which puts the sendable
text far to the right. The sheet shows, per step, its *lead* columns first
(``subject`` and ``text``) and folds the step's *detail* columns (the
sections) into a collapsed outline group next to them.

The rule is generic, so other agents' step-wise columns get it too: after the
input columns, a column named ``{prefix}{stem}_{i}_{field}`` belongs to step
``i`` of ``stem``; a step that has at least one lead field becomes a group
(its leads in :data:`LEAD_FIELDS` order, then its details in frame order),
shown where its first column was. Everything else keeps its place, so a frame
without such columns is shown exactly as it is. Only the sheet moves:
``read_excel`` puts the frame's order back from the metadata.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Final

from octave_frames._results import is_output_column

__all__ = ["LEAD_FIELDS", "SheetLayout", "contacts_layout"]

#: Fields of a step shown first; the step's other columns are folded after them.
LEAD_FIELDS: Final = ("subject", "text")
_STEP: Final = re.compile(r"(?P<stem>.+?)_(?P<step>[1-9][0-9]*)_(?P<field>.+)")


@dataclass(frozen=True)
class SheetLayout:
    """How a frame's columns are laid out on a sheet.

    Attributes:
        order: Frame column positions, in the order the sheet shows them.
        folded: ``(first, last)`` sheet column positions (0-based, inclusive, counting
            only the frame's columns) of each run of detail columns to fold away.

    """

    order: tuple[int, ...]
    folded: tuple[tuple[int, int], ...] = ()


def _first_run_column(labels: Sequence[Hashable], prefix: str) -> int:
    """Position of the first result column: columns before it are the user's input."""
    for position, label in enumerate(labels):
        if is_output_column(label, prefix=prefix):
            return position
    return len(labels)


def contacts_layout(
    labels: Sequence[Hashable], *, prefix: str = "", lead: Sequence[str] = LEAD_FIELDS
) -> SheetLayout:
    """Lay out a result frame's columns for the Contacts sheet (see the module doc).

    Args:
        labels: The frame's column labels, in frame order.
        prefix: The ``prefix`` the run used for its output columns.
        lead: Fields shown first in each step, in this order.

    Returns:
        The sheet order and the detail columns to fold.

    Example:
        >>> contacts_layout(["Email", "octave_status", "email_1_body", "email_1_text"]).order
        (0, 1, 3, 2)

    """
    start = _first_run_column(labels, prefix)
    steps: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for position in range(start, len(labels)):
        label = labels[position]
        if not isinstance(label, str) or not label.startswith(prefix):
            continue
        match = _STEP.fullmatch(label[len(prefix) :])
        if match:
            key = (match["stem"], match["step"])
            steps.setdefault(key, []).append((match["field"], position))
    groups = {
        key: members for key, members in steps.items() if any(field in lead for field, _ in members)
    }
    member_of = {position: key for key, members in groups.items() for _, position in members}

    order: list[int] = []
    folded: list[tuple[int, int]] = []
    for position in range(len(labels)):
        step = member_of.get(position)
        if step is None:
            order.append(position)
            continue
        members = groups.pop(step, None)
        if members is None:  # the group was laid out at its first column
            continue
        rank = {field: k for k, field in enumerate(lead)}
        leads = sorted((m for m in members if m[0] in rank), key=lambda m: rank[m[0]])
        details = [p for field, p in members if field not in rank]
        order.extend(p for _, p in leads)
        if details:
            folded.append((len(order), len(order) + len(details) - 1))
            order.extend(details)
    return SheetLayout(tuple(order), tuple(folded))
