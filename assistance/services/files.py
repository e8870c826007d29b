"""Standards and the hardship file's workflow: apply → investigate → notice → approve → register → review."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import calendar as workdays
from core.approvals import approval_chain_publish, approval_decide, approval_start
from core.audit import log_action
from core.crypto import decrypt, encrypt, id_hash, mask_id
from core.errors import DomainError
from core.models import ApprovalChain, ApprovalRun
from core.roles import AID_APPROVE, AID_MANAGE
from core.states import StateMachine, record_created, transition
from members.models import Member, Membership
from members.validators import age_on, parse_id_number
from organizations.models import Organization

from ..models import (
    AGGRAVATING_CAUSES,
    OPEN_STATUSES,
    SUDDEN_CAUSES,
    AidKind,
    AidStandard,
    Budget,
    Cause,
    FileStatus,
    Grant,
    GrantStatus,
    HardshipFile,
    HouseholdMember,
    Investigation,
    Objection,
    PublicNotice,
    Relation,
    Schooling,
    Tier,
)
from . import funds
from .common import MAX_MONTHLY_INCOME, money, require, yuan

FS = FileStatus
FILE_STATES = StateMachine(
    HardshipFile,
    {
        FS.APPLIED: {FS.INVESTIGATING, FS.CLOSED},
        FS.INVESTIGATING: {FS.NOTICE, FS.CLOSED},
        # An objection upheld sends the file back to investigation.
        FS.NOTICE: {FS.APPROVING, FS.INVESTIGATING, FS.CLOSED},
        # Returned for more information → investigation again.
        FS.APPROVING: {FS.REGISTERED, FS.REJECTED, FS.INVESTIGATING},
        FS.REGISTERED: {FS.REVIEW, FS.LIFTED, FS.SAFETY_NET, FS.CLOSED},
        FS.REVIEW: {FS.REGISTERED, FS.LIFTED, FS.SAFETY_NET, FS.CLOSED},
        FS.REJECTED: set(),
        FS.LIFTED: set(),
        FS.SAFETY_NET: set(),
        FS.CLOSED: set(),
    },
)
EDITABLE = (FS.APPLIED, FS.INVESTIGATING)

# Approval chains by level (the standard names one per amount band).
CHAIN_STEPS = {
    "aid.street": [(3, _("街道审批"))],
    "aid.district": [(3, _("街道审批")), (2, _("区总工会审批"))],
    "aid.city": [(3, _("街道审批")), (2, _("区总工会审批")), (1, _("市总工会审批"))],
}
CHAIN_NAMES = {
    "aid.street": _("困难帮扶·街道审批"),
    "aid.district": _("困难帮扶·区级审批"),
    "aid.city": _("困难帮扶·市级审批"),
}


# --- standards ---------------------------------------------------------------------------


@transaction.atomic
def aid_chains_ensure() -> None:
    """Publish the three aid approval chains if they do not exist yet (idempotent)."""
    for code, steps in CHAIN_STEPS.items():
        if not ApprovalChain.objects.filter(code=code).exists():
            approval_chain_publish(
                code=code,
                name=str(CHAIN_NAMES[code]),
                steps=[{"name": str(name), "capability": AID_APPROVE, "org_depth": depth} for depth, name in steps],
                effective_from=dt.date(2000, 1, 1),
            )


def _root_path() -> str:
    root = Organization.objects.filter(depth=1).order_by("path").first()
    return root.path if root else ""


@transaction.atomic
def standard_publish(
    *,
    actor,
    name: str,
    effective_from: dt.date,
    min_living_line,
    low_income_line,
    yearly_cap,
    amounts: dict,
    approval_levels: list,
    notice_working_days: int = 5,
    review_months: int = 12,
) -> AidStandard:
    """A new version of the city's standard. Older versions stay for the files decided on them."""
    require(actor, AID_MANAGE, _root_path())
    min_line = money(min_living_line, field="min_living_line", maximum=MAX_MONTHLY_INCOME)
    low_line = money(low_income_line, field="low_income_line", maximum=MAX_MONTHLY_INCOME)
    if low_line < min_line:
        raise ValidationError({"low_income_line": _("低收入线不能低于低保线。")})
    cap = money(yearly_cap, field="yearly_cap")
    if int(notice_working_days) < 1:
        raise ValidationError({"notice_working_days": _("公示期至少 1 个工作日。")})
    for tier, kinds in (amounts or {}).items():
        if tier not in Tier.values or not isinstance(kinds, dict):
            raise ValidationError({"amounts": _("救助金额表中的档次“%(t)s”不存在。") % {"t": tier}})
        for kind, rng in kinds.items():
            if kind not in AidKind.values or len(rng) != 2:
                raise ValidationError({"amounts": _("救助金额表中的类别“%(k)s”不正确。") % {"k": kind}})
            low, high = (money(v, field="amounts") for v in rng)
            if low > high:
                raise ValidationError({"amounts": _("救助金额范围的下限不能高于上限。")})
    if not approval_levels or approval_levels[-1].get("up_to") is not None:
        raise ValidationError({"approval_levels": _("审批层级的最后一级必须不设金额上限。")})
    for level in approval_levels:
        if level.get("chain") not in CHAIN_STEPS:
            raise ValidationError({"approval_levels": _("审批层级引用了不存在的审批流程。")})
    if AidStandard.objects.filter(effective_from=effective_from).exists():
        raise ValidationError({"effective_from": _("该生效日期已有一版标准，请换一个生效日期。")})
    last = AidStandard.objects.select_for_update().order_by("-version").first()
    standard = AidStandard.objects.create(
        version=(last.version + 1) if last else 1,
        name=(name or "").strip()[:120] or _("困难职工帮扶标准"),
        effective_from=effective_from,
        min_living_line=min_line,
        low_income_line=low_line,
        notice_working_days=int(notice_working_days),
        yearly_cap=cap,
        review_months=int(review_months),
        amounts=amounts,
        approval_levels=approval_levels,
    )
    aid_chains_ensure()
    log_action(actor=actor, action="aid.standard_published", target=standard, data={"version": standard.version})
    return standard


