"""The in-process benchmarks: each times the portal's real selectors, services or API views.

Every function takes the acting user and the organisation it works on, returns a flat
{name: value} dict (milliseconds unless the name says otherwise) and prints nothing;
bench/run.py prints and records. Django must be set up against the database to measure.
"""

from __future__ import annotations

import base64
import math
import random
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed(fn: Callable[[], object], *, runs: int, warmup: int = 2) -> list[float]:
    """Wall times in ms of `runs` calls of fn (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(prefix: str, samples: list[float]) -> dict[str, float]:
    return {
        f"{prefix}_p50_ms": round(statistics.median(samples), 3),
        f"{prefix}_p95_ms": round(percentile(samples, 95), 3),
    }


def each_timed(fn: Callable[[object], object], items: list, *, warmup: int = 5) -> list[float]:
    """Wall times in ms of fn(item) for each item (the first `warmup` items are run untimed first)."""
    for item in items[:warmup]:
        fn(item)
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def sample_members(org, n: int, *, seed: int = 11) -> list:
    """Up to n members of `org`'s subtree picked at random by id (no ORDER BY random() on a big table)."""
    from django.db.models import Max

    from members.models import Member

    top = Member.objects.aggregate(m=Max("id"))["m"] or 0
    rng = random.Random(seed)
    found: list = []
    tries = 0
    while len(found) < n and tries < 20 and top:
        ids = [rng.randint(1, top) for _ in range(n * 8)]
        found += list(
            Member.objects.under(org.path).filter(pk__in=ids).only("id", "name", "id_number_enc", "mobile_enc")
        )
        tries += 1
    return found[:n]


# --- lookups ---------------------------------------------------------------------------------


def measure_lookups(user, org, *, n: int = 500) -> dict[str, float]:
    """Member lookup by ID number and by mobile (exact blind-index match) through members.selectors."""
    from core import crypto
    from members import selectors

    people = sample_members(org, n)
    ids = [crypto.decrypt(m.id_number_enc) for m in people]
    mobiles = [crypto.decrypt(m.mobile_enc) for m in people]

    def lookup(q: str):
        rows = list(selectors.member_search(selectors.members_for_user(user), q)[:51])
        assert rows, q
        return rows

    out = {"lookup_samples": len(people)}
    out.update(summary("lookup_id", each_timed(lookup, ids)))
    out.update(summary("lookup_mobile", each_timed(lookup, mobiles)))
    return out


# --- the member list ---------------------------------------------------------------------------


def _list_qs(user):
    from members import selectors

    # What MemberViewSet.list pages through: the scoped selector, ordered like its cursor.
    return selectors.members_for_user(user).order_by("-id")


