import datetime as dt

import openpyxl
import pytest

from members.xlsx import Workbook


def _reference(path):
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("write_only", [False, True])
def test_it_reads_what_openpyxl_reads(tmp_path, write_only):
    wb = openpyxl.Workbook(write_only=write_only)
    ws = wb.create_sheet("名册") if write_only else wb.active
    rows = [
        ["姓名", "身份证号码", "手机号码", "入会日期", "数量", "比例", "是否"],
        ["张三 & <李四>", "31011519900101123X", 13812345678, dt.datetime(2024, 5, 1), 3, 0.5, True],
        [None, None, None, None, None, None, None],
        ["王五", "  ", "13900000000", dt.date(2023, 1, 2), -7, 1.25e-5, False],
    ]
    for r in rows:
        ws.append(r)
    if not write_only:
        ws["J6"] = "远处的格子"
    path = tmp_path / "t.xlsx"
    wb.save(path)
    book = Workbook(str(path))
    got = [tuple(r) for r in book.rows()]
    ref = _reference(path)
    # openpyxl pads rows to the sheet width; we do not: compare cell by cell.
    assert len(got) == len(ref)
    for g, r in zip(got, ref, strict=True):
        assert g == tuple(r[: len(g)]) and all(v is None for v in r[len(g) :])
    assert book.has_merged_cells() is False


def test_it_sees_merged_cells_and_the_declared_size(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(10):
        ws.append([f"r{i}", i])
    ws.merge_cells("A2:A3")
    path = tmp_path / "m.xlsx"
    wb.save(path)
    book = Workbook(str(path))
    assert book.has_merged_cells() and book.declared_rows() == 10


def test_fast_and_expat_paths_agree(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a&b <c>", 1, 2.5, dt.datetime(2024, 1, 2), True, None, "x"])
    ws.append([])
    ws.append([None, None, "only C"])
    ws["E7"] = "after a gap"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    book = Workbook(str(path))
    assert list(book._fast_rows()) == list(book._expat_rows())


def test_it_parses_sheets_without_cell_references(tmp_path):
    """Some producers omit r="A1": the expat path reads those."""
    import zipfile

    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号码"])
    wb.active.append(["张三", "31011519900101123X"])
    src = tmp_path / "a.xlsx"
    wb.save(src)
    dst = tmp_path / "b.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re

                data = re.sub(rb' r="[A-Z]+[0-9]+"', b"", data)
            zout.writestr(item, data)
    book = Workbook(str(dst))
    assert [tuple(r) for r in book.rows()] == [("姓名", "身份证号码"), ("张三", "31011519900101123X")]


# --- bounded and linear (issue 16, finding 7) ------------------------------------------
#
# The reader used to look for "</row>" in everything it had buffered each time a chunk
# arrived, so a row that never closes cost time quadratic in its size. Performance is for
# the benchmarks; here the reader's work is counted, and a row past the bound is refused.

SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c></row>'
)


def _with_sheet(tmp_path, sheet_xml: str):
    import zipfile

    wb = openpyxl.Workbook()
    wb.active.append(["姓名"])
    src = tmp_path / "base.xlsx"
    wb.save(src)
    dst = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = sheet_xml.encode() if item.filename == "xl/worksheets/sheet1.xml" else zin.read(item.filename)
            zout.writestr(item.filename, data)
    return str(dst)


def _long_row(n_chars: int, closed: bool = True) -> str:
    text = "".join(chr(0x4E00 + (i * 7919) % 2000) for i in range(n_chars))
    row = f'<row r="2"><c r="A2" t="inlineStr"><is><t>{text}</t></is></c>'
    return SHEET_HEAD + row + ("</row></sheetData></worksheet>" if closed else "")


def test_it_scans_each_character_for_the_row_end_once(tmp_path, monkeypatch):
    from members import xlsx

    monkeypatch.setattr(xlsx, "CHUNK", 4096)
    scanned = []
    original = xlsx._row_end

    def counting(text, start):
        scanned.append(len(text) - start)
        return original(text, start)

    monkeypatch.setattr(xlsx, "_row_end", counting)
    sheet = _long_row(60_000)  # ~180 KB of UTF-8: about 45 chunks inside one row
    rows = list(Workbook(_with_sheet(tmp_path, sheet)).rows())
    assert rows[1][0].startswith("一") and len(rows[1][0]) == 60_000
    # Linear: every character looked at about once (a few overlap characters per chunk).
    assert sum(scanned) <= len(sheet) + 16 * len(scanned), (sum(scanned), len(sheet))


@pytest.mark.parametrize("closed", [True, False])
def test_it_refuses_a_row_longer_than_the_bound(tmp_path, monkeypatch, closed):
    from members import xlsx
    from members.importer.files import ImportFileError, read_rows

    monkeypatch.setattr(xlsx, "CHUNK", 4096)
    monkeypatch.setattr(xlsx, "MAX_ROW_CHARS", 32 * 1024)
    path = _with_sheet(tmp_path, _long_row(40_000, closed=closed))
    with pytest.raises(ImportFileError, match="过长"):
        _header, rows = read_rows(path, "xlsx")
        list(rows)


def test_it_refuses_cells_that_never_close(tmp_path):
    from members.importer.files import ImportFileError, read_rows

    sheet = SHEET_HEAD + '<row r="2">' + '<c r="A2" t="s">' * 5000 + "</row></sheetData></worksheet>"
    with pytest.raises(ImportFileError):
        _header, rows = read_rows(_with_sheet(tmp_path, sheet), "xlsx")
        list(rows)


def test_the_expat_path_bounds_a_row_too(tmp_path, monkeypatch):
    from members import xlsx
    from members.importer.files import ImportFileError, read_rows

    monkeypatch.setattr(xlsx, "MAX_ROW_CHARS", 32 * 1024)
    sheet = _long_row(40_000).replace(' r="A1"', "").replace(' r="A2"', "")  # no references: expat
    with pytest.raises(ImportFileError, match="过长"):
        _header, rows = read_rows(_with_sheet(tmp_path, sheet), "xlsx")
        list(rows)
