"""Name and initials search inside a subtree at 10M members: one index per searched column.

Each index is (column, org_path, id) in byte order (COLLATE "C" on PostgreSQL), the order
members.selectors.member_search returns: a prefix search in a district reads one index range
in order, checks the district on the index entries and stops after a page. They replace the
single-column varchar_pattern_ops indexes, which served the prefix but not the scope or the
order (462–664 ms p95 for two initials in a district at 10M).

PostgreSQL: built CONCURRENTLY (the member table stays writable; the migration is not
atomic), an invalid left-over of an interrupted build is dropped first. The collation cannot
be declared portably in Meta.indexes (SQLite has no "C" collation; its BINARY default is
byte order already), so the indexes live here and Django's state only forgets the old ones.
"""

from django.db import migrations

TABLE = "members_member"
NEW = {
    "member_initials_path_idx": "name_initials",
    "member_name_path_idx": "name",
}
OLD = {
    "member_initials_idx": "name_initials",
    "member_name_idx": "name",
}


def _drop_invalid(schema_editor, name: str) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname = %s AND NOT x.indisvalid",
            [name],
        )
        if cur.fetchone():
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in NEW.items():
            _drop_invalid(schema_editor, name)
            schema_editor.execute(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON {TABLE} '
                f'("{column}" COLLATE "C", "org_path" COLLATE "C", "id")'
            )
        for name in OLD:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    else:
        for name, column in NEW.items():
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON {TABLE} ("{column}", "org_path", "id")')
        for name in OLD:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in OLD.items():
            _drop_invalid(schema_editor, name)
            schema_editor.execute(
                f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON {TABLE} ("{column}" varchar_pattern_ops)'
            )
        for name in NEW:
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    else:
        for name, column in OLD.items():
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON {TABLE} ("{column}")')
        for name in NEW:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("members", "0005_import_error_full_path")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="member", name="member_name_idx"),
                migrations.RemoveIndex(model_name="member", name="member_initials_idx"),
            ],
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
        )
    ]
