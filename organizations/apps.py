from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("组织与权限")

    def ready(self):
        from core.audit import register_action_labels

        from . import audit_labels

        register_action_labels(audit_labels.ACTION_LABELS, areas=audit_labels.AREAS)
        from core.admin import register_fk_choices, register_reach_list_filter
        from core.scoping import register_assignment_source

        from . import otp  # noqa: F401  (records at sign-in whether the second factor is needed)
        from .admin_filters import ReachListFilter, active_orgs_for
        from .models import Organization
        from .selectors import role_assignments_of

        # core sits below organizations: it reads role assignments, limits the admin's
        # foreign keys to organisations and filters its changelists by district, through
        # what is registered here.
        register_assignment_source(role_assignments_of)
        register_fk_choices(Organization, active_orgs_for)
        register_reach_list_filter(ReachListFilter)
