"""Mediation lists at the issue's case volume: `python -m bench.disputes_bench [--cases N]`.

Builds (once) a synthetic city slice in the database at DATABASE_URL: one district with
streets, a mediation centre per street, mediators, enterprises and N cases (default
150,000: about 5 cases per 1,000 members a year for three years at 10M members) with
their clock events, then times what the pages do: "my cases" and a body queue (a page of
50 with days left computed), the district overview, and the city-wide risk recompute.
Run against a scratch PostgreSQL database, never production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time


def build(n_cases: int, rng: random.Random) -> None:
    from django.db import transaction

    from core import crypto
    from disputes.models import Case, ClockEvent, MediationBody, Mediator
    from organizations.models import Enterprise, Organization, OrgKind, RoleAssignment, User
    from tests.factories import add_org, make_credit_code

    if Case.objects.count() >= n_cases:
        return
    with transaction.atomic():
        city = Organization.objects.filter(depth=1).first() or add_org(
            None, name="上海市总工会", kind=OrgKind.CITY, region_code="310000"
        )
        district = add_org(city, name="浦东新区总工会", kind=OrgKind.DISTRICT, region_code="310115")
        streets = [add_org(district, name=f"第{i}街道总工会", kind=OrgKind.STREET) for i in range(30)]
        bodies = [
            MediationBody.objects.create(name=f"{s.name}调解中心", kind="street", organization=s, org_path=s.path)
            for s in streets
        ]
        mediators = []
        for b in bodies:
            for j in range(8):
                u = User.objects.create(username=f"bench-med-{b.pk}-{j}")
                RoleAssignment.objects.create(user=u, organization=b.organization, role="mediator")
                mediators.append(
                    Mediator.objects.create(
                        user=u, body=b, name=f"调解员{j}", employment="full_time", is_head=j == 0, org_path=b.org_path
                    )
                )
        ents = Enterprise.objects.bulk_create(
            Enterprise(
                credit_code=make_credit_code(rng),
                name=f"企业{i}",
                ownership="private",
                size="small",
                industry="C",
                supervisor=streets[i % len(streets)],
                org_path=streets[i % len(streets)].path,
            )
            for i in range(20000)
        )
    token = crypto.encrypt("拖欠工资")
    today = dt.date(2026, 11, 30)
    statuses = ["received", "accepted", "assigned", "in_mediation", "agreed", "failed", "closed", "visited"]
    weights = [1, 1, 2, 3, 4, 3, 30, 56]
    batch = 10000
    for start in range(0, n_cases, batch):
        rows = []
        for i in range(start, min(n_cases, start + batch)):
            m = rng.choice(mediators)
            status = rng.choices(statuses, weights)[0]
            workers = 12 if rng.random() < 0.02 else 1
            received = today - dt.timedelta(
                days=rng.randint(0, 3 * 365) if status in ("closed", "visited") else rng.randint(0, 25)
            )
            rows.append(
                Case(
                    number=f"B{i:09d}",
                    body_id=m.body_id,
                    org_path=m.org_path,
                    channel="walk_in",
                    respondent_enterprise=rng.choice(ents),
                    respondent_name="企业",
                    kind=rng.choice(["wages", "contract", "dismissal"]),
                    facts_enc=token,
                    workers_involved=workers,
                    is_collective=workers >= 10,
                    status=status,
                    mediator=None if status in ("received", "accepted") else m,
                    received_on=received,
                    closed_on=received + dt.timedelta(days=rng.randint(3, 20))
                    if status in ("closed", "visited")
                    else None,
                )
            )
        created = Case.objects.bulk_create(rows)
        ClockEvent.objects.bulk_create(
            ClockEvent(case=c, kind="start", on=c.received_on) for c in created if c.status != "received"
        )


def measure() -> dict[str, float]:
    from bench.measures import percentile, timed
    from disputes import selectors, services
    from disputes.models import Mediator
    from organizations.models import Organization, OrgKind, RoleAssignment, User

    def page(qs):
        rows = list(qs.select_related("body", "mediator").order_by("-id")[:50])
        selectors.clocks_for(rows, today=dt.date(2026, 11, 30))
        return rows

    mediator = Mediator.objects.filter(is_head=False).order_by("pk").first()
    head = Mediator.objects.filter(is_head=True, body=mediator.body).first()
    district = Organization.objects.filter(kind=OrgKind.DISTRICT).order_by("pk").last()
    admin, _ = User.objects.get_or_create(username="bench-district-admin")
    RoleAssignment.objects.get_or_create(user=admin, organization=district, role="federation_admin")
    out = {}
    for name, fn, runs in (
        ("my_cases", lambda: page(selectors.my_cases(mediator.user)), 50),
        ("body_queue", lambda: page(selectors.body_queue(head.user, head.body)), 50),
        ("district_overview", lambda: selectors.district_overview(admin), 10),
    ):
        samples = timed(fn, runs=runs)
        out[f"{name}_p50_ms"] = round(percentile(samples, 50), 1)
        out[f"{name}_p95_ms"] = round(percentile(samples, 95), 1)
    t = time.perf_counter()
    out["risk_recompute_enterprises"] = services.enterprise_risk_recompute(today=dt.date(2026, 11, 30))
    out["risk_recompute_s"] = round(time.perf_counter() - t, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=150_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    import django

    django.setup()
    from disputes.models import Case

    t = time.perf_counter()
    build(args.cases, random.Random(12))
    print(f"cases: {Case.objects.count()} (built in {time.perf_counter() - t:.0f} s)")
    for k, v in measure().items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
