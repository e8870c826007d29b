from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = _("审计与提醒")

    def ready(self):
        from . import signals  # noqa: F401  (login/logout/failed-login audit receivers)
