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
