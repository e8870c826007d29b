"""Reads from a streaming replica beside the primary (a step of `make bench`, or alone):

    python -m bench.replica_bench --members 200000

Starts a private primary and a `pg_basebackup` standby on free loopback ports
(bench/pgcluster.py), builds a city on the primary with bench/generate.py (the standby
replays the build as it streams), then measures in a child process whose settings name
the primary (DATABASE_URL) and the standby (DATABASE_REPLICA_URLS), each read twice: on
the primary (core.replicas.on_primary) and as the portal reads it when a replica is
configured (core.replicas.heavy_reads, a fresh context per call like a new request):

- the district clerk's member list: first page and the middle of the roll (keyset pages);
- the member list API view (MemberViewSet.list in-process, first page);
- the city dashboard read (reports.statistics.subtree_figures, this month);
- the city's monthly report as a report run builds it (figures, workbook and PDF).

For each: p50/p95 on each server, and the share of the replica run's queries the replica
served (1.0 = all; a lagging or unreachable standby would show as less). The replica's lag
(bytes not yet replayed, and seconds behind from pg_stat_replication) is sampled around
each measurement. Both servers are stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import bench_env, bench_keys  # noqa: E402
from bench.pgcluster import Servers, Unavailable  # noqa: E402

__all__ = ["Unavailable", "main", "print_table", "run_clusters"]

# Sized for a city of a few hundred thousand members on a shared machine; both servers alike.
SERVER_SETTINGS = {"shared_buffers": "'256MB'", "max_wal_size": "'4GB'", "work_mem": "'16MB'"}


def run_clusters(args) -> dict:
    root = Path(tempfile.mkdtemp(prefix="unionportal-bench-pg-"))
    servers = Servers(root)
    try:
        _, primary_port = servers.primary(**SERVER_SETTINGS)
        _, replica_port = servers.replica_of(primary_port, **SERVER_SETTINGS)
        name = f"unionportal_bench_{args.members}"
        primary_url = f"postgres://postgres@127.0.0.1:{primary_port}/{name}"
        replica_url = f"postgres://postgres@127.0.0.1:{replica_port}/{name}"
        t = time.perf_counter()
        build = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--members", str(args.members)]
            + ["--database-url", primary_url]
        )
        build_lag = _lag_while(build, primary_port)
        if build.returncode != 0:
            raise SystemExit(f"bench/generate.py failed ({build.returncode})")
        built_s = round(time.perf_counter() - t, 1)
        env = {
            **os.environ,
            **bench_env(primary_url, bench_keys()),
            "DATABASE_REPLICA_URLS": replica_url,
            "REPLICA_HEALTH_SECONDS": "1",
        }
        env.pop("REDIS_URL", None)
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [sys.executable, "-m", "bench.replica_bench", "--measure", "--measure-out", tmp.name]
            cmd += ["--members", str(args.members), "--runs", str(args.runs), "--report-runs", str(args.report_runs)]
            subprocess.run(cmd, check=True, env=env, cwd=ROOT)
            out = json.loads(Path(tmp.name).read_text())
        out["replica_build_s"] = built_s
        out["replica_build_lag_bytes_max"], out["replica_build_lag_s_max"] = build_lag
        return out
    finally:
        servers.stop_all()
        shutil.rmtree(root, ignore_errors=True)


def _lag_while(process: subprocess.Popen, primary_port: int) -> tuple[int, float]:
    """The standby's largest lag (bytes not replayed, seconds behind) seen while `process` runs
    (the city's bulk load streams to it), sampled twice a second from the primary."""
    import psycopg2

    worst_bytes, worst_s = 0, 0.0
    conn = psycopg2.connect(host="127.0.0.1", port=primary_port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        while process.poll() is None:
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0),"
                    " COALESCE(EXTRACT(EPOCH FROM replay_lag), 0) FROM pg_stat_replication"
                )
                for lag_bytes, lag_s in cursor.fetchall():
                    worst_bytes, worst_s = max(worst_bytes, int(lag_bytes)), max(worst_s, float(lag_s))
            time.sleep(0.5)
    finally:
        conn.close()
    return worst_bytes, round(worst_s, 2)


# --- the child: Django set up on the primary, the standby as replica1 --------------------------------


def _lsn_caught_up(timeout: float = 600.0) -> float:
    """Wait until the standby has replayed everything the primary has written; seconds waited."""
    from django.db import connections

    t = time.perf_counter()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        target = cursor.fetchone()[0]
    while time.perf_counter() - t < timeout:
        with connections["replica1"].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return round(time.perf_counter() - t, 2)
        time.sleep(0.2)
    raise SystemExit(f"the standby did not catch up within {timeout:.0f} s")


