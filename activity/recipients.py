"""Recipients by role and scope: who holds a capability over a place in the tree.

A role assigned at an organisation holds over its whole subtree, so the people
responsible for path P are the holders at P or any ancestor of P. Reminders go to the
NEAREST level that has someone (the union's own clerks before the district's), so a
city head is not told about every late application in the city.
"""

from __future__ import annotations

from functools import lru_cache

from core.approvals import ORG_PATH_STEP
from core.roles import ROLE_CAPABILITIES
from organizations.models import Organization, OrgKind, RoleAssignment


def ancestors(path: str) -> list[str]:
    """The path and each of its ancestors, root first."""
    return [path[: ORG_PATH_STEP * i] for i in range(1, len(path) // ORG_PATH_STEP + 1)]


def _roles_with(capability: str) -> list[str]:
    return sorted(role for role, caps in ROLE_CAPABILITIES.items() if capability in caps)


def nearest_holders(path: str, capability: str) -> tuple[int, ...]:
    """Active users holding `capability` at the nearest level at or above `path` (sorted ids)."""
    if not path:
        return ()
    holders = _holders_by_path(capability)
    for level in reversed(ancestors(path)):
        found = holders.get(level)
        if found:
            return found
    return ()


@lru_cache(maxsize=64)
def _holders_by_path(capability: str) -> dict[str, tuple[int, ...]]:
    """{organisation path: active holders assigned there}: one query per capability and sweep.

    Staff role assignments number in the thousands even for a city of 10M members, so
    one read of them all beats a query per due item.
    """
    out: dict[str, set[int]] = {}
    for user_id, path in RoleAssignment.objects.filter(
        role__in=_roles_with(capability), user__is_active=True
    ).values_list("user_id", "organization__path"):
        out.setdefault(path, set()).add(user_id)
    return {path: tuple(sorted(ids)) for path, ids in out.items()}


def district_path(path: str) -> str:
    """The path of the district (区县总工会) above or at `path`; "" when there is none."""
    if not path:
        return ""
    districts = _district_paths()
    return next((level for level in reversed(ancestors(path)) if level in districts), "")


@lru_cache(maxsize=1)
def _district_paths() -> frozenset[str]:
    return frozenset(Organization.objects.filter(kind=OrgKind.DISTRICT).values_list("path", flat=True))


def forget() -> None:
    """Drop the cached answers (each sweep starts afresh: roles change during the day)."""
    _holders_by_path.cache_clear()
    _district_paths.cache_clear()
