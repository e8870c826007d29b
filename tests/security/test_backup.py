"""Backups: scripts/backup.sh dumps the PostgreSQL database and the uploaded files,
scripts/restore.sh brings them back into a new database; the restore is checked table by
table against the original."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid

import psycopg2
import pytest
from django.db import connection

from tests.test_settings import ROOT

BACKUP = ROOT / "scripts" / "backup.sh"
RESTORE = ROOT / "scripts" / "restore.sh"
KEY_TABLES = (
    "organizations_organization",
    "organizations_enterprise",
    "organizations_officer",
    "organizations_servicestation",
    "organizations_roleassignment",
    "organizations_user",
    "activity_auditevent",
    "core_attachment",
)


def _url(name: str | None = None) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name or s['NAME']}"


def _run(script, *args, env: dict, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", str(script), *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _partitioned(dbname: str) -> bool:
    params = {**connection.get_connection_params(), "dbname": dbname}
    with contextlib.closing(psycopg2.connect(**params)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'activity_auditevent'")
        return cursor.fetchone()[0] == "p"


def _counts(dbname: str) -> dict[str, int]:
    params = {**connection.get_connection_params(), "dbname": dbname}
    with contextlib.closing(psycopg2.connect(**params)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        # On the audit table itself (its monthly partitions carry clones of it).
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'activity_audit_guard'"
            " AND tgrelid = 'activity_auditevent'::regclass"
        )
        counts["<audit trigger>"] = cursor.fetchone()[0]
        return counts


def _drop(dbname: str) -> None:
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with contextlib.closing(psycopg2.connect(**params)) as conn:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _databases() -> set[str]:
    params = {**connection.get_connection_params(), "dbname": "postgres"}
    with contextlib.closing(psycopg2.connect(**params)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def scratch_db():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    yield name
    _drop(name)


def test_it_backs_up_and_restores_the_database_and_the_files(
    postgres_only, transactional_db, sides, tmp_path, scratch_db
):
    media = tmp_path / "media"
    (media / "assistance" / "2026").mkdir(parents=True)
    (media / "assistance" / "2026" / "收入证明.pdf").write_bytes(b"%PDF-1.7 test document")
    private = tmp_path / "private"
    (private / "2026" / "11").mkdir(parents=True)
    (private / "2026" / "11" / "0f3a9c").write_bytes(b"%PDF-1.7 diagnosis")
    backups = tmp_path / "backups"
    env = {
        "DATABASE_URL": _url(),
        "MEDIA_ROOT": str(media),
        "PRIVATE_FILES_ROOT": str(private),
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP": "2",
    }

    folder = _run(BACKUP, env=env).stdout.strip().splitlines()[-1]
    assert sorted(os.listdir(folder)) == ["INFO", "SHA256SUMS", "database.dump", "media.tar.gz", "private.tar.gz"]

    restored_media, restored_private = tmp_path / "restored-media", tmp_path / "restored-private"
    restore_env = {
        **env,
        "RESTORE_MEDIA_ROOT": str(restored_media),
        "RESTORE_PRIVATE_FILES_ROOT": str(restored_private),
    }
    result = _run(RESTORE, folder, scratch_db, env=restore_env)
    assert scratch_db in result.stdout

    original, restored = _counts(connection.settings_dict["NAME"]), _counts(scratch_db)
    assert restored == original
    for table in KEY_TABLES:
        assert original[table] > 0, table
    assert restored["<audit trigger>"] == 1  # the append-only guard comes back with the data
    assert _partitioned(scratch_db)  # and the table is still partitioned by month
    assert (restored_media / "assistance" / "2026" / "收入证明.pdf").read_bytes() == b"%PDF-1.7 test document"
    # Attachments live outside MEDIA_ROOT: a backup without them would lose every document.
    assert (restored_private / "2026" / "11" / "0f3a9c").read_bytes() == b"%PDF-1.7 diagnosis"


def test_it_keeps_only_the_newest_backups(postgres_only, transactional_db, tmp_path):
    env = {
        "DATABASE_URL": _url(),
        "MEDIA_ROOT": str(tmp_path / "none"),
        "BACKUP_DIR": str(tmp_path),
        "BACKUP_KEEP": "2",
    }
    made = [_run(BACKUP, env=env).stdout.strip().splitlines()[-1] for _ in range(3)]
    kept = sorted(str(tmp_path / name) for name in os.listdir(tmp_path) if name.startswith("unionportal-"))
    assert kept == sorted(made[1:])


def test_its_backups_are_readable_by_their_owner_only(postgres_only, transactional_db, tmp_path):
    env = {"DATABASE_URL": _url(), "MEDIA_ROOT": str(tmp_path / "none"), "BACKUP_DIR": str(tmp_path / "b")}
    old = os.umask(0o022)  # a shell's usual umask: files 0644, folders 0755
    try:
        folder = _run(BACKUP, env=env).stdout.strip().splitlines()[-1]
    finally:
        os.umask(old)
    for path in [folder, *(os.path.join(folder, name) for name in os.listdir(folder))]:
        assert os.stat(path).st_mode & 0o077 == 0, (path, oct(os.stat(path).st_mode))


def test_it_refuses_to_restore_over_an_existing_database(postgres_only, transactional_db, tmp_path):
    env = {"DATABASE_URL": _url(), "MEDIA_ROOT": str(tmp_path / "none"), "BACKUP_DIR": str(tmp_path / "b")}
    folder = _run(BACKUP, env=env).stdout.strip().splitlines()[-1]
    result = _run(RESTORE, folder, connection.settings_dict["NAME"], env=env, check=False)
    assert result.returncode == 4
    assert "exists" in result.stderr


def test_it_creates_no_database_when_it_cannot_unpack_the_files(postgres_only, transactional_db, tmp_path, scratch_db):
    env = {"DATABASE_URL": _url(), "MEDIA_ROOT": str(tmp_path / "none"), "BACKUP_DIR": str(tmp_path / "b")}
    folder = _run(BACKUP, env=env).stdout.strip().splitlines()[-1]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # no one, not even root, makes a folder under a file
    result = _run(RESTORE, folder, scratch_db, env={**env, "RESTORE_MEDIA_ROOT": str(blocker / "media")}, check=False)
    assert result.returncode == 4, result.stderr
    assert "RESTORE_MEDIA_ROOT" in result.stderr
    assert scratch_db not in _databases()


def test_it_refuses_a_damaged_backup(postgres_only, transactional_db, tmp_path, scratch_db):
    env = {"DATABASE_URL": _url(), "MEDIA_ROOT": str(tmp_path / "none"), "BACKUP_DIR": str(tmp_path / "b")}
    folder = _run(BACKUP, env=env).stdout.strip().splitlines()[-1]
    with open(os.path.join(folder, "database.dump"), "ab") as dump:
        dump.write(b"tampered")
    result = _run(RESTORE, folder, scratch_db, env=env, check=False)
    assert result.returncode == 3
    assert "damaged" in result.stderr


def test_it_explains_that_sqlite_is_backed_up_by_copying(tmp_path):
    result = _run(BACKUP, env={"DATABASE_URL": "sqlite:///var/unionportal.sqlite3"}, check=False)
    assert result.returncode == 2
    assert "not PostgreSQL" in result.stderr
