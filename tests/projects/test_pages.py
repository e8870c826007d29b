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
        "goal_name": "培训人数",
        "goal_target": "30",
        "budget_name": "讲师费",
        "budget_planned": "3000",
    }
    r = c.post("/projects/new/", data)
    assert r.status_code == 400 and "结束日期不能早于开始日期" in r.content.decode()
    assert not Project.objects.exists()
    data["end_date"] = "2026-12-31"
    r = c.post("/projects/new/", data)
    project = Project.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/projects/{project.pk}/"
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
