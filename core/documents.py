"""Files any app hands to people: QR images, Chinese PDFs, and csv/xlsx tables.

- QR images (PNG, SVG, inline SVG) with segno.
- PDFs with Chinese text: `register_cjk_font()` registers the vendored font (core/fonts/,
  see the README there) with reportlab; `pdf_canvas()` opens an A4 canvas already set in
  it. The font is embedded (as a subset) in every PDF, so Chinese renders in any viewer.
- Tables: `csv_stream()` / `csv_bytes()` and `xlsx_file()` / `xlsx_bytes()` are the ONE
  way the portal writes csv and xlsx. Every cell goes through `safe_cell()`, which
  neutralises spreadsheet formula injection (OWASP "CSV injection"): a text that begins
  with ``= + - @``, a tab or a carriage return gets a leading apostrophe, so Excel, WPS
  and LibreOffice show it as text instead of running it. In xlsx such a cell is also
  stored as a string, never a formula. Numbers, dates and booleans stay what they are.
  Headers may be lazy translations (``gettext_lazy``): they are rendered when written,
  in the active language.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import segno

# --- QR images ----------------------------------------------------------------------------

QR_ERROR = "m"  # 15% recovery: survives a scratched phone screen or a creased print


def qr_png(data: str, *, scale: int = 10, border: int = 4) -> bytes:
    """A PNG of the QR code for `data` (scale pixels a module)."""
    buf = io.BytesIO()
    segno.make(data, error=QR_ERROR, micro=False).save(buf, kind="png", scale=scale, border=border)
    return buf.getvalue()


def qr_svg(data: str, *, scale: int = 10, border: int = 4, title: str = "") -> bytes:
    """A standalone SVG (no XML declaration, no style attributes: fits the strict CSP)."""
    buf = io.BytesIO()
    segno.make(data, error=QR_ERROR, micro=False).save(
        buf, kind="svg", scale=scale, border=border, xmldecl=False, title=title or None, svgclass="qr", lineclass=None
    )
    return buf.getvalue()


def qr_svg_inline(data: str, *, title: str = "") -> str:
    """SVG markup to place inside a page; sized by CSS (viewBox kept, width/height dropped)."""
    buf = io.BytesIO()
    segno.make(data, error=QR_ERROR, micro=False).save(
        buf,
        kind="svg",
        scale=1,
        border=4,
        xmldecl=False,
        svgns=True,
        omitsize=True,
        title=title or None,
        svgclass="qr",
        lineclass=None,
    )
    return buf.getvalue().decode("utf-8")


# --- PDF ----------------------------------------------------------------------------------

CJK_FONT_NAME = "UnionPortalSansSC"
CJK_FONT_PATH = Path(__file__).resolve().parent / "fonts" / "UnionPortalSansSC-Regular.ttf"


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the embedded CJK font with reportlab (once per process) and return its name.

    Parsing the 2 MB font costs ~0.2 s, hence the cache. reportlab embeds only the glyphs a
    document uses, so a one-page PDF stays small.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, str(CJK_FONT_PATH)))
    return CJK_FONT_NAME


def pdf_canvas(buf: IO[bytes], *, title: str, author: str = "", subject: str = "", pagesize=None, font_size=10):
    """A reportlab canvas writing to `buf`, in the CJK font, with the document's metadata."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = register_cjk_font()
    c = canvas.Canvas(buf, pagesize=pagesize or A4, pageCompression=1, initialFontName=font, initialFontSize=font_size)
    c.setTitle(str(title))
    if author:
        c.setAuthor(str(author))
    if subject:
        c.setSubject(str(subject))
    return c


def pdf_fit_font_size(c, text: str, font: str, size: float, width: float, min_size: float = 6) -> float:
    """The largest font size up to `size` at which `text` fits `width` (not below min_size)."""
    while size > min_size and c.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def pdf_draw_qr(c, data: str, x: float, y: float, size: float, *, quiet: int = 2) -> None:
    """A QR code as vector squares (crisp at any print resolution), one rectangle per dark run."""
    qr = segno.make(data, error=QR_ERROR, micro=False)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    cell = size / (n + 2 * quiet)
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                c.rect(
                    x + (quiet + start) * cell,
                    y + size - (quiet + r + 1) * cell,
                    (col - start) * cell,
                    cell,
                    stroke=0,
                    fill=1,
                )
            else:
                col += 1


# --- cells: formula injection --------------------------------------------------------------

