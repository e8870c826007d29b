"""The members admin: scoped, masked, read-only, with service-backed actions."""

import pytest
from django.test import Client
from django.urls import reverse

from core import crypto
from members import services
from members.models import JoinApplication, Member
from tests.factories import make_id_number, make_member, make_mobile

ACTORS = ("owner", "clerk", "outsider", "worker", "anonymous")


def _client(request, actor):
    c = Client()
    if actor != "anonymous":
        user = request.getfixturevalue(actor)
        if actor != "worker":
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        c.force_login(user)
    return c


@pytest.fixture
def pd(tree, owner):
    idn = make_id_number()
    ms = make_member(tree["pd_union"], actor=owner, name="浦东会员", id_number=idn)
    ms.member.plain_id = idn
    return ms.member


@pytest.mark.parametrize("actor", ACTORS)
def test_member_admin_is_scoped_and_masked(request, actor, pd):
    c = _client(request, actor)
    resp = c.get(reverse("admin:members_member_changelist"))
    detail = c.get(reverse("admin:members_member_change", args=[pd.pk]))
    if actor in ("owner", "clerk"):
        assert resp.status_code == 200 and "浦东会员" in resp.content.decode()
        assert detail.status_code == 200
        page = detail.content.decode()
        assert crypto.mask_id(pd.plain_id) in page and pd.plain_id not in page and pd.id_number_enc not in page
    elif actor == "outsider":
        assert resp.status_code == 200 and "浦东会员" not in resp.content.decode()
        assert detail.status_code == 404
    else:
        assert resp.status_code == 302 and detail.status_code == 302


def test_admin_search_uses_the_blind_index(request, pd):
    c = _client(request, "clerk")
    resp = c.get(reverse("admin:members_member_changelist"), {"q": pd.plain_id})
    assert "浦东会员" in resp.content.decode()
    resp = c.get(reverse("admin:members_member_changelist"), {"q": make_id_number()})
    assert "浦东会员" not in resp.content.decode()


def test_admin_action_approves_through_the_service(request, tree, clerk):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="丁",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="courier",
        consent=True,
    )
    c = _client(request, "clerk")
    resp = c.post(
        reverse("admin:members_joinapplication_changelist"),
        {"action": "approve", "_selected_action": [app.pk]},
    )
    assert resp.status_code == 302
    assert JoinApplication.objects.get(pk=app.pk).status == "approved"
    assert Member.objects.count() == 1
