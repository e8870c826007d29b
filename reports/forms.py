"""Forms of the report pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.roles import REPORT_VIEW
from organizations.forms import BootstrapForm, OrgChoiceField, options_url, pin_bound, top_of_reach
from organizations.models import Organization
from organizations.selectors import organizations_for_user

from .models import ReportRun


class ReportRequestForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("报表类型"), choices=ReportRun.Kind.choices, initial=ReportRun.Kind.MONTHLY)
    period = forms.CharField(
        label=_("统计期间"),
        max_length=7,
        help_text=_("月报填年-月，如“2026-10”；年报填年份，如“2025”。只能选已结束的月份或年度。"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        reach = organizations_for_user(user, REPORT_VIEW).filter(status=Organization.Status.ACTIVE)
        field = OrgChoiceField(
            reach,
            option_queryset=top_of_reach(reach),
            options_url=options_url("view"),
            label=_("组织（统计其下全部组织）"),
            empty_label=_("（请选择）"),
        )
        field.widget.attrs["class"] = "form-select"
        field.error_messages["required"] = _("请选择“组织”。")
        self.fields["organization"] = field
        self.order_fields(["organization", "kind", "period"])
        self.fields["kind"].widget.attrs["class"] = "form-select"
        self.fields["period"].widget.attrs.update({"placeholder": "2026-10", "inputmode": "numeric"})
        pin_bound(self, "organization")
