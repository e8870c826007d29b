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
