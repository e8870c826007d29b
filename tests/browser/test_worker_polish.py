"""Worker journeys of issue 15 on a phone: the readable personal-data copy (item 9), a
pending applicant signing in (item 10), the password reset by SMS code (item 11), and the
back link of the self-service sub-pages clear of the header's curve (item 13).

The demo's `worker` login is 王小明, an active 浦东 member (members/demo.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PAGE_BUDGET, axe_violations, format_violations, login, page_weight, serious, shot

pytestmark = pytest.mark.browser

# The back link's box against the header's: the link (chevron and text) must lie inside the
# header and above the band its rounded bottom corners cut away.
BACK_LINK_GEOMETRY = """() => {
    const a = document.querySelector('.ss-back a');
    const h = document.querySelector('.ss-header');
    const ar = a.getBoundingClientRect(), hr = h.getBoundingClientRect();
    const radius = parseFloat(getComputedStyle(h).borderBottomLeftRadius) || 0;
    const icon = a.querySelector('.bi').getBoundingClientRect();
    return {linkTop: ar.top, linkBottom: ar.bottom, iconBottom: icon.bottom, iconLeft: icon.left,
            headerTop: hr.top, headerBottom: hr.bottom, headerLeft: hr.left, radius};
}"""


@pytest.mark.parametrize("path", ["/me/data/", "/me/transfer/", "/me/password/", "/me/card/"])
def test_the_back_link_of_a_sub_page_is_clear_of_the_headers_curve(demo, phone, path):
    page = phone
    login(page, demo, "worker")
    page.goto(f"{demo.url}{path}")
    if path == "/me/data/":
        shot(page, "worker-phone-back-link")
    g = page.evaluate(BACK_LINK_GEOMETRY)
    assert g["linkTop"] >= g["headerTop"], g
    # Everything drawn of the link sits above the curve (white on the red header).
    assert g["iconBottom"] <= g["headerBottom"] - g["radius"], g
    assert page.console.errors == []


def test_a_worker_reads_their_personal_data_copy_on_a_phone(demo, phone, audit_phone):
    page = phone
    login(page, demo, "worker")
    page.goto(f"{demo.url}/me/data/")
    page.get_by_role("button", name="在线查看").click()
    expect(page.get_by_role("heading", name="我的个人信息副本")).to_be_visible()
    for heading in ("基本信息", "会籍", "与我有关的操作记录"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("王小明").first).to_be_visible()
    shot(page, "worker-phone-data-copy")
    # The PDF is offered from the page and arrives as a download.
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("下载 PDF")).click()
    assert info.value.suggested_filename.endswith(".pdf")
    assert page.console.errors == []
    # Accessibility of the readable page.
    login(audit_phone, demo, "worker")
    audit_phone.goto(f"{demo.url}/me/data/")
    audit_phone.get_by_role("button", name="在线查看").click()
    found = serious(axe_violations(audit_phone))
    assert found == [], format_violations(found)


def test_a_pending_applicant_is_told_where_the_application_waits(demo, phone):
    from members import services
    from members.models import JoinCode

    code = JoinCode.objects.filter(is_active=True).select_related("union").order_by("pk").first()
    services.join_application_submit(
        code=services.join_code_public(code),
        name="赵待审",
        id_number="310115199203040015",
        mobile="13566667777",
        employment_form="rider",
        employer_name="某配送站",
        consent=True,
        password="Pending-pass-2026",
    )
    page = phone
    login(page, demo, "135 6666 7777", "Pending-pass-2026")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("审核")
    expect(alert).to_contain_text(code.union.name)
    shot(page, "worker-phone-pending-sign-in")
    # A wrong password gets the stock refusal, nothing about the application.
    login(page, demo, "13566667777", "Wrong-pass-2026")
    expect(page.get_by_role("alert")).not_to_contain_text(code.union.name)


def test_a_worker_resets_a_forgotten_password_by_sms_code(demo, phone, settings):
    from core import sms

    settings.SMS_BACKEND = "core.sms.TestBackend"
    sms.outbox.clear()
    page = phone
    page.goto(f"{demo.url}/accounts/login/")
    page.get_by_role("link", name=re.compile("忘记密码")).click()
    shot(page, "worker-phone-reset-request")
    page.get_by_label("手机号码").fill("139 0000 0001")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="设置新密码")).to_be_visible()
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1].text).group(1)
    page.get_by_label("短信验证码").fill(code)
    page.locator("#id_new_password").fill("Brand-new-pass-2026")
    page.locator("#id_new_password2").fill("Brand-new-pass-2026")
    shot(page, "worker-phone-reset-confirm")
    page.get_by_role("button", name="重置密码").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    login(page, demo, "13900000001", "Brand-new-pass-2026")
    expect(page).to_have_url(re.compile(r"/me/"))
    assert page.console.errors == []


@pytest.mark.parametrize("path", ["/accounts/password-reset/", "/accounts/password-reset/confirm/"])
def test_the_reset_pages_are_light_and_accessible(demo, audit_phone, path):
    weight = page_weight(audit_phone, f"{demo.url}{path}")
    assert weight.encoded <= PAGE_BUDGET, str(weight)
    found = serious(axe_violations(audit_phone))
    assert found == [], format_violations(found)
