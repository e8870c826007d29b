"""The report runs API: list (scoped, filtered, keyset), ask (validated, idempotent), progress, audited downloads."""

import datetime as dt
import io

import openpyxl
import pytest
from django.utils import timezone

from activity.models import AuditEvent
from organizations.models import RoleAssignment
from reports.models import ReportRun
from reports.periods import month_period
from tests.conftest import client_for
from tests.factories import UserFactory, make_member

URL = "/api/v1/report-runs/"


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _code(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def _run(org, *, kind="monthly", start=None, status=ReportRun.Status.PENDING, **extra):
    """A run row as the schedule leaves it (no task sent): for list and filter tests."""
    start = start or _last_month()
    end = month_period(start).end if kind == "monthly" else dt.date(start.year, 12, 31)
    return ReportRun.objects.create(
        organization=org,
        org_path=org.path,
        kind=kind,
        period_start=start,
        period_end=end,
        status=status,
        scheduled=True,
        **extra,
    )


@pytest.fixture
def built(tree, clerk, django_capture_on_commit_callbacks):
    """浦东's last-month report, built through the API (the task run at commit)."""
    make_member(tree["pd_union"], actor=clerk, name="报表会员", joined_on=_last_month() - dt.timedelta(days=40))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clerk).post(
            URL, {"organization": tree["pudong"].pk, "kind": "monthly", "period": _code(_last_month())}, format="json"
        )
    assert response.status_code == 201, response.content
    return ReportRun.objects.get(pk=response.json()["id"])


