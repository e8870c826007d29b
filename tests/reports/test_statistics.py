"""Statistics of a subtree: the dashboard's figures against direct counts on the demo city, scope, periods, freshness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assistance.models import ACTIVE_STATUSES, Budget, HardshipFile, LedgerEntry, LedgerKind
from disputes.models import Case
from members.models import Membership
from organizations.models import Organization, RoleAssignment, User
from projects.models import BudgetLine, Project, Rating
from reports.models import MonthlyFigures
from reports.statistics import parse_period, subtree_figures
from reports.summaries import month_add, statistics_refresh
from tests.factories import UserFactory, make_member, nth_name
from tests.querycount import count_queries

MS = Membership.Status


@pytest.fixture
def demo_city(db, settings):
    settings.DEMO_MEMBER_FRACTION = 0.1
    call_command("seed_demo", verbosity=0)
    statistics_refresh()
    return Organization.objects.get(depth=1)


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def direct(org: Organization, start: dt.date, end: dt.date) -> dict:
    """The period's figures counted straight from the domain tables (no summary, no shared code)."""
    path = org.path
    after = _local_start(end + dt.timedelta(days=1))
    since = _local_start(start)
    ms = Membership.objects.filter(org_path__startswith=path).exclude(status=MS.APPLIED)
    alive = ms.filter(joined_on__lte=end).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=end))
    files = HardshipFile.objects.filter(org_path__startswith=path)
    cases = Case.objects.filter(org_path__startswith=path, track=Case.Track.MEDIATION)
    closed = list(cases.filter(closed_on__gte=start, closed_on__lte=end).values_list("received_on", "closed_on"))
    projects = Project.objects.filter(org_path__startswith=path, year=end.year)
    ratings = Rating.objects.filter(org_path__startswith=path, created_at__gte=since, created_at__lt=after)
    lines = BudgetLine.objects.filter(project__in=projects).aggregate(p=Sum("planned"), s=Sum("spent"))
    return {
        "total": alive.count(),
        "new": ms.filter(joined_on__gte=start, joined_on__lte=end).count(),
        "left": ms.filter(ended_on__gte=start, ended_on__lte=end).exclude(status=MS.TRANSFERRED_OUT).count(),
        "forms": dict(alive.values_list("member__employment_form").annotate(n=Count("id"))),
        "migrant": alive.filter(member__is_migrant_worker=True).count(),
        "new_files": files.filter(created_at__gte=since, created_at__lt=after).count(),
        "emergency_files": files.filter(created_at__gte=since, created_at__lt=after, is_emergency=True).count(),
        "tiers": dict(
            files.filter(created_at__gte=since, created_at__lt=after)
            .exclude(tier="")
            .values_list("tier")
            .annotate(n=Count("id"))
        ),
        "on_register": files.filter(created_at__lt=after, status__in=ACTIVE_STATUSES).count(),
        "paid": LedgerEntry.objects.filter(
            org_path__startswith=path, kind=LedgerKind.PAID, at__gte=since, at__lt=after
        ).aggregate(s=Sum("amount"))["s"]
        or Decimal("0"),
        "budget": Budget.objects.filter(org_path__startswith=path, year=end.year).aggregate(s=Sum("amount"))["s"]
        or Decimal("0"),
        "received": cases.filter(received_on__gte=start, received_on__lte=end).count(),
        "kinds": dict(
            cases.filter(received_on__gte=start, received_on__lte=end).values_list("kind").annotate(n=Count("id"))
        ),
        "closed": len(closed),
        "on_time": sum(1 for r, c in closed if (c - r).days <= 15),
        "projects": projects.count(),
        "stages": dict(projects.values_list("stage").annotate(n=Count("id"))),
        "planned": lines["p"] or Decimal("0"),
        "spent": lines["s"] or Decimal("0"),
        "ratings": ratings.count(),
    }


def as_counts(rows) -> dict:
    return {value: n for value, _label, n in rows}


def check(figures, want: dict) -> None:
    m, a, d, p = figures.members, figures.aid, figures.disputes, figures.projects
    got = {
        "total": m.total,
        "new": m.new,
        "left": m.left,
        "forms": as_counts(m.by_employment_form),
        "migrant": m.migrant,
        "new_files": a.new_files,
        "emergency_files": a.emergency_files,
        "tiers": {k: v for k, v in as_counts(a.by_tier).items() if k != "pending"},
        "on_register": a.on_register,
        "paid": a.paid,
        "budget": a.budget,
        "received": d.received,
        "kinds": as_counts(d.by_kind),
        "closed": d.closed,
        "on_time": d.on_time,
        "projects": p.total,
        "stages": as_counts(p.by_stage),
        "planned": p.planned,
        "spent": p.spent,
        "ratings": p.ratings,
    }
    assert got == want


