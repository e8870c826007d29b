"""A clerk reads and clears the inbox (desktop); a worker reads theirs on the phone. Screenshots and axe-core."""

import re

import pytest
from playwright.sync_api import expect

from activity.models import Notification

from .conftest import axe_violations, format_violations, login, serious, shot

pytestmark = pytest.mark.browser


def test_a_clerk_reads_and_clears_the_inbox(demo, desktop):
    page = desktop
    unread = Notification.objects.filter(recipient__username="pudong", read_at__isnull=True).count()
    assert unread >= 2  # seed_demo left reminders and notices for the demo logins

    login(page, demo, "pudong")
    bell = page.get_by_test_id("header-inbox")
    expect(bell).to_contain_text(str(unread))
    expect(page.locator("#inbox")).to_contain_text("有入会申请等待审核")  # the home page's to-do list
    shot(page, "inbox-home-todo")

    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("消息通知")
    shot(page, "inbox-list")

    # Opening a message follows its link and marks it read.
    item = page.get_by_test_id("inbox-item").filter(has_text="有入会申请等待审核")
    item.get_by_role("button", name=re.compile("^查看")).click()
    expect(page).to_have_url(re.compile(r"/members/applications/"))
    expect(page.get_by_test_id("header-inbox")).to_contain_text(str(unread - 1))

    page.get_by_test_id("header-inbox").click()
    page.get_by_role("link", name=re.compile("^未读")).click()
    expect(page.get_by_test_id("inbox-item").filter(has_text="有入会申请等待审核")).to_have_count(0)
    page.get_by_test_id("read-all").click()
    expect(page.get_by_text(f"已将 {unread - 1} 条消息标为已读。")).to_be_visible()
    expect(page.get_by_test_id("header-inbox").locator(".badge")).to_have_count(0)
    expect(page.get_by_test_id("read-all")).to_have_count(0)
    shot(page, "inbox-cleared")
    assert not Notification.objects.filter(recipient__username="pudong", read_at__isnull=True).exists()
    assert page.console.errors == []

    page.goto(f"{demo.url}/notifications/preferences/")
    page.get_by_label("调解案件超期：短信").check()
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("提醒方式已保存。")).to_be_visible()
    expect(page.get_by_label("调解案件超期：短信")).to_be_checked()
    shot(page, "inbox-preferences")


def test_the_inbox_pages_pass_axe(demo, audit_desktop, audit_phone):
    problems = []
    login(audit_desktop, demo, "pudong")
    for path in ("/notifications/", "/notifications/?show=unread", "/notifications/preferences/", "/"):
        audit_desktop.goto(demo.url + path)
        found = serious(axe_violations(audit_desktop))
        if found:
            problems.append(f"{path}: {format_violations(found)}")
    login(audit_phone, demo, "worker")
    for path in ("/me/", "/me/notifications/"):
        audit_phone.goto(demo.url + path)
        found = serious(axe_violations(audit_phone))
        if found:
            problems.append(f"{path} (phone): {format_violations(found)}")
    assert not problems, "\n".join(problems)


def test_a_worker_reads_their_messages_on_the_phone(demo, phone):
    page = phone
    login(page, demo, "worker")
    tile = page.get_by_test_id("my-inbox-tile")
    expect(tile).to_contain_text("我的消息")
    shot(page, "inbox-worker-home")
    tile.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的消息")
    shot(page, "inbox-worker-list")
    page.get_by_role("button", name="全部已读").click()
    expect(page.get_by_role("button", name="全部已读")).to_have_count(0)
    assert page.console.errors == []
