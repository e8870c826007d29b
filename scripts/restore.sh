#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a named database, and its files.
#
#   scripts/restore.sh <backup-folder> <database-name>
#
#   DATABASE_URL        the PostgreSQL server and credentials to use (its database name is
#                       replaced by <database-name>)                         (required)
#   RESTORE_MEDIA_ROOT  where to unpack the uploaded files     (default: MEDIA_ROOT or var/media)
#   RESTORE_REPLACE=1   drop an existing <database-name> and move existing files aside;
#                       without it, an existing database or non-empty folder is refused.
#
# Restore into a new database, check it, then point DATABASE_URL at it: the running
# system is never overwritten by accident.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 2 ]; then
    echo "usage: scripts/restore.sh <backup-folder> <database-name>" >&2
    exit 2
fi
backup="$1"
target="$2"
: "${DATABASE_URL:?DATABASE_URL must be set (postgres://user@host:port/any-database)}"
media="${RESTORE_MEDIA_ROOT:-${MEDIA_ROOT:-var/media}}"
replace="${RESTORE_REPLACE:-0}"

if ! [[ "$target" =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]]; then
    echo "restore.sh: database name '$target' must be letters, digits and _ (not starting with a digit)" >&2
    exit 2
fi
for file in database.dump media.tar.gz SHA256SUMS; do
    if [ ! -f "$backup/$file" ]; then
        echo "restore.sh: $backup/$file is missing: is this a complete backup folder?" >&2
        exit 2
    fi
done
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || {
    echo "restore.sh: checksums of $backup do not match: the backup is damaged" >&2
    exit 3
}

# postgres://user@host:port/dbname?options -> the same server, another database.
without_query="${DATABASE_URL%%\?*}"
query="${DATABASE_URL#"$without_query"}"
server="${without_query%/*}"
admin_url="$server/postgres$query"
target_url="$server/$target$query"

exists="$(psql --dbname="$admin_url" -Atc "SELECT 1 FROM pg_database WHERE datname = '$target'")"
if [ "$exists" = "1" ]; then
    if [ "$replace" != "1" ]; then
        echo "restore.sh: database '$target' exists; choose a new name or set RESTORE_REPLACE=1 to drop it" >&2
        exit 4
    fi
    psql --dbname="$admin_url" -qc "DROP DATABASE \"$target\" WITH (FORCE)"
fi
psql --dbname="$admin_url" -qc "CREATE DATABASE \"$target\""
pg_restore --no-owner --no-acl --exit-on-error --dbname="$target_url" "$backup/database.dump"

if [ -d "$media" ] && [ -n "$(ls -A "$media")" ]; then
    if [ "$replace" != "1" ]; then
        echo "restore.sh: $media is not empty; set RESTORE_MEDIA_ROOT to an empty folder or RESTORE_REPLACE=1" >&2
        exit 4
    fi
    mv "$media" "$media.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
fi
mkdir -p "$media"
tar -C "$media" -xzf "$backup/media.tar.gz"

echo "restored $backup into database '$target' and $media"
