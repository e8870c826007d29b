"""Every write of the service-projects domain (see models.py for the rules they keep).

Staff writes need `project.manage` at the object's path; workers act only on their own
member record (demands, votes, sign-ups, ratings). Sign-ups, cancellations, offers and
expiries all lock the session row first, so the seats counter and the waiting list are
changed by one transaction at a time; the CHECKs on the table are the backstop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.approvals import approval_chain_current, approval_chain_publish, approval_decide, approval_start
from core.audit import log_action
from core.errors import DomainError
from core.roles import PROJECT_MANAGE
from core.scoping import has_capability
from core.selectors import approval_runs
from core.states import StateMachine, record_created, transition
from members.cards import CARD_SALT, card_verify
from members.models import Member, Membership
from organizations.models import Organization

from .models import (
    BudgetLine,
    Category,
    CheckIn,
    Demand,
    DemandVote,
    Enrolment,
    Evaluation,
    EvaluationWeights,
    Expense,
    Goal,
    Milestone,
    Overspend,
    Project,
    ProjectImplementer,
    Rating,
    Result,
    Review,
    ReviewCriterion,
    Session,
)
from .reminders import notify_offered

ST = Project.Stage
ES = Enrolment.Status
DS = Demand.Status
OS = Overspend.Status

PROJECT_STAGES = StateMachine(
    Project,
    {
        ST.DRAFT: {ST.IN_REVIEW},
        ST.IN_REVIEW: {ST.LIBRARY, ST.RETURNED, ST.REJECTED},
        ST.RETURNED: {ST.IN_REVIEW},
        ST.REJECTED: set(),
        ST.LIBRARY: {ST.IMPLEMENTING},
        ST.IMPLEMENTING: {ST.FEEDBACK},
        ST.FEEDBACK: {ST.EVALUATED},
        ST.EVALUATED: set(),
    },
    field="stage",
)
DEMAND_STATES = StateMachine(
    Demand,
    {
        DS.OPEN: {DS.ANSWERED, DS.ADOPTED, DS.MERGED, DS.CLOSED},
        DS.ANSWERED: {DS.ADOPTED, DS.MERGED, DS.CLOSED},
        DS.ADOPTED: set(),
        DS.MERGED: set(),
        DS.CLOSED: set(),
    },
)
ENROLMENT_STATES = StateMachine(
    Enrolment,
    {
        ES.ENROLLED: {ES.CANCELLED, ES.CHECKED_IN},
        ES.WAITING: {ES.OFFERED, ES.CANCELLED},
        ES.OFFERED: {ES.ENROLLED, ES.CANCELLED},
        ES.CANCELLED: set(),
        ES.CHECKED_IN: set(),
    },
)
OVERSPEND_STATES = StateMachine(
    Overspend, {OS.PENDING: {OS.APPROVED, OS.REJECTED}, OS.APPROVED: set(), OS.REJECTED: set()}
)

REVIEW_CHAIN = "projects.review"
# How long a member promoted from the waiting list has to confirm the place.
OFFER_HOURS = 24
CENT = Decimal("0.01")


# --- helpers -----------------------------------------------------------------------------


def _require(actor, path: str, message: str | None = None) -> None:
    if not has_capability(actor, PROJECT_MANAGE, path):
        raise PermissionDenied(message or _("您没有管理该服务项目的权限。"))


def _member_of(actor) -> Member:
    member = Member.objects.filter(user=actor).select_related("current_membership").first() if actor else None
    if member is None or member.current_membership_id is None:
        raise DomainError(_("只有在册会员可以办理，请先绑定会员身份。"), code="not_a_member")
    if member.current_membership.status != Membership.Status.ACTIVE:
        raise DomainError(_("您的会籍当前不是正常状态，暂不能办理。"), code="not_a_member")
    return member


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("请填写金额（元），最多两位小数。")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("请填写金额（元），最多两位小数。")})
    return amount


def _clean_text(value: str, field: str, label: str, *, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError({field: _("%(label)s最多 %(n)s 个字，请删减。") % {"label": label, "n": max_length}})
    return value


def _in_subtree(path: str, root: str) -> bool:
    return path.startswith(root)


# --- 1. demands --------------------------------------------------------------------------


@transaction.atomic
def demand_post(*, actor, category: str, description: str, union: Organization) -> Demand:
    """A worker (a member) or a clerk posts a need concerning `union`."""
    if category not in Category.values:
        raise ValidationError({"category": _("请选择需求类别。")})
    description = _clean_text(description, "description", _("需求描述"), max_length=2000)
    if not has_capability(actor, PROJECT_MANAGE, union.path):
        # A worker posts for their own union or one above it; staff for unions in reach.
        member = _member_of(actor)
        if not member.org_path.startswith(union.path):
            raise ValidationError({"union": _("请选择您所在的工会或其上级工会。")})
    demand = Demand.objects.create(
        category=category, description=description, union=union, org_path=union.path, posted_by=actor
    )
    record_created(demand, actor=actor)
    log_action(actor=actor, action="projects.demand_posted", target=demand, organization=union)
    return demand


@transaction.atomic
def demand_second(*, actor, demand: Demand) -> Demand:
    """The signed-in member seconds `demand` once; the count moves with the vote row."""
    member = _member_of(actor)
    demand = Demand.objects.select_for_update().get(pk=demand.pk)
    if demand.status not in (DS.OPEN, DS.ANSWERED):
        raise DomainError(_("该需求已%(state)s，不能再附议。") % {"state": demand.get_status_display()})
    try:
        with transaction.atomic():
            DemandVote.objects.create(demand=demand, member=member)
    except IntegrityError:
        raise DomainError(_("您已附议过该需求，每人只能附议一次。"), code="already_voted") from None
    Demand.objects.filter(pk=demand.pk).update(votes_count=F("votes_count") + 1)
    demand.refresh_from_db(fields=["votes_count"])
    log_action(actor=actor, action="projects.demand_seconded", target=demand)
    return demand


@transaction.atomic
def demand_answer(*, actor, demand: Demand, answer: str, tags: str = "") -> Demand:
    _require(actor, demand.org_path)
    answer = _clean_text(answer, "answer", _("答复"), max_length=2000)
    return transition(
        demand,
        DS.ANSWERED,
        actor=actor,
        action="projects.demand_answered",
        reason=answer[:200],
        fields={"answer": answer, "tags": (tags or "").strip()[:200]},
    )


@transaction.atomic
def demand_merge(*, actor, source: Demand, target: Demand) -> Demand:
    """Merge duplicate `source` into `target`: votes carried over, a member counted once."""
    if source.pk == target.pk:
        raise ValidationError({"target": _("不能把需求合并到它自己。")})
    _require(actor, source.org_path)
    _require(actor, target.org_path)
    # Both rows locked in id order, so two merges touching the same pair queue.
    locked = {d.pk: d for d in Demand.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
    source, target = locked[source.pk], locked[target.pk]
    if target.status not in (DS.OPEN, DS.ANSWERED):
        raise ValidationError(
            {"target": _("目标需求已%(state)s，请选择一条征集中的需求。") % {"state": target.get_status_display()}}
        )
    already = DemandVote.objects.filter(demand=target).values("member_id")
    DemandVote.objects.filter(demand=source, member_id__in=already).delete()
    DemandVote.objects.filter(demand=source).update(demand=target)
    Demand.objects.filter(pk=target.pk).update(votes_count=DemandVote.objects.filter(demand=target).count())
    transition(
        source,
        DS.MERGED,
        actor=actor,
        action="projects.demand_merged",
        fields={"merged_into": target, "votes_count": 0},
        data={"into": target.pk},
    )
    target.refresh_from_db()
    return target


# --- 2. design ---------------------------------------------------------------------------


def _check_project_fields(
    *, start_date, end_date, delivery_mode, purchase_method, contractor, contract_amount, contract_start, contract_end
) -> dict:
    errors = {}
    if end_date < start_date:
        errors["end_date"] = _("结束日期不能早于开始日期。")
    amount = None
    if delivery_mode == Project.Delivery.PURCHASED:
        if purchase_method not in Project.Purchase.values:
            errors["purchase_method"] = _("购买服务请选择招标采购或公益创投。")
        if not (contractor or "").strip():
            errors["contractor"] = _("购买服务请填写承接的社会组织。")
        if contract_amount in (None, ""):
            errors["contract_amount"] = _("购买服务请填写合同金额（元）。")
        else:
            try:
                amount = _money(contract_amount, "contract_amount")
                if amount < 0:
                    errors["contract_amount"] = _("合同金额不能为负数。")
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if not contract_start or not contract_end:
            errors["contract_start"] = _("购买服务请填写合同起止日期。")
        elif contract_end < contract_start:
            errors["contract_end"] = _("合同结束日期不能早于开始日期。")
    elif delivery_mode != Project.Delivery.OWN:
        errors["delivery_mode"] = _("请选择实施方式。")
    if errors:
        raise ValidationError(errors)
    if delivery_mode == Project.Delivery.OWN:
        return {
            "purchase_method": "",
            "contractor": "",
            "contract_amount": None,
            "contract_start": None,
            "contract_end": None,
        }
    return {
        "purchase_method": purchase_method,
        "contractor": contractor.strip(),
        "contract_amount": amount,
        "contract_start": contract_start,
        "contract_end": contract_end,
    }


@transaction.atomic
def project_create(
    *,
    actor,
    union: Organization,
    title: str,
    category: str,
    year: int,
    start_date: dt.date,
    end_date: dt.date,
    summary: str = "",
    delivery_mode: str = Project.Delivery.OWN,
    purchase_method: str = "",
    contractor: str = "",
    contract_amount=None,
    contract_start: dt.date | None = None,
    contract_end: dt.date | None = None,
    implementers: Iterable[Organization] = (),
    goals: Iterable[dict] = (),
    budget: Iterable[dict] = (),
    milestones: Iterable[dict] = (),
    demands: Iterable[Demand] = (),
) -> Project:
    """A project designed by `union` (a draft); goals, budget lines, milestones and implementers with it.

    A refused row is named by its place: `goals.1.target` (the API's dotted paths; the
    design page names its row fields the same), the message saying which row it is.
    """
    _require(actor, union.path, _("您只能为职责范围内的工会设计项目。"))
    title = _clean_text(title, "title", _("项目名称"), max_length=100)
    if category not in Category.values:
        raise ValidationError({"category": _("请选择项目类别。")})
    contract = _check_project_fields(
        start_date=start_date,
        end_date=end_date,
        delivery_mode=delivery_mode,
        purchase_method=purchase_method,
        contractor=contractor,
        contract_amount=contract_amount,
        contract_start=contract_start,
        contract_end=contract_end,
    )
    project = Project.objects.create(
        union=union,
        org_path=union.path,
        title=title,
        category=category,
        year=year,
        summary=(summary or "").strip(),
        start_date=start_date,
        end_date=end_date,
        delivery_mode=delivery_mode,
        created_by=actor,
        **contract,
    )
    for org in implementers:
        project_implementer_add(actor=actor, project=project, union=org)
    for i, spec in enumerate(goals):
        with _row("goals", i, _("第 %(n)s 项目标："), {"goals": "name"}):
            goal_add(actor=actor, project=project, **spec)
    for i, spec in enumerate(budget):
        with _row("budget", i, _("第 %(n)s 项预算科目：")):
            budget_line_add(actor=actor, project=project, **spec)
    for i, spec in enumerate(milestones):
        with _row("milestones", i, _("第 %(n)s 个进度节点：")):
            milestone_add(actor=actor, project=project, **spec)
    for demand in demands:
        if not demand.org_path.startswith(union.path):
            raise ValidationError({"demands": _("只能关联本单位辖区内的职工需求。")})
        project.demands.add(demand)
    record_created(project, actor=actor)
    log_action(actor=actor, action="projects.project_created", target=project, organization=union)
    return project


class _row:
    """Re-name a row's refusal `{"target": …}` as `{"goals.1.target": "第 2 项目标：…"}`."""

    def __init__(self, group: str, index: int, prefix: str, rename: dict | None = None):
        self.group, self.index, self.prefix, self.rename = group, index, prefix, rename or {}

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or not isinstance(exc, ValidationError) or not hasattr(exc, "error_dict"):
            return False
        lead = self.prefix % {"n": self.index + 1}
        raise ValidationError(
            {
                f"{self.group}.{self.index}.{self.rename.get(name, name)}": [lead + m for e in errs for m in e.messages]
                for name, errs in exc.error_dict.items()
            }
        ) from None


