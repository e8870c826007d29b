"""Mediation at the issue's case volume: the measures `make bench` runs (bench/run.py), or alone:

    python bench/disputes_bench.py --members 1000000     # against unionportal_bench_1000000

The cases come from bench/gen_disputes.py (~150,000 at 10M members: 5 per 1,000 members a
year for three years), added to the bench city by bench/generate.py. Timed here, with the
portal's own selectors and services:
- "my cases" of the busiest mediator and the queue of the busiest body: a page of 50 as
  the page reads it (collective first, keyset) with days left derived for every row;
- the district overview of the biggest district's dispute manager;
- the early-warning scores of every enterprise in the city recomputed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# (result name, comparison, target, what it is): bench/run.py checks them at the largest scale.
TARGETS = [
    ("disputes_my_cases_p95_ms", "<", 50, "mediation: my cases page p95"),
    ("disputes_body_queue_p95_ms", "<", 50, "mediation: body queue page p95"),
    ("disputes_district_overview_p95_ms", "<", 200, "mediation: district overview p95"),
    ("disputes_risk_recompute_s", "<", 120, "mediation: risk scores of every enterprise (s)"),
]


def _actors(today: dt.date):
    from django.db.models import Count, Q

    from core.roles import DISPUTE_MANAGE  # noqa: F401  (the role below carries it)
    from core.scoping import forget_reach
    from disputes.models import OPEN_STATES, Case, Mediator
    from organizations.models import Organization, OrgKind, RoleAssignment, User

    mediator = (
        Mediator.objects.filter(is_head=False, is_active=True)
        .annotate(n=Count("cases", filter=Q(cases__status__in=OPEN_STATES)))
        .order_by("-n", "pk")
        .select_related("user", "body")
        .first()
    )
    busiest = (
        Case.objects.filter(status__in=OPEN_STATES).values("body_id").annotate(n=Count("id")).order_by("-n").first()
    )
    heads = Mediator.objects.filter(is_head=True).select_related("user", "body").order_by("pk")
    head = (heads.filter(body_id=busiest["body_id"]) if busiest else heads).first()
    district_path = (
        Case.objects.values("org_path").annotate(n=Count("id")).order_by("-n").values_list("org_path", flat=True)[:1]
    )
    district = Organization.objects.get(path=district_path[0][:8], kind=OrgKind.DISTRICT)
    manager, _ = User.objects.get_or_create(username="bench-dispute-manager", defaults={"display_name": "区争议管理"})
    RoleAssignment.objects.get_or_create(user=manager, organization=district, role="federation_admin")
    for u in (mediator.user, head.user, manager):
        forget_reach(u)
    return mediator, head, manager, district


def measure(*, today: dt.date | None = None, runs: int = 50) -> dict:
    """Time the mediation pages' queries and the risk recompute (Django set up on a bench database)."""
    from bench.measures import percentile, timed
    from core.pages import keyset_page
    from disputes import clock, selectors, services
    from disputes.models import Case

    today = today or clock.today()
    mediator, head, manager, district = _actors(today)

    def page(qs):
        # What disputes.views._list reads: a keyset page collective first, then days left.
        p = keyset_page(
            qs.select_related("body", "mediator"), field="is_collective", descending=True, cursor="", size=50
        )
        selectors.clocks_for(p.rows, today=today)
        return p.rows

    out = {
        "disputes_cases": Case.objects.count(),
        "disputes_my_cases_rows": len(page(selectors.my_cases(mediator.user))),
        "disputes_body_queue_rows": len(page(selectors.body_queue(head.user, head.body))),
        "disputes_district": district.name,
    }
    for name, fn, n in (
        ("my_cases", lambda: page(selectors.my_cases(mediator.user)), runs),
        ("body_queue", lambda: page(selectors.body_queue(head.user, head.body)), runs),
        ("district_overview", lambda: selectors.district_overview(manager), runs),
    ):
        cpu: list[float] = []

        def run(fn=fn, cpu=cpu):
            t = time.process_time()
            fn()
            cpu.append((time.process_time() - t) * 1000)

        samples = timed(run, runs=n)
        out[f"disputes_{name}_p50_ms"] = round(percentile(samples, 50), 1)
        out[f"disputes_{name}_p95_ms"] = round(percentile(samples, 95), 1)
        # This process's own CPU time: on a shared machine the wall time above includes the
        # time spent waiting for a core (the database's time is in the wall time only).
        out[f"disputes_{name}_cpu_p50_ms"] = round(percentile(cpu, 50), 1)
    overview = selectors.district_overview(manager)
    out["disputes_district_open"] = overview["open"]
    out["disputes_district_overdue"] = overview["overdue"]
    t = time.perf_counter()
    out["disputes_risk_enterprises"] = services.enterprise_risk_recompute(today=today)
    out["disputes_risk_recompute_s"] = round(time.perf_counter() - t, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.generate import serve_city

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", "200000")))
    parser.add_argument("--database-url", help="default: $BENCH_DATABASE_URL or unionportal_bench_<members>")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    url, meta = serve_city(args.members, args.database_url)
    from bench.gen_disputes import generate_disputes

    as_of = dt.date.fromisoformat(meta["as_of"])
    generate_disputes(members=meta["members"], as_of=as_of, seed=meta.get("seed", 1))
    for k, v in measure(today=as_of, runs=args.runs).items():
        print(f"{k:40s} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
