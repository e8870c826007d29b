"""The hardship-aid journey in a real browser: the aid officer takes an applied file through
investigation, public notice and approval; the worker sees the status on the phone."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from assistance.models import FileStatus, HardshipFile

from .conftest import login, shot

pytestmark = pytest.mark.browser


def test_aid_officer_takes_a_file_from_application_to_registration(demo, desktop):
    page = desktop
    login(page, demo, "aidofficer")
    page.goto(f"{demo.url}/aid/")
    expect(page.get_by_role("heading", level=1)).to_have_text("困难职工档案")
    shot(page, "aid-file-list")

    page.get_by_label("状态").select_option("applied")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status=applied"))
    file = HardshipFile.objects.filter(status=FileStatus.APPLIED, org_path__isnull=False).order_by("id").first()
    page.get_by_role("link", name=file.number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(file.number)
    expect(page.get_by_text("深度困难").first).to_be_visible()
    shot(page, "aid-file-detail-applied")

    # Investigation: a date in the future is explained next to the field.
    page.get_by_role("link", name="登记入户调查").click()
    page.get_by_label("调查日期").fill("2030-01-01")
    page.get_by_label("调查人").fill("王芳、李强")
    page.get_by_label("调查情况").fill("入户核实，家庭情况属实。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("调查日期不能晚于今天。")).to_be_visible()
    page.get_by_label("调查日期").fill(dt.date.today().isoformat())
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("入户调查已登记。")).to_be_visible()

    # Notice: shorter than the standard is refused; 5 working days over National Day end on 9 October.
    page.get_by_role("link", name="开始公示").click()
    page.get_by_label("公示开始日期").fill("2026-09-28")
    page.get_by_label("公示工作日数").fill("3")
    page.get_by_label("支出预算").select_option(index=1)
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("公示期不得少于标准规定的 5 个工作日，请延长公示期。")).to_be_visible()
    page.get_by_label("公示工作日数").fill("")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("公示已开始。")).to_be_visible()
    expect(page.get_by_text("2026-09-28 — 2026-10-09")).to_be_visible()
    shot(page, "aid-file-notice")

    page.get_by_role("button", name="公示期满，报送审批").click()
    expect(page.get_by_text("已报送审批。")).to_be_visible()
    page.goto(f"{demo.url}/aid/approvals/")
    page.get_by_role("link", name=file.number).click()
    page.locator("select[name=decision]").select_option("approve")
    page.get_by_role("button", name="提交审批意见").click()
    expect(page.get_by_text("审批意见已提交。")).to_be_visible()
    expect(page.get_by_text("已建档").first).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("审批中")
    shot(page, "aid-file-registered")
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.REGISTERED

    page.goto(f"{demo.url}/aid/budgets/")
    expect(page.get_by_role("heading", level=1)).to_have_text("资金与预算")
    shot(page, "aid-budgets")
    page.goto(f"{demo.url}/aid/campaigns/")
    shot(page, "aid-campaigns")
    assert page.console.errors == []
