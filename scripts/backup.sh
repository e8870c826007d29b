#!/usr/bin/env bash
# Back up UnionPortal: the PostgreSQL database (pg_dump custom format), the uploaded
# files (MEDIA_ROOT) and the private attachments (PRIVATE_FILES_ROOT), into one
# timestamped folder; keep the newest BACKUP_KEEP folders.
#
#   DATABASE_URL   postgres://user[:password]@host[:port]/dbname   (required)
#   MEDIA_ROOT     uploaded files                  (default: var/media)
#   PRIVATE_FILES_ROOT  attachments (documents, photos)  (default: var/private)
#   BACKUP_DIR     where backup folders are made   (default: var/backups)
#   BACKUP_KEEP    how many backups to keep        (default: 14)
#
# The folder is written as <name>.partial and renamed when complete, so a backup that
# failed half-way is never taken for a good one. Prints the folder's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
# The dump and the archives hold personal data: readable by the backup's owner only,
# whatever the umask of the shell or cron job that runs this.
umask 077

: "${DATABASE_URL:?DATABASE_URL must be set (postgres://user@host:port/dbname)}"
MEDIA_ROOT="${MEDIA_ROOT:-var/media}"
PRIVATE_FILES_ROOT="${PRIVATE_FILES_ROOT:-var/private}"
BACKUP_DIR="${BACKUP_DIR:-var/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"

case "$DATABASE_URL" in
    postgres://* | postgresql://*) ;;
    *)
        echo "backup.sh: DATABASE_URL is not PostgreSQL. For the embedded SQLite demo, stop the" >&2
        echo "server and copy var/unionportal.sqlite3, var/media and var/private instead." >&2
        exit 2
        ;;
esac
if ! [[ "$BACKUP_KEEP" =~ ^[1-9][0-9]*$ ]]; then
    echo "backup.sh: BACKUP_KEEP must be a whole number of backups to keep (1 or more), got '$BACKUP_KEEP'" >&2
    exit 2
fi

mkdir -p "$BACKUP_DIR"
name="unionportal-$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$BACKUP_DIR/$name" ] || [ -e "$BACKUP_DIR/$name.partial" ]; do
    sleep 1
    name="unionportal-$(date -u +%Y%m%dT%H%M%SZ)"
done
partial="$BACKUP_DIR/$name.partial"
mkdir "$partial"
trap 'rm -rf "$partial"' ERR INT TERM

# Custom format: compressed, restorable table by table, and pg_restore checks it.
pg_dump --format=custom --no-owner --no-acl --file="$partial/database.dump" --dbname="$DATABASE_URL"

if [ -d "$MEDIA_ROOT" ]; then
    tar -C "$MEDIA_ROOT" -czf "$partial/media.tar.gz" .
else
    tar -czf "$partial/media.tar.gz" --files-from /dev/null
fi
# Attachments are kept outside MEDIA_ROOT (no URL may ever serve them): a second archive.
if [ -d "$PRIVATE_FILES_ROOT" ]; then
    tar -C "$PRIVATE_FILES_ROOT" -czf "$partial/private.tar.gz" .
else
    tar -czf "$partial/private.tar.gz" --files-from /dev/null
fi

{
    echo "created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "pg_dump=$(pg_dump --version)"
    echo "media_root=$MEDIA_ROOT"
    echo "private_files_root=$PRIVATE_FILES_ROOT"
} >"$partial/INFO"
(cd "$partial" && sha256sum database.dump media.tar.gz private.tar.gz >SHA256SUMS)

mv "$partial" "$BACKUP_DIR/$name"
trap - ERR INT TERM

# Retention: the newest BACKUP_KEEP complete backups stay; older ones and stale partials go.
find "$BACKUP_DIR" -maxdepth 1 -type d -name 'unionportal-*.partial' -mmin +1440 -exec rm -rf {} +
mapfile -t old < <(find "$BACKUP_DIR" -maxdepth 1 -type d -name 'unionportal-*Z' | sort -r | tail -n +"$((BACKUP_KEEP + 1))")
for folder in "${old[@]}"; do
    rm -rf "$folder"
done

echo "$BACKUP_DIR/$name"
