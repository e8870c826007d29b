"""The file's workflow end to end through the services, money rules, and bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from assistance import services
from assistance.models import (
    AidKind,
    Budget,
    FileStatus,
    Grant,
    GrantStatus,
    HardshipFile,
    HouseholdMember,
    LedgerEntry,
    Tier,
)
from assistance.selectors import budget_from_ledger, household_row_view, personal_data_for_member
from core.errors import DomainError, TransitionError
from core.models import ApprovalRun, TransitionRecord
from tests.factories import make_id_number, make_member

from .helpers import approve_all, budget_figures, investigate, open_file, registered, to_approving, to_notice

pytestmark = pytest.mark.django_db


def _counts():
    return (
        HardshipFile.objects.count(),
        HouseholdMember.objects.count(),
        Grant.objects.count(),
        LedgerEntry.objects.count(),
        TransitionRecord.objects.count(),
        list(Budget.objects.values_list("amount", "reserved", "spent")),
    )


def test_whole_workflow_to_lifted_out(tree, standard, budget, pd_aid, street_aid):
    file = open_file(pd_aid, tree["pd_union"], income="1050", amount="1500")
    assert file.tier == Tier.DEEP
    assert file.tier_explanation == "人均月收入 1,050 元 < 低保线 1,420 元 → 深度困难"
    assert file.number.startswith("KN")
    file = investigate(pd_aid, file)
    assert file.status == FileStatus.INVESTIGATING
    file = to_notice(pd_aid, file, budget)
    assert file.status == FileStatus.NOTICE
    notice = file.notices.get()
    assert (notice.start, notice.end, notice.working_days) == (dt.date(2026, 9, 28), dt.date(2026, 10, 9), 5)
    services.notice_close(actor=pd_aid, file=file)
    file.refresh_from_db()
    assert file.status == FileStatus.APPROVING
    run = ApprovalRun.objects.get(object_id=str(file.pk))
    assert run.chain.code == "aid.street"  # 1,500 ≤ 2,000: the street decides
    file = services.file_decide(actor=street_aid, file=file, decision="approve", opinion="同意")
    assert file.status == FileStatus.REGISTERED and file.review_due
    grant = file.grants.get()
    assert grant.status == GrantStatus.RESERVED
    assert budget_figures(budget) == (Decimal("100000"), Decimal("1500"), Decimal("0"))
    services.grant_pay(actor=pd_aid, grant=grant)
    assert budget_figures(budget) == (Decimal("100000"), Decimal("0"), Decimal("1500"))
    b = Budget.objects.get(pk=budget.pk)
    assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
    file = services.file_review_start(actor=pd_aid, file=file)
    file = services.file_review_finish(actor=pd_aid, file=file, outcome=FileStatus.LIFTED, reason="已再就业，收入稳定")
    assert file.status == FileStatus.LIFTED
    states = list(
        TransitionRecord.objects.filter(object_id=str(file.pk), content_type__model="hardshipfile").values_list(
            "to_state", flat=True
        )
    )
    assert states == ["applied", "investigating", "notice", "approving", "registered", "review", "lifted"]


def test_bigger_amount_goes_up_to_the_district_and_the_city(tree, standard, budget, pd_aid, street_aid, city_aid):
    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], kind=AidKind.MEDICAL, amount="12000"), budget)
    assert ApprovalRun.objects.get(object_id=str(file.pk)).chain.code == "aid.city"
    # The street officer cannot decide the district step.
    file = services.file_decide(actor=street_aid, file=file, decision="approve", opinion="同意")
    with pytest.raises(PermissionDenied):
        services.file_decide(actor=street_aid, file=file, decision="approve", opinion="同意")
    file = services.file_decide(actor=pd_aid, file=file, decision="approve", opinion="同意")
    assert file.status == FileStatus.APPROVING
    file = services.file_decide(actor=city_aid, file=file, decision="approve", opinion="同意")
    assert file.status == FileStatus.REGISTERED


def test_reject_and_return(tree, standard, budget, pd_aid):
    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"]), budget)
    with pytest.raises(ValidationError) as exc:
        services.file_decide(actor=pd_aid, file=file, decision="return", opinion="")
    assert "opinion" in exc.value.message_dict
    file = services.file_decide(actor=pd_aid, file=file, decision="return", opinion="请补充医院诊断证明")
    assert file.status == FileStatus.INVESTIGATING
    file = to_notice(pd_aid, file, budget)
    services.notice_close(actor=pd_aid, file=file)
    file.refresh_from_db()
    file = services.file_decide(actor=pd_aid, file=file, decision="reject", opinion="收入核实后不符合条件")
    assert file.status == FileStatus.REJECTED
    grant = file.grants.get()
    assert grant.status == GrantStatus.REJECTED
    before = _counts()
    with pytest.raises(TransitionError) as exc:
        services.grant_pay(actor=pd_aid, grant=grant)
    assert "未批准" in str(exc.value)
    assert _counts() == before


def test_approver_outside_the_chain_or_twice_is_refused(tree, standard, budget, pd_aid, hp_aid, street_aid, owner):
    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], kind=AidKind.LIVING, amount="3000"), budget)
    before = _counts()
    with pytest.raises((PermissionDenied, Http404)):
        services.file_decide(actor=hp_aid, file=file, decision="approve", opinion="同意")
    assert _counts() == before
    file = services.file_decide(actor=street_aid, file=file, decision="approve", opinion="同意")
    with pytest.raises((PermissionDenied, DomainError)):
        services.file_decide(actor=street_aid, file=file, decision="approve", opinion="再次同意")
    file = approve_all(pd_aid, file)
    assert file.status == FileStatus.REGISTERED


def test_one_open_file_per_household_names_the_other(tree, standard, pd_aid):
    file = open_file(pd_aid, tree["pd_union"])
    with pytest.raises(DomainError) as exc:
        services.file_open(actor=pd_aid, member=file.member, causes=["illness"])
    assert file.number in str(exc.value) and exc.value.field == "member"


def test_a_person_in_two_files_is_refused_with_the_other_file_named(tree, standard, pd_aid):
    spouse_id = make_id_number()
    first = open_file(pd_aid, tree["pd_union"])
    services.household_member_add(
        actor=pd_aid, file=first, name="配偶甲", relation="spouse", age=38, monthly_income="0", id_number=spouse_id
    )
    second = open_file(pd_aid, tree["pd_union"])
    before = _counts()
    with pytest.raises(DomainError) as exc:
        services.household_member_add(
            actor=pd_aid, file=second, name="配偶甲", relation="spouse", age=38, monthly_income="0", id_number=spouse_id
        )
    assert first.number in str(exc.value) and exc.value.field == "id_number"
    assert _counts() == before
    # …and an applicant who is already someone else's household member cannot open a file.
    person = make_member(tree["pd_union"], id_number=make_id_number()).member
    services.household_member_add(
        actor=pd_aid,
        file=second,
        name=person.name,
        relation="parent",
        age=66,
        monthly_income="0",
        id_number=_plain_id(person),
    )
    with pytest.raises(DomainError) as exc:
        services.file_open(actor=pd_aid, member=person, causes=["illness"])
    assert second.number in str(exc.value)


def _plain_id(member):
    from core.crypto import decrypt

    return decrypt(member.id_number_enc)


BAD_HOUSEHOLD = [
    ({"monthly_income": "-100"}, "monthly_income"),
    ({"monthly_income": "99999999"}, "monthly_income"),
    ({"monthly_income": "abc"}, "monthly_income"),
    ({"monthly_income": "12.345"}, "monthly_income"),
    ({"age": "200"}, "age"),
    ({"age": "x"}, "age"),
    ({"relation": "cousin"}, "relation"),
    ({"name": ""}, "name"),
    ({"relation": "self"}, "relation"),  # the applicant is registered already
    ({"name": "张三", "relation": "self"}, "relation"),
]


@pytest.mark.parametrize(("override", "field"), BAD_HOUSEHOLD)
def test_bad_household_input_names_the_field_and_changes_nothing(tree, standard, pd_aid, override, field):
    file = open_file(pd_aid, tree["pd_union"])
    row = {"name": "子女乙", "relation": "child", "age": 12, "monthly_income": "0", "schooling": "middle"}
    row.update(override)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.household_member_add(actor=pd_aid, file=file, **row)
    assert field in exc.value.message_dict
    assert _counts() == before


def test_a_household_member_twice_is_refused(tree, standard, pd_aid):
    file = open_file(pd_aid, tree["pd_union"])
    services.household_member_add(actor=pd_aid, file=file, name="子女乙", relation="child", age=12, monthly_income="0")
    with pytest.raises(ValidationError) as exc:
        services.household_member_add(
            actor=pd_aid, file=file, name="子女乙", relation="child", age=12, monthly_income="0"
        )
    assert "name" in exc.value.message_dict


def test_override_needs_a_reason_and_keeps_the_computed_tier(tree, standard, pd_aid):
    file = open_file(pd_aid, tree["pd_union"], income="3000", causes=["other"])
    assert file.tier == Tier.NONE
    with pytest.raises(ValidationError) as exc:
        services.file_tier_override(actor=pd_aid, file=file, tier=Tier.RELATIVE, reason="")
    assert "reason" in exc.value.message_dict
    file = services.file_tier_override(actor=pd_aid, file=file, tier=Tier.RELATIVE, reason="配偶长期卧床，护理支出大")
    assert (file.tier, file.tier_computed) == (Tier.RELATIVE, Tier.NONE)


def test_a_file_not_meeting_the_standard_cannot_go_to_notice(tree, standard, budget, pd_aid):
    file = investigate(pd_aid, open_file(pd_aid, tree["pd_union"], income="3000", causes=["other"]))
    with pytest.raises(DomainError) as exc:
        to_notice(pd_aid, file, budget)
    assert "不符合困难条件" in str(exc.value)


def test_notice_shorter_than_the_standard_changes_nothing(tree, standard, budget, pd_aid):
    file = investigate(pd_aid, open_file(pd_aid, tree["pd_union"]))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.notice_start(actor=pd_aid, file=file, start=dt.date(2026, 9, 28), working_days=3, budget=budget)
    assert "working_days" in exc.value.message_dict
    assert _counts() == before
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.INVESTIGATING


def test_an_upheld_objection_sends_the_file_back_and_an_open_one_blocks_approval(tree, standard, budget, pd_aid):
    file = to_notice(pd_aid, investigate(pd_aid, open_file(pd_aid, tree["pd_union"])), budget)
    notice = file.notices.get()
    objection = services.objection_record(
        actor=pd_aid, notice=notice, received_on=dt.date(2026, 9, 29), content="其家中另有商铺出租"
    )
    with pytest.raises(DomainError) as exc:
        services.notice_close(actor=pd_aid, file=file)
    assert exc.value.code == "objection_open"
    with pytest.raises(ValidationError):
        services.objection_record(actor=pd_aid, notice=notice, received_on=dt.date(2026, 11, 1), content="逾期异议")
    services.objection_resolve(actor=pd_aid, objection=objection, upheld=True, resolution="核实属实，重新调查")
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.INVESTIGATING


def test_amount_outside_the_standard_range_and_yearly_cap(tree, standard, budget, pd_aid):
    file = investigate(pd_aid, open_file(pd_aid, tree["pd_union"], amount="9000"))
    with pytest.raises(ValidationError) as exc:
        to_notice(pd_aid, file, budget)
    assert "amount" in exc.value.message_dict and "500 至 5,000 元" in exc.value.message_dict["amount"][0]


def test_budget_exceeded_refuses_the_last_approval_and_decides_nothing(tree, standard, owner, pd_aid):
    from .helpers import make_budget

    small = make_budget(owner, tree["pudong"], amount="1000", name="小额资金")
    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], amount="1500"), small)
    before = _counts()
    with pytest.raises(services.BudgetExceeded) as exc:
        services.file_decide(actor=pd_aid, file=file, decision="approve", opinion="同意")
    assert "余额不足" in str(exc.value) and "1,000" in str(exc.value)
    assert _counts() == before
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.APPROVING


def test_grant_twice_for_the_same_period_is_refused(tree, standard, budget, pd_aid):
    file = registered(pd_aid, tree["pd_union"], budget)
    with pytest.raises(DomainError) as exc:
        services.grant_create(actor=pd_aid, file=file, kind=AidKind.LIVING, amount="600", budget=budget)
    assert exc.value.code == "grant_duplicate"


def test_cancel_releases_and_the_ledger_follows(tree, standard, budget, pd_aid):
    file = registered(pd_aid, tree["pd_union"], budget)
    grant = services.grant_create(actor=pd_aid, file=file, kind=AidKind.MEDICAL, amount="800", budget=budget)
    services.grant_approve(actor=pd_aid, grant=grant)
    assert budget_figures(budget)[1] == Decimal("2300")
    with pytest.raises(ValidationError):
        services.grant_cancel(actor=pd_aid, grant=grant, reason="")
    services.grant_cancel(actor=pd_aid, grant=grant, reason="已由医保报销")
    b = Budget.objects.get(pk=budget.pk)
    assert b.reserved == Decimal("1500")
    assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}


def test_allocation_moves_money_down_and_never_past_what_is_left(tree, owner):
    from .helpers import make_budget

    city = make_budget(owner, tree["city"], amount="5000")
    child = services.budget_create(actor=owner, fund=city.fund, organization=tree["pudong"], year=2026, amount="0")
    services.allocation_make(actor=owner, parent=city, child=child, amount="3000")
    assert budget_figures(city)[0] == Decimal("2000") and budget_figures(child)[0] == Decimal("3000")
    with pytest.raises(services.BudgetExceeded):
        services.allocation_make(actor=owner, parent=city, child=child, amount="2000.01")
    with pytest.raises(ValidationError):
        services.allocation_make(actor=owner, parent=child, child=city, amount="1")
    for b in (city, child):
        b = Budget.objects.get(pk=b.pk)
        assert budget_from_ledger(b)["amount"] == b.amount


def test_emergency_aid_is_paid_first_and_flagged(tree, standard, budget, pd_aid):
    member = make_member(tree["pd_union"]).member
    grant = services.emergency_aid(
        actor=pd_aid, member=member, causes=["accident"], amount="2000", budget=budget, reason="工伤住院"
    )
    assert grant.status == GrantStatus.PAID and grant.is_emergency
    file = HardshipFile.objects.get(pk=grant.file_id)
    assert file.is_emergency and file.status == FileStatus.INVESTIGATING
    assert budget_figures(budget) == (Decimal("100000"), Decimal("0"), Decimal("2000"))
    with pytest.raises(ValidationError):
        services.emergency_aid(
            actor=pd_aid,
            member=make_member(tree["pd_union"]).member,
            causes=["accident"],
            amount="8000",
            budget=budget,
            reason="x",
        )


def test_out_of_reach_officer_gets_404(tree, standard, hp_aid, pd_aid):
    file = open_file(pd_aid, tree["pd_union"])
    with pytest.raises(Http404):
        services.investigation_record(
            actor=hp_aid, file=file, visited_on=dt.date(2026, 11, 1), investigators="甲、乙", findings="x"
        )


def test_campaign_is_idempotent_per_file(tree, standard, budget, pd_aid, owner):
    files = [registered(pd_aid, tree["pd_union"], budget) for _ in range(3)]
    campaign = services.campaign_create(
        actor=pd_aid,
        organization=tree["pudong"],
        kind="warmth",
        name="2027 春节送温暖",
        budget=budget,
        amount_per_file="500",
    )
    campaign = services.campaign_start(actor=pd_aid, campaign=campaign)
    assert campaign.progress_total == 3
    campaign = services.campaign_run(campaign.pk)
    assert campaign.status == "done" and campaign.progress_done == 3
    assert Grant.objects.filter(campaign=campaign).count() == 3
    # A redelivered task does nothing more.
    services.campaign_run(campaign.pk)
    assert Grant.objects.filter(campaign=campaign).count() == 3
    assert budget_figures(budget)[1] == Decimal("1500") * 3 + Decimal("500") * 3
    pdf = services.campaign_sheet_pdf(campaign)
    assert pdf.startswith(b"%PDF") and len(files) == 3


def test_campaign_stops_cleanly_when_the_budget_runs_out(tree, standard, budget, pd_aid, owner):
    from .helpers import make_budget

    for _ in range(3):
        registered(pd_aid, tree["pd_union"], budget)
    small = make_budget(owner, tree["pudong"], amount="1000", name="送温暖资金")
    campaign = services.campaign_create(
        actor=pd_aid, organization=tree["pudong"], kind="warmth", name="送温暖", budget=small, amount_per_file="400"
    )
    services.campaign_start(actor=pd_aid, campaign=campaign)
    campaign = services.campaign_run(campaign.pk)
    assert campaign.status == "failed" and "余额不足" in campaign.message
    assert Grant.objects.filter(campaign=campaign).count() == 2
    assert budget_figures(small) == (Decimal("1000"), Decimal("800"), Decimal("0"))


def test_household_is_masked_and_reveal_is_audited(tree, standard, pd_aid, clerk):
    from activity.models import AuditEvent

    file = open_file(pd_aid, tree["pd_union"])
    services.household_member_add(
        actor=pd_aid, file=file, name="配偶", relation="spouse", age=40, monthly_income="800", health="糖尿病"
    )
    row = file.household.get(relation="spouse")
    assert "800" not in row.income_enc and "糖尿病" not in row.health_enc
    masked = household_row_view(clerk, row, reveal=True)
    assert masked["monthly_income"] == "****" and masked["health"] == "有"
    full = household_row_view(pd_aid, row, reveal=True)
    assert full["monthly_income"] == "800.00" and full["health"] == "糖尿病"
    assert AuditEvent.objects.filter(action="aid.household_revealed").count() == 1


def test_personal_data_section_has_the_workers_aid_data(tree, standard, pd_aid):
    file = open_file(pd_aid, tree["pd_union"])
    data = personal_data_for_member(file.member)
    assert data[0]["number"] == file.number and data[0]["household"][0]["monthly_income"] == "1050.00"


def test_a_new_standard_never_changes_a_file_decided_under_the_old_one(tree, standard, budget, pd_aid, owner):
    from .helpers import publish_standard

    decided = registered(pd_aid, tree["pd_union"], budget)
    v2 = publish_standard(owner, effective_from=dt.date(2026, 11, 1), min_living_line="1500", low_income_line="3000")
    assert v2.version == 2
    decided.refresh_from_db()
    assert decided.standard_id == standard.pk and decided.tier_explanation.endswith("低保线 1,420 元 → 深度困难")
    fresh = open_file(pd_aid, tree["pd_union"])
    assert fresh.standard_id == v2.pk and "低保线 1,500 元" in fresh.tier_explanation
    with pytest.raises(ValidationError) as exc:
        publish_standard(owner, effective_from=dt.date(2026, 11, 1))
    assert "effective_from" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        publish_standard(owner, effective_from=dt.date(2026, 12, 1), min_living_line="2000", low_income_line="1000")
    assert "low_income_line" in exc.value.message_dict


def test_the_approval_queue_follows_the_step(tree, standard, budget, pd_aid, street_aid, city_aid, hp_aid):
    from assistance.selectors import approval_queue

    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], kind=AidKind.MEDICAL, amount="12000"), budget)
    assert list(approval_queue(street_aid)) == [file] and list(approval_queue(hp_aid)) == []
    assert list(approval_queue(pd_aid)) == [file]  # the district officer holds the street step's capability too
    file = services.file_decide(actor=street_aid, file=file, decision="approve", opinion="同意")
    assert list(approval_queue(street_aid)) == [] and list(approval_queue(pd_aid)) == [file]
    file = services.file_decide(actor=pd_aid, file=file, decision="approve", opinion="同意")
    assert list(approval_queue(pd_aid)) == [] and list(approval_queue(city_aid)) == [file]