# What makes Excel, WPS or LibreOffice read a typed or imported cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)
_PASS_THROUGH = (int, float, decimal.Decimal, dt.date, dt.datetime, dt.time, dt.timedelta)
# Exact types a row is made of almost always: checked by a set lookup, not isinstance.
_PLAIN_TYPES = frozenset({int, float, bool, type(None), decimal.Decimal, dt.date, dt.datetime})


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet must receive it: text that could start a formula is escaped.

    None, numbers (bool included), dates and times are returned as they are; anything else
    becomes text (lazy translations are rendered in the active language) and gets a leading
    apostrophe when it begins with one of FORMULA_TRIGGERS.
    """
    if value is None or isinstance(value, _PASS_THROUGH):
        return value
    text = value if type(value) is str else str(value)
    if text[:1] in _TRIGGERS:
        return "'" + text
    return text


def safe_row(row: Iterable[Any]) -> list[Any]:
    """safe_cell of every value (Styled cells are left for the xlsx writer to escape).

    Written for speed: an export calls it once a row for up to millions of rows, and the
    common cases (str, int, date, None) avoid the function call of safe_cell.
    """
    return [
        ("'" + v if v[:1] in _TRIGGERS else v)
        if type(v) is str
        else (v if type(v) in _PLAIN_TYPES or type(v) is Styled else safe_cell(v))
        for v in row
    ]


# --- csv ----------------------------------------------------------------------------------

BOM = "\ufeff"  # Excel reads a UTF-8 csv as the local code page unless it starts with the BOM


def csv_stream(
    header: Sequence[Any] | None, rows: Iterable[Sequence[Any]], *, flush_every: int = 500
) -> Iterator[bytes]:
    """A csv (UTF-8 with BOM) as chunks of bytes, for a streaming response: rows are not held."""
    buf = io.StringIO()
    w = csv.writer(buf)
    yield BOM.encode()
    if header is not None:
        w.writerow(safe_row(header))
    for i, row in enumerate(rows, 1):
        w.writerow(safe_row(row))
        if i % flush_every == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]]) -> bytes:
    """The whole csv at once (for a file saved to storage)."""
    return b"".join(csv_stream(header, rows))


# --- xlsx ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styled:
    """A cell value with its look: bold, font size, number format (e.g. "0.0%"), wrapping."""

    value: Any
    bold: bool = False
    size: float | None = None
    number_format: str | None = None
    wrap: bool = False


@dataclass
class Sheet:
    """One worksheet: title, an optional header row (bold), rows, and column looks.

    `widths` maps a column letter to a width; `text_columns` lists column letters formatted
    as text ("@"), so Excel keeps what is typed there as typed (18-digit ID numbers).
    Rows may be any iterable (a generator is consumed once, as the sheet is written).
    """

    title: Any
    rows: Iterable[Sequence[Any]] = ()
    header: Sequence[Any] | None = None
    widths: dict[str, float] = field(default_factory=dict)
    text_columns: Sequence[str] = ()
    wrap_header: bool = False
    # Rows kept in view while scrolling ("A2": the header row; "A4": a title block and the header).
    freeze: str | None = None


def _write_sheet(wb, sheet: Sheet) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    ws = wb.create_sheet(str(sheet.title)[:31])  # Excel's limit on a sheet name
    for col, width in sheet.widths.items():
        ws.column_dimensions[col].width = width
    for col in sheet.text_columns:
        ws.column_dimensions[col].number_format = "@"
    if sheet.freeze:
        ws.freeze_panes = sheet.freeze

    def styled(value: Styled):
        c = WriteOnlyCell(ws, value=safe_cell(value.value))
        if value.bold or value.size:
            c.font = Font(bold=value.bold, size=value.size)
        if value.number_format:
            c.number_format = value.number_format
        if value.wrap:
            c.alignment = Alignment(wrap_text=True)
        return c

    if sheet.header is not None:
        ws.append([styled(Styled(h, bold=True, wrap=sheet.wrap_header)) for h in sheet.header])
    for row in sheet.rows:
        values = safe_row(row)
        if Styled in map(type, values):
            values = [styled(v) if type(v) is Styled else v for v in values]
        ws.append(values)


def _workbook(sheets: Iterable[Sheet]):
    import openpyxl

    # Write-only: rows go to a temporary file as they come, so a million-row export takes
    # constant memory. Every value passes safe_cell, so openpyxl never sees a text starting
    # with "=" (which it would store as a formula).
    wb = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb, sheet)
    return wb


def xlsx_file(sheets: Iterable[Sheet]) -> IO[bytes]:
    """The workbook spooled to an anonymous temporary file, positioned at the start."""
    fh = tempfile.TemporaryFile()
    _workbook(sheets).save(fh)
    fh.seek(0)
    return fh


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """The workbook as bytes (small files: templates, reports, error lists)."""
    buf = io.BytesIO()
    _workbook(sheets).save(buf)
    return buf.getvalue()


CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
