"""The audit page: events in the user's reach, for roles that may read the audit log."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.audit import action_choices
from core.pages import keyset_page, staff_required
from core.roles import AUDIT_VIEW
from core.scoping import has_capability_anywhere
from organizations.forms import BootstrapForm, OrgChoiceField, date_widget, options_url, top_of_reach
from organizations.selectors import organizations_for_user

from .selectors import audit_events_for_user

PAGE_SIZE = 50


class AuditFilterForm(BootstrapForm):
    # Readable names grouped by area (an area's "（全部）" is its code prefix); built per
    # form, so apps that register names later and the active language are both honoured.
    action = forms.ChoiceField(label=gettext_lazy("操作"), required=False)
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=150)
    date_from = forms.DateField(label=gettext_lazy("开始日期"), required=False, widget=date_widget())
    date_to = forms.DateField(label=gettext_lazy("结束日期"), required=False, widget=date_widget())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("（全部）")), *action_choices()]
        self.fields["under"] = OrgChoiceField(
            organizations_for_user(user, AUDIT_VIEW),
            option_queryset=top_of_reach(organizations_for_user(user, AUDIT_VIEW)),
            options_url=options_url("audit"),
            label=gettext_lazy("组织（含下级）"),
            required=False,
            empty_label=gettext_lazy("（全部）"),
        )
        self.fields["under"].widget.attrs["class"] = "form-select"
        if self.is_bound:
            self.fields["under"].pin(self.data.get("under"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期，请调整日期范围。"))
        return cleaned


@staff_required
@require_GET
def audit_list(request):
    """Audit events in reach, newest first, filtered, paged by keyset."""
    user = request.user
    if not has_capability_anywhere(user, AUDIT_VIEW):
        raise PermissionDenied(_("只有具备审计权限的角色可以查看审计日志。"))
    form = AuditFilterForm(request.GET or None, user=user)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "action": data["action"].strip(),
            "actor": data["actor"].strip(),
            "date_from": data["date_from"],
            "date_to": data["date_to"],
            "under_path": data["under"].path if data["under"] else "",
        }
    events = audit_events_for_user(user, **filters)
    page = keyset_page(
        events, field="created_at", descending=True, cursor=request.GET.get("cursor", ""), size=PAGE_SIZE
    )
    context = {
        "form": form,
        "page": page,
        "is_continuation": bool(request.GET.get("cursor")),
        "filtered": bool(filters and any(filters.values())),
    }
    if request.htmx and not request.htmx.history_restore_request:
        if request.htmx.target == "audit-more":
            return render(request, "activity/_audit_rows.html", context)
        if request.htmx.target == "audit-results":
            return render(request, "activity/_audit_results.html", context)
    return render(request, "activity/audit_list.html", context)
