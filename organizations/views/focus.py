"""The header's organisation switcher: narrow the home figures and the tree to one role's organisation.

A clerk who holds roles at several organisations (a district and an industry union, say)
works on one of them at a time. The choice lives in the session and only narrows what the
home page and the tree browser start from; it never widens or replaces the scoping rule
(lists and detail pages still show the whole reach).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.pages import staff_required

# The assignments are read once per request by the scoping rule and cached on the user.
from core.scoping import role_assignments

from ..models import Organization
from ..selectors import organization_roots_for_user

FOCUS_KEY = "portal_focus_org"


def focus_options(user) -> list[Organization]:
    """The organisations of the user's active role assignments, when there are several."""
    paths = sorted({path for path, _role in role_assignments(user)})
    if len(paths) < 2:
        # One organisation (or a superuser without roles): nothing to switch between, and
        # no query beyond the assignments every staff page has already read.
        return []
    return list(Organization.objects.filter(path__in=paths).order_by("path"))


def focused_org(request) -> Organization | None:
    """The organisation the user narrowed to, if it is still one of their role organisations."""
    pk = request.session.get(FOCUS_KEY)
    if not pk:
        return None
    return next((org for org in focus_options(request.user) if org.pk == pk), None)


def focused_roots(request) -> list[Organization]:
    """Where the home figures and the tree start: the chosen organisation, or every reach root."""
    org = focused_org(request)
    if org is not None:
        return [org]
    return list(organization_roots_for_user(request.user))


def focus_context(request) -> dict:
    """Template context for the switcher (empty for users with a single organisation)."""
    options = focus_options(request.user)
    if not options:
        return {}
    pk = request.session.get(FOCUS_KEY)
    current = next((org for org in options if org.pk == pk), None)
    return {"focus_options": options, "focus_current": current}


@staff_required
@require_POST
def org_focus(request):
    """Switch the focus to one role organisation (`org`), or back to all of them (empty)."""
    value = request.POST.get("org", "")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = ""
    if value == "":
        request.session.pop(FOCUS_KEY, None)
        messages.success(request, _("已显示全部管辖范围。"))
        return redirect(target or "home")
    org = next((o for o in focus_options(request.user) if str(o.pk) == value), None)
    if org is None:
        messages.error(request, _("所选组织不是您任职的组织，请从切换列表中选择。"))
        return redirect(target or "home")
    request.session[FOCUS_KEY] = org.pk
    messages.success(request, _("已切换到“%(name)s”。") % {"name": org.name})
    return redirect(target or "home")
