"""A federation head asks for the city's monthly report, watches it finish and downloads both files."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from organizations.models import Organization, OrgKind

from .conftest import axe_violations, format_violations, login, shot

pytestmark = pytest.mark.browser


def test_a_federation_head_downloads_the_monthly_report(demo, desktop, audit_desktop):
    page = desktop
    city = Organization.objects.get(kind=OrgKind.CITY)
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    login(page, demo, "city")
    page.get_by_role("link", name="统计报表").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("统计报表下载")
    page.locator("#id_organization").select_option(str(city.pk))
    page.get_by_label("报表类型").select_option("monthly")

    # This month has not ended: refused next to the field, with the month that may be asked for.
    page.get_by_label("统计期间").fill(f"{timezone.localdate():%Y-%m}")
    page.get_by_role("button", name="生成报表").click()
    expect(page.get_by_text(f"最近可生成的是 {last:%Y-%m}")).to_be_visible()
    shot(page, "report-request-refused")

    page.get_by_label("统计期间").fill(f"{last:%Y-%m}")
    page.get_by_role("button", name="生成报表").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(city.name)
    expect(page.get_by_text("已完成").first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_text("期末会员数")).to_be_visible()
    shot(page, "report-run-detail")

    with page.expect_download() as xlsx:
        page.get_by_role("link", name="下载 Excel 报表").click()
    workbook = openpyxl.load_workbook(io.BytesIO(open(xlsx.value.path(), "rb").read()))
    assert workbook.sheetnames == ["概况", "会员", "下级组织", "困难帮扶", "劳动争议调解", "服务项目", "近12个月趋势"]
    assert city.name in str(workbook["概况"]["A1"].value)
    with page.expect_download() as pdf:
        page.get_by_role("link", name="下载 PDF 摘要").click()
    assert open(pdf.value.path(), "rb").read(4) == b"%PDF"

    # Asking again returns the same report at once.
    page.goto(f"{demo.url}/reports/files/")
    page.locator("#id_organization").select_option(str(city.pk))
    page.get_by_label("统计期间").fill(f"{last:%Y-%m}")
    page.get_by_role("button", name="生成报表").click()
    expect(page.get_by_text("该报表已生成，可直接下载。")).to_be_visible()
    page.goto(f"{demo.url}/reports/files/")
    expect(page.get_by_role("link", name=city.name, exact=True)).to_have_count(1)
    shot(page, "report-run-list")
    assert not page.console.errors, page.console.errors

    audit = audit_desktop
    login(audit, demo, "city")
    from reports.models import ReportRun

    for url in ("/reports/files/", f"/reports/files/{ReportRun.objects.get().pk}/"):
        audit.goto(f"{demo.url}{url}")
        found = axe_violations(audit)
        assert not found, format_violations(found)


def test_an_admin_opens_the_operations_view(demo, desktop, audit_desktop):
    page = desktop
    login(page, demo, "admin")
    page.get_by_role("link", name="运行监控").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("运行监控")
    expect(page.get_by_text("reports-monthly-reports")).to_be_visible()
    shot(page, "operations")
    assert not page.console.errors, page.console.errors
    login(audit_desktop, demo, "admin")
    audit_desktop.goto(f"{demo.url}/operations/")
    found = axe_violations(audit_desktop)
    assert not found, format_violations(found)
