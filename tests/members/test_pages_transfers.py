"""Transfer pages: requests from the old union (to any district), from the new union (by ID
number), decisions, and the city-wide destination search that reveals names only.
"""

import pytest
from django.urls import reverse

from members import services
from members.models import Member, Membership, Transfer
from tests.factories import nth_name

from .pages_helpers import ACTORS, HP_ID, PD_NAME, assert_staff_outcome, body, login_as


def request_transfer(client, member, to_union, reason="换工作"):
    return client.post(reverse("member-transfer", args=[member.pk]), {"to_union": to_union.pk, "reason": reason})


def test_the_old_union_moves_a_member_to_another_district_and_the_new_union_accepts(
    client, clerk, outsider, tree, pd_member
):
    client.force_login(clerk)
    response = request_transfer(client, pd_member, tree["hp_union"])
    assert response.status_code == 302
    t = Transfer.objects.get()
    assert t.requested_side == "from" and t.to_union_id == tree["hp_union"].pk

    # the receiving (黄浦) clerk sees the request: member's name and both unions, nothing else
    client.force_login(outsider)
    html = body(client.get(reverse("member-transfers")))
    assert PD_NAME in html and "浦东测试科技有限公司工会" in html
    assert pd_member.id_masked not in html and reverse("member-detail", args=[pd_member.pk]) not in html
    response = client.post(reverse("member-transfer-accept", args=[t.pk]), {"note": "欢迎"}, follow=True)
    assert "已接收" in body(response)
    member = Member.objects.get(pk=pd_member.pk)
    assert member.current_membership.union_id == tree["hp_union"].pk
    assert Membership.objects.get(pk=t.from_membership_id).status == "transferred_out"

    # now the new union sees the member and the old one no longer does
    assert client.get(reverse("member-detail", args=[pd_member.pk])).status_code == 200
    client.force_login(clerk)
    assert client.get(reverse("member-detail", args=[pd_member.pk])).status_code == 404
    assert PD_NAME not in body(client.get(reverse("member-list")))


def test_the_old_union_cannot_accept_its_own_request(client, clerk, tree, pd_member):
    client.force_login(clerk)
    request_transfer(client, pd_member, tree["hp_union"])
    t = Transfer.objects.get()
    html = body(client.get(reverse("member-transfers")))
    assert reverse("member-transfer-accept", args=[t.pk]) not in html
    assert reverse("member-transfer-cancel", args=[t.pk]) in html
    response = client.post(reverse("member-transfer-accept", args=[t.pk]))
    assert response.status_code == 403
    assert Transfer.objects.get().status == "requested"


def test_the_receiving_union_rejects_with_a_reason(client, clerk, outsider, tree, pd_member):
    client.force_login(clerk)
    request_transfer(client, pd_member, tree["hp_union"])
    t = Transfer.objects.get()
    client.force_login(outsider)
    response = client.post(reverse("member-transfer-reject", args=[t.pk]), {"note": ""}, follow=True)
    assert "请在“处理意见”中填写拒绝理由" in body(response)
    assert Transfer.objects.get().status == "requested"
    client.post(reverse("member-transfer-reject", args=[t.pk]), {"note": "查无此人"})
    assert Transfer.objects.get().status == "rejected"


def test_the_old_union_withdraws_its_request(client, clerk, tree, pd_member):
    client.force_login(clerk)
    request_transfer(client, pd_member, tree["hp_union"])
    t = Transfer.objects.get()
    client.post(reverse("member-transfer-cancel", args=[t.pk]))
    assert Transfer.objects.get().status == "cancelled"
    response = client.post(reverse("member-transfer-cancel", args=[t.pk]), follow=True)
    assert response.status_code == 200 and "不能变更" in body(response)


def test_the_new_union_asks_for_a_member_by_id_number(client, clerk, outsider, tree, hp_member):
    client.force_login(clerk)
    response = client.post(
        reverse("member-transfer-in"), {"id_number": HP_ID, "to_union": tree["pd_union"].pk, "reason": "新入职"}
    )
    assert response.status_code == 302
    t = Transfer.objects.get()
    assert t.requested_side == "to" and t.member_id == hp_member.pk and t.status == "awaiting"
    # the releasing union (or the worker) agrees first; then the asking union accepts
    client.force_login(outsider)
    client.post(reverse("member-transfer-agree", args=[t.pk]))
    client.force_login(clerk)
    client.post(reverse("member-transfer-accept", args=[t.pk]))
    assert Member.objects.get(pk=hp_member.pk).current_membership.union_id == tree["pd_union"].pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id_number": ""}, "身份证号码"),
        ({"id_number": "31011519900101123"}, "身份证号码"),
        ({"id_number": HP_ID, "to_union": ""}, "转入工会"),
    ],
)
def test_bad_transfer_in_input_is_explained(client, clerk, tree, hp_member, data, message):
    client.force_login(clerk)
    payload = {"id_number": HP_ID, "to_union": tree["pd_union"].pk, **data}
    response = client.post(reverse("member-transfer-in"), payload)
    assert response.status_code == 400 and message in body(response)
    assert not Transfer.objects.exists()


