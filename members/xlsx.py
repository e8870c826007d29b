"""A fast streaming reader for the rows of the first worksheet of an xlsx file.

openpyxl reads the workbook parts (relationships, shared strings, styles, date system);
the sheet XML itself is parsed here with expat callbacks. openpyxl's read-only mode costs
~110 µs per 9-column row (and, for files without a <dimension>, a whole extra pass just
to size the sheet), which would cap a roster import near 9,000 rows/s. Values come out
as openpyxl gives them with data_only=True: str, int, float, bool, datetime or None.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Iterator
from xml.parsers import expat

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.datetime import from_excel, from_ISO8601

CHUNK = 1 << 20
# No roster row comes near this (nine short cells); a row that never closes — a zip bomb's
# favourite shape — is refused here instead of being buffered whole.
MAX_ROW_CHARS = 2 << 20
MAX_COLUMNS = 16384  # Excel's own limit (XFD)
_COLUMN_INDEX: dict[str, int] = {}
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]+\d+(?::[A-Z]+(\d+))?\"")
_INTERESTING = frozenset({"row", "c", "v", "t", "is"})
# One cell with its reference: <c r="B12" s="3" t="s"><v>7</v></c>, <c r="A1"/>, inline strings…
# The content may not run past the next cell's start tag (an unrolled loop, not `.*?`):
# otherwise every unclosed <c …> would scan to the end of the buffer, quadratic in its size.
_CELL = re.compile(r'<c r="([A-Z]{1,3})([0-9]+)"([^>]*?)(?:/>|>([^<]*(?:<(?!/c>|c[\s>/])[^<]*)*)</c>)')
_T = re.compile(r"<t(?:\s[^>]*)?>([^<]*)</t>")


class RowTooLong(ValueError):
    """A row longer than MAX_ROW_CHARS (or wider than Excel allows): not a roster."""

    def __init__(self, row: int):
        super().__init__(f"row {row} too long")
        self.row = row


def _row_end(text: str, start: int) -> int:
    """Index just past the last "</row>" that ends at or after `start`, or -1.

    The caller passes where the new data begins, so each character is looked at once.
    """
    i = text.rfind("</row>", start)
    return i + 6 if i >= 0 else -1


def _fast_path_ok(head: bytes) -> bool:
    """Every cell tag of the sample is an unprefixed <c r="…">, so _CELL sees them all."""
    text = head.decode("utf-8", errors="ignore")
    cells = text.count("<c ") + text.count("<c>")
    return ":c " not in text and cells > 0 and text.count('<c r="') == cells


def _column(letters: str) -> int:
    """0-based index of a column name ("A" -> 0, "AB" -> 27), cached."""
    idx = _COLUMN_INDEX.get(letters)
    if idx is None:
        n = 0
        for ch in letters:
            n = n * 26 + (ord(ch) - 64)
        idx = _COLUMN_INDEX[letters] = n - 1
    return idx


class Workbook:
    """The parts of an xlsx needed to read its first worksheet's cell values."""

    def __init__(self, path: str):
        reader = ExcelReader(path, read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        self.archive = reader.archive
        self.shared = reader.shared_strings
        self.date_styles = reader.wb._date_formats
        self.timedelta_styles = reader.wb._timedelta_formats
        self.epoch = reader.wb.epoch
        self.sheet_path = next(
            (
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            ),
            None,
        )
        if self.sheet_path is None:
            raise KeyError("no worksheet")

    def close(self) -> None:
        self.archive.close()

    def declared_rows(self) -> int | None:
        """The last row number the sheet's <dimension> declares (None if it has none)."""
        with self.archive.open(self.sheet_path) as src:
            head = src.read(4096)
        m = _DIMENSION.search(head)
        if not m:
            return None
        return int(m.group(1)) if m.group(1) else 1

    def has_merged_cells(self) -> bool:
        """Merged ranges are listed after the cells: a streaming byte search for the tag."""
        tail = b""
        with self.archive.open(self.sheet_path) as src:
            while chunk := src.read(CHUNK):
                window = tail + chunk
                if b"<mergeCell " in window or b":mergeCell " in window:
                    return True
                tail = chunk[-16:]
        return False

    def rows(self) -> Iterator[tuple]:
        """Rows as tuples, in order; rows the file leaves out come back as ().

        Sheets written the usual way (every cell with its reference, attributes r, s, t
        unprefixed — Excel, WPS, LibreOffice, openpyxl) take a regular-expression fast
        path; anything else is parsed with expat.
        """
        with self.archive.open(self.sheet_path) as src:
            head = src.read(CHUNK)
        if _fast_path_ok(head):
            return self._fast_rows()
        return self._expat_rows()

    def _value(self, ctype: str, style: str | None, text: str):
        if ctype == "s":
            return self.shared[int(text)]
        if ctype == "n":
            value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
            if style is not None and int(style) in self.date_styles:
                value = from_excel(value, self.epoch, timedelta=int(style) in self.timedelta_styles)
            return value
        if ctype == "b":
            return text == "1"
        if ctype == "d":
            return from_ISO8601(text)
        return text  # inlineStr, str (a formula's result), e (an error such as #N/A)

    def _fast_rows(self) -> Iterator[tuple]:
        value_of = self._value
        cells: dict[int, object] = {}
        current = 0
        emitted = 0
        decoder = codecs.getincrementaldecoder("utf-8")()
        carry = ""
        with self.archive.open(self.sheet_path) as src:
            while True:
                chunk = src.read(CHUNK)
                text = carry + decoder.decode(chunk, final=not chunk)
                # The carry holds no "</row>": only the new text (and the 5 characters
                # before it, where the tag may have been cut) can end a row.
                cut = _row_end(text, max(0, len(carry) - 5)) if chunk else len(text)
                if cut < 0:
                    if len(text) > MAX_ROW_CHARS:
                        raise RowTooLong(current + 1)
                    carry = text
                    continue
                body, carry = text[:cut], text[cut:]
                found = 0
                for m in _CELL.finditer(body):
                    found += 1
                    letters, row, attrs, inner = m.groups()
                    row = int(row)
                    if row != current:
                        if current:
                            yield tuple(cells.get(i) for i in range(max(cells) + 1)) if cells else ()
                            emitted = current
                            cells.clear()
                        while emitted + 1 < row:
                            yield ()
                            emitted += 1
                        current = row
                    if not inner:
                        continue
                    ctype = "n"
                    style = None
                    if attrs:
                        i = attrs.find(' t="')
                        if i >= 0:
                            ctype = attrs[i + 4 : attrs.index('"', i + 4)]
                        i = attrs.find(' s="')
                        if i >= 0:
                            style = attrs[i + 4 : attrs.index('"', i + 4)]
                    if ctype == "inlineStr":
                        raw = "".join(_T.findall(inner))
                    else:
                        i = inner.find("<v>")
                        if i < 0:
                            continue
                        raw = inner[i + 3 : inner.index("</v>", i)]
                    if "&" in raw:
                        raw = html.unescape(raw)
                    cells[_column(letters)] = value_of(ctype, style, raw)
                if found != body.count("<c ") + body.count("<c>"):
                    # A producer that changed its style mid-file: refuse rather than misread.
                    raise ValueError("unexpected cell markup")
                if not chunk:
                    break
        if current:
            yield tuple(cells.get(i) for i in range(max(cells) + 1)) if cells else ()

    def _expat_rows(self) -> Iterator[tuple]:
        shared, date_styles, timedelta_styles, epoch = self.shared, self.date_styles, self.timedelta_styles, self.epoch
        parser = expat.ParserCreate(namespace_separator="}")
        parser.buffer_text = True
        out: list[tuple] = []
        cells: dict[int, object] = {}
        names: dict[str, str] = {}
        col = -1
        ctype = "n"
        style = None
        text = None
        collect = False
        row_no = 0

        def local(name: str) -> str:
            tag = names.get(name)
            if tag is None:
                tag = name[name.rfind("}") + 1 :]
                tag = names[name] = tag if tag in _INTERESTING else ""
            return tag

        def start(name, attrs):
            nonlocal col, ctype, style, text, collect, row_no
            tag = local(name)
            if tag == "c":
                ref = attrs.get("r")
                col = _column(ref.rstrip("0123456789")) if ref else col + 1
                if col >= MAX_COLUMNS:
                    raise RowTooLong(row_no)
                ctype = attrs.get("t", "n")
                style = attrs.get("s")
                text = None
            elif tag == "v":
                collect = True
                text = ""
            elif tag == "t":
                collect = True
                if text is None:
                    text = ""
            elif tag == "row":
                cells.clear()
                col = -1
                r = attrs.get("r")
                expected = int(r) if r else row_no + 1
                while row_no + 1 < expected:
                    out.append(())
                    row_no += 1
                row_no = expected

        def chars(data):
            nonlocal text
            if collect:
                text += data
                if len(text) > MAX_ROW_CHARS:
                    raise RowTooLong(row_no)

        def end(name):
            nonlocal collect
            tag = local(name)
            if tag == "v" or tag == "t":
                collect = False
            elif tag == "c":
                if text is None:
                    return
                if ctype == "s":
                    value = shared[int(text)]
                elif ctype == "n":
                    value = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
                    if style is not None and int(style) in date_styles:
                        value = from_excel(value, epoch, timedelta=int(style) in timedelta_styles)
                elif ctype == "b":
                    value = text == "1"
                elif ctype == "d":
                    value = from_ISO8601(text)
                else:  # inlineStr, str (a formula's result), e (an error such as #N/A)
                    value = text
                cells[col] = value
            elif tag == "row":
                if cells:
                    out.append(tuple(cells.get(i) for i in range(max(cells) + 1)))
                else:
                    out.append(())

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = chars
        with self.archive.open(self.sheet_path) as src:
            while chunk := src.read(CHUNK):
                parser.Parse(chunk, False)
                if out:
                    yield from out
                    out.clear()
            parser.Parse(b"", True)
        yield from out