def standard_in_force(on: dt.date | None = None) -> AidStandard:
    on = on or timezone.localdate()
    standard = AidStandard.objects.filter(effective_from__lte=on).order_by("-effective_from").first()
    if standard is None:
        raise DomainError(_("尚未发布生效的困难职工帮扶标准，请联系市总工会。"), code="no_standard")
    return standard


# --- tier --------------------------------------------------------------------------------


def compute_tier(
    standard: AidStandard, incomes: list[Decimal], causes: list[str], *, aggravating: bool = False
) -> tuple[str, str, Decimal | None]:
    """(tier, explanation in Chinese, per-head monthly income) under `standard`.

    Deep: per-head income below the minimum-living line. Relative: below the low-income line
    with an aggravating circumstance (illness, disability, a child at school, a single
    parent). Accident: a sudden cause (accident, disaster) whatever the income.
    """
    if not incomes:
        return Tier.NONE, _("尚未登记家庭成员，无法测算。"), None
    per_head = (sum(incomes, Decimal("0")) / len(incomes)).quantize(Decimal("0.01"))
    line, low = standard.min_living_line, standard.low_income_line
    head = _("人均月收入 %(x)s 元") % {"x": yuan(per_head)}
    if per_head < line:
        return Tier.DEEP, _("%(head)s < 低保线 %(line)s 元 → 深度困难") % {"head": head, "line": yuan(line)}, per_head
    aggravating = aggravating or bool(set(causes) & AGGRAVATING_CAUSES)
    if per_head < low and aggravating:
        return (
            Tier.RELATIVE,
            _("%(head)s < 低收入线 %(low)s 元，且有因病、因残、因学或单亲等情形 → 相对困难")
            % {"head": head, "low": yuan(low)},
            per_head,
        )
    if set(causes) & SUDDEN_CAUSES:
        return Tier.ACCIDENT, _("%(head)s，因意外事故或灾害突发困难 → 意外致困") % {"head": head}, per_head
    if per_head < low:
        return (
            Tier.NONE,
            _("%(head)s < 低收入线 %(low)s 元，但无因病、因残、因学或单亲等情形 → 不符合困难条件")
            % {"head": head, "low": yuan(low)},
            per_head,
        )
    return Tier.NONE, _("%(head)s ≥ 低收入线 %(low)s 元 → 不符合困难条件") % {"head": head, "low": yuan(low)}, per_head


