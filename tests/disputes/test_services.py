"""The mediation workflow through its services: every move, the refusals the issue names, nothing half-saved."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from core.errors import DomainError, TransitionError
from core.models import TransitionRecord
from disputes import services
from disputes.models import Case, CaseParty, Claim, ClockEvent, DisputeKind, EnterpriseRisk, Session
from disputes.services import CASE_STATES
from tests.disputes.conftest import applicant, receive

pytestmark = pytest.mark.django_db
D = dt.date
S = Case.Status


def _drive(case, to, actor):
    """Walk a fresh case along the happy path (or a side branch) up to state `to`."""
    steps = {
        S.RECEIVED: [],
        S.ACCEPTED: ["accept"],
        S.DECLINED: ["decline"],
        S.ASSIGNED: ["accept", "assign"],
        S.IN_MEDIATION: ["accept", "assign", "session"],
        S.AGREED: ["accept", "assign", "session", "agree"],
        S.FAILED: ["accept", "assign", "session", "fail"],
        S.WITHDRAWN: ["withdraw"],
        S.CONFIRMING: ["accept", "assign", "session", "agree", "confirm", "confirmed"],
        S.FULFILLED: ["accept", "assign", "session", "agree", "fulfil"],
        S.CLOSED: ["accept", "assign", "session", "agree", "fulfil", "close"],
        S.VISITED: ["accept", "assign", "session", "agree", "fulfil", "close", "visit"],
    }[to]
    for step in steps:
        ACTIONS[step](case, actor)
        case.refresh_from_db()
    return case


ACTIONS = {
    "accept": lambda c, a: services.case_accept(case=c, actor=a),
    "decline": lambda c, a: services.case_decline(case=c, actor=a, reason="不属于劳动争议"),
    "assign": lambda c, a: services.case_assign(case=c, actor=a),
    "session": lambda c, a: services.session_record(
        case=c, actor=a, held_at=dt.datetime(2026, 11, 5, 9, 30, tzinfo=dt.UTC), place="调解室", attendees="双方"
    ),
    "agree": lambda c, a: services.agreement_make(
        case=c, actor=a, signed_by_applicants=True, signed_by_respondent=True, effective_on=D(2026, 11, 6)
    ),
    "fail": lambda c, a: services.case_fail(case=c, actor=a, reason="企业拒绝调解", referral="arbitration"),
    "withdraw": lambda c, a: services.case_withdraw(case=c, actor=a, reason="已私下和解"),
    "confirm": lambda c, a: services.confirmation_apply(
        case=c, actor=a, court="浦东新区人民法院", applied_on=D(2026, 11, 9)
    ),
    "confirmed": lambda c, a: services.confirmation_decide(case=c, actor=a, outcome="confirmed"),
    "fulfil": lambda c, a: services.fulfilment_record(case=c, actor=a, outcome="paid", amount_paid="12345.60"),
    "close": lambda c, a: services.case_close(case=c, actor=a),
    "visit": lambda c, a: services.return_visit_record(case=c, actor=a, satisfaction=5),
}
# Which action leads to which state (the table-driven test checks each against CASE_STATES).
TARGET = {
    "accept": S.ACCEPTED,
    "decline": S.DECLINED,
    "assign": S.ASSIGNED,
    "agree": S.AGREED,
    "fail": S.FAILED,
    "withdraw": S.WITHDRAWN,
    "confirm": S.CONFIRMING,
    "fulfil": S.FULFILLED,
    "close": S.CLOSED,
    "visit": S.VISITED,
}


@pytest.mark.parametrize("state", list(S.values))
@pytest.mark.parametrize("action", list(TARGET))
def test_every_action_from_every_state_follows_the_table(
    state, action, bodies, mediators, district_admin, freeze_today
):
    case = _drive(receive(district_admin, bodies["pudong"]), state, district_admin)
    assert case.status == state
    before = TransitionRecord.objects.count()
    if CASE_STATES.allows(state, TARGET[action]):
        ACTIONS[action](case, district_admin)
        case.refresh_from_db()
        assert case.status == TARGET[action]
    else:
        with pytest.raises(DomainError):
            ACTIONS[action](case, district_admin)
        case.refresh_from_db()
        assert case.status == state
        assert TransitionRecord.objects.count() == before


def test_the_whole_workflow_leaves_a_timeline_and_a_clock(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.VISITED, district_admin)
    history = list(TransitionRecord.objects.filter(object_id=str(case.pk)).values_list("to_state", flat=True))
    assert history == ["received", "accepted", "assigned", "in_mediation", "agreed", "fulfilled", "closed", "visited"]
    assert case.clock_events.get().kind == ClockEvent.Kind.START
    assert case.clock_events.get().on == D(2026, 11, 2)
    assert case.return_visit.satisfaction == 5


def test_assignment_suggests_the_least_loaded_mediator_with_the_speciality(
    bodies, mediators, district_admin, freeze_today
):
    case = _drive(receive(district_admin, bodies["pudong"]), S.ASSIGNED, district_admin)
    assert case.mediator == mediators["wages"]  # the wages specialist
    # With one open case the specialist is still preferred over the idle generalists (speciality first).
    second = _drive(receive(district_admin, bodies["pudong"], kind=DisputeKind.CONTRACT), S.ASSIGNED, district_admin)
    assert second.mediator in (mediators["head"], mediators["other"])
    assert services.mediator_loads(bodies["pudong"])[mediators["wages"].pk] == 1


def test_the_clerk_may_override_the_suggestion_but_not_with_another_body_s_mediator(
    bodies, mediators, district_admin, freeze_today
):
    case = _drive(receive(district_admin, bodies["pudong"]), S.ACCEPTED, district_admin)
    with pytest.raises(DomainError):
        services.case_assign(case=case, actor=district_admin, mediator=mediators["huangpu"])
    case = services.case_assign(case=case, actor=district_admin, mediator=mediators["other"])
    assert case.mediator == mediators["other"]


def test_legal_aid_has_its_own_queue_and_a_failed_mediation_is_referred(
    bodies, mediators, district_admin, freeze_today
):
    case = _drive(receive(district_admin, bodies["pudong"]), S.IN_MEDIATION, district_admin)
    services.case_fail(case=case, actor=district_admin, reason="企业拒不到场", referral="legal_aid")
    aid = Case.objects.get(referred_from=case)
    assert aid.track == Case.Track.LEGAL_AID
    assert aid.channel == Case.Channel.REFERRAL
    assert aid.number.startswith("YZ2026-")
    assert aid.parties.count() == case.parties.count()
    assert list(aid.claims.values_list("amount", flat=True)) == [Decimal("12345.60")]
    aid = services.case_accept(case=aid, actor=district_admin)
    assert not aid.clock_events.exists()  # legal aid runs no art. 14 clock
    from disputes import selectors

    assert list(selectors.legal_aid_queue(district_admin)) == [aid]


# --- collective disputes ------------------------------------------------------------------


def test_ten_workers_make_a_collective_case_escalated_to_the_district(tree, bodies, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"], workers_involved=12)
    assert case.is_collective
    assert case.escalated_to == tree["pudong"]


def test_the_collective_flag_cannot_be_turned_off_with_ten_or_more(bodies, mediators, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"], workers_involved=10)
    with pytest.raises(DomainError) as exc:
        services.case_set_collective(case=case, actor=district_admin, collective=False)
    assert exc.value.field == "is_collective"
    case.refresh_from_db()
    assert case.is_collective


def test_raising_the_worker_count_to_ten_flags_and_escalates(tree, bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.ASSIGNED, district_admin)
    assert not case.is_collective
    case = services.case_set_workers(case=case, actor=district_admin, workers_involved=15)
    assert case.is_collective and case.escalated_to == tree["pudong"]
    # A small case flagged by hand can be unflagged again.
    small = receive(district_admin, bodies["pudong"])
    services.case_set_collective(case=small, actor=district_admin, collective=True)
    services.case_set_collective(case=small, actor=district_admin, collective=False)


# --- bad input from the issue -------------------------------------------------------------


def test_an_agreement_on_a_declined_case_is_refused(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.DECLINED, district_admin)
    with pytest.raises(TransitionError):
        ACTIONS["agree"](case, district_admin)
    assert not hasattr(Case.objects.get(pk=case.pk), "agreement") or not Case.objects.filter(agreement__isnull=False)


def test_a_session_after_closure_is_refused(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.CLOSED, district_admin)
    n = Session.objects.count()
    with pytest.raises(DomainError) as exc:
        ACTIONS["session"](case, district_admin)
    assert "已结案" in str(exc.value)
    assert Session.objects.count() == n


@pytest.mark.parametrize("amount", ["一万元", "12,000.5x", "-5", "1.234", "NaN"])
def test_a_claim_amount_that_is_not_a_number_is_refused_and_nothing_saved(amount, bodies, district_admin, freeze_today):
    with pytest.raises(ValidationError) as exc:
        receive(district_admin, bodies["pudong"], claims=[{"description": "工资", "amount": amount}])
    assert "claims" in exc.value.message_dict
    assert not Case.objects.exists() and not Claim.objects.exists()


def test_a_bad_applicant_id_number_is_refused_naming_the_person(bodies, district_admin, freeze_today):
    good = applicant("张三")
    bad = {"name": "李四", "id_number": good["id_number"][:-1] + ("0" if good["id_number"][-1] != "0" else "1")}
    with pytest.raises(ValidationError) as exc:
        receive(district_admin, bodies["pudong"], applicants=[good, bad])
    assert "李四" in exc.value.message_dict["applicants"][0]
    assert "校验位" in exc.value.message_dict["applicants"][0]
    assert not Case.objects.exists() and not CaseParty.objects.exists()


def test_a_suspension_without_a_reason_is_refused(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.IN_MEDIATION, district_admin)
    with pytest.raises(ValidationError) as exc:
        services.clock_suspend(case=case, actor=district_admin, reason="  ")
    assert "reason" in exc.value.message_dict
    assert case.clock_events.count() == 1


def test_a_court_case_needs_the_court_s_reference_and_return_date(bodies, district_admin, freeze_today):
    with pytest.raises(ValidationError):
        receive(district_admin, bodies["pudong"], channel="court_delegated", court_name="浦东法院")
    case = receive(
        district_admin,
        bodies["pudong"],
        channel="court_entrusted",
        court_name="上海市浦东新区人民法院",
        court_reference="（2026）沪0115民初1234号",
        court_return_deadline=D(2026, 11, 12),
    )
    services.case_accept(case=case, actor=district_admin)
    assert services.case_clock(case, today=D(2026, 11, 10)).deadline == D(2026, 11, 12)


# --- the clock through the services -------------------------------------------------------


def test_suspend_resume_and_extend_move_the_derived_deadline(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.IN_MEDIATION, district_admin)
    assert services.case_clock(case, today=D(2026, 11, 3)).deadline == D(2026, 11, 17)
    services.clock_suspend(case=case, actor=district_admin, reason="申请工伤认定", on=D(2026, 11, 4))
    services.clock_resume(case=case, actor=district_admin, on=D(2026, 11, 6))
    with pytest.raises(ValidationError):
        services.clock_extend(case=case, actor=district_admin, days=5, both_parties_consent=False, on=D(2026, 11, 7))
    services.clock_extend(case=case, actor=district_admin, days=5, both_parties_consent=True, on=D(2026, 11, 7))
    state = services.case_clock(case, today=D(2026, 11, 7))
    assert state.paused_days == 2 and state.extended_days == 5
    assert state.deadline == D(2026, 11, 24)
    with pytest.raises(DomainError):
        ClockEvent.objects.first().save()  # append-only


def test_fulfilment_waits_for_the_court_s_ruling(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.AGREED, district_admin)
    ACTIONS["confirm"](case, district_admin)
    with pytest.raises(DomainError):
        ACTIONS["fulfil"](case, district_admin)
    services.confirmation_decide(case=case, actor=district_admin, outcome="refused")
    case.refresh_from_db()
    assert case.status == S.FAILED and case.referral == Case.Referral.COURT


def test_judicial_confirmation_out_of_the_thirty_day_window_is_refused(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.AGREED, district_admin)
    with pytest.raises(DomainError) as exc:
        services.confirmation_apply(case=case, actor=district_admin, court="浦东法院", applied_on=D(2026, 12, 8))
    assert "2026-12-07" in str(exc.value)  # 6 Nov + 30 days = 6 Dec, a Sunday → Monday 7 Dec
    case.refresh_from_db()
    assert case.status == S.AGREED


# --- who may do what ----------------------------------------------------------------------


def test_a_plain_mediator_works_only_their_own_cases(bodies, mediators, district_admin, freeze_today):
    case = _drive(receive(district_admin, bodies["pudong"]), S.ASSIGNED, district_admin)
    assigned, other = mediators["wages"].user, mediators["other"].user
    with pytest.raises(PermissionDenied):
        ACTIONS["session"](case, other)
    with pytest.raises(PermissionDenied):
        services.case_reassign(case=case, actor=assigned, mediator=mediators["other"], reason="回避")
    ACTIONS["session"](case, assigned)
    # The head of the body may reassign.
    services.case_reassign(case=case, actor=mediators["head"].user, mediator=mediators["other"], reason="回避")


def test_another_district_s_mediator_gets_a_404(bodies, mediators, district_admin, freeze_today):
    case = receive(district_admin, bodies["pudong"])
    with pytest.raises(Http404):
        services.case_accept(case=case, actor=mediators["huangpu"].user)


def test_a_worker_applies_from_the_phone_and_rates_the_return_visit(
    bodies, mediators, district_admin, worker, freeze_today
):
    case = services.case_apply(
        worker=worker,
        body=bodies["pudong"],
        track=Case.Track.MEDIATION,
        kind=DisputeKind.WAGES,
        name="钱五",
        id_number=applicant()["id_number"],
        facts="工资未发",
        claims=[{"description": "工资", "amount": "3000"}],
        respondent_name="某餐饮公司",
    )
    assert case.channel == Case.Channel.ONLINE and case.applicant_user == worker
    case = _drive(case, S.CLOSED, district_admin)
    services.return_visit_record(case=case, actor=worker, satisfaction=4, comments="满意")
    case.refresh_from_db()
    assert case.return_visit.by_worker and case.status == S.VISITED
    with pytest.raises(ValidationError):
        services.return_visit_record(case=case, actor=worker, satisfaction=6)


# --- early warning ------------------------------------------------------------------------


def test_risk_scores_explain_repeat_collective_and_wage_arrears(bodies, enterprises, district_admin, freeze_today):
    ent = enterprises["pudong"]
    receive(
        district_admin,
        bodies["pudong"],
        respondent_enterprise=ent,
        workers_involved=20,
        claims=[{"description": "工资", "amount": "200000"}],
    )
    receive(district_admin, bodies["pudong"], respondent_enterprise=ent)
    assert services.enterprise_risk_recompute(today=D(2026, 11, 10)) == 1
    risk = EnterpriseRisk.objects.get(enterprise=ent)
    assert risk.score >= 60
    text = "；".join(risk.explanation)
    assert "集体争议 1 件" in text and "多次" in text and "212,345.60" in text
    assert risk.org_path == ent.org_path


def test_the_worker_s_personal_data_download_includes_their_cases(tree, bodies, district_admin, freeze_today):
    from members.selectors import member_personal_data_export
    from tests.factories import make_id_number, make_member

    number = make_id_number()
    member = make_member(tree["pd_union"], actor=district_admin, name="孙六", id_number=number).member
    receive(district_admin, bodies["pudong"], applicants=[{"name": "孙六", "id_number": number}])
    receive(district_admin, bodies["pudong"])  # someone else's case
    data = member_personal_data_export(member)["disputes"]
    assert len(data) == 1
    assert data[0]["facts"].startswith("公司自 2026 年 8 月起拖欠工资")
    assert data[0]["claims"] == [{"description": "支付拖欠工资", "amount": "12345.60"}]
