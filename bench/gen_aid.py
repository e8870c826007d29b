"""Hardship-aid rows of the synthetic city (bench/generate.py calls ensure() after the members).

About one household in 200 members has a hardship file (50,000 files at 10M members), in
every state of the workflow, with:

- household members (the worker, often a spouse, children at school, a parent): incomes,
  health and disability encrypted with the generator's keys (core.crypto.BatchEncryptor,
  as the members' ID numbers are), the worker's row blind-indexed by their ID number;
- the tier computed from the household by the app's own rule (services.compute_tier);
- a home investigation, a public notice (closed once the file went on; a few objections,
  resolved), the approval run of a file waiting for approval (at the street step);
- grants: proposed (approving), reserved or paid (registered and after), rejected, and a
  paid emergency grant on the emergency files (意外致困, about 2%);
- funds and budgets: a city fund with the city's budget, one budget per district (or
  industry union) allocated from it, the append-only ledger, and the budgets' figures equal
  to the ledger.

Idempotent: the rows are written in one transaction, and a city that already has the
bench's standard and its files is left as it is. Fast: COPY with ids assigned here, like
the rest of the generator; needs Django set up against the bench database.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from decimal import Decimal

STANDARD_NAME = "困难职工帮扶标准（基准城市）"
MEMBERS_PER_FILE = 200
ACTOR = "bench-aid"

# (state, per mille of the files)
STATES = (
    ("applied", 40),
    ("investigating", 40),
    ("notice", 25),
    ("approving", 45),
    ("registered", 540),
    ("review", 60),
    ("rejected", 30),
    ("lifted", 140),
    ("safety_net", 30),
    ("closed", 50),
)
EMERGENCY_PER_MILLE = 20
AFTER_NOTICE = {"approving", "registered", "review", "rejected", "lifted", "safety_net", "closed"}
GRANTED = {"registered", "review", "lifted", "safety_net", "closed"}
INVESTIGATED = AFTER_NOTICE | {"investigating", "notice"}
RELATIONS_EXTRA = (("spouse", 0.7), ("child", 0.6), ("parent", 0.2))
CAUSES = (("illness", 40), ("disability", 15), ("schooling", 15), ("single_parent", 8), ("unemployment", 12))
CAUSES += (("accident", 5), ("disaster", 2), ("other", 3))
HEALTH = ("慢性肾病，长期透析", "恶性肿瘤术后化疗", "尿毒症", "重度抑郁，需长期服药", "糖尿病并发症")
DISABILITY = ("肢体残疾二级", "视力残疾一级", "智力残疾三级", "听力残疾二级")
SCHOOLING = ("primary", "middle", "high", "college")
INVESTIGATORS = ("王建国、李秀英", "张伟、陈静", "刘洋、赵敏", "周磊、吴芳", "孙强、郑丽")
FINDINGS = (
    "家中两室一厅，租住；主要收入为申请人工资，配偶无固定收入。",
    "申请人患病在家休养，子女在读，家庭开支主要为医药费和学费。",
    "房屋为公房，家具陈旧；家庭成员收入与申报一致，邻里证实情况属实。",
    "因突发事故致家庭收入骤减，已核实医院账单和事故证明。",
)
STANDARD_AMOUNTS = {
    # kept in step with the demo's standard (assistance/demo.py)
    "deep": {"living": ["500", "5000"], "medical": ["500", "20000"], "warmth": ["200", "2000"]}
    | {"education": ["1000", "5000"]},
    "relative": {"living": ["300", "3000"], "medical": ["300", "10000"], "warmth": ["200", "1000"]}
    | {"education": ["1000", "3000"]},
    "accident": {"emergency": ["500", "3000"], "living": ["500", "5000"], "medical": ["500", "20000"]}
    | {"warmth": ["200", "1000"]},
}
STANDARD_LEVELS = [
    {"up_to": "2000.00", "chain": "aid.street"},
    {"up_to": "10000.00", "chain": "aid.district"},
    {"up_to": None, "chain": "aid.city"},
]


def present() -> int:
    """Files of the bench's standard already in the database (0: not generated yet)."""
    from assistance.models import AidStandard, HardshipFile

    standard = AidStandard.objects.filter(name=STANDARD_NAME).first()
    return HardshipFile.objects.filter(standard=standard).count() if standard else 0


def _next_id(cur, table: str) -> int:
    cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cur.fetchone()[0]


