"""The six steps through the services: transitions, the issue's bad inputs, nothing half-saved."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.errors import DomainError, TransitionError
from members.cards import card_token
from projects import services, tasks
from projects.models import (
    BudgetLine,
    CheckIn,
    Demand,
    DemandVote,
    Enrolment,
    Evaluation,
    Expense,
    Project,
    Rating,
    Session,
)
from projects.services import DEMAND_STATES, ENROLMENT_STATES, OVERSPEND_STATES, PROJECT_STAGES
from tests.factories import nth_name

from .conftest import START, make_project, to_library, worker_member

pytestmark = pytest.mark.django_db

ES = Enrolment.Status
ST = Project.Stage


# --- the transition tables ---------------------------------------------------------------

ALLOWED = {
    PROJECT_STAGES: {
        ("draft", "in_review"),
        ("in_review", "library"),
        ("in_review", "returned"),
        ("in_review", "rejected"),
        ("returned", "in_review"),
        ("library", "implementing"),
        ("implementing", "feedback"),
        ("feedback", "evaluated"),
    },
    ENROLMENT_STATES: {
        ("enrolled", "cancelled"),
        ("enrolled", "checked_in"),
        ("waiting", "offered"),
        ("waiting", "cancelled"),
        ("offered", "enrolled"),
        ("offered", "cancelled"),
    },
    DEMAND_STATES: {
        (a, b) for a in ("open", "answered") for b in ("answered", "adopted", "merged", "closed") if a != b
    },
    OVERSPEND_STATES: {("pending", "approved"), ("pending", "rejected")},
}


@pytest.mark.parametrize("machine", list(ALLOWED), ids=lambda m: m.model.__name__)
def test_each_table_allows_exactly_the_documented_moves(machine):
    for a, b in machine.pairs():
        assert machine.allows(a, b) == ((a, b) in ALLOWED[machine]), (a, b)
        if (a, b) not in ALLOWED[machine]:
            with pytest.raises(TransitionError):
                machine.check(a, b)


# --- 1. demands --------------------------------------------------------------------------


def test_a_member_seconds_once_and_the_count_follows(tree, owner, pd_worker):
    user, member = pd_worker
    demand = services.demand_post(actor=user, category="daily", description="希望增设爱心驿站", union=tree["pd_union"])
    services.demand_second(actor=user, demand=demand)
    with pytest.raises(DomainError, match="只能附议一次"):
        services.demand_second(actor=user, demand=demand)
    demand.refresh_from_db()
    assert demand.votes_count == 1 == DemandVote.objects.filter(demand=demand).count()


def test_a_worker_posts_only_for_their_union_or_above(tree, owner, pd_worker):
    user, _m = pd_worker
    with pytest.raises(ValidationError) as exc:
        services.demand_post(actor=user, category="daily", description="x", union=tree["hp_union"])
    assert "union" in exc.value.message_dict
    services.demand_post(actor=user, category="daily", description="全区需求", union=tree["pudong"])


def test_merging_carries_votes_over_without_double_counting(tree, owner, pd_officer):
    voters = [worker_member(tree["pd_union"], owner, f"1390000010{i}", nth_name("会员", i)) for i in range(3)]
    a = services.demand_post(actor=pd_officer, category="skills", description="电工培训", union=tree["pd_union"])
    b = services.demand_post(actor=pd_officer, category="skills", description="电工证培训", union=tree["pd_union"])
    for user, _m in voters:  # all three second a
        services.demand_second(actor=user, demand=a)
    for user, _m in voters[:2]:  # two of them also second b
        services.demand_second(actor=user, demand=b)
    target = services.demand_merge(actor=pd_officer, source=b, target=a)
    assert target.votes_count == 3 == DemandVote.objects.filter(demand=a).count()
    b.refresh_from_db()
    assert (b.status, b.merged_into_id, b.votes_count) == ("merged", a.pk, 0)
    with pytest.raises(DomainError):
        services.demand_second(actor=voters[0][0], demand=b)


def test_an_outsider_cannot_merge_another_districts_demands(tree, pd_officer, hp_officer):
    a = services.demand_post(actor=pd_officer, category="skills", description="一", union=tree["pd_union"])
    b = services.demand_post(actor=pd_officer, category="skills", description="二", union=tree["pd_union"])
    with pytest.raises(PermissionDenied):
        services.demand_merge(actor=hp_officer, source=b, target=a)


# --- 2./3. design and review -----------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"title": " "}, "title"),
        ({"category": "nope"}, "category"),
        ({"end_date": START - dt.timedelta(days=1)}, "end_date"),
        ({"delivery_mode": "purchased"}, "contractor"),
        # A row's refusal is named by its place (the API's dotted paths), the message by its row.
        ({"goals": [{"name": "人数", "target": 0}]}, "goals.0.target"),
        ({"goals": [{"name": "人数", "target": 5}, {"name": " ", "target": 5}]}, "goals.1.name"),
        ({"budget": [{"name": "费用", "planned": "abc"}]}, "budget.0.planned"),
        ({"budget": [{"name": "费用", "planned": "1"}, {"name": "费用", "planned": "-1"}]}, "budget.1.planned"),
        ({"milestones": [{"name": "筹备", "due_date": START - dt.timedelta(days=1)}]}, "milestones.0.due_date"),
    ],
)
def test_bad_design_input_names_the_field_and_saves_nothing(tree, city_officer, overrides, field):
    with pytest.raises(ValidationError) as exc:
        make_project(city_officer, tree["city"], [tree["pudong"]], **overrides)
    assert field in exc.value.message_dict
    if field.count(".") == 2:
        row = int(field.split(".")[1]) + 1
        assert all(f"第 {row} " in m for m in exc.value.message_dict[field])
    assert Project.objects.count() == 0 and BudgetLine.objects.count() == 0


def test_implementers_must_be_in_the_designers_subtree(tree, pd_officer):
    with pytest.raises(ValidationError) as exc:
        make_project(pd_officer, tree["pudong"], [tree["huangpu"]])
    assert "implementers" in exc.value.message_dict
    assert Project.objects.count() == 0


def test_a_purchased_service_keeps_its_contract(tree, city_officer):
    p = make_project(
        city_officer,
        tree["city"],
        [tree["pudong"]],
        delivery_mode="purchased",
        purchase_method="venture",
        contractor="阳光社工服务社",
        contract_amount="80000",
        contract_start=START,
        contract_end=START + dt.timedelta(days=60),
    )
    assert (p.contractor, p.contract_amount) == ("阳光社工服务社", Decimal("80000.00"))


def test_a_milestone_before_the_project_starts_is_refused(tree, city_officer):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    with pytest.raises(ValidationError) as exc:
        services.milestone_add(actor=city_officer, project=p, name="启动", due_date=START - dt.timedelta(days=1))
    assert "due_date" in exc.value.message_dict
    assert p.milestones.count() == 0


def test_review_approves_into_the_library(tree, city_officer, reviewer, criteria):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    p = to_library(p, designer=city_officer, reviewer=reviewer, criteria=criteria)
    assert p.stage == ST.LIBRARY and p.published_at is not None
    review = p.reviews.get()
    assert review.total == Decimal("90.00")


def test_the_designer_cannot_review_their_own_project(tree, city_officer, criteria):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    services.project_submit(actor=city_officer, project=p)
    with pytest.raises(DomainError, match="回避"):
        services.review_submit(
            actor=city_officer, project=p, scores={str(c.pk): 80 for c in criteria}, decision="approve"
        )


def test_a_recused_reviewer_cannot_decide(tree, city_officer, reviewer, criteria):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    services.project_submit(actor=city_officer, project=p)
    services.review_recuse(actor=reviewer, project=p, reason="曾参与方案编写")
    with pytest.raises(DomainError, match="回避"):
        services.review_submit(actor=reviewer, project=p, scores={str(c.pk): 80 for c in criteria}, decision="approve")
    p.refresh_from_db()
    assert p.stage == ST.IN_REVIEW


def test_return_then_resubmit_then_reject(tree, city_officer, reviewer, criteria, owner):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    services.project_submit(actor=city_officer, project=p)
    scores = {str(c.pk): 60 for c in criteria}
    with pytest.raises(ValidationError):  # a return needs an opinion
        services.review_submit(actor=reviewer, project=p, scores=scores, decision="return")
    services.review_submit(actor=reviewer, project=p, scores=scores, decision="return", opinion="预算过粗")
    p.refresh_from_db()
    assert p.stage == ST.RETURNED
    services.budget_line_add(actor=city_officer, project=p, name="场地费", planned="300")
    services.project_submit(actor=city_officer, project=p)
    services.review_submit(actor=owner, project=p, scores=scores, decision="reject", opinion="与已有项目重复")
    p.refresh_from_db()
    assert p.stage == ST.REJECTED


def test_missing_scores_are_refused_by_criterion(tree, city_officer, reviewer, criteria):
    p = make_project(city_officer, tree["city"], [tree["pudong"]])
    services.project_submit(actor=city_officer, project=p)
    with pytest.raises(ValidationError) as exc:
        services.review_submit(actor=reviewer, project=p, scores={str(criteria[0].pk): 150}, decision="approve")
    assert f"score_{criteria[0].pk}" in exc.value.message_dict
    assert p.reviews.count() == 0


# --- 4. sign-ups, waiting list, offers, check-in ---------------------------------------------


def _members(tree, owner, n, union="pd_union"):
    return [worker_member(tree[union], owner, f"1370000{i:04d}", nth_name("报名", i)) for i in range(n)]


def test_sign_up_fills_then_queues_in_order(tree, owner, session_factory):
    session = session_factory(capacity=2)
    people = _members(tree, owner, 4)
    got = [services.enrolment_sign_up(actor=u, session=session) for u, _m in people]
    assert [(e.status, e.position) for e in got] == [
        (ES.ENROLLED, None),
        (ES.ENROLLED, None),
        (ES.WAITING, 1),
        (ES.WAITING, 2),
    ]
    session.refresh_from_db()
    assert session.seats_taken == 2


def test_signing_up_twice_is_refused(tree, owner, session_factory, pd_worker):
    session = session_factory()
    user, _m = pd_worker
    services.enrolment_sign_up(actor=user, session=session)
    with pytest.raises(DomainError, match="请勿重复报名"):
        services.enrolment_sign_up(actor=user, session=session)
    assert Enrolment.objects.count() == 1


def test_a_member_of_another_district_cannot_sign_up_for_a_district_project(
    tree, owner, pd_officer, reviewer, criteria
):
    p = make_project(pd_officer, tree["pudong"], [tree["lujiazui"]])
    to_library(p, designer=pd_officer, reviewer=reviewer, criteria=criteria)
    services.project_start(actor=pd_officer, project=p)
    s = services.session_create(
        actor=pd_officer,
        project=p,
        union=tree["lujiazui"],
        title="一",
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="x",
        capacity=5,
    )
    user, _m = worker_member(tree["hp_union"], owner, "13611112222")
    with pytest.raises(DomainError, match="未面向"):
        services.enrolment_sign_up(actor=user, session=s)


def test_cancellation_offers_the_place_to_the_first_waiting_then_expiry_passes_it_on(tree, owner, session_factory):
    session = session_factory(capacity=1)
    (u1, _), (u2, _), (u3, _) = _members(tree, owner, 3)
    first = services.enrolment_sign_up(actor=u1, session=session)
    second = services.enrolment_sign_up(actor=u2, session=session)
    third = services.enrolment_sign_up(actor=u3, session=session)
    services.enrolment_cancel(actor=u1, enrolment=first)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == ES.OFFERED and second.offer_expires_at is not None
    assert third.status == ES.WAITING
    assert Session.objects.get(pk=session.pk).seats_taken == 1
    # Not yet due: the task does nothing.
    assert tasks.expire_offers() == 0
    Enrolment.objects.filter(pk=second.pk).update(offer_expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(DomainError, match="确认时间已过"):
        services.offer_confirm(actor=u2, enrolment=second)
    assert tasks.expire_offers() == 1
    assert tasks.expire_offers() == 0  # idempotent: a second run passes nothing on
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == ES.CANCELLED and third.status == ES.OFFERED
    services.offer_confirm(actor=u3, enrolment=third)
    third.refresh_from_db()
    assert third.status == ES.ENROLLED
    assert Session.objects.get(pk=session.pk).seats_taken == 1


def test_check_in_by_card_counts_a_repeated_scan_once(tree, owner, city_officer, session_factory, pd_worker):
    session = session_factory()
    user, member = pd_worker
    e = services.enrolment_sign_up(actor=user, session=session)
    token = card_token(member.current_membership)
    services.checkin_scan(actor=city_officer, session=session, token=token)
    again = services.checkin_scan(actor=city_officer, session=session, token=f"https://x/verify/{token}/")
    assert CheckIn.objects.filter(enrolment=e).count() == 1 and again.scans == 2
    e.refresh_from_db()
    assert e.status == ES.CHECKED_IN


def test_a_forged_or_other_session_qr_is_refused(tree, owner, city_officer, session_factory, pd_worker):
    session = session_factory()
    other = session_factory(title="第二场")
    user, member = pd_worker
    services.enrolment_sign_up(actor=user, session=other)
    token = card_token(member.current_membership)
    with pytest.raises(DomainError, match="签名无效"):
        services.checkin_scan(actor=city_officer, session=session, token=token[:-2] + "xx")
    with pytest.raises(DomainError, match="没有报名本场次"):
        services.checkin_scan(actor=city_officer, session=session, token=token)
    assert CheckIn.objects.count() == 0


def test_another_district_cannot_check_in_at_this_session(session_factory, hp_officer, pd_worker):
    session = session_factory()
    user, member = pd_worker
    services.enrolment_sign_up(actor=user, session=session)
    with pytest.raises(PermissionDenied):
        services.checkin_scan(actor=hp_officer, session=session, token=card_token(member.current_membership))


# --- spending ------------------------------------------------------------------------------


def test_spending_is_never_silently_over_and_overspend_needs_another_approver(
    implementing, city_officer, pd_officer, reviewer
):
    line = implementing.budget_lines.get(name="宣传费")  # 500.00 planned
    services.expense_record(actor=pd_officer, line=line, amount="400", note="海报")
    with pytest.raises(DomainError, match="超出预算"):
        services.expense_record(actor=pd_officer, line=line, amount="100.01")
    line.refresh_from_db()
    assert line.spent == Decimal("400.00") and Expense.objects.count() == 1
    req = services.overspend_request(actor=pd_officer, line=line, amount="200", reason="加印")
    with pytest.raises(PermissionDenied):  # the district cannot approve the city's budget
        services.overspend_decide(actor=pd_officer, request=req, approve=True)
    services.overspend_decide(actor=reviewer, request=req, approve=True)
    services.expense_record(actor=pd_officer, line=line, amount="300")
    line.refresh_from_db()
    assert line.spent == Decimal("700.00") == line.allowed


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "1e400"])
def test_bad_amounts_are_refused(implementing, pd_officer, amount):
    line = implementing.budget_lines.first()
    with pytest.raises(ValidationError) as exc:
        services.expense_record(actor=pd_officer, line=line, amount=amount)
    assert "amount" in exc.value.message_dict


def test_spending_on_a_closed_project_is_refused(implementing, city_officer, pd_officer):
    services.project_close(actor=city_officer, project=implementing)
    with pytest.raises(DomainError, match="只有实施中的项目"):
        services.expense_record(actor=pd_officer, line=implementing.budget_lines.first(), amount="10")
    assert Expense.objects.count() == 0


# --- 5./6. feedback and evaluation ----------------------------------------------------------


def test_rating_without_attending_is_refused(session_factory, pd_worker):
    user, _m = pd_worker
    e = services.enrolment_sign_up(actor=user, session=session_factory())
    with pytest.raises(DomainError, match="签到参加"):
        services.rating_submit(actor=user, enrolment=e, score=5)
    assert Rating.objects.count() == 0


@pytest.mark.parametrize(
    "weights",
    [
        dict(reach=40, budget=20, satisfaction=30, timeliness=20),  # 110
        dict(reach=40, budget=20, satisfaction=20, timeliness=10),  # 90
        dict(reach=-10, budget=50, satisfaction=40, timeliness=20),
        dict(reach="x", budget=50, satisfaction=40, timeliness=10),
    ],
)
def test_weights_not_summing_to_100_are_refused(city_officer, weights):
    with pytest.raises(ValidationError):
        services.weights_set(actor=city_officer, year=2026, **weights)


def test_a_district_cannot_set_the_citys_weights(pd_officer, tree):
    with pytest.raises(PermissionDenied):
        services.weights_set(actor=pd_officer, year=2026, reach=25, budget=25, satisfaction=25, timeliness=25)


def test_the_whole_run_ends_in_an_explained_evaluation(
    tree, owner, city_officer, pd_officer, implementing, session_factory, pd_worker
):
    user, member = pd_worker
    session = session_factory()
    e = services.enrolment_sign_up(actor=user, session=session)
    services.checkin_scan(actor=pd_officer, session=session, token=card_token(member.current_membership))
    services.rating_submit(actor=user, enrolment=e, score=4, comment="很实用")
    line = implementing.budget_lines.get(name="体检费")
    services.expense_record(actor=pd_officer, line=line, amount="9500")
    ms = services.milestone_add(actor=city_officer, project=implementing, name="首场", due_date=START)
    services.milestone_done(actor=city_officer, milestone=ms, on=START)
    services.result_file(actor=pd_officer, goal=implementing.goals.get(), achieved=80, note="体检 80 人")
    services.project_close(actor=city_officer, project=implementing)
    services.weights_set(
        actor=city_officer, year=implementing.year, reach=40, budget=20, satisfaction=30, timeliness=10
    )
    ev = services.project_evaluate(actor=city_officer, project=implementing)
    # reach 80%, budget 9500/10500, satisfaction 4/5, timeliness 1/1
    assert ev.reach_score == Decimal("80.00")
    assert ev.budget_score == Decimal("90.48")
    assert ev.satisfaction_score == Decimal("80.00")
    assert ev.timeliness_score == Decimal("100.00")
    assert ev.total == Decimal("84.10")
    assert len(ev.explanation) == 4
    implementing.refresh_from_db()
    assert implementing.stage == ST.EVALUATED
    with pytest.raises(TransitionError):
        services.project_evaluate(actor=city_officer, project=implementing)
    assert Evaluation.objects.count() == 1


def test_evaluating_without_the_years_weights_is_refused(implementing, city_officer):
    services.project_close(actor=city_officer, project=implementing)
    with pytest.raises(DomainError, match="评估权重"):
        services.project_evaluate(actor=city_officer, project=implementing)
    implementing.refresh_from_db()
    assert implementing.stage == ST.FEEDBACK


def test_the_personal_data_download_includes_sign_ups(session_factory, pd_worker):
    from members.selectors import member_personal_data_export

    user, member = pd_worker
    e = services.enrolment_sign_up(actor=user, session=session_factory())
    services.demand_post(
        actor=user, category="health", description="希望增加夜班职工体检时段", union=member.current_membership.union
    )
    Enrolment.objects.filter(pk=e.pk).update(status=ES.CHECKED_IN)
    services.rating_submit(actor=user, enrolment=e, score=4, comment="很好")
    data = member_personal_data_export(member)["projects"]
    assert data["enrolments"][0]["status"] == "checked_in"
    assert [d["description"] for d in data["demands_posted"]] == ["希望增加夜班职工体检时段"]
    assert data["ratings"][0]["score"] == 4 and data["ratings"][0]["comment"] == "很好"


def test_demand_board_keeps_merged_out(tree, pd_officer):
    from projects.selectors import demands_for_user

    a = services.demand_post(actor=pd_officer, category="skills", description="一", union=tree["pd_union"])
    b = services.demand_post(actor=pd_officer, category="skills", description="二", union=tree["pd_union"])
    services.demand_merge(actor=pd_officer, source=b, target=a)
    assert list(demands_for_user(pd_officer)) == [Demand.objects.get(pk=a.pk)]


def test_linked_demands_are_adopted_when_the_project_enters_the_library(tree, city_officer, reviewer, criteria):
    d = services.demand_post(actor=city_officer, category="health", description="体检", union=tree["pd_union"])
    p = make_project(city_officer, tree["city"], [tree["pudong"]], demands=[d])
    services.project_submit(actor=city_officer, project=p)
    d.refresh_from_db()
    assert d.status == "open"
    services.review_submit(
        actor=reviewer, project=p, scores={str(c.pk): 90 for c in criteria}, decision="approve", opinion="同意"
    )
    d.refresh_from_db()
    assert d.status == "adopted"


def test_a_wrong_guess_of_the_place_changes_nothing_and_says_which_place_it_is(tree, owner, session_factory):
    """The sign-up writes its rows for the place the session showed, then checks under the lock."""
    session = session_factory(capacity=1)
    (u1, m1), (u2, m2) = _members(tree, owner, 2)
    services.enrolment_sign_up(actor=u1, session=session)
    before = Enrolment.objects.count()
    # The session is full: a sign-up written as if a seat were free is rolled back whole.
    with pytest.raises(services._Retry) as caught:
        services._sign_up_once(u2, Session.objects.get(pk=session.pk), m2, guess=True)
    assert caught.value.free is False
    assert Enrolment.objects.count() == before
    assert Session.objects.get(pk=session.pk).seats_taken == 1
    # The service itself retries with the place found: the second member waits first in line.
    e = services.enrolment_sign_up(actor=u2, session=session)
    assert (e.status, e.position) == (ES.WAITING, 1)
    assert Session.objects.get(pk=session.pk).waiting_seq == 1


def test_every_projects_audit_action_has_a_readable_name():
    import re
    from pathlib import Path

    from core.audit import action_label

    source = (Path(services.__file__)).read_text(encoding="utf-8")
    codes = set(re.findall(r'action="(projects\.[a-z_]+)"', source))
    codes |= {f"projects.project_{to}" for to in ("library", "returned", "rejected")}  # the review's f-string
    assert len(codes) > 20
    missing = sorted(c for c in codes if action_label(c) == c or "projects." in action_label(c))
    assert not missing, missing