def _editable(project: Project) -> Project:
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.stage not in Project.EDITABLE_STAGES:
        raise DomainError(
            _("项目当前为“%(stage)s”，只有草稿或已退回的项目可以修改设计。") % {"stage": project.get_stage_display()}
        )
    return project


@transaction.atomic
def project_implementer_add(*, actor, project: Project, union: Organization) -> ProjectImplementer:
    _require(actor, project.org_path)
    _editable(project)
    if not _in_subtree(union.path, project.org_path):
        raise ValidationError(
            {"implementers": _("实施单位须在设计单位的下级范围内：%(name)s 不在其中。") % {"name": union.name}}
        )
    row, _created = ProjectImplementer.objects.get_or_create(
        project=project, union=union, defaults={"org_path": union.path}
    )
    return row


@transaction.atomic
def goal_add(
    *, actor, project: Project, name: str, target, metric: str = Goal.Metric.BENEFICIARIES, unit: str = ""
) -> Goal:
    _require(actor, project.org_path)
    _editable(project)
    name = _clean_text(name, "goals", _("目标"), max_length=100)
    try:
        target = int(target)
    except (TypeError, ValueError):
        target = 0
    if target <= 0:
        raise ValidationError({"target": _("目标值须为正整数（如受益人数、场次）。")})
    if metric not in Goal.Metric.values:
        raise ValidationError({"metric": _("请选择目标指标。")})
    return Goal.objects.create(project=project, name=name, target=target, metric=metric, unit=(unit or "")[:10])


