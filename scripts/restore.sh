#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a named database, and its files.
#
#   scripts/restore.sh <backup-folder> <database-name>
#
#   DATABASE_URL        the PostgreSQL server and credentials to use (its database name is
#                       replaced by <database-name>)                         (required)
#   RESTORE_MEDIA_ROOT  where to unpack the uploaded files     (default: MEDIA_ROOT or var/media)
#   RESTORE_PRIVATE_FILES_ROOT  where to unpack the attachments
#                       (default: PRIVATE_FILES_ROOT or var/private; backups made before
#                       attachments existed have none, and that is fine)
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
private="${RESTORE_PRIVATE_FILES_ROOT:-${PRIVATE_FILES_ROOT:-var/private}}"
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

# A non-empty folder is refused before the database is created, so a refusal changes nothing.
check_empty() {
    if [ -d "$1" ] && [ -n "$(ls -A "$1")" ] && [ "$replace" != "1" ]; then
        echo "restore.sh: $1 is not empty; set $2 to an empty folder or RESTORE_REPLACE=1" >&2
        exit 4
    fi
}
# The folders are made (or found writable) before the database is created: a restore that
# could not unpack its files would otherwise leave a restored database without them.
check_writable() {
    if ! mkdir -p "$1" 2>/dev/null || [ ! -w "$1" ] || [ ! -w "$(dirname "$1")" ]; then
        echo "restore.sh: cannot write $1 (or its parent folder); set $2 to a folder this user may create" >&2
        exit 4
    fi
}
unpack() {
    if [ -d "$2" ] && [ -n "$(ls -A "$2")" ]; then
        mv "$2" "$2.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    fi
    mkdir -p "$2"
    tar -C "$2" -xzf "$1"
}

check_empty "$media" RESTORE_MEDIA_ROOT
check_writable "$media" RESTORE_MEDIA_ROOT
if [ -f "$backup/private.tar.gz" ]; then
    check_empty "$private" RESTORE_PRIVATE_FILES_ROOT
    check_writable "$private" RESTORE_PRIVATE_FILES_ROOT
fi

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

unpack "$backup/media.tar.gz" "$media"
restored="$media"
if [ -f "$backup/private.tar.gz" ]; then
    unpack "$backup/private.tar.gz" "$private"
    restored="$media and $private"
fi

echo "restored $backup into database '$target' and $restored"
