"""The operations view (superusers): worker and beat health, queues, scheduled tasks, failures, outbox."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assistance.services.campaigns import campaigns_lost
from core.errors import DomainError, refusal
from core.pages import staff_required
from members.importer.jobs import import_jobs_lost
from members.importer.jobs import redispatch_after as job_redispatch_after

from . import operations, runs
from .models import TaskRun


def _operator(view):
    def wrapper(request, *args, **kwargs):
        operations.require_operator(request.user)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return staff_required(wrapper)


@_operator
@require_GET
def operations_home(request):
    return render(
        request,
        "reports/operations.html",
        {
            "health": operations.health(),
            "scheduled": operations.scheduled_tasks(),
            "failures": operations.failures(),
            "outbox": operations.outbox_rows(),
            "lost_runs": list(runs.report_runs_lost()),
            "redispatch_minutes": int(runs.redispatch_after().total_seconds() // 60),
            "lost_imports": list(import_jobs_lost()),
            "lost_campaigns": list(campaigns_lost()),
            "job_redispatch_minutes": int(job_redispatch_after().total_seconds() // 60),
            "other_failures": operations.other_failures(),
            "current": "operations",
        },
    )


@_operator
@require_POST
def operations_task_retry(request, pk: int):
    run = get_object_or_404(TaskRun, pk=pk)
    try:
        operations.task_run_retry(actor=request.user, run=run)
    except DomainError as exc:
        messages.error(request, refusal(exc).text)
    else:
        messages.success(request, _("已重新提交任务“%(task)s”。") % {"task": run.task_name})
    return redirect("operations")


@_operator
@require_POST
def operations_outbox_resend(request):
    sent = operations.outbox_resend(actor=request.user)
    messages.success(request, _("已发送 %(n)s 个待发送任务。") % {"n": sent})
    return redirect("operations")
