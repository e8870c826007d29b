"""Snapshot the committed contents of the test database and put them back, cheaply.

The browser journeys need the seeded demo city committed (the live server thread reads
it) and each journey must start from exactly that city. Seeding costs seconds; putting
a snapshot back costs a fraction of one:

- PostgreSQL: the rows of every table are copied into a schema of their own (outside the
  search path, so Django's flush never sees it); restoring empties every table and
  copies the rows back in one transaction (foreign keys are deferred to its end), then
  moves each sequence past its table's highest id: one round trip.
- SQLite: the whole database is copied page by page with SQLite's backup API into a
  private in-memory database, and back again.

Every table Django knows is restored, so a test sees the snapshot and nothing a test
before it left behind (the tables it wrote to are emptied, not only the seeded ones).

Emptying tables on PostgreSQL: TRUNCATE gives every table a new file, which on a busy
machine costs seconds for the ~90 tables of this project, where DELETE of a test's few
thousand rows costs milliseconds. So both the restore and Django's own flush after each
transactional test (`install_fast_flush`) DELETE, in one transaction (the foreign keys
Django creates are checked at its end), and TRUNCATE only the tables whose own triggers
refuse deletes (the append-only audit table).
"""

from __future__ import annotations

import sqlite3

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction

SCHEMA = "test_snapshot"
_GUARDED: dict[str, frozenset[str]] = {}
# Written by other tables' triggers (the statistics' dirty marks, reports/marks.py): a DELETE or
# INSERT of a source table marks it, so it is emptied after them and filled from a snapshot last.
TRIGGER_FILLED = ("reports_statisticsmark",)


def _guarded_tables(conn) -> frozenset[str]:
    """Tables with triggers of their own (not foreign-key checks) that may refuse a DELETE."""
    name = conn.settings_dict["NAME"]
    if name not in _GUARDED:
        with conn.cursor() as cursor:
            # The statistics' marking triggers never refuse a delete (and a TRUNCATE of their tables
            # would trip over the foreign keys into them).
            cursor.execute(
                "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname NOT LIKE 'reports\\_mark\\_%'"
            )
            _GUARDED[name] = frozenset(row[0].strip('"') for row in cursor.fetchall())
    return _GUARDED[name]


def emptying_sql(conn, tables) -> list[str]:
    """PostgreSQL statements that empty `tables`: to run in one transaction."""
    qn = conn.ops.quote_name
    guarded = _guarded_tables(conn)
    # A guarded table is truncated only when it has rows (a TRUNCATE costs as much empty);
    # CASCADE: tables referencing it (a grant its hardship file) are emptied here anyway, and
    # a plain TRUNCATE of a referenced table is refused whatever the order.
    statements = [
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM {qn(t)}) THEN TRUNCATE {qn(t)} CASCADE; END IF; END $$"
        for t in tables
        if t in guarded
    ]
    deletes = [f"DELETE FROM {qn(t)}" for t in tables if t not in guarded and t not in TRIGGER_FILLED]
    return statements + deletes + [f"DELETE FROM {qn(t)}" for t in TRIGGER_FILLED if t in tables]


def install_fast_flush() -> None:
    """Django's flush (after each transactional test) empties PostgreSQL tables by DELETE.

    Only when it keeps the sequences, as the test cases do; `flush --reset-sequences`
    and every other backend are unchanged.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations.sql_flush, "fast_flush", False):
        return
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables:
            return original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        # One round trip: psycopg sends statements without parameters together.
        return [";\n".join(emptying_sql(self.connection, tables))]

    sql_flush.fast_flush = True
    DatabaseOperations.sql_flush = sql_flush


class Snapshot:
    """The database contents at `take()`; `restore()` makes the database equal to them again."""

    def __init__(self):
        self.vendor = connection.vendor
        self._sqlite: sqlite3.Connection | None = None
        self._tables: list[str] = []
        self._filled: list[tuple[str, str]] = []  # (table, column list) of tables with rows

    # --- taking -------------------------------------------------------------------------

    def take(self) -> Snapshot:
        if self.vendor == "postgresql":
            self._take_postgresql()
        elif self.vendor == "sqlite":
            self._take_sqlite()
        else:
            raise NotImplementedError(f"no snapshot for {self.vendor}")
        return self

    def _take_postgresql(self) -> None:
        self._tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
        qn = connection.ops.quote_name
        with connection.cursor() as cursor, transaction.atomic():
            cursor.execute(f"DROP SCHEMA IF EXISTS {qn(SCHEMA)} CASCADE")
            cursor.execute(f"CREATE SCHEMA {qn(SCHEMA)}")
            # Generated columns are computed again on insert; everything else is copied.
            cursor.execute(
                """
                SELECT table_name, string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
                FROM information_schema.columns
                WHERE table_schema = current_schema() AND is_generated = 'NEVER' AND table_name = ANY(%s)
                GROUP BY table_name
                """,
                [self._tables],
            )
            columns = dict(cursor.fetchall())
            for table in self._tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {qn(table)})")
                if cursor.fetchone()[0]:
                    cols = columns[table]
                    cursor.execute(f"CREATE TABLE {qn(SCHEMA)}.{qn(table)} AS SELECT {cols} FROM {qn(table)}")
                    self._filled.append((table, cols))

    def _take_sqlite(self) -> None:
        connection.ensure_connection()
        self._sqlite = sqlite3.connect(":memory:", check_same_thread=False)
        connection.connection.backup(self._sqlite)

    # --- restoring ----------------------------------------------------------------------

    def restore(self) -> None:
        if self.vendor == "postgresql":
            self._restore_postgresql()
        else:
            connection.ensure_connection()
            self._sqlite.backup(connection.connection)

    def _restore_postgresql(self) -> None:
        qn = connection.ops.quote_name
        # Tables created since the snapshot (there should be none) are emptied as well.
        tables = sorted(
            set(self._tables)
            | set(connection.introspection.django_table_names(only_existing=True, include_views=False))
        )
        models = apps.get_models(include_auto_created=True)
        statements = emptying_sql(connection, tables)
        insert = "INSERT INTO {0} ({1}) OVERRIDING SYSTEM VALUE SELECT {1} FROM {2}.{0}"
        late = [(t, c) for t, c in self._filled if t in TRIGGER_FILLED]
        statements += [insert.format(qn(t), c, qn(SCHEMA)) for t, c in self._filled if t not in TRIGGER_FILLED]
        statements += [f"DELETE FROM {qn(t)}" for t in TRIGGER_FILLED if t in tables]  # what those inserts marked
        statements += [insert.format(qn(t), c, qn(SCHEMA)) for t, c in late]
        statements += [sql.rstrip(";") for sql in connection.ops.sequence_reset_sql(no_style(), models)]
        # One round trip: the statements go together (no parameters, so psycopg sends them as one).
        with connection.cursor() as cursor, transaction.atomic():
            cursor.execute(";\n".join(statements))
