"""``to_csv``: CSV for sequencer imports, safe to open in Excel.

Three shapes: octave_frames' own long layout (one row per email step) or wide layout
(the frame), and the import formats of the sequencers (``format=``, declared in
:mod:`._sequencers`): one row per contact, each step's subject and body as custom fields.
``only=`` keeps the rows with status ``ok``, or the approved ones (:mod:`._approval`).
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Final, Literal, get_args

import numpy as np
import pandas as pd

from octave_frames._clean import clean_text, field_rule
from octave_frames._columns import display_name, normalize_header
from octave_frames._detect import detect_fields
from octave_frames._exceptions import ArgumentError
from octave_frames._results import is_output_column, step_count
from octave_frames.io._approval import Only, select_rows
from octave_frames.io._identity import long_with_contact
from octave_frames.io._sequencers import (
    CONTACT_FIELDS,
    Sequencer,
    SequencerFormat,
    custom_field_names,
    sequencer,
)
from octave_frames.io._write import index_is_default

__all__ = ["CSV_LAYOUTS", "CsvLayout", "sequencer_table", "to_csv"]

log = logging.getLogger("octave_frames")

CsvLayout = Literal["long", "wide"]
#: The ``layout`` values of :func:`to_csv`, default first (e.g. for a CLI's choices).
CSV_LAYOUTS: Final[tuple[CsvLayout, ...]] = get_args(CsvLayout)

# OWASP "CSV injection": a spreadsheet runs cells starting with these as formulas.
_FORMULA_START: Final = r"^[=+\-@\t\r]"
# An international phone number (+1 415 555 0100) starts with "+" but calls no function;
# a sequencer's dialer would get the quote too, so its phone column is spared.
_PHONE_NUMBER: Final = r"^\+[0-9 ().\-]+$"

# Phone is no Octave request field, so detection does not look for it; these headers
# (letters and digits only, see normalize_header) are the usual names in CRM exports.
_PHONE_HEADERS: Final = frozenset(
    {
        *("phone", "phonenumber", "phone1", "mobile", "mobilephone", "mobilenumber"),
        *("workphone", "directphone", "directdial", "telephone", "tel", "cellphone"),
        *("businessphone", "officephone", "corporatephone", "contactphone", "primaryphone"),
    }
)
# A cell that already holds HTML (output_format="html", or a person's edit) stays as it is.
_HTML: Final = re.compile(r"</?(?:p|br|div|span|a|ul|ol|li|b|i|strong|em|table)\b", re.I)
_NEWLINE: Final = re.compile(r"\r\n|\r|\n")


def _is_text(series: pd.Series) -> bool:
    """Tell whether a column holds text (numbers, dates and booleans are left alone)."""
    kind = series.dtype.kind if not isinstance(series.dtype, pd.CategoricalDtype) else "O"
    return kind not in "iufcbmM"


def _escape(series: pd.Series, *, phone: bool = False) -> pd.Series:
    """Prefix ``'`` to cells that a spreadsheet would run as a formula (phone numbers kept)."""
    text = series.astype("string")
    risky = text.str.contains(_FORMULA_START, regex=True).fillna(False).astype(bool)
    if phone:
        risky &= ~text.str.fullmatch(_PHONE_NUMBER).fillna(False).astype(bool)
    return text.mask(risky, "'" + text)


def _escape_header(label: object) -> str:
    """A header as text, escaped like a cell."""
    name = display_name(label)
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def _contact_columns(frame: pd.DataFrame, prefix: str) -> dict[str, int]:
    """``{contact field: position}`` of the input columns that hold each contact field."""
    inputs = [j for j, c in enumerate(frame.columns) if not is_output_column(c, prefix=prefix)]
    found = detect_fields(frame.iloc[:, inputs], None).columns
    labels: list[Hashable] = [frame.columns[j] for j in inputs]
    out: dict[str, int] = {
        name: inputs[labels.index(found[name])] for name in CONTACT_FIELDS if name in found
    }
    taken = set(out.values())
    for j in inputs:
        if j not in taken and normalize_header(display_name(frame.columns[j])) in _PHONE_HEADERS:
            out["phone"] = j
            break
    return out


