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


def _pudong():
    from organizations.models import Organization, OrgKind

    return Organization.objects.get(kind=OrgKind.DISTRICT, region_code="310115")


def test_aid_officer_runs_the_money_and_the_fast_paths_from_the_pages(demo, desktop):
    """Fund, budgets down the tree, a new 送温暖 campaign, emergency aid paid at once, and a
    tier override with its written reason: each form says what is wrong next to the field."""
    from assistance.models import Budget, Campaign, Fund, Grant, HouseholdMember
    from core.crypto import decrypt
    from members.models import Member
    from organizations.models import Organization, OrgKind

    page = desktop
    pudong = _pudong()
    street = Organization.objects.filter(kind=OrgKind.STREET, path__startswith=pudong.path).order_by("path").first()
    login(page, demo, "aidofficer")

    # A fund of the district's own, a budget for the district and an empty one for a street.
    page.goto(f"{demo.url}/aid/budgets/")
    page.get_by_role("link", name="新建帮扶资金").click()
    page.get_by_label("所属组织").select_option(str(pudong.pk))
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("请填写“资金名称”。")).to_be_visible()
    page.get_by_label("资金名称").fill("浦东新区企业捐赠帮扶资金")
    page.get_by_label("资金来源").select_option("donation")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("帮扶资金已建立。")).to_be_visible()
    fund = Fund.objects.get(name="浦东新区企业捐赠帮扶资金")
    year = str(dt.date.today().year)
    for org, amount in ((pudong, "100000"), (street, "0")):
        page.goto(f"{demo.url}/aid/budgets/new/")
        page.locator("select[name=fund]").select_option(str(fund.pk))
        page.get_by_label("预算所属组织").select_option(str(org.pk))
        page.get_by_label("年度").fill(year)
        page.get_by_label("预算金额（元）").fill(amount)
        page.get_by_role("button", name="提交").click()
        expect(page.get_by_text("预算已建立。")).to_be_visible()
    parent = Budget.objects.get(fund=fund, organization=pudong)
    child = Budget.objects.get(fund=fund, organization=street)
    page.locator(f"a[href='/aid/budgets/{parent.pk}/allocate/']").click()
    page.get_by_label("下拨给（下级组织的预算）").select_option(str(child.pk))
    page.get_by_label("下拨金额（元）").fill("150000")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("余额不足")).to_be_visible()
    shot(page, "aid-allocation-refused")
    page.get_by_label("下拨金额（元）").fill("30000")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("资金已下拨。")).to_be_visible()
    shot(page, "aid-budgets-after-allocation")
    parent.refresh_from_db()
    child.refresh_from_db()
    assert (parent.amount, child.amount) == (70000, 30000)

    # A new 送温暖 campaign on the district's new budget.
    page.goto(f"{demo.url}/aid/campaigns/")
    page.get_by_role("link", name="新建帮扶活动").click()
    page.get_by_label("活动名称").fill("浦东新区企业捐赠送温暖")
    page.get_by_label("类型").select_option("warmth")
    page.get_by_label("活动范围（组织）").select_option(str(pudong.pk))
    page.get_by_label("支出预算").select_option(str(parent.pk))
    page.get_by_label("每户金额（元）").fill("三百")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("金额格式不正确")).to_be_visible()
    page.get_by_label("每户金额（元）").fill("300")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("帮扶活动已建立")).to_be_visible()
    expect(page.get_by_text("浦东新区企业捐赠送温暖")).to_be_visible()
    assert Campaign.objects.get(name="浦东新区企业捐赠送温暖").status == "draft"

    # Emergency aid: a member of the district with no file, paid at once, the file flagged.
    held = set(HouseholdMember.objects.exclude(id_hash="").values_list("id_hash", flat=True))
    member = next(
        m
        for m in Member.objects.filter(org_path__startswith=pudong.path, current_membership__status="active")
        .exclude(pk__in=Grant.objects.values("file__member_id"))
        .order_by("id")[:50]
        if m.id_number_hash not in held and not m.user_id
    )
    page.goto(f"{demo.url}/aid/")
    page.get_by_role("link", name="应急救助（意外致困）").click()
    page.get_by_label("职工身份证号码").fill(decrypt(member.id_number_enc))
    page.get_by_label("意外事故").check()
    page.get_by_label("应急救助金额（元）").fill("5000")
    page.get_by_label("支出预算").select_option(str(parent.pk))
    page.get_by_label("应急事由").fill("家中突发火灾，财物损毁")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("金额应在 500 至 3,000 元之间")).to_be_visible()
    shot(page, "aid-emergency-refused")
    page.get_by_label("应急救助金额（元）").fill("2000")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("应急救助 2,000 元已发放")).to_be_visible()
    expect(page.get_by_text("应急救助（先救助后审核）")).to_be_visible()
    shot(page, "aid-emergency-paid")
    grant = Grant.objects.get(file__member=member, is_emergency=True)
    assert grant.status == "paid" and grant.file.is_emergency

    # Tier override on that file (still at investigation): the reason is required.
    page.get_by_role("link", name="调整困难档次").click()
    page.get_by_label("困难档次").select_option("deep")
    page.get_by_label("调整理由").fill("短")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("调整档次必须写明理由")).to_be_visible()
    page.get_by_label("调整理由").fill("火灾后全家无住处，收入中断，按深度困难帮扶")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("困难档次已调整")).to_be_visible()
    expect(page.get_by_text("火灾后全家无住处")).to_be_visible()
    shot(page, "aid-tier-overridden")
    assert page.console.errors == []


def test_the_aid_pages_pass_axe_fit_a_phone_and_keep_the_budget(demo, audit_desktop, audit_phone):
    from assistance.models import Budget, HardshipFile

    from .conftest import PAGE_BUDGET, axe_violations, format_violations, page_weight, serious

    pudong = _pudong()
    file = HardshipFile.objects.filter(org_path__startswith=pudong.path, status="investigating").first()
    budget = Budget.objects.filter(organization=pudong).first()
    staff = [
        "/aid/",
        "/aid/approvals/",
        "/aid/budgets/",
        "/aid/campaigns/",
        f"/aid/files/{file.pk}/",
        f"/aid/files/{file.pk}/tier/",
        "/aid/emergency/",
        "/aid/funds/new/",
        "/aid/budgets/new/",
        f"/aid/budgets/{budget.pk}/allocate/",
        "/aid/campaigns/new/",
    ]
    problems = []
    for page in (audit_desktop, audit_phone):
        page.context.clear_cookies()
        login(page, demo, "aidofficer")
        for path in staff:
            if page is audit_phone:
                weight = page_weight(page, demo.url + path)
                if weight.encoded > PAGE_BUDGET:
                    problems.append(f"over the page weight budget\n{weight}")
            else:
                page.goto(demo.url + path)
                page.wait_for_load_state("load")
            found = serious(axe_violations(page))
            if found:
                problems.append(f"{path}\n{format_violations(found)}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if page is audit_phone and overflow > 0:
                problems.append(f"{path}: {overflow}px wider than the phone")
        if page is audit_phone:
            shot(page, "aid-phone-campaign-new")
    assert problems == [], "\n".join(problems)
