"""Report pages: ask for a report, watch its progress (htmx polling), download its files, history."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, refusal
from core.pages import file_response, keyset_page, service_form, staff_required
from core.roles import REPORT_VIEW
from core.scoping import has_capability_anywhere

from . import run_selectors, runs
from .files import fmt_value
from .forms import ReportRequestForm
from .models import ReportRun


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
        "phase_label": runs.phase_label(run),
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
    return file_response(*runs.report_file(actor=request.user, run=run, fmt=fmt))


@staff_required
@require_GET
def report_run_xlsx(request, pk: int):
    return _download(request, pk, "xlsx")


@staff_required
@require_GET
def report_run_pdf(request, pk: int):
    return _download(request, pk, "pdf")
