"""Public pages, no sign-in: the scan-to-join form and the member-card verification page.

Both start from a signed string in the address. A forged one is refused before any
lookup (HTTP 404); a revoked join code or an ended membership says so (HTTP 410).
Submissions are counted per client address, together with the API's (members/throttle.py):
a few people may share one address (a canteen's Wi-Fi), a script may not fill the queue.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from core.crypto import mask_mobile
from core.errors import DomainError
from core.pages import apply_service_error, private

from .. import cards, services
from ..forms import JoinForm
from ..models import EmploymentForm
from ..throttle import join_rate_hit, too_many_message
from ..validators import normalize_mobile
from .common import client_ip, posted

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


def join(request, code: str):
    """The mobile join form behind a join QR code."""
    join_code, error = _resolve(code)
    if error is not None:
        return _code_error(request, error)
    form = JoinForm(posted(request))
    status = 200
    if request.method == "POST":
        if not join_rate_hit(client_ip(request)):  # the same counter as the API's (members/throttle.py)
            form.is_valid()
            form.add_error(None, too_many_message())
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                services.join_application_submit(
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
                # The same page whether an application was filed or the person was already
                # a member / already applying (app is None): built from what was typed and
                # the code's union only, so it tells nothing about the roll.
                request.session[JOIN_DONE_SESSION_KEY] = {
                    "union": join_code.union.name,
                    "name": data["name"].strip(),
                    "mobile": mask_mobile(normalize_mobile(data["mobile"])),
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
