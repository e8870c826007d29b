"""The monthly report: right figures for the subtree and the month, scoped, audited, as a spreadsheet."""

import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from activity.models import AuditEvent
from members.services import membership_leave
from organizations.models import OrgKind, RoleAssignment
from organizations.services import coverage_refresh
from reports.services import monthly_report_build
from tests.factories import EnterpriseFactory, UserFactory, add_org, make_member, nth_name


def _last_month() -> tuple[dt.date, dt.date]:
    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    return last.replace(day=1), last


@pytest.fixture
def roll(tree, enterprises):
    """Pudong: 3 members from before last month (one leaves during it), 2 join during it, 1 joins this month."""
    admin = UserFactory(username="report-admin", is_superuser=True)
    start, _end = _last_month()
    before = start - dt.timedelta(days=40)
    old = [make_member(tree["pd_union"], actor=admin, name=nth_name("老会员", i), joined_on=before) for i in range(3)]
    make_member(
        tree["pd_union"], actor=admin, name="骑手甲", joined_on=start + dt.timedelta(days=2), employment_form="rider"
    )
    make_member(tree["pd_union"], actor=admin, name="快递乙", joined_on=start, employment_form="courier")
    make_member(tree["pd_union"], actor=admin, name="本月丙", joined_on=timezone.localdate())
    membership_leave(actor=admin, membership=old[0], on=start + dt.timedelta(days=10))
    make_member(tree["lujiazui"], actor=admin, name="灵活丁", joined_on=before, employment_form="flexible")
    make_member(tree["hp_union"], actor=admin, name="黄浦戊", joined_on=before)
    coverage_refresh()
    return {"admin": admin, "month": start}


def test_it_counts_the_districts_members_and_their_growth_in_the_month(tree, roll, clerk):
    report = monthly_report_build(actor=clerk, organization=tree["pudong"], month=roll["month"])
    f = report.figures()
    # at the start: 3 old in the union + 1 at the street; the leaver still counts on day one
    assert f["members_at_start"] == 4
    assert f["joined"] == 2
    assert f["left"] == 1
    assert f["transferred_out"] == 0
    assert f["members_at_end"] == 5
    assert f["growth"] == 1
    # the summary is of today: it also has this month's joiner and not the leaver
    assert f["members_now"] == 6


def test_it_breaks_the_report_down_by_child_and_employment_form(tree, roll, clerk):
    report = monthly_report_build(actor=clerk, organization=tree["pudong"], month=roll["month"])
    (street,) = report.units
    assert street.organization == tree["lujiazui"]
    assert street.flow.at_end == 5 and street.flow.joined == 2
    forms = {value: (active, joined) for value, _label, active, joined in report.by_form}
    assert forms["rider"] == (1, 1)
    assert forms["courier"] == (1, 1)
    assert forms["flexible"] == (1, 0)
    assert forms["full_time"] == (3, 0)  # two old members and this month's joiner


def test_it_shows_the_members_an_organisation_holds_itself_as_its_own_row(tree, roll, clerk):
    report = monthly_report_build(actor=clerk, organization=tree["lujiazui"], month=roll["month"])
    own = [u for u in report.units if u.own]
    assert len(own) == 1 and own[0].organization == tree["lujiazui"] and own[0].flow.at_end == 1
    union = next(u for u in report.units if not u.own)
    assert union.organization == tree["pd_union"] and union.flow.at_end == 4


def test_it_takes_rates_from_the_coverage_summary(tree, roll, enterprises, clerk):
    EnterpriseFactory(name="浦东无工会企业", supervisor=tree["lujiazui"], union=None, employees=80)
    coverage_refresh()
    f = monthly_report_build(actor=clerk, organization=tree["pudong"], month=roll["month"]).figures()
    assert f["enterprises"] == 2 and f["unionized_enterprises"] == 1
    assert f["formation_rate"] == pytest.approx(0.5)
    assert f["membership_rate"] == pytest.approx(6 / 200)
    (street,) = f["units"]
    assert street["formation_rate"] == pytest.approx(0.5)


def test_the_city_report_covers_every_district(tree, roll, owner):
    report = monthly_report_build(actor=owner, organization=tree["city"], month=roll["month"])
    assert report.total.at_end == 6
    names = {u.organization.name: u.flow.at_end for u in report.units}
    assert names == {"浦东新区总工会": 5, "黄浦区总工会": 1}


