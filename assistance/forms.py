"""Forms of the aid pages: each POST is carried out by a service (core.pages.service_form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.forms import BootstrapForm, pin_bound

from .models import AidKind, Campaign, Cause, FileStatus, FundSource, Relation, Schooling, Tier

DATE = forms.DateInput(attrs={"type": "date"})


class CheckList(forms.CheckboxSelectMultiple):
    """Check boxes that read as check boxes: the portal's field tag gives a widget it does not
    know the text-box class, which drew each box as an empty input and the group in a frame."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["class"] = "d-flex flex-wrap column-gap-3 row-gap-1"
        return context

    def create_option(self, *args, **kwargs):
        option = super().create_option(*args, **kwargs)
        option["attrs"]["class"] = "form-check-input me-1"
        option["attrs"].pop("aria-invalid", None)
        return option


class FileFilterForm(BootstrapForm):
    tier = forms.ChoiceField(label=_("困难档次"), required=False, choices=[("", _("全部")), *Tier.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *FileStatus.choices])
    cause = forms.ChoiceField(label=_("致困原因"), required=False, choices=[("", _("全部")), *Cause.choices])
    review_due_before = forms.DateField(label=_("复核到期（截至）"), required=False, widget=DATE)
    emergency = forms.ChoiceField(
        label=_("应急救助"), required=False, choices=[("", _("全部")), ("1", _("仅应急救助"))]
    )


class InvestigationForm(BootstrapForm):
    visited_on = forms.DateField(label=_("调查日期"), widget=DATE)
    investigators = forms.CharField(label=_("调查人"), max_length=200)
    findings = forms.CharField(label=_("调查情况"), widget=forms.Textarea(attrs={"rows": 4}))


class NoticeForm(BootstrapForm):
    start = forms.DateField(label=_("公示开始日期"), widget=DATE)
    working_days = forms.IntegerField(label=_("公示工作日数"), required=False, min_value=1, max_value=60)
    place = forms.CharField(label=_("公示地点"), max_length=200, required=False)
    budget = forms.ModelChoiceField(label=_("支出预算"), queryset=None)

    def __init__(self, *args, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets


class DecisionForm(BootstrapForm):
    decision = forms.ChoiceField(
        label=_("审批"), choices=[("approve", _("同意")), ("reject", _("不同意")), ("return", _("退回"))]
    )
    opinion = forms.CharField(label=_("审批意见"), max_length=500, required=False)


class ReviewForm(BootstrapForm):
    outcome = forms.ChoiceField(
        label=_("复核结论"),
        choices=[
            (s.value, s.label)
            for s in (FileStatus.REGISTERED, FileStatus.LIFTED, FileStatus.SAFETY_NET, FileStatus.CLOSED)
        ],
    )
    reason = forms.CharField(label=_("复核意见"), max_length=300)


class ApplyForm(BootstrapForm):
    causes = forms.MultipleChoiceField(label=_("致困原因"), choices=Cause.choices, widget=CheckList)
    requested_kind = forms.ChoiceField(label=_("申请救助类别"), choices=AidKind.choices)
    requested_amount = forms.DecimalField(label=_("申请救助金额（元）"), max_digits=12, decimal_places=2, min_value=0)
    assets_note = forms.CharField(label=_("家庭资产情况"), max_length=500, required=False)


class HouseholdForm(BootstrapForm):
    name = forms.CharField(label=_("姓名"), max_length=50)
    relation = forms.ChoiceField(label=_("与申请人关系"), choices=Relation.choices)
    age = forms.IntegerField(label=_("年龄"))
    monthly_income = forms.CharField(label=_("月收入（元）"), max_length=20)
    id_number = forms.CharField(label=_("身份证号码"), max_length=30, required=False)
    schooling = forms.ChoiceField(label=_("在学情况"), choices=Schooling.choices, required=False)
    health = forms.CharField(label=_("患病情况"), max_length=200, required=False)
    disability = forms.CharField(label=_("残疾情况"), max_length=200, required=False)


class ObjectionForm(BootstrapForm):
    received_on = forms.DateField(label=_("收到日期"), widget=DATE)
    content = forms.CharField(label=_("异议内容"), max_length=1000)


class ObjectionResolveForm(BootstrapForm):
    upheld = forms.BooleanField(label=_("异议成立"), required=False)
    resolution = forms.CharField(label=_("处理结果"), max_length=1000)


# --- staff forms for what the API could do before: tier override, emergency aid, funds,
# budgets and their allocations, campaigns. Choices list the aid.manage reach (the
# capability that writes), never the plain view reach.

MONEY_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})


