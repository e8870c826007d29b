"""The data migration that turns each transfer's old JSON history into transition records."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import TransitionRecord
from tests.factories import make_member

BEFORE = [("members", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_the_json_history_of_old_transfers_becomes_transition_records(tree, owner, outsider):
    ms = make_member(tree["pd_union"], actor=owner)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Transfer = executor.loader.project_state(BEFORE).apps.get_model("members", "Transfer")
    t = Transfer.objects.create(
        member_id=ms.member_id,
        from_membership_id=ms.pk,
        from_union_id=tree["pd_union"].pk,
        to_union_id=tree["hp_union"].pk,
        from_path=tree["pd_union"].path,
        to_path=tree["hp_union"].path,
        requested_side="from",
        status="accepted",
        history=[
            {"at": "2025-03-01T09:00:00+08:00", "by": "owner", "status": "requested", "note": "换工作"},
            {"at": "2025-03-02T10:30:00+08:00", "by": "hp_clerk", "status": "accepted", "note": "欢迎"},
        ],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(TransitionRecord.objects.filter(object_id=str(t.pk)).order_by("at"))
    assert [(r.from_state, r.to_state, r.actor_id, r.reason) for r in rows] == [
        ("", "requested", owner.pk, "换工作"),
        ("requested", "accepted", outsider.pk, "欢迎"),
    ]
    assert rows[1].to_label == "已接收" and rows[0].org_path == tree["pd_union"].path
    assert rows[1].at.isoformat().startswith("2025-03-02T02:30")
