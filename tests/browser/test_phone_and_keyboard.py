"""A worker on a phone (big targets, no JavaScript needed) and a clerk on the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import DEMO_PASSWORD, PHONE, WORKER_USERNAME, _context, login, shot

pytestmark = pytest.mark.browser

# Interactive elements smaller than 44×44 CSS px (links inside running text are exempt).
SMALL_TARGETS = """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
    .filter(el => el.offsetParent !== null && !el.closest('p, .visually-hidden-focusable'))
    .map(el => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.height < 44 || r.width < 44)
    .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(r.width)}×${Math.round(r.height)}`)"""
# A phone widens its layout viewport to fit wide content, so compare with the screen's width.
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_it_greets_a_worker_on_a_phone_with_big_targets(demo, phone):
    page = phone
    page.goto(f"{demo.url}/me/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/me/"))
    assert page.evaluate(SMALL_TARGETS) == []
    shot(page, "journey-phone-login")
    page.get_by_label("用户名").fill(WORKER_USERNAME)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{demo.url}/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("您好，张小明")
    assert page.evaluate(OVERFLOW) <= 0
    assert page.evaluate(SMALL_TARGETS) == []
    shot(page, "journey-phone-worker-home")
    # A worker never lands on staff pages: the tree sends them back to their own home.
    page.goto(f"{demo.url}/orgs/")
    expect(page).to_have_url(f"{demo.url}/me/")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert not page.console.errors, page.console.errors


def test_it_works_on_a_phone_without_javascript(demo, browser):
    """Sign-in, the worker's home, switching language and signing out are plain forms and links."""
    context = _context(browser, PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, demo, WORKER_USERNAME)
        expect(page.get_by_role("heading", level=1)).to_have_text("您好，张小明")
        page.get_by_role("button", name="EN").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Hello, 张小明")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        page.get_by_role("button", name="中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.get_by_role("button", name="退出登录").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/"))
        # A clerk can still search the tree: the form is a plain GET without htmx.
        login(page, demo, "pudong")
        page.goto(f"{demo.url}/orgs/")
        page.get_by_label("按名称或统一社会信用代码搜索").fill("陆家嘴")
        page.get_by_role("button", name="搜索").click()
        expect(page).to_have_url(re.compile(r"/orgs/\?q="))
        expect(page.get_by_role("link", name="陆家嘴街道总工会", exact=True)).to_be_visible()
    finally:
        context.close()


def test_it_opens_the_staff_navigation_on_a_phone(demo, phone):
    page = phone
    login(page, demo, "pudong")
    assert page.evaluate(OVERFLOW) <= 0
    expect(page.get_by_role("link", name="组织树", exact=True)).to_be_hidden()
    page.get_by_role("button", name="打开导航").click()
    # Opened, the side navigation is a dialog over the page (Bootstrap's offcanvas).
    nav = page.get_by_role("dialog", name="主导航")
    expect(nav.get_by_role("link", name="组织树")).to_be_visible()
    shot(page, "journey-phone-staff-nav")
    nav.get_by_role("link", name="组织树").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("组织树")
    # The tree's toggles are thumb-sized on a phone.
    toggle = page.get_by_role("link", name="展开“浦东新区总工会”的下级")
    box = toggle.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    toggle.tap()
    expect(page.get_by_role("link", name="陆家嘴街道总工会", exact=True)).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0
    assert not page.console.errors, page.console.errors


def test_it_signs_in_with_the_keyboard_alone(demo, desktop):
    page = desktop
    page.goto(f"{demo.url}/accounts/login/")
    # The skip link comes first, then the form fields; Enter submits.
    page.keyboard.press("Tab")
    for _ in range(8):
        if page.evaluate("document.activeElement.id") == "id_username":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("pudong")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")

    # On a staff page the first Tab reaches the skip link, which jumps to the content.
    page.goto(f"{demo.url}/orgs/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳到正文")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    # Every focusable control shows where the focus is.
    page.get_by_label("按名称或统一社会信用代码搜索").focus()
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.boxShadow; })()"
    )
    assert outline != "none none", outline


def test_it_shows_a_wrong_password_without_losing_the_username(demo, desktop):
    page = desktop
    page.goto(f"{demo.url}/accounts/login/")
    page.get_by_label("用户名").fill("pudong")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_label("密码").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("请输入一个正确的")
    expect(page.get_by_label("用户名")).to_have_value("pudong")
    shot(page, "journey-login-error")
