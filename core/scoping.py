"""THE scoping rule: a staff user's reach for a capability is the union of the subtrees
of their role assignments whose role grants that capability (roles.ROLE_CAPABILITIES).

Every scoped model declares `scope_path_field`, the lookup that yields the tree path of
the organisation it belongs to (its own `path`, a copied `org_path`, or a join), and uses
ScopedQuerySet. `Model.objects.for_user(user, capability=...)` is then the only way pages,
API, exports, reports and the admin read rows; without a capability it is the plain
`view` reach, which every role gives. A read that needs more than `view` (the audit log:
audit.view; full personal data: personal_data.full; reports: report.view) asks for that
capability's reach, so a user who is a clerk in one district and an auditor in another
reads the audit log of the second district only. Outside the view reach a row does not
exist (404); inside it, a capability the user lacks there answers 403.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from .roles import ALL_CAPABILITIES, ROLE_CAPABILITIES, VIEW

# Cached on the user object for the life of a request: computed once, read many times.
# The reach cache is a dict {capability: paths}, filled per capability on first use.
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


def remember_assignments(user, pairs) -> None:
    """Hand over the user's (organization path, role) pairs already read with the user.

    For an authentication that reads them in its own query (organizations.authentication):
    the registered source's rule, the same pairs; the reach then needs no query.
    """
    setattr(user, _ASSIGN_ATTR, list(pairs))
    if hasattr(user, _REACH_ATTR):
        delattr(user, _REACH_ATTR)


def minimal_paths(paths) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set: the subtrees' union is unchanged."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def reach_paths(user, capability: str = VIEW) -> tuple[str, ...]:
    """Root paths of the subtrees where the user holds `capability`. () means nothing; ("",) everything.

    The union of the subtrees of the user's assignments whose role grants the capability;
    computed once per request (user object) and capability.
    """
    if capability not in ALL_CAPABILITIES:
        # A misspelt capability would silently read as "nowhere"; fail loudly instead.
        raise ValueError(f"unknown capability: {capability!r}")
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cache = getattr(user, _REACH_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _REACH_ATTR, cache)
    reach = cache.get(capability)
    if reach is not None:
        return reach
    if user.is_superuser:
        reach = EVERYTHING
    elif getattr(user, "kind", "staff") != "staff":
        reach = ()
    else:
        reach = minimal_paths(
            path for path, role in _assignments(user) if capability in ROLE_CAPABILITIES.get(role, ())
        )
    cache[capability] = reach
    return reach


def forget_reach(user) -> None:
    """Drop the cached reach, after the user's role assignments changed."""
    for attr in (_REACH_ATTR, _ASSIGN_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def scope_q(user, path_field: str, capability: str = VIEW) -> Q:
    """A Q object limiting `path_field` to the user's reach for `capability` (nothing if none)."""
    reach = reach_paths(user, capability)
    if reach == EVERYTHING:
        return Q()
    if not reach:
        return Q(pk__in=[])
    q = Q()
    for path in reach:
        q |= Q(**{f"{path_field}__startswith": path})
    return q


def path_in_reach(user, path: str, capability: str = VIEW) -> bool:
    """Whether `path` lies in the user's reach for `capability`."""
    return any(path.startswith(root) for root in reach_paths(user, capability))


def org_in_reach(user, org):
    """`org` if it lies in the user's view reach, else None: how a related organisation is named.

    Pages and the API show an organisation a row points at (a member's former union, an
    enterprise's union in another district, an audit event's node moved away) only when
    the reader could open it; otherwise neither its name nor its id. Transfers are the
    exception, named on both ends by design (members/api/transfers.py).
    """
    return org if org is not None and path_in_reach(user, org.path) else None


def has_capability(user, capability: str, path: str) -> bool:
    """Whether a role the user holds at `path` or above grants `capability` there.

    The same rule as the capability's reach (one place): kept as the name services use
    for "may act here".
    """
    return path_in_reach(user, path, capability)


def has_capability_anywhere(user, capability: str) -> bool:
    """Whether some role of the user grants `capability` somewhere (its reach is not empty).

    For showing a menu entry or a button. Never a gate for a read: read through
    `for_user(user, capability=...)` instead, or a mixed-role user reads where they
    hold only `view`.
    """
    return bool(reach_paths(user, capability))


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

    def for_user(self, user, capability: str = VIEW) -> ScopedQuerySet:
        """Rows in the user's reach for `capability` (default: the plain view reach)."""
        return self.filter(scope_q(user, self._path_field(), capability))

    def under(self, path: str) -> ScopedQuerySet:
        """Rows in the subtree rooted at `path` (combine with for_user, never instead)."""
        return self.filter(**{f"{self._path_field()}__startswith": path})
