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
    from .conftest import PAGE_BUDGET, axe_violations, format_violations, page_weight, serious

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
                "/projects/new/",
                "/projects/overspends/",
                f"/projects/budget-lines/{implementing.budget_lines.first().pk}/overspend/",
                "/projects/settings/criteria/",
                "/projects/settings/weights/",
            ],
        ),
        (audit_phone, "projects", ["/projects/overspends/", "/projects/settings/criteria/"]),
        (audit_phone, "projects", [f"/projects/sessions/{session.pk}/checkin/"]),
        (audit_phone, "worker", ["/me/projects/", "/me/demands/"]),
    ):
        page.context.clear_cookies()
        login(page, demo, user)
        for path in paths:
            if page is audit_phone:
                # The phone pages stay inside the page weight budget (slow connections).
                weight = page_weight(page, demo.url + path)
                if weight.encoded > PAGE_BUDGET:
                    problems.append(f"{path}: over the page weight budget\n{weight}")
            else:
                page.goto(demo.url + path)
                page.wait_for_load_state("load")
            found = serious(axe_violations(page))
            if found:
                problems.append(f"{path}\n{format_violations(found)}")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if page is audit_phone and overflow > 0:
                problems.append(f"{path}: {overflow}px wider than the phone")
    assert problems == [], "\n".join(problems)


def field(page, label):
    """A form field by its whole label (a required field's label ends with a hidden "*")."""
    return page.get_by_label(re.compile("^" + re.escape(label) + r"\*?$"))


def _as(page, demo, user):
    page.context.clear_cookies()
    login(page, demo, user)


