"""Every write to the member roll: registration, scan-to-join, transfers, leaving, honours.

Services are keyword-only and atomic; each checks the actor's capability where it acts
(organizations.services.require: 404 outside the reach, 403 without the right), locks the
rows it changes, follows the state tables below, and records an audit event. Audit data
never holds a full ID number or mobile: only masked forms.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from activity.services import log_action
from organizations import roles
from organizations.errors import NOT_IN_REACH, DomainError, TransitionError
from organizations.models import MEMBER_HOLDING_KINDS, REGION_KINDS, Enterprise, Organization, ServiceStation, User
from organizations.scoping import has_capability, path_in_reach
from organizations.services import require

from . import crypto
from .models import (
    Education,
    EmploymentForm,
    Honour,
    JoinApplication,
    JoinCode,
    Member,
    MemberNumberCounter,
    Membership,
    SkillLevel,
    Transfer,
)
from .names import name_initials
from .validators import IdInfo, check_join_age, parse_id_number, parse_mobile

MS = Membership.Status
# Membership state table: which status may follow which. Anything else is refused.
MEMBERSHIP_TRANSITIONS: dict[str, frozenset[str]] = {
    MS.APPLIED: frozenset({MS.ACTIVE, MS.LEFT}),
    MS.ACTIVE: frozenset({MS.TRANSFERRED_OUT, MS.LEFT, MS.RETIRED, MS.DECEASED}),
    MS.RETIRED: frozenset({MS.DECEASED}),
    MS.TRANSFERRED_OUT: frozenset(),
    MS.LEFT: frozenset(),
    MS.DECEASED: frozenset(),
}
JA = JoinApplication.Status
JOIN_TRANSITIONS: dict[str, frozenset[str]] = {
    JA.PENDING: frozenset({JA.APPROVED, JA.REJECTED}),
    JA.APPROVED: frozenset(),
    JA.REJECTED: frozenset(),
}
TS = Transfer.Status
TRANSFER_TRANSITIONS: dict[str, frozenset[str]] = {
    TS.REQUESTED: frozenset({TS.ACCEPTED, TS.REJECTED, TS.CANCELLED}),
    TS.ACCEPTED: frozenset(),
    TS.REJECTED: frozenset(),
    TS.CANCELLED: frozenset(),
}

SEQ_DIGITS = 6
MAX_SEQ = 10**SEQ_DIGITS - 1
JOIN_CODE_SALT = "members.join-code"
CURRENT_NOTICE_VERSION = "2024-1"
PROFILE_FIELDS = ("employer", "employer_name", "employment_form", "is_migrant_worker", "education", "skill_level")


def _check_transition(table: dict, current: str, new: str, label_current: str, label_new: str) -> None:
    if new not in table.get(current, ()):
        raise TransitionError(
            _("当前状态为“%(cur)s”，不能变更为“%(new)s”。") % {"cur": label_current, "new": label_new}
        )


def _check_union(union: Organization, field: str = "union") -> None:
    if union.kind not in MEMBER_HOLDING_KINDS:
        raise ValidationError(
            {
                field: _("“%(name)s”不直接接收会员，请选择基层工会、工会小组、街道（乡镇）、楼宇或区域性工会联合会。")
                % {"name": union.name}
            }
        )
    if not union.is_active:
        raise ValidationError({field: _("“%(name)s”已撤销或合并，不能接收会员。") % {"name": union.name}})


def _check_choices(fields: dict) -> None:
    for name, choices in (
        ("employment_form", EmploymentForm),
        ("education", Education),
        ("skill_level", SkillLevel),
    ):
        value = fields.get(name)
        if value and value not in choices.values:
            labels = "、".join(str(label) for label in choices.labels)
            raise ValidationError({name: _("请从以下选项中选择：%(labels)s。") % {"labels": labels}})


def _membership_place(membership: Membership) -> str:
    return _("“%(union)s”（会员编号 %(no)s）") % {"union": membership.union.name, "no": membership.member_number}


# --- member numbers -------------------------------------------------------------------


def _number_prefix(union: Organization) -> str:
    """6-digit region code of the union's nearest district (or city) + 7-digit union block."""
    region = (
        Organization.objects.filter(path__in=[*union.ancestor_paths(), union.path], kind__in=REGION_KINDS)
        .exclude(region_code="")
        .order_by("-depth")
        .values_list("region_code", flat=True)
        .first()
    ) or "000000"
    return f"{region}{union.pk:07d}"


