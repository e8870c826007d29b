"""THE scoping rule: a staff user's reach is the union of the subtrees of their roles.

Every scoped model declares `scope_path_field`, the lookup that yields the tree path of
the organisation it belongs to (its own `path`, a copied `org_path`, or a join), and uses
ScopedQuerySet. `Model.objects.for_user(user)` is then the only way pages, API, exports,
reports and the admin read rows. Outside the reach a row does not exist (404); inside it,
`has_capability` decides whether the user may act (403).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .roles import ROLE_CAPABILITIES

# Cached on the user object for the life of a request: computed once, read many times.
_REACH_ATTR = "_unionportal_reach"
_ASSIGN_ATTR = "_unionportal_assignments"
EVERYTHING = ("",)


# Where a user's role assignments come from. The rule lives here, the RoleAssignment rows in
# organizations, which sits above core: organizations registers the query that reads them
# in its AppConfig.ready (register_assignment_source), so core never imports it.
_assignment_source = None


def register_assignment_source(source) -> None:
    """Name the function giving a user's (organization path, role) pairs on active organisations."""
    global _assignment_source
    _assignment_source = source


def _assignments(user) -> list[tuple[str, str]]:
    """(organization path, role) for the user's assignments on active organisations."""
    cached = getattr(user, _ASSIGN_ATTR, None)
    if cached is None:
        if _assignment_source is None:
            raise RuntimeError("no role-assignment source registered (organizations registers it when Django starts)")
        cached = list(_assignment_source(user))
        setattr(user, _ASSIGN_ATTR, cached)
    return cached


def minimal_paths(paths) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set: the subtrees' union is unchanged."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def reach_paths(user) -> tuple[str, ...]:
    """Root paths of the subtrees the user may read. () means nothing; ("",) everything."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, _REACH_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        reach = EVERYTHING
    elif getattr(user, "kind", "staff") != "staff":
        reach = ()
    else:
        reach = minimal_paths(path for path, _role in _assignments(user))
    setattr(user, _REACH_ATTR, reach)
    return reach


def forget_reach(user) -> None:
    """Drop the cached reach, after the user's role assignments changed."""
    for attr in (_REACH_ATTR, _ASSIGN_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def scope_q(user, path_field: str) -> Q:
    """A Q object limiting `path_field` to the user's reach (matches nothing if no reach)."""
    reach = reach_paths(user)
    if reach == EVERYTHING:
        return Q()
    if not reach:
        return Q(pk__in=[])
    q = Q()
    for path in reach:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def path_in_reach(user, path: str) -> bool:
    return any(path.startswith(root) for root in reach_paths(user))


def has_capability(user, capability: str, path: str) -> bool:
    """Whether a role the user holds at `path` or above grants `capability` there."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if getattr(user, "kind", "staff") != "staff":
        return False
    return any(
        path.startswith(role_path) and capability in ROLE_CAPABILITIES.get(role, ())
        for role_path, role in _assignments(user)
    )


def has_capability_anywhere(user, capability: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(capability in ROLE_CAPABILITIES.get(role, ()) for _p, role in _assignments(user))


def role_assignments(user) -> list[tuple[str, str]]:
    """The user's (organisation path, role) pairs on active organisations, read once per request."""
    return _assignments(user)


def is_staff_user(user) -> bool:
    """A signed-in user with some staff reach (workers and role-less accounts have none)."""
    return bool(reach_paths(user))


class ScopedQuerySet(models.QuerySet):
    """QuerySet whose `for_user` applies the scoping rule through `model.scope_path_field`."""

    scope_path_field: str | None = None

    def _path_field(self) -> str:
        field = self.scope_path_field or getattr(self.model, "scope_path_field", None)
        if not field:
            raise TypeError(f"{self.model.__name__} declares no scope_path_field")
        return field

    def for_user(self, user) -> ScopedQuerySet:
        return self.filter(scope_q(user, self._path_field()))

    def under(self, path: str) -> ScopedQuerySet:
        """Rows in the subtree rooted at `path` (combine with for_user, never instead)."""
        return self.filter(**{f"{self._path_field()}__startswith": path})
