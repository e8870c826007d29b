"""Every write of the mediation workflow (received → … → return visit), on core.states.

Who may do what:
- receive a case: a mediator (dispute.mediate) or dispute manager over the body; a worker
  applies for themselves through `case_apply`;
- accept / decline / assign / reassign: a dispute manager (dispute.manage) over the body,
  or the head of the body;
- work the case (sessions, clock, agreement, failure, fulfilment, close, visit): the
  assigned mediator, the head of the body, or a dispute manager.
Outside the reach → 404; inside without the right → 403.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import crypto
from core.attachments.services import attachment_add, attachment_remove
from core.audit import log_action
from core.errors import NOT_IN_REACH, DomainError
from core.roles import DISPUTE_MANAGE, DISPUTE_MEDIATE
from core.scoping import has_capability, path_in_reach
from core.states import StateMachine, record_created, transition
from members.validators import parse_id_number, parse_mobile
from organizations.models import Enterprise, Organization, OrgKind

from . import clock
from .models import (
    COLLECTIVE_THRESHOLD,
    Agreement,
    BodyKind,
    Case,
    CaseParty,
    Claim,
    ClockEvent,
    DisputeKind,
    EnterpriseRisk,
    Fulfilment,
    JudicialConfirmation,
    MediationBody,
    Mediator,
    ReturnVisit,
    Session,
)
from .money import parse_amount, rmb_upper, yuan
from .reminders import notify_session_scheduled

S = Case.Status
CASE_STATES = StateMachine(
    Case,
    {
        S.RECEIVED: {S.ACCEPTED, S.DECLINED, S.WITHDRAWN},
        S.ACCEPTED: {S.ASSIGNED, S.WITHDRAWN},
        S.ASSIGNED: {S.IN_MEDIATION, S.AGREED, S.FAILED, S.WITHDRAWN},
        S.IN_MEDIATION: {S.AGREED, S.FAILED, S.WITHDRAWN},
        S.AGREED: {S.CONFIRMING, S.FULFILLED},
        S.CONFIRMING: {S.FULFILLED, S.FAILED},
        S.FULFILLED: {S.CLOSED},
        S.FAILED: {S.CLOSED},
        S.CLOSED: {S.VISITED},
        S.DECLINED: set(),
        S.WITHDRAWN: set(),
        S.VISITED: set(),
    },
)
# Sessions and clock events belong to a case that is being mediated.
WORKING_STATES = frozenset({S.ASSIGNED, S.IN_MEDIATION})
OPEN_STATES = frozenset({S.RECEIVED, S.ACCEPTED, S.ASSIGNED, S.IN_MEDIATION})


# --- permission guards -------------------------------------------------------------------


def _in_reach(actor, path: str) -> None:
    if actor is None or not path_in_reach(actor, path):
        raise Http404(NOT_IN_REACH)


def is_head_of(actor, body_id: int) -> bool:
    return Mediator.objects.filter(user=actor, body_id=body_id, is_head=True, is_active=True).exists()


def can_manage(actor, case: Case) -> bool:
    if has_capability(actor, DISPUTE_MANAGE, case.org_path):
        return True
    return has_capability(actor, DISPUTE_MEDIATE, case.org_path) and is_head_of(actor, case.body_id)


def can_work(actor, case: Case) -> bool:
    if can_manage(actor, case):
        return True
    return (
        case.mediator_id is not None
        and has_capability(actor, DISPUTE_MEDIATE, case.org_path)
        and Mediator.objects.filter(pk=case.mediator_id, user=actor).exists()
    )


def _require_manage(actor, case: Case) -> None:
    _in_reach(actor, case.org_path)
    if not can_manage(actor, case):
        raise PermissionDenied(_("只有调解组织负责人或区工会争议管理人员可以受理、指派案件。"))


def _require_work(actor, case: Case) -> None:
    _in_reach(actor, case.org_path)
    if not can_work(actor, case):
        raise PermissionDenied(_("只有承办调解员、调解组织负责人或区工会争议管理人员可以办理本案。"))


def _today() -> dt.date:
    return clock.today()


def _reason(reason: str, field: str, message) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: message}, code="reason_required")
    return reason[:200]


# --- bodies and mediators ----------------------------------------------------------------


@transaction.atomic
def body_create(*, actor, organization: Organization, name: str, kind: str, enterprise=None) -> MediationBody:
    _in_reach(actor, organization.path)
    if not has_capability(actor, DISPUTE_MANAGE, organization.path):
        raise PermissionDenied(_("没有设立调解组织的权限。"))
    if kind not in BodyKind.values:
        raise ValidationError({"kind": _("请选择调解组织类型。")})
    if not (name or "").strip():
        raise ValidationError({"name": _("请填写调解组织名称。")})
    body = MediationBody.objects.create(
        name=name.strip(), kind=kind, organization=organization, enterprise=enterprise, org_path=organization.path
    )
    log_action(actor=actor, action="dispute.body_created", target=body, organization=organization)
    return body


@transaction.atomic
def mediator_add(
    *, actor, body: MediationBody, user, name: str, employment: str, specialities=(), is_head: bool = False
) -> Mediator:
    _in_reach(actor, body.org_path)
    if not has_capability(actor, DISPUTE_MANAGE, body.org_path):
        raise PermissionDenied(_("没有管理调解员的权限。"))
    bad = [s for s in specialities if s not in DisputeKind.values]
    if bad:
        raise ValidationError({"specialities": _("未知的争议类型：%(k)s。") % {"k": "、".join(bad)}})
    if employment not in Mediator.Employment.values:
        raise ValidationError({"employment": _("请选择专职或兼职。")})
    mediator = Mediator.objects.create(
        user=user,
        body=body,
        name=name,
        employment=employment,
        specialities=list(specialities),
        is_head=is_head,
        org_path=body.org_path,
    )
    log_action(actor=actor, action="dispute.mediator_added", target=mediator, organization=body.organization)
    return mediator


def mediator_loads(body: MediationBody) -> dict[int, int]:
    """Open cases per active mediator of the body (the load is derived, never stored)."""
    rows = (
        Mediator.objects.filter(body=body, is_active=True)
        .annotate(load=Count("cases", filter=Q(cases__status__in=OPEN_STATES)))
        .values_list("pk", "load")
    )
    return dict(rows)


def mediator_suggest(case: Case) -> Mediator | None:
    """The least-loaded active mediator of the case's body, those with its kind as speciality first."""
    mediators = list(Mediator.objects.filter(body_id=case.body_id, is_active=True))
    if not mediators:
        return None
    loads = mediator_loads(case.body)
    return min(mediators, key=lambda m: (case.kind not in (m.specialities or []), loads.get(m.pk, 0), m.pk))


