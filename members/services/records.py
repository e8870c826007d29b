"""Honours, contact data, full personal data on request, the tree's hooks, data-subject requests
and retention."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.errors import NOT_IN_REACH
from core.scoping import has_capability, path_in_reach
from core.sms import send_sms_on_commit
from organizations.models import Organization, User

from ..models import Honour, JoinApplication, JoinCode, Member, Membership, Transfer
from ..validators import clean_plain_text, parse_mobile
from .common import JA, MS, _change_login_mobile, _clean_profile
from .transfers import _is_self

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
    *,
    actor: User,
    member: Member,
    mobile: str | None = None,
    employer_name: str | None = None,
    keep_session_key: str | None = None,
) -> Member:
    """Correct contact details: the member themself (self-service) or a clerk of their union.

    A new mobile is a new sign-in name: the account's API tokens and its sessions other
    than `keep_session_key` (the one making the change) are revoked, and the old number is told.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not _is_self(actor, member):
        _require_member(actor, member, roles.MEMBER_MANAGE)
    changed: dict[str, list[str]] = {}
    if mobile is not None:
        number = parse_mobile(mobile)
        before = member.mobile_masked
        if _change_login_mobile(member, number, keep_session_key=keep_session_key):
            changed["mobile"] = [before, member.mobile_masked]
    if employer_name is not None:
        employer_name = clean_plain_text(employer_name, field="employer_name", label=_("工作单位"))[:120]
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
def worker_password_change(*, user: User, old_password: str, new_password: str, ip_address: str | None = None) -> None:
    """A worker changes their own password, proving control with the old one.

    Saving the new password revokes the account's API tokens (organizations.models.User.save)
    and ends its other sessions (Django's session hash follows the password; the caller
    keeps the current one with update_session_auth_hash). The mobile on record is told.
    """
    from django.contrib.auth.password_validation import validate_password

    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": _("原密码不正确：请输入您现在登录用的密码。")})
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save()
    log_action(actor=user, action="auth.password_changed", data={"self_service": True}, ip_address=ip_address)
    member = Member.objects.filter(user=user).first()
    if member is not None and member.mobile_enc:
        send_sms_on_commit(
            crypto.decrypt(member.mobile_enc),
            _(
                "【工会会员服务】您的登录密码已修改，其他设备上的登录已退出。如非本人操作，请立即致电职工服务热线12351。"
            ),
        )


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


def active_members_at(paths: list[str]) -> dict[str, int]:
    """{union path: active members held directly} for a few unions (an indexed equality each)."""
    rows = (
        Membership.objects.filter(status=MS.ACTIVE, org_path__in=paths)
        .order_by()
        .values("org_path")
        .annotate(n=Count("id"))
    )
    return {row["org_path"]: row["n"] for row in rows}


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
    Transfer.objects.filter(to_union=source, status__in=Transfer.OPEN_STATUSES).update(
        to_union=target, to_path=target.path
    )
    Transfer.objects.filter(from_union=source, status__in=Transfer.OPEN_STATUSES).update(
        from_union=target, from_path=target.path
    )
    if moved_members:
        log_action(
            actor=actor,
            action="member.memberships_merged",
            target=target,
            organization=target,
            data={"from": source.pk, "members": moved_members},
        )


# --- data-subject requests and retention (PIPL art. 19, 45) ------------------------------


DATA_EXPORT_FORMS = ("json", "page", "pdf")


@transaction.atomic
def member_data_export(*, actor: User, member: Member, form: str = "json") -> dict:
    """A copy of everything held about `member`, for the person themselves; audited.

    Only the member's own account may ask: staff see masked data and reveal through
    member_reveal. The audit event names the form (json, page, pdf) and the sections
    exported, never their content.
    """
    if form not in DATA_EXPORT_FORMS:
        raise ValueError(f"unknown personal-data form {form!r}")
    if not _is_self(actor, member):
        raise PermissionDenied(_("只能导出本人的个人信息。"))
    from ..selectors import member_personal_data_export as gather

    data = gather(member)
    log_action(
        actor=actor,
        action="member.data_exported",
        target=member,
        organization=_union_of(member),
        data={"form": form, "sections": sorted(data)},
    )
    return data


@transaction.atomic
def join_applications_purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete rejected join applications decided more than JOIN_APPLICATION_RETENTION_DAYS ago.

    Also lets identity checks of returning members lapse after JOIN_IDENTITY_CHECK_DAYS:
    the applicant's mobile stays for the record, their password hash is dropped.

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
    # A returning applicant's unchecked credentials (issue 16) are not kept for ever.
    check_cutoff = (now or timezone.now()) - dt.timedelta(days=settings.JOIN_IDENTITY_CHECK_DAYS)
    lapsed = JoinApplication.objects.filter(
        identity_check=JoinApplication.IdentityCheck.PENDING, reviewed_at__lt=check_cutoff
    ).update(identity_check=JoinApplication.IdentityCheck.EXPIRED, password_hash="")
    log_action(
        actor=None,
        action="member.join_applications_purged",
        data={
            "count": deleted,
            "retention_days": days,
            "cutoff": cutoff.isoformat(),
            "identity_checks_lapsed": lapsed,
        },
    )
    return deleted