def reserve_member_numbers(*, union: Organization, count: int) -> tuple[str, int]:
    """Reserve `count` consecutive sequence numbers of `union`: (prefix, first sequence).

    The counter row is locked (SELECT … FOR UPDATE) until the caller's transaction ends, so
    two clerks of one union queue here for a moment and never draw the same number. The
    row is created with INSERT … ON CONFLICT DO NOTHING so first use cannot race either.
    Must run inside the caller's transaction.
    """
    counter = MemberNumberCounter.objects.select_for_update().filter(union=union).first()
    if counter is None:
        MemberNumberCounter.objects.bulk_create(
            [MemberNumberCounter(union=union, prefix=_number_prefix(union))], ignore_conflicts=True
        )
        counter = MemberNumberCounter.objects.select_for_update().get(union=union)
    first = counter.next_seq
    if first + count - 1 > MAX_SEQ:
        raise DomainError(_("“%(name)s”的会员编号已用尽，请联系系统管理员。") % {"name": union.name})
    counter.next_seq = first + count
    counter.save(update_fields=["next_seq"])
    return counter.prefix, first


def allocate_member_numbers(*, union: Organization, count: int = 1) -> list[str]:
    """Draw `count` member numbers of `union` (see reserve_member_numbers); inside a transaction."""
    if count < 1:
        return []
    prefix, first = reserve_member_numbers(union=union, count=count)
    return [f"{prefix}{seq:0{SEQ_DIGITS}d}" for seq in range(first, first + count)]


# --- shared building blocks -----------------------------------------------------------


def _personal_fields(info: IdInfo, mobile: str) -> dict:
    return {
        "id_number_enc": crypto.encrypt(info.number),
        "id_number_hash": crypto.id_hash(info.number),
        "id_masked": crypto.mask_id(info.number),
        "mobile_enc": crypto.encrypt(mobile),
        "mobile_hash": crypto.mobile_hash(mobile),
        "mobile_masked": crypto.mask_mobile(mobile),
    }


def _active_membership_of(member: Member) -> Membership | None:
    return Membership.objects.select_related("union").filter(member=member, status=MS.ACTIVE).first()


def _refuse_if_active(member: Member, *, for_worker: bool = False) -> None:
    active = _active_membership_of(member)
    if active is None:
        return
    if for_worker:
        msg = _("您已是%(place)s的在册会员，无需重复申请；如已更换工作单位，请申请会员关系转接。")
    else:
        msg = _("该职工已是%(place)s的在册会员，不能重复入会；如已更换工作单位，请办理会员关系转接。")
    raise DomainError(msg % {"place": _membership_place(active)}, code="already_member", field="id_number")


def _lock_or_create_member(*, info: IdInfo, mobile: str, name: str, profile: dict) -> tuple[Member, bool]:
    """The person's Member row, locked; created if new. Concurrent creators meet on the unique hash."""
    h = crypto.id_hash(info.number)
    member = Member.objects.select_for_update().filter(id_number_hash=h).first()
    if member is not None:
        return member, False
    member = Member(
        name=name,
        name_initials=name_initials(name),
        sex=info.sex,
        birth_date=info.birth_date,
        **_personal_fields(info, mobile),
        **profile,
    )
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # Someone registered the same person a moment ago: use (and lock) their row.
        member = Member.objects.select_for_update().get(id_number_hash=h)
        return member, False
    return member, True


def _start_membership(*, member: Member, union: Organization, joined_on: dt.date) -> Membership:
    number = allocate_member_numbers(union=union)[0]
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                member=member,
                union=union,
                org_path=union.path,
                member_number=number,
                status=MS.ACTIVE,
                joined_on=joined_on,
            )
    except IntegrityError:
        # The partial unique index (one active membership per person) caught a race.
        _refuse_if_active(member)
        raise
    member.current_membership = membership
    member.org_path = union.path
    member.save(update_fields=["current_membership", "org_path", "updated_at"])
    return membership


def _clean_profile(fields: dict) -> dict:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    _check_choices(fields)
    profile = {k: v for k, v in fields.items() if v is not None}
    employer = profile.get("employer")
    if employer is not None and not isinstance(employer, Enterprise):
        raise TypeError("employer must be an Enterprise")
    if employer is not None and not profile.get("employer_name"):
        profile["employer_name"] = employer.name
    return profile


