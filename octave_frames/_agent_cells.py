"""Reading one cell of an agent's answer leniently: keys, numbers, flags, places.

The rules the agent columns share (``_agent_columns``, ``_agent_rows``); each
takes any JSON value and answers None (NA) for what it cannot read, never
raising.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

from octave_frames._results import cell_text

__all__ = [
    "LOCATION_PARTS",
    "Path",
    "alternate_key",
    "flag",
    "items_of",
    "json_text",
    "lookup",
    "number",
    "part_text",
    "text_line",
]

#: Keys (and list positions) from one JSON value down to another.
Path = tuple[str | int, ...]

_CAMEL_HUMP: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NUMBER: Final = re.compile(
    r"""\s*(?P<sign>-)?\s*[$€£]?\s*
    (?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?\s*(?P<scale>bn|mm|[kmb])?\s*\+?\s*
    (?:(?:-|\u2013|\u2014|to)\s*[$€£]?\s*\d[\d.,]*\s*(?:bn|mm|[kmb])?\s*\+?\s*)?
    (?:/\s*\d+(?:\.\d+)?\s*)?""",
    re.IGNORECASE | re.VERBOSE,
)
_ALTERNATES: dict[str, str] = {}
_SCALES: Final = {"k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
_FLAGS: Final = {
    "yes": True, "y": True, "true": True, "1": True,
    "no": False, "n": False, "false": False, "0": False,
}  # fmt: skip
#: The parts of a place, in reading order, for :func:`text_line`.
LOCATION_PARTS: Final[tuple[Path, ...]] = (
    ("streetAddress",), ("locality",), ("city",), ("region",), ("state",),
    ("postalCode",), ("country",), ("countryCode",),
)  # fmt: skip


def alternate_key(key: str) -> str:
    """The other spelling of ``key``: camelCase becomes snake_case and back.

    Example:
        >>> alternate_key("employeeCount"), alternate_key("employee_count")
        ('employee_count', 'employeeCount')

    """
    other = _ALTERNATES.get(key)
    if other is None:
        if "_" in key:
            head, *rest = key.split("_")
            other = head + "".join(part[:1].upper() + part[1:] for part in rest)
        else:
            other = _CAMEL_HUMP.sub("_", key).lower()
        if len(_ALTERNATES) < 10_000:  # keys come from specs and bodies; junk keys must not grow it
            _ALTERNATES[key] = other
    return other


def lookup(value: object, path: Path) -> object:
    """Follow ``path`` into ``value`` (either key spelling); None where it leads nowhere.

    Example:
        >>> lookup({"company": {"employee_count": 5}}, ("company", "employeeCount"))
        5

    """
    for key in path:
        if value.__class__ is dict and key.__class__ is str:
            # The rule, taken first: isinstance against Mapping is slow per cell.
            found = value.get(key)
            value = value.get(alternate_key(key)) if found is None else found
        elif isinstance(key, int):
            value = (
                value[key] if isinstance(value, list) and -len(value) <= key < len(value) else None
            )
        elif isinstance(value, Mapping):
            found = value.get(key)
            value = value.get(alternate_key(key)) if found is None else found
        else:
            return None
        if value is None:
            return None
    return value


def number(value: object) -> float | None:
    """Read one number leniently (see the module docstring); None for NA.

    Example:
        >>> number("1,200"), number("51-200"), number("$2.5M"), number("many")
        (1200.0, 51.0, 2500000.0, None)

    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:
            return None
        return result if math.isfinite(result) else None
    if isinstance(value, str):
        return _number_text(value)
    return None


@lru_cache(maxsize=4096)
def _number_text(value: str) -> float | None:
    # Cached: bodies repeat their number texts ("51-200"), and the pattern is the slow part.
    try:
        result = float(value)
    except ValueError:
        match = _NUMBER.fullmatch(value)
        if match is None:
            return None
        result = float(match["int"].replace(",", "") + (match["frac"] or ""))
        result *= _SCALES[match["scale"].lower()] if match["scale"] else 1.0
        result = -result if match["sign"] else result
    return result if math.isfinite(result) else None


def flag(value: object) -> bool | None:
    """Read one yes/no leniently (``True``, ``"Yes"``, ``"false"``, 1 ...); None for NA.

    Example:
        >>> flag("Yes"), flag(0), flag("maybe")
        (True, False, None)

    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return True if value == 1 else False if value == 0 else None
    if isinstance(value, str):
        return _FLAGS.get(value.strip().lower())
    return None


def items_of(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def part_text(item: object, each: tuple[Path, ...], inner: str) -> str | None:
    """The text of one list item: its ``each`` parts joined (repeats dropped), or itself."""
    if not each or (item.__class__ is not dict and not isinstance(item, Mapping)):
        return item.strip() or None if item.__class__ is str else cell_text(item)
    parts: list[str] = []
    for path in each:
        value = lookup(item, path)
        if value is None:
            continue
        text = value.strip() or None if value.__class__ is str else cell_text(value)
        if text is not None and text not in parts:
            parts.append(text)
    return inner.join(parts) or None


def text_line(
    value: object, *, each: tuple[Path, ...] = LOCATION_PARTS, inner: str = ", "
) -> str | None:
    """One readable line for a place (or any dict): its ``each`` parts joined.

    Example:
        >>> text_line({"locality": "Paris", "countryCode": "FR"})
        'Paris, FR'

    """
    return part_text(value, each, inner)


def json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # NaN, sets, cycles: not JSON, so NA
        return None
