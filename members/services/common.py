"""State tables, member numbers and the building blocks the other member services share."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import crypto
from core.credentials import credentials_revoke_access
from core.errors import DomainError
from core.sms import send_sms_on_commit
from core.states import StateMachine
from organizations.models import MEMBER_HOLDING_KINDS, REGION_KINDS, Enterprise, Organization
from organizations.services import coverage_mark_dirty

from ..models import (
    Education,
    EmploymentForm,
    JoinApplication,
    Member,
    MemberNumberCounter,
    Membership,
    SkillLevel,
    Transfer,
)
from ..names import name_initials
from ..validators import IdInfo, check_join_age, clean_person_name, clean_plain_text, parse_id_number, parse_mobile

MS = Membership.Status
# The state tables: which status may follow which (core.states refuses anything else).
MEMBERSHIP_STATES = StateMachine(
    Membership,
    {
        MS.APPLIED: {MS.ACTIVE, MS.LEFT},
        MS.ACTIVE: {MS.TRANSFERRED_OUT, MS.LEFT, MS.RETIRED, MS.DECEASED},
        MS.RETIRED: {MS.DECEASED},
        MS.TRANSFERRED_OUT: set(),
        MS.LEFT: set(),
        MS.DECEASED: set(),
    },
)
JA = JoinApplication.Status
JOIN_STATES = StateMachine(
    JoinApplication,
    {
        JA.PENDING: {JA.APPROVED, JA.REJECTED},
        JA.APPROVED: set(),
        JA.REJECTED: set(),
    },
)
TS = Transfer.Status
TRANSFER_STATES = StateMachine(
    Transfer,
    {
        # Asked for by the receiving union: the worker consents or the releasing union
        # agrees (→ requested), or either declines; the asking side may withdraw.
        TS.AWAITING: {TS.REQUESTED, TS.DECLINED, TS.CANCELLED},
        TS.REQUESTED: {TS.ACCEPTED, TS.REJECTED, TS.CANCELLED},
        TS.ACCEPTED: set(),
        TS.REJECTED: set(),
        TS.DECLINED: set(),
        TS.CANCELLED: set(),
    },
)

SEQ_DIGITS = 6
MAX_SEQ = 10**SEQ_DIGITS - 1
JOIN_CODE_SALT = "members.join-code"
CURRENT_NOTICE_VERSION = "2024-1"
PROFILE_FIELDS = ("employer", "employer_name", "employment_form", "is_migrant_worker", "education", "skill_level")


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


def _checked_person(name: str, id_number: str, mobile: str) -> tuple[str, IdInfo, str]:
    """Name, ID number (checksum, old enough to join) and mobile as registration and the join form take them."""
    name = clean_person_name(name)
    info = parse_id_number(id_number)
    check_join_age(info)
    return name, info, parse_mobile(mobile)


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
    coverage_mark_dirty([union.pk])  # the union's figures follow within seconds (issue 15)
    return membership


def _change_login_mobile(member: Member, number: str, *, keep_session_key: str | None = None) -> bool:
    """Put a new mobile on the member (the caller saves); True if it changed.

    For a member with an account the mobile is the sign-in name, so this is a credential
    change: the account's API tokens and other sessions are revoked, and the number on
    record until now is told (whoever changed it, the owner hears of it).
    """
    h = crypto.mobile_hash(number)
    if h == member.mobile_hash:
        return False
    old = crypto.decrypt(member.mobile_enc) if member.mobile_enc else ""
    member.mobile_enc = crypto.encrypt(number)
    member.mobile_hash = h
    member.mobile_masked = crypto.mask_mobile(number)
    if member.user_id is not None:
        credentials_revoke_access(user=member.user, keep_session_key=keep_session_key)
        if old:
            send_sms_on_commit(
                old,
                _(
                    "【工会会员服务】您的登录手机号已改为%(masked)s，此前的登录已全部退出。如非本人办理，请立即致电职工服务热线12351。"
                )
                % {"masked": member.mobile_masked},
            )
    return True


def _clean_profile(fields: dict) -> dict:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown member fields: {sorted(unknown)}")
    _check_choices(fields)
    profile = {k: v for k, v in fields.items() if v is not None}
    if profile.get("employer_name"):
        profile["employer_name"] = clean_plain_text(
            profile["employer_name"], field="employer_name", label=_("工作单位")
        )
    employer = profile.get("employer")
    if employer is not None and not isinstance(employer, Enterprise):
        raise TypeError("employer must be an Enterprise")
    if employer is not None and not profile.get("employer_name"):
        profile["employer_name"] = employer.name
    return profile
