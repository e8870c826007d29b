"""Staff pages and the worker's self-service pages of mediation."""

import datetime as dt

import pytest
from django.test import Client

from disputes import services
from disputes.models import Case
from tests.disputes.conftest import receive
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def case(bodies, mediators, district_admin, freeze_today):
    c = receive(district_admin, bodies["pudong"], workers_involved=11)
    services.case_accept(case=c, actor=district_admin)
    return services.case_assign(case=c, actor=district_admin, mediator=mediators["wages"])


def test_my_cases_show_days_left_and_the_collective_badge(case, mediators):
    page = _client(mediators["wages"].user).get("/disputes/")
    text = page.content.decode()
    assert page.status_code == 200
    assert case.number in text and "剩 7 天" in text and "集体争议" in text
    assert case.number not in _client(mediators["other"].user).get("/disputes/").content.decode()


def test_the_case_page_shows_the_clock_timeline_and_facts_to_the_mediator(case, mediators):
    text = _client(mediators["wages"].user).get(f"/disputes/{case.pk}/").content.decode()
    assert "2026-11-17" in text and "已指派" in text and "拖欠工资三个月" in text


def test_a_session_and_an_agreement_through_the_forms_and_the_pdf(case, mediators):
    client = _client(mediators["wages"].user)
    response = client.post(
        f"/disputes/{case.pk}/session/", {"held_at": "2026-11-10T09:30", "place": "街道调解室", "attendees": "双方"}
    )
    assert response.status_code == 302
    bad = client.post(f"/disputes/{case.pk}/agreement/", {"effective_on": "2026-11-10", "signed_by_applicants": "on"})
    assert bad.status_code == 400 and "签字" in bad.content.decode()
    ok = client.post(
        f"/disputes/{case.pk}/agreement/",
        {"effective_on": "2026-11-10", "signed_by_applicants": "on", "signed_by_respondent": "on"},
    )
    assert ok.status_code == 302
    pdf = client.get(f"/disputes/{case.pk}/agreement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_suspension_without_a_reason_is_refused_on_the_page(case, mediators):
    client = _client(mediators["wages"].user)
    response = client.post(f"/disputes/{case.pk}/do/suspend/", {"reason": ""}, follow=True)
    assert "请填写中止时限的理由" in response.content.decode()
    assert case.clock_events.count() == 1


def test_the_district_overview_and_risks(case, district_admin, mediators):
    text = _client(district_admin).get("/disputes/overview/").content.decode()
    assert case.number in text  # collective case listed
    assert _client(mediators["wages"].user).get("/disputes/overview/").status_code == 403
    assert _client(district_admin).get("/disputes/risks/").status_code == 200


def test_another_district_gets_404(case, mediators):
    assert _client(mediators["huangpu"].user).get(f"/disputes/{case.pk}/").status_code == 404


def test_a_worker_applies_follows_and_rates(bodies, mediators, district_admin, worker, freeze_today):
    client = _client(worker)
    bad = client.post(
        "/me/disputes/apply/",
        {
            "track": "legal_aid",
            "body": bodies["pudong"].pk,
            "kind": "wages",
            "respondent_name": "某餐饮公司",
            "name": "钱五",
            "id_number": "310101199001011234",
            "claim": "工资",
            "amount": "三千",
            "facts": "工资未发",
        },
    )
    assert bad.status_code == 400 and not Case.objects.exists()
    ok = client.post(
        "/me/disputes/apply/",
        {
            "track": "legal_aid",
            "body": bodies["pudong"].pk,
            "kind": "wages",
            "respondent_name": "某餐饮公司",
            "name": "钱五",
            "id_number": make_id_number(),
            "claim": "工资",
            "amount": "3000",
            "facts": "工资未发",
        },
    )
    assert ok.status_code == 302
    case = Case.objects.get()
    assert case.track == "legal_aid" and case.applicant_user == worker
    services.case_accept(case=case, actor=district_admin)
    services.case_assign(case=case, actor=district_admin)
    services.session_record(
        case=case,
        actor=district_admin,
        held_at=dt.datetime(2026, 11, 12, 9, tzinfo=dt.UTC),
        place="陆家嘴调解室",
        attendees="双方",
    )
    text = client.get("/me/disputes/").content.decode()
    assert case.number in text and "陆家嘴调解室" in text
    services.case_fail(case=case, actor=district_admin, reason="对方拒绝", referral="arbitration")
    services.case_close(case=case, actor=district_admin)
    assert client.post(f"/me/disputes/{case.pk}/rate/", {"satisfaction": "4"}).status_code == 302
    case.refresh_from_db()
    assert case.status == "visited" and case.return_visit.by_worker
    assert client.get(f"/me/disputes/{case.pk + 100}/rate/").status_code == 404


def test_the_queue_pages_collective_first_over_the_whole_list(bodies, district_admin, freeze_today):
    import re

    from disputes import views
    from tests.disputes.conftest import receive

    made = [receive(district_admin, bodies["pudong"], workers_involved=12 if i in (0, 4) else 1) for i in range(5)]
    expected = [c.number for c in sorted(made, key=lambda c: (not c.is_collective, -c.pk))]
    client = _client(district_admin)
    old, views.PAGE_SIZE = views.PAGE_SIZE, 2
    try:
        seen, url = [], "/disputes/queue/"
        while url:
            html = client.get(url).content.decode()
            seen += [n for n in re.findall(r"(TJ\d{4}-\d{7})", html) if n not in seen]
            nxt = re.search(r'href="(\?cursor=[^"]+)"', html)
            url = "/disputes/queue/" + nxt.group(1).replace("&amp;", "&") if nxt else None
    finally:
        views.PAGE_SIZE = old
    assert seen == expected
