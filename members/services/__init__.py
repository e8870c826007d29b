"""Every write to the member roll: registration, scan-to-join, transfers, leaving, honours.

Services are keyword-only and atomic; each checks the actor's capability where it acts
(organizations.services.require: 404 outside the reach, 403 without the right), locks the
rows it changes, follows the state tables below, and records an audit event. Audit data
never holds a full ID number or mobile: only masked forms.
"""

from __future__ import annotations

from .common import (
    CURRENT_NOTICE_VERSION,
    JOIN_CODE_SALT,
    MAX_SEQ,
    PROFILE_FIELDS,
    SEQ_DIGITS,
    allocate_member_numbers,
    reserve_member_numbers,
)
from .corrections import CORRECTABLE_FIELDS, member_correct
from .joining import (
    join_application_approve,
    join_application_reject,
    join_application_submit,
    join_application_verify_identity,
    join_code_create,
    join_code_public,
    join_code_resolve,
    join_code_revoke,
    join_identity_claim_refuse,
    member_register,
)
from .password_reset import password_reset_confirm, password_reset_request
from .records import (
    active_members_at,
    active_members_by_path,
    honour_add,
    join_applications_purge_expired,
    member_data_export,
    member_reveal,
    member_update,
    member_update_contact,
    memberships_follow_merge,
    worker_password_change,
)
from .transfers import (
    membership_decease,
    membership_leave,
    membership_retire,
    transfer_accept,
    transfer_cancel,
    transfer_consent,
    transfer_decline,
    transfer_reject,
    transfer_request,
    transfer_request_by_id_number,
)

__all__ = [
    "password_reset_confirm",
    "password_reset_request",
    "CORRECTABLE_FIELDS",
    "CURRENT_NOTICE_VERSION",
    "JOIN_CODE_SALT",
    "MAX_SEQ",
    "PROFILE_FIELDS",
    "SEQ_DIGITS",
    "active_members_at",
    "active_members_by_path",
    "allocate_member_numbers",
    "honour_add",
    "join_application_approve",
    "join_application_reject",
    "join_application_submit",
    "join_application_verify_identity",
    "join_applications_purge_expired",
    "join_code_create",
    "join_code_public",
    "join_code_resolve",
    "join_code_revoke",
    "join_identity_claim_refuse",
    "member_correct",
    "member_data_export",
    "member_register",
    "member_reveal",
    "member_update",
    "member_update_contact",
    "membership_decease",
    "membership_leave",
    "membership_retire",
    "memberships_follow_merge",
    "reserve_member_numbers",
    "transfer_accept",
    "transfer_cancel",
    "transfer_consent",
    "transfer_decline",
    "transfer_reject",
    "transfer_request",
    "transfer_request_by_id_number",
    "worker_password_change",
]