# --- intake ------------------------------------------------------------------------------


def _clean_claims(claims) -> list[tuple[str, Decimal | None]]:
    out = []
    for i, claim in enumerate(claims or []):
        desc = (claim.get("description") or "").strip()
        if not desc:
            raise ValidationError({"claims": _("第 %(n)s 项请求事项没有填写内容。") % {"n": i + 1}})
        try:
            amount = parse_amount(claim.get("amount"), field="claims")
        except ValidationError as exc:
            msg = exc.message_dict["claims"][0]
            raise ValidationError({"claims": _("第 %(n)s 项请求：%(m)s") % {"n": i + 1, "m": msg}}) from None
        out.append((desc[:200], amount))
    if not out:
        raise ValidationError({"claims": _("请至少填写一项请求事项。")})
    return out


def _clean_parties(applicants) -> list[dict]:
    out = []
    for i, person in enumerate(applicants or []):
        name = (person.get("name") or "").strip()
        if not name:
            raise ValidationError({"applicants": _("第 %(n)s 位当事人没有填写姓名。") % {"n": i + 1}})
        try:
            info = parse_id_number(person.get("id_number") or "", field="applicants")
        except ValidationError as exc:
            msg = exc.message_dict["applicants"][0]
            raise ValidationError({"applicants": _("%(name)s：%(m)s") % {"name": name, "m": msg}}) from None
        mobile = person.get("mobile") or ""
        if mobile:
            mobile = parse_mobile(mobile, field="applicants")
        role = person.get("role") or CaseParty.Role.APPLICANT
        if role not in CaseParty.Role.values:
            raise ValidationError({"applicants": _("当事人身份只能是申请人或代表人。")})
        out.append({"name": name[:50], "info": info, "mobile": mobile, "role": role, "member": person.get("member")})
    if not any(p["role"] == CaseParty.Role.APPLICANT for p in out):
        raise ValidationError({"applicants": _("请至少填写一位申请人。")})
    return out


def _district_of(org: Organization) -> Organization | None:
    paths = [*org.ancestor_paths(), org.path]
    return Organization.objects.filter(path__in=paths, kind=OrgKind.DISTRICT).first()


def _escalate(case: Case, actor) -> None:
    """A collective dispute goes to the supervising district at once (and is listed first)."""
    district = _district_of(case.body.organization) or case.body.organization
    case.escalated_to = district
    case.save(update_fields=["escalated_to", "updated_at"])
    log_action(
        actor=actor,
        action="dispute.collective_escalated",
        target=case,
        organization=district,
        data={"workers_involved": case.workers_involved},
    )


