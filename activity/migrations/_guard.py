"""The append-only guard of the audit table (PostgreSQL), shared by the migrations that
(re)create the table: UPDATE always refused, DELETE only of rows older than 183 days."""

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
