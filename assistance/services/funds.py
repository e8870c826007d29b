"""Funds, budgets, allocations and grants: money that can never be overspent.

Every change of a budget's figures is ONE conditional UPDATE whose WHERE clause states the
rule ("what is left covers x"); zero rows updated means the rule did not hold at that
instant, whatever another transaction did a moment before. Two approvers pressing the
button in the same second both run the UPDATE; PostgreSQL serialises them on the row and
re-checks the WHERE for the second against the first's result. The CheckConstraints on
Budget hold the same rule for any writer that bypasses this module.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import log_action
from core.errors import DomainError
from core.roles import AID_APPROVE, AID_MANAGE
from core.states import StateMachine, transition

from ..models import (
    AidKind,
    Allocation,
    Budget,
    Fund,
    FundSource,
    Grant,
    GrantStatus,
    HardshipFile,
    LedgerEntry,
    LedgerKind,
)
from .common import money, require, yuan

GS = GrantStatus
GRANT_STATES = StateMachine(
    Grant,
    {
        GS.PROPOSED: {GS.RESERVED, GS.REJECTED, GS.CANCELLED},
        GS.RESERVED: {GS.PAID, GS.CANCELLED},
        GS.PAID: set(),
        GS.CANCELLED: set(),
        GS.REJECTED: set(),
    },
)


class BudgetExceeded(DomainError):
    default_code = "budget_exceeded"


def _ledger(budget: Budget, kind: str, amount: Decimal, *, actor=None, grant=None, note: str = "") -> None:
    LedgerEntry.objects.create(
        budget=budget,
        org_path=budget.org_path,
        kind=kind,
        amount=amount,
        grant=grant,
        note=note[:200],
        actor=actor if getattr(actor, "pk", None) else None,
    )


# --- funds and budgets -------------------------------------------------------------------


@transaction.atomic
def fund_create(*, actor, organization, name: str, source: str) -> Fund:
    require(actor, AID_MANAGE, organization.path)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写资金名称。")})
    if source not in FundSource.values:
        raise ValidationError({"source": _("请选择资金来源：工会经费、社会捐赠、政府资金或上级工会拨付。")})
    fund = Fund.objects.create(name=name[:100], source=source, organization=organization, org_path=organization.path)
    log_action(actor=actor, action="aid.fund_created", target=fund, organization=organization)
    return fund


@transaction.atomic
def budget_create(*, actor, fund: Fund, organization, year: int, amount) -> Budget:
    """A budget of `organization` on `fund` for `year`, funded with `amount` (a ledger row)."""
    require(actor, AID_MANAGE, organization.path)
    if not organization.path.startswith(fund.org_path):
        raise ValidationError({"organization": _("预算所属组织必须是该资金所属组织或其下级。")})
    amount = money(amount, field="amount", allow_zero=True, maximum=Decimal("9999999999"))
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": _("年度不正确，请填写四位年份，例如 2026。")})
    try:
        with transaction.atomic():
            budget = Budget.objects.create(
                organization=organization, org_path=organization.path, fund=fund, year=int(year), amount=amount
            )
    except IntegrityError:
        raise DomainError(
            _("%(org)s 在 %(year)s 年已有“%(fund)s”的预算，请在原预算上调整。")
            % {"org": organization.name, "year": year, "fund": fund.name},
            field="year",
        ) from None
    if amount:
        _ledger(budget, LedgerKind.FUNDED, amount, actor=actor, note=_("预算设立"))
    log_action(
        actor=actor, action="aid.budget_created", target=budget, organization=organization, data={"amount": str(amount)}
    )
    return budget


def _refuse_shortage(budget_pk: int, amount: Decimal) -> None:
    budget = Budget.objects.get(pk=budget_pk)
    raise BudgetExceeded(
        _("预算“%(budget)s”余额不足：本次需要 %(need)s 元，可用余额 %(left)s 元。请调整金额或申请追加预算。")
        % {"budget": str(budget), "need": yuan(amount), "left": yuan(budget.left)},
        field="amount",
    )


@transaction.atomic
def allocation_make(*, actor, parent: Budget, child: Budget, amount, note: str = "") -> Allocation:
    """Move `amount` from a parent organisation's budget to a child's (same fund and year)."""
    require(actor, AID_MANAGE, parent.org_path)
    amount = money(amount, field="amount", maximum=Decimal("9999999999"))
    if child.pk == parent.pk or not child.org_path.startswith(parent.org_path):
        raise ValidationError({"child": _("只能向本组织的下级组织下拨资金。")})
    if child.fund_id != parent.fund_id or child.year != parent.year:
        raise ValidationError({"child": _("下拨的双方必须是同一资金、同一年度的预算。")})
    moved = Budget.objects.filter(pk=parent.pk, amount__gte=F("reserved") + F("spent") + amount).update(
        amount=F("amount") - amount
    )
    if not moved:
        _refuse_shortage(parent.pk, amount)
    Budget.objects.filter(pk=child.pk).update(amount=F("amount") + amount)
    allocation = Allocation.objects.create(
        parent=parent, child=child, org_path=parent.org_path, amount=amount, note=(note or "")[:200], actor=actor
    )
    _ledger(
        parent,
        LedgerKind.ALLOCATED_OUT,
        amount,
        actor=actor,
        note=_("下拨至 %(org)s") % {"org": child.organization.name},
    )
    _ledger(child, LedgerKind.FUNDED, amount, actor=actor, note=_("上级下拨"))
    log_action(actor=actor, action="aid.allocated", target=allocation, data={"amount": str(amount)})
    return allocation


# --- grants ------------------------------------------------------------------------------


def check_yearly_cap(file: HardshipFile, amount: Decimal, *, year: int, exclude_pk=None) -> None:
    """Refuse when the household's grants of `year` plus `amount` pass the standard's cap."""
    used = Grant.objects.filter(file=file, created_at__year=year).exclude(
        status__in=(GS.CANCELLED, GS.REJECTED)
    ).exclude(pk=exclude_pk).aggregate(s=Sum("amount"))["s"] or Decimal("0")
    cap = file.standard.yearly_cap
    if used + amount > cap:
        raise ValidationError(
            {
                "amount": _("该户 %(year)s 年已获救助 %(used)s 元，加上本次 %(amount)s 元超过每户年度上限 %(cap)s 元。")
                % {"year": year, "used": yuan(used), "amount": yuan(amount), "cap": yuan(cap)}
            },
            code="yearly_cap",
        )


def check_amount_range(file: HardshipFile, kind: str, amount: Decimal, *, tier: str | None = None) -> None:
    tier = tier or file.tier
    rng = file.standard.amount_range(tier, kind)
    label = dict(AidKind.choices).get(kind, kind)
    if rng is None:
        raise ValidationError(
            {
                "kind": _("标准（v%(v)s）未规定该档次的“%(kind)s”救助，请选择其他救助类别。")
                % {"v": file.standard.version, "kind": label}
            }
        )
    low, high = rng
    if not low <= amount <= high:
        raise ValidationError(
            {
                "amount": _("“%(kind)s”的金额应在 %(low)s 至 %(high)s 元之间（标准 v%(v)s）。")
                % {"kind": label, "low": yuan(low), "high": yuan(high), "v": file.standard.version}
            },
            code="amount_range",
        )


def _grant_create(
    *,
    actor,
    file: HardshipFile,
    kind: str,
    amount: Decimal,
    budget: Budget,
    period: str,
    campaign=None,
    is_emergency=False,
) -> Grant:
    if not file.org_path.startswith(budget.org_path):
        raise ValidationError({"budget": _("只能使用档案所属组织或其上级组织的预算。")})
    try:
        with transaction.atomic():
            grant = Grant.objects.create(
                file=file,
                org_path=file.org_path,
                kind=kind,
                amount=amount,
                budget=budget,
                period=period,
                campaign=campaign,
                is_emergency=is_emergency,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        raise DomainError(
            _("该户在 %(period)s 已有“%(kind)s”救助，同一救助不能重复发放。")
            % {"period": period, "kind": dict(AidKind.choices).get(kind, kind)},
            code="grant_duplicate",
            field="kind",
        ) from None
    return grant


@transaction.atomic
def grant_create(*, actor, file: HardshipFile, kind: str, amount, budget: Budget) -> Grant:
    """A proposed grant to a registered file (decided by grant_approve)."""
    from ..models import ACTIVE_STATUSES

    require(actor, AID_MANAGE, file.org_path)
    if kind not in AidKind.values:
        raise ValidationError({"kind": _("请选择救助类别。")})
    amount = money(amount, field="amount")
    if file.status not in ACTIVE_STATUSES:
        raise DomainError(
            _("只有已建档的困难职工才能发放救助，该档案当前为“%(s)s”。") % {"s": file.get_status_display()}
        )
    check_amount_range(file, kind, amount)
    year = timezone.localdate().year
    check_yearly_cap(file, amount, year=year)
    grant = _grant_create(actor=actor, file=file, kind=kind, amount=amount, budget=budget, period=str(year))
    log_action(actor=actor, action="aid.grant_proposed", target=grant, data={"amount": str(amount)})
    return grant


def reserve(grant: Grant, *, actor) -> Grant:
    """PROPOSED → RESERVED, taking the amount from the budget's left, or BudgetExceeded."""

    def take(locked: Grant) -> None:
        ok = Budget.objects.filter(pk=locked.budget_id, amount__gte=F("reserved") + F("spent") + locked.amount).update(
            reserved=F("reserved") + locked.amount
        )
        if not ok:
            _refuse_shortage(locked.budget_id, locked.amount)

    grant = transition(grant, GS.RESERVED, actor=actor, action="aid.grant_reserved", guard=take)
    _ledger(grant.budget, LedgerKind.RESERVED, grant.amount, actor=actor, grant=grant)
    return grant


