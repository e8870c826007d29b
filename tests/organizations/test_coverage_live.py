"""Figures that follow the roll within seconds (issue 15 item 6)."""

import pytest
from django.urls import reverse

from members import services as member_services
from organizations import services
from organizations.models import CoverageDirty, CoverageSummary
from tests.factories import make_member


def _members(org):
    return CoverageSummary.objects.get(organization=org).members


@pytest.fixture
def summarised(tree, owner):
    make_member(tree["pd_union"], actor=owner, name="先来")
    services.coverage_refresh()
    return tree


def test_a_new_member_marks_the_union_and_a_task_is_queued_on_commit(
    summarised, owner, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr("core.outbox._send", lambda name, args, kwargs: sent.append(name))
    tree = summarised
    with django_capture_on_commit_callbacks(execute=True):
        make_member(tree["pd_union"], actor=owner, name="后到")
    assert CoverageDirty.objects.filter(union=tree["pd_union"]).exists()
    assert sent == ["organizations.tasks.refresh_dirty_coverage"]


def test_the_refresh_updates_the_subtree_and_only_it(summarised, owner):
    tree = summarised
    before_city, before_hp = _members(tree["city"]), _members(tree["huangpu"])
    make_member(tree["pd_union"], actor=owner, name="后到")
    make_member(tree["pd_union"], actor=owner, name="又到")
    assert services.coverage_refresh_dirty() == 1  # one union, two changes: coalesced
    assert _members(tree["pd_union"]) == 3
    assert _members(tree["pudong"]) >= 3
    assert _members(tree["city"]) == before_city + 2 and _members(tree["huangpu"]) == before_hp
    assert not CoverageDirty.objects.exists()
    assert services.coverage_refresh_dirty() == 0  # idempotent: nothing left to do


def test_leaving_counts_down(summarised, owner):
    tree = summarised
    ms = make_member(tree["pd_union"], actor=owner, name="要走")
    services.coverage_refresh_dirty()
    city = _members(tree["city"])
    member_services.membership_leave(actor=owner, membership=ms, reason="离职")
    services.coverage_refresh_dirty()
    assert _members(tree["city"]) == city - 1 and _members(tree["pd_union"]) == 1


def test_a_full_refresh_and_the_incremental_one_agree(summarised, owner):
    tree = summarised
    make_member(tree["pd_union"], actor=owner, name="后到")
    services.coverage_refresh_dirty()
    after = {o: _members(o) for o in (tree["city"], tree["pudong"], tree["pd_union"])}
    services.coverage_refresh()
    assert {o: _members(o) for o in after} == after


def test_the_home_page_says_how_fresh_the_figures_are(summarised, owner, client):
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "会员变动后数秒内更新" in html and "统计时间" in html


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_and_registrations_agree_with_a_full_rebuild(postgres_only, tree, owner):
    """Registrations in two unions and refresh runs racing: the figures end where a rebuild puts them."""
    from tests.racing import at_once_each

    make_member(tree["pd_union"], actor=owner, name="先来")
    services.coverage_refresh()
    unions = [tree["pd_union"], tree["hp_union"]]

    def work(i):
        if i % 2:
            return services.coverage_refresh_dirty()
        return make_member(unions[(i // 2) % 2], actor=owner, name="并发").member_id

    for _round in range(3):
        at_once_each([lambda i=i: work(i) for i in range(8)])
    while services.coverage_refresh_dirty():
        pass
    live = dict(CoverageSummary.objects.values_list("organization_id", "members"))
    services.coverage_refresh()
    assert dict(CoverageSummary.objects.values_list("organization_id", "members")) == live
