"""Roster import pages: upload, the progress bar (htmx polling), the per-row report, files."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.pages import file_response, keyset_page, service_form, staff_required
from core.roles import MEMBER_MANAGE
from core.scoping import has_capability_anywhere

from .. import forms, importer, selectors
from ..models import ImportJob
from .common import is_fragment, posted

REPORT_ROWS_SHOWN = 300
REPORT_SCAN_LIMIT = 200_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOME_CLASSES = {
    "新增": "text-bg-success",
    "更新": "text-bg-info",
    "跳过": "text-bg-secondary",
    "未导入": "text-bg-warning",
    "错误": "text-bg-danger",
}


def _require_manage_anywhere(user) -> None:
    if not has_capability_anywhere(user, MEMBER_MANAGE):
        raise PermissionDenied(_("您的角色没有导入会员名册的权限。"))


@staff_required
def import_list(request):
    """Upload form and the recent import jobs in reach."""
    user = request.user
    form = forms.ImportForm(posted(request), request.FILES if request.method == "POST" else None, user=user)
    if request.method == "POST":
        _require_manage_anywhere(user)

    def save(data):
        job = importer.import_job_create(actor=user, union=data["union"], uploaded_file=data["file"], mode=data["mode"])
        return _("已上传“%(name)s”，开始导入。") % {"name": job.file_name}, ("member-import-detail", job.pk)

    def context():
        page = keyset_page(
            selectors.import_jobs_for_user(user),
            field="id",
            descending=True,
            cursor=request.GET.get("cursor", ""),
            size=20,
        )
        return {
            "page": page,
            "can_manage": has_capability_anywhere(user, MEMBER_MANAGE),
            "is_continuation": bool(request.GET.get("cursor")),
        }

    return service_form(request, form, template="members/import_list.html", context=context, save=save)


@staff_required
@require_GET
def import_template(request):
    fmt = request.GET.get("format", "xlsx")
    if fmt == "csv":
        return file_response("member-import-template.csv", "text/csv; charset=utf-8", importer.template_csv())
    return file_response("member-import-template.xlsx", XLSX, importer.template_xlsx())


def _report_rows(job: ImportJob) -> tuple[list[list[str]], bool]:
    """Rows of the job's report, problems first, capped (the file has them all)."""
    if not job.report_path or not default_storage.exists(job.report_path):
        return [], False
    problems, others, more = [], [], False
    with default_storage.open(job.report_path, "rb") as fh:
        reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8-sig"))
        next(reader, None)
        for n, rec in enumerate(reader):
            if len(rec) < 5:
                continue
            bucket = problems if rec[3] in ("错误", "跳过", "未导入") else others
            if len(bucket) < REPORT_ROWS_SHOWN:
                bucket.append(rec)
            else:
                more = True
                # Enough to show: stop scanning a huge report (the downloadable file has it all).
                if len(problems) >= REPORT_ROWS_SHOWN or n > REPORT_SCAN_LIMIT:
                    break
    rows = (problems + others)[:REPORT_ROWS_SHOWN]
    more = more or len(problems) + len(others) > REPORT_ROWS_SHOWN
    return [[*r[:5], OUTCOME_CLASSES.get(r[3], "text-bg-light")] for r in rows], more


def _job_context(job: ImportJob) -> dict:
    done = job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED)
    if done:
        percent = 100
    elif job.total_rows:
        percent = min(99, int(job.processed_rows * 100 / job.total_rows))
    else:
        percent = {"": 2, "reading": 5, "importing": 50, "writing": 90}.get(job.phase, 5)
    rows, more = _report_rows(job) if done else ([], False)
    return {
        "job": job,
        "done": done,
        "percent": percent,
        "phase_label": {
            "reading": _("正在读取文件"),
            "importing": _("正在逐行校验"),
            "writing": _("正在写入名册"),
        }.get(job.phase, _("排队等待处理")),
        "report_rows": rows,
        "report_more": more,
        "report_limit": REPORT_ROWS_SHOWN,
    }


@staff_required
@require_GET
def import_detail(request, pk: int):
    job = selectors.import_job_get(request.user, pk)
    context = _job_context(job)
    if is_fragment(request, "import-progress"):
        return render(request, "members/_import_progress.html", context)
    return render(request, "members/import_detail.html", context)


def _download(path: str, name: str, content_type: str):
    if not path or not default_storage.exists(path):
        raise Http404
    return file_response(name, content_type, default_storage.open(path, "rb"))


@staff_required
@require_GET
def import_report(request, pk: int):
    job = selectors.import_job_get(request.user, pk)
    return _download(job.report_path, f"import-{job.pk}-report.csv", "text/csv; charset=utf-8")


@staff_required
@require_GET
def import_errors(request, pk: int):
    """The error workbook: the uploader's own numbers in full, masked for others (audited)."""
    job = selectors.import_job_get(request.user, pk)
    body = importer.import_job_errors(actor=request.user, job=job)
    if body is None:
        raise Http404
    return file_response(f"import-{job.pk}-errors.xlsx", XLSX, body)
