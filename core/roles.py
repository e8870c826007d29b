"""What each staff role may do, as one table of capabilities.

A capability holds at the organisation of the assignment and everything under it.
Reading (`view`) is what every role gives; the rest are named `<area>.<verb>`.
"""

VIEW = "view"
ORG_MANAGE = "org.manage"  # create/edit/move/dissolve organisations, enterprises, officers, stations
ROLE_MANAGE = "role.manage"  # assign and revoke staff roles
AUDIT_VIEW = "audit.view"
MEMBER_MANAGE = "member.manage"
PERSONAL_DATA_FULL = "personal_data.full"  # see full ID numbers and phones (each view audited)
AID_MANAGE = "aid.manage"
AID_APPROVE = "aid.approve"
DISPUTE_MANAGE = "dispute.manage"
DISPUTE_MEDIATE = "dispute.mediate"
PROJECT_MANAGE = "project.manage"
REPORT_VIEW = "report.view"

_ALL = frozenset(
    {
        VIEW,
        ORG_MANAGE,
        ROLE_MANAGE,
        AUDIT_VIEW,
        MEMBER_MANAGE,
        PERSONAL_DATA_FULL,
        AID_MANAGE,
        AID_APPROVE,
        DISPUTE_MANAGE,
        DISPUTE_MEDIATE,
        PROJECT_MANAGE,
        REPORT_VIEW,
    }
)

# Every capability there is: reach_paths refuses any other name (a typo must not read as "nowhere").
ALL_CAPABILITIES = _ALL

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    "federation_admin": _ALL,
    "clerk": frozenset({VIEW, ORG_MANAGE, MEMBER_MANAGE, REPORT_VIEW}),
    "aid_officer": frozenset({VIEW, AID_MANAGE, AID_APPROVE, PERSONAL_DATA_FULL, REPORT_VIEW}),
    "mediator": frozenset({VIEW, DISPUTE_MEDIATE}),
    "project_officer": frozenset({VIEW, PROJECT_MANAGE, REPORT_VIEW}),
    "auditor": frozenset({VIEW, AUDIT_VIEW, REPORT_VIEW}),
}