def _recompute_tier(file: HardshipFile) -> None:
    rows = list(file.household.all())
    incomes = [Decimal(decrypt(r.income_enc)) for r in rows]
    aggravating = any(r.has_health_issue or r.has_disability or r.schooling for r in rows)
    tier, explanation, per_head = compute_tier(file.standard, incomes, file.causes, aggravating=aggravating)
    file.tier_computed, file.tier_explanation, file.per_capita_income = tier, explanation, per_head
    fields = ["tier_computed", "tier_explanation", "per_capita_income", "updated_at"]
    if not file.tier_override_reason:
        file.tier = tier
        fields.append("tier")
    file.save(update_fields=fields)


# --- opening a file ----------------------------------------------------------------------


def _clean_causes(causes) -> list[str]:
    causes = [c for c in dict.fromkeys(causes or [])]
    if not causes:
        raise ValidationError({"causes": _("请至少选择一项致困原因。")})
    unknown = [c for c in causes if c not in Cause.values]
    if unknown:
        raise ValidationError({"causes": _("致困原因“%(c)s”不在可选范围内。") % {"c": unknown[0]}})
    return causes


def _open_file_of(member: Member, exclude_pk=None) -> HardshipFile | None:
    return HardshipFile.objects.filter(member=member, status__in=OPEN_STATUSES).exclude(pk=exclude_pk).first()


def _file_holding_person(hash_: str, exclude_pk=None) -> HardshipFile | None:
    """The open file whose household (or applicant) includes the person with this ID hash."""
    row = (
        HouseholdMember.objects.filter(id_hash=hash_, file__status__in=OPEN_STATUSES)
        .exclude(file_id=exclude_pk)
        .select_related("file")
        .first()
    )
    if row:
        return row.file
    return (
        HardshipFile.objects.filter(member__id_number_hash=hash_, status__in=OPEN_STATUSES)
        .exclude(pk=exclude_pk)
        .first()
    )


