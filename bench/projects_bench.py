"""Service-projects benchmark: the demand board, the library and sign-ups under contention.

Not a test. Runs against a seeded database (`manage.py seed_demo`, then this adds rows):
bulk-generates demands, projects in every stage, sessions and sign-ups spread over the demo
members (idempotent by a title prefix), then measures

- the demand board (first page, a district officer's reach and the city's), p50/p95;
- the library page query (published projects, filtered by year and category), p50/p95;
- sign-ups through the API while 50 clients sign up for the same 10-place session at once
  (threads, each its own connection): p50/p95 per request and the outcome (10 enrolled).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/unionportal python bench/projects_bench.py \
        --projects 2000 --sessions 20000 --signups 200000

Writes bench/results/projects.json. The 10M-member targets of the issue need the city from
bench/generate.py; this script measures at whatever size the database holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("AXES_ENABLED", "0")

PREFIX = "压测项目"


def _p(samples, q):
    s = sorted(samples)
    return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 2) if s else None


def generate(*, projects: int, sessions: int, signups: int, demands: int, seed: int = 13) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from members.models import Member
    from organizations.models import Organization, OrgKind
    from projects.models import Category, Demand, Enrolment, Project, ProjectImplementer, Session

    if Project.objects.filter(title__startswith=PREFIX).exists():
        return {"generated": False}
    rng = random.Random(seed)
    city = Organization.objects.get(kind=OrgKind.CITY)
    districts = list(Organization.objects.filter(kind=OrgKind.DISTRICT))
    unions = list(Organization.objects.filter(kind=OrgKind.GRASSROOTS).values_list("id", "path"))
    stages = ["library", "implementing", "feedback", "evaluated", "draft", "in_review"]
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        Demand.objects.bulk_create(
            [
                Demand(
                    category=rng.choice(Category.values),
                    description=f"{PREFIX}需求{i}",
                    union_id=(u := rng.choice(unions))[0],
                    org_path=u[1],
                    votes_count=rng.randint(0, 500),
                )
                for i in range(demands)
            ],
            batch_size=5000,
        )
        rows = []
        for i in range(projects):
            designer = city if i % 4 == 0 else rng.choice(districts)
            rows.append(
                Project(
                    title=f"{PREFIX}{i}",
                    category=rng.choice(Category.values),
                    year=today.year - rng.randint(0, 2),
                    union=designer,
                    org_path=designer.path,
                    stage=rng.choice(stages),
                    start_date=today - dt.timedelta(days=30),
                    end_date=today + dt.timedelta(days=120),
                )
            )
        made = Project.objects.bulk_create(rows, batch_size=2000)
        ProjectImplementer.objects.bulk_create(
            [ProjectImplementer(project=p, union_id=p.union_id, org_path=p.org_path) for p in made], batch_size=5000
        )
        by_district = {d.path: d for d in districts}
        session_rows = []
        for i in range(sessions):
            p = made[i % len(made)]
            impl = by_district.get(p.org_path) or rng.choice(districts)
            session_rows.append(
                Session(
                    project=p,
                    union=impl,
                    org_path=impl.path,
                    title=f"{PREFIX}场次{i}",
                    starts_at=now + dt.timedelta(days=rng.randint(1, 60)),
                    place="某职工服务中心",
                    capacity=rng.choice([20, 30, 50, 100]),
                )
            )
        sessions_made = Session.objects.bulk_create(session_rows, batch_size=5000)
        member_ids = list(Member.objects.values_list("id", flat=True))
        enrol = []
        per = max(1, signups // max(1, len(sessions_made)))
        for s in sessions_made:
            picked = rng.sample(member_ids, min(per, s.capacity, len(member_ids)))
            for m in picked:
                enrol.append(Enrolment(session=s, member_id=m, org_path=s.org_path, status="enrolled"))
            s.seats_taken = len(picked)
            if len(enrol) >= signups:
                break
        Enrolment.objects.bulk_create(enrol, batch_size=10000)
        Session.objects.bulk_update([s for s in sessions_made if s.seats_taken], ["seats_taken"], batch_size=5000)
    return {"generated": True, "demands": demands, "projects": projects, "sessions": sessions, "signups": len(enrol)}


def measure_reads(runs: int = 50) -> dict:
    from django.db import connection

    from organizations.models import User
    from projects import selectors

    out = {}
    for login in ("projects", "pudong"):
        user = User.objects.get(username=login)
        board, library = [], []
        for _ in range(runs):
            t = time.perf_counter()
            list(selectors.demands_for_user(user)[:30])
            board.append(time.perf_counter() - t)
            t = time.perf_counter()
            list(selectors.library_for_user(user, year=2026, category="skills")[:30])
            library.append(time.perf_counter() - t)
        out[f"demand_board_{login}_p50_ms"] = _p(board, 0.5)
        out[f"demand_board_{login}_p95_ms"] = _p(board, 0.95)
        out[f"library_{login}_p50_ms"] = _p(library, 0.5)
        out[f"library_{login}_p95_ms"] = _p(library, 0.95)
    connection.close()
    return out


def measure_signups(clients: int = 50, capacity: int = 10) -> dict:
    from django.db import connections
    from django.utils import timezone
    from rest_framework.test import APIClient

    from members.models import Member
    from organizations.models import Organization, OrgKind, User
    from projects import services
    from projects.models import Enrolment, Project

    officer = User.objects.get(username="projects")
    project = Project.objects.filter(stage="implementing", title__startswith="外卖骑手").first()
    pudong = Organization.objects.get(kind=OrgKind.DISTRICT, region_code="310115")
    session = services.session_create(
        actor=officer,
        project=project,
        union=pudong,
        title=f"并发报名{time.time():.0f}",
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="浦东新区职工服务中心",
        capacity=capacity,
    )
    members = list(
        Member.objects.filter(org_path__startswith=pudong.path, current_membership__status="active").order_by("id")[
            :clients
        ]
    )
    users = []
    for m in members:
        if m.user_id is None:
            u = User.objects.create(username=f"bench-member-{m.pk}", kind=User.Kind.WORKER)
            m.user = u
            m.save(update_fields=["user"])
        users.append(m.user)
    barrier = threading.Barrier(len(users))
    times, codes = [], []

    def run(user):
        c = APIClient()
        c.force_authenticate(user=user)
        barrier.wait()
        t = time.perf_counter()
        r = c.post("/api/v1/me/enrolments/", {"session": session.pk}, format="json")
        times.append(time.perf_counter() - t)
        codes.append(r.status_code)
        connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = Enrolment.objects.filter(session=session)
    return {
        "signup_clients": len(users),
        "signup_p50_ms": _p(times, 0.5),
        "signup_p95_ms": _p(times, 0.95),
        "signup_enrolled": rows.filter(status="enrolled").count(),
        "signup_waiting": rows.filter(status="waiting").count(),
        "signup_status_codes": sorted(set(codes)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20000)
    parser.add_argument("--signups", type=int, default=200000)
    parser.add_argument("--demands", type=int, default=20000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection

    from members.models import Member
    from projects.models import Demand, Enrolment, Project, Session

    result = {
        "generate": generate(projects=args.projects, sessions=args.sessions, signups=args.signups, demands=args.demands)
    }
    with connection.cursor() as c:
        c.execute("ANALYZE")
    result["sizes"] = {
        "members": Member.objects.count(),
        "demands": Demand.objects.count(),
        "projects": Project.objects.count(),
        "sessions": Session.objects.count(),
        "enrolments": Enrolment.objects.count(),
    }
    result["reads"] = measure_reads()
    result["signups"] = measure_signups()
    out = ROOT / "bench" / "results" / "projects.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
