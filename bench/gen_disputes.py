"""Mediation bodies, mediators and dispute cases for a bench city (issue 12's volumes).

    python bench/gen_disputes.py --members 1000000          # into unionportal_bench_1000000
    python bench/gen_disputes.py --database-url postgres://…/some_bench_db

Called by bench/generate.py after the city is built (and on every later run: it does
nothing when the city already has its mediation bodies), so `make bench` has them. Adds,
in one transaction (all or nothing):

- a union mediation centre for every district and every street (town) union, and an
  enterprise mediation committee in the biggest enterprises (one per 20,000 members);
- mediators: 6 per district centre, 4 per street centre, 2 per committee (the first one
  heads the body), each with a staff account holding the `mediator` role there;
- cases: 5 per 1,000 members a year over the three years before the city's as-of date
  (~150,000 at 10M members), the applicants drawn from the roll (their ID numbers'
  Fernet tokens and blind index copied from the member row: the same keys), the
  respondent their employer; kinds, channels (court-delegated/entrusted with the court's
  reference and return date), collective cases (10+ workers, escalated to the district),
  legal aid, and a status that fits the case's age — recent ones open, some overdue, old
  ones closed and visited — with the rows each status implies: clock events (start,
  suspensions, extensions), claims with amounts, sessions, agreements, judicial
  confirmations, fulfilment checks and return visits. Facts are encrypted with the
  generator's key (core.crypto.BatchEncryptor, as members are).

Then the district overview's per-body summaries are built (disputes.summary.refresh_all).
Rows go in with COPY; deterministic for a given --seed apart from the Fernet IVs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

CASES_PER_1000_MEMBERS_A_YEAR = 5
YEARS = 3
MEMBERS_PER_COMMITTEE = 20_000
MEDIATORS = {"district": 6, "street": 4, "enterprise": 2}
KINDS = (
    ("wages", 35),
    ("contract", 15),
    ("dismissal", 20),
    ("social_insurance", 10),
    ("work_injury", 8),
    ("working_hours", 7),
    ("other", 5),
)
CHANNELS = (("walk_in", 45), ("hotline", 20), ("online", 20), ("petition", 5), ("court_delegated", 6))
CHANNELS += (("court_entrusted", 4),)
# Statuses by the case's age in days (mediation track): (up to age, ((status, weight), …)).
BY_AGE = (
    (1, (("received", 60), ("accepted", 40))),
    (3, (("accepted", 30), ("assigned", 40), ("in_mediation", 30))),
    (
        20,
        (
            ("assigned", 15),
            ("in_mediation", 45),
            ("agreed", 20),
            ("failed", 8),
            ("withdrawn", 4),
            ("declined", 3),
            ("confirming", 5),
        ),
    ),
    (
        60,
        (
            ("in_mediation", 2),  # overdue: past the 15 days, still being mediated
            ("agreed", 8),
            ("confirming", 10),
            ("fulfilled", 15),
            ("failed", 10),
            ("closed", 37),
            ("withdrawn", 5),
            ("declined", 3),
            ("visited", 10),
        ),
    ),
    (
        10**6,
        (
            ("declined", 4),
            ("withdrawn", 6),
            ("failed", 2),
            ("agreed", 1),
            ("confirming", 1),
            ("fulfilled", 1),
            ("closed", 25),
            ("visited", 60),
        ),
    ),
)
STARTED = {"accepted", "assigned", "in_mediation", "agreed", "failed", "confirming", "fulfilled", "closed", "visited"}
ASSIGNED = STARTED - {"accepted"}
MEDIATED = ASSIGNED - {"assigned"}
AGREEMENT_STATES = {"agreed", "confirming", "fulfilled"}
CLAIMS = {
    "wages": ("支付拖欠工资", (3000, 60000)),
    "contract": ("签订书面劳动合同，支付二倍工资差额", (5000, 80000)),
    "dismissal": ("支付解除劳动合同经济补偿金", (8000, 120000)),
    "social_insurance": ("补缴社会保险费", (2000, 40000)),
    "work_injury": ("支付工伤待遇", (10000, 200000)),
    "working_hours": ("支付加班工资", (1000, 30000)),
    "other": ("支付其他费用", (500, 20000)),
}
FACTS = {
    "wages": "{e}自{m}个月前起拖欠申请人工资，多次催要未果。",
    "contract": "申请人在{e}工作{m}个月，单位一直未与其签订书面劳动合同。",
    "dismissal": "{e}以经营困难为由解除与申请人的劳动合同，未支付经济补偿。",
    "social_insurance": "{e}未为申请人足额缴纳社会保险费，累计{m}个月。",
    "work_injury": "申请人在{e}工作期间受伤，已认定工伤，单位未支付工伤待遇。",
    "working_hours": "申请人在{e}长期每周工作六天，单位未支付加班工资（{m}个月）。",
    "other": "申请人与{e}就离职手续及相关费用发生争议。",
}
SUSPEND_REASONS = ("等待工伤认定结论", "申请人住院治疗", "等待劳动能力鉴定结论")


def _pick(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def _columns(model) -> list[str]:
    return [f.column for f in model._meta.concrete_fields]


def _copy(cur, model, rows: list[dict]) -> None:
    from django.db import connection

    from bench.generate import _lines, copy_rows

    if connection.vendor != "postgresql":  # the tests' SQLite: the same rows through the ORM
        json_cols = {f.column for f in model._meta.concrete_fields if f.get_internal_type() == "JSONField"}
        model.objects.bulk_create(
            model(**{c: json.loads(v) if c in json_cols else v for c, v in r.items()}) for r in rows
        )
        return
    cols = _columns(model)
    data = _lines([[r.get(c) for c in cols] for r in rows])
    copy_rows(cur, model._meta.db_table, [connection.ops.quote_name(c) for c in cols], data)


def _next_id(cur, model) -> int:
    cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
    return cur.fetchone()[0]


def _sample_members(cur, members: int, want: int, seed: int) -> list[tuple]:
    """About `want` members spread over the roll (block sample, then thinned by the rng)."""
    from django.db import connection

    cols = "id, name, id_number_enc, id_number_hash, id_masked, mobile_masked, employer_id, employer_name, org_path"
    if connection.vendor == "postgresql":
        pct = min(100.0, 100.0 * want * 1.5 / max(members, 1))
        cur.execute(f"SELECT {cols} FROM members_member TABLESAMPLE SYSTEM (%s) REPEATABLE (%s)", [pct, seed])
    else:
        cur.execute(f"SELECT {cols} FROM members_member")
    rows = cur.fetchall()
    rng = random.Random(f"disputes-sample:{seed}")
    rng.shuffle(rows)
    return rows[:want]


def generate_disputes(*, members: int, as_of: dt.date, seed: int = 1, cases: int | None = None, log=print) -> dict:
    """Add the domain's rows to the configured (bench) database unless it has them already.

    `cases`: how many (default: 5 per 1,000 members a year over three years)."""
    from django.conf import settings
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from core.crypto import BatchEncryptor
    from disputes import summary
    from disputes.models import (
        Agreement,
        Case,
        CaseParty,
        Claim,
        ClockEvent,
        Fulfilment,
        JudicialConfirmation,
        MediationBody,
        Mediator,
        ReturnVisit,
        Session,
    )
    from organizations.models import Enterprise, Organization, OrgKind, RoleAssignment, User

    if MediationBody.objects.exists():
        log("  disputes: mediation bodies present, nothing to do")
        return {}
    started = time.perf_counter()
    rng = random.Random(f"disputes:{seed}")
    now = dt.datetime.combine(as_of, dt.time(1, 0), tzinfo=dt.UTC)
    n_cases = cases or round(members * CASES_PER_1000_MEMBERS_A_YEAR * YEARS / 1000)
    encryptor = BatchEncryptor(settings.FIELD_ENCRYPTION_KEYS[0])
    with transaction.atomic(), connection.cursor() as cur:
        # --- bodies and mediators -------------------------------------------------------
        orgs = list(
            Organization.objects.filter(kind__in=[OrgKind.DISTRICT, OrgKind.STREET]).values_list(
                "pk", "path", "name", "kind"
            )
        )
        districts = {path: pk for pk, path, _n, kind in orgs if kind == OrgKind.DISTRICT}
        n_committees = max(1, members // MEMBERS_PER_COMMITTEE)
        big = list(
            Enterprise.objects.filter(is_active=True)
            .order_by("-employees", "pk")
            .values_list("pk", "name", "union_id", "supervisor_id")[:n_committees]
        )
        org_paths = dict(Organization.objects.filter(pk__in={u or s for _p, _n, u, s in big}).values_list("pk", "path"))
        body_id = _next_id(cur, MediationBody)
        bodies = []
        for pk, path, name, kind in orgs:
            short = name.removesuffix("总工会").removesuffix("工会")
            bodies.append(
                {
                    "id": body_id,
                    "name": f"{short}职工劳动争议调解中心",
                    "kind": "district" if kind == OrgKind.DISTRICT else "street",
                    "organization_id": pk,
                    "enterprise_id": None,
                    "org_path": path,
                    "is_active": True,
                    "created_at": now,
                }
            )
            body_id += 1
        for pk, name, union_id, supervisor_id in big:
            org = union_id or supervisor_id
            bodies.append(
                {
                    "id": body_id,
                    "name": f"{name}劳动争议调解委员会",
                    "kind": "enterprise",
                    "organization_id": org,
                    "enterprise_id": pk,
                    "org_path": org_paths[org],
                    "is_active": True,
                    "created_at": now,
                }
            )
            body_id += 1
        _copy(cur, MediationBody, bodies)
        users, mediators, roles = [], [], []
        for b in bodies:
            for j in range(MEDIATORS[b["kind"]]):
                users.append(
                    User(
                        username=f"bench-mediator-{b['id']}-{j}",
                        password="!",
                        display_name=f"调解员{b['id']}-{j}",
                        is_active=True,
                    )
                )
        User.objects.bulk_create(users, batch_size=2000)
        user_ids = dict(User.objects.filter(username__startswith="bench-mediator-").values_list("username", "pk"))
        mediator_id = _next_id(cur, Mediator)
        by_body: dict[int, list[int]] = {}
        kinds = [k for k, _w in KINDS]
        for b in bodies:
            for j in range(MEDIATORS[b["kind"]]):
                uid = user_ids[f"bench-mediator-{b['id']}-{j}"]
                mediators.append(
                    {
                        "id": mediator_id,
                        "user_id": uid,
                        "body_id": b["id"],
                        "name": f"调解员{j + 1}",
                        "employment": "full_time" if j < 2 else "part_time",
                        "specialities": json.dumps(rng.sample(kinds, 2)),
                        "is_head": j == 0,
                        "is_active": True,
                        "org_path": b["org_path"],
                    }
                )
                roles.append(RoleAssignment(user_id=uid, organization_id=b["organization_id"], role="mediator"))
                by_body.setdefault(b["id"], []).append(mediator_id)
                mediator_id += 1
        _copy(cur, Mediator, mediators)
        RoleAssignment.objects.bulk_create(roles, batch_size=2000, ignore_conflicts=True)
        log(f"  disputes: {len(bodies):,} mediation bodies, {len(mediators):,} mediators")

        # --- cases ------------------------------------------------------------------------
        area_body = {b["org_path"]: b for b in bodies if b["kind"] != "enterprise"}
        committee = {b["enterprise_id"]: b for b in bodies if b["kind"] == "enterprise"}
        district_bodies = [b for b in bodies if b["kind"] == "district"]
        sample = _sample_members(cur, members, n_cases + n_cases // 20, seed)
        if not sample or not district_bodies:
            raise SystemExit("disputes: the city has no members or no districts")
        pool = iter(sample)
        case_id = _next_id(cur, Case)
        claim_id = _next_id(cur, Claim)
        party_id = _next_id(cur, CaseParty)
        clock_id = _next_id(cur, ClockEvent)
        session_id = _next_id(cur, Session)
        cases, claims, parties, clocks, sessions = [], [], [], [], []
        agreements, confirmations, fulfilments, visits = [], [], [], []
        facts_plain = []
        span = YEARS * 365
        counts: dict[str, int] = {}
        for _ in range(n_cases):
            try:
                m = next(pool)
            except StopIteration:
                pool = iter(sample)
                m = next(pool)
            mid, mname, id_enc, id_hash, id_masked, mob_masked, employer_id, employer_name, mpath = m
            body = committee.get(employer_id) if employer_id in committee and rng.random() < 0.4 else None
            if body is None:
                for cut in range(len(mpath) - len(mpath) % 4, 3, -4):
                    body = area_body.get(mpath[:cut])
                    if body is not None and body["org_path"] != mpath[:4]:
                        break
                    body = None
            body = body or district_bodies[mid % len(district_bodies)]
            age = min(int(rng.random() ** 1.0 * span), span - 1)
            received = as_of - dt.timedelta(days=age)
            legal_aid = rng.random() < 0.1
            status = _pick(rng, next(w for limit, w in BY_AGE if age <= limit))
            if legal_aid and status in AGREEMENT_STATES | {"confirming", "fulfilled"}:
                status = "closed" if age > 20 else "in_mediation"
            counts[status] = counts.get(status, 0) + 1
            kind = _pick(rng, KINDS)
            channel = "online" if legal_aid and rng.random() < 0.5 else _pick(rng, CHANNELS)
            court = channel in ("court_delegated", "court_entrusted") and not legal_aid
            if not court and channel.startswith("court"):
                channel = "walk_in"
            collective = not legal_aid and rng.random() < 0.03
            workers = rng.randint(10, 60) if collective else (rng.randint(2, 6) if rng.random() < 0.05 else 1)
            month = rng.randint(1, 12)
            respondent = employer_name or "某人力资源服务有限公司"
            closed_on = None
            if status in ("closed", "visited"):
                closed_on = min(as_of, received + dt.timedelta(days=rng.randint(4, 40)))
            failed_close = status in ("closed", "visited") and (legal_aid or rng.random() < 0.2)
            failure = ""
            referral = ""
            if status == "failed" or (failed_close and not legal_aid):
                failure, referral = "被申请人拒绝调解方案", "arbitration"
            mediator = rng.choice(by_body[body["id"]]) if status in ASSIGNED or status == "withdrawn" else None
            district_path = body["org_path"][:8]
            created = dt.datetime.combine(received, dt.time(1, 30), tzinfo=dt.UTC)
            c = {
                "id": case_id,
                "number": f"{'YZ' if legal_aid else 'TJ'}{received:%Y}-{case_id:07d}",
                "track": "legal_aid" if legal_aid else "mediation",
                "body_id": body["id"],
                "org_path": body["org_path"],
                "channel": channel,
                "court_name": "区人民法院" if court else "",
                "court_reference": f"（{received:%Y}）沪民诉前调{case_id}号" if court else "",
                "court_return_deadline": received + dt.timedelta(days=30) if court else None,
                "respondent_enterprise_id": employer_id,
                "respondent_name": respondent[:120],
                "kind": kind,
                "facts_enc": None,  # below, encrypted in one batch
                "facts_length": 0,
                "workers_involved": workers,
                "is_collective": collective,
                "escalated_to_id": districts.get(district_path) if collective else None,
                "status": status,
                "mediator_id": mediator,
                "received_on": received,
                "decline_reason": "不属于劳动争议调解受理范围" if status == "declined" else "",
                "failure_reason": failure,
                "referral": referral,
                "referred_from_id": None,
                "applicant_user_id": None,
                "created_by_id": None,
                "closed_on": closed_on,
                "created_at": created,
                "updated_at": created,
            }
            facts = FACTS[kind].format(e=respondent, m=month)
            facts_plain.append(facts)
            c["facts_length"] = len(facts)
            cases.append(c)
            what, (low, high) = CLAIMS[kind]
            amount = Decimal(rng.randint(low, high)) * (workers if collective else 1)
            claims.append({"id": claim_id, "case_id": case_id, "description": what, "amount": amount})
            claim_id += 1
            if rng.random() < 0.3:
                claims.append({"id": claim_id, "case_id": case_id, "description": "出具离职证明", "amount": None})
                claim_id += 1
            people = [("applicant", m)]
            if collective:
                people.append(("representative", next(pool, sample[0])))
            for role, p in people:
                parties.append(
                    {
                        "id": party_id,
                        "case_id": case_id,
                        "role": role,
                        "name": p[1],
                        "member_id": p[0],
                        "id_number_enc": p[2],
                        "id_number_hash": p[3],
                        "id_masked": p[4],
                        "mobile_masked": p[5],
                    }
                )
                party_id += 1
            # The clock (mediation only): start on receipt; some pauses and extensions.
            clock_started = status in STARTED or (status == "withdrawn" and mediator is not None)
            if clock_started and not legal_aid:
                events = [("start", received, 0, "")]
                last = received
                if age > 6 and rng.random() < 0.08:
                    s_on = received + dt.timedelta(days=rng.randint(2, min(5, age - 1)))
                    events.append(("suspend", s_on, 0, rng.choice(SUSPEND_REASONS)))
                    r_on = s_on + dt.timedelta(days=rng.randint(2, 10))
                    last = s_on
                    if r_on <= as_of:
                        events.append(("resume", r_on, 0, ""))
                        last = r_on
                if events[-1][0] != "suspend" and age > 12 and rng.random() < 0.03:
                    e_on = max(last, received + dt.timedelta(days=12))
                    if e_on <= as_of:
                        events.append(("extend", e_on, 15, "双方同意延长调解期限"))
                for kind_, on, days, reason in events:
                    clocks.append(
                        {
                            "id": clock_id,
                            "case_id": case_id,
                            "kind": kind_,
                            "on": on,
                            "days": days,
                            "reason": reason,
                            "actor_id": None,
                            "created_at": dt.datetime.combine(on, dt.time(2, 0), tzinfo=dt.UTC),
                        }
                    )
                    clock_id += 1
            if status in MEDIATED:
                for k in range(1 if rng.random() < 0.7 else 2):
                    held = min(as_of, received + dt.timedelta(days=2 + 4 * k))
                    sessions.append(
                        {
                            "id": session_id,
                            "case_id": case_id,
                            "held_at": dt.datetime.combine(held, dt.time(6, 0), tzinfo=dt.UTC),
                            "place": f"{body['name']}调解室",
                            "attendees": "申请人、被申请人代表、调解员",
                            "notes": "双方陈述意见，调解员释明法律规定。",
                            "recorded_by_id": None,
                            "created_at": dt.datetime.combine(held, dt.time(8, 0), tzinfo=dt.UTC),
                        }
                    )
                    session_id += 1
            agreed = status in AGREEMENT_STATES or (status in ("closed", "visited") and not failed_close)
            if agreed:
                effective = min(as_of, received + dt.timedelta(days=rng.randint(3, 12)))
                agreements.append(
                    {
                        "id": case_id,
                        "case_id": case_id,
                        "text": f"经调解，{respondent}同意于{effective:%Y年%m月%d日}起十五日内{what}人民币{amount}元。",
                        "signed_by_applicants": True,
                        "signed_by_respondent": True,
                        "signed_by_mediator": True,
                        "effective_on": effective,
                        "created_by_id": None,
                        "created_at": dt.datetime.combine(effective, dt.time(7, 0), tzinfo=dt.UTC),
                    }
                )
                if status == "confirming" or (status != "agreed" and rng.random() < 0.3):
                    confirmations.append(
                        {
                            "id": case_id,
                            "case_id": case_id,
                            "court": "区人民法院",
                            "applied_on": effective,
                            "outcome": "pending" if status == "confirming" else "confirmed",
                            "decided_on": None if status == "confirming" else min(as_of, effective + dt.timedelta(7)),
                        }
                    )
                if status in ("fulfilled", "closed", "visited"):
                    outcome = _pick(rng, (("paid", 80), ("partly", 15), ("not", 5)))
                    paid = amount if outcome == "paid" else (amount / 2 if outcome == "partly" else Decimal(0))
                    fulfilments.append(
                        {
                            "id": case_id,
                            "case_id": case_id,
                            "outcome": outcome,
                            "amount_paid": paid.quantize(Decimal("0.01")),
                            "checked_on": min(as_of, effective + dt.timedelta(days=15)),
                            "note": "",
                        }
                    )
            if status == "visited":
                visits.append(
                    {
                        "id": case_id,
                        "case_id": case_id,
                        "satisfaction": _pick(rng, ((5, 55), (4, 30), (3, 10), (2, 3), (1, 2))),
                        "comments": "",
                        "visited_on": min(as_of, closed_on + dt.timedelta(days=7)),
                        "by_worker": rng.random() < 0.3,
                    }
                )
            case_id += 1
        t = time.perf_counter()
        for c, token in zip(cases, encryptor.encrypt_many(facts_plain), strict=True):
            c["facts_enc"] = token
        log(f"  disputes: {len(cases):,} cases planned and encrypted ({time.perf_counter() - started:.1f} s)")
        t = time.perf_counter()
        for model, rows in (
            (Case, cases),
            (Claim, claims),
            (CaseParty, parties),
            (ClockEvent, clocks),
            (Session, sessions),
            (Agreement, agreements),
            (JudicialConfirmation, confirmations),
            (Fulfilment, fulfilments),
            (ReturnVisit, visits),
        ):
            for start in range(0, len(rows), 50_000):
                _copy(cur, model, rows[start : start + 50_000])
        models = [MediationBody, Mediator, Case, Claim, CaseParty, ClockEvent, Session, Agreement]
        models += [JudicialConfirmation, Fulfilment, ReturnVisit]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(sql)
        log(f"  disputes: rows copied ({time.perf_counter() - t:.1f} s)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in models:
                cur.execute(f"ANALYZE {model._meta.db_table}")
    t = time.perf_counter()
    summary.refresh_all(today=as_of)
    log(f"  disputes: overview summaries ({time.perf_counter() - t:.1f} s)")
    out = {
        "bodies": len(bodies),
        "mediators": len(mediators),
        "cases": len(cases),
        "clock_events": len(clocks),
        "sessions": len(sessions),
        "by_status": dict(sorted(counts.items())),
        "seconds": round(time.perf_counter() - started, 1),
    }
    log(f"  disputes: done {out}")
    return out


def ensure_disputes(*, url: str, seed: int = 1, log=print) -> dict:
    """The hook bench/generate.py calls: set Django up on the bench database and add the rows if missing."""
    from bench.generate import bench_env, bench_keys, read_meta

    meta = read_meta(url)
    if meta is None:
        raise SystemExit(f"{url} is not a finished bench city: run bench/generate.py first")
    os.environ.update(bench_env(url, bench_keys()))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "disputes", verbosity=0, interactive=False)
    return generate_disputes(
        members=meta["members"], as_of=dt.date.fromisoformat(meta["as_of"]), seed=meta.get("seed", seed), log=log
    )


def main(argv: list[str] | None = None) -> int:
    from bench.generate import database_url_for

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", "200000")))
    parser.add_argument("--database-url", help="default: $BENCH_DATABASE_URL or unionportal_bench_<members>")
    args = parser.parse_args(argv)
    ensure_disputes(url=database_url_for(args.members, args.database_url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
