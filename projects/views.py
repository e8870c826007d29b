"""Pages of service projects: staff pages under /projects/ and the worker's pages under /me/.

Every read goes through projects.selectors; every POST calls a service, and a refusal comes
back as a message on the page (refusal(exc).text), never a 500.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from core import selectors as core_selectors
from core.attachments.forms import AttachmentUploadForm
from core.attachments.selectors import attachments_for
from core.attachments.services import attachment_add
from core.documents import pdf_canvas
from core.errors import DomainError, refusal
from core.pages import file_response, keyset_page, service_form, staff_required, worker_required
from core.replicas import heavy_reads
from core.roles import PROJECT_MANAGE
from core.scoping import has_capability

from . import selectors, services
from .filters import DemandFilter, ProjectFilter
from .forms import CriteriaForm, OverspendForm, ProjectDesignForm, SessionForm, WeightsForm
from .models import (
    BudgetLine,
    Category,
    Demand,
    Enrolment,
    EvaluationWeights,
    Overspend,
    Project,
    ReviewCriterion,
    Session,
)

REFUSALS = (ValidationError, DomainError, PermissionDenied)


def _refused(request, exc) -> None:
    messages.error(request, refusal(exc).text)


# --- staff: the library, the demand board, a project ------------------------------------------


@staff_required
@heavy_reads()
def library(request):
    flt = ProjectFilter(request.GET or None, queryset=selectors.projects_for_user(request.user), request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else selectors.projects_for_user(request.user)
    cursor = request.GET.get("cursor", "")
    page = keyset_page(qs, field="id", descending=True, cursor=cursor, size=30)
    return render(
        request,
        "projects/library.html",
        {"filter": flt, "page": page, "is_continuation": bool(cursor), "filtered": flt.is_bound},
    )


@staff_required
def project_new(request):
    """Design a project (a draft) with its goals, budget lines and milestones."""
    form = ProjectDesignForm(request.POST or None, user=request.user)

    def save(data):
        project = services.project_create(
            actor=request.user,
            union=data["union"],
            title=data["title"],
            category=data["category"],
            year=data["year"],
            summary=data["summary"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            implementers=list(data["implementers"]),
            delivery_mode=data["delivery_mode"],
            purchase_method=data["purchase_method"],
            contractor=data["contractor"],
            contract_amount=data["contract_amount"],
            contract_start=data["contract_start"],
            contract_end=data["contract_end"],
            goals=form.rows("goals"),
            budget=form.rows("budget"),
            milestones=form.rows("milestones"),
            demands=list(data["demands"]),
        )
        return _("项目草稿已保存，可提交论证。"), ("project-detail", project.pk)

    return service_form(request, form, template="projects/project_form.html", context={}, save=save)


@staff_required
def session_new(request, pk):
    project = get_object_or_404(selectors.projects_for_user(request.user), pk=pk)
    form = SessionForm(request.POST or None, project=project)

    def save(data):
        services.session_create(actor=request.user, project=project, **data)
        return _("场次已安排，会员可以报名。"), ("project-detail", project.pk)

    return service_form(request, form, template="projects/session_form.html", context={"project": project}, save=save)


@staff_required
@heavy_reads()
def demand_board(request):
    flt = DemandFilter(request.GET or None, queryset=selectors.demands_for_user(request.user), request=request)
    qs = flt.qs if flt.is_bound and flt.is_valid() else selectors.demands_for_user(request.user)
    cursor = request.GET.get("cursor", "")
    page = keyset_page(qs, field="votes_count", descending=True, cursor=cursor, size=30)
    return render(
        request,
        "projects/demand_board.html",
        {"filter": flt, "page": page, "is_continuation": bool(cursor), "filtered": flt.is_bound},
    )


@staff_required
@require_POST
def demand_act(request, pk, verb):
    demand = get_object_or_404(selectors.demands_for_user(request.user), pk=pk)
    try:
        if verb == "answer":
            services.demand_answer(
                actor=request.user,
                demand=demand,
                answer=request.POST.get("answer", ""),
                tags=request.POST.get("tags", ""),
            )
            messages.success(request, _("已答复。"))
        elif verb == "merge":
            target = selectors.demands_for_user(request.user).filter(pk=request.POST.get("target") or 0).first()
            if target is None:
                raise ValidationError({"target": _("请选择管辖范围内的一条需求作为合并目标。")})
            services.demand_merge(actor=request.user, source=demand, target=target)
            messages.success(request, _("已合并，附议已并入目标需求。"))
        else:
            raise Http404
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("project-demands")


def _budget(project: Project) -> dict:
    sums = project.budget_lines.aggregate(planned=Sum("planned"), spent=Sum("spent"))
    planned, spent = sums["planned"] or Decimal(0), sums["spent"] or Decimal(0)
    pct = int(min(spent / planned * 100, 100)) if planned else 0
    return {"planned": planned, "spent": spent, "pct": pct, "over": spent > planned}


@staff_required
def project_detail(request, pk):
    project = get_object_or_404(selectors.projects_for_user(request.user), pk=pk)
    results = {r.goal_id: r for r in project.results.all()}
    for r in results.values():
        r.evidence = attachments_for(request.user, r)
    goals = [(g, results.get(g.pk)) for g in project.goals.all()]
    lines = list(project.budget_lines.all())
    for line in lines:
        line.pct = int(min(line.spent / line.allowed * 100, 100)) if line.allowed else 0
    context = {
        "project": project,
        "goals": goals,
        "lines": lines,
        "budget": _budget(project),
        "milestones": project.milestones.all(),
        "sessions": project.sessions.select_related("union").order_by("starts_at"),
        "reviews": project.reviews.select_related("reviewer").order_by("id"),
        "implementers": project.implementers.select_related("union"),
        "timeline": core_selectors.transition_history(project),
        "stages": [s for s in Project.Stage if s not in (Project.Stage.RETURNED, Project.Stage.REJECTED)],
        "reached": _reached(project),
        "criteria": ReviewCriterion.objects.filter(active=True).order_by("id"),
        "can_manage": has_capability(request.user, PROJECT_MANAGE, project.org_path),
        "can_report": project.stage in ("implementing", "feedback"),
        "kind_labels": dict(EVIDENCE_KINDS),
    }
    return render(request, "projects/project_detail.html", context)


def _reached(project: Project) -> set:
    order = ["draft", "in_review", "library", "implementing", "feedback", "evaluated"]
    stage = project.stage if project.stage in order else "in_review"
    return set(order[: order.index(stage) + 1])


MOVES = {
    "submit": services.project_submit,
    "start": services.project_start,
    "close": services.project_close,
    "evaluate": services.project_evaluate,
}


@staff_required
@require_POST
def project_move(request, pk, verb):
    project = get_object_or_404(selectors.projects_for_user(request.user), pk=pk)
    try:
        if verb in MOVES:
            MOVES[verb](actor=request.user, project=project)
        elif verb == "review":
            scores = {k[6:]: v for k, v in request.POST.items() if k.startswith("score_")}
            services.review_submit(
                actor=request.user,
                project=project,
                scores=scores,
                decision=request.POST.get("decision", ""),
                opinion=request.POST.get("opinion", ""),
            )
        elif verb == "recuse":
            services.review_recuse(actor=request.user, project=project, reason=request.POST.get("reason", ""))
        elif verb == "milestone_done":
            milestone = get_object_or_404(project.milestones, pk=request.POST.get("milestone") or 0)
            services.milestone_done(actor=request.user, milestone=milestone)
        elif verb == "milestone":
            import datetime as dt

            try:
                due = dt.date.fromisoformat(request.POST.get("due_date", ""))
            except ValueError:
                raise ValidationError({"due_date": _("请填写节点日期（年-月-日）。")}) from None
            services.milestone_add(actor=request.user, project=project, name=request.POST.get("name", ""), due_date=due)
        else:
            raise Http404
        messages.success(request, _("已办理。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("project-detail", pk=project.pk)


EVIDENCE_KINDS = [("evidence", _l("实施佐证"))]


@staff_required
@require_POST
def project_result(request, pk):
    """File a result against a goal, with an optional evidence file (core.attachments)."""
    project = get_object_or_404(selectors.projects_for_user(request.user), pk=pk)
    goal = get_object_or_404(project.goals, pk=request.POST.get("goal") or 0)
    form = AttachmentUploadForm(request.POST, request.FILES, kinds=EVIDENCE_KINDS) if request.FILES else None
    try:
        with transaction.atomic():
            result = services.result_file(
                actor=request.user, goal=goal, achieved=request.POST.get("achieved"), note=request.POST.get("note", "")
            )
            if form is not None:
                if not form.is_valid():
                    raise ValidationError(form.errors.get("file") or form.errors.get("kind"))
                attachment_add(
                    owner=result,
                    uploaded_file=form.cleaned_data["file"],
                    kind=form.cleaned_data["kind"],
                    actor=request.user,
                )
        messages.success(request, _("已填报结果。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("project-detail", pk=project.pk)


@staff_required
def evaluation_page(request, pk):
    project = get_object_or_404(selectors.projects_for_user(request.user).filter(stage=Project.Stage.EVALUATED), pk=pk)
    return render(request, "projects/evaluation.html", {"project": project, "ev": project.evaluation})


@staff_required
def evaluation_pdf(request, pk):
    project = get_object_or_404(selectors.projects_for_user(request.user).filter(stage=Project.Stage.EVALUATED), pk=pk)
    ev = project.evaluation
    buf = io.BytesIO()
    c = pdf_canvas(buf, title=_("绩效评估报告"), subject=project.title)
    y = 800
    for size, text in [
        (16, _("服务项目绩效评估报告")),
        (12, project.title),
        (10, _("设计单位：%(u)s　年度：%(y)s") % {"u": project.union.name, "y": project.year}),
        (14, _("综合得分：%(t)s") % {"t": ev.total}),
        (10, _("覆盖达成 %(a)s（权重 %(wa)s%%）") % {"a": ev.reach_score, "wa": ev.weights.get("reach")}),
        (10, _("预算执行 %(a)s（权重 %(wa)s%%）") % {"a": ev.budget_score, "wa": ev.weights.get("budget")}),
        (10, _("满意度 %(a)s（权重 %(wa)s%%）") % {"a": ev.satisfaction_score, "wa": ev.weights.get("satisfaction")}),
        (10, _("按时完成 %(a)s（权重 %(wa)s%%）") % {"a": ev.timeliness_score, "wa": ev.weights.get("timeliness")}),
        *[(9, line) for line in ev.explanation],
    ]:
        c.setFontSize(size)
        c.drawString(50, y, str(text)[:60])
        y -= size + 12
    c.showPage()
    c.save()
    return file_response(f"evaluation-{project.pk}.pdf", "application/pdf", buf.getvalue())


# --- staff: the implementer's workspace and the check-in page -----------------------------------


@staff_required
def workspace(request):
    sessions = selectors.sessions_for_user(request.user, PROJECT_MANAGE).filter(
        project__stage=Project.Stage.IMPLEMENTING
    )[:100]
    managed = selectors.projects_run_by(request.user).filter(stage=Project.Stage.IMPLEMENTING)
    lines = BudgetLine.objects.filter(project__in=managed).select_related("project").order_by("project_id", "id")[:200]
    return render(request, "projects/workspace.html", {"sessions": sessions, "lines": lines})


@staff_required
@require_POST
def spend(request, pk):
    line = get_object_or_404(BudgetLine.objects.filter(project__in=selectors.projects_run_by(request.user)), pk=pk)
    try:
        services.expense_record(
            actor=request.user, line=line, amount=request.POST.get("amount", ""), note=request.POST.get("note", "")
        )
        messages.success(request, _("已记录支出。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("project-workspace")


@staff_required
def overspend_new(request, pk):
    """Ask to spend past a budget line's plan (the designer's officer decides)."""
    managed = selectors.projects_run_by(request.user).filter(stage=Project.Stage.IMPLEMENTING)
    line = get_object_or_404(BudgetLine.objects.filter(project__in=managed).select_related("project"), pk=pk)
    form = OverspendForm(request.POST or None)

    def save(data):
        services.overspend_request(actor=request.user, line=line, amount=data["amount"], reason=data["reason"])
        return _("超支申请已提交，待项目设计单位审批。"), ("project-overspends",)

    return service_form(request, form, template="projects/overspend_form.html", context={"line": line}, save=save)


@staff_required
def overspends(request):
    """Overspend requests on the lines of projects in reach: pending first, then decided."""
    rows = list(selectors.overspends_for_user(request.user)[:200])
    for row in rows:
        row.can_decide = (
            row.status == Overspend.Status.PENDING
            and row.requested_by_id != request.user.pk
            and has_capability(request.user, PROJECT_MANAGE, row.line.project.org_path)
        )
    return render(request, "projects/overspends.html", {"rows": rows})


@staff_required
@require_POST
def overspend_decide(request, pk, verb):
    req = get_object_or_404(selectors.overspends_for_user(request.user), pk=pk)
    if verb not in ("approve", "reject"):
        raise Http404
    try:
        services.overspend_decide(
            actor=request.user, request=req, approve=verb == "approve", reason=request.POST.get("reason", "")
        )
        messages.success(request, _("已批准超支。") if verb == "approve" else _("已驳回超支申请。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("project-overspends")


@staff_required
def criteria_edit(request):
    """The city federation's review criteria: names and weights summing to 100%."""
    current = ReviewCriterion.objects.filter(active=True).order_by("id")
    form = CriteriaForm(request.POST or None, criteria=current)

    def save(data):
        services.criteria_set(actor=request.user, criteria=form.criteria())
        return _("评审指标已保存。"), ("project-criteria-page",)

    return service_form(
        request,
        form,
        template="projects/criteria_form.html",
        context=lambda: {"total": sum(c.weight for c in current), "can_edit": _sets_city_rules(request.user)},
        save=save,
    )


