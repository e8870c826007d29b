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
    return _nearest_holders(path, capability)


@lru_cache(maxsize=8192)
def _nearest_holders(path: str, capability: str) -> tuple[int, ...]:
    rows = list(
        RoleAssignment.objects.filter(
            role__in=_roles_with(capability), organization__path__in=ancestors(path), user__is_active=True
        ).values_list("user_id", "organization__path")
    )
    if not rows:
        return ()
    nearest = max(len(p) for _, p in rows)
    return tuple(sorted({uid for uid, p in rows if len(p) == nearest}))


def district_path(path: str) -> str:
    """The path of the district (区县总工会) above or at `path`; "" when there is none."""
    return _district_path(path) if path else ""


@lru_cache(maxsize=4096)
def _district_path(path: str) -> str:
    found = (
        Organization.objects.filter(path__in=ancestors(path), kind=OrgKind.DISTRICT)
        .order_by("-depth")
        .values_list("path", flat=True)
        .first()
    )
    return found or ""


def forget() -> None:
    """Drop the cached answers (each sweep starts afresh: roles change during the day)."""
    _nearest_holders.cache_clear()
    _district_path.cache_clear()
