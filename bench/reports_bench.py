"""The monthly reports for every federation: `python -m bench.reports_bench --members 10000000`.

What the schedule does on the 1st of a month (reports.runs.reports_schedule, then one
report_run_build task per federation): for the city, every district and every street or
town, gather the figures of the previous month (and the month before, for comparison) and
write the xlsx workbook and the PDF summary (reports.runs.report_files_build, the same
function the task calls). The run rows and the files' storage (one row update and two
small files per report) are left out, so the benchmark writes nothing into the shared
database.

`--processes 2` runs two builders side by side, as a Celery worker with concurrency 2 on
the 2-core machine would; the biggest subtrees go first so the two stay busy to the end.
Prints and writes (bench/results/reports-<members>.json) the wall time, the slowest
reports and the sizes. Target: under 15 minutes at 10M members.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import bench_env, bench_keys, database_url_for  # noqa: E402

TARGET_S = 15 * 60


def _setup(url: str) -> None:
    os.environ.update(bench_env(url, bench_keys()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    import django

    django.setup()


def _federations() -> list[tuple[int, str, str, int]]:
    """(pk, kind, name, members now) of every federation, biggest first."""
    from organizations.models import CoverageSummary
    from reports.runs import federations

    sizes = dict(CoverageSummary.objects.values_list("organization_id", "members"))
    return sorted(
        ((o.pk, o.kind, o.name, sizes.get(o.pk, 0)) for o in federations()),
        key=lambda r: (-r[3], r[0]),
    )


def _build(args) -> tuple[int, str, float, int, int]:
    pk, period_code = args
    from organizations.models import Organization
    from reports.periods import parse_period
    from reports.runs import report_files_build

    org = Organization.objects.get(pk=pk)
    period = parse_period("monthly", period_code, today=dt.date.today())
    started = time.perf_counter()
    # The summary refresh before the runs (once, by the monthly task) is stats' own measure:
    # its last duration is read from StatisticsRefresh below, not run again here.
    _data, xlsx, pdf = report_files_build(org, period, ensure=False)
    return pk, org.kind, time.perf_counter() - started, len(xlsx), len(pdf)


def _worker_init(url: str) -> None:
    _setup(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200_000, help="which bench city (unionportal_bench_<members>)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--period", default=None, help="YYYY-MM (default: last month)")
    parser.add_argument("--limit", type=int, default=0, help="only the N biggest federations (a quick look)")
    parser.add_argument("--kind", default="", help="only federations of this kind (city, district, street)")
    args = parser.parse_args()
    url = database_url_for(args.members, args.database_url)
    _setup(url)
    from django.db import connections

    period = args.period or f"{dt.date.today().replace(day=1) - dt.timedelta(days=1):%Y-%m}"
    orgs = _federations()
    if args.kind:
        orgs = [o for o in orgs if o[1] == args.kind]
    if args.limit:
        orgs = orgs[: args.limit]
    connections.close_all()
    print(f"{len(orgs)} federations, period {period}, {args.processes} process(es)", flush=True)
    started = time.perf_counter()
    results = []
    work = [(pk, period) for pk, _kind, _name, _m in orgs]
    if args.processes > 1:
        ctx = mp.get_context("fork")
        with ctx.Pool(args.processes, initializer=_worker_init, initargs=(url,)) as pool:
            for i, r in enumerate(pool.imap_unordered(_build, work), 1):
                results.append(r)
                if i % 50 == 0 or r[2] > 10:
                    print(f"  {i}/{len(work)} done, {time.perf_counter() - started:.0f} s", flush=True)
    else:
        for r in map(_build, work):
            results.append(r)
    wall = time.perf_counter() - started
    by_kind: dict[str, list[float]] = {}
    for _pk, kind, seconds, _x, _p in results:
        by_kind.setdefault(kind, []).append(seconds)
    names = {pk: name for pk, _k, name, _m in orgs}
    slowest = sorted(results, key=lambda r: -r[2])[:5]
    from reports.models import StatisticsRefresh
    from reports.periods import month_period
    from reports.runs import summaries_cover

    last_refresh = StatisticsRefresh.objects.filter(pk=1).first()
    first_day = dt.date.fromisoformat(period + "-01")
    out = {
        "members": args.members,
        "summary_covers_period": summaries_cover(month_period(first_day)),
        "summary_refresh_s": round(last_refresh.seconds, 1) if last_refresh else None,
        "period": period,
        "processes": args.processes,
        "federations": len(results),
        "wall_s": round(wall, 1),
        "target_s": TARGET_S,
        "met": wall < TARGET_S,
        "by_kind": {k: {"n": len(v), "sum_s": round(sum(v), 1), "max_s": round(max(v), 2)} for k, v in by_kind.items()},
        "slowest": [{"name": names[r[0]], "kind": r[1], "s": round(r[2], 2)} for r in slowest],
        "xlsx_bytes_max": max(r[3] for r in results),
        "pdf_bytes_max": max(r[4] for r in results),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"reports-{args.members}.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