@staff_required
def weights_edit(request):
    """The city federation's evaluation weights for a year (summing to 100%)."""
    from django.utils import timezone

    year = timezone.localdate().year
    current = EvaluationWeights.objects.filter(year=year).first()
    initial = {"year": year}
    if current:
        initial.update(
            reach=current.reach, budget=current.budget, satisfaction=current.satisfaction, timeliness=current.timeliness
        )
    form = WeightsForm(request.POST or None, initial=initial)

    def save(data):
        services.weights_set(actor=request.user, **data)
        return _("%(y)s 年度绩效评估权重已保存。") % {"y": data["year"]}, ("project-weights-page",)

    return service_form(
        request,
        form,
        template="projects/weights_form.html",
        context=lambda: {
            "years": EvaluationWeights.objects.order_by("-year")[:5],
            "can_edit": _sets_city_rules(request.user),
        },
        save=save,
    )


def _sets_city_rules(user) -> bool:
    from organizations.models import Organization

    root = Organization.objects.get_root_nodes().first()
    return bool(root) and has_capability(user, PROJECT_MANAGE, root.path)


@staff_required
def checkin(request, pk):
    session = get_object_or_404(selectors.sessions_for_user(request.user, PROJECT_MANAGE), pk=pk)
    result, status = None, 200
    if request.method == "POST":
        try:
            row = services.checkin_scan(actor=request.user, session=session, token=request.POST.get("token", ""))
            result = {"ok": True, "scans": row.scans}
        except REFUSALS as exc:
            result, status = {"ok": False, "message": refusal(exc).text}, 400
    session.refresh_from_db()
    checked = Enrolment.objects.filter(session=session, status=Enrolment.Status.CHECKED_IN).count()
    return render(
        request,
        "projects/checkin.html",
        {"session": session, "result": result, "checked": checked},
        status=status,
    )