@transaction.atomic
def file_open(
    *,
    actor,
    member: Member,
    causes: list[str],
    assets_note: str = "",
    requested_kind: str = "",
    requested_amount=None,
    is_emergency: bool = False,
) -> HardshipFile:
    """Open a file for `member`'s household: by an aid officer in reach, or by the worker.

    One open file per household; a person already in another open file is refused with
    that file's number.
    """
    membership = (
        Membership.objects.filter(member=member, status=Membership.Status.ACTIVE).select_related("union").first()
    )
    if membership is None:
        raise DomainError(_("只有在册会员才能建立困难职工档案。"), field="member")
    by_worker = member.user_id is not None and member.user_id == getattr(actor, "pk", None)
    if not by_worker:
        require(actor, AID_MANAGE, membership.org_path)
    causes = _clean_causes(causes)
    if requested_kind and requested_kind not in AidKind.values:
        raise ValidationError({"requested_kind": _("请选择救助类别。")})
    amount = money(requested_amount, field="requested_amount") if requested_amount not in (None, "") else None
    Member.objects.select_for_update().filter(pk=member.pk).first()  # queue concurrent opens for one person
    other = _open_file_of(member) or _file_holding_person(member.id_number_hash)
    if other is not None:
        raise DomainError(
            _("%(name)s 已在困难档案 %(number)s 中（状态：%(status)s），一户只能有一份未结束的档案。")
            % {"name": member.name, "number": other.number, "status": other.get_status_display()},
            code="file_exists",
            field="member",
        )
    try:
        with transaction.atomic():
            file = HardshipFile.objects.create(
                member=member,
                union=membership.union,
                org_path=membership.org_path,
                standard=standard_in_force(),
                causes=causes,
                assets_note=(assets_note or "")[:500],
                requested_kind=requested_kind,
                requested_amount=amount,
                is_emergency=is_emergency,
                applied_by_worker=by_worker,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise DomainError(_("该职工已有未结束的困难档案。"), code="file_exists", field="member") from None
    file.number = f"KN{file.created_at:%Y}{file.pk:06d}"
    file.save(update_fields=["number"])
    record_created(file, actor=actor, reason=_("职工本人申请") if by_worker else "")
    log_action(actor=actor, action="aid.file_opened", target=file, organization=membership.union)
    return file


def _lock_editable(file: HardshipFile) -> HardshipFile:
    file = HardshipFile.objects.select_for_update().select_related("standard", "member").get(pk=file.pk)
    if file.status not in EDITABLE:
        raise DomainError(
            _("档案已进入“%(s)s”阶段，家庭情况不能再修改；如需更正，请退回调查。") % {"s": file.get_status_display()}
        )
    return file


def _may_edit(actor, file: HardshipFile) -> None:
    if (
        file.member.user_id is not None
        and file.member.user_id == getattr(actor, "pk", None)
        and file.status == FS.APPLIED
    ):
        return  # the worker completes their own application
    require(actor, AID_MANAGE, file.org_path)


@transaction.atomic
def household_member_add(
    *,
    actor,
    file: HardshipFile,
    name: str,
    relation: str,
    age,
    monthly_income,
    id_number: str = "",
    schooling: str = "",
    health: str = "",
    disability: str = "",
) -> HouseholdMember:
    file = _lock_editable(file)
    _may_edit(actor, file)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写家庭成员姓名。")})
    if relation not in Relation.values:
        raise ValidationError({"relation": _("请选择与申请人的关系。")})
    if schooling not in Schooling.values:
        raise ValidationError({"schooling": _("请选择在学情况。")})
    try:
        age = int(age)
    except (TypeError, ValueError):
        raise ValidationError({"age": _("年龄请填写整数。")}) from None
    if not 0 <= age <= 120:
        raise ValidationError({"age": _("年龄应在 0 至 120 岁之间。")})
    income = money(monthly_income, field="monthly_income", allow_zero=True, maximum=MAX_MONTHLY_INCOME)
    if relation == Relation.SELF:
        if file.household.filter(relation=Relation.SELF).exists():
            raise ValidationError({"relation": _("申请人本人已登记，不能重复登记。")})
        hash_, masked = file.member.id_number_hash, file.member.id_masked
    elif id_number:
        info = parse_id_number(id_number, field="id_number")
        hash_, masked = id_hash(info.number), mask_id(info.number)
    else:
        hash_, masked = "", ""
    if hash_:
        if file.household.filter(id_hash=hash_).exists() or (
            relation != Relation.SELF and hash_ == file.member.id_number_hash
        ):
            raise ValidationError({"id_number": _("该家庭成员已登记，同一人不能登记两次。")})
        other = _file_holding_person(hash_, exclude_pk=file.pk)
        if other is not None:
            raise DomainError(
                _("%(name)s 已在另一份困难档案 %(number)s 中，同一人不能同时在两份档案中。")
                % {"name": name, "number": other.number},
                code="person_in_other_file",
                field="id_number",
            )
    if file.household.filter(name=name, relation=relation).exists():
        raise ValidationError({"name": _("该家庭成员已登记（姓名和关系相同），同一人不能登记两次。")})
    row = HouseholdMember.objects.create(
        file=file,
        org_path=file.org_path,
        name=name[:50],
        relation=relation,
        age=age,
        id_hash=hash_,
        id_masked=masked,
        schooling=schooling,
        income_enc=encrypt(str(income)),
        health_enc=encrypt(health.strip()) if (health or "").strip() else "",
        disability_enc=encrypt(disability.strip()) if (disability or "").strip() else "",
        has_health_issue=bool((health or "").strip()),
        has_disability=bool((disability or "").strip()),
    )
    _recompute_tier(file)
    log_action(actor=actor, action="aid.household_member_added", target=file, data={"relation": relation})
    return row


def self_age(member: Member) -> int:
    return age_on(member.birth_date, timezone.localdate())


@transaction.atomic
def household_member_remove(*, actor, row: HouseholdMember) -> None:
    file = _lock_editable(row.file)
    _may_edit(actor, file)
    row.delete()
    _recompute_tier(file)
    log_action(actor=actor, action="aid.household_member_removed", target=file)


@transaction.atomic
def file_tier_override(*, actor, file: HardshipFile, tier: str, reason: str) -> HardshipFile:
    """Set the tier by hand; the written reason and the computed tier stay on the file (audited)."""
    file = _lock_editable(file)
    require(actor, AID_MANAGE, file.org_path)
    if tier not in Tier.values:
        raise ValidationError({"tier": _("请选择困难档次。")})
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError({"reason": _("调整档次必须写明理由（至少 4 个字）。")})
    old = file.tier
    file.tier, file.tier_override_reason = tier, reason[:300]
    file.save(update_fields=["tier", "tier_override_reason", "updated_at"])
    log_action(
        actor=actor,
        action="aid.tier_overridden",
        target=file,
        data={"from": old, "to": tier, "computed": file.tier_computed, "reason": reason},
    )
    return file


# --- investigation and notice --------------------------------------------------------------


@transaction.atomic
def investigation_record(
    *, actor, file: HardshipFile, visited_on: dt.date, investigators: str, findings: str
) -> Investigation:
    require(actor, AID_MANAGE, file.org_path)
    file = _lock_editable(file)
    if not (investigators or "").strip():
        raise ValidationError({"investigators": _("请填写调查人（至少两人）。")})
    if not (findings or "").strip():
        raise ValidationError({"findings": _("请填写入户调查情况。")})
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("调查日期不能晚于今天。")})
    if visited_on < file.created_at.date():
        raise ValidationError({"visited_on": _("调查日期不能早于档案建立日期。")})
    inv = Investigation.objects.create(
        file=file,
        org_path=file.org_path,
        visited_on=visited_on,
        investigators=investigators.strip()[:200],
        findings=findings.strip(),
        recorded_by=actor,
    )
    if file.status == FS.APPLIED:
        transition(
            file,
            FS.INVESTIGATING,
            actor=actor,
            action="aid.file_investigating",
            reason=_("入户调查 %(d)s") % {"d": visited_on},
        )
    log_action(actor=actor, action="aid.investigation_recorded", target=file)
    return inv


