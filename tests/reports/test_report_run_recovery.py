"""Lost broker messages of report runs: the beat sweep sends a run again once per bound, never twice at once."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from reports import runs
from reports.models import ReportRun
from reports.periods import month_period
from tests.factories import UserFactory
from tests.racing import at_once

S = ReportRun.Status
BOUND = runs.redispatch_after()


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _lost_run(org, *, sent_ago: dt.timedelta, **extra) -> ReportRun:
    """A run whose build task was sent `sent_ago` and never arrived (the message lost)."""
    start = _last_month()
    return ReportRun.objects.create(
        organization=org,
        org_path=org.path,
        kind="monthly",
        period_start=start,
        period_end=month_period(start).end,
        dispatched_at=timezone.now() - sent_ago,
        **extra,
    )


def _redispatched(run) -> int:
    return AuditEvent.objects.filter(action="report.redispatched", data__period=run.period_code).count()


def test_a_pending_run_is_sent_again_after_the_bound_and_built(tree, django_capture_on_commit_callbacks):
    run = _lost_run(tree["pudong"], sent_ago=BOUND + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.report_runs_redispatch() == {"redispatched": 1, "given_up": 0}
    run.refresh_from_db()
    assert run.status == S.SUCCEEDED and run.redispatches == 1 and run.attempts == 1
    assert _redispatched(run) == 1


def test_a_pending_run_within_the_bound_is_left_alone(tree, django_capture_on_commit_callbacks):
    run = _lost_run(tree["pudong"], sent_ago=BOUND - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True) as sent:
        assert runs.report_runs_redispatch()["redispatched"] == 0
    assert sent == []
    run.refresh_from_db()
    assert run.status == S.PENDING and run.redispatches == 0


def test_a_run_is_sent_at_most_once_per_bound(tree, django_capture_on_commit_callbacks):
    run = _lost_run(tree["pudong"], sent_ago=BOUND + dt.timedelta(minutes=1))
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as sent:  # the message is lost again
        assert runs.report_runs_redispatch(now=now)["redispatched"] == 1
        for minutes in (1, 10, BOUND.total_seconds() // 60 - 1):
            assert runs.report_runs_redispatch(now=now + dt.timedelta(minutes=minutes))["redispatched"] == 0
        assert runs.report_runs_redispatch(now=now + BOUND + dt.timedelta(seconds=1))["redispatched"] == 1
    assert len(sent) == 2
    run.refresh_from_db()
    assert run.redispatches == 2 and run.status == S.PENDING


def test_a_run_sent_before_the_field_existed_counts_from_its_request(tree, django_capture_on_commit_callbacks):
    run = _lost_run(tree["pudong"], sent_ago=dt.timedelta(0))
    ReportRun.objects.filter(pk=run.pk).update(dispatched_at=None, requested_at=timezone.now() - 2 * BOUND)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert runs.report_runs_redispatch()["redispatched"] == 1
    assert len(sent) == 1


def test_a_dead_workers_run_is_resent_after_its_lease_and_given_up_after_three_builds(
    tree, django_capture_on_commit_callbacks
):
    now = timezone.now()
    run = _lost_run(
        tree["pudong"], sent_ago=2 * BOUND, status=S.RUNNING, attempts=1, claimed_until=now + dt.timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert runs.report_runs_redispatch(now=now)["redispatched"] == 0  # still leased: the worker may be alive
        later = now + dt.timedelta(minutes=6)
        assert runs.report_runs_redispatch(now=later)["redispatched"] == 1
    assert len(sent) == 1
    # The third interrupted build: the run is failed with a message saying what to do.
    ReportRun.objects.filter(pk=run.pk).update(attempts=3, claimed_until=later, dispatched_at=later - 2 * BOUND)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert runs.report_runs_redispatch(now=later + dt.timedelta(minutes=1)) == {"redispatched": 0, "given_up": 1}
    assert sent == []
    run.refresh_from_db()
    assert run.status == S.FAILED and "3 次中断" in run.message and "重新生成" in run.message
    assert run.claimed_until is None


def test_finished_runs_are_never_resent(tree, django_capture_on_commit_callbacks):
    for status in (S.SUCCEEDED, S.FAILED):
        _lost_run(tree["pudong"], sent_ago=3 * BOUND, status=status).delete()
        _lost_run(tree["pudong"], sent_ago=3 * BOUND, status=status)
        with django_capture_on_commit_callbacks(execute=False) as sent:
            assert runs.report_runs_redispatch()["redispatched"] == 0
        assert sent == []
        ReportRun.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_send_a_run_once(postgres_only):
    """Four sweeps at the same moment on their own connections: one claim wins, one build runs."""
    from tests.conftest import make_tree

    tree = make_tree()
    run = _lost_run(tree["lujiazui"], sent_ago=BOUND + dt.timedelta(minutes=1))
    now = timezone.now()
    results = at_once(lambda: runs.report_runs_redispatch(now=now)["redispatched"])
    assert sorted(results) == [0, 0, 0, 1]
    run.refresh_from_db()
    assert run.redispatches == 1 and run.status == S.SUCCEEDED and run.attempts == 1
    assert AuditEvent.objects.filter(action="report.generated").count() == 1


def test_the_operations_view_lists_resent_and_waiting_runs(tree, django_capture_on_commit_callbacks):
    resent = _lost_run(tree["pudong"], sent_ago=BOUND + dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=False):
        runs.report_runs_redispatch()
    waiting = _lost_run(tree["huangpu"], sent_ago=BOUND + dt.timedelta(minutes=2))
    fresh = _lost_run(tree["lujiazui"], sent_ago=dt.timedelta(minutes=1))
    assert {r.pk for r in runs.report_runs_lost()} == {resent.pk, waiting.pk}
    admin = UserFactory(username="ops-admin", is_superuser=True)
    c = Client()
    c.force_login(admin)
    body = c.get(reverse("operations")).content.decode()
    section = body[body.index('id="lost-report-runs"') :]
    assert "浦东新区总工会" in section and "黄浦区总工会" in section
    assert reverse("report-run-detail", args=[fresh.pk]) not in section
