"""Text that a worksheet cell can hold, and how it is spelled in sheet XML.

Excel's limits: a cell holds at most 32,767 characters (counted in UTF-16 code
units, so an emoji counts twice) and XML 1.0 forbids most control characters.
:func:`fit_text` makes any string fit, visibly: over-long text is cut and ends
with a marker saying how much was cut; forbidden characters are removed.

:func:`xml_text` spells a fitted string for an inline-string cell. Besides the
three XML escapes it applies the OOXML ``_xHHHH_`` escape: a carriage return
would otherwise be normalised to a newline by every XML parser, and text that
already looks like ``_x000D_`` must be protected as ``_x005F_x000D_`` so Excel
and calamine give it back literally. :func:`unescape_ooxml` undoes that escape
for readers (openpyxl) that do not.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "MAX_CELL_CHARS",
    "column_letter",
    "fit_text",
    "truncation_marker",
    "unescape_ooxml",
    "xml_text",
]

#: Excel's cell limit, in UTF-16 code units.
MAX_CELL_CHARS: Final = 32_767
# openpyxl's ILLEGAL_CHARACTERS_RE (copied so importing this module does not load
# openpyxl), plus what cannot be encoded as XML 1.0 text at all.
_ILLEGAL: Final = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]|[\ud800-\udfff\ufffe\uffff]")
_ESCAPE_LIKE: Final = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ESCAPED: Final = re.compile(r"_x([0-9A-Fa-f]{4})_")
_MAX_COLUMN: Final = 16_384


def truncation_marker(removed: int) -> str:
    """Return the marker that ends a cut cell, naming how many characters were cut."""
    return f"… [truncated: {removed:,} characters]"


def _units(text: str) -> int:
    """Count UTF-16 code units, the way Excel measures a cell."""
    return len(text.encode("utf-16-le")) // 2


def fit_text(text: str) -> tuple[str, bool, bool]:
    """Make ``text`` storable in one cell.

    Returns:
        The text to store, whether forbidden characters were removed, and whether
        it was cut (then it ends with :func:`truncation_marker`, and the whole
        stays within :data:`MAX_CELL_CHARS`).
    """
    cleaned = False
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
        cleaned = True
    # Code points never outnumber UTF-16 units, so short text needs no encoding.
    if len(text) * 2 <= MAX_CELL_CHARS or _units(text) <= MAX_CELL_CHARS:
        return text, cleaned, False
    keep = MAX_CELL_CHARS - len(truncation_marker(len(text)))
    while True:
        marker = truncation_marker(len(text) - keep)
        excess = _units(text[:keep]) + _units(marker) - MAX_CELL_CHARS
        if excess <= 0:
            return text[:keep] + marker, cleaned, True
        # Dropping `excess` code points frees at least `excess` units.
        keep -= excess


def xml_text(text: str) -> str:
    """Spell fitted text as the content of an inline-string ``<t>`` element."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    if "\r" in text:
        text = text.replace("\r", "_x000D_")
    return text


def unescape_ooxml(text: str) -> str:
    """Decode ``_xHHHH_`` escapes, as Excel does when it reads a cell."""
    if "_x" not in text:
        return text
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


def column_letter(number: int) -> str:
    """Spell a 1-based column number as Excel does (``1`` -> ``A``, ``28`` -> ``AB``).

    Args:
        number: The column, from 1 to 16,384.

    Returns:
        The column letters.

    Raises:
        ValueError: ``number`` is outside Excel's columns.

    """
    if not 1 <= number <= _MAX_COLUMN:
        raise ValueError(f"column {number} is outside Excel's 1..{_MAX_COLUMN:,}")
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