@transaction.atomic
def case_receive(
    *,
    actor,
    body: MediationBody,
    channel: str,
    kind: str,
    facts: str,
    claims,
    applicants,
    respondent_enterprise: Enterprise | None = None,
    respondent_name: str = "",
    workers_involved: int | None = None,
    received_on: dt.date | None = None,
    court_name: str = "",
    court_reference: str = "",
    court_return_deadline: dt.date | None = None,
    track: str = Case.Track.MEDIATION,
    applicant_user=None,
    referred_from: Case | None = None,
    _self_service: bool = False,
) -> Case:
    """Register an application as received (nothing is saved if any part is refused)."""
    if not _self_service:
        _in_reach(actor, body.org_path)
        if not (
            has_capability(actor, DISPUTE_MEDIATE, body.org_path)
            or has_capability(actor, DISPUTE_MANAGE, body.org_path)
        ):
            raise PermissionDenied(_("没有登记调解案件的权限。"))
    if not body.is_active:
        raise DomainError(_("该调解组织已停止运行，请选择其他调解组织。"), field="body")
    if channel not in Case.Channel.values:
        raise ValidationError({"channel": _("请选择来源渠道。")})
    if kind not in DisputeKind.values:
        raise ValidationError({"kind": _("请选择争议类型。")})
    if track not in Case.Track.values:
        raise ValidationError({"track": _("请选择调解或法律援助。")})
    facts = (facts or "").strip()
    if not facts:
        raise ValidationError({"facts": _("请简要填写争议事实。")})
    if respondent_enterprise is None and not (respondent_name or "").strip():
        raise ValidationError({"respondent_name": _("请选择被申请单位，或填写其名称。")})
    received_on = received_on or _today()
    if received_on > _today():
        raise ValidationError({"received_on": _("收到申请日期不能晚于今天。")})
    if channel in Case.COURT_CHANNELS:
        if not court_name.strip() or not court_reference.strip():
            raise ValidationError({"court_reference": _("法院委派/委托的案件请填写法院名称和法院案号。")})
        if court_return_deadline is None:
            raise ValidationError({"court_return_deadline": _("法院委派/委托的案件请填写法院要求退回的日期。")})
        if court_return_deadline < received_on:
            raise ValidationError({"court_return_deadline": _("法院要求退回日期不能早于收到申请日期。")})
    clean_claims = _clean_claims(claims)
    parties = _clean_parties(applicants)
    applicant_count = sum(1 for p in parties if p["role"] == CaseParty.Role.APPLICANT)
    if workers_involved is not None:
        try:
            workers_involved = int(workers_involved)
        except (TypeError, ValueError):
            raise ValidationError({"workers_involved": _("涉及职工人数应为整数。")}) from None
        if workers_involved < 1:
            raise ValidationError({"workers_involved": _("涉及职工人数至少为 1。")})
    workers = max(workers_involved or 0, applicant_count)
    case = Case.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:20]}",
        track=track,
        body=body,
        org_path=body.org_path,
        channel=channel,
        court_name=court_name.strip()[:80],
        court_reference=court_reference.strip()[:60],
        court_return_deadline=court_return_deadline if channel in Case.COURT_CHANNELS else None,
        respondent_enterprise=respondent_enterprise,
        respondent_name=(respondent_enterprise.name if respondent_enterprise else respondent_name.strip())[:120],
        kind=kind,
        facts_enc=crypto.encrypt(facts),
        facts_length=len(facts),
        workers_involved=workers,
        is_collective=workers >= COLLECTIVE_THRESHOLD,
        received_on=received_on,
        applicant_user=applicant_user,
        referred_from=referred_from,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    prefix = "YZ" if track == Case.Track.LEGAL_AID else "TJ"
    case.number = f"{prefix}{received_on:%Y}-{case.pk:07d}"
    case.save(update_fields=["number"])
    Claim.objects.bulk_create(Claim(case=case, description=d, amount=a) for d, a in clean_claims)
    CaseParty.objects.bulk_create(
        CaseParty(
            case=case,
            role=p["role"],
            name=p["name"],
            member=p["member"],
            id_number_enc=crypto.encrypt(p["info"].number),
            id_number_hash=crypto.id_hash(p["info"].number),
            id_masked=crypto.mask_id(p["info"].number),
            mobile_masked=crypto.mask_mobile(p["mobile"]) if p["mobile"] else "",
        )
        for p in parties
    )
    record_created(case, actor=actor)
    log_action(
        actor=actor,
        action="dispute.case_received",
        target=case,
        organization=body.organization,
        data={"channel": channel, "track": track, "workers_involved": workers},
    )
    if case.is_collective:
        _escalate(case, actor)
    return case


@transaction.atomic
def case_apply(
    *,
    worker,
    body: MediationBody,
    track: str,
    kind: str,
    name: str,
    id_number: str,
    facts: str,
    claims,
    respondent_name: str,
    mobile: str = "",
) -> Case:
    """A worker asks for mediation or legal aid from the phone (channel: online)."""
    if worker is None or not getattr(worker, "is_worker", False):
        raise PermissionDenied(_("请使用职工账号登录后申请。"))
    return case_receive(
        actor=worker,
        body=body,
        channel=Case.Channel.ONLINE,
        kind=kind,
        facts=facts,
        claims=claims,
        applicants=[{"name": name, "id_number": id_number, "mobile": mobile}],
        respondent_name=respondent_name,
        track=track,
        applicant_user=worker,
        _self_service=True,
    )


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("body", "body__organization").get(pk=case.pk)


