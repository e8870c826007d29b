"""Hardship-aid benchmark: the district file list, the approval queue, the budget page from
the ledger, and a 送温暖 campaign over every active file.

Not a test. Creates a throwaway database (test_<name>_aid_bench, migrated, dropped at the
end), bulk-loads N hardship files (with a household member each, spread over the states,
the registered ones with a paid grant, the approving ones waiting at the street step)
under two districts, then times the reads as the district's aid officer sees them and
runs the campaign. Writes bench/results/aid.json.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unionportal python bench/aid_bench.py --files 50000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")

# The share of each state among the files (the rest are registered).
STATE_SHARE = {
    "applied": 0.05,
    "investigating": 0.05,
    "notice": 0.03,
    "approving": 0.05,
    "review": 0.05,
    "lifted": 0.1,
    "closed": 0.02,
}


def percentile(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def timed(fn, runs: int = 30, warmup: int = 3) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": round(percentile(out, 50), 1), "p95_ms": round(percentile(out, 95), 1)}


def load(n_files: int) -> dict:
    """Bulk-load the city: returns the objects the measures need."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from assistance import services
    from assistance.models import Budget, Grant, HardshipFile, HouseholdMember, LedgerEntry
    from core.crypto import encrypt
    from core.models import ApprovalChain, ApprovalRun
    from members.models import Member, Membership
    from organizations.models import OrgKind, RoleAssignment, User
    from tests.assistance.helpers import AMOUNTS, LEVELS
    from tests.factories import add_org

    admin = User.objects.create(username="bench-admin", is_superuser=True)
    city = add_org(None, name="上海市总工会", kind=OrgKind.CITY, region_code="310000")
    RoleAssignment.objects.create(user=admin, organization=city, role="federation_admin")
    services.standard_publish(
        actor=admin,
        name="基准标准",
        effective_from=dt.date(2026, 1, 1),
        min_living_line="1420",
        low_income_line="2840",
        yearly_cap="30000",
        amounts=AMOUNTS,
        approval_levels=LEVELS,
    )
    standard = services.standard_in_force()
    chain = ApprovalChain.objects.filter(code="aid.street").order_by("-version").first()
    step = chain.steps.get(order=1)
    ct = ContentType.objects.get_for_model(HardshipFile)
    token = encrypt("1050.00")
    fund = services.fund_create(actor=admin, organization=city, name="帮扶资金", source="union")
    districts = []
    for d, code in ((0, "310115"), (1, "310101")):
        district = add_org(city, name=f"区{d}总工会", kind=OrgKind.DISTRICT, region_code=code)
        officer = User.objects.create(username=f"aid{d}")
        RoleAssignment.objects.create(user=officer, organization=district, role="aid_officer")
        budget = services.budget_create(actor=admin, fund=fund, organization=district, year=2026, amount="900000000")
        streets = [add_org(district, name=f"区{d}街道{s}", kind=OrgKind.STREET) for s in range(10)]
        unions = [
            add_org(st, name=f"{st.name}基层工会{u}", kind=OrgKind.GRASSROOTS) for st in streets for u in range(5)
        ]
        districts.append((district, officer, budget, unions))

    t0 = time.perf_counter()
    states = []
    for state, share in STATE_SHARE.items():
        states += [state] * int(share * 1000)
    states += ["registered"] * (1000 - len(states))
    batch = 5000
    made = 0
    paid_total = {0: Decimal("0"), 1: Decimal("0")}
    while made < n_files:
        size = min(batch, n_files - made)
        with transaction.atomic():
            members, memberships, files = [], [], []
            for i in range(made, made + size):
                d = i % 2
                union = districts[d][3][(i // 2) % len(districts[d][3])]
                members.append(
                    Member(
                        name=f"职工{i}",
                        id_number_enc=token,
                        id_number_hash=f"aidbench{i:056d}",
                        id_masked="310***********0000",
                        sex="M",
                        birth_date=dt.date(1980, 1, 1),
                        mobile_enc=token,
                        mobile_hash=f"m{i}",
                        mobile_masked="138****0000",
                        org_path=union.path,
                    )
                )
            Member.objects.bulk_create(members, batch_size=1000)
            for i, m in zip(range(made, made + size), members, strict=True):
                d = i % 2
                union = districts[d][3][(i // 2) % len(districts[d][3])]
                memberships.append(
                    Membership(
                        member=m,
                        union=union,
                        org_path=union.path,
                        member_number=f"B{i:09d}",
                        joined_on=dt.date(2020, 1, 1),
                    )
                )
                files.append(
                    HardshipFile(
                        member=m,
                        union=union,
                        org_path=union.path,
                        number=f"KN2026{i:07d}",
                        status=states[i % 1000],
                        standard=standard,
                        causes=["illness"],
                        tier="deep",
                        tier_computed="deep",
                        tier_explanation="人均月收入 1,050 元 < 低保线 1,420 元 → 深度困难",
                        per_capita_income=Decimal("1050"),
                        requested_kind="living",
                        requested_amount=Decimal("1500"),
                        budget=districts[d][2],
                        review_due=dt.date(2027, 1, 1) + dt.timedelta(days=i % 365),
                    )
                )
            Membership.objects.bulk_create(memberships, batch_size=1000)
            HardshipFile.objects.bulk_create(files, batch_size=1000)
            HouseholdMember.objects.bulk_create(
                [
                    HouseholdMember(
                        file=f, org_path=f.org_path, name=f"职工{made + k}", relation="self", age=40, income_enc=token
                    )
                    for k, f in enumerate(files)
                ],
                batch_size=1000,
            )
            grants, runs = [], []
            for f in files:
                if f.status in ("registered", "review", "lifted"):
                    grants.append(
                        Grant(
                            file=f,
                            org_path=f.org_path,
                            kind="living",
                            amount=Decimal("1500"),
                            budget=f.budget,
                            period="2026",
                            status="paid",
                        )
                    )
                elif f.status == "approving":
                    runs.append(
                        ApprovalRun(
                            content_type=ct, object_id=str(f.pk), chain=chain, current_step=step, org_path=f.org_path
                        )
                    )
            Grant.objects.bulk_create(grants, batch_size=1000)
            ApprovalRun.objects.bulk_create(runs, batch_size=1000)
            ledger = [
                LedgerEntry(budget=g.budget, org_path=g.budget.org_path, kind=k, amount=g.amount, grant=g)
                for g in grants
                for k in ("reserved", "paid")
            ]
            LedgerEntry.objects.bulk_create(ledger, batch_size=2000)
            for g in grants:
                paid_total[0 if g.budget_id == districts[0][2].pk else 1] += g.amount
        made += size
    for d in (0, 1):
        Budget.objects.filter(pk=districts[d][2].pk).update(spent=paid_total[d])
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"districts": districts, "load_seconds": round(time.perf_counter() - t0, 1), "admin": admin}


def measure(world: dict) -> dict:
    from assistance import selectors, services
    from assistance.models import Budget, Campaign
    from core.pages import keyset_page

    district, officer, budget, _unions = world["districts"][0]
    out = {}

    def file_list():
        page = keyset_page(selectors.files_for(officer), field="id", descending=True, cursor="", size=50)
        return [(f.number, f.member.name, f.union.name) for f in page.rows]

    def file_list_filtered():
        page = keyset_page(
            selectors.files_for(officer, status="registered", tier="deep"),
            field="id",
            descending=True,
            cursor="",
            size=50,
        )
        return [(f.number, f.member.name) for f in page.rows]

    def queue():
        page = keyset_page(selectors.approval_queue(officer), field="id", descending=True, cursor="", size=50)
        return [f.number for f in page.rows]

    def budget_page():
        return selectors.budget_from_ledger(Budget.objects.get(pk=budget.pk))

    out["district_file_list"] = timed(file_list)
    out["district_file_list_filtered"] = timed(file_list_filtered)
    out["approval_queue"] = timed(queue)
    out["budget_from_ledger"] = timed(budget_page)
    campaign = services.campaign_create(
        actor=world["admin"],
        organization=district,
        kind=Campaign.Kind.WARMTH,
        name="送温暖（基准）",
        budget=budget,
        amount_per_file="300",
    )
    t0 = time.perf_counter()
    services.campaign_start(actor=world["admin"], campaign=campaign)
    campaign = services.campaign_run(campaign.pk)
    out["campaign_district"] = {
        "files": campaign.progress_done,
        "seconds": round(time.perf_counter() - t0, 1),
        "status": campaign.status,
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "aid.json"))
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_aid_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        world = load(args.files)
        print(f"loaded {args.files:,} files in {world['load_seconds']} s")
        results = {
            "files": args.files,
            "database": connection.vendor,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
        results.update(measure(world))
    finally:
        if not args.keep_db:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    for key, value in results.items():
        print(f"{key}: {value}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
