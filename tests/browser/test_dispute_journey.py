"""A mediation case through the whole workflow in a real browser, with screenshots."""

import re

import pytest
from playwright.sync_api import expect

from disputes.models import Case, Mediator

from .conftest import login, shot

pytestmark = pytest.mark.browser


def test_a_case_runs_from_receipt_to_the_return_visit(demo, desktop):
    page = desktop
    case = Case.objects.filter(status="received", body__name="陆家嘴街道劳动争议调解中心").order_by("pk").first()
    assert case is not None

    # The district (city login: dispute.manage) accepts the case and assigns the suggested mediator.
    login(page, demo, "city")
    page.goto(f"{demo.url}/disputes/queue/")
    expect(page.get_by_role("heading", level=1)).to_have_text("调解组织受理队列")
    expect(page.get_by_text("集体争议").first).to_be_visible()
    shot(page, "disputes-queue")
    page.goto(f"{demo.url}/disputes/{case.pk}/")
    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.get_by_text("已办理。")).to_be_visible()
    expect(page.get_by_text("剩 ", exact=False).first).to_be_visible()
    chen = Mediator.objects.get(user__username="mediator")
    page.get_by_label("承办调解员").select_option(value=str(chen.pk))
    page.get_by_role("button", name="指派").click()
    expect(page.get_by_text("陈静").first).to_be_visible()
    page.goto(f"{demo.url}/disputes/overview/")
    expect(page.get_by_text("调解成功率")).to_be_visible()
    shot(page, "disputes-overview")
    page.context.clear_cookies()

    # The mediator finds it among their cases with the days left, holds a session, records the agreement.
    login(page, demo, "mediator")
    page.goto(f"{demo.url}/disputes/")
    row = page.locator("tr", has_text=case.number)
    expect(row.get_by_text(re.compile(r"剩 \d+ 天"))).to_be_visible()
    shot(page, "disputes-my-cases")
    row.get_by_role("link", name=case.number).click()
    page.get_by_role("link", name="记录调解会").click()
    page.get_by_label("调解时间").fill("2026-11-20T09:30")
    page.get_by_label("地点").fill("陆家嘴街道调解室")
    page.get_by_label("参加人员").fill("申请人、被申请单位代表")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("调解会已记录。")).to_be_visible()
    page.get_by_role("link", name="登记调解协议").click()
    shot(page, "disputes-agreement-form")
    page.get_by_label("申请人已签字", exact=True).check()
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#id_signed_by_respondent_errors")).to_contain_text("调解协议须经双方当事人签字")  # not signed
    page.get_by_label("被申请人已签字").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("调解协议已登记。")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="打印调解协议书").click()
    assert download.value.suggested_filename == f"{case.number}.pdf"

    # Fulfilment, closing and the return visit.
    page.get_by_role("button", name="核查履行").click()
    expect(page.get_by_text("履行已核查").first).to_be_visible()
    page.get_by_role("button", name="结案").click()
    page.get_by_role("button", name="登记回访").click()
    expect(page.get_by_text("已回访").first).to_be_visible()
    shot(page, "disputes-case-visited")
    case.refresh_from_db()
    assert case.status == "visited"


def test_a_worker_follows_their_case_on_the_phone(demo, phone):
    page = phone
    login(page, demo, "worker")
    page.goto(f"{demo.url}/me/disputes/")
    expect(page.get_by_text("下次调解")).to_be_visible()
    shot(page, "disputes-worker-list")
    page.get_by_role("link", name="申请调解或法律援助").click()
    expect(page.get_by_label("身份证号码")).to_be_visible()
    shot(page, "disputes-worker-apply")