def _cell(value: object, line_break: str) -> str:
    """An email part as the sequencer takes it: as written, HTML kept as HTML."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value)
    if line_break == "\n" or _HTML.search(text):
        return text
    return _NEWLINE.sub("<br>", html.escape(text, quote=False))


def _check_limits(preset: Sequencer, table: pd.DataFrame, names: list[str]) -> None:
    """Refuse what the sequencer would refuse, before anything is written."""
    if preset.max_custom_fields is not None and len(names) > preset.max_custom_fields:
        raise ArgumentError(
            f"format={preset.key!r}: {preset.title} takes at most {preset.max_custom_fields} "
            f"custom fields, and this export needs {len(names)}; export fewer steps (drop "
            "the email_<n>_* columns of the last ones)"
        )
    limit = preset.max_value_length or 0
    for name in names if limit else ():
        long = np.flatnonzero(table[name].str.len().to_numpy(dtype=float, na_value=0) > limit)
        if len(long):
            rows = ", ".join(map(repr, table.index[long[:5]]))
            raise ArgumentError(
                f"format={preset.key!r}: {preset.title} keeps at most {limit:,} characters a "
                f"field, and {name} has more in {len(long)} row(s) ({rows}); shorten them"
            )
    if preset.max_rows is not None and len(table) > preset.max_rows:
        log.warning(
            "%s takes at most %d rows a file; this one has %d: split it",
            preset.title,
            preset.max_rows,
            len(table),
        )


def sequencer_table(frame: pd.DataFrame, format: str, *, prefix: str = "") -> pd.DataFrame:
    """One row per contact of ``frame`` in the import format of a sequencer.

    Columns: the contact fields found in the frame (email, names, company, title, phone,
    LinkedIn profile, website) under the sequencer's standard headers, then each step's
    subject and body as custom fields. The body is ``email_{i}_text`` as it stands (a
    person's edits in Excel included, never rebuilt from the sections); plain text gets
    ``<br>`` line breaks, HTML-escaped, where the sequencer's editor needs them, and HTML
    stays HTML.

    Args:
        frame: The rows to export (a result frame, already filtered).
        format: One of :data:`~octave_frames.io.SEQUENCER_FORMATS`.
        prefix: The run's output prefix.

    Returns:
        A new frame of strings on ``frame``'s index.

    Raises:
        ArgumentError: Unknown ``format``; no email steps or no email column in the frame;
            more custom fields or longer values than the sequencer takes.

    Example:
        >>> sequencer_table(out, "instantly").columns[:2].tolist()
        ['email', 'first_name']

    """
    preset = sequencer(format)
    steps = step_count(frame.columns, prefix=prefix)
    if steps == 0:
        raise ArgumentError(
            f"format={format!r}: the frame has no '{prefix}email_<n>_text' columns to "
            "export; run df.octave.sequence(...) first, or pass prefix= if the run used one"
        )
    contacts = _contact_columns(frame, prefix)
    if "email" not in contacts:
        raise ArgumentError(
            f"format={format!r}: {preset.title} imports contacts by email address and the "
            "frame has no email column; name the address column 'Email'"
        )
    columns: dict[str, pd.Series] = {}
    for name in CONTACT_FIELDS:
        if name in contacts and name in preset.standard:
            texts = field_rule(name, clean_text(frame.iloc[:, contacts[name]]))
            columns[preset.standard[name]] = pd.Series(texts, index=frame.index, dtype="string")
    none = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for i in range(1, steps + 1):
        for part, source, line_break in (
            ("subject", f"{prefix}email_{i}_subject", "\n"),
            ("body", f"{prefix}email_{i}_text", preset.line_break),
        ):
            values = frame[source] if source in frame.columns else none
            columns[preset.field_name(i, part)] = pd.Series(
                [_cell(v, line_break) for v in values], index=frame.index, dtype="string"
            )
    names = custom_field_names(format, steps)
    if "jobTitle" in contacts and "jobTitle" not in preset.standard:
        # No standard field for it (Smartlead): the title still travels, as a custom field.
        title = field_rule("jobTitle", clean_text(frame.iloc[:, contacts["jobTitle"]]))
        columns["title"] = pd.Series(title, index=frame.index, dtype="string")
        names.append("title")
    table = pd.DataFrame(columns, index=frame.index)
    _check_limits(preset, table, names)
    return table


def to_csv(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    layout: CsvLayout = CSV_LAYOUTS[0],
    format: SequencerFormat | None = None,
    only: Only | None = None,
    prefix: str = "",
    approved: Hashable | None = None,
) -> None:
    """Write a result frame as CSV for a sequencer import.

    ``layout="long"`` writes one row per contact and email step: ``row`` (the
    index), the contact's identifying columns (email, names, company, title,
    domain, LinkedIn, CRM ids, when present), ``step``, ``subject``, the
    sections, ``core_value_prop`` and ``text``. ``layout="wide"`` writes the
    frame itself (its index first, unless it is the default RangeIndex).

    ``format=`` writes a sequencer's own import format instead (``layout`` is then not
    used): one row per contact whose status is ``ok``, the contact fields under the
    headers it maps by itself, and each step's subject and body as custom fields
    (``email_1_subject``, ``email_1_body``, ... spelled as that sequencer requires), for
    the merge tags of its templates. ``docs/sequencers.md`` lists the tags per sequencer.
    The body is ``email_{i}_text`` as it is in the frame, so edits made in the workbook
    are exported.

    ``only="approved"`` keeps the ``ok`` rows marked in the approval column (``approved``,
    ``OK to send``, ...: ``x``, ``yes``, ``✓``, ``TRUE``, ``1``); ``only="ok"`` every ``ok``
    row. Every check is made before the file is opened: a bad value leaves no file.

    Text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return get a leading ``'`` so a spreadsheet shows them instead of running
    them (OWASP CSV injection); number, date and boolean columns are written
    as they are; so is a sequencer's phone column when a cell is just an international
    number (``+1 415 555 0100``). The rule is the same for email bodies: one starting with
    such a character (a bullet ``- ...``) gets the quote, which the sequencer would send;
    merge tags (``{{first_name}}``) start with none of them and are never touched. The
    file is UTF-8 with a byte-order mark and CRLF line ends.

    Args:
        frame: The frame to write (usually a ``sequence`` result).
        path: Target file.
        layout: ``"long"`` (one row per email, the default) or ``"wide"`` (one row per
            contact); :data:`CSV_LAYOUTS` lists them.
        format: A sequencer's import format: ``"outreach"``, ``"salesloft"``,
            ``"apollo"``, ``"hubspot"``, ``"instantly"``, ``"smartlead"``, ``"lemlist"``,
            or ``"merge-fields"`` (names every one of them accepts); None for the layouts.
        only: ``"approved"`` or ``"ok"``: which rows to write; None writes every row
            (a ``format`` export writes only ``ok`` rows all the same).
        prefix: The ``prefix`` the run used for its output columns.
        approved: The approval column's label, when its header is not one of the usual.

    Raises:
        ArgumentError: ``layout``, ``format`` or ``only`` is unknown; ``only="approved"``
            on a frame without an approval column (the message says how to add one), or
            with cells that are neither a yes nor a no (the rows and values are named);
            more custom fields or longer values than the sequencer takes.
        ColumnError: ``approved`` names no column.

    Example:
        >>> to_csv(out, "sequences.csv")
        >>> to_csv(reviewed, "leads.csv", format="instantly", only="approved")

    """
    if layout not in CSV_LAYOUTS:
        choices = " or ".join(map(repr, CSV_LAYOUTS))
        raise ArgumentError(f"layout must be {choices}, not {layout!r}")
    if format is not None:
        sequencer(format)  # an unknown format is refused before anything else
        only = only or "ok"  # a row without emails would enrol a contact in empty steps
    rows = select_rows(frame, only, prefix=prefix, approved=approved)
    phone: object = None
    if format is not None:
        table = sequencer_table(rows, format, prefix=prefix).reset_index(drop=True)
        encoding, phone = sequencer(format).encoding, sequencer(format).standard.get("phone")
    elif layout == "long":
        table, encoding = long_with_contact(rows, prefix=prefix)[0], "utf-8-sig"
    else:
        wide = rows if index_is_default(rows.index) else rows.reset_index(allow_duplicates=True)
        table, encoding = wide, "utf-8-sig"
    columns = {
        j: _escape(table.iloc[:, j], phone=table.columns[j] == phone)
        if _is_text(table.iloc[:, j])
        else table.iloc[:, j]
        for j in range(table.shape[1])
    }
    out = pd.DataFrame(columns)
    out.columns = [_escape_header(label) for label in table.columns]
    # Excel reads a CSV without a BOM in the machine's legacy code page, turning
    # "Zoë" into "ZoÃ«"; the UTF-8 BOM makes it read UTF-8.
    out.to_csv(Path(path), index=False, encoding=encoding, lineterminator="\r\n")
