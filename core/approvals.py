"""Approval chains as data, driven by the state-machine helper.

A chain (code + version) is a list of steps; each step names the capability its approvers
need, the tree depth on the object's org path where they must hold it (2 = district, …),
and how many approvals complete it (any one, all `required` of a panel, or N). A run pins
the chain version it starts with: publishing version 4 never changes a run begun on 3.

Decisions lock the run row (SELECT … FOR UPDATE), so two approvers deciding the last step
at the same moment queue: the first completes the run, the second finds it ended and is
refused. A reject ends the run, a return sends it back to the applicant (resubmitting
starts a new run on the same pinned version), and no one decides a step twice.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import log_action
from .errors import DomainError, TransitionError
from .models import ApprovalChain, ApprovalDecision, ApprovalRun, ApprovalStep
from .scoping import has_capability
from .states import StateMachine, transition

# Step length of the org tree's materialised path (organizations.Organization.steplen;
# a test holds the two equal). Depth d's ancestor is path[: ORG_PATH_STEP * d].
ORG_PATH_STEP = 4

RS = ApprovalRun.Status
APPROVAL_RUN_STATES = StateMachine(
    ApprovalRun,
    {
        RS.RUNNING: {RS.APPROVED, RS.REJECTED, RS.RETURNED, RS.CANCELLED},
        RS.APPROVED: set(),
        RS.REJECTED: set(),
        RS.RETURNED: set(),
        RS.CANCELLED: set(),
    },
)
D = ApprovalDecision.Decision


def step_path(org_path: str, step: ApprovalStep) -> str:
    """The org path where the step's approvers must hold its capability."""
    if step.org_depth is None:
        return org_path
    return org_path[: ORG_PATH_STEP * step.org_depth]


@transaction.atomic
def approval_chain_publish(
    *, code: str, name: str, steps: list[dict], effective_from: dt.date | None = None
) -> ApprovalChain:
    """A new version of chain `code` with `steps` ([{name, capability, org_depth, rule, required}]).

    Older versions stay as they are for the runs pinned to them.
    """
    if not steps:
        raise ValidationError({"steps": _("审批流程至少需要一个步骤。")})
    last = ApprovalChain.objects.select_for_update().filter(code=code).order_by("-version").first()
    chain = ApprovalChain.objects.create(
        code=code,
        version=(last.version + 1) if last else 1,
        name=name,
        effective_from=effective_from or timezone.localdate(),
    )
    for order, spec in enumerate(steps, start=1):
        rule = spec.get("rule", ApprovalStep.Rule.ANY)
        required = int(spec.get("required", 1))
        if rule == ApprovalStep.Rule.ANY:
            required = 1
        if required < 1:
            raise ValidationError({"required": _("所需同意人数至少为 1。")})
        ApprovalStep.objects.create(
            chain=chain,
            order=order,
            name=spec["name"],
            capability=spec["capability"],
            org_depth=spec.get("org_depth"),
            rule=rule,
            required=required,
        )
    return chain


def approval_chain_current(code: str, *, on: dt.date | None = None) -> ApprovalChain:
    """The active version of `code` in force on `on` (today): the highest such version."""
    on = on or timezone.localdate()
    chain = ApprovalChain.objects.filter(code=code, is_active=True, effective_from__lte=on).order_by("-version").first()
    if chain is None:
        raise DomainError(_("审批流程“%(code)s”尚未配置或未生效，请联系系统管理员。") % {"code": code})
    return chain


def _first_step(chain: ApprovalChain) -> ApprovalStep:
    return chain.steps.order_by("order").first()


