"""Forms of the project pages; each POST is carried out by a service (through service_form)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import PROJECT_MANAGE
from organizations.forms import OrgChoiceField, OrgMultipleChoiceField, capability_options_url, pin_bound, top_of_reach
from organizations.models import Organization, OrgKind

from .models import Category, Project


def _orgs(user, kinds):
    return (
        Organization.objects.for_user(user, PROJECT_MANAGE)
        .filter(kind__in=kinds, status=Organization.Status.ACTIVE)
        .order_by("path")
    )


class ProjectDesignForm(forms.Form):
    union = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("设计单位"))
    title = forms.CharField(max_length=100, label=_("项目名称"))
    category = forms.ChoiceField(choices=Category.choices, label=_("类别"))
    year = forms.IntegerField(min_value=2000, max_value=2100, label=_("年度"))
    summary = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label=_("项目简介")
    )
    start_date = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    implementers = forms.ModelMultipleChoiceField(queryset=Organization.objects.none(), label=_("实施单位"))
    delivery_mode = forms.ChoiceField(choices=Project.Delivery.choices, label=_("实施方式"))
    purchase_method = forms.ChoiceField(
        choices=[("", "—"), *Project.Purchase.choices], required=False, label=_("购买方式")
    )
    contractor = forms.CharField(max_length=100, required=False, label=_("承接社会组织"))
    contract_amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False, label=_("合同金额（元）"))
    contract_start = forms.DateField(
        required=False, label=_("合同开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    contract_end = forms.DateField(
        required=False, label=_("合同结束日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    goal_name = forms.CharField(max_length=100, label=_("目标"))
    goal_target = forms.IntegerField(min_value=1, label=_("目标值"))
    budget_name = forms.CharField(max_length=100, label=_("预算科目"))
    budget_planned = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label=_("预算（元）"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Searchable pickers (issue 15): the top of the reach is listed, the rest is one search away.
        for name, kinds in (
            ("union", [OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET]),
            ("implementers", [OrgKind.DISTRICT, OrgKind.STREET, OrgKind.INDUSTRY_UNION, OrgKind.PARK]),
        ):
            picker = OrgMultipleChoiceField if name == "implementers" else OrgChoiceField
            self.fields[name] = picker(
                _orgs(user, kinds),
                option_queryset=top_of_reach(_orgs(user, kinds)),
                options_url=capability_options_url(PROJECT_MANAGE, kinds),
                label=self.fields[name].label,
            )
        pin_bound(self, "union", "implementers")
        self.fields["year"].initial = timezone.localdate().year
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class SessionForm(forms.Form):
    union = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("实施单位"))
    title = forms.CharField(max_length=100, label=_("场次名称"))
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(max_length=100, label=_("地点"))
    capacity = forms.IntegerField(min_value=1, max_value=100000, label=_("名额"))

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = Organization.objects.filter(
            pk__in=project.implementers.values("union_id")
        ).order_by("path")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
