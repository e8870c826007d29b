"""On PostgreSQL, make the audit table append-only at the database level.

UPDATE is always refused; DELETE only for rows older than 183 days (the six-month floor
of the Cybersecurity Law, art. 21), which is what retention purging needs. SQLite, the
embedded demo database, relies on the application-level guard alone.
"""

from django.db import migrations

from activity.migrations import _guard

CREATE = _guard.CREATE
DROP = """
DROP TRIGGER IF EXISTS activity_audit_guard ON activity_auditevent;
DROP FUNCTION IF EXISTS activity_audit_guard();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("activity", "0002_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
