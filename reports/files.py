"""The report's files: an xlsx workbook (one sheet a section) and a PDF summary with charts.

The workbook goes through core.documents' one xlsx writer (every cell escaped against
formula injection: organisation names are user text). The PDF uses reportlab with the
embedded CJK font (core.documents.register_cjk_font) and reportlab's own charts, so it
needs no browser or image library and Chinese renders in any viewer.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from core import documents

from .report_data import Chart, ReportData, Section


def _percent(value):
    return documents.Styled(value, number_format="0.0%") if isinstance(value, float) else value


def _change(value, previous):
    if isinstance(value, int | float | Decimal) and isinstance(previous, int | float | Decimal):
        return value - previous
    return None


def _section_rows(section: Section):
    for row in section.rows:
        yield [_percent(v) if i in section.percent_columns else v for i, v in enumerate(row)]


def workbook(data: ReportData) -> bytes:
    """The report as xlsx: an overview sheet, then one sheet a section, header rows frozen."""
    generated = timezone.localtime(data.as_of).strftime("%Y-%m-%d %H:%M")
    overview = [
        [documents.Styled(data.title, bold=True, size=14)],
        [_("统计期间"), f"{data.period.start:%Y-%m-%d} 至 {data.period.end:%Y-%m-%d}"],
        [_("数据截至"), generated],
        [],
        [documents.Styled(h, bold=True) for h in (_("指标"), _("本期"), _("上期"), _("变化"))],
    ]
    for h in data.headlines:
        if h.percent:
            overview.append([h.label, _percent(h.value), _percent(h.previous), None])
        else:
            overview.append([h.label, h.value, h.previous, _change(h.value, h.previous)])
    sheets = [documents.Sheet(title=_("概况"), rows=overview, widths={"A": 28, "B": 22, "C": 14, "D": 14}, freeze="A6")]
    for section in data.sections:
        sheets.append(
            documents.Sheet(
                title=section.title,
                header=section.header,
                rows=_section_rows(section),
                widths=section.widths,
                wrap_header=True,
                freeze="A2",
            )
        )
    return documents.xlsx_bytes(sheets)


# --- PDF -----------------------------------------------------------------------------------

PALETTE = ("#1f5fa8", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bb5", "#7f8c8d", "#d4ac0d", "#16a085")


def fmt_value(value, percent=False) -> str:
    """A figure as people read it: 1,528 · 20.2% · 12,200.00 · — for none."""
    if value is None:
        return "—"
    if percent and isinstance(value, float):
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _chart_drawing(chart: Chart, font: str):
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.piecharts import Pie
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    width, height = 460, 210
    d = Drawing(width, height)
    d.add(String(0, height - 12, chart.title, fontName=font, fontSize=10))
    colours = [colors.HexColor(c) for c in PALETTE]
    if chart.kind == "pie":
        values = chart.series[0][1] if chart.series else []
        if not any(values):
            return None
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 20, 10, 170, 170
        pie.data = [max(v, 0) for v in values]
        pie.labels = None
        pie.slices.strokeWidth = 0.5
        for i in range(len(values)):
            pie.slices[i].fillColor = colours[i % len(colours)]
        d.add(pie)
        legend = Legend()
        legend.x, legend.y = 230, 185
        legend.fontName, legend.fontSize = font, 8
        legend.alignment = "right"
        legend.columnMaximum = 12
        legend.colorNamePairs = [
            (colours[i % len(colours)], f"{label}  {fmt_value(v)}")
            for i, (label, v) in enumerate(zip(chart.labels, values, strict=False))
        ][:12]
        d.add(legend)
        return d
    bar = VerticalBarChart()
    bar.x, bar.y, bar.width, bar.height = 45, 45, width - 60, height - 80
    bar.data = [list(values) for _name, values in chart.series]
    bar.categoryAxis.categoryNames = [label[:8] for label in chart.labels]
    bar.categoryAxis.labels.fontName = font
    bar.categoryAxis.labels.fontSize = 7
    bar.categoryAxis.labels.angle = 30 if len(chart.labels) > 5 else 0
    bar.categoryAxis.labels.boxAnchor = "ne" if len(chart.labels) > 5 else "n"
    bar.valueAxis.labels.fontName = font
    bar.valueAxis.labels.fontSize = 7
    values = [v for _n, vs in chart.series for v in vs] or [0]
    bar.valueAxis.valueMin = min(0, min(values))
    bar.valueAxis.valueMax = max(1, max(values)) * 1.1
    for i in range(len(chart.series)):
        bar.bars[i].fillColor = colours[i % len(colours)]
    d.add(bar)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = width - 120, height - 6
        legend.fontName, legend.fontSize = font, 8
        legend.columnMaximum = 1
        legend.colorNamePairs = [(colours[i % len(colours)], name) for i, (name, _v) in enumerate(chart.series)]
        d.add(legend)
    return d


def pdf(data: ReportData) -> bytes:
    """A PDF summary: title, headline figures with the previous period, a chart and a table a section."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = documents.register_cjk_font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title=data.title,
        author=data.organization.name,
        subject=_("统计报表"),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    grid = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa5b1")),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )

    def esc(text) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    story = [
        Paragraph(esc(data.title), h1),
        Paragraph(
            esc(
                _("统计期间 %(start)s 至 %(end)s；数据截至 %(at)s")
                % {
                    "start": f"{data.period.start:%Y-%m-%d}",
                    "end": f"{data.period.end:%Y-%m-%d}",
                    "at": timezone.localtime(data.as_of).strftime("%Y-%m-%d %H:%M"),
                }
            ),
            body,
        ),
        Spacer(1, 6),
    ]
    rows = [[_("指标"), _("本期"), _("上期"), _("变化")]]
    for h in data.headlines:
        change = None if h.percent else _change(h.value, h.previous)
        rows.append([h.label, fmt_value(h.value, h.percent), fmt_value(h.previous, h.percent), fmt_value(change)])
    story.append(Table(rows, colWidths=[70 * mm, 35 * mm, 35 * mm, 30 * mm], style=grid, repeatRows=1, hAlign="LEFT"))
    for section in data.sections:
        story.append(Paragraph(esc(section.title), h2))
        if section.note:
            story.append(Paragraph(esc(section.note), body))
        if section.chart is not None:
            drawing = _chart_drawing(section.chart, font)
            if drawing is not None:
                story.append(drawing)
        shown = section.rows[:40]
        if shown:
            cols = section.pdf_columns or tuple(range(min(len(section.header), 7)))
            table = [[str(section.header[i]) for i in cols]]
            for row in shown:
                if all(v is None for v in row):
                    continue  # a spacer row of the workbook
                if all(v is None for v in row[1:]):
                    table.append([str(row[0])[:24]] + [""] * (len(cols) - 1))  # a block's heading
                    continue
                table.append(
                    [
                        fmt_value(row[i], i in section.percent_columns)[:24] if i else str(row[i] or "—")[:24]
                        for i in cols
                    ]
                )
            story.append(Table(table, style=grid, repeatRows=1, hAlign="LEFT"))
            if len(section.rows) > len(shown):
                story.append(
                    Paragraph(
                        esc(_("仅列出前 %(n)s 行，完整数据见 Excel 报表。") % {"n": len(shown)}),
                        body,
                    )
                )
        else:
            story.append(Paragraph(esc(_("本期没有数据。")), body))
    doc.build(story)
    return buf.getvalue()