@transaction.atomic
def case_set_workers(*, case: Case, actor, workers_involved: int) -> Case:
    """Change the number of workers involved; 10 or more makes the case collective (and escalates it)."""
    case = _locked(case)
    _require_work(actor, case)
    try:
        workers_involved = int(workers_involved)
    except (TypeError, ValueError):
        raise ValidationError({"workers_involved": _("涉及职工人数应为整数。")}) from None
    applicants = case.parties.filter(role=CaseParty.Role.APPLICANT).count()
    if workers_involved < max(1, applicants):
        raise ValidationError(
            {"workers_involved": _("涉及职工人数不能少于已登记的申请人数（%(n)s 人）。") % {"n": applicants}}
        )
    was = case.is_collective
    case.workers_involved = workers_involved
    if workers_involved >= COLLECTIVE_THRESHOLD:
        case.is_collective = True
    case.save(update_fields=["workers_involved", "is_collective", "updated_at"])
    log_action(actor=actor, action="dispute.workers_changed", target=case, data={"workers_involved": workers_involved})
    if case.is_collective and not was:
        _escalate(case, actor)
    return case


@transaction.atomic
def case_set_collective(*, case: Case, actor, collective: bool) -> Case:
    """Flag a case collective by hand, or clear the flag — never while 10 or more workers are on it."""
    case = _locked(case)
    _require_manage(actor, case)
    if not collective and case.workers_involved >= COLLECTIVE_THRESHOLD:
        raise DomainError(
            _("本案涉及 %(n)s 名职工（10 人以上且有共同请求），属于集体劳动争议，不能取消集体争议标记。")
            % {"n": case.workers_involved},
            field="is_collective",
        )
    if case.is_collective == collective:
        return case
    case.is_collective = collective
    case.save(update_fields=["is_collective", "updated_at"])
    log_action(actor=actor, action="dispute.collective_set", target=case, data={"collective": collective})
    if collective:
        _escalate(case, actor)
    return case


# --- acceptance and assignment ----------------------------------------------------------


def _clock_events(case: Case) -> list[clock.Event]:
    return [clock.Event(e.kind, e.on, e.days) for e in case.clock_events.order_by("on", "id")]


def _add_clock_event(case: Case, actor, kind: str, on: dt.date, *, days: int = 0, reason: str = "") -> ClockEvent:
    # The caller holds the case's row lock: two clerks suspending at once queue here.
    clock.check_sequence(_clock_events(case), clock.Event(kind, on, days))
    event = ClockEvent.objects.create(case=case, kind=kind, on=on, days=days, reason=reason, actor=actor)
    log_action(
        actor=actor,
        action=f"dispute.clock_{kind}",
        target=case,
        data={"on": on.isoformat(), **({"days": days} if days else {}), **({"reason": reason} if reason else {})},
    )
    return event


@transaction.atomic
def case_accept(*, case: Case, actor) -> Case:
    """Accept the application; the art. 14 clock starts on the day the body received it."""
    _require_manage(actor, case)
    case = transition(case, S.ACCEPTED, actor=actor, action="dispute.case_accepted")
    if case.track == Case.Track.MEDIATION:
        _add_clock_event(case, actor, ClockEvent.Kind.START, case.received_on)
    return case


@transaction.atomic
def case_decline(*, case: Case, actor, reason: str) -> Case:
    _require_manage(actor, case)
    reason = _reason(reason, "reason", _("请填写不予受理的理由。"))
    return transition(
        case, S.DECLINED, actor=actor, action="dispute.case_declined", reason=reason, fields={"decline_reason": reason}
    )


def _check_mediator(case: Case, mediator: Mediator | None) -> Mediator:
    if mediator is None:
        mediator = mediator_suggest(case)
        if mediator is None:
            raise DomainError(_("该调解组织没有在岗的调解员，请先添加调解员。"), field="mediator")
    if mediator.body_id != case.body_id or not mediator.is_active:
        raise DomainError(_("只能指派本调解组织在岗的调解员。"), field="mediator")
    return mediator


@transaction.atomic
def case_assign(*, case: Case, actor, mediator: Mediator | None = None) -> Case:
    """Assign an accepted case: to `mediator` (the clerk's override) or the suggested one."""
    _require_manage(actor, case)
    mediator = _check_mediator(case, mediator)
    return transition(
        case,
        S.ASSIGNED,
        actor=actor,
        action="dispute.case_assigned",
        fields={"mediator": mediator},
        data={"mediator": mediator.pk},
    )