def test_it_builds_on_request_and_shows_the_progress_the_headlines_and_the_files(tree, clerk, built):
    body = client_for(clerk).get(f"{URL}{built.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 100 and body["phase_label"] == ""
    assert body["organization"] == {"id": tree["pudong"].pk, "name": "浦东新区总工会"}
    assert body["period"] == _code(_last_month()) and body["kind_label"] == "月报"
    assert body["xlsx_url"] == f"{URL}{built.pk}/xlsx/" and body["pdf_url"] == f"{URL}{built.pk}/pdf/"
    labels = [h["label"] for h in body["headlines"]]
    assert "期末会员数" in labels and body["as_of"]
    assert next(h for h in body["headlines"] if h["label"] == "期末会员数")["value"] == 1


def test_asking_again_returns_the_existing_run_with_200_and_sends_nothing(
    tree, clerk, owner, built, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = client_for(owner).post(
            URL, {"organization": tree["pudong"].pk, "kind": "monthly", "period": _code(_last_month())}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["id"] == built.pk and response.json()["status"] == "succeeded"
    assert sent == [] and ReportRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="report.requested").count() == 1


def test_a_new_request_answers_201_pending_and_queues_one_build(tree, clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = client_for(clerk).post(
            URL, {"organization": tree["lujiazui"].pk, "kind": "yearly", "period": "2025"}, format="json"
        )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending" and body["phase_label"] == "排队等待处理"
    assert body["xlsx_url"] is None and body["pdf_url"] is None and body["headlines"] == []
    assert len(sent) == 1
    run = ReportRun.objects.get()
    assert run.requested_by == clerk and not run.scheduled and run.dispatched_at is not None


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"kind": "monthly", "period": "2999-01"}, "period", "尚未结束"),
        ({"kind": "monthly", "period": "this-month"}, "period", "尚未结束"),
        ({"kind": "yearly", "period": "this-year"}, "period", "尚未结束"),
        ({"kind": "monthly", "period": "2026-13"}, "period", "格式"),
        ({"kind": "monthly", "period": "0000-01"}, "period", "1950"),
        ({"kind": "yearly", "period": "0000"}, "period", "1950"),
        ({"kind": "monthly", "period": "2019-05"}, "period", "统计汇总保留"),
        ({"kind": "monthly", "period": "2026-010"}, "period", "7 个字符"),
        ({"kind": "weekly", "period": "2025"}, "kind", "月报"),
        ({"kind": "monthly"}, "period", ""),
    ],
)
def test_it_refuses_bad_input_with_a_chinese_message_on_the_field(tree, clerk, payload, field, fragment):
    today = timezone.localdate()
    period = {"this-month": f"{today:%Y-%m}", "this-year": f"{today:%Y}"}.get(payload.get("period"))
    if period:
        payload = {**payload, "period": period}
    response = client_for(clerk).post(URL, {"organization": tree["pudong"].pk, **payload}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert field in error["fields"] and fragment in error["fields"][field][0]
    assert not ReportRun.objects.exists()


def test_it_refuses_an_organisation_outside_reach_and_a_user_without_the_right(tree, outsider, worker):
    payload = {"organization": tree["pudong"].pk, "kind": "monthly", "period": _code(_last_month())}
    response = client_for(outsider).post(URL, payload, format="json")
    assert response.status_code == 400
    assert "不在您的管辖范围内" in response.json()["error"]["fields"]["organization"][0]
    mediator = UserFactory(username="report-mediator")
    RoleAssignment.objects.create(user=mediator, organization=tree["pudong"], role="mediator")
    assert client_for(mediator).post(URL, payload, format="json").status_code == 403
    assert client_for(worker).post(URL, payload, format="json").status_code == 403
    assert client_for(None).post(URL, payload, format="json").status_code in (401, 403)
    assert not ReportRun.objects.exists()


def test_the_list_shows_only_the_report_reach(tree, clerk, outsider, owner):
    pd, hp, city = _run(tree["pudong"]), _run(tree["nanjing"]), _run(tree["city"])
    ids = lambda user: [r["id"] for r in client_for(user).get(URL).json()["results"]]  # noqa: E731
    assert ids(clerk) == [pd.pk]
    assert ids(outsider) == [hp.pk]
    assert ids(owner) == [city.pk, hp.pk, pd.pk]
    mediator = UserFactory(username="report-mediator")
    RoleAssignment.objects.create(user=mediator, organization=tree["pudong"], role="mediator")
    assert ids(mediator) == []  # view reach, but no report.view
    for user in (outsider, mediator):
        assert client_for(user).get(f"{URL}{pd.pk}/").status_code == 404


def test_the_list_filters_by_organisation_subtree_period_kind_and_status(tree, owner):
    last = _last_month()
    before = (last - dt.timedelta(days=1)).replace(day=1)
    pd = _run(tree["pudong"])
    street = _run(tree["lujiazui"], status=ReportRun.Status.SUCCEEDED)
    older = _run(tree["pudong"], start=before, status=ReportRun.Status.FAILED)
    year = _run(tree["pudong"], kind="yearly", start=dt.date(2025, 1, 1))
    hp = _run(tree["huangpu"])
    c = client_for(owner)

    def ids(query):
        response = c.get(URL + query)
        assert response.status_code == 200, response.content
        return sorted(r["id"] for r in response.json()["results"])

    assert ids(f"?organization={tree['pudong'].pk}") == sorted([pd.pk, older.pk, year.pk])
    assert ids(f"?under={tree['pudong'].pk}") == sorted([pd.pk, street.pk, older.pk, year.pk])
    assert ids(f"?period={_code(last)}") == sorted([pd.pk, street.pk, hp.pk])
    assert ids(f"?period={_code(before)}&organization={tree['pudong'].pk}") == [older.pk]
    assert ids("?period=2025") == [year.pk]
    assert ids("?kind=yearly") == [year.pk]
    assert ids("?status=succeeded") == [street.pk]
    assert ids(f"?status=pending&under={tree['huangpu'].pk}") == [hp.pk]
    for bad, field in (("?period=2026-13", "period"), ("?period=abc", "period"), ("?status=done", "status")):
        response = c.get(URL + bad)
        assert response.status_code == 400, bad
        assert field in response.json()["error"]["fields"]
    assert "2026-05" in c.get(URL + "?period=1").json()["error"]["fields"]["period"][0]


def test_the_list_pages_by_keyset_with_a_flat_query_count(tree, owner, django_assert_max_num_queries):
    orgs = [tree["city"], tree["pudong"], tree["huangpu"], tree["lujiazui"], tree["nanjing"]]
    start = _last_month()
    made = []
    for months in range(6):
        for org in orgs:
            made.append(_run(org, start=(start - dt.timedelta(days=31 * months)).replace(day=1)).pk)
    c = client_for(owner)
    seen, url = [], URL + "?page_size=7"
    while url:
        with django_assert_max_num_queries(4):
            body = c.get(url).json()
        assert "count" not in body
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert seen == sorted(made, reverse=True)


def test_downloads_are_private_audited_and_scoped(tree, clerk, outsider, worker, built):
    c = client_for(clerk)
    xlsx = c.get(f"{URL}{built.pk}/xlsx/")
    assert xlsx.status_code == 200 and xlsx["Cache-Control"] == "no-store, private"
    content = b"".join(xlsx.streaming_content)
    assert openpyxl.load_workbook(io.BytesIO(content)).sheetnames[0] == "概况"
    assert xlsx["Content-Disposition"].startswith("attachment;")
    pdf = c.get(f"{URL}{built.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    events = AuditEvent.objects.filter(action="report.downloaded").order_by("id")
    assert [(e.actor_id, e.data["format"]) for e in events] == [(clerk.pk, "xlsx"), (clerk.pk, "pdf")]
    for user in (outsider, worker, None):
        for fmt in ("xlsx", "pdf"):
            assert client_for(user).get(f"{URL}{built.pk}/{fmt}/").status_code in (401, 403, 404)
    assert AuditEvent.objects.filter(action="report.downloaded").count() == 2


def test_a_run_without_files_answers_404_in_the_error_shape(tree, clerk):
    run = _run(tree["pudong"])
    response = client_for(clerk).get(f"{URL}{run.pk}/xlsx/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json()["error"]["code"]
    assert not AuditEvent.objects.filter(action="report.downloaded").exists()


def test_a_rerun_is_accepted_once_and_refused_while_queued(tree, clerk, built, django_capture_on_commit_callbacks):
    c = client_for(clerk)
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = c.post(f"{URL}{built.pk}/rerun/")
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert len(sent) == 1
    again = c.post(f"{URL}{built.pk}/rerun/")
    assert again.status_code == 409 and "排队" in again.json()["error"]["message"]
    assert ReportRun.objects.get().generation == 2


def test_the_scope_harnesses_walk_every_report_run_route():
    from tests.security.test_scope_leaks import _api_get_paths
    from tests.security.test_scope_writes import _api_write_operations

    gets = set(_api_get_paths())
    assert {URL, URL + "{id}/", URL + "{id}/xlsx/", URL + "{id}/pdf/"} <= gets
    writes = {(path, method) for path, method, _op, _c in _api_write_operations()}
    assert {(URL, "post"), (URL + "{id}/rerun/", "post")} <= writes


def test_the_marked_reports_show_to_their_district_and_never_to_the_sibling(tree, owner, clerk, outsider):
    from tests.security.world import HP_MARK, PD_MARK, build_sides

    sides = build_sides(tree, owner)
    pd_runs = [o for o in sides["pd"] if isinstance(o, ReportRun)]
    assert len(pd_runs) == 2
    listed = client_for(clerk).get(URL).content.decode()
    assert PD_MARK in listed and HP_MARK not in listed
    other = client_for(outsider).get(URL).content.decode()
    assert HP_MARK in other and PD_MARK not in other
    queued = next(r for r in pd_runs if not r.xlsx_path)
    assert PD_MARK in client_for(clerk).get(f"{URL}{queued.pk}/").content.decode()
    for run in pd_runs:
        assert client_for(outsider).get(f"{URL}{run.pk}/").status_code == 404
    built = next(r for r in pd_runs if r.xlsx_path)
    from tests.security.test_scope_leaks import _body

    assert PD_MARK in _body(client_for(clerk).get(f"{URL}{built.pk}/xlsx/"))


@pytest.mark.parametrize("pk", ["abc", "-1", "99999999999999999999999"])
def test_a_malformed_or_unknown_id_is_a_json_404(tree, clerk, pk):
    for suffix in ("", "xlsx/", "pdf/"):
        response = client_for(clerk).get(f"{URL}{pk}/{suffix}")
        assert response.status_code == 404, (pk, suffix)
        assert response.json()["error"]["code"] == "not_found"