def measure_member_list(
    user, org, *, street=None, page: int = 50, runs: int = 30, offset_runs: int = 5
) -> dict[str, float]:
    """A clerk's member list: first page and deep pages, keyset (cursor) and OFFSET side by side.

    Both read the same rows: the OFFSET query's last id is the keyset query's cursor. With
    `street`, also the list narrowed to one street (the API's ?under=), first page.
    """
    from members.models import Member

    qs = _list_qs(user)
    roll = Member.objects.for_user(user).under(org.path).count()
    out: dict[str, float] = {"list_roll": roll}
    first = timed(lambda: list(qs[:page]), runs=runs)
    out.update(summary("list_first_page", first))
    if street is not None:
        from core.pages import keyset_page

        narrowed = qs.filter(org_path__startswith=street.path)  # what SubtreeFilterMixin adds
        out["list_street_roll"] = Member.objects.under(street.path).count()
        # What the roll page and the API do (ids first, then the page's rows), and the plain
        # single query side by side.
        ids_first = timed(
            lambda: keyset_page(narrowed, field="id", descending=True, cursor="", size=page, ids_first=True).rows,
            runs=runs,
        )
        out.update(summary("list_street_first_page", ids_first))
        plain = timed(lambda: list(narrowed[:page]), runs=runs)
        out.update(summary("list_street_first_page_one_query", plain))
        out["list_street_one_query_over_ids_first"] = round(
            statistics.median(plain) / max(statistics.median(ids_first), 1e-6), 1
        )
    depths = {"page200": min(199 * page, max(roll - page, 0)), "middle": max(roll // 2 - page, 0)}
    for label, offset in depths.items():
        rows: list = []

        def by_offset(offset=offset, rows=rows):
            rows[:] = list(qs[offset : offset + page])

        off = timed(by_offset, runs=offset_runs if offset > 20_000 else runs, warmup=1)
        cursor = rows[0].pk + 1 if rows else 0  # keyset: ids below the page's first id + 1
        keys = timed(lambda cursor=cursor: list(qs.filter(id__lt=cursor)[:page]), runs=runs)
        out[f"list_{label}_offset_rows"] = offset
        out.update(summary(f"list_{label}_offset", off))
        out.update(summary(f"list_{label}_keyset", keys))
        out[f"list_{label}_offset_over_keyset"] = round(statistics.median(off) / max(statistics.median(keys), 1e-6), 1)
    return out


def keyset_cursor(position: int) -> str:
    """The DRF cursor (?cursor=) that starts a `-id` ordered page below id `position`."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def measure_member_api(user, org, *, runs: int = 30) -> dict[str, float]:
    """The member list API view itself (MemberViewSet.list, in-process, no network): first and deep page."""
    from rest_framework.test import APIRequestFactory, force_authenticate

    from members.api import MemberViewSet
    from members.models import Member

    view = MemberViewSet.as_view({"get": "list"})
    factory = APIRequestFactory()
    roll = Member.objects.for_user(user).under(org.path).count()
    middle = list(_list_qs(user)[roll // 2 : roll // 2 + 1].values_list("id", flat=True))

    def call(params: dict):
        request = factory.get("/api/v1/members/", params, HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
        force_authenticate(request, user=user)
        response = view(request)
        response.render()
        assert response.status_code == 200, response.content[:300]
        return response

    out = summary("api_list_first_page", timed(lambda: call({}), runs=runs))
    if middle:
        cursor = keyset_cursor(middle[0])
        out.update(summary("api_list_middle_page", timed(lambda: call({"cursor": cursor}), runs=runs)))
    return out


# --- name search ---------------------------------------------------------------------------------


def measure_name_search(user, org, *, n: int = 100, street=None, city_user=None) -> dict[str, float]:
    """Search by name within the clerk's district, as the roll page runs it: members.selectors.member_search,
    then the first page of core.pages.keyset_page_by (50 rows and one to look ahead).

    Also: one initial letter, the page after the first, the search narrowed to `street` (the
    page's ?under=) and, with `city_user`, the same initials city-wide.
    """
    from core.pages import keyset_page_by, prefix_range
    from members import selectors
    from members.names import name_initials

    people = sample_members(org, n, seed=23)
    names = [m.name[:2] for m in people]
    surnames = [m.name[:1] for m in people]
    initials = [name_initials(m.name)[:2] for m in people]
    letters = [name_initials(m.name)[:1] for m in people]

    def page(q: str, cursor: str = "", *, who=user, narrow: str = ""):
        qs = _list_qs(who)
        if narrow:
            qs = prefix_range(qs, "org_path", narrow)  # what MemberFilter adds for ?under= to a search
        qs = selectors.member_search(qs, q)
        return keyset_page_by(qs, keys=selectors.member_search_keys(q), cursor=cursor, size=50)

    def search(q: str):
        return page(q).rows

    half = n // 2
    out = {}
    out.update(summary("search_name", each_timed(search, names)))
    out.update(summary("search_surname", each_timed(search, surnames[:half])))
    out.update(summary("search_initials", each_timed(search, initials[:half])))
    out.update(summary("search_initials_letter", each_timed(search, letters[:half])))
    cursors = {q: page(q).next_cursor for q in set(initials[:half])}
    out.update(summary("search_initials_next_page", each_timed(lambda q: page(q, cursors[q]).rows, initials[:half])))
    if street is not None:
        narrow = street.path
        out.update(summary("search_street_name", each_timed(lambda q: page(q, narrow=narrow).rows, names[:half])))
        out.update(
            summary("search_street_initials", each_timed(lambda q: page(q, narrow=narrow).rows, initials[:half]))
        )
    if city_user is not None:
        out.update(summary("search_city_initials", each_timed(lambda q: page(q, who=city_user).rows, initials[:half])))
    return out


def measure_member_api_search(user, org, *, n: int = 50) -> dict[str, float]:
    """The member list API view with ?q= two pinyin initials and with two characters of a name
    (in-process, first page of 50), for names sampled from `org`."""
    from rest_framework.test import APIRequestFactory, force_authenticate

    from members.api import MemberViewSet
    from members.names import name_initials

    view = MemberViewSet.as_view({"get": "list"})
    factory = APIRequestFactory()
    people = sample_members(org, n, seed=29)

    def call(q: str):
        request = factory.get("/api/v1/members/", {"q": q}, HTTP_ACCEPT="application/json", HTTP_HOST="127.0.0.1")
        force_authenticate(request, user=user)
        response = view(request)
        response.render()
        assert response.status_code == 200, response.content[:300]
        return response

    out = summary("api_search_initials", each_timed(call, [name_initials(m.name)[:2] for m in people]))
    out.update(summary("api_search_name", each_timed(call, [m.name[:2] for m in people])))
    return out


# --- dashboards ----------------------------------------------------------------------------------


def dashboard_summary(user, org) -> dict:
    """The figures a dashboard shows, from CoverageSummary: the node and each child (two queries)."""
    from organizations import selectors

    own = selectors.coverage_for(org)
    children = [(c.pk, getattr(c, "coverage", None)) for c in selectors.organization_children(user, org)]
    return {
        "members": own.members if own else 0,
        "enterprises": own.enterprises if own else 0,
        "children": {pk: (cov.members, cov.enterprises, cov.unionized_enterprises) for pk, cov in children if cov},
    }


def dashboard_live(user, org) -> dict:
    """The same figures counted live over the subtree (grouped, not one query per child)."""
    from members.models import Membership
    from organizations.models import Enterprise, Organization, OrgKind

    width = len(org.path) + Organization.steplen
    members = (
        Membership.objects.for_user(user)
        .under(org.path)
        .filter(status=Membership.Status.ACTIVE)
        .annotate(unit=Substr("org_path", 1, width))
        .order_by()
        .values("unit")
        .annotate(n=Count("id"))
    )
    ents = (
        Enterprise.objects.for_user(user)
        .under(org.path)
        .filter(is_active=True)
        .annotate(unit=Substr("org_path", 1, width))
        .order_by()
        .values("unit")
        .annotate(n=Count("id"), unionized=Count("id", filter=Q(union__isnull=False)), emp=Sum("employees"))
    )
    unions = (
        Organization.objects.for_user(user)
        .filter(path__startswith=org.path, kind=OrgKind.GRASSROOTS, status=Organization.Status.ACTIVE)
        .annotate(unit=Substr("path", 1, width))
        .order_by()
        .values("unit")
        .annotate(n=Count("id"))
    )
    by_unit = {r["unit"]: r["n"] for r in members}
    ent_by_unit = {r["unit"]: (r["n"], r["unionized"]) for r in ents}
    union_count = sum(r["n"] for r in unions)
    return {
        "members": sum(by_unit.values()),
        "enterprises": sum(n for n, _u in ent_by_unit.values()),
        "grassroots": union_count,
        "units": len(by_unit),
    }


def measure_dashboards(user, org, label: str, *, runs: int = 30, live_runs: int = 5) -> dict[str, float]:
    s = dashboard_summary(user, org)
    live = dashboard_live(user, org)
    out = {f"dashboard_{label}_members": s["members"], f"dashboard_{label}_members_live": live["members"]}
    fast = timed(lambda: dashboard_summary(user, org), runs=runs)
    slow = timed(lambda: dashboard_live(user, org), runs=live_runs, warmup=1)
    out.update(summary(f"dashboard_{label}_summary", fast))
    out.update(summary(f"dashboard_{label}_live", slow))
    out[f"dashboard_{label}_live_over_summary"] = round(statistics.median(slow) / max(statistics.median(fast), 1e-6))
    return out


# --- statistics and the statistics dashboard (reports.statistics) -------------------------------------


def ensure_statistics(*, max_age_s: float = 6 * 3600) -> dict[str, float]:
    """Build the statistics summary rows if there are none or they are older than `max_age_s`; time it."""
    from django.utils import timezone

    from reports.models import StatisticsRefresh
    from reports.summaries import statistics_refresh

    last = StatisticsRefresh.objects.filter(pk=1, finished_at__isnull=False).first()
    if last is not None and (timezone.now() - last.finished_at).total_seconds() < max_age_s:
        return {"statistics_refresh_s": last.seconds, "statistics_rows": last.rows, "statistics_refresh_reused": 1}
    t = time.perf_counter()
    rows = statistics_refresh()
    return {"statistics_refresh_s": round(time.perf_counter() - t, 1), "statistics_rows": rows}


def measure_statistics(user, org, label: str, *, runs: int = 30) -> dict[str, float]:
    """The dashboard's statistics read (subtree_figures: the org, its children, last period, 12-month trend)
    and the dashboard page itself, rendered in-process (the test client, no network)."""
    from django.test import Client
    from django.utils import timezone

    from reports.statistics import subtree_figures

    today = timezone.localdate()

    def read(period):
        return subtree_figures(user=user, organization=org, period=period)

    figures = read(today)
    out = {
        f"stats_{label}_members": figures.members.total,
        f"stats_{label}_children": len(figures.children),
        f"stats_{label}_source": figures.source,
    }
    out.update(summary(f"stats_{label}_month", timed(lambda: read(today), runs=runs)))
    out.update(summary(f"stats_{label}_year", timed(lambda: read(str(today.year)), runs=max(runs // 3, 5))))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = f"/reports/dashboard/{org.pk}/"

    def page():
        response = client.get(url)
        if response.status_code == 302:
            # Another bench run on the shared city set the bench users' password (bench/run.py
            # _actors), which ends this session: sign in again, the page is timed as usual.
            client.force_login(user)
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    out[f"stats_{label}_page_bytes"] = len(page().content)
    out.update(summary(f"stats_{label}_page", timed(page, runs=runs)))
    # CPU time of this process per page: what the page costs whatever the machine's load.
    cpu = []
    for _ in range(max(runs // 3, 5)):
        t = time.process_time()
        page()
        cpu.append((time.process_time() - t) * 1000)
    out.update(summary(f"stats_{label}_page_cpu", cpu))
    return out


def measure_follow(union, *, runs: int = 5) -> dict[str, float]:
    """One change's recount by the dirty-mark task: a mark on `union` for this month, then statistics_follow
    (the union, its ancestors up to the city). Nothing changes in the data: the rows are rewritten equal."""
    from django.utils import timezone

    from reports.models import StatisticsMark
    from reports.summaries import statistics_follow

    month = timezone.localdate().replace(day=1)
    recounted = []

    def one():
        StatisticsMark.objects.get_or_create(org_path=union.path, month=month)
        recounted.append(statistics_follow())

    out = summary("stats_follow_one_change", timed(one, runs=runs, warmup=1))
    out["stats_follow_organisations_recounted"] = max(recounted)
    return out


# --- the monthly report ----------------------------------------------------------------------------


def measure_monthly_report(user, org, month: str, *, runs: int = 3) -> dict[str, float]:
    from reports.services import monthly_report_build

    times, size, members = [], 0, 0
    for _ in range(runs):
        t = time.perf_counter()
        report = monthly_report_build(actor=user, organization=org, month=month)
        times.append(time.perf_counter() - t)
        size, members = len(report.xlsx), report.total.at_end
    return {
        "report_city_s": round(statistics.median(times), 2),
        "report_city_max_s": round(max(times), 2),
        "report_city_members": members,
        "report_city_xlsx_bytes": size,
    }


# --- EXPLAIN -----------------------------------------------------------------------------------------


def hot_queries(user, org, street, sample_member, *, root=None, root_user=None) -> list[tuple[str, str, object]]:
    """(name, what it serves, queryset) of the hot queries, for EXPLAIN (ANALYZE, BUFFERS)."""
    from core import crypto
    from members import selectors
    from members.models import Membership
    from members.names import name_initials
    from organizations import selectors as org_selectors

    qs = _list_qs(user)
    roll = qs.count()
    middle = list(qs[roll // 2 : roll // 2 + 1].values_list("id", flat=True)) or [0]
    idn = crypto.decrypt(sample_member.id_number_enc)
    mob = crypto.decrypt(sample_member.mobile_enc)
    return [
        ("lookup_id", "member search by ID number (blind index)", selectors.member_search(qs, idn)[:50]),
        ("lookup_mobile", "member search by mobile (blind index)", selectors.member_search(qs, mob)[:50]),
        ("list_first_page", "district clerk's member list, first page", qs[:50]),
        ("list_middle_keyset", "member list, middle of the roll, keyset", qs.filter(id__lt=middle[0] + 1)[:50]),
        ("list_middle_offset", "member list, middle of the roll, OFFSET", qs[roll // 2 : roll // 2 + 50]),
        (
            "list_street_first_page",
            "street-level list, first page: the page's ids (then 50 rows by primary key)",
            selectors.members_for_user(user).under(street.path).order_by("-id").values_list("id", flat=True)[:51],
        ),
        ("search_name", "name prefix search in the district", selectors.member_search(qs, sample_member.name[:2])[:50]),
        (
            "search_surname",
            "surname-only search in the district",
            selectors.member_search(qs, sample_member.name[:1])[:50],
        ),
        (
            "search_initials",
            "pinyin initials search in the district",
            selectors.member_search(qs, name_initials(sample_member.name)[:2])[:50],
        ),
        *(
            [
                (
                    "dashboard_children",
                    "the city root's children with their coverage summaries (dashboard)",
                    org_selectors.organization_children(root_user, root),
                )
            ]
            if root is not None
            else []
        ),
        (
            "dashboard_live_members",
            "live COUNT of a district's active members (what the summary replaces)",
            Membership.objects.for_user(user).under(org.path).filter(status="active"),
        ),
    ]


def explain_markdown(user, org, street, sample_member, *, title: str, root=None, root_user=None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the hot queries, as a markdown page (SQL with its plan)."""
    lines = [f"# {title}", ""]
    for name, what, qs in hot_queries(user, org, street, sample_member, root=root, root_user=root_user):
        if name == "dashboard_live_members":
            sql_qs = qs.values("id")
            plan = _explain_count(qs)
        else:
            sql_qs = qs
            list(qs)  # warm
            plan = qs.explain(analyze=True, buffers=True)
        sql, params = sql_qs.query.sql_with_params()
        lines += [f"## {name}: {what}", "", "```sql", _inline(sql, params), "```", "", "```", plan, "```", ""]
    return "\n".join(lines)


def _explain_count(qs) -> str:
    from django.db import connection

    sql, params = qs.values("id").query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) q", params)
        return "\n".join(r[0] for r in cur.fetchall())


def _inline(sql: str, params) -> str:
    """The SQL with its parameters inlined (long ones cut) and a long SELECT list abbreviated."""
    head, sep, rest = sql.partition(" FROM ")
    if sep and head.startswith("SELECT ") and len(head) > 160:
        sql = f"SELECT … {head.count(',') + 1} columns of {', '.join(_tables(head))} …{sep}{rest}"
    out = sql
    for p in params:
        text = str(p)
        if len(text) > 40:
            text = text[:12] + "…"
        out = out.replace("%s", f"'{text}'", 1)
    return out


# --- roster import ------------------------------------------------------------------------------------

IMPORT_UNIONS = ("基准导入测试企业工会（门户导入）", "基准导入测试企业工会（django-import-export）")


def _import_union(admin, street, name: str):
    """A grassroots union under `street` kept for the import benchmark (created once, emptied each run)."""
    from organizations import services
    from organizations.models import Organization, OrgKind

    found = Organization.objects.filter(path__startswith=street.path, depth=street.depth + 1, name=name).first()
    return found or services.organization_create(actor=admin, parent=street, name=name, kind=OrgKind.GRASSROOTS)


def _empty_union(union) -> None:
    """Remove what an import run put into `union` (so the bench database keeps its scale)."""
    from django.db import connection, transaction

    from members.models import Member, MemberNumberCounter, Membership

    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Plain deletes: the ORM's collector asks every table that may point at a member
            # (disputes, aid, projects…) about each chunk of ids, minutes for 100k members at
            # 10M. Nothing points at these freshly imported people, and the database's foreign
            # keys (checked at commit) would refuse the delete if anything did.
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM members_membership WHERE union_id = %s", [union.pk])
                cursor.execute("DELETE FROM members_member WHERE org_path = %s", [union.path])
        else:
            Membership.objects.filter(union=union).delete()
            Member.objects.filter(org_path=union.path).delete()
        MemberNumberCounter.objects.filter(union=union).delete()


def _vacuum() -> None:
    """VACUUM ANALYZE the member tables (not timed): each import run then starts from a roll
    without the dead rows of the previous run, as a real import would, and autovacuum does
    not clean up after the benchmark while a later step is being measured."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) members_member, members_membership, members_membernumbercounter")


def write_roster(path, rows: int, *, first_index: int, seed: int = 7) -> None:
    """A roster file (the import template's columns) of people who are not in the bench city.

    The generator's ID/mobile bijections give people index 0..members-1 to the city, so
    indexes from `first_index` on are new people, valid and unique, at any scale.
    """
    import csv

    from members.demo import GIVEN, SURNAMES
    from members.importer import COLUMNS

    from .generate import id_number, mobile

    rng = random.Random(seed)
    forms = ["全日制", "劳务派遣", "快递员", "外卖骑手", "网约车司机"]
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([h for _k, h, _r in COLUMNS])
        for i in range(first_index, first_index + rows):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            w.writerow(
                [
                    name,
                    id_number(i),
                    mobile(i),
                    f"测试企业{rng.randrange(1000)}有限公司",
                    rng.choice(forms),
                    "是" if rng.random() < 0.2 else "否",
                    "本科",
                    "",
                    "2024-05-01",
                ]
            )


def measure_import(
    admin, street, *, rows: int, city_members: int, with_die: bool = True, portal_runs: int = 3, tmpdir
) -> dict:
    """Roster import of `rows` rows into the big roll: the portal's importer vs django-import-export.

    Reuses bench/import_bench.py's two runners on the same file (its make_union is pointed at
    two persistent unions of the bench city, emptied before and after each run). The portal
    importer runs `portal_runs` times on the file and as often on a fifth of it (medians
    reported, and the best), to show that its time is linear in the rows.
    """
    from pathlib import Path

    from members.models import Member

    from . import import_bench

    portal_union = _import_union(admin, street, IMPORT_UNIONS[0])
    die_union = _import_union(admin, street, IMPORT_UNIONS[1])
    unions = {"portal": portal_union, "die": die_union}
    # import_bench's runners empty the whole roll (reset_roll) and make a new city (make_union)
    # for their throwaway database: here both hooks are pointed at the two bench unions, and
    # the rest of the roll is counted before and after so a change there is caught at once.
    import_bench.make_union = lambda tag: (admin, unions["die" if tag.startswith("d") else "portal"])
    import_bench.reset_roll = lambda: [_empty_union(u) for u in unions.values()]
    outside = Member.objects.exclude(org_path__in=[u.path for u in unions.values()])
    roll_before = outside.count()
    path = Path(tmpdir) / "roster.csv"
    small = Path(tmpdir) / "roster-small.csv"
    first = city_members + 50_000_000  # far from the city's people and from earlier files
    write_roster(path, rows, first_index=first)
    write_roster(small, max(rows // 5, 1), first_index=first + rows)
    out: dict = {"import_rows": rows}
    try:
        for union in unions.values():
            _empty_union(union)
        # Small and full files alternate (three of each), so caches warm up for both alike;
        # the medians give the rows/s and the time ratio (5x the rows should take ~5x the time).
        smalls, fulls = [], []
        for _ in range(portal_runs):
            smalls.append(import_bench.run_portal(small, "csv", "p-small"))
            _empty_union(portal_union)
            _vacuum()
            fulls.append(import_bench.run_portal(path, "csv", "p-csv"))
            _empty_union(portal_union)
            _vacuum()
        smalls.sort(key=lambda r: r["seconds"])
        fulls.sort(key=lambda r: r["seconds"])
        part, full = smalls[len(smalls) // 2], fulls[len(fulls) // 2]
        out["import_portal_small_rows"] = part["rows"]
        out["import_portal_small_s"] = part["seconds"]
        out["import_portal_small_rows_per_s"] = part["rows_per_s"]
        out["import_portal_s"] = full["seconds"]
        out["import_portal_rows_per_s"] = full["rows_per_s"]
        out["import_portal_best_rows_per_s"] = fulls[0]["rows_per_s"]
        out["import_portal_runs_rows_per_s"] = [r["rows_per_s"] for r in fulls]
        out["import_portal_small_runs_rows_per_s"] = [r["rows_per_s"] for r in smalls]
        out["import_workers"] = full.get("workers", 0)
        # CPU per row on each side (median of the full runs): the machine's load does not
        # change these much, unlike rows/s.
        for side in ("main", "checkers", "writer", "database", "planner_database"):
            values = sorted(r[f"cpu_us_per_row_{side}"] for r in fulls if f"cpu_us_per_row_{side}" in r)
            if values:
                out[f"import_cpu_us_per_row_{side}"] = values[len(values) // 2]
        out["import_time_ratio_5x_rows"] = round(full["seconds"] / max(part["seconds"], 1e-6), 2)
        if with_die:
            die = import_bench.run_die(path, "csv", "d-csv")
            out["import_die_s"] = die["seconds"]
            out["import_die_rows_per_s"] = die["rows_per_s"]
            out["import_portal_over_die"] = round(full["rows_per_s"] / max(die["rows_per_s"], 1), 1)
    finally:
        from organizations.models import CoverageDirty

        for union in unions.values():
            _empty_union(union)
        # The imports marked the bench unions' figures dirty: nothing of theirs is left to count.
        CoverageDirty.objects.filter(union__in=list(unions.values())).delete()
        _vacuum()
        if outside.count() != roll_before:
            raise RuntimeError("the import benchmark changed members outside its own unions: rebuild the bench city")
    return out


def _tables(select_list: str) -> list[str]:
    seen: list[str] = []
    for part in select_list.removeprefix("SELECT ").split(", "):
        table = part.split(".")[0].strip('"')
        if table not in seen:
            seen.append(table)
    return seen
