"""Dirty marks of the statistics: database triggers that mark (organisation path, month) on every change.

Every table the figures are counted from (reports.summaries.collect) carries a trigger
that upserts the changed rows' (org_path, month) into reports_statisticsmark in the
writing transaction: a mark exists exactly when the change is committed, whatever wrote
it (a service, an import's COPY, the admin, a bulk UPDATE). Triggers rather than calls
in each service: a service that forgets the call, or a write path that bypasses the
services (COPY), would leave figures stale with nothing to show for it.

The month is the earliest month the change touches (later months follow from it: stocks
are cumulative), or an earlier one where that is cheaper to know (timestamps are marked a
day early, so the local month is never missed). A mark made again bumps `version`.

PostgreSQL: one statement-level trigger per table and event, reading the transition
tables (one upsert per statement, however many rows an import's COPY brings); rows are
marked in (path, month) order so two writers never take the marks' row locks in opposite
orders. SQLite (the embedded default): row-level triggers doing the same upsert.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKS = "reports_statisticsmark"
EARLIEST = "1900-01-01"  # "every month": the refresh starts from its window's first month


@dataclass(frozen=True)
class Source:
    name: str
    table: str
    path: str  # SQL over the row alias r (and the joined alias)
    month: str  # SQL giving the date whose month is marked
    kind: str = "date"  # "date", "timestamp" (marked a day early) or "year" (an integer year: its January)
    join: tuple[str, str] | None = None  # ("other_table alias", "condition over r and alias")


SOURCES = (
    Source("membership", "members_membership", "r.org_path", "COALESCE(LEAST(r.joined_on, r.ended_on), r.joined_on)"),
    Source("honour", "members_honour", "m.org_path", "r.year", "year", ("members_member m", "m.id = r.member_id")),
    Source("hardshipfile", "assistance_hardshipfile", "r.org_path", "r.created_at", "timestamp"),
    Source("ledger", "assistance_ledgerentry", "r.org_path", "r.at", "timestamp"),
    Source("budget", "assistance_budget", "r.org_path", "r.year", "year"),
    Source("case", "disputes_case", "r.org_path", "COALESCE(LEAST(r.received_on, r.closed_on), r.received_on)"),
    Source("project", "projects_project", "r.org_path", "r.year", "year"),
    Source(
        "budgetline",
        "projects_budgetline",
        "p.org_path",
        "p.year",
        "year",
        ("projects_project p", "p.id = r.project_id"),
    ),
    Source("rating", "projects_rating", "r.org_path", "r.created_at", "timestamp"),
)
# A member's employment form, migrant flag and path are counted on every month of their memberships.
MEMBER_COLUMNS = ("employment_form", "is_migrant_worker", "org_path")


def _month(vendor: str, source: Source, alias: str = "r") -> str:
    expr = source.month.replace("r.", f"{alias}.")
    if vendor == "postgresql":
        if source.kind == "year":
            return f"make_date({expr}, 1, 1)"
        if source.kind == "timestamp":
            return f"date_trunc('month', {expr} - interval '1 day')::date"
        return f"date_trunc('month', {expr})::date"
    expr = expr.replace("LEAST(", "min(")  # SQLite's two-argument min() is NULL if either is
    if source.kind == "year":
        return f"printf('%04d-01-01', {expr})"
    if source.kind == "timestamp":
        return f"date({expr}, '-1 day', 'start of month')"
    return f"date({expr}, 'start of month')"


def _upsert(select: str) -> str:
    return (
        f"INSERT INTO {MARKS} (org_path, month, version) {select} "
        f"ON CONFLICT (org_path, month) DO UPDATE SET version = {MARKS}.version + 1"
    )


def _pg_select(source: Source, rows: str) -> str:
    path = source.path
    frm = f"{rows} r"
    if source.join:
        frm += f" JOIN {source.join[0]} ON {source.join[1]}"
    month = _month("postgresql", source)
    return (
        f"SELECT DISTINCT {path}, {month}, 1 FROM {frm} "
        f"WHERE {path} IS NOT NULL AND {path} <> '' AND {source.month} IS NOT NULL ORDER BY 1, 2"
    )


def postgresql_install() -> list[str]:
    out = []
    for s in SOURCES:
        fn = f"reports_mark_{s.name}"
        out.append(
            f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_upsert(_pg_select(s, "new_rows"))};
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {_upsert(_pg_select(s, "old_rows"))};
  END IF;
  RETURN NULL;
END $$"""
        )
        for event, refs in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            out.append(
                f"CREATE TRIGGER {fn}_{event.lower()} AFTER {event} ON {s.table} REFERENCING {refs} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
            )
    changed = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in MEMBER_COLUMNS)
    out.append(
        f"""CREATE OR REPLACE FUNCTION reports_mark_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {_upsert(f"SELECT DISTINCT p, DATE '{EARLIEST}', 1 FROM old_rows o JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.org_path), (n.org_path)) AS v(p) WHERE ({changed}) AND p <> '' ORDER BY 1")};
  RETURN NULL;
END $$"""
    )
    out.append(
        "CREATE TRIGGER reports_mark_member_update AFTER UPDATE ON members_member "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_mark_member()"
    )
    return out


