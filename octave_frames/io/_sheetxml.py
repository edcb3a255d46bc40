"""Write big formatted sheets fast: openpyxl for the frame, our own XML for the rows.

Without lxml, openpyxl serialises each cell through ``et_xmlfile`` at about
15 µs a cell, which made a 10,000-row export slower than the brief allows. So
openpyxl builds everything *around* the rows (workbook, styles, widths, frozen
panes, autofilter, conditional formatting, hidden state, the user's other
sheets) with empty ``<sheetData>``; then :meth:`Book.save` streams our rows
into those elements while copying the zip. Rows are inline-string cells, so
nothing is ever written as a formula and no shared-strings table is touched.

Style ids come from openpyxl itself (``Cell.style_id`` registers the style in
the workbook it will save), so the ids in our XML always match ``styles.xml``.

openpyxl is imported inside the methods that need it: ``import octave_frames``
must stay cheap for code that never touches a workbook.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from octave_frames.io._cells import column_letter

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["Book", "ColumnPlan", "SheetPlan", "Styles", "sheet_parts"]

#: Fill colours of the status cells (conditional formatting, so edits recolour).
STATUS_FILLS: Final = {
    "ok": "C6EFCE",
    "not_found": "D9D9D9",
    "failed": "FFC7CE",
    "invalid": "F8CBAD",
    "not_sent": "FFEB9C",
    "pending": "DDEBF7",
}
_MAIN_NS: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_NS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_EMPTY_SHEET: Final = f'<worksheet xmlns="{_MAIN_NS}"><sheetData/></worksheet>'
_SHEET_DATA: Final = re.compile(r"<sheetData\s*/>|<sheetData>\s*</sheetData>")
_DIMENSION: Final = re.compile(r"<dimension [^>]*/>")
# zlib level 3 costs ~0.15 s more than level 1 on a 10,000-row export and
# saves a quarter of the file; level 6 would double the compression time.
_ZIP_LEVEL: Final = 3
# Rows per chunk handed to zlib: large enough to amortise, small enough for memory.
_CHUNK_ROWS: Final = 500


@dataclass(frozen=True)
class Styles:
    """``s`` attributes (``' s="N"'`` or ``""``) of the cell styles the sheets use."""

    header: str
    wrap: str
    date: str
    datetime: str
    quote: str
    quote_wrap: str


@dataclass
class ColumnPlan:
    """One column of a sheet: its header fragment and its cell fragments.

    A fragment is the rest of a ``<c>`` element after its reference, e.g.
    ``' t="n"><v>1</v></c>'``; None leaves the cell blank.
    """

    header: str
    cells: Sequence[str | None]
    width: float = 10.0


@dataclass
class SheetPlan:
    """A sheet to (re)write: columns plus the sheet-level formatting."""

    name: str
    columns: list[ColumnPlan]
    rows: int
    header: bool = True
    freeze: str | None = "A2"
    autofilter: bool = True
    status_column: int | None = None
    hidden: bool = False
    #: ``(first, last)`` column positions (0-based, inclusive) folded into collapsed groups.
    folded: tuple[tuple[int, int], ...] = ()


def _style(cell: Cell) -> str:
    """Register ``cell``'s style in its workbook and return it as an ``s`` attribute."""
    return f' s="{cell.style_id}"' if cell.has_style else ""


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map sheet names to their worksheet parts inside an xlsx archive."""
    book = ET.fromstring(archive.read("xl/workbook.xml"))
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_PKG_NS}}}Relationship")
    }
    parts = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            parts[sheet.get("name", "")] = posixpath.normpath(path)
    return parts


class Book:
    """A workbook being written: new, or an existing one whose other sheets are kept."""

    def __init__(self, path: Path, replace: Sequence[str]) -> None:
        from openpyxl import Workbook, load_workbook
        from openpyxl.cell.cell import Cell
        from openpyxl.styles import Alignment, Font
        from openpyxl.worksheet.worksheet import Worksheet

        self.path = path
        self._stripped: str | None = None
        if path.exists():
            # Our old sheets are about to be replaced: hand openpyxl a copy where
            # they are empty, so re-exporting a big workbook does not parse them.
            self._stripped = _strip_sheets(path, replace)
            self.workbook = load_workbook(
                self._stripped, keep_vba=path.suffix.lower() == ".xlsm", keep_links=True
            )
        else:
            self.workbook = Workbook()
            self.workbook.remove(self.workbook.worksheets[0])
        probe = Worksheet(self.workbook)
        header = Cell(probe, row=1, column=1)
        header.font = Font(name="Calibri", size=11, bold=True)
        wrap_alignment = Alignment(wrap_text=True, vertical="top")
        wrap = Cell(probe, row=1, column=1)
        wrap.alignment = wrap_alignment
        date = Cell(probe, row=1, column=1)
        date.number_format = "yyyy-mm-dd"
        moment = Cell(probe, row=1, column=1)
        moment.number_format = "yyyy-mm-dd hh:mm:ss"
        # quotePrefix keeps "=..." text from turning into a formula when edited in Excel.
        quote = Cell(probe, row=1, column=1)
        quote.quotePrefix = True
        quote_wrap = Cell(probe, row=1, column=1)
        quote_wrap.quotePrefix = True
        quote_wrap.alignment = wrap_alignment
        self.styles = Styles(
            header=_style(header),
            wrap=_style(wrap),
            date=_style(date),
            datetime=_style(moment),
            quote=_style(quote),
            quote_wrap=_style(quote_wrap),
        )

    def _prepare(self, plan: SheetPlan) -> None:
        """Create the sheet for ``plan`` (in place of an old one) with its formatting."""
        from openpyxl.formatting.rule import CellIsRule
        from openpyxl.styles import PatternFill

        wb = self.workbook
        position = None
        if plan.name in wb.sheetnames:
            old = wb[plan.name]
            position = wb.sheetnames.index(plan.name)
            wb.remove(old)
        ws = wb.create_sheet(plan.name, position)
        last_col = column_letter(max(len(plan.columns), 1))
        last_row = plan.rows + (1 if plan.header else 0)
        for number, column in enumerate(plan.columns, start=1):
            ws.column_dimensions[column_letter(number)].width = column.width
        self._fold(ws, plan.folded)
        if plan.freeze:
            ws.freeze_panes = plan.freeze
        if plan.autofilter and plan.columns:
            ws.auto_filter.ref = f"A1:{last_col}{max(last_row, 1)}"
        if plan.status_column is not None and plan.rows:
            letter = column_letter(plan.status_column + 1)
            cells = f"{letter}2:{letter}{last_row}"
            for status, colour in STATUS_FILLS.items():
                fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
                rule = CellIsRule(  # type: ignore[no-untyped-call]
                    operator="equal", formula=[f'"{status}"'], fill=fill
                )
                ws.conditional_formatting.add(cells, rule)
        if plan.hidden:
            ws.sheet_state = "veryHidden"

    @staticmethod
    def _fold(ws: Worksheet, folded: Sequence[tuple[int, int]]) -> None:
        """Group each run of columns at outline level 1, collapsed, its button on the left.

        Per-column dimensions (rather than ``column_dimensions.group``, which merges
        them into one) keep each folded column's own width for when it is expanded.
        """
        if not folded:
            return
        from openpyxl.worksheet.properties import Outline

        # The lead columns sit left of their details, so the +/- button belongs there.
        ws.sheet_properties.outlinePr = Outline(summaryBelow=True, summaryRight=False)
        for first, last in folded:
            for number in range(first + 1, last + 2):
                dimension = ws.column_dimensions[column_letter(number)]
                dimension.outlineLevel = 1
                dimension.hidden = True
            if first > 0:
                ws.column_dimensions[column_letter(first)].collapsed = True
        # openpyxl writes <sheetFormatPr outlineLevelCol> from this before it computes
        # it from the columns, so it would be missing; Excel shows no outline bar then.
        ws.column_dimensions.max_outline = 1

    def save(self, plans: Sequence[SheetPlan]) -> None:
        """Write every plan's sheet and save the workbook to its path, atomically."""
        for plan in plans:
            self._prepare(plan)
        visible = [ws for ws in self.workbook.worksheets if ws.sheet_state == "visible"]
        if visible and self.workbook.active not in visible:
            self.workbook.active = self.workbook.worksheets.index(visible[0])
        folder = self.path.parent
        shell = _temp_path(folder, ".shell.xlsx")
        final = _temp_path(folder, ".part.xlsx")
        try:
            self.workbook.save(shell)
            by_name = {plan.name: plan for plan in plans}
            with (
                zipfile.ZipFile(shell) as source,
                zipfile.ZipFile(
                    final, "w", zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL
                ) as target,
            ):
                parts = {
                    part: by_name[name]
                    for name, part in sheet_parts(source).items()
                    if name in by_name
                }
                for info in source.infolist():
                    planned = parts.get(info.filename)
                    if planned is None:
                        target.writestr(info, source.read(info))
                    else:
                        shell_xml = source.read(info).decode("utf-8")
                        _write_sheet(target, info.filename, shell_xml, planned)
            _give_mode(final, self.path)
            os.replace(final, self.path)
        finally:
            for leftover in (shell, final):
                if os.path.exists(leftover):
                    os.remove(leftover)

    def close(self) -> None:
        """Remove the temporary copy of the existing workbook, if one was made."""
        if self._stripped is not None and os.path.exists(self._stripped):
            os.remove(self._stripped)
        self._stripped = None


