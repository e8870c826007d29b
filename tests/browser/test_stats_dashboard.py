"""A federation head opens the statistics dashboard, drills down to a district and prints it."""

import pytest
from playwright.sync_api import expect

from reports.summaries import statistics_refresh

from .conftest import axe_violations, format_violations, login, serious, shot

pytestmark = pytest.mark.browser


def test_a_federation_head_opens_the_dashboard_and_drills_down(demo, desktop, audit_desktop):
    statistics_refresh()
    page = desktop
    login(page, demo, "city")
    page.get_by_role("link", name="统计看板").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("上海市总工会 统计看板")
    expect(page.locator("[data-freshness]")).to_contain_text("数据统计时间")
    # The charts drew (canvas inside each box) under the strict CSP, with no script error.
    expect(page.locator('[data-chart="trend"] canvas')).to_have_count(1)
    expect(page.locator('[data-chart="children"] canvas')).to_have_count(1)
    # Every chart's numbers are also a table (captioned, for screen readers).
    expect(page.locator("table.chart-table caption", has_text="近 12 个月趋势")).to_have_count(1)
    shot(page, "stats-dashboard-city")

    page.get_by_label("统计期间", exact=True).select_option(index=1)  # last month
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", name="与上期比较")).to_be_visible()
    page.locator("table[data-children]").get_by_role("link", name="浦东新区总工会").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("浦东新区总工会 统计看板")
    expect(page.locator("table[data-children] tbody tr").first).to_be_visible()
    shot(page, "stats-dashboard-pudong")
    page.emulate_media(media="print")
    expect(page.locator(".portal-nav")).to_be_hidden()
    expect(page.locator("table.chart-table").first).to_be_visible()
    shot(page, "stats-dashboard-print")
    page.emulate_media(media="screen")
    assert page.console.errors == []

    audit = audit_desktop
    login(audit, demo, "city")
    audit.goto(f"{demo.url}/reports/dashboard/")
    audit.wait_for_load_state("load")
    found = serious(axe_violations(audit))
    assert found == [], format_violations(found)


def test_a_district_head_sees_their_district_only(demo, desktop):
    statistics_refresh()
    page = desktop
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/reports/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("浦东新区总工会 统计看板")
    expect(page.locator(".portal-breadcrumb")).not_to_contain_text("上海市总工会")
    shot(page, "stats-dashboard-district-head")
    assert page.console.errors == []
