"""Two clerks acting on the same case at once (PostgreSQL row locks; skipped on SQLite)."""

import datetime as dt

import pytest

from core.errors import DomainError
from core.models import TransitionRecord
from disputes import services
from disputes.models import Case, ClockEvent
from tests.disputes.conftest import receive
from tests.racing import at_once_each, race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_clerks_assigning_at_once_one_wins_cleanly(postgres_only, bodies, mediators, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"])
    services.case_accept(case=case, actor=district_admin)
    choices = [mediators["wages"], mediators["other"]]
    clerks = [district_admin, mediators["head"].user]

    results, errors = race(
        [lambda i=i: services.case_assign(case=case, actor=clerks[i], mediator=choices[i]) for i in range(2)]
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], DomainError)
    case.refresh_from_db()
    assert case.status == Case.Status.ASSIGNED and case.mediator == results[0].mediator
    assert TransitionRecord.objects.filter(object_id=str(case.pk), to_state="assigned").count() == 1


def test_two_clerks_suspending_at_once_leave_one_suspension(
    postgres_only, bodies, mediators, district_admin, freeze_today
):
    case = receive(district_admin, bodies["pudong"])
    services.case_accept(case=case, actor=district_admin)
    services.case_assign(case=case, actor=district_admin)
    clerks = [district_admin, mediators["head"].user]

    results, errors = race(
        [
            lambda i=i: services.clock_suspend(case=case, actor=clerks[i], reason=f"原因{i}", on=dt.date(2026, 11, 5))
            for i in range(2)
        ]
    )
    assert len(results) == 1 and len(errors) == 1
    assert "已经中止" in str(errors[0])
    assert ClockEvent.objects.filter(case=case, kind="suspend").count() == 1


def _live(body):
    cases = list(Case.objects.filter(body=body))
    return {
        "total": len(cases),
        "open": sum(c.status in ("received", "accepted", "assigned", "in_mediation") for c in cases),
        "declined": sum(c.status == "declined" for c in cases),
        "collective_open": sum(c.is_collective and c.status != "declined" for c in cases),
    }


def test_the_overview_summary_counts_every_committed_change_when_writers_race(
    postgres_only, bodies, district_admin, freeze_today
):
    """Four clerks change four cases of one body at once: the summary row ends up counting all four.

    Each writer rewrites the body's row from the cases under its lock; without the lock the
    last writer's aggregate could miss a change committed while it ran."""
    from disputes.models import BodySummary

    body = bodies["pudong"]
    cases = [receive(district_admin, body) for _ in range(2)]

    def act(i):
        if i < 2:
            return services.case_decline(case=cases[i], actor=district_admin, reason="不属于受理范围")
        return receive(district_admin, body, workers_involved=20)

    results = at_once_each([lambda i=i: act(i) for i in range(4)])
    assert len(results) == 4
    row = BodySummary.objects.get(body=body)
    live = _live(body)
    assert (row.total, row.open, row.collective_open) == (live["total"], live["open"], live["collective_open"])
    assert (row.total, row.open, row.collective_open) == (4, 2, 2)
