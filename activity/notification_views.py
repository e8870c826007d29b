"""The inbox pages: staff at /notifications/, workers at /me/notifications/, and the preferences page.

Everyone reads only their own messages (activity.selectors.notifications_for); an id of
someone else's message is a 404, like an unknown one. Opening a message marks it read
and follows its link; "mark all read" clears the inbox.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.pages import keyset_page, login_redirect, no_role_response, staff_required, worker_required
from core.scoping import is_staff_user

from .inbox import forget_unread
from .selectors import notification_get, notifications_for, preferences_for
from .services import notification_mark_all_read, notification_mark_read, preferences_save

PAGE_SIZE = 30


def inbox_user_required(view):
    """Staff and workers (each their own inbox); anyone else is refused."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return login_redirect(request)
        if not (getattr(user, "is_worker", False) or is_staff_user(user)):
            return no_role_response(request)
        return view(request, *args, **kwargs)

    return wrapper


def _inbox_home(user) -> str:
    return "my-notifications" if getattr(user, "is_worker", False) else "notifications"


def _page_context(request):
    show = request.GET.get("show", "")
    unread_only = show == "unread"
    page = keyset_page(
        notifications_for(request.user, unread_only=unread_only),
        field="created_at",
        descending=True,
        cursor=request.GET.get("cursor", ""),
        size=PAGE_SIZE,
    )
    return {
        "page": page,
        "unread_only": unread_only,
        "is_continuation": bool(request.GET.get("cursor")),
        "has_unread": notifications_for(request.user, unread_only=True).exists(),
    }


@staff_required
@require_GET
def inbox(request):
    context = _page_context(request)
    if request.htmx and request.htmx.target == "inbox-more" and not request.htmx.history_restore_request:
        return render(request, "activity/_inbox_rows.html", context)
    return render(request, "activity/inbox.html", context)


@worker_required
@require_GET
def my_inbox(request):
    return render(request, "activity/my_inbox.html", _page_context(request))


@inbox_user_required
@require_POST
def notification_open(request, pk):
    """Mark one message read and follow its link (back to the inbox when it has none)."""
    notification = notification_get(request.user, pk)
    notification_mark_read(user=request.user, notification=notification)
    forget_unread(request.user)
    if request.POST.get("stay") or not notification.url:
        return redirect(_inbox_home(request.user))
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(_inbox_home(request.user))
    return redirect(notification.url)


@inbox_user_required
@require_POST
def notifications_read_all(request):
    count = notification_mark_all_read(user=request.user)
    forget_unread(request.user)
    messages.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": count} if count else _("没有未读消息。"))
    return redirect(_inbox_home(request.user))


class PreferencesForm(forms.Form):
    """One email and one SMS checkbox per kind (the inbox is always on)."""

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in rows:
            code = row["kind"].code
            email = forms.BooleanField(label=_("电子邮件"), required=False, initial=row["email"])
            sms = forms.BooleanField(label=_("短信"), required=False, initial=row["sms"])
            self.fields[f"{code}:email"] = email
            self.fields[f"{code}:sms"] = sms
            self.rows.append({"kind": row["kind"], "email": self[f"{code}:email"], "sms": self[f"{code}:sms"]})

    def choices(self) -> dict[str, dict[str, bool]]:
        out: dict[str, dict[str, bool]] = {}
        for name, value in self.cleaned_data.items():
            code, channel = name.rsplit(":", 1)
            out.setdefault(code, {})[channel] = value
        return out


@inbox_user_required
def preferences(request):
    rows = preferences_for(request.user)
    form = PreferencesForm(request.POST or None, rows=rows)
    if request.method == "POST" and form.is_valid():
        preferences_save(user=request.user, choices=form.choices())
        messages.success(request, _("提醒方式已保存。"))
        return redirect("notification-preferences")
    template = (
        "activity/my_preferences.html" if getattr(request.user, "is_worker", False) else "activity/preferences.html"
    )
    return render(request, template, {"form": form}, status=400 if form.errors else 200)
