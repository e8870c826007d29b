"""Transfers between unions, and leaving, retiring or death ending a membership."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import roles
from core.audit import log_action
from core.errors import NOT_IN_REACH, DomainError, TransitionError
from core.scoping import has_capability, path_in_reach
from core.states import record_created, transition
from organizations.models import Organization, User
from organizations.services import coverage_mark_dirty, require

from ..models import Member, Membership, Transfer
from ..validators import parse_id_number
from .common import (
    MS,
    TRANSFER_STATES,
    TS,
    _active_membership_of,
    _check_union,
    _start_membership,
)

# The one answer to a request by ID number, whoever the number belongs to (no oracle).
TRANSFER_IN_SENT = gettext_lazy(
    "申请已登记。如该身份证号码属于其他工会的在册会员，将请本人或其所在工会确认；"
    "确认后，转接申请会出现在本页列表中，等待您接收。"
)

# --- transfers ------------------------------------------------------------------------


def _is_self(actor: User, member: Member) -> bool:
    return actor.is_authenticated and member.user_id is not None and member.user_id == actor.pk


@transaction.atomic
def transfer_request(*, actor: User, member: Member, to_union: Organization, reason: str = "") -> Transfer:
    """Ask to move a member's active membership to `to_union` (any district).

    Requested by the member, the union they leave, or the union they go to. A request by
    the union they go to waits for the member's consent or the releasing union's
    agreement (transfer_consent) before it can be accepted: a receiving clerk must not be
    able to pull anyone into their reach alone.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    current = _active_membership_of(member)
    to_union = Organization.objects.get(pk=to_union.pk)
    if _is_self(actor, member):
        side = Transfer.Side.WORKER
    elif current is not None and has_capability(actor, roles.MEMBER_MANAGE, current.org_path):
        side = Transfer.Side.FROM
    elif has_capability(actor, roles.MEMBER_MANAGE, to_union.path):
        side = Transfer.Side.TO
    elif current is not None and path_in_reach(actor, current.org_path):
        raise PermissionDenied(_("您的角色没有办理会员关系转接的权限。"))
    else:
        raise Http404(NOT_IN_REACH)
    if current is None:
        raise TransitionError(_("该职工目前没有在册会籍，不能转接；请直接办理入会。"))
    _check_union(to_union, "to_union")
    if to_union.pk == current.union_id:
        raise ValidationError({"to_union": _("转入工会与当前所在工会相同，请选择新的工会。")})
    if Transfer.objects.filter(member=member, status__in=Transfer.OPEN_STATUSES).exists():
        raise DomainError(_("该会员已有一项未办结的转接申请，请先处理或撤回。"), code="transfer_open")
    reason = (reason or "").strip()[:200]
    transfer = Transfer.objects.create(
        member=member,
        from_membership=current,
        from_union=current.union,
        to_union=to_union,
        from_path=current.org_path,
        to_path=to_union.path,
        requested_by=actor,
        requested_side=side,
        reason=reason,
        status=TS.AWAITING if side == Transfer.Side.TO else TS.REQUESTED,
    )
    record_created(transfer, actor=actor, reason=reason, org_path=transfer.from_path)
    log_action(
        actor=actor,
        action="member.transfer_requested",
        target=transfer,
        organization=current.union,
        data={"to": to_union.pk, "to_name": to_union.name, "side": side, "status": transfer.status},
    )
    return transfer


def transfer_request_by_id_number(*, actor: User, id_number: str, to_union: Organization, reason: str = "") -> None:
    """The receiving union asks for a person by ID number, and learns nothing from the answer.

    Whether the number belongs to a member, to no one, to someone already moving or
    already in `to_union`, the caller gets the same (None): the answer must not tell a
    clerk whether, or where, a person is a member. What the caller may check is its own
    choice of `to_union` (its right to act there), which is the same for any number.
    A match becomes a transfer awaiting the member's or the releasing union's consent.
    """
    to_union = Organization.objects.get(pk=to_union.pk)
    if not has_capability(actor, roles.MEMBER_MANAGE, to_union.path):
        if path_in_reach(actor, to_union.path):
            raise PermissionDenied(_("您的角色没有办理会员关系转接的权限。"))
        raise Http404(NOT_IN_REACH)
    _check_union(to_union, "to_union")
    # A mistyped number is explained (that says nothing about the roll); a valid one is not.
    info = parse_id_number(id_number)
    from ..selectors import member_find_by_id_number

    member = member_find_by_id_number(info.number)
    if member is None:
        return None
    try:
        with transaction.atomic():
            transfer_request(actor=actor, member=member, to_union=to_union, reason=reason)
    except (DomainError, ValidationError, PermissionDenied, Http404):
        pass  # deliberately the same answer as "no such member"
    return None