def postgresql_uninstall() -> list[str]:
    out = []
    for s in SOURCES:
        for event in ("insert", "update", "delete"):
            out.append(f"DROP TRIGGER IF EXISTS reports_mark_{s.name}_{event} ON {s.table}")
        out.append(f"DROP FUNCTION IF EXISTS reports_mark_{s.name}()")
    out.append("DROP TRIGGER IF EXISTS reports_mark_member_update ON members_member")
    out.append("DROP FUNCTION IF EXISTS reports_mark_member()")
    return out


def postgresql_switch(*, enabled: bool) -> list[str]:
    """ALTER TABLE statements turning the marks off (a bulk load that rebuilds the summary after) or on again."""
    verb = "ENABLE" if enabled else "DISABLE"
    out = [
        f"ALTER TABLE {s.table} {verb} TRIGGER reports_mark_{s.name}_{e}"
        for s in SOURCES
        for e in ("insert", "update", "delete")
    ]
    out.append(f"ALTER TABLE members_member {verb} TRIGGER reports_mark_member_update")
    return out


def _sqlite_select(source: Source, row: str) -> str:
    path = source.path.replace("r.", f"{row}.")
    month = _month("sqlite", source, row)
    raw = source.month.replace("r.", f"{row}.").replace("LEAST(", "min(")
    where = f"{path} IS NOT NULL AND {path} <> '' AND {raw} IS NOT NULL"
    if source.join:
        cond = source.join[1].replace("r.", f"{row}.")
        return f"SELECT {path}, {month}, 1 FROM {source.join[0]} WHERE {cond} AND {where}"
    # "WHERE" also keeps SQLite from reading ON CONFLICT as a join constraint.
    return f"SELECT {path}, {month}, 1 WHERE {where}"


def sqlite_install() -> list[str]:
    out = []
    for s in SOURCES:
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            body = " ".join(_upsert(_sqlite_select(s, row)) + ";" for row in rows)
            out.append(
                f"CREATE TRIGGER reports_mark_{s.name}_{event.lower()} AFTER {event} ON {s.table} BEGIN {body} END"
            )
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in MEMBER_COLUMNS)
    body = " ".join(
        _upsert(f"SELECT {row}.org_path, '{EARLIEST}', 1 WHERE {row}.org_path <> ''") + ";" for row in ("OLD", "NEW")
    )
    out.append(
        f"CREATE TRIGGER reports_mark_member_update AFTER UPDATE ON members_member WHEN {changed} BEGIN {body} END"
    )
    return out


def sqlite_uninstall() -> list[str]:
    out = [f"DROP TRIGGER IF EXISTS reports_mark_{s.name}_{e}" for s in SOURCES for e in ("insert", "update", "delete")]
    out.append("DROP TRIGGER IF EXISTS reports_mark_member_update")
    return out


def install(schema_editor) -> None:
    """Create the triggers (a migration's forward step)."""
    vendor = schema_editor.connection.vendor
    sql = postgresql_install() if vendor == "postgresql" else sqlite_install() if vendor == "sqlite" else []
    for statement in sql:
        schema_editor.execute(statement)


def uninstall(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    sql = postgresql_uninstall() if vendor == "postgresql" else sqlite_uninstall() if vendor == "sqlite" else []
    for statement in sql:
        schema_editor.execute(statement)
