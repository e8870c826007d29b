"""Registration and scan-to-join: join codes, applications, approval and the worker account."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.errors import DomainError, TransitionError
from core.states import record_created, transition
from organizations.models import MEMBER_HOLDING_KINDS, Organization, ServiceStation, User
from organizations.services import require

from ..models import JoinApplication, JoinCode, Member, Membership
from ..names import name_initials
from ..validators import parse_id_number
from .common import (
    CURRENT_NOTICE_VERSION,
    JA,
    JOIN_CODE_SALT,
    JOIN_STATES,
    _check_choices,
    _check_union,
    _checked_person,
    _clean_profile,
    _lock_or_create_member,
    _personal_fields,
    _refuse_if_active,
    _start_membership,
)

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
    name, info, mobile = _checked_person(name, id_number, mobile)
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
    name, info, mobile = _checked_person(name, id_number, mobile)
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
    record_created(application, actor=None)
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
    JOIN_STATES.check(app.status, JA.APPROVED)  # before the member and account are touched
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
    transition(
        app,
        JA.APPROVED,
        actor=actor,
        action="member.join_approved",
        fields={
            "reviewed_by": actor,
            "reviewed_at": timezone.now(),
            "membership": membership,
            "password_hash": "",  # handed to the account; not kept twice
        },
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
    return transition(
        app,
        JA.REJECTED,
        actor=actor,
        action="member.join_rejected",
        reason=reason,
        fields={"reason": reason[:200], "reviewed_by": actor, "reviewed_at": timezone.now(), "password_hash": ""},
        organization=app.union,
    )
