"""Public pages, no sign-in: the scan-to-join form and the member-card verification page.

Both start from a signed string in the address. A forged one is refused before any
lookup (HTTP 404); a revoked join code or an ended membership says so (HTTP 410).
Submissions are counted per client address in the cache: a few people may share one
address (a canteen's Wi-Fi), a script may not fill the queue.
"""

from __future__ import annotations

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.errors import DomainError
from core.pages import apply_service_error, private

from .. import cards, services
from ..forms import JoinForm
from ..models import EmploymentForm
from .common import client_ip, posted

JOIN_RATE_LIMIT = 10  # submissions per address …
JOIN_RATE_WINDOW = 15 * 60  # … per 15 minutes
JOIN_DONE_SESSION_KEY = "members_join_done"


def _resolve(code: str):
    """(join code, None) or (None, error response)."""
    try:
        return services.join_code_resolve(code), None
    except DomainError as exc:
        return None, exc


def _code_error(request, exc: DomainError):
    status = 410 if exc.code == "join_code_revoked" else 404
    return private(render(request, "members/public/join_invalid.html", {"message": exc.message}, status=status))


def _over_rate_limit(request) -> bool:
    """Count this submission for the client's address; True once it is over the limit."""
    key = f"members:join-rate:{client_ip(request)}"
    cache.add(key, 0, timeout=JOIN_RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=JOIN_RATE_WINDOW)
        count = 1
    return count > JOIN_RATE_LIMIT


def join(request, code: str):
    """The mobile join form behind a join QR code."""
    join_code, error = _resolve(code)
    if error is not None:
        return _code_error(request, error)
    form = JoinForm(posted(request))
    status = 200
    if request.method == "POST":
        if _over_rate_limit(request):
            form.is_valid()
            form.add_error(None, _("提交过于频繁，请 15 分钟后再试；如需帮助请拨打职工服务热线 12351。"))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                app = services.join_application_submit(
                    code=code,
                    name=data["name"],
                    id_number=data["id_number"],
                    mobile=data["mobile"],
                    employment_form=data["employment_form"],
                    employer_name=data["employer_name"],
                    is_migrant_worker=data["is_migrant_worker"],
                    consent=data["consent"],
                    password=data["password"],
                    ip_address=client_ip(request),
                )
            except DomainError as exc:
                if exc.code in ("join_code_invalid", "join_code_revoked"):
                    return _code_error(request, exc)
                apply_service_error(form, exc)
            except ValidationError as exc:
                apply_service_error(form, exc)
            else:
                request.session[JOIN_DONE_SESSION_KEY] = {
                    "union": app.union.name,
                    "name": app.name,
                    "mobile": app.mobile_masked,
                }
                return redirect("join-done", code=code)
        if form.errors and status == 200:
            status = 400
    return private(
        render(
            request,
            "members/public/join.html",
            {
                "form": form,
                "code": code,
                "join_code": join_code,
                "notice_version": services.CURRENT_NOTICE_VERSION,
                "new_forms": EmploymentForm,
            },
            status=status,
        )
    )


@require_GET
def join_notice(request, code: str):
    """The personal-data notice (个人信息处理告知书), naming the union that handles the data."""
    join_code, error = _resolve(code)
    if error is not None:
        return _code_error(request, error)
    return render(
        request,
        "members/public/join_notice.html",
        {"join_code": join_code, "code": code, "notice_version": services.CURRENT_NOTICE_VERSION},
    )


@require_GET
def join_done(request, code: str):
    done = request.session.get(JOIN_DONE_SESSION_KEY)
    if not done:
        return redirect("join", code=code)
    return private(render(request, "members/public/join_done.html", {"done": done, "code": code}))


@require_GET
def card_verify(request, token: str):
    """What a station sees after scanning a member card: valid, or no longer valid."""
    check = cards.card_verify(token)
    if check is None:
        response = render(request, "members/public/verify.html", {"check": None}, status=404)
    else:
        response = render(request, "members/public/verify.html", {"check": check}, status=200 if check.valid else 410)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return private(response)
