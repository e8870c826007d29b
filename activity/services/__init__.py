"""Writes of the activity app, by area: the audit log's store, notifications and reminders."""

from .audit import audit_event_record, audit_partitions_ensure, audit_purge_expired
from .notifications import (
    notification_mark_all_read,
    notification_mark_read,
    notify,
    preferences_save,
)
from .reminders import deliveries_send_due, delivery_retry, delivery_send, reminders_sweep

__all__ = [
    "audit_event_record",
    "audit_partitions_ensure",
    "audit_purge_expired",
    "deliveries_send_due",
    "delivery_retry",
    "delivery_send",
    "notification_mark_all_read",
    "notification_mark_read",
    "notify",
    "preferences_save",
    "reminders_sweep",
]
