"""Staff pages and the worker's pages: they render, act through the services, refuse clearly."""

import pytest
from django.test import Client

from members.cards import card_token
from projects import services
from projects.models import CheckIn, DemandVote, Enrolment

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_staff_pages_render(tree, city_officer, pd_officer, implementing, session_factory):
    s = session_factory()
    d = services.demand_post(actor=pd_officer, category="daily", description="午休室", union=tree["pd_union"])
    c = _client(pd_officer)
    for url in (
        "/projects/",
        "/projects/?year=2026&category=health",
        "/projects/demands/",
        "/projects/workspace/",
        f"/projects/{implementing.pk}/",
        f"/projects/sessions/{s.pk}/checkin/",
    ):
        r = c.get(url)
        assert r.status_code == 200, url
    assert "午休室" in c.get("/projects/demands/").content.decode()
    assert d.pk


def test_check_in_page_refuses_a_forged_qr_and_counts_a_repeat_once(
    implementing, session_factory, pd_officer, pd_worker
):
    s = session_factory()
    user, member = pd_worker
    services.enrolment_sign_up(actor=user, session=s)
    c = _client(pd_officer)
    token = card_token(member.current_membership)
    r = c.post(f"/projects/sessions/{s.pk}/checkin/", {"token": token + "x"})
    assert r.status_code == 400 and "签名无效" in r.content.decode()
    assert c.post(f"/projects/sessions/{s.pk}/checkin/", {"token": f"http://h/verify/{token}/"}).status_code == 200
    r = c.post(f"/projects/sessions/{s.pk}/checkin/", {"token": token})
    assert "重复扫码只计一次" in r.content.decode()
    assert CheckIn.objects.get().scans == 2


def test_spending_over_on_the_workspace_is_a_message_not_a_500(implementing, pd_officer):
    line = implementing.budget_lines.get(name="宣传费")
    r = _client(pd_officer).post(f"/projects/budget-lines/{line.pk}/spend/", {"amount": "600"}, follow=True)
    assert r.status_code == 200 and "超出预算" in r.content.decode()
    line.refresh_from_db()
    assert line.spent == 0


def test_evaluation_page_and_pdf(implementing, city_officer):
    services.project_close(actor=city_officer, project=implementing)
    services.weights_set(
        actor=city_officer, year=implementing.year, reach=40, budget=20, satisfaction=30, timeliness=10
    )
    services.project_evaluate(actor=city_officer, project=implementing)
    c = _client(city_officer)
    assert "计分说明" in c.get(f"/projects/{implementing.pk}/evaluation/").content.decode()
    r = c.get(f"/projects/{implementing.pk}/evaluation.pdf")
    assert r.status_code == 200 and r.content[:4] == b"%PDF"


def test_a_worker_signs_up_confirms_and_seconds_from_the_phone(tree, owner, implementing, session_factory, pd_worker):
    s = session_factory(capacity=1)
    user, member = pd_worker
    c = _client(user)
    assert s.title in c.get("/me/projects/").content.decode()
    r = c.post(f"/me/projects/sessions/{s.pk}/sign-up/", follow=True)
    assert "报名成功" in r.content.decode()
    r = c.post(f"/me/projects/sessions/{s.pk}/sign-up/", follow=True)
    assert r.status_code == 404 or "请勿重复报名" in r.content.decode()
    e = Enrolment.objects.get()
    r = c.post(f"/me/projects/enrolments/{e.pk}/rate/", {"score": "5"}, follow=True)
    assert "签到参加" in r.content.decode()
    r = c.post("/me/demands/", {"category": "health", "description": "心理咨询"}, follow=True)
    assert "心理咨询" in r.content.decode()
    d = member and services.Demand.objects.get(description="心理咨询")
    c.post(f"/me/demands/{d.pk}/second/")
    assert DemandVote.objects.filter(demand=d).count() == 1


def test_staff_cannot_open_worker_pages_and_workers_cannot_open_staff_pages(pd_officer, pd_worker):
    assert _client(pd_officer).get("/me/projects/").status_code == 302
    assert _client(pd_worker[0]).get("/projects/").status_code in (302, 403)