@transaction.atomic
def budget_line_add(*, actor, project: Project, name: str, planned) -> BudgetLine:
    _require(actor, project.org_path)
    _editable(project)
    name = _clean_text(name, "name", _("预算科目"), max_length=100)
    planned = _money(planned, "planned")
    if planned < 0:
        raise ValidationError({"planned": _("预算金额不能为负数。")})
    return BudgetLine.objects.create(project=project, name=name, planned=planned)


@transaction.atomic
def milestone_add(*, actor, project: Project, name: str, due_date: dt.date) -> Milestone:
    _require(actor, project.org_path)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.stage in (ST.EVALUATED, ST.REJECTED):
        raise DomainError(_("项目已结束，不能再添加进度节点。"))
    name = _clean_text(name, "name", _("节点"), max_length=100)
    if due_date < project.start_date:
        raise ValidationError(
            {"due_date": _("节点日期不能早于项目开始日期（%(d)s）。") % {"d": project.start_date.isoformat()}}
        )
    if due_date > project.end_date:
        raise ValidationError(
            {"due_date": _("节点日期不能晚于项目结束日期（%(d)s）。") % {"d": project.end_date.isoformat()}}
        )
    milestone = Milestone.objects.create(project=project, name=name, due_date=due_date)
    log_action(
        actor=actor,
        action="projects.milestone_added",
        target=project,
        data={"milestone": milestone.pk, "due_date": due_date.isoformat()},
    )
    return milestone


@transaction.atomic
def milestone_done(*, actor, milestone: Milestone, on: dt.date | None = None) -> Milestone:
    project = Project.objects.select_for_update().get(pk=milestone.project_id)
    _require(actor, project.org_path)
    if project.stage in (ST.EVALUATED, ST.REJECTED):
        raise DomainError(_("项目已结束，不能再更改进度节点。"))
    Milestone.objects.filter(pk=milestone.pk).update(done_on=on or timezone.localdate())
    milestone.refresh_from_db()
    log_action(
        actor=actor,
        action="projects.milestone_done",
        target=project,
        data={"milestone": milestone.pk, "done_on": milestone.done_on.isoformat()},
    )
    return milestone


# --- 3. review into the library ---------------------------------------------------------


def _review_chain():
    """The one-step review chain (any city project officer), published on first use."""
    try:
        return approval_chain_current(REVIEW_CHAIN)
    except DomainError:
        return approval_chain_publish(
            code=REVIEW_CHAIN,
            name="服务项目论证入库",
            steps=[{"name": "论证评审", "capability": PROJECT_MANAGE, "org_depth": None, "rule": "any"}],
            effective_from=dt.date(2000, 1, 1),
        )


@transaction.atomic
def project_submit(*, actor, project: Project) -> Project:
    """Send a draft (or a returned project) to review; it needs goals and a budget first."""
    _require(actor, project.org_path)

    def guard(p):
        errors = {}
        if not p.goals.exists():
            errors["goals"] = _("请至少填写一个可衡量的项目目标。")
        if not p.budget_lines.exists():
            errors["budget"] = _("请至少填写一条预算科目。")
        if not p.implementers.exists():
            errors["implementers"] = _("请至少选择一个实施单位。")
        if errors:
            raise ValidationError(errors)

    project = transition(project, ST.IN_REVIEW, actor=actor, action="projects.project_submitted", guard=guard)
    _review_chain()
    approval_start(obj=project, code=REVIEW_CHAIN, actor=actor, org_path=project.org_path)
    return project


def _has_conflict(reviewer, project: Project) -> bool:
    """The project's own designer may not review it (declared conflicts go through review_recuse)."""
    return project.created_by_id == reviewer.pk


def _round(project: Project) -> int:
    return max(len(approval_runs(project)), 1)


