"""Scoped reads of report runs: every read from ReportRun.objects.for_user(user, report.view)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from core.errors import NOT_IN_REACH
from core.roles import REPORT_VIEW

from .models import ReportRun


def report_runs_for_user(user) -> QuerySet[ReportRun]:
    return ReportRun.objects.for_user(user, REPORT_VIEW).select_related("organization", "requested_by")


def report_run_get(user, pk) -> ReportRun:
    """The run if it is in the user's report reach; 404 otherwise (an outsider learns nothing)."""
    try:
        return report_runs_for_user(user).get(pk=int(pk))
    except (ReportRun.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(NOT_IN_REACH) from exc


def report_run_history(user, run: ReportRun) -> QuerySet[ReportRun]:
    """The other runs of the same organisation and kind, newest period first (the download history)."""
    return report_runs_for_user(user).filter(organization=run.organization, kind=run.kind).exclude(pk=run.pk)
