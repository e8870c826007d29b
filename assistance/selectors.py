"""Scoped reads of the aid domain: every read starts from for_user with the capability it needs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BigIntegerField, Case, DecimalField, Prefetch, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.approvals import ORG_PATH_STEP
from core.audit import log_action
from core.crypto import decrypt
from core.models import ApprovalRun
from core.roles import AID_APPROVE, AID_MANAGE, PERSONAL_DATA_FULL, VIEW
from core.scoping import has_capability, reach_paths
from members.models import Member

from .models import (
    Budget,
    Campaign,
    FileStatus,
    Fund,
    Grant,
    HardshipFile,
    HouseholdMember,
    Investigation,
    LedgerEntry,
    LedgerKind,
    PublicNotice,
)


def files_for(
    user,
    *,
    tier: str = "",
    status: str = "",
    cause: str = "",
    review_due_before: dt.date | None = None,
    under: str = "",
    emergency: bool | None = None,
):
    qs = HardshipFile.objects.for_user(user, capability=VIEW)
    filtered = bool(tier or status or cause or review_due_before or under or emergency is not None)
    if tier:
        qs = qs.filter(tier=tier)
    if status:
        qs = qs.filter(status=status)
    if cause:
        if connection.vendor == "postgresql":
            qs = qs.filter(causes__contains=[cause])  # JSON containment
        else:
            # The JSON text holds each cause quoted (SQLite has no JSON containment).
            qs = qs.filter(causes__icontains=f'"{cause}"')
    if review_due_before:
        qs = qs.filter(review_due__lte=review_due_before, status__in=(FileStatus.REGISTERED, FileStatus.REVIEW))
    if under:
        qs = qs.filter(org_path__startswith=under)
    if emergency is not None:
        qs = qs.filter(is_emergency=emergency)
    if filtered:
        # Member and union fetched for the page's rows only (two pk lookups, the member's
        # encrypted columns left out): joined in the query, PostgreSQL misjudges how many
        # files a filter keeps and joins every match before the top-N sort (the approval
        # queue read 400 cold member rows at 10M members). The plain list walks the
        # (org_path, id) index backwards and stops at the page's end, so it joins.
        qs = qs.prefetch_related(Prefetch("member", queryset=Member.objects.only("id", "name", "user_id")), "union")
    else:
        qs = qs.select_related("member", "union")
    return qs.order_by("-id")


def file_get(user, pk) -> HardshipFile:
    qs = files_for(user).prefetch_related(None).select_related("member", "union", "standard", "budget")
    return get_object_or_404(qs, pk=pk)


def household_for(user, file: HardshipFile):
    return HouseholdMember.objects.for_user(user, capability=VIEW).filter(file=file).order_by("id")


def household_row_view(user, row: HouseholdMember, *, reveal: bool = False) -> dict:
    """A household row for screens: income, health and disability masked unless revealed
    by someone with personal_data.full (each reveal audited)."""
    full = reveal and has_capability(user, PERSONAL_DATA_FULL, row.org_path)
    if full:
        log_action(actor=user, action="aid.household_revealed", target=row.file, data={"row": row.pk})
    return {
        "id": row.pk,
        "name": row.name,
        "relation": row.get_relation_display(),
        "age": row.age,
        "id_masked": row.id_masked,
        "schooling": row.get_schooling_display(),
        "monthly_income": decrypt(row.income_enc) if full else "****",
        "health": _revealed_or_flag(row.health_enc, row.has_health_issue, full),
        "disability": _revealed_or_flag(row.disability_enc, row.has_disability, full),
        "revealed": full,
    }


def _revealed_or_flag(token: str, present: bool, full: bool) -> str:
    """The decrypted text when revealed, else only whether there is any (有 / 无)."""
    if full:
        return decrypt(token) if token else ""
    return _("有") if present else _("无")


def investigations_for(user):
    return Investigation.objects.for_user(user, capability=VIEW).select_related("file")


def notices_for(user):
    return PublicNotice.objects.for_user(user, capability=VIEW).select_related("file")


def grants_for(user):
    return Grant.objects.for_user(user, capability=VIEW).select_related("file__member", "budget__fund", "campaign")


def funds_for(user):
    return Fund.objects.for_user(user, capability=VIEW).select_related("organization")


def budgets_for(user):
    return Budget.objects.for_user(user, capability=VIEW).select_related("organization", "fund")


def budgets_for_file(user, file):
    """Budgets that may fund `file`: those of its organisation or one above it, within the
    user's aid.manage reach (a write's choices list the reach of the capability that writes,
    never the plain view reach of a user who also holds roles elsewhere)."""
    path = file.org_path
    ancestors = [path[:i] for i in range(ORG_PATH_STEP, len(path) + 1, ORG_PATH_STEP)]
    return (
        Budget.objects.for_user(user, capability=AID_MANAGE)
        .filter(org_path__in=ancestors)
        .select_related("organization", "fund")
    )


def campaigns_for(user):
    return Campaign.objects.for_user(user, capability=VIEW).select_related("organization", "budget__fund")


def approval_queue(user):
    """Files waiting at a step this user may decide, in one query.

    The user may decide a step when they hold its capability at the step's level of the
    file's path (core.approvals.step_path): for a reach path p, the run's path starts with
    p and the step's level is at or below p's depth.
    """
    paths = reach_paths(user, AID_APPROVE)
    if not paths:
        return HardshipFile.objects.none()
    ct = ContentType.objects.get_for_model(HardshipFile)
    may = Q()
    for p in paths:
        depth = len(p) // ORG_PATH_STEP
        may |= Q(org_path__startswith=p) & (
            Q(current_step__org_depth__isnull=True) | Q(current_step__org_depth__gte=depth)
        )
    runs = ApprovalRun.objects.filter(
        may, content_type=ct, status=ApprovalRun.Status.RUNNING, current_step__capability=AID_APPROVE
    ).values(file_id=Cast("object_id", BigIntegerField()))
    return files_for(user, status=FileStatus.APPROVING).filter(pk__in=Subquery(runs))


def budget_from_ledger(budget: Budget) -> dict[str, Decimal]:
    """amount / reserved / spent recomputed from the ledger (what the stored figures must equal)."""
    zero = Value(Decimal("0"), output_field=DecimalField(max_digits=14, decimal_places=2))

    def part(*kinds):
        return Sum(Case(When(kind__in=kinds, then="amount"), default=zero))

    sums = LedgerEntry.objects.filter(budget=budget).aggregate(
        funded=part(LedgerKind.FUNDED),
        out=part(LedgerKind.ALLOCATED_OUT),
        reserved=part(LedgerKind.RESERVED),
        released=part(LedgerKind.RELEASED),
        paid=part(LedgerKind.PAID),
    )
    s = {k: v or Decimal("0") for k, v in sums.items()}
    return {
        "amount": s["funded"] - s["out"],
        "reserved": s["reserved"] - s["released"] - s["paid"],
        "spent": s["paid"],
    }


def personal_data_for_member(member) -> list[dict]:
    """The worker's own aid data for their personal-data download (full values: it is theirs)."""
    rows = []
    for file in HardshipFile.objects.filter(member=member).order_by("id"):
        rows.append(
            {
                "number": file.number,
                "status": file.get_status_display(),
                "tier": file.get_tier_display(),
                "tier_explanation": file.tier_explanation,
                "causes": file.causes,
                "household": [
                    {
                        "name": r.name,
                        "relation": r.get_relation_display(),
                        "age": r.age,
                        "schooling": r.get_schooling_display(),
                        "monthly_income": decrypt(r.income_enc),
                        "health": decrypt(r.health_enc) if r.health_enc else "",
                        "disability": decrypt(r.disability_enc) if r.disability_enc else "",
                    }
                    for r in file.household.order_by("id")
                ],
                "grants": [
                    {
                        "kind": g.get_kind_display(),
                        "amount": str(g.amount),
                        "status": g.get_status_display(),
                        "period": g.period,
                    }
                    for g in file.grants.order_by("id")
                ],
            }
        )
    return rows


# --- choices of the staff forms: the aid.manage reach (the capability that writes) -------------


def orgs_to_manage(user):
    from organizations.selectors import organizations_for_user

    return organizations_for_user(user, AID_MANAGE)


def funds_to_manage(user):
    return Fund.objects.for_user(user, capability=AID_MANAGE).select_related("organization")


def budgets_to_manage(user):
    return (
        Budget.objects.for_user(user, capability=AID_MANAGE)
        .select_related("organization", "fund")
        .order_by("-year", "org_path", "id")
    )


def budget_get(user, pk) -> Budget:
    return get_object_or_404(budgets_for(user), pk=pk)


def allocation_children(user, parent: Budget):
    """Budgets a parent budget may allocate to: same fund and year, below its organisation."""
    return (
        budgets_to_manage(user)
        .filter(fund_id=parent.fund_id, year=parent.year, org_path__startswith=parent.org_path)
        .exclude(pk=parent.pk)
    )


def member_in_reach(user, id_number: str):
    """The member with this (checked, normalised) ID number in the user's aid.manage reach, or None."""
    from core.crypto import id_hash
    from members.selectors import members_for_user

    return members_for_user(user, AID_MANAGE).filter(id_number_hash=id_hash(id_number)).first()
