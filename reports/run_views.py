"""Report pages: ask for a report, watch its progress (htmx polling), download its files, history."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.attachments.storage import private_storage
from core.documents import XLSX_CONTENT_TYPE
from core.errors import DomainError, refusal
from core.pages import file_response, keyset_page, service_form, staff_required
from core.roles import REPORT_VIEW
from core.scoping import has_capability_anywhere

from . import run_selectors, runs
from .files import fmt_value
from .forms import ReportRequestForm
from .models import ReportRun

PHASES = {
    "start": _("正在准备"),
    "refresh": _("正在更新统计汇总"),
    "figures": _("正在读取统计数据"),
    "writing": _("正在写入 Excel 报表"),
    "pdf": _("正在生成 PDF 摘要"),
    "saving": _("正在保存文件"),
}


def _is_fragment(request, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and htmx.target == target


@staff_required
def report_runs(request):
    """The request form and the reports in the user's reach, newest first."""
    user = request.user
    can = has_capability_anywhere(user, REPORT_VIEW)
    if request.method == "POST" and not can:
        raise Http404
    form = ReportRequestForm(request.POST if request.method == "POST" else None, user=user)

    def save(data):
        run = runs.report_request(
            actor=user, organization=data["organization"], kind=data["kind"], period=data["period"]
        )
        if run.status == ReportRun.Status.SUCCEEDED:
            message = _("该报表已生成，可直接下载。")
        else:
            message = _("已提交，报表生成后可在本页下载。")
        return message, ("report-run-detail", run.pk)

    def context():
        page = keyset_page(
            run_selectors.report_runs_for_user(user),
            field="id",
            descending=True,
            cursor=request.GET.get("cursor", ""),
            size=30,
        )
        return {"page": page, "can_request": can, "current": "report-runs"}

    return service_form(request, form, template="reports/runs/list.html", context=context, save=save)


def _context(run: ReportRun) -> dict:
    percent = 100 if run.done else max(run.progress, 2)
    return {
        "run": run,
        "percent": percent,
        "phase_label": PHASES.get(run.phase, _("排队等待处理")),
        "has_files": bool(run.xlsx_path and run.pdf_path),
        # Formatted as in the PDF: thousands separated, rates as percentages with one decimal.
        "headlines": [
            (h["label"], fmt_value(h["value"], h["percent"]), fmt_value(h["previous"], h["percent"]))
            for h in (run.summary or {}).get("headlines", [])
        ],
    }


@staff_required
@require_GET
def report_run_detail(request, pk: int):
    run = run_selectors.report_run_get(request.user, pk)
    context = _context(run)
    if _is_fragment(request, "report-progress"):
        return render(request, "reports/runs/_progress.html", context)
    context["history"] = run_selectors.report_run_history(request.user, run)[:24]
    context["current"] = "report-runs"
    return render(request, "reports/runs/detail.html", context)


@staff_required
@require_POST
def report_run_rerun(request, pk: int):
    run = run_selectors.report_run_get(request.user, pk)
    try:
        runs.report_rerun(actor=request.user, run=run)
    except DomainError as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("已重新提交，新文件生成前仍可下载原文件。"))
    return redirect("report-run-detail", run.pk)


def _download(request, pk: int, fmt: str):
    """The run's xlsx or PDF, from private storage; every download is audited."""
    run = run_selectors.report_run_get(request.user, pk)
    path = run.xlsx_path if fmt == "xlsx" else run.pdf_path
    storage = private_storage()
    if not path or not storage.exists(path):
        raise Http404(_("该报表还没有可下载的文件。"))
    runs.report_downloaded(actor=request.user, run=run, fmt=fmt)
    name = f"report-{run.organization_id}-{run.kind}-{run.period_code}.{fmt}"
    content_type = XLSX_CONTENT_TYPE if fmt == "xlsx" else "application/pdf"
    return file_response(name, content_type, storage.open(path, "rb"))


@staff_required
@require_GET
def report_run_xlsx(request, pk: int):
    return _download(request, pk, "xlsx")


@staff_required
@require_GET
def report_run_pdf(request, pk: int):
    return _download(request, pk, "pdf")
