"""Every heavy read the portal marks (dashboards, statistics, report builds, exports, big lists)
reaches the replica alias when one is healthy, and the primary when it is not.

The replica alias here is a second connection to the test database (what the settings do
in tests: TEST MIRROR); each test asserts which connection ran which tables' queries. The
real streaming replica (lag, a stopped standby) is in test_replica.py.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import replicas
from members.models import Member
from reports import runs
from reports.models import ReportRun
from reports.periods import month_period
from reports.summaries import statistics_refresh
from tests.factories import UserFactory, make_member, nth_name

ALIAS = "replica1"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def replica(settings, monkeypatch):
    """A healthy replica alias (toggle with state["healthy"]), the router and the pin middleware."""
    # Made here, not declared in settings: a connection the test case did not list would be
    # refused, one made at run time is allowed (and the rest of the suite never sees it).
    default = connections["default"]
    setattr(connections._connections, ALIAS, type(default)({**default.settings_dict}, alias=ALIAS))
    state = {"healthy": True}
    monkeypatch.setattr(replicas, "replica_aliases", lambda: [ALIAS])
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: state["healthy"])
    settings.DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(middleware.index("django.contrib.sessions.middleware.SessionMiddleware") + 1, _MW)
    settings.MIDDLEWARE = middleware
    yield state
    connections[ALIAS].close()
    del connections[ALIAS]


_MW = "core.replicas.ReadYourWritesMiddleware"


def _tables(queries) -> set[str]:
    return {t for q in queries for t in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?', q["sql"], flags=re.I)}


class Seen:
    """The tables each connection read while the block ran."""

    def __enter__(self):
        self._default = CaptureQueriesContext(connections["default"])
        self._replica = CaptureQueriesContext(connections[ALIAS])
        self._default.__enter__()
        self._replica.__enter__()
        return self

    def __exit__(self, *exc):
        self._replica.__exit__(*exc)
        self._default.__exit__(*exc)
        self.primary = _tables(self._default.captured_queries)
        self.primary_sql = [q["sql"] for q in self._default.captured_queries]
        self.replica = _tables(self._replica.captured_queries)
        return False


def fresh(fn):
    """Run fn as a new request or task would: no pin, no heavy mark from the test's own writes
    (a copy of the context, so that the same connections serve it)."""

    def run():
        replicas.reset()
        replicas._heavy.set(False)
        return fn()

    return contextvars.copy_context().run(run)


@pytest.fixture
def roll(tree, owner):
    admin = UserFactory(username="heavy-admin", is_superuser=True)
    start = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    for i in range(3):
        make_member(tree["pd_union"], actor=admin, name=nth_name("名册", i), joined_on=start - dt.timedelta(days=40))
    statistics_refresh()  # else the dashboard asks for a refresh, a writer's read (on the primary)
    return {"admin": admin, "month": start}


def _get(user, url, **headers):
    client = Client()
    client.force_login(user)

    def get():
        response = client.get(url, **headers)
        if response.streaming:  # a csv export is read while it streams, in the request's context
            response.body = b"".join(response.streaming_content)
        return response

    return fresh(get)


PAGES = [
    # (url, a table the heavy read must take from the replica)
    ("/members/", "members_member"),
    ("/api/v1/members/", "members_member"),
    ("/members/export/?format=csv", "members_member"),
    ("/api/v1/members/export/?export_format=csv", "members_member"),
    ("/aid/", "assistance_hardshipfile"),
    ("/api/v1/aid/files/", "assistance_hardshipfile"),
    ("/disputes/queue/", "disputes_case"),
    ("/disputes/overview/", "disputes_case"),
    ("/api/v1/dispute-cases/", "disputes_case"),
    ("/api/v1/dispute-overview/", "disputes_bodysummary"),
    ("/api/v1/dispute-risks/", "disputes_enterpriserisk"),
    ("/projects/", "projects_project"),
    ("/projects/demands/", "projects_demand"),
    ("/api/v1/projects/", "projects_project"),
    ("/api/v1/projects/demands/", "projects_demand"),
    ("/reports/dashboard/", "reports_monthlyfigures"),
    ("/api/v1/statistics/", "reports_monthlyfigures"),
]


@pytest.mark.parametrize("url,table", PAGES)
def test_a_heavy_page_reads_from_a_healthy_replica_and_falls_back(replica, roll, owner, url, table):
    with Seen() as seen:
        response = _get(owner, url, HTTP_ACCEPT="application/json" if "/api/" in url else "text/html")
    assert response.status_code == 200, (url, response.content[:300])
    assert any(t.startswith(table) for t in seen.replica), (url, seen.replica)
    assert not any(t.startswith(table) for t in seen.primary), (url, seen.primary)
    # Who the caller is and what they may see is always read from the primary.
    assert not seen.replica & {"organizations_user", "organizations_roleassignment", "django_session"}
    assert "organizations_roleassignment" in seen.primary

    replica["healthy"] = False  # down or lagging: the primary answers, the same page
    with Seen() as down:
        again = _get(owner, url, HTTP_ACCEPT="application/json" if "/api/" in url else "text/html")
    assert again.status_code == 200
    assert not down.replica
    assert any(t.startswith(table) for t in down.primary)


def test_the_member_list_shows_the_same_rows_from_the_replica(replica, roll, owner):
    names = set(Member.objects.values_list("name", flat=True))
    body = _get(owner, "/api/v1/members/", HTTP_ACCEPT="application/json").json()
    assert {row["name"] for row in body["results"]} == names
    replica["healthy"] = False
    assert _get(owner, "/api/v1/members/", HTTP_ACCEPT="application/json").json()["results"] == body["results"]


def test_a_browser_that_just_wrote_reads_the_heavy_page_from_the_primary(replica, roll, owner):
    client = Client()
    client.force_login(owner)
    cookie = fresh(lambda: client.post("/members/", {})).cookies.get(replicas.PIN_COOKIE)
    assert cookie is not None  # any unsafe request pins, whatever its answer
    with Seen() as seen:
        assert fresh(lambda: client.get("/members/")).status_code == 200
    assert not seen.replica
    assert "members_member" in seen.primary


def test_ordinary_pages_stay_on_the_primary(replica, roll, owner):
    member = Member.objects.first()
    with Seen() as seen:
        assert _get(owner, f"/members/{member.pk}/").status_code == 200
    assert not seen.replica


def test_a_report_build_reads_its_figures_from_the_replica_and_writes_on_the_primary(replica, roll, tree, monkeypatch):
    period = month_period(roll["month"])
    run = ReportRun.objects.create(
        organization=tree["pudong"],
        kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        requested_by=roll["admin"],
    )
    monkeypatch.setattr(runs, "summaries_cover", lambda period: True)  # fresh: nothing to refresh first
    with Seen() as seen:
        built = fresh(lambda: runs.report_run_execute(run.pk, run.generation))
    assert built is not None and built.status == ReportRun.Status.SUCCEEDED
    # The claim and the progress (writes) pinned the task, yet the figures came from the replica.
    assert "members_membership" in seen.replica or "reports_monthlyfigures" in seen.replica, seen.replica
    assert "reports_reportrun" in seen.primary
    assert "reports_reportrun" not in seen.replica


def test_a_report_build_that_refreshed_the_summary_reads_it_from_the_primary(replica, roll, tree, monkeypatch):
    period = month_period(roll["month"])
    monkeypatch.setattr(runs, "summaries_cover", lambda period: False)
    with Seen() as seen:
        fresh(lambda: runs.report_files_build(tree["city"], period))
    assert not seen.replica  # its own refresh may not have reached the replica yet
    assert "reports_monthlyfigures" in seen.primary


def test_each_worker_task_starts_unpinned_but_an_eager_one_keeps_its_callers_pin():
    from unionportal.celery import _fresh_replica_context

    def after_a_write(eager: bool) -> bool:
        replicas.note_write()
        _fresh_replica_context(task=SimpleNamespace(request=SimpleNamespace(is_eager=eager)))
        return replicas.pinned()

    assert fresh(lambda: after_a_write(False)) is False
    assert fresh(lambda: after_a_write(True)) is True
