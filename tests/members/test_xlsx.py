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
