"""Registration and scan-to-join: join codes, applications, approval and the worker account."""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.credentials import credentials_revoke_access
from core.errors import NOT_IN_REACH, DomainError, TransitionError
from core.sms import send_sms_on_commit
from core.states import record_created, transition
from organizations.models import MEMBER_HOLDING_KINDS, Organization, ServiceStation, User
from organizations.services import require

from ..models import JoinApplication, JoinCode, Member, Membership
from ..names import name_initials
from ..reminders import notify_application_approved
from ..validators import clean_plain_text, parse_id_number
from .common import (
    CURRENT_NOTICE_VERSION,
    JA,
    JOIN_CODE_SALT,
    JOIN_STATES,
    _active_membership_of,
    _change_login_mobile,
    _check_choices,
    _check_union,
    _checked_person,
    _clean_profile,
    _lock_or_create_member,
    _personal_fields,
    _refuse_if_active,
    _start_membership,
)

JA_CHECK = JoinApplication.IdentityCheck

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
    """A returning person registered by a clerk in person: name, mobile and job data as given now.

    A new mobile of a person with an account is a credential change (see _change_login_mobile).
    """
    member.name = name
    member.name_initials = name_initials(name)
    _change_login_mobile(member, mobile)
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
) -> JoinApplication | None:
    """A worker's mobile join form: checked in full, routed to the union owning the code.

    Returns the new application, or None when nothing new was filed (the person is an
    active member, or has an application pending): doors must answer both alike, and
    the person hears the details on the mobile the roll or their application holds.
    """
    join_code = join_code_resolve(code)
    if not consent:
        raise ValidationError({"consent": _("请阅读并勾选同意《个人信息处理告知书》后再提交。")})
    name, info, mobile = _checked_person(name, id_number, mobile)
    employer_name = clean_plain_text(employer_name, field="employer_name", label=_("工作单位"))
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
    # Whoever holds a join code (they hang on posters) must not learn from the answer
    # whether a person is on the roll or has applied elsewhere: a member or a pending
    # applicant is told on their own known channel, and the caller gets the same answer
    # as a new applicant (None instead of an application).
    member = Member.objects.filter(id_number_hash=h).first()
    active = _active_membership_of(member) if member is not None else None
    if active is not None:
        _tell_known_channel_once(
            h,
            crypto.decrypt(member.mobile_enc) if member.mobile_enc else "",
            _(
                "【工会会员服务】有人以您的身份信息申请加入“%(union)s”。您已是在册会员，无需重复申请；"
                "换了工作单位请登录“我的服务”申请会员关系转接。如非本人操作，请致电职工服务热线12351。"
            )
            % {"union": join_code.union.name},
        )
        _log_unfiled(join_code, info, ip_address)
        return None
    pending = JoinApplication.objects.select_related("union").filter(id_number_hash=h, status=JA.PENDING).first()
    if pending is not None:
        _tell_known_channel_once(
            h,
            crypto.decrypt(pending.mobile_enc),
            _(
                "【工会会员服务】您已向“%(union)s”提交入会申请，正在审核中，无需重复提交。"
                "如非本人操作，请致电职工服务热线12351。"
            )
            % {"union": pending.union.name},
        )
        _log_unfiled(join_code, info, ip_address)
        return None
    application = JoinApplication(
        code=join_code,
        union=join_code.union,
        org_path=join_code.union.path,
        name=name,
        employer_name=employer_name[:120],
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
        # The same person's application arrived a moment earlier: one is enough, same answer.
        _log_unfiled(join_code, info, ip_address)
        return None
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


# One notice per person per day at most: a stranger re-posting the form must not turn
# the portal into a text-message cannon aimed at a member.
DUPLICATE_NOTICE_SECONDS = 24 * 3600


def _tell_known_channel_once(id_hash: str, mobile: str, text: str) -> None:
    if mobile and cache.add(f"members:join-dup-notice:{id_hash}", 1, timeout=DUPLICATE_NOTICE_SECONDS):
        send_sms_on_commit(mobile, text)


def _log_unfiled(join_code: JoinCode, info, ip_address: str | None) -> None:
    # Audited under the code's union with a masked ID and no reason: staff of that union
    # must not learn from the log that (or where) the person is a member elsewhere.
    log_action(
        actor=None,
        action="member.join_not_filed",
        target=join_code,
        organization=join_code.union,
        data={"id": crypto.mask_id(info.number)},
        ip_address=ip_address,
    )


def _lock_application(application: JoinApplication) -> JoinApplication:
    return JoinApplication.objects.select_for_update().select_related("union").get(pk=application.pk)


@transaction.atomic
def join_application_approve(*, actor: User, application: JoinApplication) -> Membership:
    """Approve: the member, an active membership with a number, and a worker login. Only once.

    A person already on the roll (a returning member) keeps their account exactly as it
    was: its password, its mobile, its tokens. Name and ID number are widely known, so
    an application proves nothing about who holds the account; the mobile and password
    given on it wait on the application (identity_check "pending") until a clerk checks
    the person in person (join_application_verify_identity), and the person is told on
    the mobile on record. The applicant hears the same whether new or returning.
    """
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
        # Job data describe the new membership; name, mobile and account stay as on record.
        for k, v in profile.items():
            setattr(member, k, v)
        member.save()
    membership = _start_membership(member=member, union=app.union, joined_on=timezone.localdate())
    had_account = member.user_id is not None
    if created:
        _ensure_worker_account(member, password_hash=app.password_hash)
        password_hash = ""  # handed to the new account; not kept twice
        identity_check = app.identity_check
    else:
        _ensure_worker_account(member)  # reactivated, credentials untouched
        asks_change = app.mobile_hash != member.mobile_hash or bool(app.password_hash) or not had_account
        if asks_change:
            # Kept on the application until a clerk checks the person in person.
            password_hash, identity_check = app.password_hash, JA_CHECK.PENDING
        else:
            password_hash, identity_check = "", app.identity_check
        _notify_known_mobile(member, union=app.union)
    app = transition(
        app,
        JA.APPROVED,
        actor=actor,
        action="member.join_approved",
        fields={
            "reviewed_by": actor,
            "reviewed_at": timezone.now(),
            "membership": membership,
            "password_hash": password_hash,
            "identity_check": identity_check,
        },
        organization=app.union,
        data={
            "member": member.pk,
            "number": membership.member_number,
            "id": app.id_masked,
            "returning": not created,
            "identity_check": identity_check,
        },
    )
    send_sms_on_commit(mobile, _applicant_notice(app.union))
    if created:  # the new account is the applicant's own: their inbox says so too
        notify_application_approved(app, member.user)
    return membership


def _applicant_notice(union: Organization) -> str:
    # The same words for a new and a returning person: the applicant learns nothing about the roll.
    return _(
        "【工会会员服务】您向“%(union)s”提交的入会申请已审核通过。请用手机号码和密码登录“我的服务”；"
        "如无法登录，请携带身份证到该工会或服务站办理。"
    ) % {"union": union.name}


def _notify_known_mobile(member: Member, *, union: Organization) -> None:
    """Tell the person, on the mobile on record, that their identity was used to join."""
    if not member.mobile_enc:
        return
    send_sms_on_commit(
        crypto.decrypt(member.mobile_enc),
        _(
            "【工会会员服务】有人以您的姓名和身份证号向“%(union)s”申请入会，已获批准。您的登录手机号和密码没有改变。"
            "如非本人申请，请立即致电职工服务热线12351或联系该工会。"
        )
        % {"union": union.name},
    )


def _ensure_worker_account(member: Member, *, password_hash: str = "") -> User:
    """The member's worker login (signs in with mobile + password through members.auth).

    Creates the account for a new person (with the password they chose, if any). An
    existing account is only reactivated: its credentials never change here.
    """
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
    elif not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


@transaction.atomic
def join_application_verify_identity(*, actor: User, application: JoinApplication, note: str = "") -> Membership:
    """A clerk saw the returning applicant in person (ID card): hand them the account.

    The mobile and password given on the application become the account's credentials;
    every API token and session issued before is revoked, and both the old and the new
    number are told. Audited with the clerk's note. Only for an approved application
    whose check is pending, and only once.
    """
    app = _lock_application(application)
    require(actor, roles.MEMBER_MANAGE, app.union)
    if app.status != JA.APPROVED or app.identity_check != JA_CHECK.PENDING or app.membership_id is None:
        raise TransitionError(_("该申请没有待核验的登录信息（仅已批准的返会申请需要当面核验，且只核验一次）。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("请填写核验方式，例如“本人持身份证原件到服务站办理”。")})
    member = Member.objects.select_for_update().get(pk=app.membership.member_id)
    new_mobile = crypto.decrypt(app.mobile_enc)
    changed = []
    user = _ensure_worker_account(member)
    if _change_login_mobile(member, new_mobile):  # revokes access and tells the old number
        member.save()
        changed.append("mobile")
    if app.password_hash:
        user.password = app.password_hash  # already hashed when the applicant chose it
        user.save(update_fields=["password"])
        changed.append("password")
    credentials_revoke_access(user=user)
    app.identity_check = JA_CHECK.IN_PERSON
    app.password_hash = ""
    app.save(update_fields=["identity_check", "password_hash"])
    text = _("【工会会员服务】经“%(union)s”当面核验身份，您的登录信息已更新，此前的登录已全部退出。") % {
        "union": app.union.name
    }
    send_sms_on_commit(new_mobile, text)  # the old number heard of it from _change_login_mobile
    log_action(
        actor=actor,
        action="member.identity_verified_in_person",
        target=app,
        organization=app.union,
        data={"member": member.pk, "changed": changed, "note": note[:200]},
    )
    return app.membership


@transaction.atomic
def join_identity_claim_refuse(*, actor: User, application: JoinApplication) -> JoinApplication:
    """The account holder, signed in with their own credentials, refuses a pending claim.

    The applicant's typed mobile and password hash can then never be put into effect:
    a later in-person check is refused. Only the member whose account it is may refuse.
    """
    app = _lock_application(application)
    if app.membership_id is None or not Member.objects.filter(pk=app.membership.member_id, user=actor).exists():
        raise Http404(NOT_IN_REACH)
    if app.status != JA.APPROVED or app.identity_check != JA_CHECK.PENDING:
        raise TransitionError(_("这份申请没有待核验的登录信息，无需处理。"))
    app.identity_check = JA_CHECK.REFUSED
    app.password_hash = ""
    app.save(update_fields=["identity_check", "password_hash"])
    log_action(
        actor=actor,
        action="member.identity_claim_refused",
        target=app,
        organization=app.union,
        data={"id": app.id_masked, "mobile": app.mobile_masked},
    )
    return app


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
