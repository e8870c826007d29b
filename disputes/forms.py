"""Forms of the mediation pages; every POST is carried out by a service (core.pages.service_form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Case, DisputeKind, Fulfilment


class SessionForm(forms.Form):
    held_at = forms.DateTimeField(label=_("调解时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("地点"), max_length=120)
    attendees = forms.CharField(label=_("参加人员"), max_length=300)
    notes = forms.CharField(label=_("调解记录"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class AgreementForm(forms.Form):
    terms = forms.CharField(
        label=_("协议条款"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("双方、请求事项和金额由系统按案件生成；这里只写双方约定的履行方式和期限。"),
    )
    effective_on = forms.DateField(
        label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    signed_by_applicants = forms.BooleanField(label=_("申请人已签字"), required=False)
    signed_by_respondent = forms.BooleanField(label=_("被申请人已签字"), required=False)
    signed_by_mediator = forms.BooleanField(label=_("调解员已签字"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), max_length=200, required=False)


class ActionForm(forms.Form):
    """The small forms on the case page: which fields matter depends on the action."""

    reason = forms.CharField(label=_("理由"), max_length=200, required=False)
    on = forms.DateField(
        label=_("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    days = forms.IntegerField(label=_("延长天数"), required=False)
    both_parties_consent = forms.BooleanField(label=_("双方当事人均同意延长"), required=False)
    mediator = forms.IntegerField(label=_("承办调解员"), required=False)
    referral = forms.ChoiceField(
        label=_("转处"), required=False, choices=[("", "—"), *[c for c in Case.Referral.choices if c[0]]]
    )
    outcome = forms.ChoiceField(label=_("履行情况"), required=False, choices=[("", "—"), *Fulfilment.Outcome.choices])
    amount_paid = forms.CharField(label=_("已支付金额（元）"), required=False, max_length=30)
    satisfaction = forms.IntegerField(label=_("满意度（1–5）"), required=False)
    comments = forms.CharField(label=_("意见"), required=False, max_length=300)
    court = forms.CharField(label=_("受理法院"), required=False, max_length=80)


class ApplyForm(forms.Form):
    """A worker asks for mediation or legal aid from the phone."""

    track = forms.ChoiceField(label=_("申请事项"), choices=Case.Track.choices, widget=forms.RadioSelect)
    body = forms.TypedChoiceField(label=_("调解组织"), coerce=int)
    kind = forms.ChoiceField(label=_("争议类型"), choices=DisputeKind.choices)
    respondent_name = forms.CharField(label=_("用人单位名称"), max_length=120)
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号码"), max_length=30)
    claim = forms.CharField(label=_("请求事项"), max_length=200, help_text=_("如：支付 2026 年 8 月至 10 月工资"))
    amount = forms.CharField(label=_("金额（元）"), max_length=30, required=False)
    facts = forms.CharField(label=_("争议经过"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

    def __init__(self, *args, bodies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].choices = [(b.pk, b.name) for b in bodies]
        self.fields["body"].widget.attrs["data-filter-options"] = "1"  # a search box narrows the list (issue 15)


class RateForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[(i, str(i)) for i in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comments = forms.CharField(
        label=_("意见"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
