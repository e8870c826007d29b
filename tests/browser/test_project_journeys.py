"""Service projects in the browser: a worker posts and seconds demands, is checked in by the
officer's phone page with the member card's QR, rates; a reviewer scores a project into the
library; the evaluation page and the demand board."""

import re

import pytest
from playwright.sync_api import expect

from members.cards import card_token
from members.models import Member
from projects.models import Enrolment, Project, Rating

from .conftest import login, shot

pytestmark = pytest.mark.browser


def test_a_worker_posts_signs_up_checks_in_and_rates(demo, phone, desktop):
    # The demo worker's own demands page on the phone: post one, second another.
    login(phone, demo, "worker")
    phone.goto(f"{demo.url}/me/demands/")
    phone.get_by_label("类别").select_option(label="健康服务")
    phone.get_by_label("需求描述").fill("希望园区每周有一次中医理疗义诊。")
    phone.get_by_role("button", name="提交").click()
    expect(phone.get_by_role("status").or_(phone.locator(".alert, .toast")).first).to_be_visible()
    expect(phone.get_by_text("希望园区每周有一次中医理疗义诊。")).to_be_visible()
    shot(phone, "projects-phone-demands")

    # The worker signed up first for the demo's implementing project: the sign-up shows.
    phone.goto(f"{demo.url}/me/projects/")
    expect(phone.get_by_text("外卖骑手安全骑行与急救技能培训 · 第一场")).to_be_visible()
    shot(phone, "projects-phone-my-sign-ups")

    # The project officer checks the worker in on a phone-sized page: a forged code first.
    member = Member.objects.get(user__username="worker")
    enrolment = Enrolment.objects.get(member=member, session__project__stage="implementing")
    login(desktop, demo, "projects")
    desktop.set_viewport_size({"width": 390, "height": 844})
    desktop.goto(f"{demo.url}/projects/sessions/{enrolment.session_id}/checkin/")
    desktop.get_by_label("会员卡二维码内容").fill(card_token(member.current_membership) + "x")
    desktop.get_by_role("button", name="签到", exact=True).click()
    expect(desktop.get_by_role("status")).to_contain_text("签名无效")
    desktop.get_by_label("会员卡二维码内容").fill(card_token(member.current_membership))
    desktop.get_by_role("button", name="签到", exact=True).click()
    expect(desktop.get_by_role("status")).to_contain_text("签到成功")
    shot(desktop, "projects-checkin-phone")

    # Back on the worker's phone: rate what they attended.
    phone.goto(f"{demo.url}/me/projects/")
    phone.get_by_label("评分（1–5）").first.select_option("5")
    phone.get_by_label("评价").first.fill("教练讲得很细，急救演练很实用。")
    phone.get_by_role("button", name="提交评价").first.click()
    expect(phone.get_by_text("感谢您的评价")).to_be_visible()
    assert Rating.objects.filter(enrolment=enrolment, score=5).exists()


def test_a_reviewer_scores_a_project_into_the_library(demo, desktop):
    project = Project.objects.get(stage="in_review")
    login(desktop, demo, "city")
    desktop.goto(f"{demo.url}/projects/{project.pk}/")
    for label in ("需求契合度", "方案可行性", "预算合理性"):
        desktop.get_by_label(re.compile(label)).fill("90")
    desktop.get_by_label("评审意见").fill("目标可衡量，预算合理。")
    desktop.get_by_role("button", name="提交评审").click()
    expect(desktop.locator(".badge.text-bg-primary")).to_have_text("已入库")
    shot(desktop, "projects-detail-in-library")
    project.refresh_from_db()
    assert project.stage == "library"

    desktop.goto(f"{demo.url}/projects/?stage=evaluated")
    desktop.get_by_role("link", name=re.compile(r"^\d+\.\d\d$")).first.click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("绩效评估")
    expect(desktop.get_by_text("计分说明")).to_be_visible()
    shot(desktop, "projects-evaluation")
    desktop.goto(f"{demo.url}/projects/demands/")
    shot(desktop, "projects-demand-board")


def test_the_project_pages_pass_axe_and_fit_a_phone(demo, audit_desktop, audit_phone):
    from .conftest import axe_violations, format_violations, serious

    evaluated = Project.objects.get(stage="evaluated")
    implementing = Project.objects.get(stage="implementing")
    session = implementing.sessions.first()
    problems = []
    for page, user, paths in (
        (
            audit_desktop,
            "projects",
            [
                "/projects/",
                "/projects/demands/",
                "/projects/workspace/",
                f"/projects/{implementing.pk}/",
                f"/projects/{evaluated.pk}/evaluation/",
            ],
        ),
        (audit_phone, "projects", [f"/projects/sessions/{session.pk}/checkin/"]),
        (audit_phone, "worker", ["/me/projects/", "/me/demands/"]),
    ):
        page.context.clear_cookies()
        login(page, demo, user)
        for path in paths:
            page.goto(demo.url + path)
            page.wait_for_load_state("load")
            found = serious(axe_violations(page))
            if found:
                problems.append(f"{path}\n{format_violations(found)}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if page is audit_phone and overflow > 0:
                problems.append(f"{path}: {overflow}px wider than the phone")
    assert problems == [], "\n".join(problems)
