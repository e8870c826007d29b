"""Budgets never overspent under concurrency (PostgreSQL; skipped on SQLite)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from assistance import services
from assistance.models import Budget, FileStatus, Grant, GrantStatus, HardshipFile, LedgerEntry
from assistance.selectors import budget_from_ledger
from core.models import ApprovalDecision
from tests.racing import race

from .helpers import make_budget, open_file, to_approving

pytestmark = pytest.mark.django_db(transaction=True)


N = 24
AMOUNT = Decimal("1500")
COVERED = 6  # 6 × 1,500 = 9,000 ≤ 10,000 < 7 × 1,500


def test_concurrent_approvals_never_overspend(postgres_only, tree, standard, owner, pd_aid, street_aid):
    budget = make_budget(owner, tree["pudong"], amount="10000")
    files = [to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], amount=str(AMOUNT)), budget) for _ in range(N)]

    def approve(i):
        return services.file_decide(actor=street_aid, file=files[i], decision="approve", opinion="同意").pk

    results, errors = race([lambda i=i: approve(i) for i in range(N)])
    assert len(results) == COVERED, errors
    assert len(errors) == N - COVERED
    assert all(isinstance(e, services.BudgetExceeded) and "余额不足" in str(e) for e in errors)

    b = Budget.objects.get(pk=budget.pk)
    assert (b.amount, b.reserved, b.spent) == (Decimal("10000"), AMOUNT * COVERED, Decimal("0"))
    assert b.left >= 0
    assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
    reserved_in_ledger = LedgerEntry.objects.filter(budget=b, kind="reserved").aggregate(s=Sum("amount"))["s"]
    assert reserved_in_ledger == b.reserved + b.spent
    assert Grant.objects.filter(status=GrantStatus.RESERVED).count() == COVERED
    assert HardshipFile.objects.filter(status=FileStatus.REGISTERED).count() == COVERED
    # The refused ones changed nothing: still waiting, no decision recorded for them.
    assert HardshipFile.objects.filter(status=FileStatus.APPROVING).count() == N - COVERED
    assert ApprovalDecision.objects.count() == COVERED
    # Paying all the reserved grants moves reserved to spent, still within the amount.
    for grant in Grant.objects.filter(status=GrantStatus.RESERVED):
        services.grant_pay(actor=pd_aid, grant=grant)
    b.refresh_from_db()
    assert (b.reserved, b.spent) == (Decimal("0"), AMOUNT * COVERED)
    assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
    connection.close()


def test_two_approvers_on_one_file_in_the_same_second_reserve_once(
    postgres_only, tree, standard, owner, pd_aid, street_aid
):
    budget = make_budget(owner, tree["pudong"], amount="10000")
    file = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"], amount="1500"), budget)
    approvers = [street_aid, pd_aid]

    results, errors = race(
        [lambda a=a: services.file_decide(actor=a, file=file, decision="approve", opinion="同意").pk for a in approvers]
    )
    assert len(results) == 1 and len(errors) == 1
    b = Budget.objects.get(pk=budget.pk)
    assert b.reserved == Decimal("1500")
    assert LedgerEntry.objects.filter(budget=b, kind="reserved").count() == 1
    connection.close()


def test_the_database_refuses_an_overspent_row_whoever_writes_it(postgres_only, tree, owner):
    from django.db import IntegrityError

    budget = make_budget(owner, tree["pudong"], amount="100")
    with pytest.raises(IntegrityError):
        Budget.objects.filter(pk=budget.pk).update(reserved=Decimal("101"))
    with pytest.raises(IntegrityError):
        Budget.objects.filter(pk=budget.pk).update(spent=Decimal("-1"))
    connection.close()
