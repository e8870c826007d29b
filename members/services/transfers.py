"""Transfers between unions, and leaving, retiring or death ending a membership."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.audit import log_action
from core.errors import NOT_IN_REACH, DomainError, TransitionError
from core.scoping import has_capability, path_in_reach
from organizations.models import Organization, User
from organizations.services import require

from ..models import Member, Membership, Transfer
from .common import (
    MEMBERSHIP_TRANSITIONS,
    MS,
    TRANSFER_TRANSITIONS,
    TS,
    _active_membership_of,
    _check_transition,
    _check_union,
    _start_membership,
)

# --- transfers ------------------------------------------------------------------------


def _is_self(actor: User, member: Member) -> bool:
    return actor.is_authenticated and member.user_id is not None and member.user_id == actor.pk


@transaction.atomic
def transfer_request(*, actor: User, member: Member, to_union: Organization, reason: str = "") -> Transfer:
    """Ask to move a member's active membership to `to_union` (any district).

    Requested by the member, the union they leave, or the union they go to.
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
    if Transfer.objects.filter(member=member, status=TS.REQUESTED).exists():
        raise DomainError(_("该会员已有一项待接收的转接申请，请先处理或撤回。"), code="transfer_open")
    now = timezone.now()
    transfer = Transfer.objects.create(
        member=member,
        from_membership=current,
        from_union=current.union,
        to_union=to_union,
        from_path=current.org_path,
        to_path=to_union.path,
        requested_by=actor,
        requested_side=side,
        reason=(reason or "").strip()[:200],
        history=[{"at": now.isoformat(), "by": actor.get_username(), "status": TS.REQUESTED, "note": reason[:200]}],
    )
    log_action(
        actor=actor,
        action="member.transfer_requested",
        target=transfer,
        organization=current.union,
        data={"to": to_union.pk, "to_name": to_union.name, "side": side},
    )
    return transfer


def _lock_transfer(transfer: Transfer) -> Transfer:
    return Transfer.objects.select_for_update().select_related("to_union", "from_union", "member").get(pk=transfer.pk)


def _decide(transfer: Transfer, *, actor: User, status: str, note: str) -> None:
    now = timezone.now()
    transfer.status = status
    transfer.decided_by = actor
    transfer.decided_at = now
    transfer.decision_note = note[:200]
    transfer.history = [
        *transfer.history,
        {"at": now.isoformat(), "by": actor.get_username(), "status": status, "note": note[:200]},
    ]


@transaction.atomic
def transfer_accept(*, actor: User, transfer: Transfer, note: str = "") -> Membership:
    """The receiving union takes the member in: old membership ends, a new one starts."""
    t = _lock_transfer(transfer)
    require(actor, roles.MEMBER_MANAGE, t.to_union)
    _check_transition(TRANSFER_TRANSITIONS, t.status, TS.ACCEPTED, t.get_status_display(), TS.ACCEPTED.label)
    _check_union(t.to_union, "to_union")
    member = Member.objects.select_for_update().get(pk=t.member_id)
    old = Membership.objects.select_for_update().select_related("union").get(pk=t.from_membership_id)
    if old.status != MS.ACTIVE:
        raise TransitionError(
            _("转出会籍已不是在册状态（%(s)s），本次转接不能接收。") % {"s": old.get_status_display()}
        )
    today = timezone.localdate()
    old.status = MS.TRANSFERRED_OUT
    old.ended_on = max(today, old.joined_on)
    old.end_reason = _("转入“%(name)s”") % {"name": t.to_union.name}
    old.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    new = _start_membership(member=member, union=t.to_union, joined_on=today)
    _decide(t, actor=actor, status=TS.ACCEPTED, note=note)
    t.new_membership = new
    t.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "history", "new_membership"])
    log_action(
        actor=actor,
        action="member.transfer_accepted",
        target=t,
        organization=t.to_union,
        data={"from": old.union_id, "old_number": old.member_number, "new_number": new.member_number},
    )
    return new


@transaction.atomic
def transfer_reject(*, actor: User, transfer: Transfer, reason: str) -> Transfer:
    t = _lock_transfer(transfer)
    require(actor, roles.MEMBER_MANAGE, t.to_union)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写拒绝理由。")})
    _check_transition(TRANSFER_TRANSITIONS, t.status, TS.REJECTED, t.get_status_display(), TS.REJECTED.label)
    _decide(t, actor=actor, status=TS.REJECTED, note=reason)
    t.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "history"])
    log_action(
        actor=actor, action="member.transfer_rejected", target=t, organization=t.to_union, data={"reason": reason}
    )
    return t


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
    _check_transition(TRANSFER_TRANSITIONS, t.status, TS.CANCELLED, t.get_status_display(), TS.CANCELLED.label)
    _decide(t, actor=actor, status=TS.CANCELLED, note=note)
    t.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "history"])
    log_action(actor=actor, action="member.transfer_cancelled", target=t, organization=t.from_union)
    return t


# --- leaving, retiring ----------------------------------------------------------------


def _end_membership(*, actor: User, membership: Membership, status: str, on, reason: str, self_allowed: bool):
    m = Membership.objects.select_for_update().select_related("union", "member").get(pk=membership.pk)
    if not (self_allowed and _is_self(actor, m.member)):
        require(actor, roles.MEMBER_MANAGE, m.union)
    _check_transition(MEMBERSHIP_TRANSITIONS, m.status, status, m.get_status_display(), MS(status).label)
    if Transfer.objects.filter(from_membership=m, status=TS.REQUESTED).exists():
        raise TransitionError(_("该会员有待接收的转接申请，请先撤回或等待处理。"))
    on = on or timezone.localdate()
    if on < m.joined_on:
        raise ValidationError({"ended_on": _("结束日期不能早于入会日期 %(d)s。") % {"d": m.joined_on.isoformat()}})
    if on > timezone.localdate():
        raise ValidationError({"ended_on": _("结束日期不能晚于今天。")})
    m.status = status
    m.ended_on = on
    m.end_reason = (reason or "").strip()[:200]
    m.save(update_fields=["status", "ended_on", "end_reason", "updated_at"])
    log_action(
        actor=actor,
        action=f"member.membership_{status}",
        target=m,
        organization=m.union,
        data={"reason": m.end_reason, "on": on.isoformat()},
    )
    return m


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