@transaction.atomic
def grant_approve(*, actor, grant: Grant) -> Grant:
    require(actor, AID_APPROVE, grant.org_path)
    return reserve(grant, actor=actor)


@transaction.atomic
def grant_reject(*, actor, grant: Grant, reason: str) -> Grant:
    require(actor, AID_APPROVE, grant.org_path)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不予批准的理由。")})
    return transition(grant, GS.REJECTED, actor=actor, action="aid.grant_rejected", reason=reason)


def pay(grant: Grant, *, actor) -> Grant:
    def confirm(locked: Grant) -> None:
        ok = Budget.objects.filter(pk=locked.budget_id, reserved__gte=locked.amount).update(
            reserved=F("reserved") - locked.amount, spent=F("spent") + locked.amount
        )
        if not ok:  # the figures no longer agree with the grant: refuse rather than go negative
            raise DomainError(_("预算预留金额与该笔救助不符，请联系管理员核对台账。"))

    grant = transition(grant, GS.PAID, actor=actor, action="aid.grant_paid", guard=confirm)
    _ledger(grant.budget, LedgerKind.PAID, grant.amount, actor=actor, grant=grant)
    return grant


@transaction.atomic
def grant_pay(*, actor, grant: Grant) -> Grant:
    """Payment confirmed: the reserved amount becomes spent (only for an approved grant)."""
    require(actor, AID_MANAGE, grant.org_path)
    return pay(grant, actor=actor)


@transaction.atomic
def grant_cancel(*, actor, grant: Grant, reason: str) -> Grant:
    """Cancel a proposed or approved grant; an approved one gives its reservation back."""
    require(actor, AID_MANAGE, grant.org_path)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写取消的理由。")})
    was_reserved = {"v": False}

    def release(locked: Grant) -> None:
        if locked.status == GS.RESERVED:
            was_reserved["v"] = True
            ok = Budget.objects.filter(pk=locked.budget_id, reserved__gte=locked.amount).update(
                reserved=F("reserved") - locked.amount
            )
            if not ok:
                raise DomainError(_("预算预留金额与该笔救助不符，请联系管理员核对台账。"))

    grant = transition(grant, GS.CANCELLED, actor=actor, action="aid.grant_cancelled", reason=reason, guard=release)
    if was_reserved["v"]:
        _ledger(grant.budget, LedgerKind.RELEASED, grant.amount, actor=actor, grant=grant, note=reason)
    return grant
