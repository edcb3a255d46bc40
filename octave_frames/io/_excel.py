"""``read_excel`` / ``to_excel``: contact sheets in, workbooks an ops team works in out."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from octave_frames._answers import answers_long, has_answers
from octave_frames._constants import (
    SHEET_ANSWERS,
    SHEET_CONTACTS,
    SHEET_EMAILS,
    SHEET_METADATA,
    SHEET_RUN,
)
from octave_frames._exceptions import ArgumentError
from octave_frames._report import RunReport, remember, report_for
from octave_frames._results import step_count
from octave_frames._summary import steps_in, summarize
from octave_frames.io._approval import Only, select_rows
from octave_frames.io._identity import long_with_contact
from octave_frames.io._layout import contacts_layout
from octave_frames.io._read import Engine, open_book
from octave_frames.io._restore import DtypeArg, frame_from_rows
from octave_frames.io._runinfo import (
    RUN_CREDITS_ITEM,
    report_document,
    report_from_document,
    run_rows,
)
from octave_frames.io._sheetxml import Book, SheetPlan
from octave_frames.io._write import CellWriter, FitStats, metadata_plan, table_plan

__all__ = ["read_excel", "to_excel"]

log = logging.getLogger("octave_frames")

_DEFAULT_SHEETS: Final = {
    "contacts": SHEET_CONTACTS,
    "emails": SHEET_EMAILS,
    "answers": SHEET_ANSWERS,
    "run": SHEET_RUN,
}
_TEXT_SUFFIXES: Final = {".csv": ",", ".tsv": "\t"}
_EXCEL_SUFFIXES: Final = (".xlsx", ".xlsm")


def _csv_rows(path: Path, sep: str) -> list[list[object]]:
    """Every CSV cell as text (blanks as None), header row included."""
    raw = pd.read_csv(
        path,
        sep=sep,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        encoding="utf-8-sig",
    )
    return [[value or None for value in row] for row in raw.itertuples(index=False, name=None)]


def read_excel(
    path: str | os.PathLike[str],
    sheet_name: str | int = 0,
    *,
    header: int = 0,
    usecols: Sequence[Hashable] | None = None,
    nrows: int | None = None,
    dtype: DtypeArg = None,
    engine: Engine | None = None,
) -> pd.DataFrame:
    """Read a contact sheet (``.xlsx``, ``.xlsm``, ``.csv``) keeping identifiers as text.

    Plain sheets: each column is read as text first and gets a richer dtype only
    when that loses nothing (see :mod:`octave_frames.io._infer`): ``00123``,
    ``0061a00000AbCdE``, phone numbers, zip codes and ids of more than 15 digits
    stay text, as does every column whose header names an identifier (``ID``,
    ``Phone``, ``Zip``, ...); date cells become datetimes; other numeric
    columns become ``Int64``/``Float64``; text is the nullable ``string`` dtype;
    empty cells are NA; header whitespace is stripped.

    Workbooks written by :func:`to_excel`: ``sheet_name=0`` reads their contacts
    sheet, and the frame comes back as it was written: index (MultiIndex, names,
    duplicates), column labels and order, dtypes (statuses, ``Float64`` usage,
    ordered categoricals, datetimes to the millisecond), NA vs empty string.
    Text cut or cleaned to fit a cell stays as written. The run behind the
    workbook comes back too: ``run_settings(frame)`` / ``summary()`` see it, and
    ``to_excel`` of the frame writes the same Run sheet settings.

    Args:
        path: The file; ``.csv``/``.tsv`` are read as UTF-8 text (a BOM is fine).
        sheet_name: Sheet name or 0-based position.
        header: Row (0-based) holding the headers.
        usecols: Keep only these columns (labels).
        nrows: Read at most this many data rows.
        dtype: A dtype for all columns, or ``{column: dtype}``; skips inference there.
        engine: ``"calamine"`` (default when python-calamine is installed) or ``"openpyxl"``.

    Returns:
        A new DataFrame.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ArgumentError: Not a readable workbook, or no such sheet.

    Example:
        >>> contacts = read_excel("contacts.xlsx")
        >>> contacts["Zip"].iloc[0]
        '00123'

    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in _TEXT_SUFFIXES:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        frame = frame_from_rows(
            _csv_rows(path, _TEXT_SUFFIXES[suffix]), header=header, nrows=nrows, dtype=dtype
        )
        return _select(frame, usecols)
    if isinstance(sheet_name, list | tuple | type(None)):
        raise ArgumentError("read_excel reads one sheet: pass its name or position")
    book = open_book(path, engine)
    try:
        meta = book.metadata(SHEET_METADATA)
        name = _sheet(book.sheet_names, sheet_name, meta)
        rows = book.rows(name)
    finally:
        book.close()
    own = meta if meta is not None and meta.get("sheet") == name and header == 0 else None
    frame = _select(frame_from_rows(rows, own, header=header, nrows=nrows, dtype=dtype), usecols)
    run = None if own is None else own.get("run")
    report = None if run is None else report_from_document(run)
    if report is not None:
        # So read_excel -> to_excel keeps the Run sheet's settings, and summary() its facts.
        remember(frame, report)
    return frame