@transaction.atomic
def case_reassign(*, case: Case, actor, mediator: Mediator, reason: str) -> Case:
    case = _locked(case)
    _require_manage(actor, case)
    if case.status not in WORKING_STATES:
        raise DomainError(_("只有已指派或调解中的案件可以更换调解员。"))
    reason = _reason(reason, "reason", _("请填写更换调解员的理由。"))
    mediator = _check_mediator(case, mediator)
    old = case.mediator_id
    case.mediator = mediator
    case.save(update_fields=["mediator", "updated_at"])
    log_action(
        actor=actor,
        action="dispute.case_reassigned",
        target=case,
        data={"from": old, "to": mediator.pk, "reason": reason},
    )
    return case


# --- mediation ---------------------------------------------------------------------------


@transaction.atomic
def session_record(*, case: Case, actor, held_at, place: str, attendees: str, notes: str = "") -> Session:
    case = _locked(case)
    _require_work(actor, case)
    if case.status not in WORKING_STATES:
        raise DomainError(
            _("案件当前状态为“%(s)s”，不能再记录调解会。") % {"s": case.get_status_display()}, code="case_not_open"
        )
    if not (place or "").strip():
        raise ValidationError({"place": _("请填写调解地点。")})
    if not (attendees or "").strip():
        raise ValidationError({"attendees": _("请填写参加人员。")})
    if held_at is None:
        raise ValidationError({"held_at": _("请填写调解时间。")})
    session = Session.objects.create(
        case=case,
        held_at=held_at,
        place=place.strip(),
        attendees=attendees.strip(),
        notes=notes or "",
        recorded_by=actor,
    )
    log_action(actor=actor, action="dispute.session_recorded", target=case, data={"session": session.pk})
    notify_session_scheduled(case, session)  # the applicant's inbox and a text message (activity)
    if case.status == S.ASSIGNED:
        transition(case, S.IN_MEDIATION, actor=actor, action="dispute.mediation_started")
    return session


def _clock_case(case: Case, actor) -> Case:
    case = _locked(case)
    _require_work(actor, case)
    if case.track != Case.Track.MEDIATION:
        raise DomainError(_("法律援助案件不适用调解时限。"))
    if case.status not in WORKING_STATES | {S.ACCEPTED}:
        raise DomainError(
            _("案件当前状态为“%(s)s”，时限已不再计算。") % {"s": case.get_status_display()}, code="case_not_open"
        )
    return case


@transaction.atomic
def clock_suspend(*, case: Case, actor, reason: str, on: dt.date | None = None) -> ClockEvent:
    reason = _reason(reason, "reason", _("请填写中止时限的理由（如当事人申请鉴定、不可抗力）。"))
    case = _clock_case(case, actor)
    return _add_clock_event(case, actor, ClockEvent.Kind.SUSPEND, on or _today(), reason=reason)


@transaction.atomic
def clock_resume(*, case: Case, actor, on: dt.date | None = None) -> ClockEvent:
    case = _clock_case(case, actor)
    return _add_clock_event(case, actor, ClockEvent.Kind.RESUME, on or _today())


@transaction.atomic
def clock_extend(
    *, case: Case, actor, days: int, both_parties_consent: bool, reason: str = "", on: dt.date | None = None
) -> ClockEvent:
    if not both_parties_consent:
        raise ValidationError({"both_parties_consent": _("延长调解期限须经双方当事人同意，请确认已取得双方同意。")})
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": _("延长天数应为整数。")}) from None
    if not 1 <= days <= 60:
        raise ValidationError({"days": _("延长天数应在 1 至 60 天之间。")})
    case = _clock_case(case, actor)
    return _add_clock_event(
        case, actor, ClockEvent.Kind.EXTEND, on or _today(), days=days, reason=(reason or _("双方同意延长"))[:200]
    )


def case_clock(case: Case, *, today: dt.date | None = None) -> clock.ClockState:
    return clock.clock_state(_clock_events(case), today=today or _today(), court_deadline=case.court_return_deadline)


