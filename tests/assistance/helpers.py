"""Builders of the aid tests: the standard, a funded budget, and files in any state."""

import datetime as dt

from assistance import services
from assistance.models import AidKind, Budget, FileStatus, FundSource, HardshipFile, Tier
from tests.factories import make_member

AMOUNTS = {
    Tier.DEEP: {
        AidKind.LIVING: ["500", "5000"],
        AidKind.MEDICAL: ["500", "20000"],
        AidKind.WARMTH: ["200", "2000"],
        AidKind.EDUCATION: ["1000", "5000"],
    },
    Tier.RELATIVE: {
        AidKind.LIVING: ["300", "3000"],
        AidKind.WARMTH: ["200", "1000"],
        AidKind.EDUCATION: ["1000", "3000"],
    },
    Tier.ACCIDENT: {
        AidKind.EMERGENCY: ["500", "3000"],
        AidKind.LIVING: ["500", "5000"],
        AidKind.WARMTH: ["200", "1000"],
    },
}
LEVELS = [
    {"up_to": "2000.00", "chain": "aid.street"},
    {"up_to": "10000.00", "chain": "aid.district"},
    {"up_to": None, "chain": "aid.city"},
]


def publish_standard(actor, **overrides):
    fields = {
        "name": "2026 年困难职工帮扶标准",
        "effective_from": dt.date(2026, 1, 1),
        "min_living_line": "1420",
        "low_income_line": "2840",
        "yearly_cap": "30000",
        "amounts": AMOUNTS,
        "approval_levels": LEVELS,
        "notice_working_days": 5,
    }
    fields.update(overrides)
    return services.standard_publish(actor=actor, **fields)


def make_budget(actor, org, amount="100000", year=2026, name="困难帮扶专项资金"):
    fund = services.fund_create(actor=actor, organization=org, name=name, source=FundSource.UNION)
    return services.budget_create(actor=actor, fund=fund, organization=org, year=year, amount=amount)


def open_file(actor, union, *, income="1050", causes=("illness",), kind=AidKind.LIVING, amount="1500", member=None):
    member = member or make_member(union).member
    file = services.file_open(
        actor=actor, member=member, causes=list(causes), requested_kind=kind, requested_amount=amount
    )
    services.household_member_add(
        actor=actor, file=file, name=member.name, relation="self", age=40, monthly_income=income
    )
    return HardshipFile.objects.get(pk=file.pk)


def investigate(actor, file):
    services.investigation_record(
        actor=actor, file=file, visited_on=dt.date.today(), investigators="张三、李四", findings="家中确有困难"
    )
    return HardshipFile.objects.get(pk=file.pk)


def to_notice(actor, file, budget, start=dt.date(2026, 9, 28)):
    services.notice_start(actor=actor, file=file, start=start, budget=budget)
    return HardshipFile.objects.get(pk=file.pk)


def to_approving(actor, file, budget):
    """Investigated, noticed (a 2026 notice long over) and submitted to its chain."""
    file = to_notice(actor, investigate(actor, file), budget)
    services.notice_close(actor=actor, file=file)
    return HardshipFile.objects.get(pk=file.pk)


def approve_all(actor, file):
    while file.status == FileStatus.APPROVING:
        file = services.file_decide(actor=actor, file=file, decision="approve", opinion="同意")
    return HardshipFile.objects.get(pk=file.pk)


def registered(actor, union, budget, **kw):
    return approve_all(actor, to_approving(actor, open_file(actor, union, **kw), budget))


def budget_figures(budget):
    b = Budget.objects.get(pk=budget.pk)
    return b.amount, b.reserved, b.spent
