"""Benchmarks of the portal at city scale: `make bench` (or python bench/run.py).

    make bench                                  # BENCH_MEMBERS members (default 200,000)
    make bench BENCH_SCALES=100000,1000000      # the same set at several scales, to show growth
    python bench/run.py --members 1000000 --explain   # also write bench/notes/explain-1000000.md

For each scale: build the synthetic city if it is missing (bench/generate.py, database
unionportal_bench_<members> on $BENCH_DATABASE_URL's server, default the local
PostgreSQL), then measure in a fresh process against it, with the generator's keys:

- member lookup by ID number and by mobile (blind index), through members.selectors;
- a district clerk's member list: first page, page 200 and the middle of the roll,
  keyset (cursor) and OFFSET side by side; and the list API view in-process;
- name search within the district (name prefix, surname only, pinyin initials, one
  initial, the next page), narrowed to a street, and the initials city-wide;
- dashboards of the city and of the district: CoverageSummary vs live COUNT(*);
- roster import of BENCH_IMPORT_ROWS rows (100,000): the portal's importer vs
  django-import-export on the same file (bench/import_bench.py's runners);
- mediation (bench/disputes_bench.py): "my cases", a body queue, the district overview
  and the risk scores of every enterprise, over the cases bench/gen_disputes.py adds;
- the city's monthly report (reports.services.monthly_report_build);
- the statistics dashboard (reports.statistics.subtree_figures and the page in-process) of the
  city, the district and a street, after building the summary rows if they are missing;
- hardship aid (bench/aid_bench.py): the district file list, the approval queue and the
  budget page as the district's aid officer, and a 送温暖 campaign over the city's files;
- HTTP: gunicorn on loopback (DEBUG off) serving the member list API to a bounded
  load generator for BENCH_HTTP_SECONDS (15) at BENCH_HTTP_CONCURRENCY (8): requests/s,
  p50/p95 and the workers' peak RSS.
- service projects (bench/projects_bench.py, rows from bench/gen_projects.py): the demand
  board and the library p95, and API sign-ups while 50 clients sign up for one session.
- reads from a replica (bench/replica_bench.py, once, after the scales): a private primary
  and a pg_basebackup standby on loopback, a city of BENCH_REPLICA_MEMBERS (default
  BENCH_MEMBERS) built there, the district list, the member list API view, the city
  dashboard read and the monthly report on each server (p50/p95, lag seen); --no-replica
  skips it, and so does --only unless it names "replica".

Results go to bench/results/latest.json: {"machine", "scale", "results" (name -> value at
the largest scale), "scales" (every scale), "growth", "targets"}. Figures come from a
machine that may be shared: medians (p50) are the robust ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.disputes_bench import TARGETS as DISPUTES_TARGETS  # noqa: E402
from bench.generate import bench_env, bench_keys, database_url_for, finished_city, server_connection  # noqa: E402

RESULTS = ROOT / "bench" / "results"
NOTES = ROOT / "bench" / "notes"
BENCH_USERS = {"admin": "bench-admin", "city": "bench-city", "clerk": "bench-clerk"}

# (result name, comparison, target, what it is) — checked at the largest scale.
TARGETS = [
    ("lookup_id_p95_ms", "<", 10, "lookup by ID number p95"),
    ("lookup_mobile_p95_ms", "<", 10, "lookup by mobile p95"),
    ("list_first_page_p95_ms", "<", 50, "member list first page p95"),
    ("list_page200_keyset_p95_ms", "<", 50, "member list page 200 (keyset) p95"),
    ("list_middle_keyset_p95_ms", "<", 50, "member list middle of the roll (keyset) p95"),
    ("list_street_first_page_p95_ms", "<", 50, "member list narrowed to a street p95"),
    ("search_name_p95_ms", "<", 50, "name search in a district p95"),
    ("search_initials_p95_ms", "<", 100, "pinyin initials search in a district p95"),
    ("dashboard_city_summary_p95_ms", "<", 200, "city dashboard p95"),
    ("dashboard_district_summary_p95_ms", "<", 200, "district dashboard p95"),
    ("stats_city_page_p95_ms", "<", 200, "city statistics dashboard page p95"),
    ("stats_street_page_p95_ms", "<", 200, "street statistics dashboard page p95 (summary rows)"),
    ("report_city_s", "<", 60, "city monthly report (s)"),
    ("import_portal_rows_per_s", ">=", 20000, "roster import rows/s"),
    ("import_portal_over_die", ">=", 10, "import vs django-import-export"),
    ("http_rps", ">=", 300, "member list API requests/s"),
    ("http_p95_ms", "<", 50, "member list API over HTTP p95"),
    ("http_worker_peak_rss_mb", "<", 300, "web worker peak RSS (MB)"),
    ("aid_file_list_query_p95_ms", "<", 50, "aid: district file list p95"),
    ("aid_approval_queue_query_p95_ms", "<", 50, "aid: approval queue p95"),
    ("aid_budget_page_query_p95_ms", "<", 50, "aid: budget page (figures = ledger) p95"),
    ("aid_campaign_city_s", "<", 60, "aid: 送温暖 over the city's active files (s)"),
    ("projects_board_p95_ms", "<", 50, "projects: demand board p95"),
    ("projects_library_p95_ms", "<", 50, "projects: library p95"),
    ("projects_signup_p95_ms", "<", 50, "projects: API sign-up p95, 50 clients, one session"),
]
TARGETS += DISPUTES_TARGETS
GROWTH_KEYS = [
    "lookup_id_p95_ms",
    "list_first_page_p95_ms",
    "list_middle_keyset_p95_ms",
    "list_middle_offset_p95_ms",
    "search_name_p95_ms",
    "search_initials_p95_ms",
    "dashboard_city_summary_p95_ms",
    "dashboard_city_live_p95_ms",
    "report_city_s",
    "import_portal_s",
    "http_rps",
]


# --- machine --------------------------------------------------------------------------------------


def machine_info(url: str) -> dict:
    info: dict = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    conn = server_connection(url)
    with conn.cursor() as cur:
        cur.execute("SELECT version()")
        info["postgresql"] = cur.fetchone()[0].split(" on ")[0]
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather"):
            cur.execute(f"SHOW {name}")
            info[f"pg_{name}"] = cur.fetchone()[0]
    conn.close()
    return info


# --- measuring one scale (in its own process) -------------------------------------------------------


def _actors(password: str):
    """The bench's users: a superuser, a city federation admin and a clerk of the biggest district."""
    from core.scoping import forget_reach
    from organizations import services
    from organizations.models import CoverageSummary, Organization, OrgKind, User

    admin, _ = User.objects.get_or_create(
        username=BENCH_USERS["admin"], defaults={"is_superuser": True, "display_name": "基准测试管理员"}
    )
    root = Organization.objects.filter(depth=1, kind=OrgKind.CITY).order_by("pk").first()
    district_cov = (
        CoverageSummary.objects.filter(organization__kind=OrgKind.DISTRICT)
        .select_related("organization")
        .order_by("-members")
        .first()
    )
    district = district_cov.organization
    street = (
        CoverageSummary.objects.filter(organization__kind=OrgKind.STREET, organization__path__startswith=district.path)
        .select_related("organization")
        .order_by("-members")
        .first()
        .organization
    )
    users = {}
    for key, org, role in (("city", root, "federation_admin"), ("clerk", district, "clerk")):
        user, _ = User.objects.get_or_create(username=BENCH_USERS[key], defaults={"display_name": f"基准测试{key}"})
        user.set_password(password)
        user.save(update_fields=["password"])
        services.role_assign(actor=admin, user=user, organization=org, role=role)
        forget_reach(user)
        users[key] = user
    return admin, users["city"], users["clerk"], root, district, street