def _lock_transfer(transfer: Transfer) -> Transfer:
    return Transfer.objects.select_for_update().select_related("to_union", "from_union", "member").get(pk=transfer.pk)


def _decision(actor: User, note: str) -> dict:
    return {"decided_by": actor, "decided_at": timezone.now(), "decision_note": (note or "").strip()[:200]}


def _may_consent(actor: User, t: Transfer) -> bool:
    """The member themself, or someone who manages members of the releasing union."""
    return _is_self(actor, t.member) or has_capability(actor, roles.MEMBER_MANAGE, t.from_path)


def _refuse_consent(actor: User, t: Transfer) -> None:
    if path_in_reach(actor, t.from_path):
        raise PermissionDenied(_("只有会员本人或转出工会可以同意这项转接。"))
    raise Http404(NOT_IN_REACH)


@transaction.atomic
def transfer_consent(*, actor: User, transfer: Transfer, note: str = "") -> Transfer:
    """The member (self-service) or the releasing union agrees to a transfer the receiving
    union asked for; it then waits for the receiving union to accept it."""
    t = _lock_transfer(transfer)
    if not _may_consent(actor, t):
        _refuse_consent(actor, t)
    by = "worker" if _is_self(actor, t.member) else "from"
    return transition(
        t,
        TS.REQUESTED,
        actor=actor,
        action="member.transfer_consented",
        reason=note,
        data={"by": by},
        organization=t.from_union,
        org_path=t.from_path,
    )


@transaction.atomic
def transfer_decline(*, actor: User, transfer: Transfer, reason: str = "") -> Transfer:
    """The member or the releasing union refuses a transfer the receiving union asked for."""
    t = _lock_transfer(transfer)
    if not _may_consent(actor, t):
        _refuse_consent(actor, t)
    by = "worker" if _is_self(actor, t.member) else "from"
    if by == "from" and not (reason or "").strip():
        raise ValidationError({"reason": _("请填写不同意转出的理由。")})
    return transition(
        t,
        TS.DECLINED,
        actor=actor,
        action="member.transfer_declined",
        reason=reason,
        data={"by": by},
        fields=_decision(actor, reason),
        organization=t.from_union,
        org_path=t.from_path,
    )


@transaction.atomic
def transfer_accept(*, actor: User, transfer: Transfer, note: str = "") -> Membership:
    """The receiving union takes the member in: old membership ends, a new one starts."""
    t = _lock_transfer(transfer)
    require(actor, roles.MEMBER_MANAGE, t.to_union)
    TRANSFER_STATES.check(t.status, TS.ACCEPTED)  # before anything else changes
    _check_union(t.to_union, "to_union")
    member = Member.objects.select_for_update().get(pk=t.member_id)
    old = Membership.objects.select_for_update().select_related("union").get(pk=t.from_membership_id)
    if old.status != MS.ACTIVE:
        raise TransitionError(
            _("转出会籍已不是在册状态（%(s)s），本次转接不能接收。") % {"s": old.get_status_display()}
        )
    today = timezone.localdate()
    coverage_mark_dirty([old.union_id])
    old = transition(
        old,
        MS.TRANSFERRED_OUT,
        actor=actor,
        action="member.membership_transferred_out",
        reason=_("转入“%(name)s”") % {"name": t.to_union.name},
        fields={
            "ended_on": max(today, old.joined_on),
            "end_reason": _("转入“%(name)s”") % {"name": t.to_union.name},
        },
        organization=old.union,
    )
    new = _start_membership(member=member, union=t.to_union, joined_on=today)
    transition(
        t,
        TS.ACCEPTED,
        actor=actor,
        action="member.transfer_accepted",
        reason=note,
        fields={**_decision(actor, note), "new_membership": new},
        data={"from": old.union_id, "old_number": old.member_number, "new_number": new.member_number},
        organization=t.to_union,
        org_path=t.from_path,
    )
    return new