@transaction.atomic
def review_recuse(*, actor, project: Project, reason: str) -> Review:
    """A reviewer declares a conflict of interest: recorded, and they cannot decide."""
    _require(actor, project.org_path)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.stage != ST.IN_REVIEW:
        raise DomainError(_("项目不在论证中，无需回避。"))
    reason = _clean_text(reason, "opinion", _("回避理由"), max_length=500)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                project=project,
                org_path=project.org_path,
                reviewer=actor,
                decision=Review.Decision.RECUSED,
                opinion=reason,
                round=_round(project),
            )
    except IntegrityError:
        raise DomainError(_("您已提交过本轮评审意见。"), code="decided") from None
    log_action(actor=actor, action="projects.review_recused", target=project, data={"reason": reason})
    return review


@transaction.atomic
def review_submit(*, actor, project: Project, scores: dict, decision: str, opinion: str = "") -> Review:
    """Score every active criterion (0–100) and approve / return / reject with an opinion."""
    _require(actor, project.org_path)
    project = Project.objects.select_for_update().get(pk=project.pk)
    if project.stage != ST.IN_REVIEW:
        raise DomainError(_("项目当前为“%(stage)s”，不在论证中。") % {"stage": project.get_stage_display()})
    if decision not in (Review.Decision.APPROVE, Review.Decision.RETURN, Review.Decision.REJECT):
        raise ValidationError({"decision": _("请选择同意入库、退回修改或不予入库。")})
    round_ = _round(project)
    if Review.objects.filter(project=project, reviewer=actor, round=round_, decision=Review.Decision.RECUSED).exists():
        raise DomainError(_("您已声明回避，不能评审该项目。"), code="recused")
    if _has_conflict(actor, project):
        raise DomainError(_("您是该项目的设计人，与其存在利益关系，请声明回避。"), code="conflict")
    criteria = list(ReviewCriterion.objects.filter(active=True).order_by("id"))
    if sum(c.weight for c in criteria) != 100:
        raise DomainError(_("评审指标的权重合计须为一百，请先由市总工会设置评审指标。"), code="criteria")
    clean, errors = {}, {}
    for c in criteria:
        raw = (scores or {}).get(str(c.pk), (scores or {}).get(c.pk))
        try:
            value = Decimal(str(raw))
        except (InvalidOperation, TypeError, ValueError):
            value = None
        if value is None or not value.is_finite() or value < 0 or value > 100:
            errors[f"score_{c.pk}"] = _("请为“%(name)s”打分（0–100）。") % {"name": c.name}
        else:
            clean[str(c.pk)] = str(value)
    if errors:
        raise ValidationError(errors)
    total = sum(Decimal(clean[str(c.pk)]) * c.weight for c in criteria) / 100
    runs = [r for r in approval_runs(project) if r.status == "running"]
    if not runs:
        raise DomainError(_("该项目没有进行中的论证，请重新提交。"))
    run = approval_decide(run=runs[0], actor=actor, decision=decision, opinion=opinion)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                project=project,
                org_path=project.org_path,
                reviewer=actor,
                decision=decision,
                opinion=(opinion or "").strip(),
                scores=clean,
                total=total.quantize(CENT),
                round=round_,
            )
    except IntegrityError:
        raise DomainError(_("您已提交过本轮评审意见。"), code="decided") from None
    to = {"approved": ST.LIBRARY, "returned": ST.RETURNED, "rejected": ST.REJECTED}.get(run.status)
    if to is not None:
        fields = {"published_at": timezone.now()} if to == ST.LIBRARY else None
        transition(project, to, actor=actor, action=f"projects.project_{to}", reason=opinion, fields=fields)
        if to == ST.LIBRARY:
            # The demands the project answers are adopted: the board shows them as taken up.
            for demand in project.demands.filter(status__in=[DS.OPEN, DS.ANSWERED]):
                transition(
                    demand, DS.ADOPTED, actor=actor, action="projects.demand_adopted", data={"project": project.pk}
                )
    return review


@transaction.atomic
def project_start(*, actor, project: Project) -> Project:
    """A library project goes into implementation."""
    _require(actor, project.org_path)
    return transition(project, ST.IMPLEMENTING, actor=actor, action="projects.project_started")


@transaction.atomic
def project_close(*, actor, project: Project) -> Project:
    """Implementation over: spending and sign-ups stop, feedback and results open."""
    _require(actor, project.org_path)
    return transition(project, ST.FEEDBACK, actor=actor, action="projects.project_closed")


# --- 4. implementation: sessions, sign-ups, waiting list, check-in ----------------------


def _implementer_path(actor, project: Project) -> None:
    if has_capability(actor, PROJECT_MANAGE, project.org_path):
        return
    for imp in project.implementers.all():
        if has_capability(actor, PROJECT_MANAGE, imp.org_path):
            return
    raise PermissionDenied(_("您不是该项目的设计或实施单位。"))


@transaction.atomic
def session_create(
    *, actor, project: Project, union: Organization, title: str, starts_at: dt.datetime, place: str, capacity
) -> Session:
    project = Project.objects.select_for_update().get(pk=project.pk)
    _require(actor, union.path, _("您只能为职责范围内的实施单位安排场次。"))
    if not project.implementers.filter(union=union).exists():
        raise ValidationError({"union": _("%(name)s 不是该项目的实施单位。") % {"name": union.name}})
    if project.stage not in (ST.LIBRARY, ST.IMPLEMENTING):
        raise DomainError(_("项目当前为“%(stage)s”，入库后才能安排场次。") % {"stage": project.get_stage_display()})
    title = _clean_text(title, "title", _("场次名称"), max_length=100)
    place = _clean_text(place, "place", _("地点"), max_length=100)
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = 0
    if capacity <= 0:
        raise ValidationError({"capacity": _("名额须为正整数。")})
    if starts_at.date() < project.start_date or starts_at.date() > project.end_date:
        raise ValidationError({"starts_at": _("场次时间须在项目起止日期之内。")})
    session = Session.objects.create(
        project=project,
        union=union,
        org_path=union.path,
        title=title,
        starts_at=starts_at,
        place=place,
        capacity=capacity,
    )
    log_action(actor=actor, action="projects.session_created", target=session, organization=union)
    return session