def test_it_gives_the_demo_citys_figures_as_direct_counts_do(demo_city):
    city = demo_city
    admin = User.objects.get(username="city")
    pudong = Organization.objects.get(region_code="310115")
    street = Organization.objects.filter(path__startswith=pudong.path, depth=3).order_by("path").first()
    # Deeper than the street: a grassroots union with members, and an organisation with children.
    union = (
        Organization.objects.filter(path__startswith=pudong.path, depth__gte=4, kind="grassroots")
        .filter(pk__in=Membership.objects.values("union_id"))
        .order_by("path")
        .first()
    )
    deeper = Organization.objects.filter(depth__gte=4, numchild__gt=0).order_by("path").first()
    today = timezone.localdate()
    year = parse_period(str(today.year), today=today)
    month = parse_period(today, today=today)
    last_month = parse_period(month_add(today.replace(day=1), -1), today=today)
    for org in (city, pudong, street, union, *([deeper] if deeper else [])):
        for period in (year, month, last_month):
            figures = subtree_figures(user=admin, organization=org, period=period, children=False, trend=False)
            check(figures, direct(org, period.start, period.end))
    # The demo city has something in every section this year (else this test proves little).
    want = direct(city, year.start, year.end)
    assert want["total"] and want["new"] and want["new_files"] and want["received"] and want["projects"]
    assert want["paid"] and want["closed"] and want["planned"]


def test_the_children_add_up_to_the_parent_and_the_previous_period_is_the_month_before(demo_city):
    admin = User.objects.get(username="city")
    figures = subtree_figures(user=admin, organization=demo_city, period=timezone.localdate())
    assert figures.source == "summary"
    assert figures.children and {c.organization.depth for c in figures.children} == {2}
    own = Membership.objects.filter(org_path=demo_city.path, status=MS.ACTIVE).count()
    assert sum(c.members.total for c in figures.children) + own == figures.members.total
    assert sum(c.disputes.received for c in figures.children) <= figures.disputes.received
    prev = figures.previous
    assert prev.period.start == month_add(figures.period.start, -1)
    check(prev, direct(demo_city, prev.period.start, prev.period.end))
    assert len(figures.trend) == 12
    assert figures.trend[-1].members == figures.members.total
    assert figures.trend[-2].members == prev.members.total


def test_a_streets_children_are_read_from_summary_rows_and_match_direct_counts(demo_city):
    admin = User.objects.get(username="city")
    pudong = Organization.objects.get(region_code="310115")
    street = max(
        Organization.objects.filter(path__startswith=pudong.path, depth=3, numchild__gt=0),
        key=lambda o: Membership.objects.filter(org_path__startswith=o.path).count(),
    )
    today = timezone.localdate()
    for period in (parse_period(today, today=today), parse_period(str(today.year), today=today)):
        figures = subtree_figures(user=admin, organization=street, period=period)
        assert figures.source == "summary"
        assert len(figures.children) == street.get_children().filter(status="active").count() > 1
        assert any(c.members.total for c in figures.children)
        for child in figures.children:
            check(child, direct(child.organization, period.start, period.end))
        check(figures, direct(street, period.start, period.end))
    # The street's read is one query for the rows, whatever the number of children.
    with CaptureQueriesContext(connection) as ctx:
        subtree_figures(user=admin, organization=street, period=today)
    assert sum("reports_monthlyfigures" in q["sql"] for q in ctx.captured_queries) == 1


def test_a_change_shows_after_the_next_refresh_and_the_page_says_how_fresh(demo_city, client):
    admin = User.objects.get(username="city")
    pudong = Organization.objects.get(region_code="310115")
    union = Organization.objects.filter(path__startswith=pudong.path, kind="grassroots").order_by("path").first()
    before = subtree_figures(user=admin, organization=pudong, period=timezone.localdate()).members.total
    make_member(union, actor=UserFactory(username="stats-admin", is_superuser=True), name="新会员")
    assert subtree_figures(user=admin, organization=pudong, period=timezone.localdate()).members.total == before
    statistics_refresh()
    figures = subtree_figures(user=admin, organization=pudong, period=timezone.localdate())
    assert figures.members.total == before + 1
    # The live member count (the coverage summary's, kept by its own marks) for the current period only.
    from organizations.models import CoverageSummary

    assert figures.coverage.members_now == CoverageSummary.objects.get(organization=pudong).members
    assert figures.previous.coverage.members_now is None
    client.force_login(admin)
    response = client.get(f"/reports/dashboard/{pudong.pk}/")
    assert response.status_code == 200
    stamp = timezone.localtime(figures.as_of).strftime("%Y-%m-%d %H:%M")
    assert f"数据统计时间 {stamp}" in response.content.decode()


# --- scope, periods, errors (the small tree of tests/conftest.py) ------------------------------------


@pytest.fixture
def small(tree):
    admin = UserFactory(username="stats-admin", is_superuser=True)
    for union, n in ((tree["pd_union"], 3), (tree["hp_union"], 2)):
        for i in range(n):
            make_member(union, actor=admin, name=nth_name("会员", i))
    statistics_refresh()
    return tree


