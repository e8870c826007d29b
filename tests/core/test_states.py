"""Table-driven tests of every transition table, and the helper's promises.

For every declared state machine and every (from, to) pair of its states: an allowed move
succeeds and leaves exactly one history row and one audit event; any other raises
TransitionError and changes nothing. A new machine without a factory here fails the suite.
"""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

import core.approvals  # noqa: F401  (declares the ApprovalRun machine)
import disputes.models
import disputes.services  # declares the Case machine
import members.services  # noqa: F401  (declares the member machines)
from activity.models import AuditEvent
from core import selectors as core_selectors
from core.approvals import approval_chain_publish, approval_start
from core.errors import TransitionError
from core.models import ApprovalRun, TransitionRecord
from core.states import StateMachine, machine_for, machines, transition
from members import services
from members.models import JoinApplication, Membership, Transfer
from tests.assistance import factories as aid_factories
from tests.factories import make_member
from tests.members.pages_helpers import submit_application
from tests.projects.machines import FACTORIES as PROJECT_FACTORIES


def _membership(tree, owner):
    return make_member(tree["pd_union"], actor=owner)


def _application(tree, owner):
    code = services.join_code_create(actor=owner, union=tree["pd_union"])
    return submit_application(code)


def _transfer(tree, owner):
    member = make_member(tree["pd_union"], actor=owner).member
    return services.transfer_request(actor=owner, member=member, to_union=tree["hp_union"])


def _run(tree, owner):
    approval_chain_publish(code="test.chain", name="测试", steps=[{"name": "区审批", "capability": "member.manage"}])
    return approval_start(obj=tree["pd_union"], code="test.chain", actor=owner, org_path=tree["pd_union"].path)


def _dispute_case(tree, owner):
    from disputes.models import BodyKind, Case
    from tests.factories import make_id_number

    body = disputes.services.body_create(
        actor=owner, organization=tree["lujiazui"], name="陆家嘴街道劳动争议调解中心", kind=BodyKind.STREET
    )
    return disputes.services.case_receive(
        actor=owner,
        body=body,
        channel=Case.Channel.WALK_IN,
        kind="wages",
        facts="拖欠工资",
        claims=[{"description": "工资", "amount": "100"}],
        applicants=[{"name": "张三", "id_number": make_id_number()}],
        respondent_name="某公司",
    )


FACTORIES = {
    Membership: _membership,
    JoinApplication: _application,
    Transfer: _transfer,
    ApprovalRun: _run,
    disputes.models.Case: _dispute_case,
}
FACTORIES.update(PROJECT_FACTORIES)
FACTORIES.update(aid_factories.FACTORIES)
CASES = [
    pytest.param(m.model, a, b, id=f"{m.model.__name__}:{a}->{b}")
    for m in sorted(machines(), key=lambda m: m.model.__name__)
    for a, b in m.pairs()
]


def test_every_state_machine_has_a_factory_here():
    assert {m.model for m in machines()} == set(FACTORIES)


def _history_count(obj) -> int:
    return TransitionRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).count()


@pytest.mark.parametrize(("model", "from_state", "to_state"), CASES)
def test_every_pair_of_every_table(tree, owner, model, from_state, to_state):
    machine = machine_for(model)
    obj = FACTORIES[model](tree, owner)
    model.objects.filter(pk=obj.pk).update(**{machine.field: from_state})
    history_before, audit_before = _history_count(obj), AuditEvent.objects.count()
    if machine.allows(from_state, to_state):
        moved = transition(obj, to_state, actor=owner, action="test.moved", reason="表驱动测试")
        assert getattr(moved, machine.field) == to_state
        assert getattr(model.objects.get(pk=obj.pk), machine.field) == to_state
        assert _history_count(obj) == history_before + 1
        record = core_selectors.transition_history(obj)[-1]
        assert (record.from_state, record.to_state, record.actor_id) == (from_state, to_state, owner.pk)
        assert record.reason == "表驱动测试" and record.actor_label == owner.username
        events = AuditEvent.objects.filter(action="test.moved")
        assert AuditEvent.objects.count() == audit_before + 1 and events.count() == 1
        assert events.get().data["from_state"] == from_state and events.get().target_id == str(obj.pk)
    else:
        with pytest.raises(TransitionError) as exc:
            transition(obj, to_state, actor=owner, action="test.moved")
        assert machine.label(from_state) in str(exc.value) and machine.label(to_state) in str(exc.value)
        assert getattr(model.objects.get(pk=obj.pk), machine.field) == from_state
        assert _history_count(obj) == history_before and AuditEvent.objects.count() == audit_before


def test_a_failing_guard_changes_nothing(tree, owner):
    t = _transfer(tree, owner)

    def guard(locked):
        raise ValidationError({"reason": "不行"})

    with pytest.raises(ValidationError):
        transition(t, Transfer.Status.CANCELLED, actor=owner, action="test.moved", guard=guard)
    assert Transfer.objects.get(pk=t.pk).status == Transfer.Status.REQUESTED
    assert [r.to_state for r in core_selectors.transition_history(t)] == ["requested"]


def test_extra_fields_are_saved_with_the_state(tree, owner):
    t = _transfer(tree, owner)
    transition(t, Transfer.Status.CANCELLED, actor=owner, action="test.moved", fields={"decision_note": "改主意"})
    assert Transfer.objects.get(pk=t.pk).decision_note == "改主意"


def test_history_rows_are_append_only(tree, owner):
    t = _transfer(tree, owner)
    record = core_selectors.transition_history(t)[0]
    record.reason = "改写"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()
    with pytest.raises(PermissionError):
        TransitionRecord.objects.filter(pk=record.pk).update(reason="改写")
    with pytest.raises(PermissionError):
        TransitionRecord.objects.all().delete()


def test_a_table_must_name_every_state_of_the_field():
    with pytest.raises(ValueError, match="missing rows"):
        StateMachine(Transfer, {Transfer.Status.REQUESTED: {Transfer.Status.ACCEPTED}})
    with pytest.raises(ValueError, match="unknown states"):
        StateMachine(Transfer, {**{s: set() for s in Transfer.Status.values}, "requested": {"teleported"}})
    # the failed declarations did not replace the real machine
    assert machine_for(Transfer).allows(Transfer.Status.AWAITING, Transfer.Status.REQUESTED)
