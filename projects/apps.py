from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("服务项目")

    def ready(self):
        from core.audit import register_action_labels

        from . import audit_labels

        register_action_labels(audit_labels.ACTION_LABELS, areas=audit_labels.AREAS)
        from members.selectors import register_personal_data_section
        from organizations.services import register_path_copy

        from . import selectors, services  # noqa: F401  (declares the state machines)
        from .models import (
            Demand,
            Enrolment,
            Evaluation,
            Project,
            ProjectImplementer,
            Rating,
            Result,
            Review,
            Session,
        )

        # Moving an organisation rewrites every copy of its path in the same transaction.
        for model in (Demand, Project, ProjectImplementer, Review, Session, Enrolment, Rating, Result, Evaluation):
            register_path_copy(model, "org_path")
        register_personal_data_section("projects", selectors.personal_data_section)
        from .reminders import register as register_reminders  # its reminder kinds (activity.registry)

        register_reminders()
