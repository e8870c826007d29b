"""Scoped reads of the member roll. Every read starts from `…for_user(user)`.

Built for a 10M-member roll: the scope is a prefix match on an indexed path column;
search by mobile or ID number is an exact match on a blind index; name search is a
prefix match (no leading-% LIKE); lists use keyset pagination.
"""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from core import crypto
from core.pages import byte_order
from core.roles import VIEW
from core.scoping import has_capability

from .models import Honour, ImportJob, JoinApplication, JoinCode, Member, Membership, Transfer
from .validators import normalize_id_number, normalize_mobile, upgrade_15_to_18

_DIGITS = re.compile(r"[0-9]+")
_ID_LIKE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
_MOBILE_LIKE = re.compile(r"1[3-9][0-9]{9}")
_INITIALS = re.compile(r"[a-zA-Z]{1,30}")
MEMBER_NUMBER_MIN_LEN = 19


def members_for_user(user, capability: str = VIEW) -> QuerySet[Member]:
    """Members whose current union is in the user's reach (for `capability`), with that membership and union joined."""
    return Member.objects.for_user(user, capability).select_related("current_membership__union", "employer")


# What a roll list shows of each member: the encrypted values and blind indexes (most of a
# row's bytes) stay in the table.
MEMBER_LIST_COLUMNS = (
    "id",
    "name",
    "id_masked",
    "mobile_masked",
    "sex",
    "birth_date",
    "employer_name",
    "employment_form",
    "is_migrant_worker",
    "education",
    "skill_level",
    "user_id",
    "current_membership__id",
    "current_membership__member_number",
    "current_membership__status",
    "current_membership__joined_on",
    "current_membership__ended_on",
    "current_membership__end_reason",
    "current_membership__union__id",
    "current_membership__union__name",
    "current_membership__union__path",
)


def member_list_rows(user) -> QuerySet:
    """members_for_user as flat rows of the columns a list shows (values(): no model objects)."""
    return Member.objects.for_user(user).values(*MEMBER_LIST_COLUMNS)


def member_get(user, pk) -> Member:
    """The member if their current union is in the user's reach, else 404."""
    return get_object_or_404(members_for_user(user), pk=pk)


# A name or initials search is ordered by (that column, org_path, id), text in byte order,
# because one PostgreSQL index on exactly those columns (members/0006) then serves it all at
# 10M members: the prefix is the range of the first column, the clerk's subtree (org_path
# LIKE 'district%') is checked on the index entries without reading the table, and the
# order is the index's own, so a page reads its 50 rows and stops, however common the
# prefix ("z") or small the subtree. Ordered by id instead, PostgreSQL had to collect every
# match in the district and sort (or walk the whole roll backwards): 462–664 ms p95 for two
# initials at 10M.
SEARCH_KEYS = {
    "name_initials": ("name_initials", "org_path", "id"),
    "name": ("name", "org_path", "id"),
}


def _search_kind(q: str) -> str:
    as_id = normalize_id_number(q)
    if _ID_LIKE.fullmatch(as_id):
        return "id_number"
    if _MOBILE_LIKE.fullmatch(normalize_mobile(q)):
        return "mobile"
    if _DIGITS.fullmatch(q) and len(q) >= MEMBER_NUMBER_MIN_LEN:
        return "member_number"
    if _INITIALS.fullmatch(q):
        return "name_initials"
    return "name"


def member_search_keys(query: str) -> tuple[str, ...] | None:
    """The keyset order of the search box's results: the SEARCH_KEYS of a name or initials
    search, None for an exact lookup or an empty box (those keep the list's order)."""
    q = (query or "").strip()
    return SEARCH_KEYS.get(_search_kind(q)) if q else None


def member_search(qs: QuerySet[Member], query: str) -> QuerySet[Member]:
    """Narrow a scoped member queryset by one search box.

    - 18/15-character ID number -> blind index, exact
    - 11-digit mobile            -> blind index, exact
    - a full member number       -> exact
    - latin letters              -> pinyin initials prefix (zs -> 张三, 张顺…)
    - anything else              -> name prefix
    A name or initials search comes back ordered by its SEARCH_KEYS (page it with
    core.pages.keyset_page_by); the exact lookups keep the queryset's order.
    """
    q = (query or "").strip()
    if not q:
        return qs
    keys = member_search_keys(q)
    if keys is not None:
        matched = (
            qs.filter(name_initials__startswith=q.lower())
            if keys[0] == "name_initials"
            else qs.filter(name__startswith=q)
        )
        return matched.order_by(*[byte_order(matched, key) for key in keys])
    as_id = normalize_id_number(q)
    if _ID_LIKE.fullmatch(as_id):
        if len(as_id) == 15:
            as_id = upgrade_15_to_18(as_id)
        return qs.filter(id_number_hash=crypto.id_hash(as_id))
    as_mobile = normalize_mobile(q)
    if _MOBILE_LIKE.fullmatch(as_mobile):
        return qs.filter(mobile_hash=crypto.mobile_hash(as_mobile))
    return qs.filter(memberships__member_number=q)


