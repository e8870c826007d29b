"""Bulk import of a member roster (xlsx or csv) into one union: fast, checked, all-or-nothing.

Planning (main thread), in batches of BATCH_SIZE rows, streaming:
  every row is checked (name, ID number with checksum/birth date/age, mobile, choices,
  dates); duplicates are caught within the file (dicts of blind indexes) and against the
  roll (one query per batch, by blind index); each row gets an outcome (created, updated,
  skipped, error) written to the report and error files with masked ID numbers only.
  Rows to write are encrypted in bulk (crypto.BatchEncryptor) and encoded for the writer.

Writing, in ONE transaction, so that either everything planned is written or nothing is:
  - PostgreSQL: ids come from the sequences and member numbers from the union's locked
    counter while planning, so new members and memberships are COPYed straight into
    their tables; rows about people already on the roll go through a temporary table and
    are re-checked under row locks. When the importer owns the transaction (the Celery
    task), a writer thread does this on its own connection while the main thread plans
    the next batch: Python on one core, PostgreSQL on the other.
  - SQLite: the batches are spooled, then loaded into a temporary table and applied with
    set-based INSERT/UPDATE statements under SQLite's database write lock.

Mode "all_or_nothing" rolls everything back if any row has an error; "valid_only" writes
the valid rows and reports the others.
"""

from .files import COLUMNS, HEADER_ALIASES, ImportFileError, detect_format, estimate_rows, read_rows
from .jobs import import_job_create, import_job_errors, import_job_run
from .plan import ImportResult
from .run import import_rows
from .template import template_csv, template_xlsx

__all__ = [
    "COLUMNS",
    "HEADER_ALIASES",
    "ImportFileError",
    "ImportResult",
    "detect_format",
    "estimate_rows",
    "import_job_create",
    "import_job_errors",
    "import_job_run",
    "import_rows",
    "read_rows",
    "template_csv",
    "template_xlsx",
]