def notice_end(standard: AidStandard, start: dt.date, working_days: int | None = None) -> tuple[int, dt.date]:
    """(working days, last day) of a notice starting on `start`; at least the standard's days."""
    days = standard.notice_working_days if working_days in (None, "") else int(working_days)
    if days < standard.notice_working_days:
        raise ValidationError(
            {
                "working_days": _("公示期不得少于标准规定的 %(n)s 个工作日，请延长公示期。")
                % {"n": standard.notice_working_days}
            },
            code="notice_too_short",
        )
    return days, workdays.add_working_days(start, days)


@transaction.atomic
def notice_start(
    *,
    actor,
    file: HardshipFile,
    start: dt.date,
    working_days: int | None = None,
    place: str = "",
    budget: Budget | None = None,
) -> PublicNotice:
    """Publish the notice (公示): the file needs its household, a tier and the aid asked for."""
    require(actor, AID_MANAGE, file.org_path)
    file = HardshipFile.objects.select_for_update().select_related("standard").get(pk=file.pk)
    if not file.investigations.exists():
        raise DomainError(_("请先完成入户调查，再进行公示。"), field="start")
    if not file.household.exists():
        raise DomainError(_("请先登记家庭成员及收入，再进行公示。"), field="start")
    if file.tier in ("", Tier.NONE):
        raise DomainError(
            _("该户经测算不符合困难条件（%(why)s），不能公示；可关闭档案或写明理由调整档次。")
            % {"why": file.tier_explanation},
            field="start",
        )
    if not file.requested_kind or file.requested_amount is None:
        raise DomainError(_("请先填写申请的救助类别和金额。"), field="requested_amount")
    funds.check_amount_range(file, file.requested_kind, file.requested_amount)
    budget = budget or file.budget
    if budget is None:
        raise ValidationError({"budget": _("请选择支出预算。")})
    if not file.org_path.startswith(budget.org_path):
        raise ValidationError({"budget": _("只能使用档案所属组织或其上级组织的预算。")})
    days, end = notice_end(file.standard, start, working_days)
    notice = PublicNotice.objects.create(
        file=file, org_path=file.org_path, start=start, end=end, working_days=days, place=(place or "")[:200]
    )
    transition(
        file,
        FS.NOTICE,
        actor=actor,
        action="aid.file_notice",
        reason=_("公示 %(s)s 至 %(e)s（%(n)s 个工作日）") % {"s": start, "e": end, "n": days},
        fields={"budget": budget},
    )
    return notice


