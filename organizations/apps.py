from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("组织与权限")

    def ready(self):
        from core.scoping import register_assignment_source

        from . import otp  # noqa: F401  (records at sign-in whether the second factor is needed)
        from .selectors import role_assignments_of

        register_assignment_source(role_assignments_of)