def member_memberships(user, member: Member) -> QuerySet[Membership]:
    """A member's membership history (call only for a member the user may see)."""
    return Membership.objects.filter(member=member).select_related("union").order_by("-joined_on", "-id")


def member_detail_queryset(user) -> QuerySet[Member]:
    return members_for_user(user).prefetch_related(
        Prefetch("memberships", queryset=Membership.objects.select_related("union").order_by("-joined_on", "-id")),
        "honours",
    )


def memberships_for_user(user) -> QuerySet[Membership]:
    """Membership rows held by unions in reach, current or past (history views)."""
    return Membership.objects.for_user(user).select_related("union", "member")


def member_for_worker(user) -> Member | None:
    """The signed-in worker's own member record (self-service)."""
    if not user.is_authenticated:
        return None
    return (
        Member.objects.select_related("current_membership__union").prefetch_related("honours").filter(user=user).first()
    )


def identity_claims_for_worker(user) -> QuerySet[JoinApplication]:
    """Approved applications in the worker's name whose typed mobile and password still wait
    for an in-person check: the account holder may refuse them (issue 16)."""
    if not user.is_authenticated:
        return JoinApplication.objects.none()
    return JoinApplication.objects.select_related("union").filter(
        status=JoinApplication.Status.APPROVED,
        identity_check=JoinApplication.IdentityCheck.PENDING,
        membership__member__user=user,
    )


def can_see_full_personal_data(user, member: Member) -> bool:
    from core.roles import PERSONAL_DATA_FULL

    return bool(member.org_path) and has_capability(user, PERSONAL_DATA_FULL, member.org_path)


def join_codes_for_user(user) -> QuerySet[JoinCode]:
    return JoinCode.objects.for_user(user).select_related("union", "station")


def join_applications_for_user(user) -> QuerySet[JoinApplication]:
    return JoinApplication.objects.for_user(user).select_related("union", "reviewed_by")


def join_application_get(user, pk) -> JoinApplication:
    return get_object_or_404(join_applications_for_user(user), pk=pk)


def transfers_for_user(user) -> QuerySet[Transfer]:
    """Transfers leaving or entering the user's reach. Member data shown is the name only."""
    return Transfer.objects.for_user(user).select_related("member", "from_union", "to_union", "requested_by")


def transfer_get(user, pk) -> Transfer:
    return get_object_or_404(transfers_for_user(user), pk=pk)


def transfers_for_worker(user) -> QuerySet[Transfer]:
    return Transfer.objects.filter(member__user=user).select_related("from_union", "to_union")


def honours_for_user(user) -> QuerySet[Honour]:
    return Honour.objects.for_user(user).select_related("member")


def import_jobs_for_user(user) -> QuerySet[ImportJob]:
    return ImportJob.objects.for_user(user).select_related("union", "created_by")


def import_job_get(user, pk) -> ImportJob:
    return get_object_or_404(import_jobs_for_user(user), pk=pk)


def member_find_by_id_number(id_number: str) -> Member | None:
    """Unscoped exact lookup for services that must find a person anywhere (transfers in)."""
    number = normalize_id_number(id_number)
    if len(number) == 15:
        number = upgrade_15_to_18(number)
    return Member.objects.filter(id_number_hash=crypto.id_hash(number)).first()


def active_filter() -> Q:
    return Q(current_membership__status=Membership.Status.ACTIVE)


# --- added for the member pages ---------------------------------------------------------

from organizations.models import MEMBER_HOLDING_KINDS, Organization  # noqa: E402

DESTINATION_MIN_QUERY = 2
DESTINATION_LIMIT = 20


def transfer_destinations(query: str, *, limit: int = DESTINATION_LIMIT) -> list[tuple[int, str]]:
    """Active unions anywhere in the city that may receive members, by name: (id, name) only.

    Deliberately unscoped (a member may move to a union in another district), and
    deliberately thin: the caller learns a union's name and nothing else about it. A
    query of fewer than two characters finds nothing, so the list cannot be paged through.
    """
    q = (query or "").strip()[:60]
    if len(q) < DESTINATION_MIN_QUERY:
        return []
    qs = Organization.objects.filter(
        status=Organization.Status.ACTIVE, kind__in=MEMBER_HOLDING_KINDS, name__icontains=q
    ).order_by("name", "pk")
    return list(qs.values_list("pk", "name")[:limit])