def _sheet(names: Sequence[str], wanted: str | int, meta: Mapping[str, Any] | None) -> str:
    """Resolve ``sheet_name``; 0 means the contacts sheet in a workbook of ours."""
    visible = [name for name in names if name != SHEET_METADATA]
    if isinstance(wanted, str):
        if wanted not in visible:
            raise ArgumentError(
                f"no sheet {wanted!r}; the sheets are {', '.join(map(repr, visible))}"
            )
        return wanted
    if wanted == 0 and meta is not None and meta.get("sheet") in visible:
        return str(meta["sheet"])
    if not 0 <= wanted < len(visible):
        raise ArgumentError(
            f"sheet position {wanted} is out of range: there are {len(visible)} sheets"
        )
    return visible[wanted]


def _select(frame: pd.DataFrame, usecols: Sequence[Hashable] | None) -> pd.DataFrame:
    """Apply ``usecols``, naming any column that is not there."""
    if usecols is None:
        return frame
    missing = [label for label in usecols if label not in frame.columns]
    if missing:
        raise ArgumentError(f"usecols names columns that are not in the sheet: {missing!r}")
    return frame.loc[:, [label in usecols for label in frame.columns]]


def _sheet_names(sheet_names: Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Merge the caller's sheet names over the defaults, checking them."""
    names: dict[str, str | None] = dict(_DEFAULT_SHEETS)
    for key, value in (sheet_names or {}).items():
        if key not in names:
            raise ArgumentError(f"sheet_names keys are {sorted(names)}, not {key!r}")
        names[key] = value
    chosen = [name for name in names.values() if name is not None]
    for name in chosen:
        if (
            not name
            or len(name) > 31
            or any(ch in name for ch in "[]:*?/\\")
            or name == SHEET_METADATA
        ):
            raise ArgumentError(f"{name!r} cannot name a sheet (1-31 characters, none of []:*?/\\)")
    if len({name.casefold() for name in chosen}) != len(chosen):
        raise ArgumentError(f"sheet names must differ: {chosen!r}")
    if names["contacts"] is None:
        raise ArgumentError("the contacts sheet cannot be left out")
    return names


def to_excel(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    prefix: str = "",
    report: RunReport | None = None,
    sheet_names: Mapping[str, str | None] | None = None,
    only: Only | None = None,
    approved: Hashable | None = None,
) -> None:
    """Write a result frame as a workbook an ops team can work in.

    Sheets: ``Contacts`` (the frame; the index as leading columns unless it is
    the default RangeIndex), ``Emails`` (one row per contact and step, with the
    contact's identifying columns), ``Run`` (agent, time, counts per status,
    credits, top errors, then one ``setting: <argument>`` row per setting that
    produced the emails). On ``Contacts`` each step shows its subject and text
    right after the run columns, its sections folded into a collapsed column
    group beside them (see :mod:`octave_frames.io._layout`); ``read_excel``
    still gives the frame's own column order back. Headers are bold, frozen
    and filtered; long text wraps; widths follow the content; status cells are
    coloured. Text is always stored
    as text, never as a formula; text over 32,767 characters is cut with a
    visible marker; XML-illegal control characters are removed (both are counted
    on the Run sheet). If ``path`` exists, only these sheets are replaced: the
    user's other sheets and their content stay (openpyxl rewrites the file, so
    what openpyxl cannot read, such as charts and images, is lost). A very
    hidden sheet carries the metadata that lets :func:`read_excel` give the
    frame back, with the run's report (settings, credits; never the API key),
    so writing a frame read back from a workbook keeps its Run sheet.

    Args:
        frame: The frame to write (usually a ``sequence`` result).
        path: Target ``.xlsx``/``.xlsm`` file.
        prefix: The ``prefix`` the run used for its output columns.
        report: Facts of the run for the Run sheet; looked up for ``frame`` when omitted.
        sheet_names: Override sheet names: ``{"contacts": ..., "emails": ..., "answers": ...,
            "run": ...}``;
            None leaves the Emails or Run sheet out.
        only: ``"approved"`` (rows with status ``ok`` marked in the approval column) or
            ``"ok"`` (rows with status ``ok``): the rows to write; None writes them all.
        approved: The approval column's label, when its header is not one of the usual.

    Raises:
        ArgumentError: Not a DataFrame, not an ``.xlsx``/``.xlsm`` path, bad sheet names,
            an existing file that is not a workbook, or an ``only=`` that cannot be met
            (as in :func:`~octave_frames.io.to_csv`).
        ColumnError: ``approved`` names no column.

    Example:
        >>> to_excel(out, "contacts_with_emails.xlsx")

    """
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentError(f"to_excel writes a DataFrame, not {type(frame).__name__}")
    path = Path(path)
    if path.suffix.lower() not in _EXCEL_SUFFIXES:
        raise ArgumentError(f"to_excel writes .xlsx or .xlsm files, not {path.name!r}")
    names = _sheet_names(sheet_names)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"no such folder: {path.parent}")
    if report is None:
        report = report_for(frame)
    frame = select_rows(frame, only, prefix=prefix, approved=approved)  # the report stays
    replace = [name for name in names.values() if name is not None] + [SHEET_METADATA]
    # Imported here: ``import octave_frames`` must not pay for openpyxl.
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = Book(path, replace)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:
        raise ArgumentError(f"cannot open {path} as a workbook to write into: {exc}") from exc
    try:
        _write(book, frame, names, prefix=prefix, report=report, filename=path.name)
    finally:
        book.close()


