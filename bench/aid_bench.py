"""Hardship-aid measures at city scale: the district file list, the approval queue, the
budget page, and a 送温暖 campaign over every active file of the city.

bench/run.py calls measure() as one step of `make bench`; run alone, this module measures
only the aid pages against a finished bench city (built, with its aid rows, by
bench/generate.py; see bench/gen_aid.py):

    python bench/aid_bench.py --members 10000000      # database unionportal_bench_10000000
    python bench/aid_bench.py --members 100000 --database-url postgres://…/mydb

Pages are timed in-process through Django's test client as the district's aid officer
(middleware, selectors, templates: the whole response), with the selectors' own time
beside them. The campaign is started and run as the Celery task would run it, on a budget
made for the measure, and then taken out again (its grants, ledger rows, history, the
campaign and its budget), so repeated runs leave the city as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AID_USERS = {"officer": "bench-aid-officer", "city": "bench-aid-city"}
CAMPAIGN_NAME = "送温暖（基准测量）"


def actors(district, root):
    """The district's aid officer and a city federation aid officer (bench users)."""
    from core.scoping import forget_reach
    from organizations.models import RoleAssignment, User

    out = []
    for key, org in (("officer", district), ("city", root)):
        user, _ = User.objects.get_or_create(username=AID_USERS[key], defaults={"display_name": f"基准{key}"})
        RoleAssignment.objects.get_or_create(user=user, organization=org, role="aid_officer")
        forget_reach(user)
        out.append(user)
    return out


