"""Server-rendered pages of the organisations app (staff pages and the worker home).

The access decorators, form helpers and keyset paging every app's pages use are the page
kit, `core.pages`.
"""

from .focus import focus_context, focused_roots, org_focus
from .pages import LoginView, LogoutView, home, selfservice_home
from .registry import (
    enterprise_create,
    enterprise_detail,
    enterprise_edit,
    enterprise_list,
    enterprise_options,
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
    "enterprise_create",
    "enterprise_detail",
    "enterprise_edit",
    "enterprise_list",
    "enterprise_options",
    "focus_context",
    "focused_roots",
    "home",
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
    "station_create",
    "station_detail",
    "station_edit",
    "station_list",
]
