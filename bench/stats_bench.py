"""Statistics dashboard benchmark on an existing bench city (the same measures bench/run.py takes).

    python bench/stats_bench.py --members 10000000            # unionportal_bench_10000000
    python bench/stats_bench.py --database-url postgres://…/db --refresh

Not a test. Serves the database as bench/run.py does (DEBUG off, the generator's keys),
applies migrations, builds the statistics summary rows if they are missing or older than
six hours (or always with --refresh) and times: the statistics read behind the dashboard
(reports.statistics.subtree_figures: the organisation, its children, the previous period
and the 12-month trend) and the dashboard page rendered in-process, for the city (as the
city federation admin), the biggest district (its clerk), its biggest street and that
street's biggest grassroots union (all from summary rows), with the page's CPU time per
request; and one change's recount by the dirty-mark task (the union and its ancestors).
Writes bench/results/stats-<members>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import bench_env, bench_keys, database_url_for  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS") or 200_000))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--refresh", action="store_true", help="rebuild the summary rows even if fresh")
    args = parser.parse_args(argv)
    url = database_url_for(args.members, args.database_url)
    os.environ.update(bench_env(url, bench_keys()))
    import django

    django.setup()
    import secrets

    from django.core.management import call_command

    from bench import measures
    from bench.run import _actors

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    from organizations.models import CoverageSummary, OrgKind

    _admin, city_user, clerk, root, district, street = _actors(secrets.token_urlsafe(16))
    union = (
        CoverageSummary.objects.filter(
            organization__kind=OrgKind.GRASSROOTS, organization__path__startswith=street.path
        )
        .select_related("organization")
        .order_by("-members")
        .first()
        .organization
    )
    out: dict = {
        "database": url.rsplit("/", 1)[-1],
        "district": district.name,
        "street": street.name,
        "grassroots": union.name,
    }
    steps = [
        ("statistics summary", lambda: measures.ensure_statistics(max_age_s=0 if args.refresh else 6 * 3600)),
        ("city", lambda: measures.measure_statistics(city_user, root, "city", runs=args.runs)),
        ("district", lambda: measures.measure_statistics(clerk, district, "district", runs=args.runs)),
        ("street", lambda: measures.measure_statistics(clerk, street, "street", runs=args.runs)),
        ("grassroots", lambda: measures.measure_statistics(clerk, union, "grassroots", runs=args.runs)),
        ("follow", lambda: measures.measure_follow(union)),
    ]
    for name, fn in steps:
        load = os.getloadavg()[0]
        t = time.perf_counter()
        res = fn()
        res[f"loadavg_{name.replace(' ', '_')}"] = round(max(load, os.getloadavg()[0]), 1)
        out.update(res)
        print(f"[{name}] {time.perf_counter() - t:.1f} s")
        for k, v in res.items():
            print(f"    {k:36s} {v}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"stats-{args.members}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
