"""The aid API: the whole workflow, refusals in the one error shape, scoping."""

import datetime as dt

import pytest

from assistance.models import Budget, FileStatus
from tests.conftest import client_for
from tests.factories import make_member

from .helpers import open_file

pytestmark = pytest.mark.django_db


def test_whole_workflow_through_the_api(tree, standard, budget, pd_aid, street_aid):
    api = client_for(pd_aid)
    member = make_member(tree["pd_union"]).member
    r = api.post(
        "/api/v1/aid/files/",
        {"member": member.pk, "causes": ["illness"], "requested_kind": "living", "requested_amount": "1500"},
        format="json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = api.post(
        f"/api/v1/aid/files/{pk}/household/",
        {"name": member.name, "relation": "self", "age": 40, "monthly_income": "1050"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["tier_explanation"] == "人均月收入 1,050 元 < 低保线 1,420 元 → 深度困难"
    assert r.json()["household"][0]["monthly_income"] == "****"
    r = api.post(
        f"/api/v1/aid/files/{pk}/investigation/",
        {"visited_on": dt.date.today().isoformat(), "investigators": "张、李", "findings": "属实"},
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "investigating"
    r = api.post(
        f"/api/v1/aid/files/{pk}/notice/",
        {"start": "2026-09-28", "working_days": 3, "budget": budget.pk},
        format="json",
    )
    assert r.status_code == 400 and "working_days" in r.json()["error"]["fields"]
    r = api.post(f"/api/v1/aid/files/{pk}/notice/", {"start": "2026-09-28", "budget": budget.pk}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "notice"
    r = api.post(f"/api/v1/aid/files/{pk}/notice-close/", format="json")
    assert r.status_code == 200 and r.json()["status"] == "approving"
    queue = client_for(street_aid).get("/api/v1/aid/approvals/").json()["results"]
    assert [f["id"] for f in queue] == [pk]
    r = client_for(street_aid).post(
        f"/api/v1/aid/files/{pk}/decide/", {"decision": "approve", "opinion": "同意"}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == FileStatus.REGISTERED
    grants = api.get("/api/v1/aid/grants/").json()["results"]
    assert grants[0]["status"] == "reserved"
    r = api.post(f"/api/v1/aid/grants/{grants[0]['id']}/pay/", format="json")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    b = api.get(f"/api/v1/aid/budgets/{budget.pk}/").json()
    assert (b["spent"], b["reserved"], b["left"]) == ("1500.00", "0.00", "98500.00")
    r = api.post(f"/api/v1/aid/grants/{grants[0]['id']}/pay/", format="json")
    assert r.status_code == 409 and "已发放" in r.json()["error"]["message"]
    assert Budget.objects.get(pk=budget.pk).spent == 1500


def test_refusals_in_the_one_shape(tree, standard, pd_aid):
    api = client_for(pd_aid)
    file = open_file(pd_aid, tree["pd_union"])
    r = api.post(
        f"/api/v1/aid/files/{file.pk}/household/",
        {"name": "子", "relation": "child", "age": 9, "monthly_income": "-5"},
        format="json",
    )
    assert r.status_code == 400 and "monthly_income" in r.json()["error"]["fields"]
    r = api.post("/api/v1/aid/files/", {"member": file.member_id, "causes": ["illness"]}, format="json")
    assert r.status_code == 409 and file.number in r.json()["error"]["message"]
    r = api.post(f"/api/v1/aid/files/{file.pk}/decide/", {"decision": "approve"}, format="json")
    assert r.status_code == 409


def test_out_of_reach_and_workers(tree, standard, pd_aid, hp_aid, worker):
    file = open_file(pd_aid, tree["pd_union"])
    assert client_for(hp_aid).get(f"/api/v1/aid/files/{file.pk}/").status_code == 404
    assert client_for(hp_aid).get("/api/v1/aid/files/").json()["results"] == []
    assert client_for(worker).get("/api/v1/aid/files/").status_code == 403
    assert client_for(None).get("/api/v1/aid/files/").status_code in (401, 403)


def test_reveal_is_for_personal_data_full_and_audited(tree, standard, pd_aid, clerk):
    from activity.models import AuditEvent

    file = open_file(pd_aid, tree["pd_union"])
    r = client_for(clerk).post(f"/api/v1/aid/files/{file.pk}/reveal/")
    assert r.json()["household"][0]["monthly_income"] == "****"
    r = client_for(pd_aid).post(f"/api/v1/aid/files/{file.pk}/reveal/")
    assert r.json()["household"][0]["monthly_income"] == "1050.00"
    assert AuditEvent.objects.filter(action="aid.household_revealed").count() == 1


def test_lists_do_not_grow_queries_with_rows(tree, standard, budget, pd_aid):
    from tests.querycount import assert_list_queries

    from .helpers import registered

    def grow(n):
        from assistance.models import HardshipFile

        while HardshipFile.objects.count() < n:
            registered(pd_aid, tree["pd_union"], budget)

    assert_list_queries(
        client_for(pd_aid),
        [
            "/api/v1/aid/files/",
            "/api/v1/aid/grants/",
            "/api/v1/aid/budgets/",
            "/api/v1/aid/notices/",
            "/api/v1/aid/investigations/",
        ],
        grow,
    )


def test_a_tier_override_or_review_without_a_reason_is_refused_by_name_not_a_500(tree, standard, pd_aid):
    # The reason is optional in the input (blank is allowed through) and the service names
    # it when missing: a body without the key must reach the service too (found by the fuzz test).
    api = client_for(pd_aid)
    file = open_file(pd_aid, tree["pd_union"])
    for path, body in (("tier", {"tier": file.tier or "deep"}), ("review-finish", {"outcome": "registered"})):
        r = api.post(f"/api/v1/aid/files/{file.pk}/{path}/", body, format="json")
        assert r.status_code == 400, (path, r.content)
        assert "reason" in r.json()["error"]["fields"], path