def agreement_text(case: Case, terms: str = "") -> str:
    """The agreement generated from the case: parties, respondent, claims with amounts, terms."""
    applicants = [p for p in case.parties.all() if p.role == CaseParty.Role.APPLICANT]
    reps = [p for p in case.parties.all() if p.role == CaseParty.Role.REPRESENTATIVE]
    lines = [_("申请人：%(names)s") % {"names": "、".join(p.name for p in applicants)}]
    if case.workers_involved > len(applicants):
        lines.append(_("（涉及职工共 %(n)s 人）") % {"n": case.workers_involved})
    if reps:
        lines.append(_("代表人：%(names)s") % {"names": "、".join(p.name for p in reps)})
    lines.append(_("被申请人：%(name)s") % {"name": case.respondent_name})
    lines.append(_("争议类型：%(kind)s") % {"kind": case.get_kind_display()})
    lines.append(_("申请人的请求："))
    total = Decimal("0")
    for i, claim in enumerate(case.claims.all(), start=1):
        if claim.amount is not None:
            total += claim.amount
            lines.append(
                _("%(i)s. %(d)s，金额人民币 %(a)s 元（大写：%(u)s）")
                % {"i": i, "d": claim.description, "a": yuan(claim.amount), "u": rmb_upper(claim.amount)}
            )
        else:
            lines.append(f"{i}. {claim.description}")
    if total:
        lines.append(_("请求金额合计：人民币 %(a)s 元（大写：%(u)s）") % {"a": yuan(total), "u": rmb_upper(total)})
    lines.append(_("经调解，双方自愿达成如下协议："))
    lines.append((terms or "").strip() or _("被申请人同意按上述请求履行，于协议生效之日起十五日内付清。"))
    lines.append(_("本协议自双方签字（盖章）之日起生效。双方可自协议生效之日起三十日内共同向人民法院申请司法确认。"))
    return "\n".join(lines)


@transaction.atomic
def agreement_make(
    *,
    case: Case,
    actor,
    terms: str = "",
    effective_on: dt.date | None = None,
    signed_by_applicants: bool = False,
    signed_by_respondent: bool = False,
    signed_by_mediator: bool = False,
) -> Agreement:
    """Record the agreement (text generated from the case) and move the case to 达成协议."""
    _require_work(actor, case)
    effective_on = effective_on or _today()
    if not (signed_by_applicants and signed_by_respondent):
        raise ValidationError({"signed_by_respondent": _("调解协议须经双方当事人签字（盖章）后才能登记生效。")})
    case = transition(case, S.AGREED, actor=actor, action="dispute.agreement_made")
    agreement = Agreement.objects.create(
        case=case,
        text=agreement_text(case, terms),
        signed_by_applicants=signed_by_applicants,
        signed_by_respondent=signed_by_respondent,
        signed_by_mediator=signed_by_mediator,
        effective_on=effective_on,
        created_by=actor,
    )
    return agreement


@transaction.atomic
def case_fail(*, case: Case, actor, reason: str, referral: str) -> Case:
    """Mediation failed: record why and where the parties go; legal aid opens a linked aid case."""
    _require_work(actor, case)
    reason = _reason(reason, "reason", _("请填写调解不成的原因。"))
    if referral not in (Case.Referral.ARBITRATION, Case.Referral.COURT, Case.Referral.LEGAL_AID):
        raise ValidationError({"referral": _("请选择转处去向：仲裁、法院或法律援助。")})
    case = transition(
        case,
        S.FAILED,
        actor=actor,
        action="dispute.mediation_failed",
        reason=reason,
        fields={"failure_reason": reason, "referral": referral},
    )
    if referral == Case.Referral.LEGAL_AID:
        legal_aid_refer(case=case, actor=actor)
    return case


def legal_aid_refer(*, case: Case, actor) -> Case:
    """Open a legal-aid case from a failed mediation (same parties and claims, the body's aid queue)."""
    parties = [
        {"name": p.name, "id_number": crypto.decrypt(p.id_number_enc), "role": p.role, "member": p.member}
        for p in case.parties.all()
    ]
    claims = [{"description": c.description, "amount": c.amount} for c in case.claims.all()]
    aid = case_receive(
        actor=actor,
        body=case.body,
        channel=Case.Channel.REFERRAL,
        kind=case.kind,
        facts=crypto.decrypt(case.facts_enc),
        claims=claims,
        applicants=parties,
        respondent_enterprise=case.respondent_enterprise,
        respondent_name=case.respondent_name,
        workers_involved=case.workers_involved,
        track=Case.Track.LEGAL_AID,
        applicant_user=case.applicant_user,
        referred_from=case,
        _self_service=True,
    )
    return aid


@transaction.atomic
def case_withdraw(*, case: Case, actor, reason: str) -> Case:
    reason = _reason(reason, "reason", _("请填写撤回的原因。"))
    if not (getattr(actor, "pk", None) and case.applicant_user_id == actor.pk):
        if case.mediator_id:
            _require_work(actor, case)
        else:
            _require_manage(actor, case)
    return transition(case, S.WITHDRAWN, actor=actor, action="dispute.case_withdrawn", reason=reason)


# --- after the agreement -----------------------------------------------------------------