def _run_table(
    frame: pd.DataFrame, prefix: str, report: RunReport | None, stats: FitStats
) -> pd.DataFrame:
    """The Run sheet: the summary, this run's credits, cell fixes, then the settings block."""
    if steps_in(frame, prefix):
        summary = summarize(frame, prefix=prefix, report=report)
        steps = list(summary.steps.values()) if summary.steps else [summary]
        items = [
            (str(item) if len(steps) == 1 else f"{step.step}: {item}", value)
            for step in steps
            for item, value in step.to_frame().itertuples(index=False)
        ]
    else:  # any frame can be written; only a result frame has a run to summarise
        items = [("rows", len(frame))]
    extra = run_rows(report)
    listed = {item for item, _ in items}
    # The summary may list this run's credits itself; else they go after its credits.
    credits = [k for k, (item, _) in enumerate(items) if item.startswith("credits")]
    at = credits[0] + 1 if credits else len(items)
    rows = items[:at]
    rows += [row for row in extra if row[0] == RUN_CREDITS_ITEM and row[0] not in listed]
    rows += items[at:]
    rows += [
        (item, count)
        for item, count in (
            ("cells cut to 32,767 characters", stats.truncated),
            ("cells with control characters removed", stats.cleaned),
        )
        if count
    ]
    rows += [row for row in extra if row[0] != RUN_CREDITS_ITEM]
    return pd.DataFrame(
        {
            "item": pd.array([item for item, _ in rows], dtype="string"),
            "value": pd.Series([value for _, value in rows], dtype=object),
        }
    )


def _write(
    book: Book,
    frame: pd.DataFrame,
    names: Mapping[str, str | None],
    *,
    prefix: str,
    report: RunReport | None,
    filename: str,
) -> None:
    """Plan every sheet of ``to_excel`` and save the book."""
    stats = FitStats()
    cells = CellWriter(book.styles, stats)
    contacts = str(names["contacts"])
    plans: list[SheetPlan] = []
    plan, meta = table_plan(
        contacts,
        frame,
        cells,
        status_label=f"{prefix}octave_status",
        layout=contacts_layout(list(frame.columns), prefix=prefix),
    )
    plans.append(plan)
    if names["emails"] is not None and step_count(frame.columns, prefix=prefix):
        long, anchor = long_with_contact(frame, prefix=prefix)
        plans.append(table_plan(names["emails"], long, cells, freeze_after=anchor)[0])
    if names["answers"] is not None and has_answers(frame, prefix):
        answers = answers_long(frame, prefix=prefix)
        plans.append(table_plan(names["answers"], answers, cells, freeze_after=2)[0])
    if names["run"] is not None:
        plans.append(table_plan(names["run"], _run_table(frame, prefix, report, stats), cells)[0])
    if stats.truncated or stats.cleaned:
        log.warning(
            "%s: %d cell(s) cut to Excel's 32,767 characters, %d with control characters removed",
            filename,
            stats.truncated,
            stats.cleaned,
        )
    if report is not None:
        meta["run"] = report_document(report)
    document = json.dumps(meta, separators=(",", ":"), allow_nan=False)
    plans.append(metadata_plan(SHEET_METADATA, document, cells))
    book.save(plans)