def _lock_session(session: Session) -> Session:
    # FOR NO KEY UPDATE: the counters are not keys, so the foreign-key checks of enrolments
    # being inserted for this session (a KEY SHARE lock each) never wait on it, nor it on them.
    return Session.objects.select_for_update(no_key=True).select_related("project").get(pk=session.pk)


class _Retry(Exception):
    """The place guessed before the lock was not the place found under it: start over."""

    def __init__(self, free: bool):
        self.free = free


# One statement, the only one of a sign-up that holds the session's row lock (until COMMIT,
# the next round trip): lock the row, check the guess (a free seat or not), move the counter
# and set the waiting position of the enrolment inserted just before. A wrong guess changes
# nothing and says so; a session that has started returns no row.
_TAKE_PLACE_SQL = """
WITH s AS (
    SELECT id, seats_taken < capacity AS free
    FROM projects_session WHERE id = %(session)s AND starts_at > %(now)s
    FOR NO KEY UPDATE
), moved AS (
    UPDATE projects_session p
    SET seats_taken = p.seats_taken + CASE WHEN s.free THEN 1 ELSE 0 END,
        waiting_seq = p.waiting_seq + CASE WHEN s.free THEN 0 ELSE 1 END
    FROM s WHERE p.id = s.id AND s.free = %(guess)s
    RETURNING p.waiting_seq
), placed AS (
    UPDATE projects_enrolment e SET position = moved.waiting_seq
    FROM moved WHERE e.id = %(enrolment)s AND NOT %(guess)s
    RETURNING e.position
)
SELECT s.free, (SELECT position FROM placed) FROM s
"""


