"""Where a roster import's database time goes: the writer's COPY replayed, one part removed at a time.

Not a test. On a bench city built by bench/generate.py (never a real roll), plans one file
of new people with the portal's importer (members.importer, checked and encoded exactly
as an import does, but not written), then replays its COPY batches into the member tables
in transactions that are rolled back, measuring the CPU of the PostgreSQL backend (from
/proc) and the WAL written per row:

- as the importer writes (after a CHECKPOINT, so every page first touched writes a full
  page image to the WAL, and again right after, when the touched pages already did);
- without each secondary index or unique constraint in turn, without the foreign keys,
  without the statistics triggers, and without all of them (DROP … inside the rolled-back
  transaction: nothing is changed for good).

    python bench/import_cost.py --members 10000000 --database-url postgres://postgres@127.0.0.1:5432

Writes bench/results/import-cost-<members>.json. Needs the server to be local (it reads
the backend's CPU from /proc).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import serve_city  # noqa: E402


def plan_batches(rows: int, members: int) -> list[tuple[str, str]]:
    """The COPY texts (members, memberships) of an import of `rows` new people, not written."""
    from bench.measures import IMPORT_UNIONS, write_roster
    from members.importer import import_rows
    from members.importer import write as writer
    from organizations.models import Organization, User

    union = Organization.objects.get(name=IMPORT_UNIONS[0])
    admin = User.objects.filter(is_superuser=True).order_by("id").first()
    texts: list[tuple[str, str]] = []

    def keep(cursor, union, batch):
        texts.append((batch.members_text, batch.memberships_text))
        return []

    real = writer._write_direct
    writer._write_direct = keep
    try:
        with tempfile.TemporaryDirectory() as tmp:
            roster = Path(tmp) / "roster.csv"
            write_roster(roster, rows, first_index=members + 70_000_000)
            # all_or_nothing with nothing written: the audit entry says 0 created in effect.
            import_rows(actor=admin, union=union, path=str(roster), fmt="csv", mode="all_or_nothing")
    finally:
        writer._write_direct = real
    return texts


def measure(texts: list[tuple[str, str]]) -> dict:
    from django.db import connection

    from members.importer import write as writer
    from members.importer.pool import backend_cpu

    rows = sum(t[0].count("\n") for t in texts)
    connection.ensure_connection()
    pid = connection.connection.get_backend_pid()
    member_copy = (
        f"COPY members_member ({writer._MEMBER_COPY_COLS}) FROM STDIN WITH (FORMAT csv, "
        f"FORCE_NOT_NULL ({writer._NOT_NULL_TEXT}))"
    )
    membership_copy = (
        f"COPY members_membership ({writer._MEMBERSHIP_COLS}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (end_reason))"
    )
    with connection.cursor() as c:
        c.execute(
            "SELECT con.conname, con.conrelid::regclass::text FROM pg_constraint con "
            "WHERE con.contype = 'f' AND con.conrelid IN ('members_member'::regclass, 'members_membership'::regclass)"
        )
        fks = c.fetchall()
        c.execute(
            "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, con.conname FROM pg_index i "
            "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('u', 'x') "
            "WHERE i.indrelid IN ('members_member'::regclass, 'members_membership'::regclass) "
            "AND NOT i.indisprimary ORDER BY 1"
        )
        indexes = c.fetchall()
        c.execute(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN ('members_member'::regclass, 'members_membership'::regclass)"
        )
        triggers = c.fetchall()

    def drop_index(name, table, constraint):
        return f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"' if constraint else f'DROP INDEX "{name}"'

    no_fks = [f'ALTER TABLE {t} DROP CONSTRAINT "{n}"' for n, t in fks]
    no_triggers = [f'ALTER TABLE {t} DISABLE TRIGGER "{n}"' for n, t in triggers]

    def run(prep=(), *, checkpoint=False) -> dict:
        with connection.cursor() as c:
            if checkpoint:
                c.execute("CHECKPOINT")
            c.execute("BEGIN")
            for sql in prep:
                c.execute(sql)
            c.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal")
            w0 = c.fetchone()
            cpu0, t0 = backend_cpu(pid), time.perf_counter()
            for members_text, memberships_text in texts:
                c.copy_expert(member_copy, io.StringIO(members_text), len(members_text) + 1)
                c.copy_expert(membership_copy, io.StringIO(memberships_text), len(memberships_text) + 1)
                c.execute("SET CONSTRAINTS ALL IMMEDIATE")
                c.execute("SET CONSTRAINTS ALL DEFERRED")
            cpu1, t1 = backend_cpu(pid), time.perf_counter()
            c.execute("ROLLBACK")
            time.sleep(0.6)  # pg_stat_wal is flushed to the shared counters at most twice a second
            c.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal")
            w1 = c.fetchone()
        return {
            "backend_us_per_row": round((cpu1 - cpu0) * 1e6 / rows, 1),
            "wall_us_per_row": round((t1 - t0) * 1e6 / rows, 1),
            "wal_records_per_row": round((w1[0] - w0[0]) / rows, 1),
            "wal_fpi_per_row": round((w1[1] - w0[1]) / rows, 2),
            "wal_bytes_per_row": round((int(w1[2]) - int(w0[2])) / rows),
        }

    out: dict = {"rows": rows}
    steps = [
        ("as written, right after a CHECKPOINT", (), True),
        ("as written, pages already imaged", (), False),
        ("without the foreign keys", no_fks, False),
        ("without the statistics triggers", no_triggers, False),
    ]
    steps += [(f"without {name}", [drop_index(name, table, con)], False) for name, table, con in indexes]
    steps += [
        ("without any secondary index", [drop_index(*x) for x in indexes], False),
        ("heap only (no index, key or trigger)", no_fks + no_triggers + [drop_index(*x) for x in indexes], False),
        ("as written (again, at the end)", (), False),
    ]
    for label, prep, checkpoint in steps:
        out[label] = run(prep, checkpoint=checkpoint)
        r = out[label]
        print(
            f"  {label:48s} backend {r['backend_us_per_row']:6.1f} µs/row  wall {r['wall_us_per_row']:6.1f}  "
            f"WAL {r['wal_bytes_per_row']:6d} B/row, {r['wal_fpi_per_row']:.2f} full pages/row",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=int(os.environ.get("BENCH_MEMBERS") or 200_000))
    parser.add_argument("--database-url", default=None, help="server (or database)")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    url, meta = serve_city(args.members, args.database_url)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name IN %s ORDER BY name", [SETTINGS])
        settings = dict(c.fetchall())
    print(f"== import database cost, {args.members:,} members, {args.rows:,} rows: {settings}")
    result = {"members": args.members, "settings": settings, **measure(plan_batches(args.rows, args.members))}
    out = ROOT / "bench" / "results" / f"import-cost-{args.members}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")
    return 0


SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression", "full_page_writes")

if __name__ == "__main__":
    raise SystemExit(main())