@transaction.atomic
def objection_record(*, actor, notice: PublicNotice, received_on: dt.date, content: str) -> Objection:
    require(actor, AID_MANAGE, notice.org_path)
    notice = PublicNotice.objects.select_related("file").get(pk=notice.pk)  # the file as it is now
    if notice.file.status != FS.NOTICE or notice.closed_at:
        raise DomainError(_("公示已结束，不能再登记异议。"))
    if not (content or "").strip():
        raise ValidationError({"content": _("请填写异议内容。")})
    if not notice.start <= received_on <= notice.end:
        raise ValidationError(
            {"received_on": _("异议须在公示期（%(s)s 至 %(e)s）内提出。") % {"s": notice.start, "e": notice.end}}
        )
    obj = Objection.objects.create(
        notice=notice, org_path=notice.org_path, received_on=received_on, content=content.strip(), recorded_by=actor
    )
    log_action(actor=actor, action="aid.objection_recorded", target=notice.file)
    return obj


@transaction.atomic
def objection_resolve(*, actor, objection: Objection, upheld: bool, resolution: str) -> Objection:
    """Resolve an objection; an upheld one sends the file back to investigation."""
    require(actor, AID_MANAGE, objection.org_path)
    objection = Objection.objects.select_for_update().select_related("notice__file").get(pk=objection.pk)
    if objection.resolved_at:
        raise DomainError(_("该异议已处理。"))
    if not (resolution or "").strip():
        raise ValidationError({"resolution": _("请填写异议的核实和处理结果。")})
    objection.upheld, objection.resolution, objection.resolved_at = bool(upheld), resolution.strip(), timezone.now()
    objection.save(update_fields=["upheld", "resolution", "resolved_at"])
    if upheld:
        notice = objection.notice
        notice.closed_at = timezone.now()
        notice.save(update_fields=["closed_at"])
        transition(
            notice.file,
            FS.INVESTIGATING,
            actor=actor,
            action="aid.file_reinvestigate",
            reason=_("公示异议成立：%(r)s") % {"r": resolution.strip()[:150]},
        )
    log_action(
        actor=actor, action="aid.objection_resolved", target=objection.notice.file, data={"upheld": bool(upheld)}
    )
    return objection


def _running_run(file: HardshipFile) -> ApprovalRun | None:
    ct = ContentType.objects.get_for_model(HardshipFile)
    return ApprovalRun.objects.filter(
        content_type=ct, object_id=str(file.pk), status=ApprovalRun.Status.RUNNING
    ).first()