def _lag() -> tuple[int, float]:
    """(bytes the standby has not replayed, seconds behind) as the primary sees it."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0),"
            " COALESCE(EXTRACT(EPOCH FROM replay_lag), 0) FROM pg_stat_replication"
        )
        row = cursor.fetchone()
    return (int(row[0]), float(row[1])) if row else (-1, -1.0)


class Counted:
    """Queries run on each alias while the block runs."""

    def __init__(self, aliases):
        from django.db import connections

        self.counts = dict.fromkeys(aliases, 0)
        self._cms = []
        for alias in aliases:

            def count(execute, sql, params, many, context, alias=alias):
                self.counts[alias] += 1
                return execute(sql, params, many, context)

            self._cms.append(connections[alias].execute_wrapper(count))

    def __enter__(self):
        for cm in self._cms:
            cm.__enter__()
        return self

    def __exit__(self, *exc):
        for cm in reversed(self._cms):
            cm.__exit__(*exc)
        return False


def measure(args) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.test import APIRequestFactory, force_authenticate

    from bench import measures
    from bench.run import _actors
    from core import replicas
    from core.pages import keyset_page
    from members import selectors
    from members.api import MemberViewSet
    from members.models import Member
    from reports import runs
    from reports.periods import month_period
    from reports.statistics import subtree_figures

    call_command("migrate", verbosity=0, interactive=False)
    assert replicas.replica_aliases() == ["replica1"], replicas.replica_aliases()
    admin, city_user, clerk, root, district, street = _actors(secrets.token_urlsafe(16))
    refreshed = measures.ensure_statistics()
    out: dict = {
        "replica_members": Member.objects.count(),
        "replica_district_members": district.coverage.members,
        "replica_statistics_refresh_s": refreshed["statistics_refresh_s"],
        "replica_catch_up_s": _lsn_caught_up(),
    }
    today = timezone.localdate()
    last_month = month_period((today.replace(day=1) - dt.timedelta(days=1)).replace(day=1))
    roll = Member.objects.for_user(clerk).under(district.path).count()
    middle = list(measures._list_qs(clerk)[roll // 2 : roll // 2 + 1].values_list("id", flat=True))
    cursor = middle[0] + 1 if middle else 0
    view = MemberViewSet.as_view({"get": "list"})
    factory = APIRequestFactory()

    def api_first_page():
        request = factory.get("/api/v1/members/", HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
        force_authenticate(request, user=clerk)
        response = view(request)
        response.render()
        assert response.status_code == 200, response.content[:300]

    reads = [
        (
            "list_district_first_page",
            lambda: (
                keyset_page(selectors.members_for_user(clerk), field="id", descending=True, cursor="", size=50).rows
            ),
            args.runs,
        ),
        ("list_district_middle", lambda: list(measures._list_qs(clerk).filter(id__lt=cursor)[:50]), args.runs),
        ("api_list_first_page", api_first_page, args.runs),
        ("dashboard_city", lambda: subtree_figures(user=city_user, organization=root, period=today), args.runs),
        ("report_city", lambda: runs.report_files_build(root, last_month, ensure=False), args.report_runs),
    ]
    lags: list[tuple[int, float]] = [_lag()]
    for name, fn, n in reads:
        # On the primary: every read forced there, as with no replica configured.
        with Counted(["default", "replica1"]) as seen, replicas.on_primary():
            samples = measures.timed(fn, runs=n, warmup=1)
        assert seen.counts["replica1"] == 0, (name, seen.counts)
        out.update(measures.summary(f"replica_{name}_on_primary", samples))
        lags.append(_lag())

        # As the portal reads it with a replica configured: each call a fresh unit of work
        # (no pin from the bench's own writes), the read marked heavy.
        def as_portal(fn=fn):
            replicas.reset()
            with replicas.heavy_reads():
                return fn()

        with Counted(["default", "replica1"]) as seen:
            samples = measures.timed(as_portal, runs=n, warmup=1)
        out.update(measures.summary(f"replica_{name}_on_replica", samples))
        total = sum(seen.counts.values())
        out[f"replica_{name}_replica_share"] = round(seen.counts["replica1"] / total, 2) if total else None
        lags.append(_lag())
    out["replica_lag_bytes_max"] = max(b for b, _s in lags)
    out["replica_lag_s_max"] = round(max(s for _b, s in lags), 3)
    out["replica_why_skipped"] = replicas.health.why("replica1")
    out["replica_loadavg_1m"] = round(os.getloadavg()[0], 1)
    return out


def print_table(res: dict) -> None:
    print(f"== reads on the primary and on the replica ({res.get('replica_members', 0):,} members)")
    for name in ("list_district_first_page", "list_district_middle", "api_list_first_page", "dashboard_city"):
        p, r = f"replica_{name}_on_primary", f"replica_{name}_on_replica"
        print(
            f"  {name:28s} primary p50 {res.get(p + '_p50_ms')} p95 {res.get(p + '_p95_ms')} ms;"
            f" replica p50 {res.get(r + '_p50_ms')} p95 {res.get(r + '_p95_ms')} ms;"
            f" replica share {res.get(f'replica_{name}_replica_share')}"
        )
    p, r = "replica_report_city_on_primary", "replica_report_city_on_replica"
    print(
        f"  {'report_city (ms)':28s} primary p50 {res.get(p + '_p50_ms')} p95 {res.get(p + '_p95_ms')};"
        f" replica p50 {res.get(r + '_p50_ms')} p95 {res.get(r + '_p95_ms')};"
        f" replica share {res.get('replica_report_city_replica_share')}"
    )
    print(f"  lag seen while reading: max {res.get('replica_lag_bytes_max')} bytes, {res.get('replica_lag_s_max')} s")
    print(
        f"  lag seen while the city was built ({res.get('replica_build_s')} s): max"
        f" {res.get('replica_build_lag_bytes_max')} bytes, {res.get('replica_build_lag_s_max')} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    members = os.environ.get("BENCH_REPLICA_MEMBERS") or os.environ.get("BENCH_MEMBERS") or 200_000
    parser.add_argument("--members", type=int, default=int(members))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--report-runs", type=int, default=3)
    parser.add_argument("--out", default=None, help="write the figures here (JSON)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--measure-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        Path(args.measure_out).write_text(json.dumps(measure(args), ensure_ascii=False, indent=2))
        return 0
    res = run_clusters(args)
    print_table(res)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