def test_joins_and_leavings_of_past_months_count_in_their_months(small, owner):
    from members.services import membership_leave

    today = timezone.localdate()
    last = parse_period(month_add(today.replace(day=1), -1), today=today)
    early = month_add(last.start, -3)
    old = [make_member(small["pd_union"], actor=owner, name=nth_name("老会员", i), joined_on=early) for i in range(3)]
    make_member(small["pd_union"], actor=owner, name="骑手", joined_on=last.start, employment_form="rider")
    membership_leave(actor=owner, membership=old[0], on=last.start + dt.timedelta(days=3))
    statistics_refresh()
    for org in ("pudong", "lujiazui", "city"):
        for period in (last, parse_period(today, today=today), parse_period(str(today.year), today=today)):
            figures = subtree_figures(user=owner, organization=small[org], period=period, children=False, trend=False)
            want = direct(small[org], period.start, period.end)
            check(figures, want)
    figures = subtree_figures(user=owner, organization=small["pudong"], period=last)
    assert (figures.members.new, figures.members.left) == (1, 1)
    assert figures.previous.members.total == 3
    assert figures.members.total == 3  # three old, one left, one rider joined


def _head(username, org):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role="clerk")
    return user


def test_another_districts_head_gets_404_and_a_street_head_sees_only_their_street(small, client):
    pudong_head = _head("pd-head", small["pudong"])
    street_head = _head("ljz-head", small["lujiazui"])
    with pytest.raises(Http404):
        subtree_figures(user=pudong_head, organization=small["huangpu"], period=timezone.localdate())
    for org in ("city", "pudong", "huangpu", "nanjing"):
        with pytest.raises(Http404):
            subtree_figures(user=street_head, organization=small[org], period=timezone.localdate())
    figures = subtree_figures(user=street_head, organization=small["lujiazui"], period=timezone.localdate())
    assert figures.members.total == 3
    assert figures.source == "summary"
    assert [c.organization for c in figures.children] == [small["pd_union"]]
    assert figures.children[0].members.total == 3

    client.force_login(street_head)
    page = client.get("/reports/dashboard/")
    assert page.status_code == 200
    assert page.context["org"] == small["lujiazui"]
    assert "黄浦" not in page.content.decode()
    assert client.get(f"/reports/dashboard/{small['pudong'].pk}/").status_code == 404
    assert client.get(f"/api/v1/statistics/{small['huangpu'].pk}/").status_code == 404
    api = client.get("/api/v1/statistics/")
    assert api.status_code == 200
    assert api.json()["organization"]["id"] == small["lujiazui"].pk
    assert api.json()["members"]["total"] == 3
    client.force_login(pudong_head)
    assert client.get(f"/reports/dashboard/{small['huangpu'].pk}/").status_code == 404
    assert client.get(f"/api/v1/statistics/{small['pudong'].pk}/").json()["members"]["total"] == 3


def test_a_role_without_report_view_is_refused_inside_its_reach(small, client):
    mediator = UserFactory(username="stats-mediator")
    RoleAssignment.objects.create(user=mediator, organization=small["pudong"], role="mediator")
    with pytest.raises(PermissionDenied):
        subtree_figures(user=mediator, organization=small["pudong"], period=timezone.localdate())
    client.force_login(mediator)
    assert client.get(f"/api/v1/statistics/{small['pudong'].pk}/").status_code == 403


def test_a_future_or_malformed_period_is_refused_with_a_clear_message(small, client, owner):
    today = timezone.localdate()
    next_month = month_add(today.replace(day=1), 1)
    cases = {
        f"{next_month:%Y-%m}": "不能晚于本月",
        str(today.year + 1): "不能晚于本年",
        "2026-13": "1 到 12",
        "五月": "2026-05",
        "1900": "1950",
    }
    for value, words in cases.items():
        with pytest.raises(ValidationError) as exc:
            subtree_figures(user=owner, organization=small["city"], period=value)
        assert words in exc.value.message_dict["period"][0]
    client.force_login(owner)
    response = client.get(f"/api/v1/statistics/{small['city'].pk}/?period={next_month:%Y-%m}")
    assert response.status_code == 400
    assert "不能晚于本月" in response.json()["error"]["message"] + str(response.json()["error"].get("fields"))
    page = client.get(f"/reports/dashboard/{small['city'].pk}/?period={next_month:%Y-%m}")
    assert page.status_code == 400
    assert "统计期间不能晚于本月" in page.content.decode()
    # Older than the summary keeps, for a federation counted from the summary: said so.
    with pytest.raises(ValidationError) as exc:
        subtree_figures(user=owner, organization=small["city"], period=str(today.year - 5))
    assert "统计汇总保留" in exc.value.message_dict["period"][0]


def test_the_dashboard_reads_a_bounded_number_of_queries(small, client, owner):
    client.force_login(owner)
    url = f"/reports/dashboard/{small['city'].pk}/"
    status, few, _sql = count_queries(client, url)
    assert status == 200
    # More children with figures of their own: the same number of queries.
    from tests.factories import add_org

    for i in range(4):
        district = add_org(small["city"], name=f"测试{i}区总工会", kind="district")
        union = add_org(district, name=f"测试{i}工会", kind="grassroots")
        make_member(union, actor=owner, name=nth_name("新", i))
    statistics_refresh()
    status, many, sql = count_queries(client, url)
    assert status == 200
    assert many <= few, "\n".join(sql)
    assert many <= 20
    assert MonthlyFigures.objects.filter(organization=small["city"]).exists()
