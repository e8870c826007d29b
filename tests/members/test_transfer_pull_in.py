"""Transfer pull-in (security issue, finding 5): a clerk of 黄浦 must not pull a 浦东 member
into their union by ID number and accept it alone, then read the person's data.

A transfer asked for by the receiving side waits for the worker's consent (self-service)
or the releasing union's agreement before it can be accepted; the request by ID number
answers the same whether the number belongs to a member or not (no existence oracle).
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from members import services
from members.models import JoinApplication, Member, Transfer
from tests.conftest import client_for
from tests.factories import make_id_number

from .pages_helpers import PD_ID, PD_NAME, body, submit_application

UNKNOWN_ID = make_id_number(region="310115")


@pytest.fixture
def pd_worker(tree, owner):
    """A 浦东 member with a worker account, whose ID number the test knows."""
    code = services.join_code_create(actor=owner, union=tree["pd_union"])
    app = submit_application(code, name="浦东骑手", id_number=PD_ID, mobile="13700005678")
    services.join_application_approve(actor=owner, application=JoinApplication.objects.get(pk=app.pk))
    return Member.objects.select_related("user").get(mobile_masked="137****5678")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _pull_in_page(client, outsider, tree, id_number):
    client.force_login(outsider)
    return client.post(
        reverse("member-transfer-in"), {"id_number": id_number, "to_union": tree["hp_union"].pk, "reason": "新入职"}
    )


# --- the defect: pulled in and accepted alone ----------------------------------------------


def test_a_clerk_cannot_pull_in_and_accept_a_member_of_another_district_on_the_pages(client, outsider, tree, pd_worker):
    _pull_in_page(client, outsider, tree, PD_ID)
    t = Transfer.objects.get()
    assert t.status == "awaiting"
    # the requesting side neither sees whom it matched nor can accept it
    assert PD_NAME not in body(client.get(reverse("member-transfers")))
    assert client.post(reverse("member-transfer-accept", args=[t.pk])).status_code == 404
    assert Member.objects.get(pk=pd_worker.pk).current_membership.union_id == tree["pd_union"].pk
    assert client.get(reverse("member-detail", args=[pd_worker.pk])).status_code == 404


def test_a_clerk_cannot_pull_in_and_accept_a_member_of_another_district_through_the_api(outsider, tree, pd_worker):
    c = client_for(outsider)
    response = c.post(
        reverse("api:member-transfer-list"), {"id_number": PD_ID, "to_union": tree["hp_union"].pk}, format="json"
    )
    assert response.status_code == 202, response.content
    t = Transfer.objects.get()
    assert t.status == "awaiting"
    assert c.post(reverse("api:member-transfer-accept", args=[t.pk]), {}, format="json").status_code == 404
    assert c.get(reverse("api:member-detail", args=[pd_worker.pk])).status_code == 404
    assert Member.objects.get(pk=pd_worker.pk).current_membership.union_id == tree["pd_union"].pk


# --- no existence oracle ------------------------------------------------------------------


def test_the_request_page_answers_the_same_for_a_known_and_an_unknown_id_number(client, outsider, tree, pd_worker):
    from django.test import Client

    known = _pull_in_page(client, outsider, tree, PD_ID)
    unknown = _pull_in_page(Client(), outsider, tree, UNKNOWN_ID)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert _messages(known) == _messages(unknown) and _messages(known)
    assert PD_NAME not in " ".join(_messages(known)) and "浦东" not in " ".join(_messages(known))


def test_the_api_answers_the_same_for_a_known_and_an_unknown_id_number(outsider, tree, pd_worker):
    c = client_for(outsider)
    url = reverse("api:member-transfer-list")
    known = c.post(url, {"id_number": PD_ID, "to_union": tree["hp_union"].pk}, format="json")
    unknown = c.post(url, {"id_number": UNKNOWN_ID, "to_union": tree["hp_union"].pk}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    # asking again for the same person (an open transfer exists) answers the same too
    again = c.post(url, {"id_number": PD_ID, "to_union": tree["hp_union"].pk}, format="json")
    assert again.status_code == 202 and again.json() == known.json()


# --- consent by the worker, agreement by the releasing union ---------------------------------


def test_the_worker_consents_on_the_self_service_page_and_the_new_union_accepts(client, outsider, tree, pd_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    client.force_login(pd_worker.user)
    html = body(client.get(reverse("my-transfer")))
    assert "黄浦测试商贸有限公司工会" in html and reverse("my-transfer-consent", args=[t.pk]) in html
    client.post(reverse("my-transfer-consent", args=[t.pk]))
    assert Transfer.objects.get().status == "requested"
    client.force_login(outsider)
    client.post(reverse("member-transfer-accept", args=[t.pk]))
    assert Member.objects.get(pk=pd_worker.pk).current_membership.union_id == tree["hp_union"].pk


def test_the_worker_declines_and_the_transfer_cannot_be_accepted(client, outsider, tree, pd_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    client.force_login(pd_worker.user)
    client.post(reverse("my-transfer-decline", args=[t.pk]))
    assert Transfer.objects.get().status == "declined"
    client.force_login(outsider)
    client.post(reverse("member-transfer-accept", args=[t.pk]))
    assert Member.objects.get(pk=pd_worker.pk).current_membership.union_id == tree["pd_union"].pk


def test_another_worker_cannot_consent(client, outsider, tree, pd_worker, member_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    client.force_login(member_worker)
    assert client.post(reverse("my-transfer-consent", args=[t.pk])).status_code == 404
    assert Transfer.objects.get().status == "awaiting"


def test_the_releasing_union_agrees_on_the_transfer_list(client, clerk, outsider, tree, pd_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    client.force_login(clerk)
    html = body(client.get(reverse("member-transfers")))
    assert reverse("member-transfer-agree", args=[t.pk]) in html
    client.post(reverse("member-transfer-agree", args=[t.pk]), {"note": "同意转出"})
    assert Transfer.objects.get().status == "requested"
    client.force_login(outsider)
    client.post(reverse("member-transfer-accept", args=[t.pk]))
    assert Member.objects.get(pk=pd_worker.pk).current_membership.union_id == tree["hp_union"].pk


def test_the_requesting_side_cannot_agree_for_the_releasing_union(client, outsider, tree, pd_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    client.force_login(outsider)
    assert client.post(reverse("member-transfer-agree", args=[t.pk])).status_code == 404
    c = client_for(outsider)
    assert c.post(reverse("api:member-transfer-agree", args=[t.pk]), {}, format="json").status_code == 404
    assert Transfer.objects.get().status == "awaiting"


def test_the_releasing_union_agrees_or_declines_through_the_api(clerk, outsider, tree, pd_worker, hp_member):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    c = client_for(clerk)
    response = c.post(reverse("api:member-transfer-agree", args=[t.pk]), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "requested"
    t2 = services.transfer_request(actor=clerk, member=hp_member, to_union=tree["pd_union"])
    response = client_for(outsider).post(
        reverse("api:member-transfer-decline", args=[t2.pk]), {"reason": "本人未同意"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"


def test_a_request_by_the_releasing_union_or_the_worker_needs_no_further_consent(clerk, tree, pd_worker):
    t = services.transfer_request(actor=clerk, member=pd_worker, to_union=tree["hp_union"])
    assert t.status == "requested"
    services.transfer_cancel(actor=clerk, transfer=t)
    t = services.transfer_request(actor=pd_worker.user, member=pd_worker, to_union=tree["hp_union"])
    assert t.status == "requested"


def test_the_worker_sees_and_consents_through_the_api(outsider, tree, pd_worker, member_worker):
    t = services.transfer_request(actor=outsider, member=pd_worker, to_union=tree["hp_union"])
    mine = client_for(pd_worker.user)
    rows = mine.get(reverse("api:my-transfers")).json()
    assert [(r["id"], r["status"], r["to_union"]) for r in rows] == [(t.pk, "awaiting", "黄浦测试商贸有限公司工会")]
    # someone else's worker account does not find it; staff are not workers here
    assert client_for(member_worker).post(reverse("api:my-transfer-consent", args=[t.pk])).status_code == 404
    assert client_for(outsider).post(reverse("api:my-transfer-consent", args=[t.pk])).status_code == 403
    response = mine.post(reverse("api:my-transfer-consent", args=[t.pk]))
    assert response.status_code == 200 and response.json()["status"] == "requested"
    again = mine.post(reverse("api:my-transfer-decline", args=[t.pk]))
    assert again.status_code == 409 and set(again.json()) == {"error"}


@pytest.mark.parametrize("case", ["same_union", "left_the_union", "moving_elsewhere"])
def test_every_refusal_about_the_person_gets_the_neutral_answer(outsider, owner, tree, pd_worker, case):
    from tests.factories import add_org

    c = client_for(outsider)
    url = reverse("api:member-transfer-list")
    baseline = c.post(url, {"id_number": UNKNOWN_ID, "to_union": tree["hp_union"].pk}, format="json")
    number = PD_ID
    if case == "same_union":
        from tests.factories import make_member

        number = make_id_number(region="310101")  # already a member of the asking union
        make_member(tree["hp_union"], actor=owner, name="黄浦本会员", id_number=number)
    elif case == "left_the_union":
        services.membership_leave(actor=owner, membership=pd_worker.current_membership)
    else:
        jingan = add_org(tree["city"], name="静安区总工会", kind="district", region_code="310106")
        ja_union = add_org(add_org(jingan, name="静安街道", kind="street"), name="静安某公司工会", kind="grassroots")
        services.transfer_request(actor=owner, member=pd_worker, to_union=ja_union)
    before = Transfer.objects.count()
    response = c.post(url, {"id_number": number, "to_union": tree["hp_union"].pk}, format="json")
    assert (response.status_code, response.json()) == (baseline.status_code, baseline.json())
    assert Transfer.objects.count() == before
