"""The audit page: only roles with audit.view, and only events in their reach."""

import re

import pytest
from django.urls import reverse

from core.audit import log_action
from organizations import services
from organizations.models import RoleAssignment
from tests.factories import UserFactory


def _auditor(username, org):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role="auditor")
    return user


@pytest.fixture
def pd_auditor(tree):
    return _auditor("pd_auditor", tree["pudong"])


@pytest.fixture
def hp_auditor(tree):
    return _auditor("hp_auditor", tree["huangpu"])


@pytest.fixture
def events(tree, owner):
    services.organization_update(actor=owner, organization=tree["lujiazui"], short_name="陆家嘴")
    services.organization_update(actor=owner, organization=tree["nanjing"], short_name="南京东路")
    services.officer_create(
        actor=owner,
        organization=tree["pd_union"],
        name="王浦东",
        position="chair",
        term_start="2024-01-01",
        election="direct",
    )
    log_action(actor=owner, action="auth.system_check", data={"note": "no organisation"})


def login_as(client, request, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("owner", 200),
        ("clerk", 403),
        ("outsider", 403),
        ("pd_auditor", 200),
        ("hp_auditor", 200),
        ("worker", "me"),
        ("anonymous", "login"),
    ],
)
def test_it_shows_the_audit_page_only_to_audit_roles(client, request, events, actor, expected):
    login_as(client, request, actor)
    response = client.get(reverse("audit-log"))
    if expected == "me":
        assert response["Location"] == reverse("selfservice-home")
    elif expected == "login":
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


def test_the_owner_sees_every_event_in_the_city(client, events, owner):
    client.force_login(owner)
    html = client.get(reverse("audit-log")).content.decode()
    assert "陆家嘴街道总工会" in html and "南京东路街道总工会" in html and "organization.updated" in html


def test_an_auditor_sees_only_events_in_reach(client, events, pd_auditor, hp_auditor):
    client.force_login(hp_auditor)
    html = client.get(reverse("audit-log")).content.decode()
    assert "南京东路街道总工会" in html
    assert "陆家嘴" not in html and "王浦东" not in html and "auth.system_check" not in html
    client.force_login(pd_auditor)
    html = client.get(reverse("audit-log")).content.decode()
    assert "陆家嘴街道总工会" in html and "王浦东" in html and "南京东路" not in html


def test_the_audit_nav_link_follows_the_capability(client, events, clerk, pd_auditor):
    client.force_login(clerk)
    assert reverse("audit-log") not in client.get(reverse("home")).content.decode()
    client.force_login(pd_auditor)
    assert reverse("audit-log") in client.get(reverse("home")).content.decode()


def test_it_filters_by_action_actor_date_and_subtree(client, tree, events, owner):
    client.force_login(owner)
    url = reverse("audit-log")
    html = client.get(url, {"action": "officer."}).content.decode()
    assert "王浦东" in html and "南京东路街道总工会</td>" not in html
    html = client.get(url, {"actor": "nobody-like-this"}).content.decode()
    assert "没有符合筛选条件的记录" in html
    html = client.get(url, {"under": tree["huangpu"].pk}).content.decode()
    assert "南京东路街道总工会" in html and "王浦东" not in html
    html = client.get(url, {"date_from": "2000-01-01", "date_to": "2000-01-02"}).content.decode()
    assert "没有符合筛选条件的记录" in html


def test_the_subtree_filter_cannot_name_an_org_outside_reach(client, tree, events, hp_auditor):
    client.force_login(hp_auditor)
    response = client.get(reverse("audit-log"), {"under": tree["pudong"].pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "所选组织不存在或不在您的管辖范围内" in html and "王浦东" not in html


def test_a_reversed_date_range_is_explained(client, events, owner):
    client.force_login(owner)
    html = client.get(reverse("audit-log"), {"date_from": "2025-02-01", "date_to": "2025-01-01"}).content.decode()
    assert "结束日期不能早于开始日期" in html


def test_it_pages_by_cursor_with_a_fixed_number_of_queries(client, tree, owner, django_assert_max_num_queries):
    for i in range(60):
        log_action(actor=owner, action="test.event", target=tree["lujiazui"], data={"i": i})
    client.force_login(owner)
    url = reverse("audit-log")
    # 7: the page's 6 and the header's unread count (then cached for INBOX_COUNT_SECONDS).
    with django_assert_max_num_queries(7):
        first = client.get(url).content.decode()
    assert first.count("test.event") == 50
    cursor = re.search(r'href="\?cursor=([^"&]+)"', first).group(1)
    with django_assert_max_num_queries(6):
        more = client.get(url, {"cursor": cursor}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="audit-more")
    html = more.content.decode()
    assert "<html" not in html and html.count("test.event") == 10 and "已显示全部" in html


def test_a_malformed_cursor_starts_over(client, events, owner):
    client.force_login(owner)
    assert client.get(reverse("audit-log"), {"cursor": "not-a-cursor"}).status_code == 200