@transaction.atomic
def notice_close(*, actor, file: HardshipFile) -> HardshipFile:
    """After the notice period without open objections: the file goes to the approval chain
    the standard names for the amount, with its grant proposed."""
    require(actor, AID_MANAGE, file.org_path)
    file = HardshipFile.objects.select_for_update().select_related("standard").get(pk=file.pk)
    notice = file.notices.filter(closed_at__isnull=True).order_by("-id").first()
    if file.status != FS.NOTICE or notice is None:
        raise DomainError(_("该档案不在公示中。"))
    today = timezone.localdate()
    if today <= notice.end:
        raise DomainError(_("公示期到 %(e)s 结束，期满后才能提交审批。") % {"e": notice.end}, code="notice_running")
    if notice.objections.filter(resolved_at__isnull=True).exists():
        raise DomainError(_("公示期间的异议尚未处理完毕，请先处理异议。"), code="objection_open")
    notice.closed_at = timezone.now()
    notice.save(update_fields=["closed_at"])
    grant = file.grants.filter(status=GrantStatus.PROPOSED, campaign__isnull=True).first()
    if grant is None:
        funds.check_yearly_cap(file, file.requested_amount, year=today.year)
        grant = funds._grant_create(
            actor=actor,
            file=file,
            kind=file.requested_kind,
            amount=file.requested_amount,
            budget=file.budget,
            period=str(today.year),
        )
    code = file.standard.chain_for(file.requested_amount)
    file = transition(
        file, FS.APPROVING, actor=actor, action="aid.file_approving", reason=_("公示期满无异议，报送审批")
    )
    approval_start(obj=file, code=code, actor=actor, org_path=file.org_path)
    return file


@transaction.atomic
def file_decide(*, actor, file: HardshipFile, decision: str, opinion: str = "") -> HardshipFile:
    """An approver decides the file's current step. The last approval registers the file and
    reserves its grant from the budget; if the budget cannot cover it, nothing is decided."""
    run = _running_run(file)
    if run is None or file.status != FS.APPROVING:
        raise DomainError(
            _("该档案当前不在审批中（状态：%(s)s）。") % {"s": file.get_status_display()}, code="not_approving"
        )
    run = approval_decide(run=run, actor=actor, decision=decision, opinion=opinion)
    grant = file.grants.filter(status=GrantStatus.PROPOSED, campaign__isnull=True).first()
    if run.status == ApprovalRun.Status.APPROVED:
        if grant is not None:
            funds.reserve(grant, actor=actor)
        months = file.standard.review_months
        due = timezone.localdate() + dt.timedelta(days=30 * months)
        return transition(
            file, FS.REGISTERED, actor=actor, action="aid.file_registered", reason=opinion, fields={"review_due": due}
        )
    if run.status == ApprovalRun.Status.REJECTED:
        if grant is not None:
            transition(grant, GrantStatus.REJECTED, actor=actor, action="aid.grant_rejected", reason=opinion)
        return transition(file, FS.REJECTED, actor=actor, action="aid.file_rejected", reason=opinion)
    if run.status == ApprovalRun.Status.RETURNED:
        return transition(file, FS.INVESTIGATING, actor=actor, action="aid.file_returned", reason=opinion)
    return HardshipFile.objects.get(pk=file.pk)


# --- after registration ------------------------------------------------------------------


@transaction.atomic
def file_review_start(*, actor, file: HardshipFile) -> HardshipFile:
    require(actor, AID_MANAGE, file.org_path)
    return transition(file, FS.REVIEW, actor=actor, action="aid.file_review")


REVIEW_OUTCOMES = {
    FS.REGISTERED: "aid.file_review_continued",
    FS.LIFTED: "aid.file_lifted",
    FS.SAFETY_NET: "aid.file_safety_net",
    FS.CLOSED: "aid.file_closed",
}