def _take_place(session: Session, enrolment: Enrolment, *, guess: bool) -> int | None:
    """Hold the place `guess` says (a seat, or the next waiting position); the position taken."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                _TAKE_PLACE_SQL,
                {"session": session.pk, "now": timezone.now(), "enrolment": enrolment.pk, "guess": guess},
            )
            row = cur.fetchone()
        if row is None:
            raise DomainError(_("该场次已开始，不能再报名。"), code="started")
        free, position = row
    else:  # SQLite (tests, the demo): writers are serialised by the database itself.
        locked = Session.objects.select_for_update().filter(pk=session.pk, starts_at__gt=timezone.now()).first()
        if locked is None:
            raise DomainError(_("该场次已开始，不能再报名。"), code="started")
        free, position = locked.seats_taken < locked.capacity, None
        if free == guess and free:
            Session.objects.filter(pk=session.pk).update(seats_taken=F("seats_taken") + 1)
        elif free == guess:
            Session.objects.filter(pk=session.pk).update(waiting_seq=F("waiting_seq") + 1)
            position = locked.waiting_seq + 1
            Enrolment.objects.filter(pk=enrolment.pk).update(position=position)
    if free != guess:
        raise _Retry(free)
    return position


def enrolment_sign_up(*, actor, session: Session, member: Member | None = None) -> Enrolment:
    """The signed-in member takes a place, or the next place in the waiting list.

    Built for a crowd signing up for one session at once: everything that can be done
    without the session's row lock is done first (the checks, the enrolment row with its
    history and audit event, written for the place the session showed a moment ago), and
    the lock is taken by the last statement before COMMIT, so it is held for one statement
    and the commit. If the place turns out otherwise (the last seat went meanwhile), the
    transaction is rolled back and done again for the other place; the CHECK on the
    session's seats is the backstop.
    """
    if member is None or member.user_id != getattr(actor, "pk", None):
        member = _member_of(actor)
    elif member.current_membership_id is None or member.current_membership.status != Membership.Status.ACTIVE:
        member = _member_of(actor)  # refuses with the member's message
    session = Session.objects.select_related("project", "union").get(pk=session.pk)
    project = session.project
    if project.stage != ST.IMPLEMENTING:
        raise DomainError(_("该项目当前不在实施中，暂不能报名。"), code="closed")
    if not member.org_path.startswith(project.org_path):
        raise DomainError(_("该项目未面向您所在的工会开放报名。"), code="not_published")
    if session.starts_at <= timezone.now():
        raise DomainError(_("该场次已开始，不能再报名。"), code="started")
    # Signing up twice: the unique index on live enrolments refuses the INSERT (no extra query).
    guess = session.seats_taken < session.capacity
    for _attempt in range(5):
        try:
            return _sign_up_once(actor, session, member, guess=guess)
        except _Retry as retry:
            guess = retry.free
    # The seats keep flipping between full and free (cancellations in the same instants):
    # wait for the lock first, then write, as any other change of the session does.
    with transaction.atomic():
        locked = _lock_session(session)
        return _sign_up_once(actor, session, member, guess=locked.seats_taken < locked.capacity)


@transaction.atomic
def _sign_up_once(actor, session: Session, member: Member, *, guess: bool) -> Enrolment:
    status = ES.ENROLLED if guess else ES.WAITING
    try:
        # No savepoint (two more round trips): a duplicate aborts the whole transaction anyway.
        enrolment = Enrolment.objects.create(
            session=session, member=member, org_path=session.org_path, status=status, position=None
        )
    except IntegrityError:
        raise DomainError(_("您已报名该场次，请勿重复报名。"), code="already_enrolled") from None
    record_created(enrolment, actor=actor)
    log_action(actor=actor, action="projects.signed_up", target=enrolment, data={"status": status})
    enrolment.position = _take_place(session, enrolment, guess=guess)
    session.seats_taken += 1 if guess else 0
    return enrolment


def _promote_next(session: Session, *, actor) -> Enrolment | None:
    """Offer the freed place to the first in the waiting list (the session row is locked)."""
    nxt = Enrolment.objects.filter(session=session, status=ES.WAITING).order_by("position", "id").first()
    if nxt is None:
        return None
    Session.objects.filter(pk=session.pk).update(seats_taken=F("seats_taken") + 1)
    offered = transition(
        nxt,
        ES.OFFERED,
        actor=actor,
        action="projects.offer_made",
        fields={"offer_expires_at": timezone.now() + dt.timedelta(hours=OFFER_HOURS)},
    )
    notify_offered(offered)  # the worker's inbox and a text message (activity)
    return offered


def _release(enrolment: Enrolment, *, actor, action: str, reason: str = "") -> Enrolment:
    """Cancel `enrolment` (session locked by the caller) and pass its seat on."""
    held = enrolment.status in (ES.ENROLLED, ES.OFFERED)
    enrolment = transition(
        enrolment, ES.CANCELLED, actor=actor, action=action, reason=reason, fields={"offer_expires_at": None}
    )
    if held:
        Session.objects.filter(pk=enrolment.session_id).update(seats_taken=F("seats_taken") - 1)
        _promote_next(enrolment.session, actor=actor)
    return enrolment


@transaction.atomic
def enrolment_cancel(*, actor, enrolment: Enrolment, reason: str = "") -> Enrolment:
    """The member (or a project officer) cancels; a freed place goes to the next in line."""
    own = Member.objects.filter(pk=enrolment.member_id, user=actor).exists() if actor else False
    if not own:
        _require(actor, enrolment.org_path)
    _lock_session(enrolment.session)
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    if enrolment.status == ES.CHECKED_IN:
        raise DomainError(_("已签到的报名不能取消。"))
    return _release(enrolment, actor=actor, action="projects.enrolment_cancelled", reason=reason)


@transaction.atomic
def offer_confirm(*, actor, enrolment: Enrolment) -> Enrolment:
    if not Member.objects.filter(pk=enrolment.member_id, user=actor).exists():
        raise PermissionDenied(_("只能确认您自己的候补名额。"))
    _lock_session(enrolment.session)
    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    if enrolment.status == ES.OFFERED and enrolment.offer_expires_at and enrolment.offer_expires_at <= timezone.now():
        raise DomainError(_("候补名额的确认时间已过，名额已顺延给下一位。"), code="offer_expired")
    return transition(
        enrolment, ES.ENROLLED, actor=actor, action="projects.offer_confirmed", fields={"offer_expires_at": None}
    )


@transaction.atomic
def offer_expire(*, enrolment_id: int) -> bool:
    """Pass an expired offer on. Idempotent: a second run (or a confirmation first) does nothing."""
    enrolment = Enrolment.objects.filter(pk=enrolment_id).select_related("session").first()
    if enrolment is None:
        return False
    _lock_session(enrolment.session)
    enrolment = Enrolment.objects.get(pk=enrolment_id)
    if (
        enrolment.status != ES.OFFERED
        or enrolment.offer_expires_at is None
        or enrolment.offer_expires_at > timezone.now()
    ):
        return False
    _release(enrolment, actor=None, action="projects.offer_expired", reason=_("候补确认超时"))
    return True


def offers_expire_due() -> int:
    """Every offer past its time, each in its own transaction (the periodic task calls this)."""
    due = Enrolment.objects.filter(status=ES.OFFERED, offer_expires_at__lte=timezone.now()).values_list("pk", flat=True)
    return sum(1 for pk in list(due[:1000]) if offer_expire(enrolment_id=pk))


def _card_membership_id(token: str) -> int | None:
    try:
        value = signing.Signer(salt=CARD_SALT).unsign(token or "")
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


@transaction.atomic
def checkin_scan(*, actor, session: Session, token: str) -> CheckIn:
    """Check in the member whose card QR was scanned at `session`; a second scan counts once."""
    _require(actor, session.org_path, _("您不是该场次的实施单位，不能签到。"))
    token = (token or "").strip()
    # The QR may carry the verification URL; its last path segment is the signed token.
    if "/" in token:
        token = token.rstrip("/").rsplit("/", 1)[-1]
    check = card_verify(token)
    membership_id = _card_membership_id(token) if check is not None else None
    if check is None or membership_id is None:
        raise DomainError(
            _("无法识别的会员卡二维码（签名无效），请让会员出示本人的电子会员卡。"), code="forged", field="token"
        )
    if not check.valid:
        raise DomainError(
            _("该会员卡已失效（%(state)s）。") % {"state": check.status_label}, code="card_invalid", field="token"
        )
    member_id = Membership.objects.filter(pk=membership_id).values_list("member_id", flat=True).first()
    _lock_session(session)
    enrolment = (
        Enrolment.objects.filter(session=session, member_id=member_id, status__in=[ES.ENROLLED, ES.CHECKED_IN])
        .select_for_update()
        .first()
    )
    if enrolment is None:
        raise DomainError(
            _("%(name)s 没有报名本场次（或仅在候补中），不能签到。") % {"name": check.masked_name},
            code="not_enrolled",
            field="token",
        )
    if enrolment.status == ES.CHECKED_IN:
        CheckIn.objects.filter(enrolment=enrolment).update(scans=F("scans") + 1)
        return CheckIn.objects.get(enrolment=enrolment)
    transition(enrolment, ES.CHECKED_IN, actor=actor, action="projects.checked_in")
    return CheckIn.objects.create(enrolment=enrolment, scanned_by=actor)


# --- spending against budget lines ------------------------------------------------------


@transaction.atomic
def expense_record(*, actor, line: BudgetLine, amount, note: str = "") -> Expense:
    """Spend against `line`: refused past the plan plus any approved overspend."""
    line = BudgetLine.objects.select_for_update().select_related("project").get(pk=line.pk)
    _implementer_path(actor, line.project)
    if line.project.stage != ST.IMPLEMENTING:
        raise DomainError(
            _("项目当前为“%(stage)s”，只有实施中的项目可以记录支出。") % {"stage": line.project.get_stage_display()},
            code="closed",
        )
    amount = _money(amount, "amount")
    if amount <= 0:
        raise ValidationError({"amount": _("支出金额须大于 0 元。")})
    # The conditional UPDATE is the rule; the CHECK would catch a bypass.
    updated = BudgetLine.objects.filter(pk=line.pk, spent__lte=F("planned") + F("approved_over") - amount).update(
        spent=F("spent") + amount
    )
    if not updated:
        left = line.planned + line.approved_over - line.spent
        raise DomainError(
            _("“%(name)s”剩余可用 %(left)s 元，本次支出 %(amount)s 元将超出预算，请先申请超支审批。")
            % {"name": line.name, "left": left, "amount": amount},
            code="over_budget",
            field="amount",
        )
    expense = Expense.objects.create(line=line, amount=amount, note=(note or "").strip()[:200], recorded_by=actor)
    log_action(
        actor=actor,
        action="projects.expense_recorded",
        target=line.project,
        data={"line": line.pk, "amount": str(amount)},
    )
    return expense


@transaction.atomic
def overspend_request(*, actor, line: BudgetLine, amount, reason: str) -> Overspend:
    _implementer_path(actor, line.project)
    amount = _money(amount, "amount")
    if amount <= 0:
        raise ValidationError({"amount": _("超支金额须大于 0 元。")})
    reason = _clean_text(reason, "reason", _("理由"), max_length=200)
    req = Overspend.objects.create(line=line, amount=amount, reason=reason, requested_by=actor)
    record_created(req, actor=actor, org_path=line.project.org_path)
    log_action(
        actor=actor,
        action="projects.overspend_requested",
        target=line.project,
        data={"line": line.pk, "amount": str(amount)},
    )
    return req


@transaction.atomic
def overspend_decide(*, actor, request: Overspend, approve: bool, reason: str = "") -> Overspend:
    """The designer's officer (not the requester) approves or refuses an overspend."""
    project = request.line.project
    _require(actor, project.org_path)
    if request.requested_by_id == actor.pk:
        raise DomainError(_("超支申请须由申请人以外的人员审批。"), code="four_eyes")
    if approve:
        request = transition(
            request,
            OS.APPROVED,
            actor=actor,
            action="projects.overspend_approved",
            fields={"decided_by": actor},
            org_path=project.org_path,
        )
        BudgetLine.objects.filter(pk=request.line_id).update(approved_over=F("approved_over") + request.amount)
        return request
    return transition(
        request,
        OS.REJECTED,
        actor=actor,
        action="projects.overspend_rejected",
        reason=reason,
        fields={"decided_by": actor},
        org_path=project.org_path,
    )