def cpu_busy(seconds: float = 3.0) -> float:
    """Share of all CPUs busy over the next `seconds` (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_for_quiet(timeout: float, threshold: float) -> tuple[float, float]:
    """On a shared machine, wait (up to `timeout` s) until other work leaves the CPUs mostly idle."""
    started = time.monotonic()
    busy = cpu_busy()
    while busy > threshold and time.monotonic() - started < timeout:
        busy = cpu_busy()
    return time.monotonic() - started, busy


def _previous_month(as_of: str) -> str:
    import datetime as dt

    day = dt.date.fromisoformat(as_of).replace(day=1) - dt.timedelta(days=1)
    return f"{day:%Y-%m}"


def measure_scale(args) -> dict:
    """Run every benchmark against the bench database of `args.members` (Django set up here)."""
    url, meta = finished_city(args.members, args.database_url)
    keys = bench_keys()
    env = bench_env(url, keys)
    os.environ.update(env)
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import disputes_bench, measures
    from members.models import Member

    log = print
    # The code may have moved on since the city was built: bring the schema up to date (new
    # tables, indexes) and collect static files, as a deployment would, before measuring.
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    present = Member.objects.count()
    if present < meta["members"]:
        raise SystemExit(f"{url} holds {present:,} members, not {meta['members']:,}: rebuild it with --force")
    password = secrets.token_urlsafe(16)
    admin, city_user, clerk, root, district, street = _actors(password)
    out: dict = {
        "members": meta["members"],
        "organizations": meta["organizations"],
        "enterprises": meta["enterprises"],
        "database_gb": round(meta["database_bytes"] / 1e9, 2),
        "generate_s": meta["seconds"],
        "generate_members_per_s": meta["members_per_s"],
        "district": district.name,
        "district_members": district.coverage.members,
    }

    loads: list[float] = []

    only = {x.strip() for x in args.only.split(",") if x.strip()}

    def step(name: str, fn, heavy: bool = False):
        if only and name not in only:
            return
        # The 1-minute load average around each step: figures from a busy machine say so.
        if args.wait_quiet:
            waited, busy = wait_for_quiet(args.wait_quiet, args.quiet_busy)
            out["quiet_wait_s"] = round(out.get("quiet_wait_s", 0) + waited, 1)
            if busy > args.quiet_busy:
                out.setdefault("steps_not_quiet", []).append(name)
        loads.append(os.getloadavg()[0])
        t = time.perf_counter()
        if heavy:
            # Read as the portal reads it: from a replica when DATABASE_REPLICA_URLS names one
            # (core.replicas), starting unpinned by the bench's own earlier writes.
            from core.replicas import heavy_reads, reset

            reset()
            with heavy_reads():
                res = fn()
        else:
            res = fn()
        loads.append(os.getloadavg()[0])
        res["loadavg_" + "_".join(name.replace("(", " ").replace(")", " ").split())] = round(max(loads[-2:]), 1)
        out.update(res)
        log(f"  [{name}] {time.perf_counter() - t:.1f} s")
        for k, v in res.items():
            log(f"      {k:40s} {v}")

    if args.explain or args.explain_only:
        sample = measures.sample_members(district, 1, seed=3)[0]
        text = measures.explain_markdown(
            clerk,
            district,
            street,
            sample,
            title=f"Hot queries at {meta['members']:,} members (EXPLAIN ANALYZE)",
            root=root,
            root_user=city_user,
        )
        NOTES.mkdir(parents=True, exist_ok=True)
        (NOTES / f"explain-{meta['members']}.md").write_text(text + "\n", encoding="utf-8")
        log(f"  [explain] written bench/notes/explain-{meta['members']}.md")
    if args.explain_only:
        return out
    step("lookups", lambda: measures.measure_lookups(clerk, district, n=args.lookups))
    step("member list", lambda: measures.measure_member_list(clerk, district, street=street), heavy=True)
    step("member list API (in-process)", lambda: measures.measure_member_api(clerk, district))
    step(
        "name search",
        lambda: measures.measure_name_search(clerk, district, street=street, city_user=city_user),
        heavy=True,
    )
    step("dashboard city", lambda: measures.measure_dashboards(city_user, root, "city"), heavy=True)
    step("dashboard district", lambda: measures.measure_dashboards(clerk, district, "district"), heavy=True)
    step("statistics summary", lambda: measures.ensure_statistics())
    step("statistics dashboard city", lambda: measures.measure_statistics(city_user, root, "city"), heavy=True)
    step("statistics dashboard district", lambda: measures.measure_statistics(clerk, district, "district"), heavy=True)
    step("statistics dashboard street", lambda: measures.measure_statistics(clerk, street, "street"), heavy=True)
    step("disputes", lambda: disputes_bench.measure(today=dt.date.fromisoformat(meta["as_of"])))
    step(
        "monthly report",
        lambda: measures.measure_monthly_report(city_user, root, _previous_month(meta["as_of"]), runs=args.report_runs),
        heavy=True,
    )
    from bench import aid_bench, gen_aid

    if gen_aid.present():
        step("hardship aid", lambda: aid_bench.measure(aid_bench.aid_district(root), root))
    # HTTP before the import: the import's writes and deletes leave autovacuum work that
    # would share the CPUs with the load test.
    if not args.no_http:
        connection.close()
        step("http", lambda: measure_http(env, clerk.username, password, district, args))
    if not args.no_http:
        from bench import projects_bench

        connection.close()
        step("projects", lambda: projects_bench.measure(env, {"city": city_user, "district": clerk}, args))
    if args.import_rows:
        with tempfile.TemporaryDirectory() as tmp:
            step(
                "import",
                lambda: measures.measure_import(
                    admin,
                    street,
                    rows=args.import_rows,
                    city_members=meta["members"],
                    with_die=not args.no_die,
                    portal_runs=args.import_runs,
                    tmpdir=tmp,
                ),
            )
    out["member_rows"] = Member.objects.count()
    out["loadavg_1m_median"] = round(sorted(loads)[len(loads) // 2], 1)
    out["loadavg_1m_max"] = round(max(loads), 1)
    return out


def measure_http(env: dict, username: str, password: str, district, args) -> dict:
    from bench import http_load, measures
    from members.models import Member

    roll = Member.objects.under(district.path).count()
    middle = list(
        Member.objects.under(district.path).order_by("-id")[roll // 2 : roll // 2 + 1].values_list("id", flat=True)
    )
    extra = [f"/api/v1/members/?cursor={measures.keyset_cursor(middle[0])}"] if middle else []
    with http_load.Gunicorn(
        env, workers=args.http_workers, threads=args.http_threads, log_path=ROOT / "var" / "bench" / "gunicorn.log"
    ) as server:
        token = http_load.obtain_token(server.port, username, password)
        res = http_load.drive(
            server.port,
            token,
            concurrency=args.http_concurrency,
            duration=args.http_seconds,
            extra_paths=extra,
            pids=server.worker_pids(),
        )
        rss = [r for r in (http_load.peak_rss_mb(p) for p in server.worker_pids()) if r is not None]
    res["http_workers"] = args.http_workers
    res["http_threads"] = args.http_threads
    res["http_concurrency"] = args.http_concurrency
    res["http_worker_peak_rss_mb"] = round(max(rss), 1) if rss else None
    return res


# --- orchestration ----------------------------------------------------------------------------------


def _check_targets(results: dict) -> dict:
    out = {}
    for name, op, target, label in TARGETS:
        value = results.get(name)
        met = None if value is None else (value < target if op == "<" else value >= target)
        out[name] = {"label": label, "target": f"{op} {target}", "value": value, "met": met}
    return out


def _growth(scales: dict) -> dict:
    if len(scales) < 2:
        return {}
    keys = sorted(scales, key=int)
    small, big = scales[keys[0]], scales[keys[-1]]
    out = {"from": int(keys[0]), "to": int(keys[-1]), "members_ratio": round(int(keys[-1]) / int(keys[0]), 1)}
    for k in GROWTH_KEYS:
        if small.get(k) and big.get(k) is not None:
            out[k] = {"from": small[k], "to": big[k], "ratio": round(big[k] / small[k], 2)}
    return out


def _child_args(args) -> list[str]:
    out = [
        f"--seed={args.seed}",
        f"--lookups={args.lookups}",
        f"--report-runs={args.report_runs}",
        f"--import-rows={args.import_rows}",
        f"--import-runs={args.import_runs}",
        f"--only={args.only}",
        f"--http-seconds={args.http_seconds}",
        f"--http-concurrency={args.http_concurrency}",
        f"--http-workers={args.http_workers}",
        f"--http-threads={args.http_threads}",
        f"--wait-quiet={args.wait_quiet}",
        f"--quiet-busy={args.quiet_busy}",
        f"--signup-clients={args.signup_clients}",
        f"--signup-rounds={args.signup_rounds}",
    ]
    flags = (
        ("--no-die", args.no_die),
        ("--no-http", args.no_http),
        ("--explain", args.explain),
        ("--explain-only", args.explain_only),
    )
    out += [flag for flag, on in flags if on]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS") or 200_000))
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", ""), help="e.g. 100000,1000000")
    parser.add_argument("--database-url", default=None, help="server (or database, with one scale)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--report-runs", type=int, default=3)
    parser.add_argument("--import-rows", type=int, default=int(os.environ.get("BENCH_IMPORT_ROWS") or 100_000))
    parser.add_argument(
        "--import-runs", type=int, default=int(os.environ.get("BENCH_IMPORT_RUNS") or 3), help="portal import runs"
    )
    parser.add_argument("--no-die", action="store_true", help="skip the django-import-export comparison")
    parser.add_argument(
        "--only",
        default=os.environ.get("BENCH_ONLY", ""),
        help="run only these steps (comma-separated step names, e.g. import)",
    )
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-replica", action="store_true", help="skip the reads-from-a-replica step")
    parser.add_argument(
        "--replica-members",
        type=int,
        default=int(os.environ.get("BENCH_REPLICA_MEMBERS") or 0),
        help="the replica step's private city (default: --members)",
    )
    parser.add_argument("--http-seconds", type=float, default=float(os.environ.get("BENCH_HTTP_SECONDS") or 15))
    parser.add_argument("--http-concurrency", type=int, default=int(os.environ.get("BENCH_HTTP_CONCURRENCY") or 8))
    # As deploy/systemd/unionportal-web.service on 2 cores: a worker per core, 4 threads each.
    parser.add_argument("--http-workers", type=int, default=int(os.environ.get("BENCH_HTTP_WORKERS") or 2))
    parser.add_argument("--http-threads", type=int, default=int(os.environ.get("BENCH_HTTP_THREADS") or 4))
    parser.add_argument("--signup-clients", type=int, default=50, help="projects: clients signing up at once")
    parser.add_argument("--signup-rounds", type=int, default=5, help="projects: bursts (a fresh session each)")
    parser.add_argument("--explain", action="store_true", help="write bench/notes/explain-<members>.md")
    parser.add_argument("--explain-only", action="store_true", help="only write the EXPLAIN notes (no results file)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=float(os.environ.get("BENCH_WAIT_QUIET") or 0),
        help="shared machine: before each step wait up to this many seconds for the CPUs to be mostly idle",
    )
    parser.add_argument("--quiet-busy", type=float, default=0.25, help="'mostly idle': at most this share busy")
    parser.add_argument("--out", default=str(RESULTS / "latest.json"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # child mode: one scale
    parser.add_argument("--measure-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        result = measure_scale(args)
        Path(args.measure_out).write_text(json.dumps(result, ensure_ascii=False, indent=2))
        return 0

    scales = [int(s) for s in args.scales.replace(" ", "").split(",") if s] or [args.members]
    names_database = bool(urlparse(args.database_url or "").path.strip("/"))
    if names_database and len(scales) > 1:
        raise SystemExit(
            "--database-url names one database: with several scales give the server (postgres://user@host:port)"
        )
    first_url = database_url_for(scales[0], args.database_url)
    report: dict = {"machine": machine_info(first_url), "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    report["machine"]["note"] = "shared machine (other test suites may run at the same time): prefer the p50 figures"
    per_scale: dict[str, dict] = {}
    for scale in scales:
        url = database_url_for(scale, args.database_url)
        print(f"== {scale:,} members: {url}")
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--members", str(scale), "--seed", str(args.seed)]
            + (["--database-url", url]),
            check=True,
        )
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", "--measure-out", tmp.name]
            cmd += ["--members", str(scale), "--database-url", url, *_child_args(args)]
            subprocess.run(cmd, check=True)
            per_scale[str(scale)] = json.loads(Path(tmp.name).read_text())
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / f"scale-{scale}.json").write_text(json.dumps(per_scale[str(scale)], ensure_ascii=False, indent=2))
    if args.explain_only:
        return 0
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    if not args.no_replica and (not only or "replica" in only):
        from bench import replica_bench

        replica_members = args.replica_members or args.members
        print(f"== reads from a replica: a private primary and standby, {replica_members:,} members")
        try:
            report["replica"] = replica_bench.run_clusters(
                argparse.Namespace(members=replica_members, runs=30, report_runs=args.report_runs)
            )
            replica_bench.print_table(report["replica"])
        except replica_bench.Unavailable as exc:  # no PostgreSQL server binaries here: say so
            report["replica"] = {"skipped": str(exc)}
            print(f"  skipped: {exc}")
    largest = str(max(scales))
    report["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    report["scale"] = max(scales)
    report["results"] = per_scale[largest]
    report["scales"] = per_scale
    report["growth"] = _growth(per_scale)
    report["targets"] = _check_targets(per_scale[largest])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print()
    print(f"== targets at {max(scales):,} members")
    for t in report["targets"].values():
        mark = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        print(f"  {t['label']:45s} {t['value']!s:>12} (target {t['target']}): {mark}")
    if report["growth"]:
        g = report["growth"]
        print(f"== growth {g['from']:,} -> {g['to']:,} members (x{g['members_ratio']})")
        for k, v in g.items():
            if isinstance(v, dict):
                print(f"  {k:40s} {v['from']!s:>10} -> {v['to']!s:>10}  x{v['ratio']}")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