@transaction.atomic
def file_review_finish(*, actor, file: HardshipFile, outcome: str, reason: str) -> HardshipFile:
    """End a review: stays registered (next review due), lifted out, safety net, or closed."""
    require(actor, AID_MANAGE, file.org_path)
    if outcome not in REVIEW_OUTCOMES:
        raise ValidationError({"outcome": _("请选择复核结论。")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写复核意见。")})
    fields = {}
    if outcome == FS.REGISTERED:
        fields["review_due"] = timezone.localdate() + dt.timedelta(days=30 * file.standard.review_months)
    return transition(file, outcome, actor=actor, action=REVIEW_OUTCOMES[outcome], reason=reason, fields=fields)


@transaction.atomic
def file_close(*, actor, file: HardshipFile, reason: str) -> HardshipFile:
    require(actor, AID_MANAGE, file.org_path)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写关闭档案的理由。")})
    return transition(file, FS.CLOSED, actor=actor, action="aid.file_closed", reason=reason)


# --- documents ---------------------------------------------------------------------------

# The checklist: what every file needs, and what each cause adds.
DOCUMENT_KINDS = {
    "household_register": _("户口簿"),
    "income_proof": _("收入证明"),
    "employer_certificate": _("单位证明"),
    "diagnosis": _("诊断证明"),
    "disability_certificate": _("残疾证"),
    "school_certificate": _("在学证明"),
    "accident_proof": _("事故或灾害证明"),
    "photo": _("家庭情况照片"),
}
ALWAYS_NEEDED = ("household_register", "income_proof", "employer_certificate")
NEEDED_FOR_CAUSE = {
    Cause.ILLNESS: ("diagnosis",),
    Cause.DISABILITY: ("disability_certificate",),
    Cause.SCHOOLING: ("school_certificate",),
    Cause.ACCIDENT: ("accident_proof",),
    Cause.DISASTER: ("accident_proof",),
}


def documents_needed(file: HardshipFile) -> list[str]:
    kinds = list(ALWAYS_NEEDED)
    for cause in file.causes:
        kinds += [k for k in NEEDED_FOR_CAUSE.get(cause, ()) if k not in kinds]
    return kinds


def documents_missing(file: HardshipFile, present_kinds) -> list[str]:
    """Labels of the checklist's documents not uploaded yet (what the worker is told)."""
    present = set(present_kinds)
    return [str(DOCUMENT_KINDS[k]) for k in documents_needed(file) if k not in present]


def file_document_add(*, actor, file: HardshipFile, uploaded_file, kind: str):
    """A document or photo for the file, by an aid officer in reach or by the worker on their
    own file (vouched for here: the attachment kit then stores it as the system's upload)."""
    from core.attachments.services import attachment_add

    if kind not in DOCUMENT_KINDS:
        raise ValidationError({"kind": _("请选择材料类别。")})
    is_owner = file.member.user_id is not None and file.member.user_id == getattr(actor, "pk", None)
    if is_owner:
        if file.status not in OPEN_STATUSES:
            raise DomainError(_("档案已结束，不能再上传材料。"))
        attachment = attachment_add(owner=file, uploaded_file=uploaded_file, kind=kind, actor=None)
        log_action(actor=actor, action="aid.document_added", target=file, data={"kind": kind})
        return attachment
    require(actor, AID_MANAGE, file.org_path)
    return attachment_add(owner=file, uploaded_file=uploaded_file, kind=kind, actor=actor)


# --- emergency aid -------------------------------------------------------------------------


@transaction.atomic
def emergency_aid(*, actor, member: Member, causes: list[str], amount, budget: Budget, reason: str) -> Grant:
    """意外致困, help at once: the file is opened and a small grant paid now; the file then
    goes through investigation, notice and approval like any other (flagged as emergency)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请写明应急救助的事由。")})
    file = file_open(actor=actor, member=member, causes=causes, is_emergency=True)
    require(actor, AID_APPROVE, file.org_path)
    amount = money(amount, field="amount")
    funds.check_amount_range(file, AidKind.EMERGENCY, amount, tier=Tier.ACCIDENT)
    funds.check_yearly_cap(file, amount, year=timezone.localdate().year)
    grant = funds._grant_create(
        actor=actor,
        file=file,
        kind=AidKind.EMERGENCY,
        amount=amount,
        budget=budget,
        period=str(timezone.localdate().year),
        is_emergency=True,
    )
    grant = funds.reserve(grant, actor=actor)
    grant = funds.pay(grant, actor=actor)
    transition(
        file,
        FS.INVESTIGATING,
        actor=actor,
        action="aid.emergency_paid",
        reason=_("应急救助先行发放，待补充调查：%(r)s") % {"r": reason.strip()[:150]},
    )
    return grant