# --- 5. feedback ------------------------------------------------------------------------


@transaction.atomic
def rating_submit(*, actor, enrolment: Enrolment, score, comment: str = "") -> Rating:
    """Only a participant who checked in rates, once."""
    if not Member.objects.filter(pk=enrolment.member_id, user=actor).exists():
        raise PermissionDenied(_("只能评价您自己参加的活动。"))
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status != ES.CHECKED_IN:
        raise DomainError(_("只有签到参加了活动的会员可以评价。"), code="not_attended")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": _("评分须为 1 到 5 分。")})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": _("评价最多 500 个字，请删减。")})
    if Rating.objects.filter(enrolment=enrolment).exists():
        raise DomainError(_("您已评价过该活动。"), code="already_rated")
    rating = Rating.objects.create(enrolment=enrolment, org_path=enrolment.org_path, score=score, comment=comment)
    log_action(actor=actor, action="projects.rated", target=enrolment, data={"score": score})
    return rating


def _result_path(actor, project: Project) -> str:
    """Scope a result (and its evidence) where both the filer and the designer reach it."""
    if has_capability(actor, PROJECT_MANAGE, project.org_path):
        return project.org_path
    for imp in project.implementers.all():
        if has_capability(actor, PROJECT_MANAGE, imp.org_path):
            return imp.org_path
    return project.org_path


@transaction.atomic
def result_file(*, actor, goal: Goal, achieved, note: str = "") -> Result:
    project = Project.objects.select_for_update().get(pk=goal.project_id)
    _implementer_path(actor, project)
    if project.stage not in (ST.IMPLEMENTING, ST.FEEDBACK):
        raise DomainError(
            _("项目当前为“%(stage)s”，实施中或结果反馈阶段才能填报结果。") % {"stage": project.get_stage_display()}
        )
    try:
        achieved = int(achieved)
    except (TypeError, ValueError):
        achieved = -1
    if achieved < 0:
        raise ValidationError({"achieved": _("完成值须为不小于 0 的整数。")})
    result, _created = Result.objects.update_or_create(
        goal=goal,
        defaults={
            "project": project,
            "org_path": _result_path(actor, project),
            "achieved": achieved,
            "note": (note or "").strip()[:500],
            "filed_by": actor,
        },
    )
    log_action(
        actor=actor, action="projects.result_filed", target=project, data={"goal": goal.pk, "achieved": achieved}
    )
    return result


# --- 6. evaluation ----------------------------------------------------------------------


@transaction.atomic
def weights_set(*, actor, year: int, reach, budget, satisfaction, timeliness) -> EvaluationWeights:
    """The city federation's weights for `year` (each 0–100, summing to 100)."""
    root = Organization.objects.get_root_nodes().first()
    _require(actor, root.path if root else "", _("评估权重由市总工会设置。"))
    values = {}
    for name, raw in (("reach", reach), ("budget", budget), ("satisfaction", satisfaction), ("timeliness", timeliness)):
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            raise ValidationError({name: _("权重须为 0 到 100 的整数。")}) from None
        if not 0 <= values[name] <= 100:
            raise ValidationError({name: _("权重须为 0 到 100 的整数。")})
    total = sum(values.values())
    if total != 100:
        raise ValidationError({"reach": _("四项权重合计须为 100%%，当前合计 %(total)s%%。") % {"total": total}})
    weights, _created = EvaluationWeights.objects.update_or_create(year=year, defaults={**values, "set_by": actor})
    log_action(actor=actor, action="projects.weights_set", target=weights, data=values)
    return weights


