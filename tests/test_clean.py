"""Tests for octave_frames._clean: what a cell turns into before it is sent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from octave_frames._clean import (
    clean_scalar,
    clean_text,
    field_rule,
    normalize_domain,
    normalize_email,
    strip_control,
)

SCALARS: list[tuple[object, str | None]] = [
    (None, None),
    (np.nan, None),
    (float("nan"), None),
    (pd.NA, None),
    (pd.NaT, None),
    (np.datetime64("NaT"), None),
    (Decimal("NaN"), None),
    ("", None),
    ("  \t\n ", None),
    ("  Ann  ", "Ann"),
    ("nan", "nan"),
    ("None", "None"),
    (12345.0, "12345"),
    (-3.0, "-3"),
    (12345, "12345"),
    (np.int64(7), "7"),
    (np.float32(0.1), "0.1"),
    (0.5, "0.5"),
    (float(2**53 + 2), "9007199254740994"),
    (1.2345678901234567e19, "12345678901234567000"),
    (1e20, "100000000000000000000"),
    (float("inf"), "inf"),
    (True, "True"),
    (np.bool_(False), "False"),
    (Decimal("12.0"), "12"),
    (Decimal("1.50"), "1.50"),
    (dt.date(2025, 3, 15), "2025-03-15"),
    (dt.datetime(2025, 3, 15), "2025-03-15"),
    (pd.Timestamp("2025-03-15 14:30"), "2025-03-15T14:30:00"),
    (pd.Timestamp("2025-03-15", tz="UTC"), "2025-03-15T00:00:00+00:00"),
    (np.datetime64("2025-03-15T00:00"), "2025-03-15"),
    (b"bytes", "bytes"),
    ("a\x00b\x07c\x1bd\x7f", "abcd"),
    ("line1\r\nline2\rline3", "line1\nline2\nline3"),
    ("keep\ttab", "keep\ttab"),
    ("🚀 launch", "🚀 launch"),
    ("Zoë Ångström 北京", "Zoë Ångström 北京"),
    ("\u00a0 nbsp \u00a0", "nbsp"),
]


@pytest.mark.parametrize(("value", "expected"), SCALARS)
def test_clean_scalar_table(value: object, expected: str | None) -> None:
    """Every kind of cell value becomes the documented text, or None for missing/empty."""
    assert clean_scalar(value) == expected


@pytest.mark.parametrize(("value", "expected"), SCALARS)
def test_clean_text_object_column_matches_scalar_rules(value: object, expected: str | None) -> None:
    """An object column cleans each cell exactly like clean_scalar, beside other values."""
    series = pd.Series(["x", value, None], dtype=object)
    assert clean_text(series) == ["x", expected, None]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([12345.0, np.nan, 0.5, -0.0]), ["12345", None, "0.5", "0"]),
        (pd.Series([1.0, None], dtype="Float64"), ["1", None]),
        (pd.Series([0.1, np.nan], dtype="float32"), ["0.1", None]),
        (pd.Series([1, None], dtype="Int64"), ["1", None]),
        (pd.Series([2**62, 5], dtype="int64"), [str(2**62), "5"]),
        (pd.Series([True, False]), ["True", "False"]),
        (pd.Series([True, None], dtype="boolean"), ["True", None]),
        (
            pd.Series([1.2345678901234567e19, 2.0**53 + 2]),
            ["12345678901234567000", "9007199254740994"],
        ),
        (pd.Series([np.inf, -np.inf]), ["inf", "-inf"]),
        (
            pd.Series([pd.Timestamp("2025-03-15"), pd.NaT, pd.Timestamp("2025-03-15 09:05")]),
            ["2025-03-15", None, "2025-03-15T09:05:00"],
        ),
        (
            pd.Series(pd.to_datetime(["2025-03-15"]).tz_localize("UTC")),
            ["2025-03-15T00:00:00+00:00"],
        ),
        (pd.Series(["b ", None, "b "], dtype="category"), ["b", None, "b"]),
        (pd.Series([" a ", None, ""], dtype="string"), ["a", None, None]),
        (pd.Series([" a ", np.nan, "  "]), ["a", None, None]),
        (pd.Series([], dtype=object), []),
    ],
)
def test_clean_text_by_dtype(series: pd.Series[Any], expected: list[str | None]) -> None:
    """Each column dtype (numpy, nullable, datetime, categorical, string) cleans as documented."""
    assert clean_text(series) == expected


def test_clean_text_does_not_touch_the_series() -> None:
    """Cleaning reads the column without writing to it."""
    series = pd.Series([" a\x00 ", 1.0, None], dtype=object)
    before = series.copy(deep=True)
    clean_text(series)
    pd.testing.assert_series_equal(series, before)


def test_one_megabyte_cell_is_cleaned_whole() -> None:
    """A 1 MB cell is cleaned without trouble; the length limit is applied by the builder."""
    big = "x" * 1_000_000 + "\x00"
    assert clean_text(pd.Series([big, "a"])) == ["x" * 1_000_000, "a"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann@Acme.COM", "ann@acme.com"),
        ("  ann@acme.com\t", "ann@acme.com"),
        ("mailto:Ann@Acme.com", "ann@acme.com"),
        ("MAILTO: ann@acme.com", "ann@acme.com"),
        ("not an email", "not an email"),
        ("mailto:", None),
    ],
)
def test_normalize_email(text: str, expected: str | None) -> None:
    """Emails are trimmed, lower-cased and lose a mailto: prefix; no '@' is left to the caller."""
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme.com", "acme.com"),
        ("https://www.Acme.com/about", "acme.com"),
        ("WWW.ACME.COM.", "acme.com"),
        ("http://acme.com:8080/x?y=1#z", "acme.com"),
        ("acme.com:443", "acme.com"),
        ("acme.com/path?q", "acme.com"),
        ("//cdn.acme.com", "cdn.acme.com"),
        ("https://user:pw@acme.com", "acme.com"),
        ("ann@acme.com", "acme.com"),
        ("  Sub.Acme.co.uk  ", "sub.acme.co.uk"),
        ("https://Bücher.de/", "bücher.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("https://", None),
        ("www.", None),
    ],
)
def test_normalize_domain(text: str, expected: str | None) -> None:
    """Websites are reduced to the bare lower-case host: no scheme, www, port, path or query."""
    assert normalize_domain(text) == expected


def test_field_rule_applies_only_to_its_field() -> None:
    """Email and domain rules touch only their fields; other fields keep the cleaned text."""
    texts = ["HTTPS://WWW.A.COM/x", None, "B@C.COM"]
    assert field_rule("companyDomain", texts) == ["a.com", None, "c.com"]
    assert field_rule("email", texts) == ["https://www.a.com/x", None, "b@c.com"]
    assert field_rule("companyName", texts) == texts


def test_strip_control_keeps_tab_and_newline() -> None:
    """Control characters go, tabs and newlines stay, carriage returns become newlines."""
    assert strip_control("a\tb\nc\r\nd\x0be\x0cf") == "a\tb\nc\ndef"


@given(st.lists(st.one_of(st.none(), st.text(), st.floats(), st.integers()), max_size=20))
def test_cleaned_values_never_invent_missing_markers(values: list[object]) -> None:
    """Cleaned values are None or stripped text, never 'nan'/'None'/'<NA>' out of nothing."""
    cleaned = clean_text(pd.Series(values, dtype=object))
    assert len(cleaned) == len(values)
    for raw, text in zip(values, cleaned, strict=True):
        if text is None:
            continue
        assert text == text.strip()
        assert text
        assert not any(ord(ch) < 32 and ch not in "\t\n" for ch in text)
        for marker in ("nan", "None", "<NA>"):
            if marker in text:
                assert isinstance(raw, str)
                assert marker in raw


@given(st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
def test_whole_floats_read_as_their_integer(number: int) -> None:
    """Any integer that went through a float column comes back as the same digits."""
    assert clean_text(pd.Series([float(number), np.nan])) == [str(number), None]
