"""A mediation case through the whole workflow in a real browser, with screenshots."""

import re

import pytest
from playwright.sync_api import expect

from disputes.models import Case, Mediator

from .conftest import PAGE_BUDGET, axe_violations, format_violations, login, page_weight, serious, shot

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def _attach(area, name: str, kind: str):
    area.get_by_label("材料类别").select_option(kind)
    area.get_by_label("文件").set_input_files(files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}])
    area.get_by_role("button", name="上传").click()


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
    # Evidence on the case: a wage slip uploaded, listed, and a program named like a PDF refused.
    documents = page.locator("#documents")
    _attach(documents, "工资条.pdf", "wages")
    expect(page.get_by_text("材料已上传。")).to_be_visible()
    expect(page.locator("#documents").get_by_role("link", name="工资条.pdf")).to_be_visible()
    page.locator("#documents").get_by_label("材料类别").select_option("evidence")
    page.locator("#documents").get_by_label("文件").set_input_files(
        files=[{"name": "证据.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" + b"\x00" * 64}]
    )
    page.locator("#documents").get_by_role("button", name="上传").click()
    expect(page.get_by_text("不支持此类文件")).to_be_visible()
    shot(page, "disputes-case-documents")
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
    weight = page_weight(page, f"{demo.url}/me/disputes/")
    assert weight.encoded <= PAGE_BUDGET, str(weight)
    expect(page.get_by_text("下次调解")).to_be_visible()
    shot(page, "disputes-worker-list")
    # The worker adds a document to their own case from the phone.
    card = page.locator(".ss-card", has_text="下次调解").first
    card.locator("summary").click()
    _attach(card, "欠薪证明.pdf", "evidence")
    expect(page.get_by_text("材料已上传。")).to_be_visible()
    expect(page.get_by_role("link", name="欠薪证明.pdf")).to_be_visible()
    shot(page, "disputes-worker-documents")


def test_the_case_page_and_the_worker_s_cases_pass_axe(demo, audit_desktop, audit_phone):
    """axe-core needs a context that lets it inject its script (CSP bypassed): not the journeys' own."""
    case = Case.objects.filter(status="in_mediation", mediator__user__username="mediator").order_by("pk").first()
    problems = []
    login(audit_desktop, demo, "mediator")
    login(audit_phone, demo, "worker")
    for page, path in (
        (audit_desktop, f"/disputes/{case.pk}/"),
        (audit_desktop, "/disputes/"),
        (audit_phone, "/me/disputes/"),
    ):
        page.goto(f"{demo.url}{path}")
        page.locator("details").evaluate_all("els => els.forEach(e => e.open = true)")
        if found := serious(axe_violations(page)):
            problems.append(f"{path}\n{format_violations(found)}")
    assert not problems, "\n".join(problems)
    page.get_by_role("link", name="申请调解或法律援助").click()
    expect(page.get_by_label("身份证号码")).to_be_visible()
    shot(page, "disputes-worker-apply")