@transaction.atomic
def criteria_set(*, actor, criteria: Iterable[dict]) -> list[ReviewCriterion]:
    """The city federation's review criteria: names and weights (whole percents summing to 100).

    Rows update the active criteria in order (so reviews already scored keep their keys),
    new rows add criteria, criteria left out are retired (kept for the reviews that used them).
    """
    root = Organization.objects.get_root_nodes().first()
    _require(actor, root.path if root else "", _("评审指标由市总工会设置。"))
    rows, errors = [], {}
    for i, spec in enumerate(criteria):
        name = (spec.get("name") or "").strip()
        raw = spec.get("weight")
        if not name and raw in (None, ""):
            continue
        lead = _("第 %(n)s 项评审指标：") % {"n": i + 1}
        if not name:
            errors[f"criteria.{i}.name"] = lead + _("请填写指标名称。")
        elif len(name) > 60:
            errors[f"criteria.{i}.name"] = lead + _("指标名称最多 60 个字，请删减。")
        try:
            weight = int(raw)
        except (TypeError, ValueError):
            weight = 0
        if not 1 <= weight <= 100:
            errors[f"criteria.{i}.weight"] = lead + _("权重须为 1 到 100 的整数（%）。")
        rows.append((name, weight))
    if errors:
        raise ValidationError(errors)
    if not rows:
        raise ValidationError({"criteria": _("请至少填写一项评审指标。")})
    total = sum(w for _n, w in rows)
    if total != 100:
        raise ValidationError(
            {"criteria": _("各项评审指标的权重合计须为 100%%，当前合计 %(total)s%%，请调整。") % {"total": total}}
        )
    current = list(ReviewCriterion.objects.select_for_update().filter(active=True).order_by("id"))
    kept = []
    for i, (name, weight) in enumerate(rows):
        if i < len(current):
            c = current[i]
            c.name, c.weight = name, weight
            c.save(update_fields=["name", "weight"])
        else:
            c = ReviewCriterion.objects.create(name=name, weight=weight)
        kept.append(c)
    ReviewCriterion.objects.filter(pk__in=[c.pk for c in current[len(rows) :]]).update(active=False)
    log_action(
        actor=actor,
        action="projects.criteria_set",
        organization=root,
        data={"criteria": [{"name": n, "weight": w} for n, w in rows]},
    )
    return kept


def _pct(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def evaluation_compute(project: Project) -> dict:
    """The four scores (0–100) with a sentence each saying how it was reached."""
    goals = list(project.goals.all())
    results = {r.goal_id: r.achieved for r in Result.objects.filter(project=project)}
    ratios = [min(Decimal(results.get(g.pk, 0)) / g.target, Decimal(1)) for g in goals]
    reach = _pct(sum(ratios) / len(ratios) * 100) if ratios else Decimal("0.00")
    sums = project.budget_lines.aggregate(planned=Sum("planned"), spent=Sum("spent"))
    planned, spent = sums["planned"] or Decimal(0), sums["spent"] or Decimal(0)
    if planned > 0:
        r = spent / planned
        budget = _pct(r * 100 if r <= 1 else max(Decimal(0), 100 - (r - 1) * 200))
    else:
        budget = Decimal("0.00")
    avg = Rating.objects.filter(enrolment__session__project=project).aggregate(a=Avg("score"))["a"]
    satisfaction = _pct(Decimal(str(avg)) / 5 * 100) if avg is not None else Decimal("0.00")
    milestones = list(project.milestones.all())
    on_time = [m for m in milestones if m.done_on is not None and m.done_on <= m.due_date]
    timeliness = _pct(Decimal(len(on_time)) / len(milestones) * 100) if milestones else Decimal("100.00")
    explanation = [
        _("覆盖达成：%(n)s 个目标完成率（封顶 100%%）的平均值为 %(v)s。") % {"n": len(goals), "v": reach},
        _("预算执行：支出 %(spent)s 元 / 预算 %(planned)s 元；未超支按执行率计分，超支每 1%% 扣 2 分。")
        % {"spent": spent, "planned": planned},
        _("满意度：参与者平均评分 %(avg)s 分（满分 5 分）。") % {"avg": f"{avg:.2f}" if avg is not None else "—"},
        _("按时完成：%(on)s / %(all)s 个进度节点按期完成。") % {"on": len(on_time), "all": len(milestones)},
    ]
    return {
        "reach": reach,
        "budget": budget,
        "satisfaction": satisfaction,
        "timeliness": timeliness,
        "explanation": explanation,
    }


@transaction.atomic
def project_evaluate(*, actor, project: Project) -> Evaluation:
    """Score a project in feedback with the city's weights of its year; it becomes evaluated."""
    _require(actor, project.org_path)
    weights = EvaluationWeights.objects.filter(year=project.year).first()
    if weights is None:
        raise DomainError(_("市总工会尚未设置 %(year)s 年度的评估权重。") % {"year": project.year}, code="no_weights")

    def guard(p):
        if Evaluation.objects.filter(project=p).exists():
            raise DomainError(_("该项目已评估。"))

    project = transition(project, ST.EVALUATED, actor=actor, action="projects.project_evaluated", guard=guard)
    s = evaluation_compute(project)
    w = {
        "reach": weights.reach,
        "budget": weights.budget,
        "satisfaction": weights.satisfaction,
        "timeliness": weights.timeliness,
    }
    total = _pct(sum(s[k] * w[k] for k in w) / 100)
    return Evaluation.objects.create(
        project=project,
        org_path=project.org_path,
        reach_score=s["reach"],
        budget_score=s["budget"],
        satisfaction_score=s["satisfaction"],
        timeliness_score=s["timeliness"],
        total=total,
        weights=w,
        explanation=[str(x) for x in s["explanation"]],
        evaluated_by=actor,
    )
