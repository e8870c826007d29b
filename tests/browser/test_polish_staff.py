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
    # The employer from the registry: typed into the search box, chosen from what it found
    # (nothing is listed before a search); Tab goes from the box to the list.
    search = page.get_by_role("searchbox", name="搜索工作单位（企业名录）")
    employer = page.get_by_label("工作单位（企业名录）", exact=True)
    expect(employer.locator("option")).to_have_count(1)
    search.fill("有限公司")
    expect(employer.locator("option").nth(1)).to_be_attached()
    search.press("Tab")
    expect(employer).to_be_focused()
    chosen = employer.locator("option").nth(1).get_attribute("value")
    employer.select_option(value=chosen)
    shot(page, "polish-correct-employer-picker")
    page.get_by_label("更正原因").fill("登记时姓名和手机号录错，已核对身份证")
    page.get_by_role("button", name="保存更正").click()
    expect(page).to_have_url(re.compile(rf"/members/{member.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("欧阳·娜娜")
    expect(page.get_by_text("已更正")).to_be_visible()
    shot(page, "polish-correct-done")
    ev = AuditEvent.objects.filter(action="member.corrected").latest("id")
    assert ev.data["changed"]["mobile"][1] == "139****4444" and "13900004444" not in str(ev.data)
    member.refresh_from_db()
    assert member.employer_id == int(chosen) and "employer" in ev.data["changed"]
    assert not page.console.errors


def test_pickers_search_on_a_phone(demo, phone):
    """Item 3 on a phone: the register form's union and employer are searched, not scrolled."""
    page = phone
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/members/new/")
    body = page.locator("main").inner_text()
    assert "按住 Ctrl" not in body
    page.get_by_role("searchbox", name="搜索工作单位（企业名录）").fill("有限公司")
    employer = page.get_by_label("工作单位（企业名录）", exact=True)
    expect(employer.locator("option").nth(1)).to_be_attached()
    page.get_by_role("searchbox", name="搜索所在工会").fill("工会")
    expect(page.get_by_role("combobox", name="所在工会", exact=True).locator("option").nth(1)).to_be_attached()
    shot(page, "polish-pickers-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing sticks out sideways
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


def test_a_clerk_fixes_a_failed_import_and_uploads_the_error_workbook(demo, desktop):
    import io

    import openpyxl

    from members.models import ImportJob, Membership
    from tests.factories import make_id_number

    from .test_member_journeys import _union_under

    page = desktop
    union = _union_under("陆家嘴街道总工会")
    good = [("钱一", make_id_number(), "13500000001"), ("孙二", make_id_number(), "13500000002")]
    csv = "姓名,身份证号码,手机号码\n" + "".join(f"{n},{i},{m}\n" for n, i, m in good)
    csv += "周三,310115199001011230,13500000003\n"  # a wrong check character
    login(page, demo, "pudong")
    page.goto(f"{demo.url}/members/imports/")
    page.get_by_role("combobox", name="导入到工会").select_option(value=str(union.pk))
    page.get_by_label("名册文件").set_input_files(
        files=[{"name": "名册.csv", "mimeType": "text/csv", "buffer": csv.encode("utf-8")}]
    )
    page.get_by_label("全部正确才导入").check()
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("progressbar", name="导入进度")).to_have_attribute("aria-valuenow", "100", timeout=20_000)
    progress = page.locator("#import-progress")
    expect(progress).to_contain_text("未导入")
    expect(progress).to_contain_text("无误（未导入）")
    expect(progress).not_to_contain_text("新增")
    shot(page, "polish-import-failed")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载错误清单（Excel）").click()
    wb = openpyxl.load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("身份证号码") + 1).value == "310115199001011230"
    assert ws.max_row == 4, [[c.value for c in r] for r in ws.iter_rows()]  # every row of the batch
    # Fix the one wrong row in the workbook and upload it as it is (行号, 错误说明 stay).
    ws.cell(row=2, column=header.index("身份证号码") + 1, value=make_id_number())
    buf = io.BytesIO()
    wb.save(buf)
    page.goto(f"{demo.url}/members/imports/")
    page.get_by_role("combobox", name="导入到工会").select_option(value=str(union.pk))
    page.get_by_label("名册文件").set_input_files(
        files=[
            {
                "name": "错误清单.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": buf.getvalue(),
            }
        ]
    )
    page.get_by_label("全部正确才导入").check()
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("progressbar", name="导入进度")).to_have_attribute("aria-valuenow", "100", timeout=20_000)
    shot(page, "polish-import-fixed")
    expect(page.get_by_text("导入完成：新增 3 人")).to_be_visible()
    shot(page, "polish-import-fixed")
    assert ImportJob.objects.filter(status="succeeded").count() >= 1
    names = ["周三", "钱一", "孙二"]
    assert Membership.objects.filter(union=union, member__name__in=names, status="active").count() == 3
    page.goto(f"{demo.url}/members/imports/")
    expect(page.get_by_text("未导入：2 行无误，1 行有误")).to_be_visible()
    shot(page, "polish-import-list")
    assert not page.console.errors, page.console.errors


def test_the_approval_queue_on_a_phone_and_in_bulk(demo, phone, desktop):
    from members.models import JoinApplication

    login(phone, demo, "city")
    phone.goto(f"{demo.url}/members/applications/")
    filters = phone.locator("#queue-filters")
    expect(filters).to_be_hidden()  # folded on a phone: the queue comes first
    shot(phone, "polish-queue-phone")
    phone.get_by_role("button", name="筛选条件").click()
    expect(filters).to_be_visible()

    login(desktop, demo, "city")
    desktop.goto(f"{demo.url}/members/applications/")
    cell = desktop.locator("td.col-union").first
    line = float(cell.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    text_height = float(
        cell.evaluate(
            "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect().height; }"
        )
    )
    assert text_height <= 2 * line + 2, (text_height, line)  # at most two lines of a union's name, not four
    boxes = desktop.locator('input[name="ids"]')
    boxes.nth(0).check()
    boxes.nth(1).check()
    desktop.get_by_role("button", name="批准所选").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("批量审批结果")
    expect(desktop.locator(".bulk-result")).to_have_count(2)
    shot(desktop, "polish-queue-bulk-result")
    assert JoinApplication.objects.filter(status="approved").count() >= 2
    assert not desktop.console.errors and not phone.console.errors
