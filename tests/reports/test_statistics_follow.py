"""Dirty marks: every write marks its (path, month), the task every minute recounts the marked subtrees' rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from assistance.models import Budget, HardshipFile, LedgerEntry
from disputes.models import Case
from members.models import Honour, Member, Membership
from projects.models import BudgetLine, Project, Rating
from reports.models import MonthlyFigures, StatisticsMark, StatisticsRefresh
from reports.statistics import subtree_figures
from reports.summaries import first_month, statistics_follow, statistics_refresh
from reports.tasks import follow_statistics
from tests.factories import UserFactory, make_member, nth_name


def all_rows() -> dict:
    return {
        (oid, month): data
        for oid, month, data in MonthlyFigures.objects.values_list("organization_id", "month", "data")
    }


@pytest.fixture
def small(tree):
    admin = UserFactory(username="follow-admin", is_superuser=True)
    for union, n in ((tree["pd_union"], 3), (tree["hp_union"], 2)):
        for i in range(n):
            make_member(union, actor=admin, name=nth_name("会员", i))
    statistics_refresh()
    statistics_follow()  # the joins' marks (already counted by the full refresh)
    return {**tree, "admin": admin}


def test_a_join_is_counted_by_the_next_run_of_the_task_in_the_union_and_every_ancestor(small):
    today = timezone.localdate()
    admin = small["admin"]
    assert not StatisticsMark.objects.exists()
    before = {
        k: subtree_figures(user=admin, organization=small[k], period=today)
        for k in ("pd_union", "lujiazui", "pudong", "city", "huangpu")
    }
    make_member(small["pd_union"], actor=admin, name="新会员")
    # The write marked the union's path for this month, in its own transaction.
    assert StatisticsMark.objects.filter(org_path=small["pd_union"].path, month=today.replace(day=1)).exists()
    # Not yet in the figures: the task counts it.
    assert subtree_figures(user=admin, organization=small["city"], period=today).members.total == 5
    assert follow_statistics.delay().get() == 4  # the union, the street, the district, the city
    for key, was in before.items():
        now = subtree_figures(user=admin, organization=small[key], period=today)
        assert now.members.total == was.members.total + (0 if key == "huangpu" else 1), key
        assert now.members.new == was.members.new + (0 if key == "huangpu" else 1), key
    assert not StatisticsMark.objects.exists()
    state = StatisticsRefresh.objects.get(pk=1)
    assert state.followed_at > state.finished_at
    # The page's freshness line: as of the run that consumed every mark.
    figures = subtree_figures(user=admin, organization=small["huangpu"], period=today)
    assert figures.as_of == state.followed_at
    # The same rows a full rebuild gives.
    followed = all_rows()
    statistics_refresh()
    assert all_rows() == followed


def test_a_leaving_in_a_past_month_recounts_that_month_and_the_later_ones(small):
    from members.services import membership_leave

    today = timezone.localdate()
    admin = small["admin"]
    membership = Membership.objects.filter(org_path=small["hp_union"].path).first()
    earlier = max(first_month(today), (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1))
    Membership.objects.filter(pk=membership.pk).update(joined_on=earlier - dt.timedelta(days=40))
    statistics_follow()
    membership.refresh_from_db()
    membership_leave(actor=admin, membership=membership, on=earlier + dt.timedelta(days=2))
    assert StatisticsMark.objects.filter(org_path=small["hp_union"].path, month__lte=earlier).exists()
    statistics_follow()
    followed = all_rows()
    statistics_refresh()
    assert all_rows() == followed
    month = subtree_figures(user=admin, organization=small["huangpu"], period=earlier)
    assert (month.members.left, month.members.total) == (1, 0)  # the other one joined this month
    assert subtree_figures(user=admin, organization=small["huangpu"], period=today).members.total == 1


def test_a_mark_made_while_the_task_runs_is_not_lost(small):
    admin = small["admin"]
    today = timezone.localdate()
    make_member(small["pd_union"], actor=admin, name="先到者")

    def write_meanwhile(msg):
        # After the run read its marks: a join in another district, and again in the same union.
        if msg.startswith("read"):
            make_member(small["hp_union"], actor=admin, name="后到者")
            make_member(small["pd_union"], actor=admin, name="又一位")

    statistics_follow(progress=write_meanwhile)
    left = set(StatisticsMark.objects.values_list("org_path", flat=True))
    assert left == {small["hp_union"].path, small["pd_union"].path}
    state = StatisticsRefresh.objects.get(pk=1)
    statistics_follow()
    assert not StatisticsMark.objects.exists()
    assert subtree_figures(user=admin, organization=small["city"], period=today).members.total == 5 + 3
    assert StatisticsRefresh.objects.get(pk=1).followed_at > state.followed_at


def test_it_waits_for_the_first_full_refresh_and_keeps_the_marks(tree):
    make_member(tree["pd_union"], actor=UserFactory(username="early", is_superuser=True), name="会员")
    assert statistics_follow() == 0
    assert StatisticsMark.objects.exists()
    statistics_refresh()  # counts the join; the mark stays and costs one recount
    assert statistics_follow() == 4
    assert not StatisticsMark.objects.exists()


def test_every_source_table_marks_its_changes_and_the_task_gives_a_full_refreshs_rows(db, settings):
    settings.DEMO_MEMBER_FRACTION = 0.1
    call_command("seed_demo", verbosity=0)
    statistics_refresh()
    StatisticsMark.objects.all().delete()
    touched = {}
    for model, change in (
        (Membership, {"ended_on": timezone.localdate(), "status": Membership.Status.LEFT}),
        (HardshipFile, {"is_emergency": True}),
        (LedgerEntry, {"amount": F("amount") + 1}),
        (Budget, {"amount": F("amount") + 1}),
        (Case, {"is_collective": True}),
        (Project, {"stage": Project.Stage.EVALUATED}),
        (Rating, {"score": 1}),
    ):
        row = model.objects.order_by("-pk").first()
        assert row is not None, model
        model.objects.filter(pk=row.pk).update(**change)
        touched[model.__name__] = row.org_path
    line = BudgetLine.objects.select_related("project").order_by("pk").first()
    BudgetLine.objects.filter(pk=line.pk).update(planned=F("planned") + 1)
    touched["BudgetLine"] = line.project.org_path
    member = Member.objects.exclude(org_path="").order_by("pk").first()
    Honour.objects.create(member=member, kind=Honour.Kind.choices[0][0], year=timezone.localdate().year)
    touched["Honour"] = member.org_path
    Member.objects.filter(pk=member.pk).update(is_migrant_worker=not member.is_migrant_worker)
    touched["Member"] = member.org_path
    assert StatisticsMark.objects.filter(org_path=member.org_path, month=dt.date(1900, 1, 1)).exists()
    marked = set(StatisticsMark.objects.values_list("org_path", flat=True))
    assert {name: path in marked for name, path in touched.items()} == {name: True for name in touched}
    # A member's write that changes nothing counted marks nothing.
    versions = dict(StatisticsMark.objects.values_list("id", "version"))
    Member.objects.filter(pk=member.pk).update(employment_form=member.employment_form)
    assert dict(StatisticsMark.objects.values_list("id", "version")) == versions
    statistics_follow()
    followed = all_rows()
    statistics_refresh()
    assert all_rows() == followed


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_restore_and_the_flush_keep_the_marks_as_they_were(postgres_only, tree):
    from tests.snapshot import Snapshot

    admin = UserFactory(username="snap-admin", is_superuser=True)
    make_member(tree["pd_union"], actor=admin, name="快照前")
    held = set(StatisticsMark.objects.values_list("org_path", "month", "version"))
    assert held
    snapshot = Snapshot().take()
    make_member(tree["hp_union"], actor=admin, name="快照后")
    make_member(tree["pd_union"], actor=admin, name="快照后二")
    snapshot.restore()  # the source tables' deletes and inserts mark; the marks come back as they were
    assert set(StatisticsMark.objects.values_list("org_path", "month", "version")) == held