def test_results_are_filed_with_evidence(implementing, pd_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Attachment

    goal = implementing.goals.get()
    upload = SimpleUploadedFile("签到表.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    r = _client(pd_officer).post(
        f"/projects/{implementing.pk}/results/",
        {"goal": goal.pk, "achieved": "60", "note": "两场合计", "kind": "evidence", "file": upload},
        follow=True,
    )
    assert r.status_code == 200 and "签到表.pdf" in r.content.decode()
    assert goal.results.get().achieved == 60 and Attachment.objects.count() == 1
    r = _client(pd_officer).post(
        f"/projects/{implementing.pk}/results/", {"goal": goal.pk, "achieved": "-1"}, follow=True
    )
    assert "完成值须为" in r.content.decode() and goal.results.get().achieved == 60


def test_a_project_is_designed_and_a_session_scheduled_on_the_pages(tree, city_officer, reviewer, criteria):
    from projects.models import Project

    c = _client(city_officer)
    assert c.get("/projects/new/").status_code == 200
    data = {
        "union": tree["city"].pk,
        "title": "页面设计的项目",
        "category": "skills",
        "year": "2026",
        "start_date": "2026-03-01",
        "end_date": "2026-02-01",
        "implementers": [tree["pudong"].pk],
        "delivery_mode": "own",
        "goals.0.name": "培训人数",
        "goals.0.target": "30",
        "goals.1.name": "培训场次",
        "goals.1.metric": "sessions",
        "goals.1.target": "4",
        "goals.1.unit": "场",
        "budget.0.name": "讲师费",
        "budget.0.planned": "3000",
        "budget.1.name": "场地费",
        "budget.1.planned": "1500",
        "milestones.0.name": "开班",
        "milestones.0.due_date": "2026-03-01",
    }
    r = c.post("/projects/new/", data)
    assert r.status_code == 400 and "结束日期不能早于开始日期" in r.content.decode()
    assert not Project.objects.exists()
    data["end_date"] = "2026-12-31"
    # A half-filled row is refused on the field that is missing, naming the row.
    r = c.post("/projects/new/", {**data, "budget.2.name": "宣传费"})
    assert r.status_code == 400 and "填写了第 3 行的名称，请同时填写预算金额" in r.content.decode()
    # A milestone before the start: the service's refusal lands on that row's date field.
    r = c.post("/projects/new/", {**data, "milestones.1.name": "筹备", "milestones.1.due_date": "2026-02-01"})
    html = r.content.decode()
    assert r.status_code == 400 and "第 2 个进度节点：节点日期不能早于项目开始日期" in html
    assert 'id="id_milestones.1.due_date"' in html and "is-invalid" in html
    assert not Project.objects.exists()  # nothing half-saved
    r = c.post("/projects/new/", data)
    project = Project.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/projects/{project.pk}/"
    assert sorted(project.goals.values_list("name", "target")) == [("培训人数", 30), ("培训场次", 4)]
    assert sorted(project.budget_lines.values_list("name", flat=True)) == ["场地费", "讲师费"]
    assert list(project.milestones.values_list("name", flat=True)) == ["开班"]
    from .conftest import to_library

    to_library(project, designer=city_officer, reviewer=reviewer, criteria=criteria)
    r = c.post(
        f"/projects/{project.pk}/sessions/new/",
        {
            "union": tree["pudong"].pk,
            "title": "第一讲",
            "starts_at": "2026-12-20T09:00",
            "place": "职工学校",
            "capacity": "0",
        },
    )
    assert r.status_code == 400
    r = c.post(
        f"/projects/{project.pk}/sessions/new/",
        {
            "union": tree["pudong"].pk,
            "title": "第一讲",
            "starts_at": "2026-12-20T09:00",
            "place": "职工学校",
            "capacity": "20",
        },
    )
    assert r.status_code == 302 and project.sessions.count() == 1


def test_overspend_is_requested_and_decided_on_the_pages(implementing, pd_officer, city_officer, reviewer, hp_officer):
    from projects.models import BudgetLine, Overspend

    line = implementing.budget_lines.get(name="宣传费")
    c = _client(pd_officer)  # the implementer (浦东) of the city's project
    assert f"/projects/budget-lines/{line.pk}/overspend/" in c.get("/projects/workspace/").content.decode()
    r = c.post(f"/projects/budget-lines/{line.pk}/overspend/", {"amount": "0", "reason": "加印"})
    assert r.status_code == 400 and "超支金额须大于 0 元" in r.content.decode()
    r = c.post(f"/projects/budget-lines/{line.pk}/overspend/", {"amount": "200", "reason": "加印宣传册"})
    assert r.status_code == 302 and r["Location"] == "/projects/overspends/"
    req = Overspend.objects.get()
    # The implementer sees the request but the designer decides.
    html = c.get("/projects/overspends/").content.decode()
    assert "加印宣传册" in html and f"/projects/overspends/{req.pk}/approve/" not in html
    r = c.post(f"/projects/overspends/{req.pk}/approve/", follow=True)
    assert "没有管理该服务项目的权限" in r.content.decode()
    # Another district neither sees it nor may request on the line.
    h = _client(hp_officer)
    assert "加印宣传册" not in h.get("/projects/overspends/").content.decode()
    assert h.post(f"/projects/overspends/{req.pk}/approve/").status_code == 404
    assert h.get(f"/projects/budget-lines/{line.pk}/overspend/").status_code == 404
    # The designer's officer asks for more on the line too: not theirs to approve.
    d = _client(city_officer)
    d.post(f"/projects/budget-lines/{line.pk}/overspend/", {"amount": "50", "reason": "补充海报"})
    own = Overspend.objects.get(reason="补充海报")
    r = d.post(f"/projects/overspends/{own.pk}/approve/", follow=True)
    assert "申请人以外" in r.content.decode()
    # The designer's officer approves 浦东's request; the line may then spend that much more.
    html = d.get("/projects/overspends/").content.decode()
    assert f"/projects/overspends/{req.pk}/approve/" in html and f"/projects/overspends/{own.pk}/approve/" not in html
    assert d.post(f"/projects/overspends/{req.pk}/approve/").status_code == 302
    assert BudgetLine.objects.get(pk=line.pk).approved_over == 200
    r = _client(reviewer).post(f"/projects/overspends/{own.pk}/reject/", {"reason": "无需加印"})
    assert r.status_code == 302 and Overspend.objects.get(pk=own.pk).status == "rejected"
    assert BudgetLine.objects.get(pk=line.pk).approved_over == 200


def test_review_criteria_and_evaluation_weights_are_edited_on_the_pages(city_officer, pd_officer, criteria):
    from projects.models import EvaluationWeights, ReviewCriterion

    c = _client(city_officer)
    html = c.get("/projects/settings/criteria/").content.decode()
    assert "合计须为 100%" in html
    rows = {
        "criteria.0.name": "需求契合度",
        "criteria.0.weight": "50",
        "criteria.1.name": "可行性",
        "criteria.1.weight": "40",
    }
    r = c.post("/projects/settings/criteria/", rows)
    assert r.status_code == 400 and "当前合计 90%" in r.content.decode()
    r = c.post("/projects/settings/criteria/", {**rows, "criteria.2.weight": "10"})
    assert r.status_code == 400 and "第 3 项评审指标：请填写指标名称" in r.content.decode()
    r = c.post("/projects/settings/criteria/", {**rows, "criteria.2.name": "预算合理性", "criteria.2.weight": "10"})
    assert r.status_code == 302
    active = list(ReviewCriterion.objects.filter(active=True).order_by("id").values_list("name", "weight"))
    assert active == [("需求契合度", 50), ("可行性", 40), ("预算合理性", 10)]
    # A district officer sees the criteria but may not change them.
    d = _client(pd_officer)
    assert "评审指标由市总工会设置" in d.get("/projects/settings/criteria/").content.decode()
    r = d.post("/projects/settings/criteria/", {**rows, "criteria.0.weight": "60"})
    assert r.status_code == 403 or "市总工会" in r.content.decode()
    assert ReviewCriterion.objects.get(name="需求契合度").weight == 50

    base = {"year": "2026", "reach": "40", "budget": "20", "satisfaction": "30", "timeliness": "20"}
    r = c.post("/projects/settings/weights/", base)
    assert r.status_code == 400 and "当前合计 110%" in r.content.decode()
    r = c.post("/projects/settings/weights/", {**base, "timeliness": "10"})
    assert r.status_code == 302
    assert EvaluationWeights.objects.get(year=2026).timeliness == 10