def test_transfer_in_refuses_a_target_union_outside_reach(client, clerk, tree, hp_member):
    client.force_login(clerk)
    response = client.post(reverse("member-transfer-in"), {"id_number": HP_ID, "to_union": tree["hp_union"].pk})
    assert response.status_code == 400 and "不在您的管辖范围内" in body(response)


@pytest.mark.parametrize(
    ("to_union", "message"),
    [("", "转入工会"), ("999999", "转入工会"), ("abc", "转入工会"), ("pudong", "转入工会"), ("pd_union", "相同")],
)
def test_bad_destinations_are_explained(client, clerk, tree, pd_member, to_union, message):
    client.force_login(clerk)
    value = tree[to_union].pk if to_union in tree else to_union
    response = client.post(reverse("member-transfer", args=[pd_member.pk]), {"to_union": value})
    assert response.status_code == 400 and message in body(response)
    assert not Transfer.objects.exists()


def test_a_second_open_transfer_is_refused(client, clerk, tree, pd_member):
    from tests.factories import add_org

    other = add_org(tree["nanjing"], name="黄浦第二基层工会", kind="grassroots")
    client.force_login(clerk)
    request_transfer(client, pd_member, tree["hp_union"])
    # the detail page no longer offers a transfer; a direct post is refused with a reason
    assert reverse("member-transfer", args=[pd_member.pk]) not in body(
        client.get(reverse("member-detail", args=[pd_member.pk]))
    )
    response = request_transfer(client, pd_member, other)
    assert response.status_code == 400 and "未办结" in body(response)


def test_the_destination_search_finds_unions_in_any_district_by_name_only(client, clerk, tree, enterprises):
    client.force_login(clerk)
    html = body(client.get(reverse("member-destinations"), {"q": "黄浦测试"}))
    assert "黄浦测试商贸有限公司工会" in html and f'value="{tree["hp_union"].pk}"' in html
    # names only: no path, no kind, no address, no people
    assert tree["hp_union"].path not in html and "南京东路" not in html and "org-detail" not in html
    # districts and the city do not hold members directly, so they are not destinations
    assert "黄浦区总工会" not in body(client.get(reverse("member-destinations"), {"q": "黄浦区"}))
    # a one-character query finds nothing (the list cannot be walked)
    assert 'type="radio"' not in body(client.get(reverse("member-destinations"), {"q": "工"}))


def test_the_transfer_page_searches_without_javascript(client, clerk, tree, pd_member):
    client.force_login(clerk)
    html = body(client.get(reverse("member-transfer", args=[pd_member.pk]), {"q": "黄浦测试"}))
    assert "黄浦测试商贸有限公司工会" in html and 'name="to_union"' in html


@pytest.mark.parametrize("actor", ACTORS)
def test_the_transfer_list_is_scoped_to_both_ends(client, request, tree, owner, pd_member, actor):
    from tests.factories import add_org, make_member

    jingan = add_org(tree["city"], name="静安区总工会", kind="district", region_code="310106")
    ja_union = add_org(add_org(jingan, name="静安街道", kind="street"), name="静安某公司工会", kind="grassroots")
    services.transfer_request(actor=owner, member=pd_member, to_union=ja_union)
    other = make_member(tree["hp_union"], actor=owner, name="黄浦转出人").member
    services.transfer_request(actor=owner, member=other, to_union=ja_union)
    login_as(client, request, actor)
    response = client.get(reverse("member-transfers"))
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code == 200:
        html = body(response)
        assert (PD_NAME in html) == (actor in ("owner", "clerk"))
        assert ("黄浦转出人" in html) == (actor in ("owner", "outsider"))


@pytest.mark.parametrize("actor", ["outsider", "worker", "anonymous"])
def test_others_cannot_decide_a_transfer(client, request, tree, owner, pd_member, actor):
    from tests.factories import add_org

    jingan = add_org(tree["city"], name="静安区总工会", kind="district", region_code="310106")
    ja_union = add_org(add_org(jingan, name="静安街道", kind="street"), name="静安某公司工会", kind="grassroots")
    t = services.transfer_request(actor=owner, member=pd_member, to_union=ja_union)
    login_as(client, request, actor)
    for name in (
        "member-transfer-accept",
        "member-transfer-reject",
        "member-transfer-cancel",
        "member-transfer-agree",
        "member-transfer-decline",
    ):
        response = client.post(reverse(name, args=[t.pk]), {"note": "x"})
        assert_staff_outcome(response, actor)
    assert Transfer.objects.get().status == "requested"


def test_the_transfer_list_costs_a_fixed_number_of_queries(client, owner, tree, django_assert_max_num_queries):
    from tests.factories import make_member

    for i in range(20):
        m = make_member(tree["pd_union"], actor=owner, name=nth_name("转接", i)).member
        services.transfer_request(actor=owner, member=m, to_union=tree["hp_union"])
    client.force_login(owner)
    client.get(reverse("member-transfers"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("member-transfers"))
    assert body(response).count("转接") >= 20