# --- registration ---------------------------------------------------------------------


@transaction.atomic
def member_register(
    *,
    actor: User,
    union: Organization,
    name: str,
    id_number: str,
    mobile: str,
    joined_on: dt.date | None = None,
    **profile,
) -> Membership:
    """A clerk registers a worker by real name: an active membership with a new member number."""
    union = Organization.objects.select_for_update().get(pk=union.pk)
    require(actor, roles.MEMBER_MANAGE, union)
    _check_union(union)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名（与身份证一致）。")})
    info = parse_id_number(id_number)
    check_join_age(info)
    mobile = parse_mobile(mobile)
    profile = _clean_profile(profile)
    joined_on = joined_on or timezone.localdate()
    if joined_on > timezone.localdate():
        raise ValidationError({"joined_on": _("入会日期不能晚于今天。")})
    member, created = _lock_or_create_member(info=info, mobile=mobile, name=name, profile=profile)
    _refuse_if_active(member)
    if not created:
        _refresh_person(member, name=name, mobile=mobile, profile=profile)
    membership = _start_membership(member=member, union=union, joined_on=joined_on)
    log_action(
        actor=actor,
        action="member.registered",
        target=membership,
        organization=union,
        data={"member": member.pk, "id": member.id_masked, "number": membership.member_number, "rejoined": not created},
    )
    return membership


def _refresh_person(member: Member, *, name: str, mobile: str, profile: dict) -> None:
    """A returning person: bring name, mobile and job data up to what they gave now."""
    member.name = name
    member.name_initials = name_initials(name)
    if crypto.mobile_hash(mobile) != member.mobile_hash:
        member.mobile_enc = crypto.encrypt(mobile)
        member.mobile_hash = crypto.mobile_hash(mobile)
        member.mobile_masked = crypto.mask_mobile(mobile)
    for k, v in profile.items():
        setattr(member, k, v)
    member.save()


# --- join codes and scan-to-join -------------------------------------------------------


@transaction.atomic
def join_code_create(
    *, actor: User, union: Organization | None = None, station: ServiceStation | None = None, label: str = ""
) -> JoinCode:
    """A join QR code for a union, or for a service station (applications go to its union)."""
    if station is not None:
        union = station.organization
        if union is None or union.kind not in MEMBER_HOLDING_KINDS:
            raise ValidationError(
                {"station": _("该站点的主办工会不能直接接收会员，请为基层工会或街道（乡镇）工会生成入会码。")}
            )
    if union is None:
        raise ValidationError({"union": _("请选择受理入会申请的工会。")})
    require(actor, roles.MEMBER_MANAGE, union)
    _check_union(union)
    code = JoinCode.objects.create(
        union=union,
        station=station,
        org_path=union.path,
        token=secrets.token_urlsafe(12),
        label=label or (station.name if station else union.name),
        created_by=actor,
    )
    log_action(actor=actor, action="member.join_code_created", target=code, organization=union)
    return code


@transaction.atomic
def join_code_revoke(*, actor: User, code: JoinCode) -> JoinCode:
    code = JoinCode.objects.select_for_update().select_related("union").get(pk=code.pk)
    require(actor, roles.MEMBER_MANAGE, code.union)
    if not code.is_active:
        raise TransitionError(_("该入会码已作废。"))
    code.is_active = False
    code.revoked_at = timezone.now()
    code.save(update_fields=["is_active", "revoked_at"])
    log_action(actor=actor, action="member.join_code_revoked", target=code, organization=code.union)
    return code


def join_code_public(code: JoinCode) -> str:
    """The signed string a QR code carries: a forged or altered one fails before any lookup."""
    return signing.Signer(salt=JOIN_CODE_SALT).sign(code.token)


def join_code_resolve(signed: str) -> JoinCode:
    """The active JoinCode behind a signed string, or a DomainError the worker can read."""
    try:
        token = signing.Signer(salt=JOIN_CODE_SALT).unsign(signed or "")
    except signing.BadSignature:
        raise DomainError(_("入会二维码无效，请重新扫描工会张贴的二维码。"), code="join_code_invalid") from None
    code = JoinCode.objects.select_related("union").filter(token=token).first()
    if code is None:
        raise DomainError(_("入会二维码无效，请重新扫描工会张贴的二维码。"), code="join_code_invalid")
    if not code.is_active or not code.union.is_active:
        raise DomainError(
            _("该入会二维码已停用，请向“%(union)s”索取新的二维码。") % {"union": code.union.name},
            code="join_code_revoked",
        )
    return code


