"""Re-encrypt stored personal data under the newest FIELD_ENCRYPTION_KEYS key.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy,
run this command, then drop the old keys. What is re-encrypted is the registry of
core.crypto (`register_encrypted_field`): every app declares its own encrypted fields, and
this command needs no edit when an app adds some. Rows are handled in id order, in
batches, each batch in its own transaction with its rows locked, so it can run while the
portal is up and can be re-run after an interruption (rows already under the newest key
are skipped).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from core import crypto
from core.audit import log_action


class Command(BaseCommand):
    help = "Re-encrypt every registered encrypted field (ID numbers, mobiles…) under the newest key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        total = {}
        for model, fields in crypto.encrypted_fields().items():
            total[model._meta.label] = self._rotate(model, fields, batch_size, dry_run)
        if not dry_run:
            # The action keeps its first name so that audit searches made before still find it.
            log_action(actor=None, action="member.field_keys_rotated", data={"rotated": total})
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        for label, n in total.items():
            self.stdout.write(f"{label}: {verb} {n} rows")
        return None

    def _rotate(self, model, fields, batch_size: int, dry_run: bool) -> int:
        changed_rows = 0
        last = 0
        while True:
            with transaction.atomic():
                batch = list(
                    model._base_manager.select_for_update()
                    .filter(pk__gt=last)
                    .order_by("pk")
                    .only("pk", *fields)[:batch_size]
                )
                if not batch:
                    return changed_rows
                last = batch[-1].pk
                dirty = []
                for row in batch:
                    changed = False
                    for field in fields:
                        token = getattr(row, field)
                        if token and not crypto.is_current(token):
                            setattr(row, field, crypto.rotate(token))
                            changed = True
                    if changed:
                        dirty.append(row)
                if dirty and not dry_run:
                    model._base_manager.bulk_update(dirty, fields)
                changed_rows += len(dirty)
