"""How a plain sheet's cells become typed columns without losing identifiers.

The rule (documented in ``read_excel``): every column is first read as the
text a person sees, then given a richer dtype only when that loses nothing.

1. Only date cells (or ISO ``YYYY-MM-DD[ HH:MM[:SS[.fff]]]`` text) become
   ``datetime64``; only TRUE/FALSE cells become ``boolean``.
2. A column whose header names an identifier (a word such as *id*, *phone*,
   *mobile*, *fax*, *zip*, *postal*, *postcode*, *code*, or *number* at the
   end: ``CRM Contact ID``, ``crmAccountId``, ``Phone Number``, ``Zip``)
   stays text, even when every cell is a number.
3. Otherwise numbers (number cells, or text that reads back identically
   as a number) become ``Int64`` (all whole) or ``Float64``. Text reads back
   identically only if it is a plain decimal numeral of at most 15 digits,
   so ``00123``, ``+14155550100``, ``1.50``, ``1e5`` and 16-digit ids stay
   text.
4. Everything else is nullable ``string`` text; numbers in it are spelled
   without a trailing ``.0`` (``12345``, not ``12345.0``).

Empty cells are NA everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Sequence
from typing import Any, Final, cast

import pandas as pd

__all__ = ["canonical_text", "infer_column", "is_identifier_header"]

_ID_WORDS: Final = frozenset(
    {"id", "ids", "uuid", "guid", "phone", "mobile", "cell", "tel", "telephone", "fax"}
    | {"zip", "zipcode", "postal", "postcode", "postalcode", "plz", "code", "sku", "ssn", "ein"}
    | {"duns", "iban", "vat", "oid"}
)
_TAIL_ID_WORDS: Final = frozenset({"number", "no", "nr", "num"})
_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_INTEGER: Final = re.compile(r"-?(?:0|[1-9][0-9]{0,14})")
_DECIMAL: Final = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]")
_ISO_DATE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?)?"
)
# Excel shows (and keeps) 15 significant digits.
_MAX_DIGITS: Final = 15


def is_identifier_header(header: str) -> bool:
    """Tell whether a header names an identifier column that must stay text.

    Example:
        >>> is_identifier_header("crmContactId"), is_identifier_header("Employees")
        (True, False)

    """
    words = [word.lower() for word in _WORD.findall(header)]
    return bool(words) and (bool(_ID_WORDS.intersection(words)) or words[-1] in _TAIL_ID_WORDS)


@functools.singledispatch
def canonical_text(value: object) -> str:
    """Spell a cell value the way the sheet shows it (``12345``, not ``12345.0``)."""
    return str(value)


@canonical_text.register
def _(value: str) -> str:
    return value


@canonical_text.register
def _(value: bool) -> str:
    return "TRUE" if value else "FALSE"


@canonical_text.register
def _(value: float) -> str:
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


@canonical_text.register
def _(value: dt.datetime) -> str:
    if value == dt.datetime.combine(value.date(), dt.time()):
        return value.date().isoformat()
    return value.isoformat(sep=" ")


@canonical_text.register(dt.date)
@canonical_text.register(dt.time)
def _(value: dt.date | dt.time) -> str:
    return value.isoformat()


@canonical_text.register
def _(value: dt.timedelta) -> str:
    return str(pd.Timedelta(value))


def _numeric_text(text: str) -> bool:
    """Tell whether text reads back identically after becoming a number."""
    if _INTEGER.fullmatch(text):
        return True
    if _DECIMAL.fullmatch(text):
        digits = sum(ch.isdigit() for ch in text.lstrip("-0."))
        return digits <= _MAX_DIGITS and repr(float(text)) == text
    return False


def _numbers(values: Sequence[object]) -> pd.Series | None:
    """Numbers when every present value is a number or numeric text, else None."""
    out: list[int | float | None] = []
    whole = True
    for value in values:
        if value is None:
            out.append(None)
        elif isinstance(value, bool):
            return None
        elif isinstance(value, int | float):
            if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
                whole = False
            out.append(value)
        elif isinstance(value, str) and _numeric_text(value):
            number = int(value) if _INTEGER.fullmatch(value) else float(value)
            whole = whole and isinstance(number, int)
            out.append(number)
        else:
            return None
    if whole and all(number is None or abs(number) < 2**53 for number in out):
        return pd.Series(pd.array([None if n is None else int(n) for n in out], dtype="Int64"))
    return pd.Series(pd.array(out, dtype="Float64"))


def _dates(values: Sequence[object]) -> pd.Series | None:
    """Datetimes when every present value is a date cell or ISO date text, else None."""
    for value in values:
        if value is None or isinstance(value, dt.datetime | dt.date):
            continue
        if not (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
            return None
    parsed = pd.to_datetime(
        pd.Series(list(values), dtype=object), format="ISO8601", errors="coerce"
    )
    present = pd.Series([value is not None for value in values])
    if bool((parsed.isna() & present).any()):
        return None
    return parsed


def infer_column(values: Sequence[object], header: str) -> pd.Series:
    """Type one column of raw cells (blanks as None) by the module's rule."""
    present = [value for value in values if value is not None]
    kinds = {type(value) for value in present}
    if present and kinds == {bool}:
        return pd.Series(cast(Any, list(values)), dtype="boolean")
    if present and all(kind is str or issubclass(kind, dt.date) for kind in kinds):
        dates = _dates(values)
        if dates is not None:
            return dates
    if present and kinds <= {str, int, float} and not is_identifier_header(header):
        # _numbers gives up at the first word, so text columns cost one check.
        numbers = _numbers(values)
        if numbers is not None:
            return numbers
    texts = [
        value if value is None or type(value) is str else canonical_text(value) for value in values
    ]
    return pd.Series(pd.array(texts, dtype="string"))
