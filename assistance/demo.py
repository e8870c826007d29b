"""Demo data of hardship aid: the 2026 standard, funds with budgets (city → districts), files
in every state in 浦东新区 (and a few in 黄浦区), and a 送温暖 campaign. Idempotent: a second
run finds the standard's files and adds nothing. Everything goes through the services."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from organizations.models import Organization, OrgKind, User

DEMO_AMOUNTS = {
    "deep": {
        "living": ["500", "5000"],
        "medical": ["500", "20000"],
        "warmth": ["200", "2000"],
        "education": ["1000", "5000"],
    },
    "relative": {
        "living": ["300", "3000"],
        "medical": ["300", "10000"],
        "warmth": ["200", "1000"],
        "education": ["1000", "3000"],
    },
    "accident": {
        "emergency": ["500", "3000"],
        "living": ["500", "5000"],
        "medical": ["500", "20000"],
        "warmth": ["200", "1000"],
    },
}
DEMO_LEVELS = [
    {"up_to": "2000.00", "chain": "aid.street"},
    {"up_to": "10000.00", "chain": "aid.district"},
    {"up_to": None, "chain": "aid.city"},
]
# (final state, per-head income, causes, kind, amount)
PLAN = [
    ("applied", "1100", ["illness"], "living", "1500"),
    ("investigating", "1300", ["disability"], "living", "1800"),
    ("notice", "900", ["illness", "schooling"], "medical", "3000"),
    ("approving", "1000", ["unemployment"], "living", "1500"),
    ("approving", "1200", ["illness"], "medical", "12000"),
    ("registered", "1050", ["illness"], "living", "1500"),
    ("registered", "2000", ["schooling", "single_parent"], "education", "2000"),
    ("registered", "800", ["disability"], "living", "2000"),
    ("review", "1150", ["illness"], "living", "1200"),
    ("rejected", "1350", ["illness"], "living", "1000"),
    ("lifted", "1250", ["unemployment", "illness"], "living", "1000"),
    ("safety_net", "600", ["disability"], "living", "2500"),
    ("closed", "1400", ["other", "illness"], "living", "800"),
]


def _members_under(org: Organization, n: int):
    from members.models import Member

    return list(
        Member.objects.filter(org_path__startswith=org.path, current_membership__status="active").order_by("id")[:n]
    )


@transaction.atomic
def seed_aid() -> dict[str, int]:
    from assistance import services
    from assistance.models import AidStandard, Budget, Campaign, FileStatus, Fund, HardshipFile

    if HardshipFile.objects.exists():
        return {"aid_files": 0}
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    officer = User.objects.filter(username="aidofficer").first()
    city = Organization.objects.filter(kind=OrgKind.CITY).order_by("path").first()
    pudong = Organization.objects.filter(region_code="310115", kind=OrgKind.DISTRICT).first()
    huangpu = Organization.objects.filter(region_code="310101", kind=OrgKind.DISTRICT).first()
    if not (admin and officer and city and pudong):
        return {"aid_files": 0}
    if not AidStandard.objects.exists():
        services.standard_publish(
            actor=admin,
            name="上海市困难职工帮扶标准（2026）",
            effective_from=dt.date(2026, 1, 1),
            min_living_line="1420",
            low_income_line="2840",
            yearly_cap="30000",
            amounts=DEMO_AMOUNTS,
            approval_levels=DEMO_LEVELS,
            notice_working_days=5,
        )
    year = timezone.localdate().year
    fund = Fund.objects.filter(org_path=city.path).first() or services.fund_create(
        actor=admin, organization=city, name="市总工会帮扶专项资金", source="union"
    )
    city_budget = Budget.objects.filter(fund=fund, organization=city, year=year).first() or services.budget_create(
        actor=admin, fund=fund, organization=city, year=year, amount="2000000"
    )
    budgets = {}
    for district, amount in ((pudong, "500000"), (huangpu, "300000")):
        if district is None:
            continue
        child = services.budget_create(actor=admin, fund=fund, organization=district, year=year, amount="0")
        services.allocation_make(actor=admin, parent=city_budget, child=child, amount=amount, note="年度帮扶资金下拨")
        budgets[district.pk] = child
    donation = services.fund_create(actor=admin, organization=pudong, name="浦东新区爱心捐赠", source="donation")
    services.budget_create(actor=admin, fund=donation, organization=pudong, year=year, amount="80000")

    members = _members_under(pudong, len(PLAN) + 2)
    budget = budgets[pudong.pk]
    today = timezone.localdate()
    count = 0
    for (state, income, causes, kind, amount), member in zip(PLAN, members, strict=False):
        file = services.file_open(
            actor=officer, member=member, causes=causes, requested_kind=kind, requested_amount=amount
        )
        services.household_member_add(
            actor=officer, file=file, name=member.name, relation="self", age=42, monthly_income=income
        )
        if "schooling" in causes:
            services.household_member_add(
                actor=officer,
                file=file,
                name=f"{member.name[0]}小明",
                relation="child",
                age=14,
                monthly_income="0",
                schooling="middle",
            )
        count += 1
        if state == "applied":
            continue
        services.investigation_record(
            actor=officer, file=file, visited_on=today, investigators="王芳、李强", findings="入户核实，家庭情况属实。"
        )
        if state == "investigating":
            continue
        if state == "closed":
            services.file_close(actor=officer, file=HardshipFile.objects.get(pk=file.pk), reason="本人撤回申请")
            continue
        start = today if state == "notice" else dt.date(2026, 9, 28)
        services.notice_start(actor=officer, file=file, start=start, place="所在工会公示栏", budget=budget)
        if state == "notice":
            continue
        services.notice_close(actor=officer, file=HardshipFile.objects.get(pk=file.pk))
        file = HardshipFile.objects.get(pk=file.pk)
        if state == "approving":
            if file.requested_amount > 2000:
                services.file_decide(actor=officer, file=file, decision="approve", opinion="街道审核同意")
            continue
        if state == "rejected":
            services.file_decide(actor=officer, file=file, decision="reject", opinion="经核实家庭收入超出标准")
            continue
        while file.status == FileStatus.APPROVING:
            file = services.file_decide(
                actor=officer if file.requested_amount <= 10000 else admin,
                file=file,
                decision="approve",
                opinion="同意",
            )
        grant = file.grants.get()
        services.grant_pay(actor=officer, grant=grant)
        if state == "registered":
            continue
        file = services.file_review_start(actor=officer, file=file)
        if state == "review":
            continue
        reason = {"lifted": "已稳定就业，家庭收入超过低收入线", "safety_net": "符合低保条件，转民政部门保障"}[state]
        services.file_review_finish(actor=officer, file=file, outcome=state, reason=reason)
    # Emergency aid: paid first, reviewed after (flagged).
    if len(members) > len(PLAN):
        services.emergency_aid(
            actor=officer,
            member=members[len(PLAN)],
            causes=["accident"],
            amount="2000",
            budget=budget,
            reason="突发工伤住院",
        )
        count += 1
    if huangpu is not None and huangpu.pk in budgets:
        # 黄浦's files are opened by the city admin (the aid officer is 浦东's).
        for member in _members_under(huangpu, 2):
            file = services.file_open(
                actor=admin, member=member, causes=["illness"], requested_kind="living", requested_amount="1500"
            )
            services.household_member_add(
                actor=admin, file=file, name=member.name, relation="self", age=50, monthly_income="1000"
            )
            count += 1
    campaign = services.campaign_create(
        actor=officer,
        organization=pudong,
        kind=Campaign.Kind.WARMTH,
        name=f"{year + 1} 年春节送温暖",
        budget=budget,
        amount_per_file="500",
    )
    services.campaign_start(actor=officer, campaign=campaign)
    transaction.on_commit(lambda: services.campaign_run(campaign.pk))
    return {"aid_files": count}
