"""The API: scoping by designer / implementer / library, the error shape, a run end to end."""

import datetime as dt

import pytest
from django.utils import timezone

from members.cards import card_token
from projects.models import Enrolment, Project
from tests.conftest import client_for

from .conftest import END, START, make_project, to_library

pytestmark = pytest.mark.django_db


def test_designers_implementers_and_the_library(tree, owner, pd_officer, hp_officer, city_officer, reviewer, criteria):
    pd_draft = make_project(pd_officer, tree["pudong"], [tree["lujiazui"]], title="浦东草稿")
    city_draft = make_project(city_officer, tree["city"], [tree["pudong"]], title="市级草稿")
    city_lib = make_project(city_officer, tree["city"], [tree["huangpu"]], title="市级入库")
    to_library(city_lib, designer=city_officer, reviewer=reviewer, criteria=criteria)

    def titles(user):
        r = client_for(user).get("/api/v1/projects/")
        assert r.status_code == 200
        return {p["title"] for p in r.json()["results"]}

    assert titles(pd_officer) == {"浦东草稿", "市级草稿", "市级入库"}  # designed, implements, library
    assert titles(hp_officer) == {"市级入库"}
    assert titles(owner) == {"浦东草稿", "市级草稿", "市级入库"}
    r = client_for(hp_officer).get(f"/api/v1/projects/{pd_draft.pk}/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert client_for(hp_officer).get(f"/api/v1/projects/{city_draft.pk}/").status_code == 404


@pytest.mark.parametrize("who, code", [("worker", 403), ("anonymous", 401)])
def test_workers_and_anonymous_get_no_staff_api(worker, who, code):
    r = client_for(worker if who == "worker" else None).get("/api/v1/projects/")
    assert r.status_code in (code, 403)


def test_a_run_through_the_api(tree, owner, city_officer, pd_officer, reviewer, criteria, pd_worker):
    api = client_for(city_officer)
    body = {
        "union": tree["city"].pk,
        "title": "职工技能大讲堂",
        "category": "skills",
        "year": START.year,
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
        "delivery_mode": "own",
        "implementers": [tree["pudong"].pk],
        "goals": [{"name": "培训人数", "target": 2}],
        "budget": [{"name": "讲师费", "planned": "1000.00"}],
    }
    r = api.post("/api/v1/projects/", body, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert api.post(f"/api/v1/projects/{pk}/submit/", {}, format="json").status_code == 200
    scores = {str(c.pk): 85 for c in criteria}
    r = client_for(reviewer).post(
        f"/api/v1/projects/{pk}/review/", {"decision": "approve", "scores": scores}, format="json"
    )
    assert r.json()["stage"] == "library"
    assert api.post(f"/api/v1/projects/{pk}/start/", {}, format="json").json()["stage"] == "implementing"
    r = client_for(pd_officer).post(
        "/api/v1/projects/sessions/",
        {
            "project": pk,
            "union": tree["pudong"].pk,
            "title": "第一讲",
            "starts_at": (timezone.now() + dt.timedelta(days=3)).isoformat(),
            "place": "浦东职工学校",
            "capacity": 1,
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    session = r.json()["id"]
    user, member = pd_worker
    me = client_for(user)
    assert [s["id"] for s in me.get("/api/v1/me/project-sessions/").json()] == [session]
    r = me.post("/api/v1/me/enrolments/", {"session": session}, format="json")
    assert r.status_code == 201 and r.json()["status"] == "enrolled"
    again = me.post("/api/v1/me/enrolments/", {"session": session}, format="json")
    assert again.status_code == 409 and "重复报名" in again.json()["error"]["message"]
    enrolment = r.json()["id"]
    r = me.post(f"/api/v1/me/enrolments/{enrolment}/rate/", {"score": 5}, format="json")
    assert r.status_code == 409  # not checked in yet
    token = card_token(member.current_membership)
    forged = client_for(pd_officer).post(f"/api/v1/projects/sessions/{session}/checkin/", {"token": token + "x"})
    assert forged.status_code == 409 and forged.json()["error"]["fields"]
    r = client_for(pd_officer).post(f"/api/v1/projects/sessions/{session}/checkin/", {"token": token})
    assert r.status_code == 200 and r.json()["scans"] == 1
    assert me.post(f"/api/v1/me/enrolments/{enrolment}/rate/", {"score": 5}, format="json").status_code == 200
    line = Project.objects.get(pk=pk).budget_lines.get().pk
    over = client_for(pd_officer).post(f"/api/v1/projects/budget-lines/{line}/spend/", {"amount": "1000.01"})
    assert over.status_code == 409 and over.json()["error"]["code"] == "over_budget"
    assert (
        client_for(pd_officer).post(f"/api/v1/projects/budget-lines/{line}/spend/", {"amount": "900"}).status_code
        == 200
    )
    goal = Project.objects.get(pk=pk).goals.get().pk
    r = client_for(pd_officer).post(f"/api/v1/projects/{pk}/results/", {"goal": goal, "achieved": 1}, format="json")
    assert r.status_code == 200, r.content
    r = api.post(
        f"/api/v1/projects/{pk}/milestones/", {"name": "启动", "due_date": (START - dt.timedelta(days=1)).isoformat()}
    )
    assert r.status_code == 400 and "due_date" in r.json()["error"]["fields"]
    assert api.post(f"/api/v1/projects/{pk}/close/", {}, format="json").status_code == 200
    weights = {"year": START.year, "reach": 25, "budget": 25, "satisfaction": 25, "timeliness": 30}
    r = api.post("/api/v1/projects/weights/", weights, format="json")
    assert r.status_code == 400 and "reach" in r.json()["error"]["fields"]
    weights["timeliness"] = 25
    assert api.post("/api/v1/projects/weights/", weights, format="json").status_code == 200
    assert client_for(pd_officer).post("/api/v1/projects/weights/", weights, format="json").status_code == 403
    r = api.post(f"/api/v1/projects/{pk}/evaluate/", {}, format="json")
    assert r.status_code == 200 and r.json()["stage"] == "evaluated"
    assert r.json()["evaluation"]["total"]
    assert Enrolment.objects.get(pk=enrolment).status == "checked_in"


def test_workers_post_and_second_demands(tree, owner, pd_worker):
    user, _m = pd_worker
    me = client_for(user)
    r = me.post("/api/v1/me/demands/", {"category": "health", "description": "希望增加心理咨询"}, format="json")
    assert r.status_code == 201
    pk = r.json()["id"]
    assert me.post(f"/api/v1/me/demands/{pk}/second/").json()["votes_count"] == 1
    assert me.post(f"/api/v1/me/demands/{pk}/second/").status_code == 409


def test_review_criteria_through_the_api(city_officer, pd_officer, criteria):
    from projects.models import ReviewCriterion

    api = client_for(city_officer)
    r = api.get("/api/v1/projects/criteria/")
    assert r.status_code == 200 and sum(c["weight"] for c in r.json()) == 100
    rows = [{"name": "需求契合度", "weight": 60}, {"name": "可行性", "weight": 30}]
    r = api.put("/api/v1/projects/criteria/", {"criteria": rows}, format="json")
    assert r.status_code == 400
    body = r.json()["error"]
    assert "当前合计 90%" in body["message"]
    r = api.put("/api/v1/projects/criteria/", {"criteria": [*rows, {"name": "", "weight": 10}]}, format="json")
    assert r.status_code == 400 and "criteria.2.name" in str(r.json())
    r = api.put("/api/v1/projects/criteria/", {"criteria": [*rows, {"name": "预算", "weight": 10}]}, format="json")
    assert r.status_code == 200 and [c["weight"] for c in r.json()] == [60, 30, 10]
    # Criteria left out are retired, kept for the reviews that used them.
    assert ReviewCriterion.objects.filter(active=False).count() == 0
    r = api.put("/api/v1/projects/criteria/", {"criteria": [{"name": "综合", "weight": 100}]}, format="json")
    assert r.status_code == 200 and ReviewCriterion.objects.filter(active=False).count() == 2
    r = client_for(pd_officer).put("/api/v1/projects/criteria/", {"criteria": rows}, format="json")
    assert r.status_code == 403
    assert list(ReviewCriterion.objects.filter(active=True).values_list("name", "weight")) == [("综合", 100)]
