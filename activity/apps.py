from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = _("审计与提醒")

    def ready(self):
        from core.audit import register_audit_sink

        from . import signals  # noqa: F401  (login/logout/failed-login audit receivers)
        from .services import audit_event_record

        # core.audit.log_action stores its events through this (core may not import activity).
        register_audit_sink(audit_event_record)

        # Notifications: the shared kits' reminder kinds; the domains register theirs in
        # their own ready (each app's reminders.py). Moving an organisation rewrites the
        # path copies of the ledger, its deliveries and the inbox.
        from organizations.services import register_path_copy

        from . import reminders
        from .models import Delivery, Notification, Reminder

        reminders.register()
        from core.audit import register_action_labels

        register_action_labels(
            {"notifications.preferences_saved": _("保存提醒方式"), "notifications.delivery_retried": _("重发提醒")},
            areas={"notifications": _("消息通知")},
        )
        for model in (Reminder, Delivery, Notification):
            register_path_copy(model, "org_path")