def _start(*, obj: models.Model, chain: ApprovalChain, actor, org_path: str) -> ApprovalRun:
    ct = ContentType.objects.get_for_model(obj)
    if ApprovalRun.objects.filter(content_type=ct, object_id=str(obj.pk), status=RS.RUNNING).exists():
        raise DomainError(_("该事项已在审批中，请勿重复提交。"), code="approval_running")
    try:
        with transaction.atomic():
            run = ApprovalRun.objects.create(
                content_type=ct,
                object_id=str(obj.pk),
                chain=chain,
                current_step=_first_step(chain),
                org_path=org_path,
                started_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        # A concurrent start won the partial unique index (one running run per object).
        raise DomainError(_("该事项已在审批中，请勿重复提交。"), code="approval_running") from None
    log_action(
        actor=actor,
        action="approval.started",
        target=run,
        data={"chain": chain.code, "version": chain.version, "object": f"{ct.model}:{obj.pk}"},
    )
    return run


@transaction.atomic
def approval_start(*, obj: models.Model, code: str, actor, org_path: str) -> ApprovalRun:
    """Start `obj` through the chain `code` in force today; the run keeps that version."""
    return _start(obj=obj, chain=approval_chain_current(code), actor=actor, org_path=org_path)


@transaction.atomic
def approval_resubmit(*, run: ApprovalRun, actor) -> ApprovalRun:
    """After a return: a new run on the same pinned chain version, from its first step."""
    run = ApprovalRun.objects.select_for_update().select_related("chain").get(pk=run.pk)
    if run.status != RS.RETURNED:
        raise TransitionError(
            _("当前审批状态为“%(state)s”，只有已退回的审批可以重新提交。")
            % {"state": APPROVAL_RUN_STATES.label(run.status)}
        )
    obj = run.content_type.get_object_for_this_type(pk=run.object_id)
    return _start(obj=obj, chain=run.chain, actor=actor, org_path=run.org_path)


def _needed(step: ApprovalStep) -> int:
    return 1 if step.rule == ApprovalStep.Rule.ANY else step.required


@transaction.atomic
def approval_decide(*, run: ApprovalRun, actor, decision: str, opinion: str = "") -> ApprovalRun:
    """`actor` decides the run's current step: approve, reject (ends the run) or return.

    Guards: the run is still running; the actor holds the step's capability at the step's
    level of the object's path; the actor has not decided this step of this run before.
    """
    run = ApprovalRun.objects.select_for_update(of=("self",)).select_related("chain", "current_step").get(pk=run.pk)
    if decision not in D.values:
        raise ValidationError({"decision": _("请选择同意、不同意或退回。")})
    opinion = (opinion or "").strip()[:500]
    if decision in (D.REJECT, D.RETURN) and not opinion:
        raise ValidationError({"opinion": _("不同意或退回时请填写审批意见。")})
    if run.status != RS.RUNNING:
        raise TransitionError(
            _("该审批已结束（%(state)s），不能再提交意见。") % {"state": APPROVAL_RUN_STATES.label(run.status)}
        )
    step = run.current_step
    if not has_capability(actor, step.capability, step_path(run.org_path, step)):
        raise PermissionDenied(_("您没有审批“%(step)s”这一步的权限。") % {"step": step.name})
    if ApprovalDecision.objects.filter(run=run, step=step, approver=actor).exists():
        raise DomainError(_("您已对“%(step)s”提交过意见，不能重复审批。") % {"step": step.name}, code="decided")
    ApprovalDecision.objects.create(run=run, step=step, approver=actor, decision=decision, opinion=opinion)
    log_action(
        actor=actor,
        action="approval.decided",
        target=run,
        data={"step": step.order, "decision": decision},
    )
    if decision == D.REJECT:
        return transition(
            run,
            RS.REJECTED,
            actor=actor,
            action="approval.rejected",
            reason=opinion,
            fields={"ended_at": timezone.now()},
        )
    if decision == D.RETURN:
        return transition(
            run,
            RS.RETURNED,
            actor=actor,
            action="approval.returned",
            reason=opinion,
            fields={"ended_at": timezone.now()},
        )
    approvals = ApprovalDecision.objects.filter(run=run, step=step, decision=D.APPROVE).count()
    if approvals < _needed(step):
        return run
    following = run.chain.steps.filter(order__gt=step.order).order_by("order").first()
    if following is None:
        return transition(
            run,
            RS.APPROVED,
            actor=actor,
            action="approval.approved",
            reason=opinion,
            fields={"ended_at": timezone.now()},
        )
    run.current_step = following
    run.save(update_fields=["current_step"])
    return run


@transaction.atomic
def approval_cancel(*, run: ApprovalRun, actor, reason: str = "") -> ApprovalRun:
    """The applicant withdraws: the run ends, nothing more can be decided."""
    return transition(
        run, RS.CANCELLED, actor=actor, action="approval.cancelled", reason=reason, fields={"ended_at": timezone.now()}
    )
