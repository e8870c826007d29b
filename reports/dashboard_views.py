"""The statistics dashboard: a subtree's figures for a period, charts with tables beside them."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape, json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.errors import NOT_IN_REACH
from core.outbox import enqueue
from core.pages import staff_required
from core.replicas import heavy_reads
from core.roles import REPORT_VIEW
from core.scoping import path_in_reach
from organizations.models import Organization
from organizations.selectors import organization_get, organization_roots_for_user

from .statistics import parse_period, subtree_figures
from .summaries import first_month, months_between


def _period_choices(today: dt.date) -> list[tuple[str, str]]:
    """This month back to the summary's first month, then the years (newest first)."""
    months = months_between(first_month(today), today.replace(day=1))
    out = [(f"{m:%Y-%m}", _("%(year)s年%(month)s月") % {"year": m.year, "month": m.month}) for m in reversed(months)]
    out += [(str(y), _("%(year)s年（全年）") % {"year": y}) for y in range(today.year, first_month(today).year - 1, -1)]
    return out


def _counts(rows) -> list[dict]:
    return [{"value": v, "label": label, "count": n} for v, label, n in rows]


def _flows(f) -> list[int]:
    m, d = f.members, f.disputes
    return [m.new, m.left + m.transferred_out, f.aid.new_files, d.received, d.closed]


def _chart_data(figures) -> dict:
    """What the charts draw (the tables beside them show the same numbers); straight from the dataclasses."""
    prev = figures.previous
    return {
        "trend": [
            {
                "month": f"{t.month:%Y-%m}",
                "members": t.members,
                "new": t.new,
                "left": t.left,
                "cases_received": t.cases_received,
            }
            for t in figures.trend
        ],
        "forms": _counts(figures.members.by_employment_form),
        "tiers": _counts(figures.aid.by_tier),
        "kinds": _counts(figures.disputes.by_kind),
        "outcomes": _counts(figures.disputes.by_outcome),
        "stages": _counts(figures.projects.by_stage),
        "children": [{"name": c.organization.name, "members": c.members.total} for c in figures.children],
        "compare": {
            "labels": [_("新入会"), _("减少（退会、转出）"), _("新建困难档案"), _("受理调解案件"), _("办结调解案件")],
            "now": _flows(figures),
            "before": _flows(prev) if prev else None,
            "now_label": figures.period.label,
            "before_label": prev.period.label if prev else "",
        },
        "labels": {
            "members": _("月末会员数"),
            "new": _("新入会"),
            "left": _("减少（退会、转出）"),
            "cases": _("受理调解案件"),
        },
    }


def _chart_data_tag(request, data: dict) -> str:
    """json_script's tag (the same escaping) with the request's CSP nonce: the policy wants one on every
    inline <script>, data included."""
    nonce = escape(str(getattr(request, "csp_nonce", "")))
    return mark_safe(json_script(data, "chart-data").replace("<script ", f'<script nonce="{nonce}" ', 1))


@staff_required
@heavy_reads()
def dashboard(request, pk: int | None = None):
    user = request.user
    if pk is None:
        org = organization_roots_for_user(user, REPORT_VIEW).order_by("depth", "path").first()
        if org is None:
            raise Http404(NOT_IN_REACH)
    else:
        org = organization_get(user, pk)
    today = timezone.localdate()
    raw = (request.GET.get("period") or "").strip()
    error, status = "", 200
    try:
        period = parse_period(raw or today, today=today)
        figures = subtree_figures(user=user, organization=org, period=period)
    except ValidationError as exc:
        error, status = " ".join(exc.message_dict.get("period", exc.messages)), 400
        figures = subtree_figures(user=user, organization=org, period=today)
    if figures.source == "summary" and figures.as_of is None:
        # No summary was ever built (a fresh install): ask for one; the page says the figures are missing.
        enqueue("reports.tasks.refresh_statistics")
    ancestors = [
        a
        for a in Organization.objects.filter(path__in=org.ancestor_paths()).order_by("depth")
        if path_in_reach(user, a.path, REPORT_VIEW)
    ]
    return render(
        request,
        "reports/dashboard.html",
        {
            "org": org,
            "figures": figures,
            "period_error": error,
            "period_value": raw or figures.period.key,
            "period_choices": _period_choices(today),
            "ancestors": ancestors,
            "chart_data": _chart_data_tag(request, _chart_data(figures)),
        },
        status=status,
    )
