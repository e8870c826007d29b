from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnionPortalConfig(AppConfig):
    """The wiring package as an app only for commands that compose every app (seed_demo)."""

    name = "unionportal"
    verbose_name = _("系统运行")
