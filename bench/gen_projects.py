"""Service projects for the synthetic city (bench/generate.py calls `ensure` after the city).

    python bench/gen_projects.py --members 1000000        # adds them to unionportal_bench_1000000

Adds, in proportion to the city (at 10M members): 200,000 demands with 1M seconding votes
(a long tail: a few demands with thousands of votes, most with a handful), 2,000 projects in
every stage (designed by the city, the districts and the industry unions, implemented by
unions below the designer; goals, budget lines with spending, milestones, evaluations of
the evaluated ones), 20,000 sessions and 1M sign-ups (enrolled, waiting in order, offered,
cancelled, checked in with their check-in rows, ratings of the checked-in).

Idempotent: the rows carry a title prefix; if the city already has them nothing is done.
All rows go in by COPY in one transaction (all or nothing), the tables locked against other
writers meanwhile. The counters the services keep (a demand's votes, a session's seats and
waiting sequence) agree with the rows, so the services behave on this data as on real data.
Sign-ups pick members at random from the whole roll (the generator does not read 10M member
paths); that only matters for who may see what, not for the measured queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

PREFIX = "基准项目"
DEMAND_PREFIX = "基准需求"


def sizes(members: int) -> dict[str, int]:
    """Row counts for a city of `members` (the issue's figures at 10M, a floor for small cities)."""
    return {
        "demands": max(2_000, members // 50),
        "votes": max(10_000, members // 10),
        "projects": max(40, members // 5_000),
        "sessions": max(400, members // 500),
        "signups": max(10_000, members // 10),
    }


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)


class Table:
    """COPY rows of one model: columns from the model, values by attribute name, ids assigned here."""

    def __init__(self, model, next_id: int | None = None):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.next_id = next_id
        self.buf = io.StringIO()
        self.count = 0

    def add(self, **values) -> int | None:
        row = []
        pk = None
        if self.next_id is not None and "id" not in values:
            pk = values["id"] = self.next_id
            self.next_id += 1
        for f in self.fields:
            if f.attname in values:
                row.append(_text(values[f.attname]))
            elif f.primary_key:
                raise ValueError(f"{self.model.__name__}: no id")
            elif f.has_default():
                row.append(_text(f.get_default()))
            elif f.null:
                row.append("\\N")
            else:
                raise ValueError(f"{self.model.__name__}.{f.attname}: no value")
        self.buf.write("\t".join(row) + "\n")
        self.count += 1
        return pk

    def copy(self, cursor) -> None:
        if not self.count:
            return
        data = io.BytesIO(self.buf.getvalue().encode())
        table = self.model._meta.db_table
        cursor.copy_expert(f"COPY {table} ({', '.join(self.columns)}) FROM STDIN", data, size=1 << 20)
        self.buf = io.StringIO()


def _first_id(cursor, model) -> int:
    table = model._meta.db_table
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def _move_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
    )


def present() -> bool:
    from projects.models import Project

    return Project.objects.filter(title__startswith=PREFIX).exists()


def generate(*, members: int, seed: int = 1, as_of: dt.date | None = None, log=print) -> dict:
    """Add the rows (Django set up, PostgreSQL). Returns the counts, or {} if they were there."""
    from django.db import connection, transaction
    from django.utils import timezone

    from members.models import Member
    from organizations.models import Organization, OrgKind
    from projects.models import (
        BudgetLine,
        Category,
        CheckIn,
        Demand,
        DemandVote,
        Enrolment,
        Evaluation,
        EvaluationWeights,
        Expense,
        Goal,
        Milestone,
        Project,
        ProjectImplementer,
        Rating,
        Session,
    )

    if present():
        log("  projects: already generated, nothing to do")
        return {}
    started = time.perf_counter()
    rng = random.Random(f"projects:{seed}")
    want = sizes(members)
    now = timezone.now().replace(microsecond=0)
    today = as_of or timezone.localdate()
    year = today.year
    max_member = Member.objects.order_by("-id").values_list("id", flat=True).first() or 0
    min_member = Member.objects.order_by("id").values_list("id", flat=True).first() or 0
    if not max_member:
        raise SystemExit("the city has no members: build it first")
    member_ids = range(min_member, max_member + 1)

    orgs = list(Organization.objects.values_list("id", "path", "kind", "name"))
    city = next(o for o in orgs if o[2] == OrgKind.CITY)
    districts = [o for o in orgs if o[2] == OrgKind.DISTRICT]
    industry = [o for o in orgs if o[2] == OrgKind.INDUSTRY_UNION]
    below: dict[str, list] = {}
    for o in orgs:
        if o[2] in (OrgKind.STREET, OrgKind.PARK, OrgKind.GRASSROOTS, OrgKind.DISTRICT, OrgKind.INDUSTRY_FEDERATION):
            below.setdefault(o[1][:-4], []).append(o)
    concern = [o for o in orgs if o[2] in (OrgKind.GRASSROOTS, OrgKind.STREET, OrgKind.DISTRICT)]
    categories = list(Category.values)

    models = (
        Demand,
        DemandVote,
        Project,
        ProjectImplementer,
        Goal,
        BudgetLine,
        Expense,
        Milestone,
        Session,
        Enrolment,
        CheckIn,
        Rating,
        Evaluation,
    )
    with transaction.atomic(), connection.cursor() as cur:
        tables = ", ".join(m._meta.db_table for m in models) + ", projects_project_demands"
        cur.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        t = {m: Table(m, _first_id(cur, m)) for m in models}
        links = Table(Project.demands.through, _first_id(cur, Project.demands.through))

        # 1. demands and their votes: a long tail (rank^-0.9), the counts equal to the rows.
        n_dem = want["demands"]
        weights = [1 / (i + 1) ** 0.9 for i in range(n_dem)]
        scale = want["votes"] / sum(weights)
        rng.shuffle(weights)
        demand_ids = []
        statuses = ["open"] * 70 + ["answered"] * 15 + ["adopted"] * 5 + ["merged"] * 5 + ["closed"] * 5
        for i in range(n_dem):
            union = rng.choice(concern)
            votes = min(int(weights[i] * scale), len(member_ids))
            status = rng.choice(statuses)
            merged_into = rng.choice(demand_ids) if status == "merged" and demand_ids else None
            if status == "merged" and merged_into is None:
                status = "open"
            created = now - dt.timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
            pk = t[Demand].add(
                category=rng.choice(categories),
                description=f"{DEMAND_PREFIX}{i}：希望{union[3]}组织相关服务",
                union_id=union[0],
                org_path=union[1],
                status=status,
                merged_into_id=merged_into,
                votes_count=votes,
                tags="",
                answer="已收到，正在研究。" if status == "answered" else "",
                posted_by_id=None,
                created_at=created,
                updated_at=created,
            )
            demand_ids.append(pk)
            for m in rng.sample(member_ids, votes):
                t[DemandVote].add(demand_id=pk, member_id=m, created_at=created)
        adopted = [d for d, w in zip(demand_ids, weights, strict=True) if w * scale >= 5][:5000]

        # 2. projects in every stage, with goals, budget, milestones and implementers.
        stage_mix = (
            ["draft"] * 10
            + ["in_review"] * 8
            + ["returned"] * 3
            + ["rejected"] * 4
            + ["library"] * 15
            + ["implementing"] * 35
            + ["feedback"] * 10
            + ["evaluated"] * 15
        )
        projects = []  # (id, stage, implementers [(id, path)], start, end)
        for i in range(want["projects"]):
            r = rng.random()
            designer = city if r < 0.2 else rng.choice(industry or districts) if r < 0.35 else rng.choice(districts)
            stage = rng.choice(stage_mix)
            p_year = year - 1 if stage == "evaluated" and rng.random() < 0.5 else year
            start = dt.date(p_year, rng.randint(1, 6), 1)
            if stage in ("implementing",):
                start = min(start, today - dt.timedelta(days=30))
            end = start + dt.timedelta(days=rng.randint(150, 300))
            if stage in ("implementing", "library"):
                end = max(end, today + dt.timedelta(days=90))
            if stage in ("feedback", "evaluated"):
                end = min(end, today - dt.timedelta(days=1))
                start = min(start, end - dt.timedelta(days=120))
            purchased = rng.random() < 0.4
            published = stage in Project.PUBLISHED_STAGES
            pk = t[Project].add(
                title=f"{PREFIX}{i}·{designer[3][:20]}",
                category=rng.choice(categories),
                summary="面向职工的服务项目（基准测试数据）。",
                year=p_year,
                union_id=designer[0],
                org_path=designer[1],
                stage=stage,
                start_date=start,
                end_date=end,
                delivery_mode="purchased" if purchased else "own",
                purchase_method=rng.choice(["tender", "venture"]) if purchased else "",
                contractor="某社会工作服务社" if purchased else "",
                contract_amount=f"{rng.randint(5, 50) * 10000}.00" if purchased else None,
                contract_start=start if purchased else None,
                contract_end=end if purchased else None,
                created_by_id=None,
                published_at=now - dt.timedelta(days=rng.randint(1, 200)) if published else None,
                created_at=now,
                updated_at=now,
            )
            kids = below.get(designer[1]) or [designer]
            impls = rng.sample(kids, min(len(kids), rng.randint(1, 3)))
            for imp in impls:
                t[ProjectImplementer].add(project_id=pk, union_id=imp[0], org_path=imp[1])
            t[Goal].add(
                project_id=pk, name="服务职工", metric="beneficiaries", target=rng.randint(200, 2000), unit="人"
            )
            t[Goal].add(project_id=pk, name="活动场次", metric="sessions", target=rng.randint(5, 20), unit="场")
            spends = stage in ("implementing", "feedback", "evaluated")
            for name in ("场地租赁", "讲师费", "宣传费"):
                planned = rng.randint(5, 100) * 1000
                spent = rng.randint(0, planned) if spends else 0
                line = t[BudgetLine].add(
                    project_id=pk, name=name, planned=f"{planned}.00", spent=f"{spent}.00", approved_over="0.00"
                )
                if spent:
                    t[Expense].add(line_id=line, amount=f"{spent}.00", note="", recorded_by_id=None, created_at=now)
            for k, name in enumerate(("启动", "中期检查", "结项")):
                due = start + dt.timedelta(days=(end - start).days * k // 2)
                done = due if due < today and stage != "draft" else None
                t[Milestone].add(project_id=pk, name=name, due_date=due, done_on=done)
            if adopted and published and rng.random() < 0.5:
                links.add(project_id=pk, demand_id=adopted.pop())
            if stage == "evaluated":
                s = [rng.randint(60, 100) for _ in range(4)]
                total = round(s[0] * 0.4 + s[1] * 0.2 + s[2] * 0.3 + s[3] * 0.1, 2)
                t[Evaluation].add(
                    project_id=pk,
                    org_path=designer[1],
                    reach_score=s[0],
                    budget_score=s[1],
                    satisfaction_score=s[2],
                    timeliness_score=s[3],
                    total=total,
                    weights={"reach": 40, "budget": 20, "satisfaction": 30, "timeliness": 10},
                    explanation=[],
                    evaluated_by_id=None,
                    created_at=now,
                )
            projects.append((pk, stage, impls, start, end))

        # 3. sessions of the projects under way or done, and their sign-ups.
        running = [p for p in projects if p[1] in ("implementing", "feedback", "evaluated")]
        per_session = want["signups"] / max(1, want["sessions"])
        n_signups = 0
        for i in range(want["sessions"]):
            pk, stage, impls, start, end = running[i % len(running)]
            imp = rng.choice(impls)
            if stage == "implementing":
                when = now + dt.timedelta(days=rng.randint(-25, 60), hours=rng.randint(8, 18))
            else:
                span = max(1, (end - start).days)
                when = timezone.make_aware(dt.datetime.combine(start, dt.time(9))) + dt.timedelta(
                    days=rng.randint(0, span - 1)
                )
            capacity = rng.choice((30, 40, 50, 60, 80, 100))
            n = max(0, min(int(rng.gauss(per_session, per_session / 4)), capacity * 2))
            past = when <= now
            people = rng.sample(member_ids, min(n, len(member_ids)))
            holders = people[:capacity]
            waiting = [] if past else people[capacity:]
            sid = t[Session].next_id
            seats = 0
            for m in holders:
                r = rng.random()
                if past:
                    status = "checked_in" if r < 0.8 else "enrolled" if r < 0.95 else "cancelled"
                else:
                    status = "cancelled" if r < 0.03 else "offered" if r < 0.05 else "enrolled"
                created = min(when, now) - dt.timedelta(days=rng.randint(1, 20))
                eid = t[Enrolment].add(
                    session_id=sid,
                    member_id=m,
                    org_path=imp[1],
                    status=status,
                    position=None,
                    offer_expires_at=now + dt.timedelta(hours=rng.randint(1, 23)) if status == "offered" else None,
                    created_at=created,
                    updated_at=created,
                )
                seats += status != "cancelled"
                if status == "checked_in":
                    t[CheckIn].add(enrolment_id=eid, scanned_by_id=None, scans=1, created_at=when)
                    if stage != "implementing" and rng.random() < 0.4:
                        t[Rating].add(
                            enrolment_id=eid,
                            org_path=imp[1],
                            score=rng.choice((3, 4, 4, 5, 5, 5)),
                            comment="",
                            created_at=when + dt.timedelta(days=1),
                        )
            for position, m in enumerate(waiting, start=1):
                t[Enrolment].add(
                    session_id=sid,
                    member_id=m,
                    org_path=imp[1],
                    status="waiting",
                    position=position,
                    offer_expires_at=None,
                    created_at=now,
                    updated_at=now,
                )
            n_signups += len(holders) + len(waiting)
            t[Session].add(
                project_id=pk,
                union_id=imp[0],
                org_path=imp[1],
                title=f"{PREFIX}场次{i}",
                starts_at=when,
                place=f"{imp[3][:40]}职工之家",
                capacity=capacity,
                seats_taken=seats,
                waiting_seq=len(waiting),
                created_at=now,
            )

        # Parents before children (the foreign keys are checked at commit, but keep the order plain).
        for m in models:
            t[m].copy(cur)
        links.copy(cur)
        for m in (*models, Project.demands.through):
            _move_sequence(cur, m)
        for y in (year - 1, year):
            EvaluationWeights.objects.get_or_create(
                year=y, defaults={"reach": 40, "budget": 20, "satisfaction": 30, "timeliness": 10}
            )
    with connection.cursor() as cur:
        for m in models:
            cur.execute(f"ANALYZE {m._meta.db_table}")
    counts = {m._meta.model_name: t[m].count for m in models}
    counts["sign_ups"] = n_signups
    counts["seconds"] = round(time.perf_counter() - started, 1)
    log(f"  projects: {counts}")
    return counts


def ensure(url: str, *, members: int, seed: int = 1, log=print) -> dict:
    """Set Django up against the bench database at `url` and add the rows if they are missing."""
    from bench.generate import bench_env, bench_keys

    os.environ.update(bench_env(url, bench_keys()))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "projects", verbosity=0, interactive=False)
    if present():
        return {}
    return generate(members=members, seed=seed, log=log)


def main(argv: list[str] | None = None) -> int:
    from bench.generate import database_url_for

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", "200000")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: $BENCH_DATABASE_URL or unionportal_bench_<members>")
    args = parser.parse_args(argv)
    ensure(database_url_for(args.members, args.database_url), members=args.members, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
