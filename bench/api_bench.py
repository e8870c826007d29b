"""The member list API: CPU per request in-process, and throughput through gunicorn.

    python bench/api_bench.py --members 10000000                 # CPU ms per request, both sides
    python bench/api_bench.py --members 200000 --database-url postgres://…/mycity --profile 30
    python bench/api_bench.py --members 10000000 --http 3 --workers 2 --threads 4   # + 3 HTTP runs

On a shared machine wall-clock throughput says more about the neighbours than about the
code; the CPU a request costs does not. This drives the same walk as the HTTP load test
(bench/http_load.py: a district clerk's token, the first page and four `next` links; every
fifth walk from the middle of the roll) through the full middleware stack, in one thread,
without a server, and reports per request:

- the web side's CPU time (this thread: middleware, token authentication, the scoping
  rule, the query's compilation, the rows, the renderer) — what a gunicorn worker spends;
- the database backend's CPU time (its /proc stat, same machine);
- the wall time, and the number of SQL statements.

With `--profile N` it also prints cProfile's top N functions by own time. The budget:
two cores serving 300 requests/s leave ~6.6 ms of CPU per request for the web worker,
the database and the load generator together.

With `--http N` it then runs the HTTP load test of `make bench` (bench/http_load.py:
gunicorn on loopback with `--workers` x `--threads`, `--concurrency` client threads for
`--seconds`) N times: requests/s, p50/p95 and the workers' CPU per request of each run,
with the 1-minute load average.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import bench_env, bench_keys, finished_city  # noqa: E402

_NEXT = re.compile(rb'"next":("(?:[^"\\]|\\.)*"|null)')


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _environ(path: str, token: str) -> dict:
    parts = urlsplit(path)
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def walk(app, token: str, requests: int, extra_paths: list[str]) -> list[tuple[int, bytes]]:
    """`requests` requests as http_load.drive's threads make them (first page + 4 next links)."""
    out: list[tuple[int, bytes]] = []
    walks = 0
    while len(out) < requests:
        path = extra_paths[walks % len(extra_paths)] if extra_paths and walks % 5 == 4 else "/api/v1/members/"
        walks += 1
        for _ in range(5):
            status: list[str] = []
            chunks = app(_environ(path, token), lambda s, h, exc_info=None, seen=status: seen.append(s))
            body = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
            code = int(status[0].split()[0])
            out.append((code, body))
            if code != 200 or len(out) >= requests:
                break
            # The `next` link from the head of the body: parsing all 30 KB would add the
            # client's work to the figure measured (the load generator's is its own process).
            found = _NEXT.search(body, 0, 1000)
            nxt = json.loads(found.group(1)) if found else None
            if not nxt:
                break
            parts = urlsplit(nxt)
            path = parts.path + ("?" + parts.query if parts.query else "")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS") or 200_000))
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="measure this many times; the median is reported")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N functions (own time)")
    parser.add_argument("--out", default=None, help="also write the figures to this JSON file")
    parser.add_argument("--http", type=int, default=0, help="then this many HTTP load runs through gunicorn")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_HTTP_WORKERS") or 2))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_HTTP_THREADS") or 4))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_HTTP_CONCURRENCY") or 8))
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("BENCH_HTTP_SECONDS") or 15))
    parser.add_argument("--skip-cpu", action="store_true", help="only the HTTP runs")
    args = parser.parse_args(argv)

    url, meta = finished_city(args.members, args.database_url)
    env = bench_env(url, bench_keys())
    # gunicorn serves with the deployment's connection age (settings: 60 s unless set).
    env["DB_CONN_MAX_AGE"] = os.environ.get("DB_CONN_MAX_AGE", "60")
    os.environ.update(env)
    # One database connection for the whole run, so its backend's CPU can be read (a
    # gunicorn worker's would be replaced every DB_CONN_MAX_AGE seconds: a reconnect per
    # minute is noise beside thousands of requests).
    os.environ["DB_CONN_MAX_AGE"] = "3600"
    import django

    django.setup()
    from bench import measures
    from members.models import Member
    from organizations.models import CoverageSummary, OrgKind

    district = (
        CoverageSummary.objects.filter(organization__kind=OrgKind.DISTRICT)
        .select_related("organization")
        .order_by("-members")
        .first()
        .organization
    )
    roll = Member.objects.under(district.path).count()
    middle = list(
        Member.objects.under(district.path).order_by("-id")[roll // 2 : roll // 2 + 1].values_list("id", flat=True)
    )
    extra = [f"/api/v1/members/?cursor={measures.keyset_cursor(middle[0])}"] if middle else []
    out: dict = {"members": meta["members"], "district": district.name, "district_members": roll}
    with private_clerk(district) as token:
        if not args.skip_cpu:
            out.update(measure_cpu(args, token, extra))
        if args.http:
            out["http_runs"] = measure_http(args, env, token, extra)
    print(json.dumps(out, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    return 0


@contextlib.contextmanager
def private_clerk(district):
    """A clerk of `district` of this script's own, with a token; removed again afterwards.

    Not run.py's bench-clerk: run.py gives that account a new password when it starts,
    which revokes its tokens, so a bench started meanwhile on the shared city would turn
    this one's requests into 403s. Made directly (no service, hence no audit event, which
    could not be deleted) and deleted with its role and token at the end.
    """
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from organizations.models import RoleAssignment, User

    user = User.objects.create(username=f"bench-api-{os.getpid()}", display_name="基准测试API", is_active=True)
    try:
        RoleAssignment.objects.create(user=user, organization=district, role="clerk")
        yield Token.objects.create(user=user).key
    finally:
        connection.close()  # the measured connection may be gone by now
        User.objects.filter(pk=user.pk).delete()


def measure_http(args, env: dict, token: str, extra: list[str]) -> list[dict]:
    from django.db import connection

    from bench import http_load

    connection.close()
    runs = []
    with http_load.Gunicorn(
        env, workers=args.workers, threads=args.threads, log_path=ROOT / "var" / "bench" / "gunicorn.log"
    ) as server:
        for _ in range(args.http):
            load0 = os.getloadavg()[0]
            res = http_load.drive(
                server.port,
                token,
                concurrency=args.concurrency,
                duration=args.seconds,
                extra_paths=extra,
                pids=server.worker_pids(),
            )
            res["loadavg_1m"] = round(max(load0, os.getloadavg()[0]), 1)
            res.update(workers=args.workers, threads=args.threads, concurrency=args.concurrency)
            print(json.dumps(res), flush=True)
            runs.append(res)
    return runs


def measure_cpu(args, token: str, extra: list[str]) -> dict:
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    app = get_wsgi_application()

    walk(app, token, 200, extra)  # warm: imports, caches, the connection, PostgreSQL's buffers
    with CaptureQueriesContext(connection) as ctx:
        answers = walk(app, token, 50, extra)
    queries_per_request = len(ctx.captured_queries) / len(answers)
    reset_queries()
    bad = [code for code, _ in answers if code != 200]
    if bad:
        raise SystemExit(f"the list answered {sorted(set(bad))}")

    rounds = []
    for _ in range(args.rounds):
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = cur.fetchone()[0]
        db0, cpu0, wall0 = _proc_cpu_s(backend), time.thread_time(), time.perf_counter()
        answers = walk(app, token, args.requests, extra)
        wall, cpu, db = time.perf_counter() - wall0, time.thread_time() - cpu0, _proc_cpu_s(backend) - db0
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            if cur.fetchone()[0] != backend:
                raise SystemExit("the database connection was replaced during the round")
        n = len(answers)
        rounds.append(
            {
                "web_cpu_ms": round(cpu * 1000 / n, 3),
                "db_cpu_ms": round(db * 1000 / n, 3),
                "wall_ms": round(wall * 1000 / n, 3),
            }
        )
    figures = {k: sorted(r[k] for r in rounds)[len(rounds) // 2] for k in ("web_cpu_ms", "db_cpu_ms", "wall_ms")}
    out = {
        "requests_per_round": args.requests,
        "rounds": rounds,
        "api_web_cpu_ms_per_request": figures["web_cpu_ms"],
        "api_db_cpu_ms_per_request": figures["db_cpu_ms"],
        "api_wall_ms_per_request": figures["wall_ms"],
        "api_sql_per_request": round(queries_per_request, 2),
        "response_bytes": len(answers[0][1]),
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        walk(app, token, args.requests, extra)
        prof.disable()
        stream = io.StringIO()
        stats = pstats.Stats(prof, stream=stream)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)
        print(stream.getvalue())
    return out


if __name__ == "__main__":
    raise SystemExit(main())
