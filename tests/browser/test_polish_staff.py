"""Browser journeys of issue 15's staff items: correcting a member, forms, the import loop."""

import re

import pytest
from playwright.sync_api import expect

from activity.models import AuditEvent
from members.models import Member

from .conftest import login, shot

pytestmark = pytest.mark.browser


def _pudong_member() -> Member:
    return (
        Member.objects.filter(org_path__startswith=_path("浦东新区总工会"), current_membership__status="active")
        .order_by("id")
        .first()
    )


def _path(name: str) -> str:
    from organizations.models import Organization

    return Organization.objects.get(name=name).path


def test_a_district_clerk_corrects_a_member(demo, desktop):
    page = desktop
    member = _pudong_member()
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/members/{member.pk}/")
    page.get_by_role("link", name="更正信息").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("更正")
    # Markup in the name and no reason: both errors at once, in the portal's wording.
    page.get_by_label("姓名").fill("<script>alert(1)</script>")
    page.get_by_role("button", name="保存更正").click()
    expect(page.locator("#id_name_errors")).to_contain_text("标记符号")
    expect(page.locator("#id_reason_errors")).to_contain_text("更正原因")
    shot(page, "polish-correct-errors")
    page.get_by_label("姓名").fill("欧阳·娜娜")
    page.get_by_label("手机号码").fill("139 0000 4444")
    page.get_by_label("更正原因").fill("登记时姓名和手机号录错，已核对身份证")
    page.get_by_role("button", name="保存更正").click()
    expect(page).to_have_url(re.compile(rf"/members/{member.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("欧阳·娜娜")
    expect(page.get_by_text("已更正")).to_be_visible()
    shot(page, "polish-correct-done")
    ev = AuditEvent.objects.filter(action="member.corrected").latest("id")
    assert ev.data["changed"]["mobile"][1] == "139****4444" and "13900004444" not in str(ev.data)
    assert not page.console.errors


def test_forms_list_every_error_at_once_in_either_language(demo, desktop):
    page = desktop
    login(page, demo, "pudong")
    # The register form: every problem at once, each linked from the summary.
    page.goto(f"{demo.url}/members/new/")
    page.get_by_label("姓名").fill("<b>张三</b>")
    page.get_by_label("身份证号码").fill("3101151990")
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="登记").click()
    summary = page.locator(".form-error-summary")
    expect(summary.get_by_role("link")).to_have_count(4)  # union, name, ID number, mobile
    for field in ("union", "name", "id_number", "mobile"):
        expect(page.locator(f"#id_{field}_errors")).to_be_visible()
    shot(page, "polish-register-all-errors")
    # The enterprise form: the portal's wording, no "---------".
    page.goto(f"{demo.url}/enterprises/new/")
    page.get_by_label("职工人数").fill("-3")
    page.get_by_role("button", name="保存").click()
    body = page.locator("main").inner_text()
    assert "该字段是必填项" not in body and "输入整数" not in body and "---------" not in body
    expect(page.get_by_text("“职工人数”不能小于 0。").first).to_be_visible()
    shot(page, "polish-enterprise-errors-zh")
    page.get_by_role("button", name="EN").click()
    page.goto(f"{demo.url}/enterprises/new/")
    page.get_by_role("button", name="Save").click()
    body = page.locator("main").inner_text()
    assert "Please fill in" in body or "Please choose" in body
    assert "This field is required" not in body and "---------" not in body
    shot(page, "polish-enterprise-errors-en")
    assert not page.console.errors
