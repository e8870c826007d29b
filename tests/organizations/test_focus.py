"""The header's organisation switcher: narrows the home figures and the tree, never the reach.

Five actors: anonymous goes to login, a worker to /me/, staff with a single organisation
have nothing to switch (and pay no query for it), a clerk with two organisations narrows
to one and back; nobody can narrow to an organisation they hold no role at.
"""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from organizations.models import OrgKind, RoleAssignment
from organizations.services import coverage_refresh
from organizations.views.focus import FOCUS_KEY, focus_options
from tests.factories import add_org


@pytest.fixture
def industry(tree):
    return add_org(tree["city"], name="上海市测试产业工会", kind=OrgKind.INDUSTRY_UNION)


@pytest.fixture
def two_roles(clerk, industry):
    """The 浦东 clerk also works for an industry union."""
    RoleAssignment.objects.create(user=clerk, organization=industry, role="clerk")
    return clerk


def _focus(client, org="", next_url=""):
    return client.post(reverse("org-focus"), {"org": org, "next": next_url})


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_sends_anonymous_users_to_the_login_page(client, tree):
    response = _focus(client, tree["pudong"].pk)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_sends_workers_to_their_own_home(client, worker, tree):
    client.force_login(worker)
    response = _focus(client, tree["pudong"].pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("selfservice-home")
    assert FOCUS_KEY not in client.session


@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider"])
def test_it_offers_nothing_to_staff_with_a_single_organisation(client, request, tree, actor):
    user = request.getfixturevalue(actor)
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert reverse("org-focus") not in response.content.decode()
    # Not even for an organisation in their reach: only role organisations can be chosen.
    response = _focus(client, tree["pudong"].pk)
    assert response.status_code == 302
    assert FOCUS_KEY not in client.session
    assert _messages(response) == ["所选组织不是您任职的组织，请从切换列表中选择。"]


def test_it_costs_no_query_for_a_single_organisation(clerk, django_assert_num_queries):
    focus_options(clerk)  # the assignments are read once per request anyway
    with django_assert_num_queries(0):
        assert focus_options(clerk) == []


def test_it_narrows_the_home_and_the_tree_to_one_organisation(client, tree, two_roles, industry):
    coverage_refresh()
    client.force_login(two_roles)
    home = client.get(reverse("home"))
    assert home.context["focus_options"] == [tree["pudong"], industry]
    assert home.context["figures"]["organizations"] == 4  # 浦东, 陆家嘴, its union + the industry union

    response = _focus(client, industry.pk, next_url=reverse("org-tree"))
    assert response.status_code == 302 and response["Location"] == reverse("org-tree")
    assert client.session[FOCUS_KEY] == industry.pk
    assert _messages(response) == ["已切换到“上海市测试产业工会”。"]
    home = client.get(reverse("home"))
    assert home.context["figures"]["organizations"] == 1
    assert home.context["focus"] == industry
    assert "当前工作组织" in home.content.decode()
    tree_page = client.get(reverse("org-tree"))
    assert tree_page.context["nodes"] == [industry]
    # The reach itself is unchanged: 浦东 pages still open.
    assert client.get(reverse("org-detail", args=[tree["lujiazui"].pk])).status_code == 200

    response = _focus(client, "")
    assert response["Location"] == reverse("home")
    assert FOCUS_KEY not in client.session
    assert client.get(reverse("org-tree")).context["nodes"] == [tree["pudong"], industry]


def test_it_refuses_an_organisation_without_a_role_and_keeps_the_choice(client, tree, two_roles, industry):
    client.force_login(two_roles)
    _focus(client, industry.pk)
    for value in (tree["huangpu"].pk, tree["lujiazui"].pk, "abc", "99999999"):
        response = _focus(client, value)
        assert response.status_code == 302
        assert client.session[FOCUS_KEY] == industry.pk
        assert "所选组织不是您任职的组织" in _messages(response)[-1]


def test_it_forgets_a_choice_once_the_role_is_gone(client, tree, two_roles, industry):
    client.force_login(two_roles)
    _focus(client, industry.pk)
    RoleAssignment.objects.filter(user=two_roles, organization=industry).delete()
    home = client.get(reverse("home"))
    assert home.context["focus"] is None
    assert home.context["roots"] == [tree["pudong"]]


def test_it_never_redirects_off_site(client, two_roles, industry):
    client.force_login(two_roles)
    response = _focus(client, industry.pk, next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_it_only_accepts_post(client, two_roles):
    client.force_login(two_roles)
    assert client.get(reverse("org-focus")).status_code == 405
