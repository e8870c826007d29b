"""One reminder sweep over every domain: `python -m bench.reminders_bench [--members N | --database-url URL]`.

Against the synthetic city (bench/generate.py plus the domains' generated data), times
for each source registered with activity (approvals, members, assistance, disputes,
projects):

- scan: finding what is due today (the source's reminders.py), recipients resolved;
- sweep: the scan plus the ledger rows, the deliveries and sending them (inbox rows;
  email and SMS through the console/logging backends, so nothing leaves the machine);
- the same sweep again (a retry, or the next run that day): everything found is already
  in the ledger and nothing is sent twice.

Everything runs inside one transaction that is rolled back at the end (the ledger tables
are created inside it if the bench database lacks them), so the shared city is left as
it was and the run can be repeated. Target: the whole sweep under 60 s at 10M members.
Writes bench/results/reminders-<members>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60


class Rollback(Exception):
    pass


def _ensure_tables() -> list[str]:
    """Create the ledger's tables inside the current transaction if the database has none."""
    from django.db import connection

    from activity.models import Delivery, Notification, NotificationPreference, Reminder

    existing = set(connection.introspection.table_names())
    made = []
    with connection.schema_editor(atomic=False) as editor:
        for model in (Reminder, Delivery, Notification, NotificationPreference):
            if model._meta.db_table not in existing:
                editor.create_model(model)
                made.append(model._meta.db_table)
    return made


def measure(today=None) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from activity import recipients, registry
    from activity.services import reminders_sweep

    today = today or timezone.localdate()
    out: dict = {"today": today.isoformat(), "sources": {}}
    try:
        with transaction.atomic():
            out["tables_created_for_the_run"] = _ensure_tables()
            scan_total = sweep_total = 0.0
            for name, source in sorted(registry.sources().items()):
                if source.scan is None:
                    continue
                recipients.forget()
                started = time.perf_counter()
                due = sum(1 for _ in source.scan(today))
                scan_s = time.perf_counter() - started
                result = reminders_sweep(source=name, today=today)
                out["sources"][name] = {
                    "due": due,
                    "scan_s": round(scan_s, 2),
                    "sweep_s": round(result.seconds, 2),
                    "deliveries": result.deliveries,
                    "sent": result.sent,
                }
                scan_total += scan_s
                sweep_total += result.seconds
                print(f"{name:<11} due {due:>7}  scan {scan_s:7.2f} s  sweep {result.seconds:7.2f} s", flush=True)
            # The same sweep again (a retry, or the next run of the day): all in the ledger, nothing to send.
            again = sum(
                reminders_sweep(source=name, today=today).seconds
                for name, source in sorted(registry.sources().items())
                if source.scan is not None
            )
            out["sweep_again_s"] = round(again, 2)
            out["scan_total_s"] = round(scan_total, 2)
            out["sweep_total_s"] = round(sweep_total, 2)
            out["target_s"] = TARGET_SECONDS
            out["met"] = sweep_total < TARGET_SECONDS
            raise Rollback
    except Rollback:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000_000)
    parser.add_argument("--database-url", default=None, help="default: the bench database of --members")
    args = parser.parse_args()

    from bench.generate import bench_env, bench_keys, database_url_for

    url = args.database_url or database_url_for(args.members)
    os.environ.update(bench_env(url, bench_keys()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    os.environ["SMS_BACKEND"] = "core.sms.LoggingBackend"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    import django

    django.setup()
    import logging

    logging.getLogger("unionportal.sms").setLevel(logging.WARNING)
    result = measure()
    result.update({"members": args.members, "database": url.rsplit("/", 1)[-1]})
    path = ROOT / "bench" / "results" / f"reminders-{args.members}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(
        f"one sweep over every domain: {result['sweep_total_s']} s (scan {result['scan_total_s']} s, "
        f"the same sweep again {result['sweep_again_s']} s); "
        f"target < {TARGET_SECONDS} s: {'met' if result['met'] else 'NOT met'} → {path.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
