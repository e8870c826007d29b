"""Service-projects measures on the synthetic city (bench/run.py runs them; so can you, alone).

    python bench/projects_bench.py --members 1000000     # against unionportal_bench_1000000

The rows come from bench/gen_projects.py (bench/generate.py adds them to every city). Measures:

- the demand board (first page of 30, most seconded first) for the city federation and for
  a district clerk, p50/p95 over repeated runs (projects.selectors.demands_for_user);
- the library (published projects of this year in one category, first page), same users
  (projects.selectors.library_for_user);
- sign-ups through the HTTP API under contention: gunicorn on loopback (DEBUG off, the
  bench database's environment, bench/http_load.Gunicorn), 50 clients (threads, each its
  own keep-alive connection and token, a worker of the city's roll) released at once by a
  barrier, each POSTing /api/v1/me/enrolments/ for the same 10-place session; several
  rounds, a fresh session each. Per-request latency p50/p95/max as the clients see it, the
  outcome checked (exactly 10 enrolled, the rest waiting at positions 1..n, every answer a
  201), and the same sign-up by one client at a time for comparison (no contention: what a
  request costs on this machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_WORKER = "bench-worker-"


def _p(samples: list[float], q: float) -> float | None:
    s = sorted(samples)
    return round(s[min(len(s) - 1, int(len(s) * q))] * 1000, 2) if s else None


def measure_reads(users: dict, *, runs: int = 60) -> dict:
    """Board and library first pages for each named user: {"projects_board_<name>_p95_ms": …}."""
    from django.utils import timezone

    from projects import selectors

    year = timezone.localdate().year
    out = {}
    for name, user in users.items():
        board, library = [], []
        for i in range(runs + 3):
            t = time.perf_counter()
            list(selectors.demands_for_user(user)[:30])
            b = time.perf_counter() - t
            t = time.perf_counter()
            list(selectors.library_for_user(user, year=year, category=("skills", "culture", "health")[i % 3])[:30])
            lib = time.perf_counter() - t
            if i >= 3:  # the first runs warm the caches (reach, plans)
                board.append(b)
                library.append(lib)
        out[f"projects_board_{name}_p50_ms"] = _p(board, 0.5)
        out[f"projects_board_{name}_p95_ms"] = _p(board, 0.95)
        out[f"projects_library_{name}_p50_ms"] = _p(library, 0.5)
        out[f"projects_library_{name}_p95_ms"] = _p(library, 0.95)
    for key in ("board", "library"):
        values = [v for k, v in out.items() if k.startswith(f"projects_{key}_") and k.endswith("_p95_ms")]
        out[f"projects_{key}_p95_ms"] = max(values) if values else None
    return out


def _workers(n: int) -> list[tuple[int, str]]:
    """`n` worker accounts bound to active members of the roll (made once), with their API tokens."""
    from rest_framework.authtoken.models import Token

    from members.models import Member, Membership
    from organizations.models import User

    taken = list(
        Member.objects.filter(user__username__startswith=BENCH_WORKER).order_by("id").values_list("id", "user_id")[:n]
    )
    if len(taken) < n:
        spare = (
            Member.objects.filter(user__isnull=True, current_membership__status=Membership.Status.ACTIVE)
            .order_by("id")
            .values_list("id", flat=True)[: n - len(taken)]
        )
        for member_id in spare:
            user = User.objects.create(username=f"{BENCH_WORKER}{member_id}", kind=User.Kind.WORKER)
            Member.objects.filter(pk=member_id).update(user=user)
            taken.append((member_id, user.pk))
    return [(member_id, Token.objects.get_or_create(user_id=user_id)[0].key) for member_id, user_id in taken]


def _fresh_session(capacity: int, label: str):
    """A new session of a city-designed project under way (open to every member of the city)."""
    from django.utils import timezone

    from organizations.models import OrgKind
    from projects.models import Project, Session

    project = (
        Project.objects.filter(
            stage=Project.Stage.IMPLEMENTING,
            union__kind=OrgKind.CITY,
            end_date__gt=timezone.localdate() + dt.timedelta(days=5),
        )
        .order_by("id")
        .first()
    )
    if project is None:
        raise SystemExit("no project under way designed by the city: run bench/gen_projects.py")
    implementer = project.implementers.select_related("union").first()
    return Session.objects.create(
        project=project,
        union=implementer.union,
        org_path=implementer.org_path,
        title=f"并发报名测试{label}",
        starts_at=timezone.now() + dt.timedelta(days=3),
        place="职工服务中心",
        capacity=capacity,
    )


def _post(conn, token: str, session_id: int) -> tuple[float, int, dict]:
    body = json.dumps({"session": session_id})
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json", "Accept": "application/json"}
    t = time.perf_counter()
    conn.request("POST", "/api/v1/me/enrolments/", body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    elapsed = time.perf_counter() - t
    try:
        payload = json.loads(data)
    except ValueError:
        payload = {}
    return elapsed, resp.status, payload


def _warm(port: int, tokens: list[str]) -> list[http.client.HTTPConnection]:
    conns = []
    for token in tokens:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/api/v1/me/enrolments/", headers={"Authorization": f"Token {token}"})
        conn.getresponse().read()
        conns.append(conn)
    return conns


def signup_round(port: int, conns, tokens: list[str], session_ids) -> tuple[list[float], list[int]]:
    """Every client POSTs a sign-up at the same moment (all for one session, or one each)."""
    barrier = threading.Barrier(len(tokens))
    times: list[float] = [0.0] * len(tokens)
    codes: list[int] = [0] * len(tokens)
    if isinstance(session_ids, int):
        session_ids = [session_ids] * len(tokens)

    def run(i: int) -> None:
        barrier.wait()
        try:
            times[i], codes[i], _payload = _post(conns[i], tokens[i], session_ids[i])
        except (OSError, http.client.HTTPException):
            codes[i] = 599

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, codes


def measure_signups(
    env: dict, *, clients: int = 50, capacity: int = 10, rounds: int = 5, workers: int = 3, threads: int = 2
) -> dict:
    from bench import http_load
    from projects.models import Enrolment

    people = _workers(clients)
    tokens = [tok for _m, tok in people]
    out: dict = {"projects_signup_clients": len(tokens), "projects_signup_rounds": rounds}
    all_times: list[float] = []
    codes_seen: set[int] = set()
    exact = True
    with http_load.Gunicorn(
        env, workers=workers, threads=threads, log_path=ROOT / "var" / "bench" / "gunicorn.log"
    ) as server:
        conns = _warm(server.port, tokens)
        # One client at a time first: the cost of a sign-up without contention.
        alone_session = _fresh_session(capacity, f"单人{time.time():.0f}")
        alone = []
        for i, tok in enumerate(tokens[:20]):
            elapsed, code, _ = _post(conns[i], tok, alone_session.pk)
            alone.append(elapsed)
            codes_seen.add(code)
        pids = server.worker_pids()
        cpu = http_load.cpu_seconds(pids)
        spread: list[float] = []
        for r in range(rounds):
            session = _fresh_session(capacity, f"{time.time():.0f}-{r}")
            times, codes = signup_round(server.port, conns, tokens, session.pk)
            all_times += times
            codes_seen |= set(codes)
            rows = Enrolment.objects.filter(session=session)
            enrolled = rows.filter(status="enrolled").count()
            positions = sorted(rows.filter(status="waiting").values_list("position", flat=True))
            session.refresh_from_db()
            ok = (
                enrolled == capacity == session.seats_taken
                and positions == list(range(1, len(tokens) - capacity + 1))
                and set(codes) == {201}
            )
            exact = exact and ok
        web_cpu_ms = (http_load.cpu_seconds(pids) - cpu) * 1000 / max(1, rounds * len(tokens))
        # The same burst without the contention: each client signs up for a session of its own.
        for r in range(rounds):
            own = [_fresh_session(capacity, f"{time.time():.0f}-{r}-{i}").pk for i in range(len(tokens))]
            times, codes = signup_round(server.port, conns, tokens, own)
            spread += times
            codes_seen |= set(codes)
        for conn in conns:
            conn.close()
    out.update(
        {
            "projects_signup_alone_p50_ms": _p(alone, 0.5),
            "projects_signup_alone_p95_ms": _p(alone, 0.95),
            "projects_signup_p50_ms": _p(all_times, 0.5),
            "projects_signup_p95_ms": _p(all_times, 0.95),
            "projects_signup_max_ms": _p(all_times, 1.0),
            "projects_signup_exact": exact,
            "projects_signup_own_sessions_p50_ms": _p(spread, 0.5),
            "projects_signup_own_sessions_p95_ms": _p(spread, 0.95),
            "projects_signup_web_cpu_ms_per_request": round(web_cpu_ms, 1),
            "projects_signup_cores": os.cpu_count(),
            "projects_signup_status_codes": sorted(codes_seen),
            "projects_signup_http_workers": workers,
            "projects_signup_http_threads": threads,
        }
    )
    return out


def sizes() -> dict:
    from projects.models import Demand, DemandVote, Enrolment, Project, Session

    return {
        "projects_rows_demands": Demand.objects.count(),
        "projects_rows_votes": DemandVote.objects.count(),
        "projects_rows_projects": Project.objects.count(),
        "projects_rows_sessions": Session.objects.count(),
        "projects_rows_enrolments": Enrolment.objects.count(),
    }


def measure(env: dict, users: dict, args) -> dict:
    """Everything above (bench/run.py's step); the database's own Django is already set up."""
    from django.db import connection

    out = sizes()
    out.update(measure_reads(users))
    connection.close()
    out.update(
        measure_signups(
            env,
            clients=args.signup_clients,
            rounds=args.signup_rounds,
            workers=args.http_workers,
            threads=args.http_threads,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    from bench.generate import bench_env, bench_keys, database_url_for

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS", "200000")))
    parser.add_argument("--database-url")
    parser.add_argument("--signup-clients", type=int, default=50)
    parser.add_argument("--signup-rounds", type=int, default=5)
    parser.add_argument("--http-workers", type=int, default=3)
    parser.add_argument("--http-threads", type=int, default=2)
    parser.add_argument("--reads-only", action="store_true")
    args = parser.parse_args(argv)
    url = database_url_for(args.members, args.database_url)
    env = bench_env(url, bench_keys())
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from bench.run import _actors

    _admin, city_user, clerk, *_rest = _actors("unused-" + str(time.time()))
    users = {"city": city_user, "district": clerk}
    if args.reads_only:
        result = {**sizes(), **measure_reads(users)}
    else:
        result = measure(env, users, args)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "results" / f"projects-{args.members}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
