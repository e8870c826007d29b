"""Scoped reads of the organisation tree and registry. Every read starts from for_user."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from core.roles import VIEW
from core.scoping import reach_paths

from .models import CoverageSummary, Enterprise, Officer, Organization, RoleAssignment, ServiceStation


def organizations_for_user(user, capability: str = VIEW) -> QuerySet[Organization]:
    """Organisations in the user's reach for `capability` (choices of a form that acts ask for its capability)."""
    return Organization.objects.for_user(user, capability)


def organization_get(user, pk) -> Organization:
    """The organisation if it is in the user's reach, else 404."""
    return get_object_or_404(organizations_for_user(user), pk=pk)


def organization_roots_for_user(user, capability: str = VIEW) -> QuerySet[Organization]:
    """The top nodes of the user's reach: where their tree browser starts."""
    reach = reach_paths(user, capability)
    if reach == ("",):
        return Organization.get_root_nodes()
    return Organization.objects.filter(path__in=reach)


def organization_children(
    user, parent: Organization, *, include_inactive: bool = False, capability: str = VIEW
) -> QuerySet[Organization]:
    qs = organizations_for_user(user, capability).filter(path__startswith=parent.path, depth=parent.depth + 1)
    if not include_inactive:
        qs = qs.filter(status=Organization.Status.ACTIVE)
    return qs.select_related("coverage")


def organization_search(user, query: str, *, kind: str = "", limit: int = 50) -> QuerySet[Organization]:
    qs = organizations_for_user(user)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query) | Q(credit_code=query.upper()))
    if kind:
        qs = qs.filter(kind=kind)
    return qs[:limit]


def organization_breadcrumb(user, org: Organization) -> list[Organization]:
    """Ancestors of `org` the user may see, root first, then `org`."""
    ancestors = list(organizations_for_user(user).filter(path__in=org.ancestor_paths()).order_by("depth"))
    return [*ancestors, org]


def coverage_for(org: Organization) -> CoverageSummary | None:
    return CoverageSummary.objects.filter(organization=org).first()


def enterprises_for_user(user) -> QuerySet[Enterprise]:
    return Enterprise.objects.for_user(user).select_related("supervisor", "union")


def enterprise_get(user, pk) -> Enterprise:
    return get_object_or_404(enterprises_for_user(user), pk=pk)


def officers_for_user(user) -> QuerySet[Officer]:
    return Officer.objects.for_user(user).select_related("organization")


def stations_for_user(user, capability: str = VIEW) -> QuerySet[ServiceStation]:
    return ServiceStation.objects.for_user(user, capability).select_related("organization")


def role_assignments_for_user(user) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.for_user(user).select_related("user", "organization")


def role_assignments_of(user) -> QuerySet:
    """(organization path, role) of the user's role assignments on active organisations.

    The scoping rule (core.scoping) reads a user's reach through this: registered in
    OrganizationsConfig.ready, because core may not import organizations.
    """
    return (
        RoleAssignment.objects.filter(user=user, organization__status=Organization.Status.ACTIVE)
        .order_by()
        .values_list("organization__path", "role")
    )
