"""Finding the columns of one frame by label, with messages that name the nearest."""

from __future__ import annotations

import difflib
from collections.abc import Hashable

import pandas as pd

from ._exceptions import ColumnError

__all__ = ["ColumnFinder", "display_name", "normalize_header"]


def normalize_header(name: str) -> str:
    """Case-fold ``name`` and keep only its letters and digits.

    Example:
        >>> normalize_header(" Work E-mail ")
        'workemail'

    """
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def display_name(label: Hashable) -> str:
    """How a column label reads in messages, templates and headers.

    Example:
        >>> display_name(("Company", "", "Name")), display_name(3)
        ('Company Name', '3')

    """
    if isinstance(label, tuple):
        return " ".join(str(level) for level in label if str(level).strip())
    return str(label)


def _same(a: Hashable, b: Hashable) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):  # exotic labels whose == is not a truth value
        return False


class ColumnFinder:
    """Find columns of one frame by label, with messages that name the nearest columns."""

    def __init__(self, columns: pd.Index) -> None:
        self.labels: list[Hashable] = list(columns)
        self.names: list[str] = [display_name(label) for label in self.labels]

    def nearest(self, label: Hashable, limit: int = 3) -> str:
        """Describe the columns whose names come closest to ``label``, for an error message."""
        wanted = display_name(label)
        key = normalize_header(wanted)
        same_key = [n for n in self.names if key and normalize_header(n) == key]
        close = difflib.get_close_matches(wanted, self.names, n=limit, cutoff=0.5)
        picks = list(dict.fromkeys([*same_key, *close]))[:limit]
        if picks:
            return "nearest: " + ", ".join(map(repr, picks))
        shown = ", ".join(map(repr, self.names[:10])) + (", ..." if len(self.names) > 10 else "")
        return f"the columns are: {shown}" if self.names else "the frame has no columns"

    def duplicated(self, position: int) -> bool:
        """Whether the label at ``position`` appears more than once."""
        label = self.labels[position]
        return sum(_same(other, label) for other in self.labels) > 1

    def locate(self, label: Hashable, *, what: str) -> int:
        """Position of the one column called ``label``.

        An exact label wins; a string also matches a column whose :func:`display_name`
        equals it (so ``"Company Name"`` finds ``("Company", "Name")``, ``"3"`` finds ``3``).

        Raises:
            ColumnError: No such column (naming the nearest), or the label is ambiguous.

        """
        found = [i for i, other in enumerate(self.labels) if _same(other, label)]
        if not found and isinstance(label, str):
            found = [i for i, name in enumerate(self.names) if name == label]
        if len(found) == 1:
            return found[0]
        if found:
            raise ColumnError(
                f"{what}: column {label!r} appears {len(found)} times in the frame, so it is "
                "ambiguous; rename the duplicates (e.g. df.loc[:, ~df.columns.duplicated()])"
            )
        raise ColumnError(f"{what}: no column {label!r}; {self.nearest(label)}")
