"""The district overview's per-body summary rows follow every change, and the hourly refresh follows the date."""

import datetime as dt

import pytest

from disputes import selectors, services, summary, tasks
from disputes.models import BodySummary
from tests.disputes.conftest import receive

pytestmark = pytest.mark.django_db


def test_the_overview_follows_each_transition(bodies, mediators, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"], workers_involved=12)
    figures = selectors.district_overview(district_admin)
    assert (figures["total"], figures["open"], figures["collective"]) == (1, 1, 1)
    services.case_accept(case=case, actor=district_admin)
    services.case_assign(case=case, actor=district_admin, mediator=mediators["wages"])
    services.case_fail(case=case, actor=district_admin, reason="被申请人拒绝调解", referral="arbitration")
    figures = selectors.district_overview(district_admin)
    assert (figures["open"], figures["collective"], figures["failed"], figures["agreed"]) == (0, 0, 1, 0)
    assert figures["by_kind"] == {"wages": 1}


def test_overdue_follows_the_date_through_the_periodic_refresh(bodies, mediators, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"], received_on=dt.date(2026, 11, 2))
    services.case_accept(case=case, actor=district_admin)
    assert selectors.district_overview(district_admin)["overdue"] == 0
    freeze_today(dt.date(2026, 12, 1))  # nothing was written: only the date moved on
    assert selectors.district_overview(district_admin)["overdue"] == 0
    assert tasks.summary_refresh() == BodySummary.objects.count()
    assert selectors.district_overview(district_admin)["overdue"] == 1
    assert BodySummary.objects.get(body=case.body).overdue_as_of == dt.date(2026, 12, 1)


def test_the_overview_counts_only_the_user_s_subtree(bodies, district_admin, owner, freeze_today):
    receive(district_admin, bodies["pudong"])
    receive(owner, bodies["huangpu"])
    assert selectors.district_overview(district_admin)["total"] == 1
    assert selectors.district_overview(owner)["total"] == 2


def test_a_refresh_rebuilds_a_lost_row(bodies, district_admin, freeze_today):
    receive(district_admin, bodies["pudong"])
    BodySummary.objects.all().delete()
    assert selectors.district_overview(district_admin)["total"] == 0
    summary.refresh_all()
    assert selectors.district_overview(district_admin)["total"] == 1
