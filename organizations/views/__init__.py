"""Server-rendered pages of the organisations app (staff pages and the worker home).

`staff_required`, `worker_required` and `apply_service_error` are meant for every app's
pages: import them from here.
"""

from .access import apply_service_error, no_role_response, staff_required, worker_required
from .focus import focus_context, focused_roots, org_focus
from .pages import LoginView, LogoutView, home, selfservice_home
from .paging import keyset_page
from .registry import (
    enterprise_create,
    enterprise_detail,
    enterprise_edit,
    enterprise_list,
    officer_create,
    officer_edit,
    station_create,
    station_detail,
    station_edit,
    station_list,
)
from .tree import (
    org_children,
    org_create_child,
    org_detail,
    org_dissolve,
    org_edit,
    org_merge,
    org_move,
    org_options,
    org_tree,
)

__all__ = [
    "LoginView",
    "LogoutView",
    "apply_service_error",
    "enterprise_create",
    "enterprise_detail",
    "enterprise_edit",
    "enterprise_list",
    "focus_context",
    "focused_roots",
    "home",
    "keyset_page",
    "no_role_response",
    "officer_create",
    "officer_edit",
    "org_children",
    "org_create_child",
    "org_detail",
    "org_dissolve",
    "org_edit",
    "org_focus",
    "org_merge",
    "org_move",
    "org_options",
    "org_tree",
    "selfservice_home",
    "staff_required",
    "station_create",
    "station_detail",
    "station_edit",
    "station_list",
    "worker_required",
]