class TierOverrideForm(BootstrapForm):
    tier = forms.ChoiceField(label=_("困难档次"), choices=Tier.choices)
    reason = forms.CharField(
        label=_("调整理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("写明为何不按测算结果定档（至少 4 个字），将记入审计日志。"),
    )


class EmergencyForm(BootstrapForm):
    id_number = forms.CharField(label=_("职工身份证号码"), max_length=30, help_text=_("在您管辖范围内的在册会员。"))
    causes = forms.MultipleChoiceField(label=_("致困原因"), choices=Cause.choices, widget=CheckList)
    amount = forms.CharField(label=_("应急救助金额（元）"), max_length=20, widget=MONEY_WIDGET)
    budget = forms.ModelChoiceField(label=_("支出预算"), queryset=None)
    reason = forms.CharField(label=_("应急事由"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget"].queryset = budgets


def _org_field(organizations, label):
    from organizations.forms import OrgChoiceField, top_of_reach

    field = OrgChoiceField(
        organizations, option_queryset=top_of_reach(organizations), label=label, empty_label=_("（请选择）")
    )
    field.widget.attrs["class"] = "form-select"  # added after BootstrapForm styled the declared fields
    field.error_messages["required"] = _("请选择“%(label)s”。") % {"label": label}
    return field


class FundForm(BootstrapForm):
    name = forms.CharField(label=_("资金名称"), max_length=100)
    source = forms.ChoiceField(label=_("资金来源"), choices=FundSource.choices)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = _org_field(organizations, _("所属组织"))
        self.order_fields(["organization", "name", "source"])
        pin_bound(self, "organization")


class BudgetForm(BootstrapForm):
    fund = forms.ModelChoiceField(label=_("资金"), queryset=None)
    year = forms.IntegerField(label=_("年度"))
    amount = forms.CharField(
        label=_("预算金额（元）"),
        max_length=20,
        widget=MONEY_WIDGET,
        help_text=_("可以填 0，再由上级下拨。"),
    )

    def __init__(self, *args, funds, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds
        self.fields["organization"] = _org_field(organizations, _("预算所属组织"))
        self.order_fields(["fund", "organization", "year", "amount"])
        pin_bound(self, "organization")


class AllocationForm(BootstrapForm):
    child = forms.ModelChoiceField(label=_("下拨给（下级组织的预算）"), queryset=None)
    amount = forms.CharField(label=_("下拨金额（元）"), max_length=20, widget=MONEY_WIDGET)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, children, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children
        self.fields["child"].label_from_instance = lambda b: f"{b.organization.name} · {b.fund.name} {b.year}"


class CampaignForm(BootstrapForm):
    name = forms.CharField(label=_("活动名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Campaign.Kind.choices)
    budget = forms.ModelChoiceField(label=_("支出预算"), queryset=None)
    amount_per_file = forms.CharField(label=_("每户金额（元）"), max_length=20, widget=MONEY_WIDGET)

    def __init__(self, *args, organizations, budgets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"] = _org_field(organizations, _("活动范围（组织）"))
        self.fields["budget"].queryset = budgets
        self.fields["budget"].label_from_instance = lambda b: f"{b.organization.name} · {b.fund.name} {b.year}"
        self.order_fields(["name", "kind", "organization", "budget", "amount_per_file"])
        pin_bound(self, "organization")
