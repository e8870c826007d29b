from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = _("困难帮扶")

    def ready(self):
        from core.crypto import register_encrypted_field
        from members.selectors import register_personal_data_section
        from organizations.services import register_path_copy

        from . import selectors, services  # noqa: F401  (declares the state machines)
        from .models import (
            Allocation,
            Budget,
            Campaign,
            Fund,
            Grant,
            HardshipFile,
            HouseholdMember,
            Investigation,
            LedgerEntry,
            Objection,
            PublicNotice,
        )

        # Moving an organisation rewrites every copy of its path in the same transaction.
        for model in (
            HardshipFile,
            HouseholdMember,
            Investigation,
            PublicNotice,
            Objection,
            Fund,
            Budget,
            Allocation,
            LedgerEntry,
            Grant,
            Campaign,
        ):
            register_path_copy(model, "org_path")
        # Incomes, health and disability are personal data: rotate_field_keys re-encrypts them.
        register_encrypted_field(HouseholdMember, "income_enc", "health_enc", "disability_enc")
        register_personal_data_section("hardship_aid", selectors.personal_data_for_member)
        from .reminders import register as register_reminders  # its reminder kinds (activity.registry)

        register_reminders()
