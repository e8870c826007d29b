"""Searchable organisation pickers on every filter (issue 15 item 3)."""

import pytest
from django.urls import reverse

from organizations.models import OrgKind
from tests.factories import add_org


@pytest.fixture
def many_unions(tree):
    return [
        add_org(tree["lujiazui"], name=f"深层工会{'甲乙丙丁戊己庚辛壬癸'[i]}", kind=OrgKind.GRASSROOTS)
        for i in range(10)
    ]


@pytest.mark.parametrize("url_name", ["member-list", "member-applications", "member-honours", "audit-log"])
def test_each_filter_has_a_search_box_and_lists_only_the_top_of_the_reach(client, owner, many_unions, url_name):
    client.force_login(owner)
    html = client.get(reverse(url_name)).content.decode()
    assert "输入名称搜索" in html and "/orgs/options/?purpose=" in html
    # Unions three levels down are found by searching, not sent with every page.
    assert "深层工会甲" not in html


def test_the_search_finds_deep_unions_in_reach_only(client, clerk, outsider, many_unions):
    client.force_login(clerk)
    url = reverse("org-options")
    html = client.get(url, {"purpose": "view", "q": "深层工会"}).content.decode()
    assert html.count("<option") >= 10 and "全部" in html
    client.force_login(outsider)
    assert "深层工会" not in client.get(url, {"purpose": "view", "q": "深层工会"}).content.decode()


def test_a_chosen_deep_union_stays_listed(client, owner, many_unions):
    client.force_login(owner)
    html = client.get(reverse("member-list"), {"under": many_unions[3].pk}).content.decode()
    assert "深层工会丁" in html


def test_no_ctrl_click_advice_on_phones(client, owner):
    client.force_login(owner)
    html = client.get(reverse("member-list")).content.decode()
    # Shown from the md breakpoint up only: a phone's own picker selects several by tapping.
    assert html.count("按住 Ctrl") == html.count('<span class="d-none d-md-inline">按住 Ctrl')