def test_one_project_runs_all_six_steps(demo, desktop, phone):
    """需求收集—项目研发—论证入库—组织实施—结果反馈—绩效评估 on one project, in the browser."""
    import datetime as dt

    from django.utils import timezone

    from organizations.models import Organization
    from projects.models import Demand, Overspend

    today = timezone.localdate()
    worker = Member.objects.get(user__username="worker")
    district = worker.current_membership.union
    while district.kind != "district":
        district = Organization.objects.get(path=district.path[:-4])

    # 1–2. The officer designs a project from the demand board's strongest demand: two goals,
    # two budget lines and a milestone; a milestone before the start is refused on its row.
    _as(desktop, demo, "projects")
    desktop.set_viewport_size({"width": 1280, "height": 900})
    desktop.goto(f"{demo.url}/projects/new/")
    field(desktop, "设计单位").select_option(label=Organization.objects.get(kind="city").name)
    field(desktop, "项目名称").fill("职工心理健康讲座进社区")
    field(desktop, "类别").select_option(label="健康服务")
    field(desktop, "开始日期").fill(today.isoformat())
    field(desktop, "结束日期").fill((today + dt.timedelta(days=120)).isoformat())
    field(desktop, "实施单位").select_option(label=district.name)
    first_demand = field(desktop, "关联需求").locator("option").first
    demand_text = first_demand.inner_text()
    field(desktop, "关联需求").select_option(index=0)
    field(desktop, "目标 1").fill("受益职工")
    field(desktop, "目标 1 目标值").fill("2")
    field(desktop, "目标 2").fill("讲座场次")
    field(desktop, "目标 2 指标").select_option(label="活动场次")
    field(desktop, "目标 2 目标值").fill("1")
    field(desktop, "预算科目 1").fill("讲师费")
    field(desktop, "科目 1 预算（元）").fill("2000")
    field(desktop, "预算科目 2").fill("宣传费")
    field(desktop, "科目 2 预算（元）").fill("300")
    field(desktop, "进度节点 1").fill("筹备")
    field(desktop, "节点 1 计划日期").fill((today - dt.timedelta(days=3)).isoformat())
    desktop.get_by_role("button", name="保存草稿").click()
    expect(desktop.get_by_text("第 1 个进度节点：节点日期不能早于项目开始日期")).to_be_visible()
    shot(desktop, "projects-six-steps-1-design-refused")
    field(desktop, "节点 1 计划日期").fill((today + dt.timedelta(days=5)).isoformat())
    desktop.get_by_role("button", name="保存草稿").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("职工心理健康讲座进社区")
    project = Project.objects.get(title="职工心理健康讲座进社区")
    assert project.goals.count() == 2 and project.budget_lines.count() == 2 and project.milestones.count() == 1
    linked = project.demands.get()
    assert linked.description[:10] in demand_text
    desktop.get_by_role("button", name="提交论证").click()
    shot(desktop, "projects-six-steps-2-submitted")

    # 3. The city's reviewer scores it into the library; the linked demand is adopted.
    _as(desktop, demo, "city")
    desktop.goto(f"{demo.url}/projects/{project.pk}/")
    for criterion in project_criteria():
        desktop.get_by_label(re.compile(criterion)).fill("88")
    field(desktop, "评审意见").fill("贴合需求，可以入库。")
    desktop.get_by_role("button", name="提交评审").click()
    expect(desktop.locator(".badge.text-bg-primary")).to_have_text("已入库")
    assert Demand.objects.get(pk=linked.pk).status == "adopted"

    # 4. Implementation: start, schedule a session, the worker signs up from the phone and is
    # checked in with the member card; spending, and an overspend approved by someone else.
    _as(desktop, demo, "projects")
    desktop.goto(f"{demo.url}/projects/{project.pk}/")
    desktop.get_by_role("button", name="启动实施").click()
    desktop.get_by_role("link", name="安排场次").click()
    field(desktop, "实施单位").select_option(label=district.name)
    field(desktop, "场次名称").fill("第一讲")
    starts = timezone.localtime() + dt.timedelta(days=7)
    field(desktop, "开始时间").fill(starts.strftime("%Y-%m-%dT09:30"))
    field(desktop, "地点").fill("职工服务中心")
    field(desktop, "名额").fill("30")
    desktop.get_by_role("button", name="保存").click()
    session = project.sessions.get()

    _as(phone, demo, "worker")
    phone.goto(f"{demo.url}/me/projects/")
    card = phone.locator("section.card", has_text="职工心理健康讲座进社区 · 第一讲")
    card.get_by_role("button", name="报名").click()
    expect(phone.get_by_text("报名成功")).to_be_visible()
    shot(phone, "projects-six-steps-4-signed-up")

    desktop.goto(f"{demo.url}/projects/sessions/{session.pk}/checkin/")
    field(desktop, "会员卡二维码内容").fill(card_token(worker.current_membership))
    desktop.get_by_role("button", name="签到", exact=True).click()
    expect(desktop.get_by_role("status")).to_contain_text("签到成功")

    desktop.goto(f"{demo.url}/projects/workspace/")
    line = project.budget_lines.get(name="宣传费")
    desktop.locator(f"#amount-{line.pk}").fill("300")
    desktop.locator(f"#amount-{line.pk}").locator("xpath=ancestor::form").get_by_role("button", name="记录").click()
    desktop.locator(f"#amount-{line.pk}").fill("80")
    desktop.locator(f"#amount-{line.pk}").locator("xpath=ancestor::form").get_by_role("button", name="记录").click()
    expect(desktop.get_by_text(re.compile("请先申请超支审批"))).to_be_visible()
    desktop.locator(f"#amount-{line.pk}").locator("xpath=ancestor::form").get_by_role("link", name="申请超支").click()
    field(desktop, "超支金额（元）").fill("80")
    field(desktop, "理由").fill("加印社区海报")
    desktop.get_by_role("button", name="提交申请").click()
    expect(desktop.get_by_text("加印社区海报")).to_be_visible()
    shot(desktop, "projects-six-steps-4-overspend-requested")
    _as(desktop, demo, "city")
    desktop.goto(f"{demo.url}/projects/overspends/")
    desktop.locator("li", has_text="加印社区海报").get_by_role("button", name="批准").click()
    expect(desktop.get_by_text("已批准超支")).to_be_visible()
    assert Overspend.objects.get(reason="加印社区海报").status == "approved"
    _as(desktop, demo, "projects")
    desktop.goto(f"{demo.url}/projects/workspace/")
    desktop.locator(f"#amount-{line.pk}").fill("80")
    desktop.locator(f"#amount-{line.pk}").locator("xpath=ancestor::form").get_by_role("button", name="记录").click()
    expect(desktop.get_by_text("已记录支出")).to_be_visible()

    # 5. Feedback: the worker rates what they attended; the officer files results.
    phone.goto(f"{demo.url}/me/projects/")
    mine = Enrolment.objects.get(session=session, member=worker)
    phone.locator(f"#score-{mine.pk}").select_option("4")
    phone.locator(f"#score-{mine.pk}").locator("xpath=ancestor::form").get_by_role("button", name="提交评价").click()
    expect(phone.get_by_text("感谢您的评价")).to_be_visible()
    desktop.goto(f"{demo.url}/projects/{project.pk}/")
    for goal, value in (("受益职工", "2"), ("讲座场次", "1")):
        g = project.goals.get(name=goal)
        desktop.locator(f"#achieved-{g.pk}").fill(value)
        desktop.locator(f"#achieved-{g.pk}").locator("xpath=ancestor::form").get_by_role(
            "button", name="填报结果"
        ).click()
    desktop.get_by_role("button", name="“筹备”已完成").click()
    expect(desktop.get_by_text(re.compile("完成日期"))).to_be_visible()
    desktop.get_by_role("button", name="结束实施").click()
    shot(desktop, "projects-six-steps-5-feedback")

    # 6. Evaluation with the city's weights, explained; the page and its PDF.
    desktop.get_by_role("button", name="绩效评估").click()
    desktop.get_by_role("link", name="查看评估").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("绩效评估")
    expect(desktop.get_by_text("计分说明")).to_be_visible()
    shot(desktop, "projects-six-steps-6-evaluation")
    project.refresh_from_db()
    assert project.stage == "evaluated" and project.evaluation.total > 0


def project_criteria():
    from projects.models import ReviewCriterion

    return [c.name for c in ReviewCriterion.objects.filter(active=True).order_by("id")]


def test_the_city_sets_review_criteria_and_weights_in_the_browser(demo, desktop):
    from projects.models import ReviewCriterion

    _as(desktop, demo, "projects")
    desktop.goto(f"{demo.url}/projects/settings/criteria/")
    before = list(ReviewCriterion.objects.filter(active=True).order_by("id").values_list("name", "weight"))
    field(desktop, "指标 1 权重（%）").fill(str(before[0][1] + 5))
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_text(re.compile(r"权重合计须为 100%，当前合计 105%"))).to_be_visible()
    shot(desktop, "projects-criteria-refused")
    field(desktop, "指标 2 权重（%）").fill(str(before[1][1] - 5))
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_text("评审指标已保存")).to_be_visible()
    after = list(ReviewCriterion.objects.filter(active=True).order_by("id").values_list("weight", flat=True))
    assert after[:2] == [before[0][1] + 5, before[1][1] - 5] and sum(after) == 100
    desktop.goto(f"{demo.url}/projects/settings/weights/")
    field(desktop, "按时完成权重（%）").fill("50")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_text(re.compile(r"四项权重合计须为 100%，当前合计 \d+%"))).to_be_visible()
    shot(desktop, "projects-weights-refused")
