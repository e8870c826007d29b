"""The history rows written by core.states show on the transfer and application details
(page and API), scoped like their object."""

import pytest
from django.urls import reverse

from members import services
from members.models import JoinApplication
from tests.conftest import client_for

from .pages_helpers import ACTORS, assert_staff_outcome, body, login_as


@pytest.fixture
def moved(tree, clerk, outsider, pd_member):
    t = services.transfer_request(actor=clerk, member=pd_member, to_union=tree["hp_union"], reason="换工作")
    services.transfer_accept(actor=outsider, transfer=t, note="欢迎加入")
    return t


def test_the_transfer_detail_page_shows_its_timeline(client, outsider, moved):
    client.force_login(outsider)
    html = body(client.get(reverse("member-transfer-detail", args=[moved.pk])))
    assert "办理记录" in html and "待接收" in html and "已接收" in html
    assert "pd_clerk" in html and "hp_clerk" in html and "欢迎加入" in html and "换工作" in html


@pytest.mark.parametrize("actor", ACTORS)
def test_the_transfer_detail_page_is_scoped_to_both_ends(client, request, tree, owner, pd_member, actor):
    from tests.factories import add_org

    jingan = add_org(tree["city"], name="静安区总工会", kind="district", region_code="310106")
    ja_union = add_org(add_org(jingan, name="静安街道", kind="street"), name="静安某公司工会", kind="grassroots")
    t = services.transfer_request(actor=owner, member=pd_member, to_union=ja_union)
    login_as(client, request, actor)
    assert_staff_outcome(client.get(reverse("member-transfer-detail", args=[t.pk])), actor)


def test_the_transfer_api_detail_has_the_history(outsider, moved):
    data = client_for(outsider).get(reverse("api:member-transfer-detail", args=[moved.pk])).json()
    assert [(h["from_state"], h["to_state"], h["by"]) for h in data["history"]] == [
        ("", "requested", "pd_clerk"),
        ("requested", "accepted", "hp_clerk"),
    ]
    assert "history" not in client_for(outsider).get(reverse("api:member-transfer-list")).json()["results"][0]


def test_the_application_detail_shows_its_timeline_page_and_api(client, clerk, outsider, pd_application):
    services.join_application_reject(
        actor=clerk, application=JoinApplication.objects.get(pk=pd_application.pk), reason="非本单位职工"
    )
    client.force_login(clerk)
    html = body(client.get(reverse("member-application-detail", args=[pd_application.pk])))
    assert "待审核" in html or "已驳回" in html
    assert "非本单位职工" in html and "pd_clerk" in html
    data = client_for(clerk).get(reverse("api:member-join-application-detail", args=[pd_application.pk])).json()
    assert [h["to_state"] for h in data["history"]] == ["pending", "rejected"]
    client.force_login(outsider)
    assert client.get(reverse("member-application-detail", args=[pd_application.pk])).status_code == 404