@transaction.atomic
def confirmation_apply(*, case: Case, actor, court: str, applied_on: dt.date | None = None) -> JudicialConfirmation:
    """Record the joint application for judicial confirmation (人民调解法 art. 33: within 30 days)."""
    _require_work(actor, case)
    applied_on = applied_on or _today()
    if not (court or "").strip():
        raise ValidationError({"court": _("请填写受理司法确认的人民法院。")})

    def within_window(locked: Case) -> None:
        agreement = Agreement.objects.get(case=locked)
        last = clock.confirmation_window_end(agreement.effective_on)
        if applied_on > last:
            raise DomainError(
                _("司法确认须自调解协议生效之日起三十日内申请（最后一日为 %(d)s），已超过期限。")
                % {"d": last.isoformat()},
                field="applied_on",
            )
        if applied_on < agreement.effective_on:
            raise ValidationError({"applied_on": _("申请日期不能早于协议生效日期。")})

    case = transition(case, S.CONFIRMING, actor=actor, action="dispute.confirmation_applied", guard=within_window)
    return JudicialConfirmation.objects.create(case=case, court=court.strip()[:80], applied_on=applied_on)


@transaction.atomic
def confirmation_decide(*, case: Case, actor, outcome: str, decided_on: dt.date | None = None) -> JudicialConfirmation:
    case = _locked(case)
    _require_work(actor, case)
    if case.status != S.CONFIRMING:
        raise DomainError(_("案件不在司法确认阶段。"))
    if outcome not in (JudicialConfirmation.Outcome.CONFIRMED, JudicialConfirmation.Outcome.REFUSED):
        raise ValidationError({"outcome": _("请选择法院裁定结果。")})
    jc = JudicialConfirmation.objects.select_for_update().get(case=case)
    if jc.outcome != JudicialConfirmation.Outcome.PENDING:
        raise DomainError(_("法院裁定结果已经登记。"))
    jc.outcome = outcome
    jc.decided_on = decided_on or _today()
    jc.save(update_fields=["outcome", "decided_on"])
    log_action(actor=actor, action="dispute.confirmation_decided", target=case, data={"outcome": outcome})
    if outcome == JudicialConfirmation.Outcome.REFUSED:
        transition(
            case,
            S.FAILED,
            actor=actor,
            action="dispute.confirmation_refused",
            reason=_("法院驳回司法确认申请"),
            fields={"failure_reason": _("法院驳回司法确认申请"), "referral": Case.Referral.COURT},
        )
    return jc


@transaction.atomic
def fulfilment_record(*, case: Case, actor, outcome: str, amount_paid=0, checked_on=None, note: str = "") -> Fulfilment:
    _require_work(actor, case)
    if outcome not in Fulfilment.Outcome.values:
        raise ValidationError({"outcome": _("请选择履行情况：已履行、部分履行或未履行。")})
    amount = parse_amount(amount_paid, field="amount_paid") or Decimal("0.00")

    def confirmation_settled(locked: Case) -> None:
        if locked.status == S.CONFIRMING:
            jc = JudicialConfirmation.objects.get(case=locked)
            if jc.outcome == JudicialConfirmation.Outcome.PENDING:
                raise DomainError(_("司法确认尚在审查中，请待法院裁定后再核查履行。"))

    case = transition(
        case,
        S.FULFILLED,
        actor=actor,
        action="dispute.fulfilment_checked",
        guard=confirmation_settled,
        data={"outcome": outcome, "amount_paid": str(amount)},
    )
    return Fulfilment.objects.create(
        case=case, outcome=outcome, amount_paid=amount, checked_on=checked_on or _today(), note=(note or "")[:200]
    )


@transaction.atomic
def case_close(*, case: Case, actor) -> Case:
    _require_work(actor, case)
    return transition(case, S.CLOSED, actor=actor, action="dispute.case_closed", fields={"closed_on": _today()})


@transaction.atomic
def return_visit_record(*, case: Case, actor, satisfaction, comments: str = "", visited_on=None) -> ReturnVisit:
    """The return visit on a closed case: by staff, or the worker rating it from the phone."""
    by_worker = bool(getattr(actor, "pk", None)) and case.applicant_user_id == actor.pk
    if not by_worker:
        _require_work(actor, case)
    try:
        satisfaction = int(satisfaction)
    except (TypeError, ValueError):
        raise ValidationError({"satisfaction": _("满意度请选择 1 至 5 分。")}) from None
    if not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("满意度请选择 1 至 5 分。")})
    case = transition(case, S.VISITED, actor=actor, action="dispute.return_visit", data={"satisfaction": satisfaction})
    return ReturnVisit.objects.create(
        case=case,
        satisfaction=satisfaction,
        comments=(comments or "")[:300],
        visited_on=visited_on or _today(),
        by_worker=by_worker,
    )


# --- early warning -----------------------------------------------------------------------

RISK_WINDOW_DAYS = 365