@transaction.atomic
def join_application_submit(
    *,
    code: str,
    name: str,
    id_number: str,
    mobile: str,
    employment_form: str,
    employer_name: str = "",
    is_migrant_worker: bool = False,
    consent: bool,
    notice_version: str = CURRENT_NOTICE_VERSION,
    password: str = "",
    ip_address: str | None = None,
) -> JoinApplication:
    """A worker's mobile join form: checked in full, routed to the union owning the code."""
    join_code = join_code_resolve(code)
    if not consent:
        raise ValidationError({"consent": _("请阅读并勾选同意《个人信息处理告知书》后再提交。")})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名（与身份证一致）。")})
    info = parse_id_number(id_number)
    check_join_age(info)
    mobile = parse_mobile(mobile)
    if not employment_form:
        raise ValidationError({"employment_form": _("请选择就业形态。")})
    _check_choices({"employment_form": employment_form})
    if password:
        from django.contrib.auth.password_validation import validate_password

        try:
            validate_password(password)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
    h = crypto.id_hash(info.number)
    member = Member.objects.filter(id_number_hash=h).first()
    if member is not None:
        _refuse_if_active(member, for_worker=True)
    pending = JoinApplication.objects.select_related("union").filter(id_number_hash=h, status=JA.PENDING).first()
    if pending is not None:
        raise DomainError(
            _("您已向“%(union)s”提交过入会申请，正在审核中，请耐心等待。") % {"union": pending.union.name},
            code="already_applied",
            field="id_number",
        )
    application = JoinApplication(
        code=join_code,
        union=join_code.union,
        org_path=join_code.union.path,
        name=name,
        employer_name=(employer_name or "").strip()[:120],
        employment_form=employment_form,
        is_migrant_worker=bool(is_migrant_worker),
        consent=True,
        notice_version=notice_version,
        password_hash=make_password(password) if password else "",
        **_personal_fields(info, mobile),
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise DomainError(_("您的入会申请已提交，正在审核中，请勿重复提交。"), code="already_applied") from None
    log_action(
        actor=None,
        action="member.join_applied",
        target=application,
        organization=join_code.union,
        data={"id": application.id_masked, "code": join_code.pk},
        ip_address=ip_address,
    )
    return application


def _lock_application(application: JoinApplication) -> JoinApplication:
    return JoinApplication.objects.select_for_update().select_related("union").get(pk=application.pk)


@transaction.atomic
def join_application_approve(*, actor: User, application: JoinApplication) -> Membership:
    """Approve: the member, an active membership with a number, and a worker login. Only once."""
    app = _lock_application(application)
    require(actor, roles.MEMBER_MANAGE, app.union)
    _check_transition(JOIN_TRANSITIONS, app.status, JA.APPROVED, app.get_status_display(), JA.APPROVED.label)
    _check_union(app.union)
    id_number = crypto.decrypt(app.id_number_enc)
    mobile = crypto.decrypt(app.mobile_enc)
    info = parse_id_number(id_number)
    profile = {
        "employer_name": app.employer_name,
        "employment_form": app.employment_form,
        "is_migrant_worker": app.is_migrant_worker,
    }
    member, created = _lock_or_create_member(info=info, mobile=mobile, name=app.name, profile=profile)
    _refuse_if_active(member)
    if not created:
        _refresh_person(member, name=app.name, mobile=mobile, profile=profile)
    membership = _start_membership(member=member, union=app.union, joined_on=timezone.localdate())
    _ensure_worker_account(member, password_hash=app.password_hash)
    app.status = JA.APPROVED
    app.reviewed_by = actor
    app.reviewed_at = timezone.now()
    app.membership = membership
    app.password_hash = ""  # handed to the account; not kept twice
    app.save(update_fields=["status", "reviewed_by", "reviewed_at", "membership", "password_hash"])
    log_action(
        actor=actor,
        action="member.join_approved",
        target=app,
        organization=app.union,
        data={"member": member.pk, "number": membership.member_number, "id": app.id_masked},
    )
    return membership


def _ensure_worker_account(member: Member, *, password_hash: str = "") -> User:
    """The member's worker login (signs in with mobile + password through members.auth)."""
    user = member.user
    if user is None:
        # Workers sign in with their mobile; the username only has to be unique.
        username = f"w{member.pk}"
        if User.objects.filter(username=username).exists():
            username = f"w{member.pk}-{secrets.token_hex(3)}"
        user = User(username=username, kind=User.Kind.WORKER, display_name=member.name)
        user.password = password_hash or make_password(None)
        user.save()
        member.user = user
        member.save(update_fields=["user", "updated_at"])
    else:
        changed = []
        if password_hash:
            user.password = password_hash
            changed.append("password")
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if changed:
            user.save(update_fields=changed)
    return user


@transaction.atomic
def join_application_reject(*, actor: User, application: JoinApplication, reason: str) -> JoinApplication:
    app = _lock_application(application)
    require(actor, roles.MEMBER_MANAGE, app.union)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写驳回理由，申请人会看到它。")})
    _check_transition(JOIN_TRANSITIONS, app.status, JA.REJECTED, app.get_status_display(), JA.REJECTED.label)
    app.status = JA.REJECTED
    app.reason = reason[:200]
    app.reviewed_by = actor
    app.reviewed_at = timezone.now()
    app.password_hash = ""
    app.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at", "password_hash"])
    log_action(
        actor=actor, action="member.join_rejected", target=app, organization=app.union, data={"reason": app.reason}
    )
    return app


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


# --- honours, contact data, personal data ---------------------------------------------


def _union_of(member: Member) -> Organization | None:
    """The union of the member's current membership (for the audit event's place in the tree)."""
    if member.current_membership_id is None:
        return None
    return Organization.objects.filter(memberships__pk=member.current_membership_id).first()


def _require_member(actor: User, member: Member, capability: str) -> None:
    """404 outside the reach (through the member's current union), 403 without the capability."""
    if not member.org_path or not path_in_reach(actor, member.org_path):
        raise Http404(NOT_IN_REACH)
    if not has_capability(actor, capability, member.org_path):
        raise PermissionDenied(_("您的角色没有此项操作权限。"))


@transaction.atomic
def honour_add(*, actor: User, member: Member, kind: str, year: int, note: str = "") -> Honour:
    member = Member.objects.select_for_update().get(pk=member.pk)
    _require_member(actor, member, roles.MEMBER_MANAGE)
    if kind not in Honour.Kind.values:
        raise ValidationError({"kind": _("请选择荣誉类别。")})
    this_year = timezone.localdate().year
    if not isinstance(year, int) or year < 1950 or year > this_year:
        raise ValidationError({"year": _("授予年度应在 1950 年至 %(y)s 年之间。") % {"y": this_year}})
    if Honour.objects.filter(member=member, kind=kind, year=year).exists():
        raise ValidationError({"kind": _("该会员已登记过 %(y)s 年度的这项荣誉。") % {"y": year}})
    honour = Honour.objects.create(member=member, kind=kind, year=year, note=(note or "")[:200], created_by=actor)
    log_action(
        actor=actor,
        action="member.honour_added",
        target=honour,
        organization=_union_of(member),
        data={"member": member.pk, "kind": kind, "year": year},
    )
    return honour


@transaction.atomic
def member_update_contact(
    *, actor: User, member: Member, mobile: str | None = None, employer_name: str | None = None
) -> Member:
    """Correct contact details: the member themself (self-service) or a clerk of their union."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not _is_self(actor, member):
        _require_member(actor, member, roles.MEMBER_MANAGE)
    changed: dict[str, list[str]] = {}
    if mobile is not None:
        number = parse_mobile(mobile)
        h = crypto.mobile_hash(number)
        if h != member.mobile_hash:
            changed["mobile"] = [member.mobile_masked, crypto.mask_mobile(number)]
            member.mobile_enc = crypto.encrypt(number)
            member.mobile_hash = h
            member.mobile_masked = crypto.mask_mobile(number)
    if employer_name is not None:
        employer_name = employer_name.strip()[:120]
        if employer_name != member.employer_name:
            changed["employer_name"] = [member.employer_name, employer_name]
            member.employer_name = employer_name
    if not changed:
        return member
    member.save()
    log_action(
        actor=actor,
        action="member.contact_updated",
        target=member,
        organization=_union_of(member),
        data={"changed": changed, "self_service": _is_self(actor, member)},
    )
    return member


@transaction.atomic
def member_update(*, actor: User, member: Member, **fields) -> Member:
    """A clerk corrects a member's job data (employer, employment form, education, skills…)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    _require_member(actor, member, roles.MEMBER_MANAGE)
    profile = _clean_profile(fields)
    changed = {}
    for k, v in profile.items():
        if getattr(member, k) != v:
            changed[k] = [str(getattr(member, k) or ""), str(v or "")]
            setattr(member, k, v)
    if changed:
        member.save()
        log_action(
            actor=actor,
            action="member.updated",
            target=member,
            organization=_union_of(member),
            data={"changed": changed},
        )
    return member


def member_reveal(*, actor: User, member: Member, purpose: str = "") -> dict[str, str]:
    """The full ID number and mobile, for roles with personal_data.full; every reveal is audited."""
    _require_member(actor, member, roles.PERSONAL_DATA_FULL)
    data = {"id_number": crypto.decrypt(member.id_number_enc), "mobile": crypto.decrypt(member.mobile_enc)}
    log_action(
        actor=actor,
        action="member.personal_data_viewed",
        target=member,
        organization=_union_of(member),
        data={"fields": ["id_number", "mobile"], "purpose": purpose[:200]},
    )
    return data


# --- hooks for the organisation tree ---------------------------------------------------


def active_members_by_path() -> dict[str, int]:
    """{union path: active members held directly}, for CoverageSummary.members."""
    rows = Membership.objects.filter(status=MS.ACTIVE).order_by().values("org_path").annotate(n=Count("id"))
    out: dict[str, int] = defaultdict(int)
    for row in rows:
        out[row["org_path"]] += row["n"]
    return dict(out)


def memberships_follow_merge(*, source: Organization, target: Organization, actor: User) -> None:
    """When a union is merged, its active members, open applications and codes move to the target.

    Memberships keep their numbers (a number names a person's membership, not a place).
    Called by organizations.services.organization_merge inside its transaction.
    """
    active = Membership.objects.filter(union=source, status=MS.ACTIVE)
    moved_members = Member.objects.filter(pk__in=active.values("member_id")).update(org_path=target.path)
    active.update(union=target, org_path=target.path)
    JoinApplication.objects.filter(union=source, status=JA.PENDING).update(union=target, org_path=target.path)
    JoinCode.objects.filter(union=source).update(union=target, org_path=target.path)
    Transfer.objects.filter(to_union=source, status=TS.REQUESTED).update(to_union=target, to_path=target.path)
    Transfer.objects.filter(from_union=source, status=TS.REQUESTED).update(from_union=target, from_path=target.path)
    if moved_members:
        log_action(
            actor=actor,
            action="member.memberships_merged",
            target=target,
            organization=target,
            data={"from": source.pk, "members": moved_members},
        )


# --- data-subject requests and retention (PIPL art. 19, 45) ------------------------------


@transaction.atomic
def member_data_export(*, actor: User, member: Member) -> dict:
    """A copy of everything held about `member`, for the person themselves; audited.

    Only the member's own account may ask: staff see masked data and reveal through
    member_reveal. The audit event names the sections exported, never their content.
    """
    if not _is_self(actor, member):
        raise PermissionDenied(_("只能导出本人的个人信息。"))
    from .selectors import member_personal_data_export as gather

    data = gather(member)
    log_action(
        actor=actor,
        action="member.data_exported",
        target=member,
        organization=_union_of(member),
        data={"sections": sorted(data)},
    )
    return data


@transaction.atomic
def join_applications_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete rejected join applications decided more than JOIN_APPLICATION_RETENTION_DAYS ago.

    The decision time is `reviewed_at` (set by join_application_reject). One audit event
    records the count and the cutoff, never who was purged. Idempotent: a second run
    finds nothing left to delete.
    """
    from django.conf import settings

    days = settings.JOIN_APPLICATION_RETENTION_DAYS
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    expired = JoinApplication.objects.filter(status=JA.REJECTED, reviewed_at__lt=cutoff)
    _total, by_model = expired.delete()
    deleted = by_model.get(JoinApplication._meta.label, 0)
    log_action(
        actor=None,
        action="member.join_applications_purged",
        data={"count": deleted, "retention_days": days, "cutoff": cutoff.isoformat()},
    )
    return deleted
