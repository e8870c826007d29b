"""Capacity under real concurrency (PostgreSQL, threads each on its own connection)."""

import pytest
from django.db import connection

from core.errors import DomainError
from projects import services
from projects.models import BudgetLine, Enrolment, Expense, Session
from tests.factories import nth_name
from tests.racing import at_once_each, race

from .conftest import worker_member

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ES = Enrolment.Status


def test_fifty_sign_ups_for_ten_places(postgres_only, tree, owner, session_factory):
    session = session_factory(capacity=10)
    people = [worker_member(tree["pd_union"], owner, f"1350000{i:04d}", nth_name("抢报", i))[0] for i in range(50)]

    at_once_each([lambda p=p: services.enrolment_sign_up(actor=p, session=session) for p in people])
    rows = list(Enrolment.objects.filter(session=session).order_by("id"))
    assert sum(r.status == ES.ENROLLED for r in rows) == 10
    waiting = [r for r in rows if r.status == ES.WAITING]
    assert len(waiting) == 40
    # In order: positions 1..40 with no gap or repeat (the order in which the sign-ups reached
    # the session's row lock; the rows themselves are inserted before it, so ids may differ).
    assert sorted(r.position for r in waiting) == list(range(1, 41))
    assert Session.objects.get(pk=session.pk).seats_taken == 10

    # Five cancellations at once by enrolled members: exactly five offers, to positions 1–5.
    enrolled = [r for r in rows if r.status == ES.ENROLLED][:5]
    users = {r.pk: r.member.user for r in enrolled}
    at_once_each([lambda e=e: services.enrolment_cancel(actor=users[e.pk], enrolment=e) for e in enrolled])
    offered = Enrolment.objects.filter(session=session, status=ES.OFFERED).order_by("position")
    assert [e.position for e in offered] == [1, 2, 3, 4, 5]
    assert Session.objects.get(pk=session.pk).seats_taken == 10
    connection.close()


def test_one_cancellation_promotes_exactly_one(postgres_only, tree, owner, session_factory):
    session = session_factory(capacity=1)
    (u1, _), (u2, _), (u3, _) = (worker_member(tree["pd_union"], owner, f"1340000000{i}") for i in range(3))
    first = services.enrolment_sign_up(actor=u1, session=session)
    services.enrolment_sign_up(actor=u2, session=session)
    services.enrolment_sign_up(actor=u3, session=session)
    # The member and an officer cancel the same enrolment at once: one wins, one offer made.
    officer = owner
    actors = [u1, officer, u1, officer]
    _r, errors = race([lambda a=a: services.enrolment_cancel(actor=a, enrolment=first) for a in actors])
    assert len(errors) == 3 and all(isinstance(e, DomainError) for e in errors)
    assert Enrolment.objects.filter(session=session, status=ES.OFFERED).count() == 1
    assert Session.objects.get(pk=session.pk).seats_taken == 1
    connection.close()


def test_concurrent_spending_never_passes_the_plan(postgres_only, implementing, pd_officer):
    line = implementing.budget_lines.get(name="宣传费")  # 500.00
    _r, errors = race([lambda: services.expense_record(actor=pd_officer, line=line, amount="100")] * 8)
    assert len(errors) == 3 and all(isinstance(e, DomainError) for e in errors)
    line.refresh_from_db()
    assert line.spent == 500 and Expense.objects.filter(line=line).count() == 5
    assert BudgetLine.objects.get(pk=line.pk).spent <= line.planned
    connection.close()
