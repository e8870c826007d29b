"""Approval chains as data: steps with any / all / N approvers at a level of the object's
org path, versions pinned by runs, and the guards (capability at the level, not twice, not
after the end, reject ends, return sends back). The race on the last step needs PostgreSQL.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from core import selectors as core_selectors
from core.approvals import (
    ORG_PATH_STEP,
    approval_cancel,
    approval_chain_current,
    approval_chain_publish,
    approval_decide,
    approval_resubmit,
    approval_start,
)
from core.errors import DomainError, TransitionError
from core.models import ApprovalDecision, ApprovalRun, TransitionRecord
from organizations.models import Organization, RoleAssignment
from tests.factories import UserFactory
from tests.racing import race

RS = ApprovalRun.Status
CHAIN = "test.aid_grant"
STREET, DISTRICT = 3, 2


def _staff(username, org, role="clerk"):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def people(tree):
    return {
        "street": _staff("ljz_clerk", tree["lujiazui"]),
        "street2": _staff("ljz_clerk2", tree["lujiazui"]),
        "district1": _staff("pd_clerk1", tree["pudong"]),
        "district2": _staff("pd_clerk2", tree["pudong"]),
        "district3": _staff("pd_clerk3", tree["pudong"]),
        "auditor": _staff("pd_auditor", tree["pudong"], role="auditor"),
        "outsider": _staff("hp_clerk", tree["huangpu"]),
    }


def _publish(steps=None):
    return approval_chain_publish(
        code=CHAIN,
        name="困难帮扶审批",
        steps=steps
        or [
            {"name": "街道初审", "capability": "member.manage", "org_depth": STREET},
            {
                "name": "区总工会审批",
                "capability": "member.manage",
                "org_depth": DISTRICT,
                "rule": "n_of",
                "required": 2,
            },
        ],
    )


def _start(tree, actor):
    return approval_start(obj=tree["pd_union"], code=CHAIN, actor=actor, org_path=tree["pd_union"].path)


def test_the_path_step_matches_the_org_tree():
    assert ORG_PATH_STEP == Organization.steplen


def test_a_run_walks_its_steps_and_counts_n_of(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    assert run.current_step.order == 1 and run.status == RS.RUNNING
    run = approval_decide(run=run, actor=people["street"], decision="approve", opinion="属实")
    assert run.current_step.order == 2
    run = approval_decide(run=run, actor=people["district1"], decision="approve")
    assert run.status == RS.RUNNING and run.current_step.order == 2  # 1 of 2
    run = approval_decide(run=run, actor=people["district2"], decision="approve")
    assert run.status == RS.APPROVED and run.ended_at is not None
    assert [r.to_state for r in core_selectors.transition_history(run)] == ["approved"]
    assert len(core_selectors.approval_decisions(run)) == 3


def test_the_approver_must_hold_the_capability_at_the_steps_level(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    # step 1 is the street's: a district clerk holds member.manage above it too (subtree rule)
    for who in ("outsider", "auditor"):
        with pytest.raises(PermissionDenied):
            approval_decide(run=run, actor=people[who], decision="approve")
    run = approval_decide(run=run, actor=people["street"], decision="approve")
    # step 2 is the district's: a street clerk does not hold it at the district level
    with pytest.raises(PermissionDenied):
        approval_decide(run=run, actor=people["street2"], decision="approve")
    assert ApprovalDecision.objects.count() == 1


def test_no_one_decides_a_step_twice_or_after_the_end(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    run = approval_decide(run=run, actor=people["street"], decision="approve")
    run = approval_decide(run=run, actor=people["district1"], decision="approve")
    with pytest.raises(DomainError, match="重复"):
        approval_decide(run=run, actor=people["district1"], decision="approve")
    run = approval_decide(run=run, actor=people["district2"], decision="reject", opinion="材料不全")
    assert run.status == RS.REJECTED
    with pytest.raises(TransitionError, match="已结束"):
        approval_decide(run=run, actor=people["district3"], decision="approve")


def test_a_reject_or_return_needs_an_opinion(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    with pytest.raises(ValidationError):
        approval_decide(run=run, actor=people["street"], decision="reject")
    with pytest.raises(ValidationError):
        approval_decide(run=run, actor=people["street"], decision="maybe", opinion="x")
    assert not ApprovalDecision.objects.exists()


def test_a_return_sends_it_back_and_a_resubmission_keeps_the_pinned_version(tree, owner, people):
    v1 = _publish()
    run = _start(tree, owner)
    run = approval_decide(run=run, actor=people["street"], decision="return", opinion="补充收入证明")
    assert run.status == RS.RETURNED
    # a new version is published meanwhile: one step only
    v2 = _publish([{"name": "区总工会审批", "capability": "member.manage", "org_depth": DISTRICT}])
    assert approval_chain_current(CHAIN) == v2 and v2.version == v1.version + 1
    again = approval_resubmit(run=run, actor=owner)
    assert again.chain == v1 and again.current_step.order == 1 and again.pk != run.pk
    with pytest.raises(TransitionError):
        approval_resubmit(run=again, actor=owner)


def test_a_new_version_never_changes_a_run_in_progress(tree, owner, people):
    v1 = _publish()
    run = _start(tree, owner)
    run = approval_decide(run=run, actor=people["street"], decision="approve")
    _publish([{"name": "只需一人", "capability": "member.manage", "org_depth": DISTRICT}])
    run = approval_decide(run=run, actor=people["district1"], decision="approve")
    assert run.chain == v1 and run.status == RS.RUNNING  # still needs 2 of v1's step 2


def test_one_running_run_per_object_and_cancel(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    with pytest.raises(DomainError):
        _start(tree, owner)
    run = approval_cancel(run=run, actor=owner, reason="撤回申请")
    assert run.status == RS.CANCELLED
    assert _start(tree, owner).status == RS.RUNNING


def test_all_rule_needs_every_panel_member(tree, owner, people):
    _publish(
        [{"name": "区联席审批", "capability": "member.manage", "org_depth": DISTRICT, "rule": "all", "required": 3}]
    )
    run = _start(tree, owner)
    for who in ("district1", "district2"):
        run = approval_decide(run=run, actor=people[who], decision="approve")
        assert run.status == RS.RUNNING
    run = approval_decide(run=run, actor=people["district3"], decision="approve")
    assert run.status == RS.APPROVED


def test_an_unknown_chain_is_explained(tree, owner):
    with pytest.raises(DomainError, match="尚未配置"):
        approval_start(obj=tree["pd_union"], code="no.such", actor=owner, org_path=tree["pd_union"].path)


def test_decisions_are_append_only(tree, owner, people):
    _publish()
    run = _start(tree, owner)
    approval_decide(run=run, actor=people["street"], decision="approve")
    d = ApprovalDecision.objects.get()
    d.opinion = "改写"
    with pytest.raises(PermissionError):
        d.save()
    with pytest.raises(PermissionError):
        ApprovalDecision.objects.all().delete()


# --- the race on the last step (PostgreSQL: real threads, real connections) ------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_deciding_the_last_step_at_once_complete_it_once(postgres_only, tree, owner, people):
    _publish([{"name": "区总工会审批", "capability": "member.manage", "org_depth": DISTRICT}])
    run = _start(tree, owner)
    approvers = [people["district1"], people["district2"], people["district3"], owner]
    results, errors = race([lambda u=u: approval_decide(run=run, actor=u, decision="approve") for u in approvers])
    assert len(results) == 1 and results[0].status == RS.APPROVED
    assert len(errors) == 3 and all(isinstance(e, TransitionError) for e in errors)
    assert ApprovalDecision.objects.filter(run=run).count() == 1
    assert TransitionRecord.objects.filter(object_id=str(run.pk), to_state=RS.APPROVED).count() == 1
    connection.close()
