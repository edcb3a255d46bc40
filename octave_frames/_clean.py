r"""Turning cell values into the clean text Octave is sent.

One column at a time: a column becomes a list of ``str | None`` (``None`` = nothing to
send), so a 100,000-row frame is cleaned with a handful of list passes, not a Python
call per cell and field.

The rules, for every value that reaches a request (fields and template values alike):

- missing values (``NaN``, ``None``, ``pd.NA``, ``NaT``) and text that is empty after
  stripping become ``None``; nothing is ever sent as ``"nan"``, ``"None"`` or ``"<NA>"``
  (literal text such as a first name ``"Nan"`` is kept: it is data);
- whole floats become integers (``12345.0`` -> ``"12345"``): CRM ids read from Excel or
  CSV next to blanks arrive as floats. Ids beyond 2**53 use the float's shortest repr
  (``1.2345678901234567e+19`` -> ``"12345678901234567000"``), the digits a spreadsheet
  shows, not the binary expansion;
- other floats use their shortest repr (``0.1``), booleans read ``True`` / ``False``;
- datetimes are ISO 8601; a naive datetime at midnight is a date (``2025-03-15``);
- line breaks become ``\n``; other C0 control characters and DEL are removed;
- text is stripped.

Field-specific rules on top: emails are lower-cased without a ``mailto:`` prefix;
domains are reduced to the host (``https://www.Acme.com:443/about?x`` -> ``acme.com``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = [
    "clean_scalar",
    "clean_text",
    "field_rule",
    "normalize_domain",
    "normalize_email",
    "strip_control",
]

# Kept: tab and newline. Carriage returns are turned into newlines before this runs.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_CONTROL_OR_CR: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\r]")
_MAILTO: Final = re.compile(r"^mailto:", re.IGNORECASE)
# Optional scheme ("://" required, so "acme.com:8080" is not read as a scheme), optional
# slashes and user info; the host runs up to a port, path, query, fragment or space.
_HOST: Final = re.compile(r"(?:[a-z][a-z0-9+.\-]*://)?/*(?:[^@/?#\s]*@)?([^/?#:\s]*)")
# Floats with a magnitude below this are whole numbers exactly representable as int64.
_EXACT_INT_LIMIT: Final = 2.0**53


def _whole_float_text(value: float | np.floating[Any]) -> str:
    # abs() of a numpy float is typed loosely; float() keeps mypy and the comparison exact.
    """Digits of a whole float, from its shortest repr once past 2**53 (see module doc)."""
    if abs(float(value)) < _EXACT_INT_LIMIT:
        return str(int(value))
    return format(Decimal(str(value)).to_integral_value(), "f")


def _datetime_text(value: datetime) -> str:
    midnight = value.hour == value.minute == value.second == value.microsecond == 0
    if value.tzinfo is None and midnight and not getattr(value, "nanosecond", 0):
        return value.date().isoformat()
    return value.isoformat()


def clean_scalar(value: object) -> str | None:
    r"""Clean one value: the text to send, or None when there is nothing to send.

    Example:
        >>> clean_scalar(12345.0), clean_scalar(float("nan")), clean_scalar("  Ann\x00 ")
        ('12345', None, 'Ann')

    """
    text = _raw_text(value)
    return None if text is None else _finish_one(text)


def _raw_text(value: object) -> str | None:  # noqa: PLR0911 - one return per kind of value
    """Text of one value before stripping and control-character removal."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return _whole_float_text(value) if float(value).is_integer() else str(value)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else _datetime_text(pd.Timestamp(value))
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        return (
            format(value.to_integral_value(), "f")
            if value == value.to_integral_value()
            else str(value)
        )
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def strip_control(text: str) -> str:
    r"""Turn ``\r\n`` and ``\r`` into ``\n`` and drop other control characters but tab.

    Example:
        >>> strip_control("a\r\nb\x00c")
        'a\nbc'

    """
    if _CONTROL_OR_CR.search(text):
        return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text


def _finish_one(text: str) -> str | None:
    return strip_control(text).strip() or None


def _raw_texts(series: pd.Series[Any]) -> list[str | None]:
    """Return the unfinished text of every cell, column-wise where the dtype allows."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _float_texts(series.to_numpy())
    if pd.api.types.is_float_dtype(dtype):  # nullable Float32/Float64: NA and NaN both missing
        return _float_texts(series.to_numpy(dtype="float64", na_value=np.nan))
    values = series.to_numpy(dtype=object)
    # str is by far the common case: keep it out of the per-kind dispatch.
    return [v if type(v) is str else _raw_text(v) for v in values]


def _float_texts(values: np.ndarray[Any, Any]) -> list[str | None]:
    """Text of a float array: whole numbers as integers, NaN as None, the rest as repr."""
    finite = np.isfinite(values)
    whole = finite & (values == np.trunc(np.where(finite, values, 0)))
    texts: np.ndarray[Any, Any] = values.astype(str).astype(object)
    exact = whole & (np.abs(values) < _EXACT_INT_LIMIT)
    texts[exact] = values[exact].astype(np.int64).astype(str)
    for i in np.flatnonzero(whole & ~exact):
        texts[i] = _whole_float_text(values[i])
    texts[np.isnan(values)] = None
    return list(texts)


def clean_text(series: pd.Series[Any]) -> list[str | None]:
    """Clean a column into one ``str | None`` per row (see the module doc for the rules).

    Example:
        >>> clean_text(pd.Series([1.0, None, 2.5]))
        ['1', None, '2.5']

    """
    texts = _raw_texts(series)
    # One C-level scan tells whether any cell needs the slower per-cell substitution.
    if _CONTROL_OR_CR.search("".join(filter(None, texts))):
        return [None if t is None else _finish_one(t) for t in texts]
    return [None if t is None else (t.strip() or None) for t in texts]


def normalize_email(text: str) -> str | None:
    """Lower-case an email and drop a ``mailto:`` prefix; None when nothing is left.

    The caller decides what an address without ``@`` means.

    Example:
        >>> normalize_email(" MAILTO:Ann@Acme.COM ")
        'ann@acme.com'

    """
    return _MAILTO.sub("", text.strip()).strip().lower() or None


def normalize_domain(text: str) -> str | None:
    """Reduce a website or domain to its lower-case host without ``www.``; None if empty.

    Internationalised names are kept as written (lower-cased), not punycode-encoded.

    Example:
        >>> normalize_domain("https://www.Acme.com:8443/about?x=1")
        'acme.com'
        >>> normalize_domain("WWW.ACME.COM.")
        'acme.com'

    """
    match = _HOST.match(text.strip().lower())
    host = match.group(1) if match else ""
    if host.startswith("www."):
        host = host[4:]
    return host.strip(".") or None


def field_rule(field: str, texts: list[str | None]) -> list[str | None]:
    """Apply a request field's own rule to texts from :func:`clean_text`.

    Emails get :func:`normalize_email`, ``companyDomain`` gets :func:`normalize_domain`;
    other fields are returned as they are.

    Example:
        >>> field_rule("companyDomain", clean_text(pd.Series(["https://www.Acme.com/about", None])))
        ['acme.com', None]

    """
    if field == "email":
        return [None if t is None else normalize_email(t) for t in texts]
    if field == "companyDomain":
        # Many contacts share a company: normalise each distinct spelling once.
        hosts = {t: normalize_domain(t) for t in set(texts) if t is not None}
        return [None if t is None else hosts[t] for t in texts]
    return texts