def _column_rows(model, rows: list[dict]) -> tuple[list[str], bytes]:
    """COPY text for `rows` (dicts by attribute name) with every concrete column of `model`."""
    from bench.generate import _text

    fields = model._meta.concrete_fields
    columns = [f.column for f in fields]
    defaults = {f.attname: f.get_default() for f in fields}
    out = []
    for row in rows:
        values = []
        for f in fields:
            v = row[f.attname] if f.attname in row else defaults[f.attname]
            if isinstance(v, dict | list):
                v = json.dumps(v, ensure_ascii=False)
            elif isinstance(v, dt.datetime):
                v = v.isoformat()
            elif v is not None and not isinstance(v, bool | str):
                v = str(v)
            values.append(_text(v))
        out.append("\t".join(values) + "\n")
    return columns, "".join(out).encode()


def _copy(cur, model, rows: list[dict]) -> None:
    """COPY on PostgreSQL; the ORM's bulk insert elsewhere (the tests' SQLite)."""
    from django.db import connection

    from bench.generate import copy_rows

    if rows and connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=500)
    elif rows:
        columns, data = _column_rows(model, rows)
        copy_rows(cur, model._meta.db_table, [f'"{c}"' for c in columns], data)  # "end" is a keyword


def _picks(cur, members: int, seed: int) -> list[tuple]:
    """(member id, union id, org path, name) of every 200th member with an active membership."""
    from django.db import connection

    offset = 1 + seed % MEMBERS_PER_FILE
    if connection.vendor == "postgresql":  # ids by primary key, no scan of the roll
        source = "generate_series(%s, %s, %s) g JOIN members_member m ON m.id = g"
        params = [offset, members, MEMBERS_PER_FILE]
    else:
        source, params = "members_member m", []
    cur.execute(
        f"""SELECT m.id, ms.union_id, ms.org_path, m.name FROM {source}
            JOIN members_membership ms ON ms.id = m.current_membership_id
            WHERE ms.status = 'active' AND m.id %% %s = %s ORDER BY m.id""",
        [*params, MEMBERS_PER_FILE, offset % MEMBERS_PER_FILE],
    )
    return cur.fetchall()


def ensure(*, members: int, seed: int, as_of: dt.date, keys: tuple[str, str], log=print) -> dict:
    """Add the aid rows if the city has none yet. Returns counts and seconds."""
    n = present()
    if n:
        log(f"  aid: {n:,} hardship files present, nothing to do")
        return {"aid_files": n, "aid_generated": False}
    t0 = time.perf_counter()
    counts = _generate(members=members, seed=seed, as_of=as_of, keys=keys)
    counts["aid_generate_s"] = round(time.perf_counter() - t0, 1)
    log(
        f"  aid: {counts['aid_files']:,} files, {counts['aid_household']:,} household members, "
        f"{counts['aid_grants']:,} grants, {counts['aid_ledger']:,} ledger rows ({counts['aid_generate_s']} s)"
    )
    return counts