# --- the worker's pages --------------------------------------------------------------------------


def _my_member(request):
    return selectors.member_of(request.user)


@worker_required
def my_projects(request):
    member = _my_member(request)
    if member is None:
        return render(request, "selfservice/no_member.html", {"title": _("服务项目")})
    mine = list(selectors.my_enrolments(member))
    taken = {e.session_id for e in mine if e.status != Enrolment.Status.CANCELLED}
    sessions = [s for s in selectors.open_sessions_for_member(member)[:50] if s.pk not in taken]
    return render(request, "projects/my_projects.html", {"sessions": sessions, "mine": mine})


@worker_required
@require_POST
def my_sign_up(request, pk):
    member = _my_member(request)
    if member is None:
        raise Http404
    session = get_object_or_404(selectors.open_sessions_for_member(member), pk=pk)
    try:
        e = services.enrolment_sign_up(actor=request.user, session=session, member=member)
        if e.status == Enrolment.Status.WAITING:
            messages.info(request, _("名额已满，您在候补第 %(n)s 位；有人取消时将通知您确认。") % {"n": e.position})
        else:
            messages.success(request, _("报名成功。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("my-projects")


@worker_required
@require_POST
def my_enrolment_act(request, pk, verb):
    member = _my_member(request)
    if member is None:
        raise Http404
    enrolment = get_object_or_404(selectors.my_enrolments(member), pk=pk)
    try:
        if verb == "cancel":
            services.enrolment_cancel(actor=request.user, enrolment=enrolment)
            messages.success(request, _("已取消报名。"))
        elif verb == "confirm":
            services.offer_confirm(actor=request.user, enrolment=enrolment)
            messages.success(request, _("已确认参加。"))
        elif verb == "rate":
            services.rating_submit(
                actor=request.user,
                enrolment=enrolment,
                score=request.POST.get("score"),
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("感谢您的评价。"))
        else:
            raise Http404
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("my-projects")


@worker_required
def my_demands(request):
    member = _my_member(request)
    if member is None:
        return render(request, "selfservice/no_member.html", {"title": _("职工需求")})
    if request.method == "POST":
        try:
            union = member.current_membership.union if member.current_membership_id else None
            if union is None:
                raise DomainError(_("只有在册会员可以办理，请先绑定会员身份。"))
            services.demand_post(
                actor=request.user,
                category=request.POST.get("category", ""),
                description=request.POST.get("description", ""),
                union=union,
            )
            messages.success(request, _("需求已提交，其他会员可以附议。"))
            return redirect("my-demands")
        except REFUSALS as exc:
            _refused(request, exc)
    return render(
        request,
        "projects/my_demands.html",
        {"demands": selectors.demands_for_member(member)[:50], "categories": Category.choices},
    )


@worker_required
@require_POST
def my_demand_second(request, pk):
    member = _my_member(request)
    if member is None:
        raise Http404
    demand = get_object_or_404(selectors.demands_for_member(member), pk=pk)
    try:
        services.demand_second(actor=request.user, demand=demand)
        messages.success(request, _("已附议。"))
    except REFUSALS as exc:
        _refused(request, exc)
    return redirect("my-demands")


__all__ = ["Demand", "Session"]
