"""Sign-in, the staff home with the figures of the user's subtree, the worker home."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.outbox import enqueue
from core.pages import login_redirect, no_role_response, worker_required
from core.roles import AUDIT_VIEW, ORG_MANAGE
from core.scoping import has_capability_anywhere, is_staff_user

from .. import services
from ..forms import LoginForm
from ..models import CoverageSummary
from ..selectors import role_assignments_for_user
from ..tasks import refresh_coverage_summaries
from .focus import focused_org, focused_roots

FIGURES = ("descendants", "grassroots_unions", "enterprises", "unionized_enterprises", "employees", "members")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True
    extra_context = {"title": _("登录")}


class LogoutView(auth_views.LogoutView):
    """POST only (Django's default): a link or an image cannot sign anyone out."""


def _subtree_figures(roots: list) -> dict:
    """Coverage totals over the given roots, from the summaries (no live COUNT)."""
    root_ids = [root.pk for root in roots]
    summaries = list(CoverageSummary.objects.filter(organization_id__in=root_ids))
    pending = len(summaries) < len(root_ids)
    if pending:
        # A root added since the last periodic refresh. The rebuild is the worker's job,
        # never the GET's: two first loads at once each rebuilt the table and collided (500).
        # The refresh is idempotent, so several loads asking at once are harmless.
        enqueue(refresh_coverage_summaries, requested_at=timezone.now().isoformat())
    totals = {name: sum(getattr(s, name) for s in summaries) for name in FIGURES}
    # The roots themselves count as organisations of the subtree too.
    totals["organizations"] = totals["descendants"] + sum(1 for r in roots if r.is_active)
    totals["formation_rate"] = (
        totals["unionized_enterprises"] / totals["enterprises"] if totals["enterprises"] else None
    )
    totals["membership_rate"] = totals["members"] / totals["employees"] if totals["employees"] else None
    totals["members_counted"] = bool(services.MEMBER_COUNTERS)
    totals["refreshed_at"] = min((s.refreshed_at for s in summaries), default=None)
    totals["pending"] = pending
    return {"roots": roots, "figures": totals}


def home(request):
    """Staff home; workers are sent to their self-service home."""
    user = request.user
    if not user.is_authenticated:
        return login_redirect(request)
    if getattr(user, "is_worker", False):
        return redirect("selfservice-home")
    if not is_staff_user(user):
        return no_role_response(request, status=200)
    assignments = list(role_assignments_for_user(user).filter(user=user).order_by("organization__path", "role"))
    return render(
        request,
        "organizations/home.html",
        {
            **_subtree_figures(focused_roots(request)),
            "focus": focused_org(request),
            "assignments": assignments,
            "can_manage": has_capability_anywhere(user, ORG_MANAGE),
            "can_audit": has_capability_anywhere(user, AUDIT_VIEW),
        },
    )


@worker_required
def selfservice_home(request):
    """The worker's landing page on the phone. Services arrive with later modules."""
    return render(request, "selfservice/home.html")
