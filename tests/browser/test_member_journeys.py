"""Member journeys: scan-to-join on a phone, approval, the card; register and find; a roster import."""

import re

import pytest
from playwright.sync_api import expect

from members import services as member_services
from members.models import JoinApplication, Membership
from organizations.models import Organization, OrgKind, User
from tests.factories import make_id_number

from .conftest import PAGE_BUDGET, login, page_weight, shot

pytestmark = pytest.mark.browser

JOINER_MOBILE = "13700001234"
JOINER_PASSWORD = "riders-2026-shanghai"


def _union_under(name: str) -> Organization:
    parent = Organization.objects.get(name=name)
    return (
        Organization.objects.filter(path__startswith=parent.path, kind=OrgKind.GRASSROOTS, status="active")
        .order_by("path")
        .first()
    )


def test_a_worker_scans_a_code_joins_and_shows_the_card(demo, phone, desktop):
    union = _union_under("陆家嘴街道总工会")
    code = member_services.join_code_create(actor=User.objects.get(username="pudong"), union=union)
    join_path = f"/join/{member_services.join_code_public(code)}/"

    # The poster's QR code opens the join form on the phone; a bare submit explains every field.
    page = phone
    page.goto(demo.url + join_path)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"申请加入{union.name}")
    page.get_by_role("button", name="提交入会申请").click()
    expect(page.get_by_role("alert").first).to_contain_text("处需要修改")
    expect(page.get_by_label("姓名")).to_have_class(re.compile("is-invalid"))
    shot(page, "journey-phone-join-errors")
    page.get_by_label("姓名").fill("李小红")
    page.get_by_label("身份证号码").fill(make_id_number())
    page.get_by_label("手机号码").fill(JOINER_MOBILE)
    page.get_by_label("工作单位").fill("陆家嘴外卖站点")
    page.get_by_label("就业形态").select_option(label="外卖骑手")
    page.get_by_label("设置登录密码").fill(JOINER_PASSWORD)
    page.get_by_label("再次输入密码").fill(JOINER_PASSWORD)
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="提交入会申请").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("入会申请已提交")
    shot(page, "journey-phone-join-done")
    assert JoinApplication.objects.filter(name="李小红", status="pending").exists()

    # The street's clerk approves it in the queue, without leaving the page.
    login(desktop, demo, "pudong")
    desktop.goto(f"{demo.url}/members/applications/")
    row = desktop.locator("tr", has_text="李小红")
    with desktop.expect_response(re.compile(r"/approve/$")):
        row.get_by_role("button", name="批准").click()
    expect(row).to_contain_text("已批准")
    membership = Membership.objects.get(member__name="李小红", status="active")
    expect(row).to_contain_text(membership.member_number)
    shot(desktop, "journey-applications-approved")

    # The new member signs in with the mobile number and shows the card, QR code big enough to scan.
    page.goto(f"{demo.url}/accounts/login/")
    page.get_by_label("用户名").fill(JOINER_MOBILE)
    page.get_by_label("密码").fill(JOINER_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{demo.url}/me/")
    page.get_by_role("link", name=re.compile("我的会员卡")).click()
    card = page.get_by_role("region", name="电子会员卡")
    expect(card).to_contain_text("李小红")
    expect(card).to_contain_text(membership.member_number)
    qr = card.locator(".member-card-qr svg")
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["height"] >= 200, box
    shot(page, "journey-phone-member-card")
    weight = page_weight(page, page.url)
    assert weight.encoded <= PAGE_BUDGET, str(weight)
    assert not page.console.errors, page.console.errors
    assert not desktop.console.errors, desktop.console.errors


def test_a_clerk_registers_a_member_and_finds_them_again(demo, desktop):
    page = desktop
    union = _union_under("陆家嘴街道总工会")
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/members/new/")
    page.get_by_role("button", name="登记").click()
    union_select = page.get_by_role("combobox", name="所在工会")
    expect(union_select).to_have_class(re.compile("is-invalid"))
    expect(union_select).to_be_focused()
    page.get_by_label("姓名").fill("赵登记")
    page.get_by_label("身份证号码").fill(make_id_number())
    page.get_by_label("手机号码").fill("13600004321")
    union_select.select_option(value=str(union.pk))
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status").filter(has_text="已登记会员“赵登记”")).to_be_visible()
    shot(page, "journey-member-registered")

    page.goto(f"{demo.url}/members/")
    page.get_by_label("搜索", exact=True).fill("赵登记")
    page.get_by_label("搜索", exact=True).press("Enter")
    expect(page.get_by_role("link", name="赵登记")).to_be_visible()
    shot(page, "journey-member-list")

    # Another district's clerk finds nobody by that name.
    page.context.clear_cookies()
    login(page, demo, "huangpu")
    page.goto(f"{demo.url}/members/?q=赵登记")
    expect(page.get_by_role("link", name="赵登记")).to_have_count(0)
    assert not page.console.errors, page.console.errors


def test_a_clerk_imports_a_roster_and_sees_it_through(demo, desktop):
    page = desktop
    union = _union_under("陆家嘴街道总工会")
    good = [("钱一", make_id_number(), "13500000001"), ("孙二", make_id_number(), "13500000002")]
    csv = "姓名,身份证号码,手机号码,就业形态\n" + "".join(f"{n},{i},{m},全日制\n" for n, i, m in good)
    csv += "周三,11010519491231002X,135000,快递员\n"  # a bad ID check character and a short mobile
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/members/imports/")
    page.get_by_role("combobox", name="导入到工会").select_option(value=str(union.pk))
    page.get_by_label("名册文件").set_input_files(
        files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": csv.encode("utf-8")}]
    )
    page.get_by_label("只导入正确的行").check()
    page.get_by_role("button", name="上传并导入").click()
    bar = page.get_by_role("progressbar", name="导入进度")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=20_000)
    expect(page.locator("#import-progress")).to_contain_text("新增")
    expect(page.get_by_text("导入完成：新增 2 人")).to_be_visible()
    expect(page.locator("#import-progress tbody tr")).to_have_count(3)
    shot(page, "journey-member-import-done")
    assert Membership.objects.filter(union=union, member__name__in=["钱一", "孙二"], status="active").count() == 2
    assert not page.console.errors, page.console.errors
