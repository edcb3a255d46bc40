"""The run behind a workbook: kept in its metadata, shown on its Run sheet, read back.

``to_excel`` stores the :class:`~octave_frames._report.RunReport` of the frame
it writes (settings, credits, agent, times, ...) in the workbook's hidden
metadata. ``read_excel`` attaches it again to the frame it returns, through the
same registry a live run uses (never ``df.attrs``), so ``read_excel`` ->
``to_excel`` keeps the Run sheet's settings, and ``summary()`` of a re-read
frame still names its agent. :func:`run_report` / :func:`run_settings` give the
facts to code, from a frame or straight from a workbook file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
import types
import typing
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

import pandas as pd

from octave_frames._constants import SHEET_METADATA
from octave_frames._report import RunReport, report_for

__all__ = [
    "RUN_CREDITS_ITEM",
    "SETTING_ITEM",
    "report_document",
    "report_from_document",
    "run_report",
    "run_rows",
    "run_settings",
]

log = logging.getLogger("octave_frames")

#: Run sheet item of the credits this run paid for (``octave_usage`` sums the frame's rows).
RUN_CREDITS_ITEM: Final = "credits spent by this run"
#: Run sheet items of the settings start with this.
SETTING_ITEM: Final = "setting: "
# Defence in depth: a setting that names a credential is never written to a workbook.
_SECRET: Final = re.compile(r"api.?key|secret|password|token|authori[sz]ation", re.IGNORECASE)


def _safe_settings(settings: Mapping[str, str]) -> dict[str, str]:
    """The settings without any that could hold a credential."""
    return {str(k): str(v) for k, v in settings.items() if not _SECRET.search(str(k))}


def _encode(value: Any) -> Any:
    """A report attribute as JSON (datetimes as ISO text, counters as objects)."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def report_document(report: RunReport) -> dict[str, Any]:
    """Describe ``report`` as JSON for the workbook's metadata.

    Args:
        report: The run's report.

    Returns:
        A JSON-able dict, one key per report attribute.

    """
    document = {f.name: _encode(getattr(report, f.name)) for f in dataclasses.fields(report)}
    document["settings"] = _safe_settings(report.settings)
    return document


# The JSON values each plain attribute type accepts (an int is a fine float).
_ACCEPTED: Final[dict[Any, tuple[type, ...]]] = {
    float: (int, float),
    int: (int,),
    bool: (bool,),
    str: (str,),
    dict: (dict,),
}


def _decode(value: Any, hint: Any) -> Any:
    """A JSON value back as the report attribute its type hint names.

    Raises:
        TypeError: The value is not of that type (an edited or foreign document).
        ValueError: Text that should be a datetime is not one.

    """
    if value is None:
        return None
    # ``X | None`` hints: check against X.
    options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if isinstance(hint, types.UnionType) and len(options) == 1:
        hint = options[0]
    kind = typing.get_origin(hint) or hint
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is Counter:
        return Counter({str(k): int(v) for k, v in dict(value).items()})
    accepted = _ACCEPTED.get(kind)
    if accepted is None:
        return value
    # bool is an int to isinstance, but True is no count of calls.
    if isinstance(value, bool) is not (kind is bool) or not isinstance(value, accepted):
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    return float(cast(float, value)) if kind is float else value


def report_from_document(document: Mapping[str, Any]) -> RunReport | None:
    """Rebuild a report from :func:`report_document`; attributes it cannot read are left out.

    Args:
        document: The JSON the metadata holds.

    Returns:
        The report, or None when ``document`` is not one.

    """
    if not isinstance(document, Mapping):
        return None
    hints = typing.get_type_hints(RunReport)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(RunReport):
        if field.name not in document:
            continue
        try:
            values[field.name] = _decode(document[field.name], hints.get(field.name))
        except (TypeError, ValueError) as exc:
            log.info("run metadata: %s unreadable (%s); left out", field.name, exc)
    try:
        return RunReport(**values)
    except TypeError:
        return None


def run_rows(report: RunReport | None) -> list[tuple[str, object]]:
    """Run sheet rows the summary does not give: this run's credits, then every setting.

    Args:
        report: The run's report, if one is known.

    Returns:
        ``(item, value)`` pairs; none without a report.

    """
    if report is None:
        return []
    rows: list[tuple[str, object]] = (
        [(RUN_CREDITS_ITEM, float(report.credits))] if report.credits is not None else []
    )
    rows.extend((SETTING_ITEM + k, v) for k, v in _safe_settings(report.settings).items())
    return rows


def run_report(source: pd.DataFrame | str | os.PathLike[str]) -> RunReport | None:
    """The report of the run behind a frame, or behind a workbook ``to_excel`` wrote.

    Args:
        source: A result frame (live, or returned by ``read_excel``), or a workbook path.

    Returns:
        The report, or None when nothing is known about the run.

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        ArgumentError: ``source`` is a path but not a readable workbook.

    Example:
        >>> run_report("contacts_with_emails.xlsx").agent
        'ca_123'

    """
    if isinstance(source, pd.DataFrame):
        return report_for(source)
    from octave_frames.io._read import open_book

    book = open_book(Path(source), None)
    try:
        meta = book.metadata(SHEET_METADATA)
    finally:
        book.close()
    document = None if meta is None else meta.get("run")
    return None if document is None else report_from_document(document)


def run_settings(source: pd.DataFrame | str | os.PathLike[str]) -> dict[str, str]:
    """The settings (argument -> readable value) of the run behind a frame or a workbook.

    Args:
        source: A result frame (live, or returned by ``read_excel``), or a workbook path.

    Returns:
        A new dict; empty when nothing is known about the run.

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        ArgumentError: ``source`` is a path but not a readable workbook.

    Example:
        >>> run_settings(of.read_excel("out.xlsx"))["instructions[all]"]
        'Keep emails under 150 words.'

    """
    report = run_report(source)
    return {} if report is None else dict(report.settings)
