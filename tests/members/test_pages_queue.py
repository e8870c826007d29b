"""The approval queue: who sees which applications, approve and reject (htmx and plain)."""

import pytest
from django.urls import reverse

from members.models import JoinApplication, Membership
from tests.factories import nth_name

from .pages_helpers import ACTORS, assert_staff_outcome, body, login_as, submit_application


@pytest.mark.parametrize("actor", ACTORS)
def test_the_queue_lists_applications_of_unions_in_reach(client, request, pd_application, hp_code, actor):
    submit_application(hp_code, name="黄浦申请人", mobile="13900002222")
    login_as(client, request, actor)
    response = client.get(reverse("member-applications"))
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code == 200:
        html = body(response)
        assert ("浦东申请人" in html) == (actor in ("owner", "clerk"))
        assert ("黄浦申请人" in html) == (actor in ("owner", "outsider"))
        assert "139****1111" in html or actor == "outsider"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", ["member-application-approve", "member-application-reject"])
def test_only_those_in_reach_can_decide(client, request, pd_application, actor, url_name):
    login_as(client, request, actor)
    response = client.post(reverse(url_name, args=[pd_application.pk]), {"reason": "信息不全"})
    if actor in ("owner", "clerk"):
        assert response.status_code == 302
        assert JoinApplication.objects.get(pk=pd_application.pk).status != "pending"
    else:
        assert_staff_outcome(response, actor)
        assert JoinApplication.objects.get(pk=pd_application.pk).status == "pending"


def test_a_read_only_role_sees_the_queue_but_cannot_decide(client, pd_auditor, pd_application):
    client.force_login(pd_auditor)
    html = body(client.get(reverse("member-applications")))
    assert "浦东申请人" in html and reverse("member-application-approve", args=[pd_application.pk]) not in html
    assert client.post(reverse("member-application-approve", args=[pd_application.pk])).status_code == 403
    assert (
        client.post(reverse("member-application-reject", args=[pd_application.pk]), {"reason": "x"}).status_code == 403
    )


def test_approve_without_htmx_redirects_with_a_message(client, clerk, pd_application):
    client.force_login(clerk)
    response = client.post(reverse("member-application-approve", args=[pd_application.pk]), follow=True)
    html = body(response)
    assert "已批准“浦东申请人”入会" in html
    ms = Membership.objects.get(member__name="浦东申请人")
    assert ms.member_number in html


def test_reject_requires_a_reason_and_says_so_in_the_row(client, clerk, pd_application):
    client.force_login(clerk)
    url = reverse("member-application-reject", args=[pd_application.pk])
    response = client.post(
        url, {"reason": ""}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"application-{pd_application.pk}"
    )
    html = body(response)
    assert response.status_code == 200 and "请填写驳回理由" in html and f'id="application-{pd_application.pk}"' in html
    assert JoinApplication.objects.get(pk=pd_application.pk).status == "pending"
    response = client.post(
        url, {"reason": "非本单位职工"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"application-{pd_application.pk}"
    )
    html = body(response)
    assert "已驳回" in html and "非本单位职工" in html and "member-toasts" in html
    assert JoinApplication.objects.get(pk=pd_application.pk).status == "rejected"


def test_deciding_twice_is_a_message_not_a_500(client, clerk, pd_application):
    client.force_login(clerk)
    client.post(reverse("member-application-approve", args=[pd_application.pk]))
    response = client.post(
        reverse("member-application-reject", args=[pd_application.pk]),
        {"reason": "重复"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"application-{pd_application.pk}",
    )
    assert response.status_code == 200 and "不能变更" in body(response)
    response = client.post(reverse("member-application-approve", args=[pd_application.pk]), follow=True)
    assert response.status_code == 200 and "不能变更" in body(response)


def test_approving_a_person_who_became_a_member_meanwhile_is_explained(client, clerk, owner, tree, pd_code):
    from tests.factories import make_id_number, make_member

    idn = make_id_number(region="310115")
    app = submit_application(pd_code, name="已入会者", id_number=idn)
    make_member(tree["hp_union"], actor=owner, name="已入会者", id_number=idn)
    client.force_login(clerk)
    response = client.post(
        reverse("member-application-approve", args=[app.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET=f"application-{app.pk}",
    )
    html = body(response)
    assert response.status_code == 200 and "黄浦测试商贸有限公司工会" in html and "不能重复入会" in html
    assert JoinApplication.objects.get(pk=app.pk).status == "pending"


def test_the_queue_filters_by_status(client, clerk, pd_application, pd_code):
    other = submit_application(pd_code, name="已驳回者", mobile="13900003333")
    client.force_login(clerk)
    client.post(reverse("member-application-reject", args=[other.pk]), {"reason": "材料不全"}, follow=True)
    pending = body(client.get(reverse("member-applications")))
    assert "浦东申请人" in pending and "已驳回者" not in pending
    rejected = body(client.get(reverse("member-applications"), {"status": "rejected"}))
    assert "已驳回者" in rejected and "材料不全" in rejected and "浦东申请人" not in rejected
    everything = body(client.get(reverse("member-applications"), {"status": ""}))
    assert "已驳回者" in everything and "浦东申请人" in everything


def test_the_queue_costs_a_fixed_number_of_queries(client, owner, pd_code, django_assert_max_num_queries):
    for i in range(25):
        app = submit_application(pd_code, name=nth_name("排队", i), mobile=f"139000{i:05d}")
        if i % 3 == 0:
            client.force_login(owner)
            client.post(reverse("member-application-approve", args=[app.pk]))
    client.force_login(owner)
    client.get(reverse("member-applications"), {"status": ""})
    with django_assert_max_num_queries(12):
        response = client.get(reverse("member-applications"), {"status": ""})
    assert body(response).count("排队") == 25


def test_the_queue_shows_masked_data_only(client, clerk, pd_code):
    from tests.factories import make_id_number

    idn = make_id_number(region="310115")
    submit_application(pd_code, name="遮挡测试", id_number=idn, mobile="13912349876")
    client.force_login(clerk)
    html = body(client.get(reverse("member-applications")))
    assert idn not in html and "13912349876" not in html and "139****9876" in html
