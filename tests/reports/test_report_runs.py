"""Report runs: the workbook and PDF of a subtree and period, idempotent, rerun atomically, scoped, audited."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from core.attachments.storage import private_storage
from members.models import Membership
from members.services import membership_leave
from organizations.services import coverage_refresh
from reports import files, runs
from reports.models import ReportRun
from reports.periods import month_period, parse_period
from tests.factories import UserFactory, make_member, nth_name


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def roll(tree, enterprises):
    admin = UserFactory(username="report-admin", is_superuser=True)
    start = _last_month()
    before = start - dt.timedelta(days=40)
    old = [make_member(tree["pd_union"], actor=admin, name=nth_name("老会员", i), joined_on=before) for i in range(3)]
    make_member(
        tree["pd_union"], actor=admin, name="骑手甲", joined_on=start + dt.timedelta(days=2), employment_form="rider"
    )
    make_member(tree["pd_union"], actor=admin, name="本月丙", joined_on=timezone.localdate())
    membership_leave(actor=admin, membership=old[0], on=start + dt.timedelta(days=10))
    make_member(tree["hp_union"], actor=admin, name="黄浦戊", joined_on=before)
    coverage_refresh()
    return {"admin": admin, "month": start}


def _request(actor, org, kind="monthly", period=None, capture=None):
    period = period or f"{_last_month():%Y-%m}"
    with capture(execute=True):
        run = runs.report_request(actor=actor, organization=org, kind=kind, period=period)
    run.refresh_from_db()
    return run


def _read(path: str) -> bytes:
    with private_storage().open(path, "rb") as fh:
        return fh.read()


def _headline(workbook, label):
    for row in workbook["概况"].iter_rows(values_only=True):
        if row and row[0] == label:
            return row[1]
    raise AssertionError(f"{label} not in the overview")


def _headline_prev(workbook, label):
    for row in workbook["概况"].iter_rows(values_only=True):
        if row and row[0] == label:
            return row[2]
    raise AssertionError(label)


def test_it_builds_a_workbook_and_a_pdf_whose_figures_match_direct_counts(
    tree, roll, clerk, django_capture_on_commit_callbacks
):
    run = _request(clerk, tree["pudong"], capture=django_capture_on_commit_callbacks)
    assert run.status == ReportRun.Status.SUCCEEDED, run.message
    assert run.progress == 100
    wb = openpyxl.load_workbook(io.BytesIO(_read(run.xlsx_path)))
    assert wb.sheetnames == ["概况", "会员", "下级组织", "困难帮扶", "劳动争议调解", "服务项目", "近12个月趋势"]
    assert wb["下级组织"].freeze_panes == "A2"
    assert wb["下级组织"]["A1"].font.bold
    p = month_period(roll["month"])
    in_pd = Membership.objects.filter(org_path__startswith=tree["pudong"].path).exclude(status="applied")
    at_end = sum(1 for m in in_pd if m.joined_on <= p.end and (m.ended_on is None or m.ended_on > p.end))
    joined = in_pd.filter(joined_on__gte=p.start, joined_on__lte=p.end).count()
    assert _headline(wb, "期末会员数") == at_end == 3
    assert _headline(wb, "新入会（含转入）") == joined == 1
    assert _headline(wb, "退会（含退休、去世）") == 1
    # the district's figures come from the statistics summary, refreshed for the closed month
    assert "%" not in str(_headline(wb, "建会率"))
    # 黄浦 is not in 浦东's report
    names = [r[0] for r in wb["下级组织"].iter_rows(values_only=True)]
    assert "陆家嘴街道总工会" in names and not any("黄浦" in str(n) for n in names)
    pdf = _read(run.pdf_path)
    assert pdf.startswith(b"%PDF")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "浦东新区总工会" in text and "期末会员数" in text
    assert run.summary["headlines"][0]["value"] == at_end
    # the previous month's figures sit beside: 3 old members at its end
    assert _headline_prev(wb, "期末会员数") == 3


def test_asking_twice_returns_the_same_run_and_builds_once(
    tree, roll, clerk, owner, django_capture_on_commit_callbacks
):
    first = _request(clerk, tree["pudong"], capture=django_capture_on_commit_callbacks)
    second = _request(owner, tree["pudong"], capture=django_capture_on_commit_callbacks)
    assert first.pk == second.pk and first.xlsx_path == second.xlsx_path
    assert ReportRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.generated").count() == 1


def test_a_rerun_swaps_in_new_files_and_removes_the_old(tree, roll, clerk, django_capture_on_commit_callbacks):
    run = _request(clerk, tree["pudong"], capture=django_capture_on_commit_callbacks)
    old = (run.xlsx_path, run.pdf_path)
    with django_capture_on_commit_callbacks(execute=True):
        runs.report_rerun(actor=clerk, run=run)
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUCCEEDED and run.generation == 2
    assert (run.xlsx_path, run.pdf_path) != old
    assert not any(private_storage().exists(p) for p in old)
    assert all(private_storage().exists(p) for p in (run.xlsx_path, run.pdf_path))


def test_a_stale_or_duplicate_task_does_nothing(tree, roll, clerk, django_capture_on_commit_callbacks):
    run = _request(clerk, tree["pudong"], capture=django_capture_on_commit_callbacks)
    assert runs.report_run_execute(run.pk, run.generation) is None  # already built
    assert runs.report_run_execute(run.pk, run.generation + 5) is None  # not this generation
    assert AuditEvent.objects.filter(action="report.generated").count() == 1


def test_a_failed_build_keeps_no_file_and_says_what_to_do(
    tree, roll, clerk, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(data):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(files, "pdf", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        runs.report_request(actor=clerk, organization=tree["pudong"], kind="monthly", period=f"{_last_month():%Y-%m}")
    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.FAILED
    assert "磁盘已满" in run.message and "重新生成" in run.message
    assert not run.xlsx_path and not run.pdf_path
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        runs.report_rerun(actor=clerk, run=run)
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("kind", "period", "fragment"),
    [
        ("monthly", "2999-01", "尚未结束"),
        ("monthly", "this-month", "尚未结束"),
        ("monthly", "2026-13", "格式"),
        ("yearly", "this-year", "尚未结束"),
        ("yearly", "26", "格式"),
        ("weekly", "2025", "月报"),
    ],
)
def test_it_refuses_an_unfinished_future_or_malformed_period(kind, period, fragment):
    today = dt.date(2026, 11, 30)
    period = {"this-month": "2026-11", "this-year": "2026"}.get(period, period)
    with pytest.raises(ValidationError) as exc:
        parse_period(kind, period, today=today)
    assert fragment in str(exc.value)


def test_it_accepts_last_month_and_last_year():
    today = dt.date(2026, 1, 1)
    assert parse_period("monthly", "2025-12", today=today).end == dt.date(2025, 12, 31)
    assert parse_period("yearly", "2025", today=today).start == dt.date(2025, 1, 1)


def test_it_refuses_a_period_older_than_the_summary_keeps(tree, clerk):
    with pytest.raises(ValidationError) as exc:
        runs.report_request(actor=clerk, organization=tree["pudong"], kind="monthly", period="2019-05")
    assert "统计汇总保留" in str(exc.value)


def test_it_refuses_an_organisation_outside_reach_or_without_the_right(tree, outsider, worker):
    with pytest.raises(Http404):
        runs.report_request(actor=outsider, organization=tree["pudong"], kind="monthly", period="2025-01")
    mediator = UserFactory(username="m1")
    from organizations.models import RoleAssignment

    RoleAssignment.objects.create(user=mediator, organization=tree["pudong"], role="mediator")
    with pytest.raises(PermissionDenied):
        runs.report_request(actor=mediator, organization=tree["pudong"], kind="monthly", period="2025-01")


def test_the_schedule_makes_every_federations_month_and_on_new_year_the_year_once(
    tree, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = runs.reports_schedule(today=dt.date(2026, 1, 1))
    # city, 2 districts, 2 streets; monthly (2025-12) and yearly (2025)
    assert len(created) == 10
    assert {(r.kind, r.period_start) for r in created} == {
        ("monthly", dt.date(2025, 12, 1)),
        ("yearly", dt.date(2025, 1, 1)),
    }
    assert ReportRun.objects.filter(status=ReportRun.Status.SUCCEEDED).count() == 10
    assert not ReportRun.objects.filter(organization=tree["pd_union"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.reports_schedule(today=dt.date(2026, 1, 1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert len(runs.reports_schedule(today=dt.date(2026, 2, 1))) == 5


def test_a_run_whose_worker_died_is_resumed_after_its_lease(tree, roll, clerk, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - dt.timedelta(hours=2)
    run = ReportRun.objects.create(
        organization=tree["pudong"],
        org_path=tree["pudong"].path,
        kind="monthly",
        period_start=_last_month(),
        period_end=month_period(_last_month()).end,
        status=ReportRun.Status.RUNNING,
        claimed_until=timezone.now() + dt.timedelta(minutes=5),
        attempts=1,
        dispatched_at=long_ago,
    )
    assert runs.report_run_execute(run.pk, run.generation) is None  # still leased to the dead worker
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.report_runs_redispatch()["redispatched"] == 0
    ReportRun.objects.filter(pk=run.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.report_runs_redispatch()["redispatched"] == 1
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUCCEEDED and run.attempts == 2 and run.redispatches == 1


# --- pages -----------------------------------------------------------------------------------


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_pages_request_show_progress_and_download_with_an_audit_entry(
    tree, roll, clerk, django_capture_on_commit_callbacks
):
    c = _client(clerk)
    assert c.get(reverse("report-runs")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(
            reverse("report-runs"),
            {"organization": tree["pudong"].pk, "kind": "monthly", "period": f"{_last_month():%Y-%m}"},
        )
    assert response.status_code == 302
    run = ReportRun.objects.get()
    detail = c.get(reverse("report-run-detail", args=[run.pk]))
    assert detail.status_code == 200 and "下载 Excel 报表" in detail.content.decode()
    fragment = c.get(
        reverse("report-run-detail", args=[run.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="report-progress"
    )
    assert fragment.content.decode().lstrip().startswith('<div id="report-progress"')
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        response = c.get(reverse(f"report-run-{fmt}", args=[run.pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(magic)
        assert response["Cache-Control"] == "no-store, private"
    assert AuditEvent.objects.filter(action="report.downloaded").count() == 2


def test_the_page_explains_a_future_period_with_a_400_not_a_500(tree, clerk):
    response = _client(clerk).post(
        reverse("report-runs"), {"organization": tree["pudong"].pk, "kind": "monthly", "period": "2999-01"}
    )
    assert response.status_code == 400
    assert "尚未结束" in response.content.decode()
    assert not ReportRun.objects.exists()


def test_the_page_refuses_an_organisation_outside_reach_on_the_form(tree, outsider):
    response = _client(outsider).post(
        reverse("report-runs"), {"organization": tree["pudong"].pk, "kind": "monthly", "period": "2025-01"}
    )
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.content.decode()


def test_an_outsider_cannot_see_or_download_another_districts_report(
    tree, roll, clerk, outsider, worker, django_capture_on_commit_callbacks
):
    run = _request(clerk, tree["pudong"], capture=django_capture_on_commit_callbacks)
    c = _client(outsider)
    for url in (
        reverse("report-run-detail", args=[run.pk]),
        reverse("report-run-xlsx", args=[run.pk]),
        reverse("report-run-pdf", args=[run.pk]),
    ):
        assert c.get(url).status_code == 404
    assert c.post(reverse("report-run-rerun", args=[run.pk])).status_code == 404
    assert "浦东新区总工会" not in c.get(reverse("report-runs")).content.decode()
    assert _client(worker).get(reverse("report-run-detail", args=[run.pk])).status_code == 302
    assert Client().get(reverse("report-run-xlsx", args=[run.pk])).status_code == 302
    assert not AuditEvent.objects.filter(action="report.downloaded").exists()