def _client(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _page(client, url: str):
    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        return response

    return get


def aid_district(root):
    """The district (depth 2) with the most hardship files."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from assistance.models import HardshipFile
    from organizations.models import Organization

    top = (
        HardshipFile.objects.annotate(top=Substr("org_path", 1, 8))
        .values("top")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return Organization.objects.get(path=top["top"]) if top else root


def measure(district, root, *, runs: int = 40) -> dict:
    """Every aid figure (ms unless named otherwise) as a flat dict."""
    from assistance import selectors
    from assistance.models import ACTIVE_STATUSES, Budget, HardshipFile
    from bench.measures import summary, timed
    from core.pages import keyset_page

    officer, city_user = actors(district, root)
    out: dict = {
        "aid_district": district.name,
        "aid_files_city": HardshipFile.objects.count(),
        "aid_files_district": HardshipFile.objects.filter(org_path__startswith=district.path).count(),
        "aid_active_files_city": HardshipFile.objects.filter(status__in=ACTIVE_STATUSES).count(),
    }

    def first_page(qs):
        return lambda: [
            (f.number, f.member.name, f.union.name)
            for f in keyset_page(qs(), field="id", descending=True, cursor="", size=50).rows
        ]

    out.update(summary("aid_file_list_query", timed(first_page(lambda: selectors.files_for(officer)), runs=runs)))
    filtered = {"status": "registered", "tier": "deep", "cause": "illness"}
    out.update(
        summary(
            "aid_file_list_filtered_query",
            timed(first_page(lambda: selectors.files_for(officer, **filtered)), runs=runs),
        )
    )
    out.update(
        summary("aid_approval_queue_query", timed(first_page(lambda: selectors.approval_queue(officer)), runs=runs))
    )

    def budget_page():
        return [
            list(selectors.budgets_for(officer).order_by("-year", "org_path", "id")[:200]),
            list(selectors.funds_for(officer)[:200]),
        ]

    out.update(summary("aid_budget_page_query", timed(budget_page, runs=runs)))
    client = _client(officer)
    out.update(summary("aid_file_list", timed(_page(client, "/aid/"), runs=runs)))
    out.update(
        summary(
            "aid_file_list_filtered",
            timed(_page(client, "/aid/?status=registered&tier=deep&cause=illness"), runs=runs),
        )
    )
    out.update(summary("aid_approval_queue", timed(_page(client, "/aid/approvals/"), runs=runs)))
    out["aid_approval_queue_files"] = selectors.approval_queue(officer).count()
    out.update(summary("aid_budget_page", timed(_page(client, "/aid/budgets/"), runs=runs)))
    out.update(summary("aid_budget_page_city", timed(_page(_client(city_user), "/aid/budgets/"), runs=runs)))
    # The stored figures the page shows against the ledger they must equal (the check, not the page).
    biggest = Budget.objects.filter(org_path=district.path).order_by("-spent").first()
    if biggest is not None:
        out["aid_ledger_rows_district_budget"] = biggest.ledger.count()
        out.update(summary("aid_ledger_sum", timed(lambda: selectors.budget_from_ledger(biggest), runs=runs)))
        out["aid_ledger_equals_figures"] = all(
            selectors.budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
            for b in Budget.objects.all()
        )
    out.update(measure_campaign(city_user, root))
    return out


def measure_campaign(user, root) -> dict:
    """送温暖 over every active file of the city: start (count) and run, as the task does."""
    from django.db import connection, transaction

    from assistance import services
    from assistance.models import Campaign, FundSource

    year = time.localtime().tm_year
    with transaction.atomic():
        fund = services.fund_create(actor=user, organization=root, name=CAMPAIGN_NAME, source=FundSource.DONATION)
        budget = services.budget_create(actor=user, fund=fund, organization=root, year=year, amount="9999999999")
        campaign = services.campaign_create(
            actor=user,
            organization=root,
            kind=Campaign.Kind.WARMTH,
            name=CAMPAIGN_NAME,
            budget=budget,
            amount_per_file="300",
        )
    try:
        t0 = time.perf_counter()
        with mock.patch("core.outbox.enqueue"):  # the run below is the task's body, in this process
            campaign = services.campaign_start(actor=user, campaign=campaign)
        campaign = services.campaign_run(campaign.pk)
        seconds = time.perf_counter() - t0
        return {
            "aid_campaign_city_files": campaign.progress_done,
            "aid_campaign_city_s": round(seconds, 1),
            "aid_campaign_city_files_per_s": round(campaign.progress_done / seconds),
            "aid_campaign_status": campaign.status,
        }
    finally:
        _remove_campaign(connection, campaign.pk, budget.pk, fund.pk)


def _remove_campaign(connection, campaign_id: int, budget_id: int, fund_id: int) -> None:
    """Take the measure's campaign out again (raw SQL: ledger and history are append-only to the app)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from assistance.models import Campaign, Grant

    grant_ct = ContentType.objects.get_for_model(Grant).pk
    campaign_ct = ContentType.objects.get_for_model(Campaign).pk
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "DELETE FROM core_transitionrecord WHERE content_type_id = %s AND object_id IN "
            "(SELECT id::text FROM assistance_grant WHERE campaign_id = %s)",
            [grant_ct, campaign_id],
        )
        cur.execute(
            "DELETE FROM core_transitionrecord WHERE content_type_id = %s AND object_id = %s",
            [campaign_ct, str(campaign_id)],
        )
        cur.execute("DELETE FROM assistance_ledgerentry WHERE budget_id = %s", [budget_id])
        cur.execute("DELETE FROM assistance_grant WHERE campaign_id = %s", [campaign_id])
        cur.execute("DELETE FROM assistance_campaign WHERE id = %s", [campaign_id])
        cur.execute("DELETE FROM assistance_budget WHERE id = %s", [budget_id])
        cur.execute("DELETE FROM assistance_fund WHERE id = %s", [fund_id])


def main(argv: list[str] | None = None) -> int:
    from bench.generate import serve_city

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS") or 200_000))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--out", default=None, help="default bench/results/aid-<members>.json")
    args = parser.parse_args(argv)
    url, meta = serve_city(args.members, args.database_url)
    from django.core.management import call_command

    from bench import gen_aid

    call_command("collectstatic", verbosity=0, interactive=False)  # the pages render with the manifest
    from organizations.models import Organization

    if not gen_aid.present():
        raise SystemExit(f"{url} has no aid rows: run bench/generate.py --members {args.members} (it adds them)")
    root = Organization.objects.filter(depth=1).order_by("path").first()
    district = aid_district(root)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load = os.getloadavg()[0]
    result = {"members": meta["members"], "started_at": started, "loadavg_1m_at_start": round(load, 2)}
    result.update(measure(district, root, runs=args.runs))
    result["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    for key, value in result.items():
        print(f"  {key:40s} {value}")
    out = Path(args.out or ROOT / "bench" / "results" / f"aid-{meta['members']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
