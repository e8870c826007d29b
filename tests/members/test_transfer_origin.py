"""A transfer a union started tells the worker who started it and why (issue 15, item 12).

`member_worker` is an active 浦东 member; `clerk` works for 浦东, `outsider` for 黄浦.
"""

import pytest
from django.urls import reverse

from core import crypto
from members import services
from members.models import Member

from .pages_helpers import body


def _page(client, user) -> str:
    client.force_login(user)
    return body(client.get(reverse("my-transfer")))


def test_a_transfer_asked_for_by_the_receiving_union_names_it_and_its_reason(client, tree, outsider, member_worker):
    member = Member.objects.get(user=member_worker)
    services.transfer_request_by_id_number(
        actor=outsider,
        id_number=crypto.decrypt(member.id_number_enc),
        to_union=tree["hp_union"],
        reason="已到新单位入职",
    )
    html = _page(client, member_worker)
    assert "发起方" in html and "转入工会" in html and tree["hp_union"].name in html
    assert "已到新单位入职" in html


def test_a_transfer_started_by_the_releasing_union_names_it_and_its_reason(client, tree, clerk, member_worker):
    member = Member.objects.get(user=member_worker)
    services.transfer_request(actor=clerk, member=member, to_union=tree["hp_union"], reason="单位整体迁址")
    html = _page(client, member_worker)
    origin = html.split("发起方", 1)[1][:300]
    assert "转出工会" in origin and member.current_membership.union.name in origin
    assert "单位整体迁址" in html


@pytest.mark.parametrize("reason", ["", "换工作"])
def test_the_workers_own_request_says_it_was_theirs(client, tree, member_worker, reason):
    member = Member.objects.get(user=member_worker)
    services.transfer_request(actor=member_worker, member=member, to_union=tree["hp_union"], reason=reason)
    html = _page(client, member_worker)
    assert "本人申请" in html
    if reason:
        assert reason in html
