"""A former union outside the reader's reach: the page and the API follow one rule.

A person left a union of 黄浦 and later joined one of 浦东. The 浦东 clerk reads their
record: dates, member numbers and statuses of every membership (membership years count
across unions), but the former union is "outside your reach", not its name, on the page
and in the API alike. Transfers are the one place both unions are named: both ends act on
them (see members/api/transfers.py).
"""

import datetime as dt

import pytest
from django.urls import reverse

from members import services
from tests.conftest import client_for
from tests.factories import make_id_number, make_member

HP_UNION = "黄浦测试商贸有限公司工会"


@pytest.fixture
def rejoined(tree, owner):
    idn = make_id_number()
    old = make_member(tree["hp_union"], actor=owner, name="回流会员", id_number=idn, joined_on=dt.date(2020, 5, 1))
    services.membership_leave(actor=owner, membership=old, on=dt.date(2024, 3, 1), reason="离职")
    new = make_member(tree["pd_union"], actor=owner, name="回流会员", id_number=idn)
    assert new.member_id == old.member_id
    return new.member


def test_the_api_masks_the_former_union_outside_the_reach(rejoined, clerk):
    data = client_for(clerk).get(f"/api/v1/members/{rejoined.pk}/").json()
    unions = [ms["union"] for ms in data["memberships"]]
    assert None in unions and {"id": rejoined.current_membership.union_id, "name": "浦东测试科技有限公司工会"} in unions
    assert HP_UNION not in str(data)


def test_the_page_masks_the_former_union_like_the_api(client, rejoined, clerk):
    client.force_login(clerk)
    html = client.get(reverse("member-detail", args=[rejoined.pk])).content.decode()
    assert "浦东测试科技有限公司工会" in html
    assert HP_UNION not in html
    assert "辖区外工会" in html  # the row is still there, with its dates and status


def test_the_owner_sees_both_unions_named(client, rejoined, owner):
    client.force_login(owner)
    html = client.get(reverse("member-detail", args=[rejoined.pk])).content.decode()
    assert HP_UNION in html
    data = client_for(owner).get(f"/api/v1/members/{rejoined.pk}/").json()
    assert HP_UNION in str(data)