def test_it_writes_a_chinese_spreadsheet(tree, roll, clerk):
    report = monthly_report_build(actor=clerk, organization=tree["pudong"], month=roll["month"])
    assert report.filename.endswith(f"{roll['month']:%Y-%m}.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(report.xlsx))
    assert wb.sheetnames == ["概况", "下级组织", "就业形态"]
    overview = {row[0]: row[1] for row in wb["概况"].iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert overview["月末会员数"] == 5 and overview["本月净增长"] == 1
    units = list(wb["下级组织"].iter_rows(values_only=True))
    assert units[0][0] == "组织" and units[1][0] == "陆家嘴街道总工会" and units[1][3] == 5
    forms = {row[0]: row[1] for row in wb["就业形态"].iter_rows(min_row=2, values_only=True)}
    assert forms["外卖骑手"] == 1


def test_it_records_who_built_the_report(tree, roll, clerk):
    monthly_report_build(actor=clerk, organization=tree["pudong"], month=f"{roll['month']:%Y-%m}")
    event = AuditEvent.objects.get(action="report.monthly_built")
    assert event.actor == clerk and event.org_path == tree["pudong"].path
    assert event.data["month"] == f"{roll['month']:%Y-%m}"


# --- who may build it -------------------------------------------------------------------


def test_the_owner_and_the_in_scope_clerk_may_build_the_district_report(tree, roll, owner, clerk):
    for actor in (owner, clerk):
        assert monthly_report_build(actor=actor, organization=tree["pudong"], month=roll["month"]).total.at_end == 5


@pytest.mark.parametrize("who", ["outsider", "worker", "anonymous"])
def test_it_answers_404_outside_the_reach(tree, roll, outsider, worker, who):
    actor = {"outsider": outsider, "worker": worker, "anonymous": AnonymousUser()}[who]
    with pytest.raises(Http404):
        monthly_report_build(actor=actor, organization=tree["pudong"], month=roll["month"])
    assert not AuditEvent.objects.filter(action="report.monthly_built").exists()


def test_a_clerk_cannot_report_on_the_city_above_them(tree, roll, clerk):
    with pytest.raises(Http404):
        monthly_report_build(actor=clerk, organization=tree["city"], month=roll["month"])


def test_a_role_without_the_report_capability_gets_403(tree, roll):
    mediator = UserFactory(username="pd_mediator")
    RoleAssignment.objects.create(user=mediator, organization=tree["pudong"], role="mediator")
    with pytest.raises(PermissionDenied):
        monthly_report_build(actor=mediator, organization=tree["pudong"], month=roll["month"])


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2024-13", "2024/05", "五月", "", None, "1949-12"])
def test_it_refuses_a_bad_month_with_a_message_on_the_field(tree, clerk, month):
    with pytest.raises(ValidationError) as exc:
        monthly_report_build(actor=clerk, organization=tree["pudong"], month=month)
    assert "月份" in exc.value.message_dict["month"][0]


def test_it_refuses_a_month_in_the_future(tree, clerk):
    next_month = (timezone.localdate().replace(day=28) + dt.timedelta(days=5)).strftime("%Y-%m")
    with pytest.raises(ValidationError) as exc:
        monthly_report_build(actor=clerk, organization=tree["pudong"], month=next_month)
    assert "不能晚于本月" in exc.value.message_dict["month"][0]


def test_the_current_month_counts_up_to_today(tree, roll, clerk):
    report = monthly_report_build(actor=clerk, organization=tree["pudong"], month=timezone.localdate())
    assert report.end == timezone.localdate()
    assert report.total.joined == 1 and report.total.at_end == 6


# --- cost -----------------------------------------------------------------------------------


def test_its_number_of_queries_does_not_grow_with_the_number_of_children(
    tree, roll, owner, django_assert_max_num_queries
):
    def build():
        return monthly_report_build(actor=owner, organization=tree["city"], month=roll["month"])

    build()
    with django_assert_max_num_queries(12) as few:
        build()
    for i in range(5):
        district = add_org(tree["city"], name=f"新区{i}总工会", kind=OrgKind.DISTRICT, region_code=f"3101{30 + i}")
        union = add_org(
            add_org(district, name=f"新区{i}街道总工会", kind=OrgKind.STREET),
            name=f"新区{i}企业工会",
            kind=OrgKind.GRASSROOTS,
        )
        make_member(union, actor=roll["admin"], name=nth_name("新区会员", i), joined_on=roll["month"])
    coverage_refresh()
    with django_assert_max_num_queries(len(few.captured_queries)):
        report = build()
    assert len(report.units) == 7
