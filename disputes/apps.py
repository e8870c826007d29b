from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = _("劳动争议调解")

    def ready(self):
        from django.db.models.signals import post_save

        from core.crypto import register_encrypted_field
        from members.selectors import register_personal_data_section
        from organizations.services import register_path_copy

        from . import selectors, summary
        from .models import BodySummary, Case, CaseParty, ClockEvent, EnterpriseRisk, MediationBody, Mediator

        # Moving an organisation rewrites every copy of its path in the same transaction.
        for model in (MediationBody, Mediator, Case, EnterpriseRisk, BodySummary):
            register_path_copy(model, "org_path")
        # Dispute facts and applicants' ID numbers are Fernet tokens: rotate_field_keys re-encrypts them.
        register_encrypted_field(Case, "facts_enc")
        register_encrypted_field(CaseParty, "id_number_enc")
        register_personal_data_section("disputes", selectors.personal_data_for_member)
        from .reminders import register as register_reminders  # its reminder kinds (activity.registry)

        register_reminders()
        # The district overview's per-body figures follow every case and clock change in the
        # same transaction (disputes.summary explains the locking).
        post_save.connect(summary.case_saved, sender=Case, dispatch_uid="disputes.summary.case")
        post_save.connect(summary.clock_event_saved, sender=ClockEvent, dispatch_uid="disputes.summary.clock")