def transfer_destination_get(pk) -> Organization | None:
    """One destination union named by a search above (same rule: active, holds members)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**63:
        return None
    return Organization.objects.filter(pk=pk, status=Organization.Status.ACTIVE, kind__in=MEMBER_HOLDING_KINDS).first()


def membership_for_card(pk) -> Membership | None:
    """Unscoped: the membership behind a member-card QR code whose signature was checked.

    For the public verification page only; the caller shows a masked name, the union and
    the number, nothing else.
    """
    return Membership.objects.select_related("member", "union").filter(pk=pk).first()


# --- data-subject request (PIPL art. 45: the person's right to a copy) -----------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _decrypt_or_blank(token: str) -> str:
    try:
        return crypto.decrypt(token) if token else ""
    except crypto.DecryptionError:
        return ""


def member_personal_data_export(member: Member) -> dict:
    """Everything the portal holds about `member`, in the clear, for the person themselves.

    Call only with the signed-in worker's own record (selfservice): it decrypts the full ID
    number and mobile. Audit events are those whose target is this member record, and
    carry only the action, the time and the actor's label, never other people's data.
    """
    from activity.models import AuditEvent

    account = member.user
    memberships = Membership.objects.filter(member=member).select_related("union").order_by("joined_on", "id")
    applications = (
        JoinApplication.objects.filter(id_number_hash=member.id_number_hash).select_related("union").order_by("id")
    )
    transfers = Transfer.objects.filter(member=member).select_related("from_union", "to_union").order_by("id")
    honours = Honour.objects.filter(member=member).order_by("year", "id")
    events = AuditEvent.objects.filter(target_type=Member._meta.label_lower, target_id=str(member.pk)).order_by(
        "created_at", "id"
    )
    return {
        "member": {
            "name": member.name,
            "id_number": _decrypt_or_blank(member.id_number_enc),
            "sex": member.get_sex_display(),
            "birth_date": _iso(member.birth_date),
            "mobile": _decrypt_or_blank(member.mobile_enc),
            "employer": member.employer.name if member.employer_id else None,
            "employer_name": member.employer_name,
            "employment_form": member.get_employment_form_display(),
            "is_migrant_worker": member.is_migrant_worker,
            "education": member.get_education_display() if member.education else "",
            "skill_level": member.get_skill_level_display() if member.skill_level else "",
            "created_at": _iso(member.created_at),
            "updated_at": _iso(member.updated_at),
        },
        "account": {
            "username": account.get_username(),
            "date_joined": _iso(account.date_joined),
            "last_login": _iso(account.last_login),
        }
        if account is not None
        else None,
        "memberships": [
            {
                "union": ms.union.name,
                "member_number": ms.member_number,
                "status": ms.get_status_display(),
                "joined_on": _iso(ms.joined_on),
                "ended_on": _iso(ms.ended_on),
                "end_reason": ms.end_reason,
            }
            for ms in memberships
        ],
        "join_applications": [
            {
                "union": app.union.name,
                "name": app.name,
                "id_number": _decrypt_or_blank(app.id_number_enc),
                "mobile": _decrypt_or_blank(app.mobile_enc),
                "employer_name": app.employer_name,
                "employment_form": app.get_employment_form_display(),
                "is_migrant_worker": app.is_migrant_worker,
                "consent": app.consent,
                "notice_version": app.notice_version,
                "status": app.get_status_display(),
                "reason": app.reason,
                "submitted_at": _iso(app.created_at),
                "reviewed_at": _iso(app.reviewed_at),
            }
            for app in applications
        ],
        "transfers": [
            {
                "from_union": t.from_union.name,
                "to_union": t.to_union.name,
                "requested_side": t.get_requested_side_display(),
                "reason": t.reason,
                "status": t.get_status_display(),
                "decision_note": t.decision_note,
                "requested_at": _iso(t.created_at),
                "decided_at": _iso(t.decided_at),
            }
            for t in transfers
        ],
        "honours": [
            {"kind": h.get_kind_display(), "year": h.year, "note": h.note, "created_at": _iso(h.created_at)}
            for h in honours
        ],
        "audit_events": [{"action": e.action, "time": _iso(e.created_at), "actor": e.actor_label} for e in events],
        # Sections of the apps above members (aid files, dispute cases, project sign-ups).
        **{name: gather(member) for name, gather in _personal_data_sections.items()},
    }


# name -> gather(member) -> JSON-able data. Apps above members register theirs in their
# AppConfig.ready (members may not import them), so the download stays complete.
_personal_data_sections: dict = {}
# name -> the heading the readable page and the PDF show (a lazy translation); a section
# registered without one is headed by its name, so nothing registered is ever left out.
_personal_data_labels: dict = {}


def register_personal_data_section(name: str, gather, *, label=None) -> None:
    """Add `name` to every member's personal-data download, filled by `gather(member)`.

    `gather` returns JSON-able data: a dict of fields, a list of such dicts, or a value.
    `label` heads the section on the readable page and in the PDF (the JSON keeps `name`).
    """
    if name in _personal_data_sections and _personal_data_sections[name] is not gather:
        raise ValueError(f"personal-data section {name!r} is registered twice")
    _personal_data_sections[name] = gather
    if label is not None:
        _personal_data_labels[name] = label


def personal_data_label(name: str):
    """The heading of a registered section (its name when it was registered without one)."""
    return _personal_data_labels.get(name, name)
