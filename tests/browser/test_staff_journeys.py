"""Staff journeys in a real browser: a district clerk's day on the tree and the registry."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Enterprise, Organization, RoleAssignment, User

from .conftest import login, shot

pytestmark = pytest.mark.browser


def _district(name: str) -> Organization:
    return Organization.objects.get(name=name)


def test_it_walks_a_district_clerk_through_home_tree_and_a_new_union(demo, desktop):
    page = desktop
    login(page, demo, "pudong")

    # Home: the figures of the clerk's own district, not the city's.
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    organizations = page.locator("[data-figure=organizations]")
    expect(organizations).not_to_have_text("0")
    pudong = _district("浦东新区总工会")
    assert (
        int(organizations.inner_text().replace(",", ""))
        == Organization.objects.filter(path__startswith=pudong.path).count()
    )
    expect(page.get_by_text("管辖范围：浦东新区总工会")).to_be_visible()
    shot(page, "journey-home")

    # The tree starts at 浦东 and opens a level at a time, without leaving the page.
    page.get_by_role("link", name="组织树").first.click()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    tree = page.locator("#org-results")
    expect(tree.get_by_role("link", name="浦东新区总工会", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="黄浦区总工会", exact=True)).to_have_count(0)
    with page.expect_request(re.compile(rf"/orgs/{pudong.pk}/children/")):
        tree.get_by_role("link", name="展开“浦东新区总工会”的下级").click()
    expect(tree.get_by_role("link", name="陆家嘴街道总工会", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    shot(page, "journey-tree-expanded")
    # A second click folds the level away again (no second request: it is loaded once).
    tree.get_by_role("link", name="展开“浦东新区总工会”的下级").click()
    expect(tree.get_by_role("link", name="陆家嘴街道总工会", exact=True)).to_be_hidden()

    # Search by name narrows the tree as one types; another district's unions never show.
    search = page.get_by_label("按名称或统一社会信用代码搜索")
    search.fill("陆家嘴")
    expect(tree.get_by_text(re.compile(r"找到 \d+ 个组织"))).to_be_visible()
    expect(tree.get_by_role("link", name="陆家嘴街道总工会", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=%E9%99%86"))
    shot(page, "journey-tree-search")
    search.fill("南京东路")
    expect(tree.get_by_text("没有找到符合条件的组织")).to_be_visible()

    # Open a street union: breadcrumb of its place in the tree.
    search.fill("陆家嘴")
    tree.get_by_role("link", name="陆家嘴街道总工会", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("陆家嘴街道总工会")
    crumbs = page.get_by_role("navigation", name="当前位置")
    expect(crumbs.get_by_role("link", name=re.compile("浦东新区"))).to_be_visible()
    expect(crumbs.get_by_role("link", name=re.compile("上海市"))).to_have_count(0)
    shot(page, "journey-org-detail")

    # Set up a child union: a wrong credit code is explained next to the field first.
    page.get_by_role("link", name="设立下级").first.click()
    page.get_by_role("textbox", name="名称", exact=True).fill("浏览器测试科技有限公司工会")
    page.get_by_role("combobox", name="类型").select_option(label="基层工会")
    page.get_by_label("工会法人统一社会信用代码").fill("81310115MA1FL0000X")
    page.get_by_role("button", name="保存").click()
    field = page.get_by_label("工会法人统一社会信用代码")
    expect(field).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#id_credit_code_errors")).to_contain_text("统一社会信用代码")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("textbox", name="名称", exact=True)).to_have_value("浏览器测试科技有限公司工会")
    shot(page, "journey-org-form-error")
    field.fill("")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("浏览器测试科技有限公司工会")
    expect(page.get_by_role("status").filter(has_text="已在“陆家嘴街道总工会”下设立")).to_be_visible()
    assert Organization.objects.filter(name="浏览器测试科技有限公司工会", kind="grassroots").exists()

    # Dissolving is destructive: a page that explains it, then the browser asks once more.
    page.get_by_role("button", name="更多操作").click()
    page.get_by_role("link", name="撤销组织").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("撤销组织")
    page.get_by_label("撤销原因").fill("企业注销")
    shot(page, "journey-org-dissolve")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="确认撤销").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("撤销组织")
    assert questions == ["确认撤销“浏览器测试科技有限公司工会”？"]
    assert Organization.objects.get(name="浏览器测试科技有限公司工会").is_active
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="确认撤销").click()
    expect(page.get_by_role("status").filter(has_text="已撤销")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("浏览器测试科技有限公司工会")
    assert not Organization.objects.get(name="浏览器测试科技有限公司工会").is_active
    assert not page.console.errors, page.console.errors


def test_it_edits_an_enterprise_and_never_shows_another_district(demo, desktop):
    page = desktop
    huangpu = _district("黄浦区总工会")
    outside = Enterprise.objects.filter(org_path__startswith=huangpu.path).order_by("name").first()
    login(page, demo, "pudong")

    page.get_by_role("link", name="企业").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业名录")
    shot(page, "journey-enterprise-list")
    # Search for a 黄浦 enterprise by its exact name: nothing in a 浦东 clerk's list.
    page.get_by_label("名称或信用代码").fill(outside.name)
    expect(page.get_by_text("没有符合筛选条件的企业")).to_be_visible()
    page.get_by_role("link", name="清除条件").click()

    # Sorting by headcount puts the biggest employer first.
    page.get_by_role("link", name="职工人数").click()
    expect(page).to_have_url(re.compile("sort=-employees"))
    first = page.locator("#enterprise-rows tr").first.get_by_role("link").first
    name = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    ent = Enterprise.objects.get(name=name)
    assert ent.employees == max(
        Enterprise.objects.filter(org_path__startswith=_district("浦东新区总工会").path).values_list(
            "employees", flat=True
        )
    )

    page.get_by_role("link", name="编辑").click()
    page.get_by_label("职工人数").fill("-5")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_label("职工人数")).to_have_class(re.compile("is-invalid"))
    page.get_by_label("职工人数").fill(str(ent.employees + 1))
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").filter(has_text="已保存企业")).to_be_visible()
    ent.refresh_from_db()
    assert page.url.endswith(f"/enterprises/{ent.pk}/")
    expect(page.locator("dl.fields").first).to_contain_text(f"{ent.employees:,}")
    shot(page, "journey-enterprise-saved")

    # The 黄浦 enterprise's own URL is a dead end for a 浦东 clerk: the not-found page.
    response = page.goto(f"{demo.url}/enterprises/{outside.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="找不到您要的内容")).to_be_visible()
    assert not page.console.errors, page.console.errors


def test_it_gives_another_districts_clerk_the_not_found_page(demo, desktop):
    page = desktop
    lujiazui = Organization.objects.get(name="陆家嘴街道总工会")
    login(page, demo, "huangpu")
    expect(page.get_by_text("管辖范围：黄浦区总工会")).to_be_visible()
    for path in (f"/orgs/{lujiazui.pk}/", f"/orgs/{lujiazui.pk}/edit/", f"/orgs/{lujiazui.pk}/children/"):
        response = page.goto(demo.url + path)
        assert response.status == 404, path
    expect(page.get_by_role("heading", name="找不到您要的内容")).to_be_visible()
    expect(page.get_by_text("陆家嘴")).to_have_count(0)
    shot(page, "journey-not-found")
    page.get_by_role("link", name="返回首页").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")


def test_it_switches_to_english_and_back(demo, desktop):
    page = desktop
    login(page, demo, "pudong")
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Coverage")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main navigation")
    for label in ("Home", "Organisation tree", "Enterprises", "Service stations"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    shot(page, "journey-home-en")
    nav.get_by_role("link", name="Organisation tree").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation tree")
    expect(page.get_by_label("Search by name or unified social credit code")).to_be_visible()
    # The page stays in English across pages, until switched back.
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("组织树")


def test_it_signs_out_and_keeps_pages_closed_afterwards(demo, desktop):
    page = desktop
    login(page, demo, "pudong")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{demo.url}/orgs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orgs/"))
    expect(page.get_by_role("heading", name="登录工会门户")).to_be_visible()


def test_it_lets_a_clerk_with_two_organisations_work_on_one_at_a_time(demo, desktop):
    page = desktop
    huangpu = _district("黄浦区总工会")
    education = Organization.objects.get(name="上海市教育工会")
    RoleAssignment.objects.create(user=User.objects.get(username="huangpu"), organization=education, role="clerk")
    login(page, demo, "huangpu")

    # Both organisations count on the home page until the clerk narrows it down.
    both = int(page.locator("[data-figure=organizations]").inner_text().replace(",", ""))
    in_huangpu = Organization.objects.filter(path__startswith=huangpu.path).count()
    in_education = Organization.objects.filter(path__startswith=education.path).count()
    assert both == in_huangpu + in_education
    switcher = page.get_by_role("banner").get_by_role("button", name=re.compile("工作组织"))
    expect(switcher).to_contain_text("全部管辖范围")
    switcher.click()
    shot(page, "journey-org-switcher")
    page.get_by_role("button", name="黄浦区总工会").click()
    expect(page.get_by_role("status").filter(has_text="已切换到“黄浦区总工会”")).to_be_visible()
    expect(switcher).to_contain_text("黄浦区")
    expect(page.locator("[data-figure=organizations]")).to_have_text(f"{in_huangpu:,}")
    expect(page.get_by_text("当前工作组织：黄浦区总工会")).to_be_visible()

    # The tree starts from the chosen organisation only; the choice lasts across pages.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="组织树").click()
    tree = page.locator("#org-results")
    expect(tree.get_by_role("link", name="黄浦区总工会", exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="上海市教育工会", exact=True)).to_have_count(0)

    # Back to everything, from the page the clerk is on.
    switcher.click()
    page.get_by_role("button", name="全部管辖范围").click()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(tree.get_by_role("link", name="上海市教育工会", exact=True)).to_be_visible()
    assert not page.console.errors, page.console.errors
