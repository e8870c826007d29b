"""Who may open which page, and how service errors become messages on a form.

Staff pages take `staff_required`: anonymous users go to the login page, workers to
their self-service home, signed-in users without any role get a friendly 403 page.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url

from core.errors import DomainError, refusal
from core.scoping import is_staff_user


def _login_redirect(request) -> HttpResponse:
    if request.htmx:
        # A fragment request from an expired session: send the whole page to the login
        # page instead of swapping the login form into a table cell.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?next={request.htmx.current_url_abs_path or '/'}"
        return response
    return redirect_to_login(request.get_full_path())


def no_role_response(request, *, status: int = 403) -> HttpResponse:
    """The page for a signed-in account that has no staff role and is not a worker."""
    return render(request, "accounts/no_role.html", status=status)


def staff_required(view):
    """Let only signed-in users with some staff reach through."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return _login_redirect(request)
        if getattr(user, "is_worker", False):
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = resolve_url("selfservice-home")
                return response
            return redirect("selfservice-home")
        if not is_staff_user(user):
            return no_role_response(request)
        return view(request, *args, **kwargs)

    return wrapper


def worker_required(view):
    """Let only signed-in worker accounts through; staff go to their own home page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return _login_redirect(request)
        if not getattr(user, "is_worker", False):
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def apply_service_error(form, exc: Exception) -> None:
    """Put a service's refusal onto the form: per field where the form has the field.

    The translation is core.errors.refusal, the same as the API's and the admin's;
    anything that is not a refusal is raised again.
    """
    found = refusal(exc)
    if found is None or isinstance(exc, Http404 | PermissionDenied):
        raise exc
    found.on_form(form)


def service_form(request, form, *, template: str, context: dict, save):
    """A form page whose POST is carried out by a service.

    `save(cleaned_data)` calls the service and returns (success message, redirect target:
    a URL name and its arguments). A service's refusal lands on the form's fields and the
    page is shown again with status 400, keeping what the user typed.
    """
    if request.method == "POST" and form.is_valid():
        try:
            message, target = save(form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, message)
            return redirect(*target)
    return render(request, template, {**context, "form": form}, status=400 if form.errors else 200)