@transaction.atomic
def transfer_reject(*, actor: User, transfer: Transfer, reason: str) -> Transfer:
    t = _lock_transfer(transfer)
    require(actor, roles.MEMBER_MANAGE, t.to_union)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写拒绝理由。")})
    return transition(
        t,
        TS.REJECTED,
        actor=actor,
        action="member.transfer_rejected",
        reason=reason,
        fields=_decision(actor, reason),
        organization=t.to_union,
        org_path=t.from_path,
    )


@transaction.atomic
def transfer_cancel(*, actor: User, transfer: Transfer, note: str = "") -> Transfer:
    """Withdrawn by the member, the union they leave, or the receiving union if it asked."""
    t = _lock_transfer(transfer)
    allowed = (
        _is_self(actor, t.member)
        or has_capability(actor, roles.MEMBER_MANAGE, t.from_path)
        or (t.requested_side == Transfer.Side.TO and has_capability(actor, roles.MEMBER_MANAGE, t.to_path))
    )
    if not allowed:
        if path_in_reach(actor, t.from_path) or path_in_reach(actor, t.to_path):
            raise PermissionDenied(_("您不能撤回这项转接申请。"))
        raise Http404(NOT_IN_REACH)
    return transition(
        t,
        TS.CANCELLED,
        actor=actor,
        action="member.transfer_cancelled",
        reason=note,
        fields=_decision(actor, note),
        organization=t.from_union,
        org_path=t.from_path,
    )


# --- leaving, retiring ----------------------------------------------------------------


def _end_membership(*, actor: User, membership: Membership, status: str, on, reason: str, self_allowed: bool):
    m = Membership.objects.select_for_update().select_related("union", "member").get(pk=membership.pk)
    if not (self_allowed and _is_self(actor, m.member)):
        require(actor, roles.MEMBER_MANAGE, m.union)
    on = on or timezone.localdate()
    reason = (reason or "").strip()[:200]

    def guard(locked: Membership) -> None:
        if Transfer.objects.filter(from_membership=locked, status__in=Transfer.OPEN_STATUSES).exists():
            raise TransitionError(_("该会员有未办结的转接申请，请先撤回或等待处理。"))
        if on < locked.joined_on:
            raise ValidationError(
                {"ended_on": _("结束日期不能早于入会日期 %(d)s。") % {"d": locked.joined_on.isoformat()}}
            )
        if on > timezone.localdate():
            raise ValidationError({"ended_on": _("结束日期不能晚于今天。")})

    coverage_mark_dirty([m.union_id])  # the union's figures follow within seconds (issue 15)
    return transition(
        m,
        status,
        actor=actor,
        action=f"member.membership_{status}",
        reason=reason,
        guard=guard,
        fields={"ended_on": on, "end_reason": reason},
        data={"reason": reason, "on": on.isoformat()},
        organization=m.union,
    )


@transaction.atomic
def membership_leave(*, actor: User, membership: Membership, on: dt.date | None = None, reason: str = "") -> Membership:
    """The member leaves the union (members are free to leave: the member may do it themself)."""
    return _end_membership(actor=actor, membership=membership, status=MS.LEFT, on=on, reason=reason, self_allowed=True)


@transaction.atomic
def membership_retire(
    *, actor: User, membership: Membership, on: dt.date | None = None, reason: str = ""
) -> Membership:
    return _end_membership(
        actor=actor, membership=membership, status=MS.RETIRED, on=on, reason=reason, self_allowed=False
    )


@transaction.atomic
def membership_decease(*, actor: User, membership: Membership, on: dt.date | None = None) -> Membership:
    return _end_membership(actor=actor, membership=membership, status=MS.DECEASED, on=on, reason="", self_allowed=False)