def _generate(*, members: int, seed: int, as_of: dt.date, keys: tuple[str, str]) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from assistance.models import (
        Allocation,
        Budget,
        Fund,
        Grant,
        HardshipFile,
        HouseholdMember,
        Investigation,
        LedgerEntry,
        Objection,
        PublicNotice,
    )
    from assistance.services import compute_tier, standard_publish
    from bench.generate import id_number
    from core.crypto import BatchEncryptor, BlindIndexer, mask_id
    from core.models import ApprovalChain, ApprovalRun, TransitionRecord
    from organizations.models import Organization, User

    rng = random.Random(f"aid:{seed}")
    rand = rng.random
    encrypt_many, id_hash = BatchEncryptor(keys[0]).encrypt_many, BlindIndexer(keys[1]).id_number
    year = as_of.year
    now = dt.datetime.combine(as_of, dt.time(2, 0), tzinfo=dt.UTC)
    state_cum, acc = [], 0
    for state, per_mille in STATES:
        acc += per_mille
        state_cum.append((acc, state))
    cause_values = [c for c, _w in CAUSES]
    cause_weights = [w for _c, w in CAUSES]

    with transaction.atomic(), connection.cursor() as cur:
        actor, _ = User.objects.get_or_create(
            username=ACTOR, defaults={"is_superuser": True, "display_name": "基准测试帮扶"}
        )
        standard = standard_publish(
            actor=actor,
            name=STANDARD_NAME,
            effective_from=dt.date(2000, 1, 1),
            min_living_line="1420",
            low_income_line="2840",
            yearly_cap="30000",
            amounts=STANDARD_AMOUNTS,
            approval_levels=STANDARD_LEVELS,
        )
        chains = {c.code: c for c in ApprovalChain.objects.filter(code__startswith="aid.").order_by("code", "-version")}
        first_steps = {code: chain.steps.get(order=1) for code, chain in chains.items()}
        file_ct = ContentType.objects.get_for_model(HardshipFile).pk
        grant_ct = ContentType.objects.get_for_model(Grant).pk
        picks = _picks(cur, members, seed)

        ids = {
            m: _next_id(cur, m._meta.db_table)
            for m in (
                HardshipFile,
                HouseholdMember,
                Investigation,
                PublicNotice,
                Objection,
                Grant,
                LedgerEntry,
                ApprovalRun,
                TransitionRecord,
                Fund,
                Budget,
                Allocation,
            )
        }

        def new_id(model) -> int:
            ids[model] += 1
            return ids[model] - 1

        # --- files and their households ---------------------------------------------------------
        files, household, plain_incomes, plain_health, plain_disability = [], [], [], [], []
        for member_id, union_id, path, name in picks:
            u = rand() * 1000
            state = next(s for edge, s in state_cum if u < edge)
            emergency = rand() * 1000 < EMERGENCY_PER_MILLE and state in ("investigating", "notice", "registered")
            causes = list(dict.fromkeys(rng.choices(cause_values, cause_weights, k=1 + (rand() < 0.4))))
            if emergency and "accident" not in causes:
                causes.insert(0, "accident")
            opened = as_of - dt.timedelta(days=20 + int(rand() * (1000 if state in GRANTED else 120)))
            fid = new_id(HardshipFile)
            rows = [("self", name, 30 + int(rand() * 28), "")]
            for relation, share in RELATIONS_EXTRA:
                if rand() < share:
                    if relation == "child":
                        school = SCHOOLING[int(rand() * 4)] if ("schooling" in causes or rand() < 0.5) else ""
                        rows.append(("child", name[0] + "小" + name[-1], 6 + int(rand() * 16), school))
                    elif relation == "spouse":
                        rows.append(("spouse", "配偶" + name[-1], 28 + int(rand() * 30), ""))
                    else:
                        rows.append(("parent", name[0] + "父", 60 + int(rand() * 25), ""))
            incomes = []
            for k, (relation, person, age, school) in enumerate(rows):
                income = Decimal(0) if relation == "child" else Decimal(int(300 + rand() * 2600))
                incomes.append(income)
                sick = ("illness" in causes and k == 0) or rand() < 0.08
                disabled = ("disability" in causes and k == 0) or rand() < 0.03
                household.append(
                    {
                        "id": new_id(HouseholdMember),
                        "file_id": fid,
                        "org_path": path,
                        "name": person,
                        "relation": relation,
                        "age": age,
                        "id_hash": "",
                        "id_masked": "",
                        "schooling": school,
                        "has_health_issue": sick,
                        "has_disability": disabled,
                    }
                )
                plain_incomes.append(f"{income:.2f}")
                plain_health.append(HEALTH[int(rand() * len(HEALTH))] if sick else "")
                plain_disability.append(DISABILITY[int(rand() * len(DISABILITY))] if disabled else "")
            aggravating = any(r[3] for r in rows) or any(h["has_health_issue"] for h in household[-len(rows) :])
            tier, explanation, per_head = compute_tier(standard, incomes, causes, aggravating=aggravating)
            if tier == "none" and state in GRANTED | {"approving"}:
                if "illness" not in causes:
                    causes.append("illness")
                tier, explanation, per_head = compute_tier(standard, incomes, causes, aggravating=True)
            kind = "living"
            if emergency:
                pass
            elif any(r[3] for r in rows) and rand() < 0.4:
                kind = "education"
            elif "illness" in causes and rand() < 0.4:
                kind = "medical"
            tier_for_amount = tier if tier in STANDARD_AMOUNTS else "relative"
            low, high = (Decimal(v) for v in STANDARD_AMOUNTS[tier_for_amount].get(kind, ["300", "3000"]))
            top = min(high, Decimal(6000))
            amount = max(low, min(top, (low + (top - low) * Decimal(rand())) // 100 * 100))
            files.append(
                {
                    "id": fid,
                    "member_id": member_id,
                    "union_id": union_id,
                    "org_path": path,
                    "number": f"KN{opened.year}{fid:06d}",
                    "status": state,
                    "standard_id": standard.pk,
                    "causes": causes,
                    "assets_note": "无房产、无车辆" if rand() < 0.7 else "自有住房一套（唯一住房）",
                    "tier_computed": tier,
                    "tier_explanation": str(explanation)[:300],
                    "tier": tier,
                    "tier_override_reason": "",
                    "per_capita_income": per_head,
                    "requested_kind": kind,
                    "requested_amount": amount,
                    "budget_id": None,
                    "review_due": (as_of + dt.timedelta(days=int(rand() * 425) - 60))
                    if state in ("registered", "review")
                    else None,
                    "is_emergency": emergency,
                    "applied_by_worker": rand() < 0.3,
                    "created_by_id": actor.pk,
                    "created_at": dt.datetime.combine(opened, dt.time(1, 30), tzinfo=dt.UTC),
                    "updated_at": now,
                    "_opened": opened,
                }
            )
        for h, income, health, disability in zip(
            household,
            encrypt_many(plain_incomes),
            _encrypt_some(encrypt_many, plain_health),
            _encrypt_some(encrypt_many, plain_disability),
            strict=True,
        ):
            h["income_enc"], h["health_enc"], h["disability_enc"] = income, health, disability
        # The worker's own row carries their ID number's blind index (a person in two files is refused by it).
        by_file = {f["id"]: f for f in files}
        for h in household:
            if h["relation"] == "self":
                idn = id_number(by_file[h["file_id"]]["member_id"] - 1)
                h["id_hash"], h["id_masked"] = id_hash(idn), mask_id(idn)

        # --- money: the city's fund and budget, a budget per district allocated from it ---------
        city = Organization.objects.filter(depth=1).order_by("path").first()
        tops = {o.path: o for o in Organization.objects.filter(depth=2)}
        fund_rows = [
            {
                "id": new_id(Fund),
                "name": "困难职工帮扶资金",
                "source": "union",
                "organization_id": city.pk,
                "org_path": city.path,
            },
            {
                "id": new_id(Fund),
                "name": "社会捐赠帮扶资金",
                "source": "donation",
                "organization_id": city.pk,
                "org_path": city.path,
            },
        ]
        union_fund = fund_rows[0]["id"]
        grants, ledger, runs, transitions, investigations, notices, objections = [], [], [], [], [], [], []
        budget_of: dict[str, dict] = {}
        city_budget = {
            "id": new_id(Budget),
            "organization_id": city.pk,
            "org_path": city.path,
            "fund_id": union_fund,
            "year": year,
            "amount": Decimal(0),
            "reserved": Decimal(0),
            "spent": Decimal(0),
        }

        def budget_for(path: str) -> dict:
            top = path[:8]
            if top not in budget_of:
                budget_of[top] = {
                    "id": new_id(Budget),
                    "organization_id": tops[top].pk,
                    "org_path": top,
                    "fund_id": union_fund,
                    "year": year,
                    "amount": Decimal(0),
                    "reserved": Decimal(0),
                    "spent": Decimal(0),
                }
            return budget_of[top]

        def history(ct, oid, path, steps, at):
            for k, (a, b) in enumerate(steps):
                transitions.append(
                    {
                        "id": new_id(TransitionRecord),
                        "content_type_id": ct,
                        "object_id": str(oid),
                        "from_state": a,
                        "to_state": b,
                        "from_label": LABELS.get(a, a),
                        "to_label": LABELS.get(b, b),
                        "actor_id": actor.pk,
                        "actor_label": ACTOR,
                        "at": at + dt.timedelta(days=7 * k),
                        "reason": "",
                        "org_path": path,
                    }
                )

        def grant(f, kind, amount, status, *, emergency=False):
            b = budget_for(f["org_path"])
            g = {
                "id": new_id(Grant),
                "file_id": f["id"],
                "org_path": f["org_path"],
                "kind": kind,
                "amount": amount,
                "budget_id": b["id"],
                "period": str(year),
                "campaign_id": None,
                "status": status,
                "is_emergency": emergency,
                "created_by_id": actor.pk,
                "created_at": now,
                "updated_at": now,
            }
            grants.append(g)
            moves = {"proposed": (), "rejected": (), "reserved": ("reserved",), "paid": ("reserved", "paid")}[status]
            for kind_ in moves:
                ledger.append(
                    {
                        "id": new_id(LedgerEntry),
                        "budget_id": b["id"],
                        "org_path": b["org_path"],
                        "kind": kind_,
                        "amount": amount,
                        "grant_id": g["id"],
                        "note": "",
                        "actor_id": actor.pk,
                        "at": now,
                    }
                )
            if status == "reserved":
                b["reserved"] += amount
            elif status == "paid":
                b["spent"] += amount
            path = {
                "proposed": [("", "proposed")],
                "rejected": [("", "proposed"), ("proposed", "rejected")],
                "reserved": [("", "proposed"), ("proposed", "reserved")],
                "paid": [("", "proposed"), ("proposed", "reserved"), ("reserved", "paid")],
            }[status]
            history(grant_ct, g["id"], g["org_path"], path, now - dt.timedelta(days=30))

        for f in files:
            state, opened, path = f["status"], f.pop("_opened"), f["org_path"]
            f["budget_id"] = budget_for(path)["id"] if state in AFTER_NOTICE | {"notice"} else None
            route = WORKFLOW[state]
            history(file_ct, f["id"], path, route, f["created_at"])
            if state in INVESTIGATED or f["is_emergency"]:
                investigations.append(
                    {
                        "id": new_id(Investigation),
                        "file_id": f["id"],
                        "org_path": path,
                        "visited_on": opened + dt.timedelta(days=5),
                        "investigators": INVESTIGATORS[f["id"] % 5],
                        "findings": FINDINGS[f["id"] % 4],
                        "recorded_by_id": actor.pk,
                        "created_at": f["created_at"],
                    }
                )
            if state in AFTER_NOTICE | {"notice"}:
                start = min(opened + dt.timedelta(days=10), as_of - dt.timedelta(days=3))
                nid = new_id(PublicNotice)
                notices.append(
                    {
                        "id": nid,
                        "file_id": f["id"],
                        "org_path": path,
                        "start": start,
                        "end": start + dt.timedelta(days=7),
                        "working_days": 5,
                        "place": "街道工会公示栏",
                        "closed_at": None if state == "notice" else now - dt.timedelta(days=20),
                        "created_at": f["created_at"],
                    }
                )
                if rand() < 0.02:
                    objections.append(
                        {
                            "id": new_id(Objection),
                            "notice_id": nid,
                            "org_path": path,
                            "received_on": start + dt.timedelta(days=2),
                            "content": "反映申请人家庭另有经营收入。",
                            "resolution": "经复查，该经营已于去年注销，异议不成立。",
                            "upheld": False,
                            "resolved_at": now - dt.timedelta(days=25),
                            "recorded_by_id": actor.pk,
                        }
                    )
            if state == "approving":
                code = standard.chain_for(f["requested_amount"])
                runs.append(
                    {
                        "id": new_id(ApprovalRun),
                        "content_type_id": file_ct,
                        "object_id": str(f["id"]),
                        "chain_id": chains[code].pk,
                        "current_step_id": first_steps[code].pk,
                        "status": "running",
                        "org_path": path,
                        "started_by_id": actor.pk,
                        "started_at": now - dt.timedelta(days=2),
                        "ended_at": None,
                    }
                )
                grant(f, f["requested_kind"], f["requested_amount"], "proposed")
            elif state == "rejected":
                grant(f, f["requested_kind"], f["requested_amount"], "rejected")
            elif state in GRANTED:
                grant(f, f["requested_kind"], f["requested_amount"], "reserved" if rand() < 0.1 else "paid")
            if f["is_emergency"]:
                grant(f, "emergency", Decimal(500 + 100 * int(rand() * 26)), "paid", emergency=True)

        # Budgets: each district's covers what it granted with room to spare, allocated from the city's.
        allocations, budgets = [], [city_budget, *budget_of.values()]
        city_budget["amount"] = Decimal(0)
        funded_city = Decimal(0)
        for b in budget_of.values():
            used = b["reserved"] + b["spent"]
            b["amount"] = ((used * Decimal("1.5")) // 100000 + 1) * 100000
            funded_city += b["amount"]
        funded_city = (funded_city * Decimal("1.2") // 1000000 + 1) * 1000000
        city_budget["amount"] = funded_city
        ledger.append(
            {
                "id": new_id(LedgerEntry),
                "budget_id": city_budget["id"],
                "org_path": city.path,
                "kind": "funded",
                "amount": funded_city,
                "grant_id": None,
                "note": "预算设立",
                "actor_id": actor.pk,
                "at": now - dt.timedelta(days=300),
            }
        )
        for b in budget_of.values():
            allocations.append(
                {
                    "id": new_id(Allocation),
                    "parent_id": city_budget["id"],
                    "child_id": b["id"],
                    "org_path": city.path,
                    "amount": b["amount"],
                    "note": "年度帮扶资金下拨",
                    "actor_id": actor.pk,
                    "at": now - dt.timedelta(days=290),
                }
            )
            city_budget["amount"] -= b["amount"]
            for budget_id, bpath, kind_, note in (
                (city_budget["id"], city.path, "allocated_out", f"下拨至 {tops[b['org_path']].name}"),
                (b["id"], b["org_path"], "funded", "上级下拨"),
            ):
                ledger.append(
                    {
                        "id": new_id(LedgerEntry),
                        "budget_id": budget_id,
                        "org_path": bpath,
                        "kind": kind_,
                        "amount": b["amount"],
                        "grant_id": None,
                        "note": note,
                        "actor_id": actor.pk,
                        "at": now - dt.timedelta(days=290),
                    }
                )
        donation = {
            "id": new_id(Budget),
            "organization_id": city.pk,
            "org_path": city.path,
            "fund_id": fund_rows[1]["id"],
            "year": year,
            "amount": Decimal(2_000_000),
            "reserved": Decimal(0),
            "spent": Decimal(0),
        }
        budgets.append(donation)
        ledger.append(
            {
                "id": new_id(LedgerEntry),
                "budget_id": donation["id"],
                "org_path": city.path,
                "kind": "funded",
                "amount": donation["amount"],
                "grant_id": None,
                "note": "预算设立",
                "actor_id": actor.pk,
                "at": now - dt.timedelta(days=300),
            }
        )

        # Ledger rows in time order (ids ascending with time, as the services write them).
        ledger.sort(key=lambda r: (r["at"], r["id"]))
        for k, row in enumerate(ledger):
            row["id"] = ids[LedgerEntry] - len(ledger) + k

        _copy(cur, Fund, fund_rows)
        _copy(cur, Budget, budgets)
        _copy(cur, Allocation, allocations)
        _copy(cur, HardshipFile, files)
        _copy(cur, HouseholdMember, household)
        _copy(cur, Investigation, investigations)
        _copy(cur, PublicNotice, notices)
        _copy(cur, Objection, objections)
        _copy(cur, Grant, grants)
        _copy(cur, LedgerEntry, ledger)
        _copy(cur, ApprovalRun, runs)
        _copy(cur, TransitionRecord, transitions)
        models = [HardshipFile, HouseholdMember, Investigation, PublicNotice, Objection, Grant, LedgerEntry]
        models += [ApprovalRun, TransitionRecord, Fund, Budget, Allocation]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(sql)
    with connection.cursor() as cur:
        for m in models:
            if connection.vendor == "postgresql":
                cur.execute(f"ANALYZE {m._meta.db_table}")
    return {
        "aid_files": len(files),
        "aid_household": len(household),
        "aid_investigations": len(investigations),
        "aid_notices": len(notices),
        "aid_grants": len(grants),
        "aid_ledger": len(ledger),
        "aid_budgets": len(budgets),
        "aid_approval_runs": len(runs),
        "aid_generated": True,
    }


def _encrypt_some(encrypt_many, values: list[str]) -> list[str]:
    """Tokens for the non-empty values, "" where there is nothing to keep."""
    filled = [v for v in values if v]
    tokens = iter(encrypt_many(filled)) if filled else iter(())
    return [next(tokens) if v else "" for v in values]


# The way each state was reached (the timeline's rows).
_BASE = [("", "applied"), ("applied", "investigating"), ("investigating", "notice"), ("notice", "approving")]
WORKFLOW = {
    "applied": _BASE[:1],
    "investigating": _BASE[:2],
    "notice": _BASE[:3],
    "approving": _BASE,
    "registered": [*_BASE, ("approving", "registered")],
    "review": [*_BASE, ("approving", "registered"), ("registered", "review")],
    "rejected": [*_BASE, ("approving", "rejected")],
    "lifted": [*_BASE, ("approving", "registered"), ("registered", "lifted")],
    "safety_net": [*_BASE, ("approving", "registered"), ("registered", "safety_net")],
    "closed": [*_BASE, ("approving", "registered"), ("registered", "closed")],
}
LABELS = {
    "applied": "已申请",
    "investigating": "入户调查",
    "notice": "公示中",
    "approving": "审批中",
    "registered": "已建档",
    "review": "复核中",
    "rejected": "未通过",
    "lifted": "已解困脱困",
    "safety_net": "已转入政府保障",
    "closed": "已关闭",
    "proposed": "待审批",
    "reserved": "已批准待发放",
    "paid": "已发放",
}