def _give_mode(temp: str, target: Path) -> None:
    """Give the new file the target's mode, or the umask's default for a new file.

    mkstemp creates files 0600; a workbook meant for an ops team should be as
    readable as any file the user saves.
    """
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temp, mode)


def _temp_path(folder: Path, suffix: str) -> str:
    """Reserve a temporary file next to the target, so the final rename is atomic."""
    handle, name = tempfile.mkstemp(prefix=".octave-", suffix=suffix, dir=folder)
    os.close(handle)
    return name


def _strip_sheets(path: Path, names: Sequence[str]) -> str:
    """Copy the workbook at ``path`` with the sheets ``names`` emptied; return the copy's path."""
    copy = _temp_path(path.parent, ".src.xlsx")
    try:
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            emptied = {part for name, part in sheet_parts(source).items() if name in names}
            for info in source.infolist():
                data = _EMPTY_SHEET.encode() if info.filename in emptied else source.read(info)
                target.writestr(info, data)
    except BaseException:
        os.remove(copy)
        raise
    return copy


def _rows(plan: SheetPlan) -> Iterator[str]:
    """Yield the ``<row>`` elements of ``plan``, header first."""
    letters = [column_letter(n) for n in range(1, len(plan.columns) + 1)]
    number = 1
    if plan.header:
        cells = "".join(
            f'<c r="{letter}1"{column.header}'
            for letter, column in zip(letters, plan.columns, strict=True)
        )
        yield f'<row r="1">{cells}</row>'
        number = 2
    columns = [column.cells for column in plan.columns]
    for offset, values in enumerate(zip(*columns, strict=True)):
        r = str(number + offset)
        cells = "".join(
            f'<c r="{letter}{r}"{value}'
            for letter, value in zip(letters, values, strict=True)
            if value is not None
        )
        if not cells:
            # An empty text cell keeps a blank row inside the sheet's used range,
            # so readers return every row (the metadata says it is NA, not "").
            cells = f'<c r="A{r}" t="inlineStr"><is><t></t></is></c>'
        yield f'<row r="{r}">{cells}</row>'


def _write_sheet(target: zipfile.ZipFile, name: str, shell: str, plan: SheetPlan) -> None:
    """Stream ``plan``'s rows into the empty ``<sheetData>`` of the sheet XML ``shell``."""
    width = max(len(plan.columns), 1)
    height = plan.rows + (1 if plan.header else 0)
    ref = f"A1:{column_letter(width)}{max(height, 1)}"
    shell = _DIMENSION.sub(f'<dimension ref="{ref}"/>', shell, count=1)
    match = _SHEET_DATA.search(shell)
    if match is None:
        raise RuntimeError(f"openpyxl wrote no <sheetData> for sheet part {name}")
    with target.open(name, "w", force_zip64=True) as stream:
        stream.write(shell[: match.start()].encode("utf-8"))
        stream.write(b"<sheetData>")
        chunk: list[str] = []
        for row in _rows(plan):
            chunk.append(row)
            if len(chunk) >= _CHUNK_ROWS:
                stream.write("".join(chunk).encode("utf-8"))
                chunk.clear()
        stream.write("".join(chunk).encode("utf-8"))
        stream.write(b"</sheetData>")
        stream.write(shell[match.end() :].encode("utf-8"))
