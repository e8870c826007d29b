from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("会员")

    def ready(self):
        from core.audit import register_action_labels

        from . import audit_labels

        register_action_labels(audit_labels.ACTION_LABELS, areas=audit_labels.AREAS)
        from core.crypto import register_encrypted_field
        from organizations.services import register_member_counter, register_merge_hook, register_path_copy

        from . import services
        from .models import ImportJob, JoinApplication, JoinCode, Member, Membership, Transfer

        # Moving an organisation rewrites every copy of its path in the same transaction.
        for model, field in (
            (Member, "org_path"),
            (Membership, "org_path"),
            (JoinCode, "org_path"),
            (JoinApplication, "org_path"),
            (ImportJob, "org_path"),
            (Transfer, "from_path"),
            (Transfer, "to_path"),
        ):
            register_path_copy(model, field)
        # ID numbers and mobiles are Fernet tokens: rotate_field_keys re-encrypts these.
        register_encrypted_field(Member, "id_number_enc", "mobile_enc")
        register_encrypted_field(JoinApplication, "id_number_enc", "mobile_enc")
        # The login page (organizations) tells a pending applicant, proven by the password
        # they chose, where their application waits (issue 15, item 10).
        from organizations.forms import register_sign_in_hint

        from .auth import pending_application_hint

        register_sign_in_hint(pending_application_hint)
        register_member_counter(services.active_members_by_path, at_paths=services.active_members_at)
        register_merge_hook(services.memberships_follow_merge)
        from .reminders import register as register_reminders  # its reminder kinds (activity.registry)

        register_reminders()