def risk_score(*, cases: int, collective: int, wage_arrears: Decimal, open_cases: int) -> tuple[int, list[str]]:
    """A 0–100 score with the reasons that made it (plain data so the rule reads in one place)."""
    score, why = 0, []
    if cases:
        score += min(30, cases * 10)
        why.append(_("近一年调解案件 %(n)s 件") % {"n": cases})
    if cases >= 2:
        score += 15
        why.append(_("一年内多次成为被申请人"))
    if collective:
        score += min(30, collective * 20)
        why.append(_("集体争议 %(n)s 件") % {"n": collective})
    if wage_arrears:
        score += min(20, int(wage_arrears // 50000) * 5 + 5)
        why.append(_("涉及拖欠工资人民币 %(a)s 元") % {"a": yuan(wage_arrears)})
    if open_cases:
        score += min(5, open_cases)
        why.append(_("在办案件 %(n)s 件") % {"n": open_cases})
    return min(100, score), why


def enterprise_risk_recompute(*, today: dt.date | None = None) -> int:
    """Recompute every enterprise's score from the last year's cases (one grouped query)."""
    today = today or _today()
    since = today - dt.timedelta(days=RISK_WINDOW_DAYS)

    rows = (
        Case.objects.filter(respondent_enterprise__isnull=False, received_on__gte=since)
        .exclude(status=S.DECLINED)
        .values("respondent_enterprise")
        .annotate(
            n=Count("id"),
            coll=Count("id", filter=Q(is_collective=True)),
            open=Count("id", filter=Q(status__in=OPEN_STATES)),
        )
    )
    wages = dict(
        Claim.objects.filter(
            case__respondent_enterprise__isnull=False,
            case__received_on__gte=since,
            case__kind=DisputeKind.WAGES,
            amount__isnull=False,
        )
        .exclude(case__status=S.DECLINED)
        .values_list("case__respondent_enterprise")
        .annotate(total=Sum("amount"))
    )
    rows = list(rows)
    paths = dict(
        Enterprise.objects.filter(pk__in=[r["respondent_enterprise"] for r in rows]).values_list("pk", "org_path")
    )
    now = timezone.now()
    scores = []
    for r in rows:
        ent = r["respondent_enterprise"]
        score, why = risk_score(
            cases=r["n"], collective=r["coll"], wage_arrears=wages.get(ent) or Decimal("0"), open_cases=r["open"]
        )
        scores.append(
            EnterpriseRisk(
                enterprise_id=ent, score=score, explanation=[str(w) for w in why], computed_at=now, org_path=paths[ent]
            )
        )
    # One upsert per 2,000 enterprises (not two statements per enterprise: a city of 10M
    # members has tens of thousands with a case in the year), then the enterprises without
    # a case in the window leave the list.
    with transaction.atomic():
        EnterpriseRisk.objects.bulk_create(
            scores,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["enterprise"],
            update_fields=["score", "explanation", "computed_at", "org_path"],
        )
        EnterpriseRisk.objects.exclude(computed_at=now).delete()
    return len(scores)


# --- evidence and documents (core.attachments) ------------------------------------------

DOCUMENT_KINDS = {
    "evidence": gettext_lazy("证据材料"),
    "identity": gettext_lazy("身份证明"),
    "contract": gettext_lazy("劳动合同"),
    "wages": gettext_lazy("工资凭证"),
    "court": gettext_lazy("法院文书"),
    "other": gettext_lazy("其他材料"),
}
# A worker adds documents while the case is being handled, not after it ended.
WORKER_UPLOAD_CLOSED = frozenset({S.DECLINED, S.WITHDRAWN, S.CLOSED, S.VISITED})


def _document_kind(kind: str) -> str:
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(
            {"kind": _("请选择材料类别（证据材料、身份证明、劳动合同、工资凭证、法院文书或其他材料）。")}
        )
    return kind


@transaction.atomic
def case_document_add(*, actor, case: Case, uploaded_file, kind: str):
    """Attach evidence or a document to a case: its mediator, head or manager; or the worker who applied."""
    kind = _document_kind(kind)
    if getattr(actor, "is_worker", False):
        if case.applicant_user_id is None or case.applicant_user_id != actor.pk:
            raise Http404(NOT_IN_REACH)
        if case.status in WORKER_UPLOAD_CLOSED:
            raise DomainError(_("案件已经办结，不能再补充材料；如有新情况请重新申请。"))
    else:
        _require_work(actor, case)
    return attachment_add(owner=case, uploaded_file=uploaded_file, kind=kind, actor=actor)


@transaction.atomic
def case_document_remove(*, actor, case: Case, attachment_id, reason: str):
    """Soft-delete a document of the case (kept for the audit trail, hidden from every list)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import Attachment

    _require_work(actor, case)
    attachment = Attachment.objects.filter(
        pk=attachment_id if str(attachment_id).isdigit() else 0,
        content_type=ContentType.objects.get_for_model(Case),
        object_id=case.pk,
    ).first()
    if attachment is None:
        raise Http404(NOT_IN_REACH)
    return attachment_remove(attachment=attachment, actor=actor, reason=reason)
