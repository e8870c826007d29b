"""On PostgreSQL, make the audit table append-only at the database level.

UPDATE is always refused; DELETE only for rows older than 183 days (the six-month floor
of the Cybersecurity Law, art. 21), which is what retention purging needs. SQLite, the
embedded demo database, relies on the application-level guard alone.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION activity_audit_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit events are append-only (UPDATE refused)';
    END IF;
    IF TG_OP = 'DELETE' AND OLD.created_at > now() - interval '183 days' THEN
        RAISE EXCEPTION 'audit events younger than 183 days cannot be deleted';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS activity_audit_guard ON activity_auditevent;
CREATE TRIGGER activity_audit_guard BEFORE UPDATE OR DELETE ON activity_auditevent
    FOR EACH ROW EXECUTE FUNCTION activity_audit_guard();
"""
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
