"""Correcting who a member is: name, ID number, mobile, employer (issue 15 item 1).

Registration takes what the clerk typed; typos happen, and until now only the superuser
could fix them. A correction is not a job-data update (member_update): it changes the
keys the roll is found by, so it takes a reason, redoes the blind indexes and the
duplicate checks, and re-derives what the ID number says (birth date, sex).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import crypto, roles
from core.audit import log_action
from core.errors import DomainError
from organizations.models import Enterprise, User

from ..models import Member
from ..names import name_initials
from ..validators import age_on, check_join_age, clean_person_name, clean_plain_text, parse_id_number, parse_mobile
from .common import _change_login_mobile
from .records import _require_member, _union_of

CORRECTABLE_FIELDS = ("name", "id_number", "mobile", "employer_name", "employer")


@transaction.atomic
def member_correct(
    *,
    actor: User,
    member: Member,
    reason: str,
    name: str | None = None,
    id_number: str | None = None,
    mobile: str | None = None,
    employer_name: str | None = None,
    employer: Enterprise | None = None,
) -> Member:
    """A clerk of the member's union corrects their name, ID number, mobile or employer.

    None (or an empty ID number / mobile) leaves a field as it is. `employer` links the
    member to an enterprise of the registry in the actor's reach (its name becomes the
    employer name unless `employer_name` gives another). The audit event holds
    old and new values as the roll shows them: names and employers in full, ID numbers
    and mobiles masked only. All errors are collected and raised together.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    _require_member(actor, member, roles.MEMBER_MANAGE)
    errors: dict[str, list] = {}

    def check(field, fn):
        try:
            return fn()
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.message_dict.get(field, exc.messages))
            return None

    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请填写“更正原因”，例如“登记时身份证号抄错一位”。")]
    elif len(reason) > 200:
        errors["reason"] = [_("“更正原因”最多 200 个字，请删减。")]
    new_name = check("name", lambda: clean_person_name(name)) if name is not None else None
    new_employer = (
        check("employer_name", lambda: clean_plain_text(employer_name, field="employer_name", label=_("工作单位")))
        if employer_name is not None
        else None
    )
    if new_employer is not None and len(new_employer) > 120:
        errors["employer_name"] = [_("“工作单位”最多 120 个字，请删减。")]
    info = check("id_number", lambda: parse_id_number(id_number)) if (id_number or "").strip() else None
    number = check("mobile", lambda: parse_mobile(mobile)) if (mobile or "").strip() else None
    if info is not None:
        # What the number says about its holder must still hold: old enough now, and born
        # before they joined (an ID typo may have moved the birth date).
        check("id_number", lambda: check_join_age(info))
        joined = member.current_membership.joined_on if member.current_membership_id else None
        if joined is not None and "id_number" not in errors and age_on(info.birth_date, joined) < 0:
            errors["id_number"] = [_("身份证号码中的出生日期晚于入会日期，请核对第 7 至 14 位。")]
    if employer is not None and not Enterprise.objects.for_user(actor).filter(pk=employer.pk, is_active=True).exists():
        errors["employer"] = [_("所选企业不存在或不在您的管辖范围内，请重新搜索选择。")]
    if errors:
        raise ValidationError(errors)

    changed: dict[str, list] = {}
    if new_name is not None and new_name != member.name:
        changed["name"] = [member.name, new_name]
        member.name = new_name
        member.name_initials = name_initials(new_name)
    if employer is not None and employer.pk != member.employer_id:
        old = Enterprise.objects.filter(pk=member.employer_id).values_list("name", flat=True).first()
        changed["employer"] = [old or "", employer.name]
    if employer is not None and not new_employer:
        new_employer = employer.name  # the registry's name, unless another was given
    if new_employer is not None and new_employer != member.employer_name:
        changed["employer_name"] = [member.employer_name, new_employer]
        member.employer_name = new_employer
        member.employer = None  # the linked enterprise was the old employer's
    if employer is not None:
        member.employer = employer
    if info is not None:
        h = crypto.id_hash(info.number)
        if h != member.id_number_hash:
            if Member.objects.filter(id_number_hash=h).exclude(pk=member.pk).exists():
                raise DomainError(
                    _("该身份证号码已登记为另一名会员，不能用于更正；如为同一人，请联系市总工会合并记录。"),
                    code="duplicate_id_number",
                    field="id_number",
                )
            changed["id_number"] = [member.id_masked, crypto.mask_id(info.number)]
            if info.birth_date != member.birth_date:
                # Month only, as the member page shows it.
                changed["birth_date"] = [member.birth_date.strftime("%Y-%m"), info.birth_date.strftime("%Y-%m")]
            if info.sex != member.sex:
                changed["sex"] = [member.sex, info.sex]
            member.id_number_enc = crypto.encrypt(info.number)
            member.id_number_hash = h
            member.id_masked = crypto.mask_id(info.number)
            member.birth_date = info.birth_date
            member.sex = info.sex
    if number is not None and crypto.mobile_hash(number) != member.mobile_hash:
        # A mobile is the sign-in name of a worker account: never give a member the number
        # another account signs in with.
        taken = (
            Member.objects.filter(mobile_hash=crypto.mobile_hash(number), user__isnull=False)
            .exclude(pk=member.pk)
            .exists()
        )
        if taken:
            raise DomainError(
                _("该手机号码是另一名职工的登录账号，不能用于更正；请核对号码。"),
                code="duplicate_mobile",
                field="mobile",
            )
        before = member.mobile_masked
        _change_login_mobile(member, number)
        changed["mobile"] = [before, member.mobile_masked]
    if not changed:
        return member
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # The unique blind index caught someone registering the same ID number meanwhile.
        raise DomainError(
            _("该身份证号码已登记为另一名会员，不能用于更正；如为同一人，请联系市总工会合并记录。"),
            code="duplicate_id_number",
            field="id_number",
        ) from None
    if "name" in changed and member.user_id is not None:
        User.objects.filter(pk=member.user_id).update(display_name=member.name)
    log_action(
        actor=actor,
        action="member.corrected",
        target=member,
        organization=_union_of(member),
        data={"changed": changed, "reason": reason},
    )
    return member
