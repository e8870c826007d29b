"""The mediation API: who sees which cases, the workflow end to end, refusals in the one error shape."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from disputes.models import Case
from tests.conftest import client_for
from tests.disputes.conftest import applicant, receive
from tests.querycount import assert_list_queries

pytestmark = pytest.mark.django_db
URL = "/api/v1/dispute-cases/"


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def world(bodies, mediators, district_admin, owner, freeze_today):
    from disputes import services

    assigned = receive(district_admin, bodies["pudong"])
    services.case_accept(case=assigned, actor=district_admin)
    services.case_assign(case=assigned, actor=district_admin, mediator=mediators["wages"])
    unassigned = receive(district_admin, bodies["pudong"])
    collective = receive(district_admin, bodies["pudong"], workers_involved=30)
    other = receive(owner, bodies["huangpu"])
    return {"assigned": assigned, "unassigned": unassigned, "collective": collective, "other": other}


def test_a_plain_mediator_sees_only_the_cases_assigned_to_them(world, mediators):
    assert _ids(client_for(mediators["wages"].user).get(URL)) == [world["assigned"].pk]
    assert _ids(client_for(mediators["other"].user).get(URL)) == []


def test_the_head_sees_the_body_s_cases_collective_first(world, mediators):
    ids = _ids(client_for(mediators["head"].user).get(URL))
    assert ids[0] == world["collective"].pk
    assert set(ids) == {world["assigned"].pk, world["unassigned"].pk, world["collective"].pk}


def test_the_district_sees_its_subtree_and_not_the_sibling(world, district_admin, mediators, owner):
    ids = _ids(client_for(district_admin).get(URL))
    assert world["other"].pk not in ids and len(ids) == 3
    assert client_for(district_admin).get(f"{URL}{world['other'].pk}/").status_code == 404
    assert client_for(mediators["huangpu"].user).get(f"{URL}{world['assigned'].pk}/").status_code == 404
    assert len(_ids(client_for(owner).get(URL))) == 4


def test_workers_and_anonymous_get_no_cases(world, worker):
    assert client_for(worker).get(URL).status_code == 403
    assert client_for(None).get(URL).status_code in (401, 403)


def test_the_list_shows_days_left_and_the_detail_masks_personal_data(world, mediators):
    api = client_for(mediators["wages"].user)
    row = api.get(URL).json()["results"][0]
    assert row["clock"]["deadline"] == "2026-11-17" and row["clock"]["days_left"] == 7
    detail = api.get(f"{URL}{world['assigned'].pk}/").json()
    assert "拖欠" not in detail["facts"]
    assert "*" in detail["parties"][0]["id_masked"]
    assert [h["to_state"] for h in detail["history"]] == ["received", "accepted", "assigned"]


def test_a_case_runs_the_whole_workflow_through_the_api(bodies, mediators, district_admin, freeze_today):
    api = client_for(district_admin)
    created = api.post(
        URL,
        {
            "body": bodies["pudong"].pk,
            "channel": "court_delegated",
            "court_name": "上海市浦东新区人民法院",
            "court_reference": "（2026）沪0115民初88号",
            "court_return_deadline": "2026-11-20",
            "kind": "wages",
            "facts": "拖欠工资",
            "claims": [{"description": "支付工资", "amount": "8800.50"}],
            "applicants": [applicant("周七")],
            "respondent_name": "某物流公司",
            "received_on": "2026-11-09",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    for step, body in [
        ("accept", {}),
        ("assign", {"mediator": mediators["other"].pk}),
        ("sessions", {"held_at": "2026-11-10T09:00:00+08:00", "place": "调解室", "attendees": "双方"}),
        ("suspend", {"reason": "等待工资台账", "on": "2026-11-10"}),
        ("resume", {"on": "2026-11-10"}),
        ("agreement", {"signed_by_applicants": True, "signed_by_respondent": True, "effective_on": "2026-11-10"}),
        ("fulfilment", {"outcome": "paid", "amount_paid": "8800.50"}),
        ("close", {}),
        ("visit", {"satisfaction": 5}),
    ]:
        response = api.post(f"{URL}{pk}/{step}/", body, format="json")
        assert response.status_code == 200, (step, response.content)
    data = api.get(f"{URL}{pk}/").json()
    assert data["status"] == "visited"
    pdf = api.get(f"{URL}{pk}/agreement-pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "周七" in text and "捌仟捌佰元伍角整" in text


def test_bad_input_answers_in_the_one_error_shape(world, district_admin):
    api = client_for(district_admin)
    bad_amount = api.post(
        URL,
        {
            "body": world["assigned"].body_id,
            "channel": "walk_in",
            "kind": "wages",
            "facts": "x",
            "claims": [{"description": "工资", "amount": "三千"}],
            "applicants": [applicant()],
            "respondent_name": "某公司",
        },
        format="json",
    )
    assert bad_amount.status_code == 400
    assert "claims" in bad_amount.json()["error"]["fields"]
    off = api.post(f"{URL}{world['collective'].pk}/collective/", {"collective": False}, format="json")
    assert off.status_code == 409 and "集体" in off.json()["error"]["message"]
    agree = api.post(f"{URL}{world['unassigned'].pk}/decline/", {"reason": "不属于受案范围"}, format="json")
    assert agree.status_code == 200
    agree = api.post(
        f"{URL}{world['unassigned'].pk}/agreement/",
        {"signed_by_applicants": True, "signed_by_respondent": True},
        format="json",
    )
    assert agree.status_code == 409
    assert Case.objects.get(pk=world["unassigned"].pk).status == "declined"
    suspend = api.post(f"{URL}{world['assigned'].pk}/suspend/", {"reason": ""}, format="json")
    assert suspend.status_code == 400 and "reason" in suspend.json()["error"]["fields"]


def test_overview_bodies_and_risks(world, district_admin):
    from disputes import services

    api = client_for(district_admin)
    overview = api.get("/api/v1/dispute-overview/").json()
    assert overview["open"] == 3 and overview["collective"] == 1 and overview["by_kind"] == {"wages": 3}
    bodies = api.get("/api/v1/dispute-bodies/").json()["results"]
    loads = {m["name"]: m["load"] for m in bodies[0]["mediators"]}
    assert loads["李调解"] == 1
    services.enterprise_risk_recompute(today=dt.date(2026, 11, 10))
    assert api.get("/api/v1/dispute-risks/").status_code == 200


def test_lists_do_not_query_per_row(bodies, mediators, district_admin, freeze_today):
    def grow(n):
        while Case.objects.count() < n:
            receive(district_admin, bodies["pudong"], workers_involved=1 + Case.objects.count())

    assert_list_queries(client_for(district_admin), [URL, "/api/v1/dispute-bodies/"], grow)


def test_the_overview_counts_overdue_cases_including_a_past_court_date(bodies, mediators, district_admin, freeze_today):
    from disputes import services

    late = receive(district_admin, bodies["pudong"], received_on=dt.date(2026, 10, 20))
    services.case_accept(case=late, actor=district_admin)
    court = receive(
        district_admin,
        bodies["pudong"],
        channel="court_entrusted",
        court_name="浦东法院",
        court_reference="（2026）沪0115民初1号",
        court_return_deadline=dt.date(2026, 11, 9),
        received_on=dt.date(2026, 11, 5),
    )
    services.case_accept(case=court, actor=district_admin)
    on_time = receive(district_admin, bodies["pudong"], received_on=dt.date(2026, 11, 2))
    services.case_accept(case=on_time, actor=district_admin)
    paused = receive(district_admin, bodies["pudong"], received_on=dt.date(2026, 10, 20))
    services.case_accept(case=paused, actor=district_admin)
    services.case_assign(case=paused, actor=district_admin)
    services.clock_suspend(case=paused, actor=district_admin, reason="鉴定", on=dt.date(2026, 10, 21))
    overview = client_for(district_admin).get("/api/v1/dispute-overview/").json()
    assert overview["overdue"] == 2  # the late one and the court one; the paused one is not


def test_pages_are_a_keyset_collective_first_both_ways(bodies, district_admin, freeze_today):
    """Page through 7 cases (3 collective) two at a time: the whole list in order, no OFFSET, and back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    made = [receive(district_admin, bodies["pudong"], workers_involved=30 if i % 3 == 0 else 1) for i in range(7)]
    expected = [c.pk for c in sorted(made, key=lambda c: (not c.is_collective, -c.pk))]
    client = client_for(district_admin)
    seen, pages, url = [], [], f"{URL}?page_size=2"
    with CaptureQueriesContext(connection) as queries:
        while url:
            body = client.get(url).json()
            pages.append(body)
            seen += [row["id"] for row in body["results"]]
            url = body["next"]
    assert seen == expected
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries if "disputes_case" in q["sql"])
    # Back from the last page: the pages before it, the same rows in the same order.
    back, url = [], pages[-1]["previous"]
    while url:
        body = client.get(url).json()
        back = [row["id"] for row in body["results"]] + back
        url = body["previous"]
    assert back + [row["id"] for row in pages[-1]["results"]] == expected
    # A hand-made cursor starts the list over instead of failing.
    assert _ids(client.get(f"{URL}?page_size=2&cursor=bm90LWEtY3Vyc29y")) == expected[:2]


def test_a_superuser_sees_every_case(world):
    """An empty "everything" Q OR'ed with the mediator's rule used to vanish: the superuser saw nothing."""
    from tests.factories import UserFactory

    boss = UserFactory(is_superuser=True)
    assert len(_ids(client_for(boss).get(URL))) == 4
