"""Forms of the member pages. They collect and type-check input; the services decide.

Rules of the domain (ID checksum, age, mobile format, duplicate membership, transitions)
live in members.services and members.validators. Fields that a service checks are
optional here, so the service's message, which names the field and the fix, is the one
the user sees (put onto the field by core.pages.apply_service_error).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import MEMBER_MANAGE
from core.uploads import BoundedFileField
from organizations.forms import BootstrapForm, EnterpriseChoiceField, OrgChoiceField, date_widget, pin_bound
from organizations.models import MEMBER_HOLDING_KINDS, Organization
from organizations.selectors import enterprises_for_user, organizations_for_user, stations_for_user

from .models import Education, EmploymentForm, Honour, ImportJob, SkillLevel
from .validators import check_join_age, clean_person_name, clean_plain_text, parse_id_number, parse_mobile


def _raise(message):
    raise ValidationError(message)


def union_options(user):
    """Active organisations that hold members directly where the user may manage members.

    Every union select of the member forms names where a write lands (registration,
    transfer in, import, join code): the member.manage reach, not the view reach.
    """
    return organizations_for_user(user, MEMBER_MANAGE).filter(
        status=Organization.Status.ACTIVE, kind__in=MEMBER_HOLDING_KINDS
    )


def union_field(user, *, label, help_text="", required=True) -> OrgChoiceField:
    field = OrgChoiceField(
        organizations_for_user(user, MEMBER_MANAGE),
        option_queryset=union_options(user),
        options_url=reverse("member-union-options"),
        label=label,
        help_text=help_text,
        required=required,
        empty_label=_("（请选择）"),
    )
    field.widget.attrs["class"] = "form-select"
    field.error_messages["required"] = _("请选择“%(label)s”。") % {"label": label}
    return field


class NamedErrorsForm(BootstrapForm):
    """Every built-in message names its field ("请填写“姓名”。"), in Chinese (now BootstrapForm's rule)."""


def check_every_field(form, checks: dict) -> None:
    """Run the services' own validators on every field at once (a service stops at the
    first problem), so the user sees all that needs fixing in one go; adds the errors."""
    data = form.cleaned_data
    for name, check in checks.items():
        if name in form.errors:
            continue
        try:
            check(data.get(name) or ("" if name != "consent" else False))
        except ValidationError as exc:
            for message in exc.message_dict.get(name, exc.messages) if hasattr(exc, "error_dict") else exc.messages:
                form.add_error(name, message)


def employer_field(user) -> EnterpriseChoiceField:
    """The enterprise a member works for, searched in the registry of the user's reach."""
    return EnterpriseChoiceField(
        enterprises_for_user(user).filter(is_active=True),
        label=_("工作单位（企业名录）"),
        required=False,
        empty_label=_("（不选：请先在上方输入企业名称搜索）"),
        help_text=_(
            "输入企业名称的一部分或统一社会信用代码搜索；名录中没有的单位（平台、个体等）只填下面的“工作单位”。"
        ),
    )


def _employer(value):
    return clean_plain_text(value, field="employer_name", label=_("工作单位"))


def _choices(choices, empty=True):
    return [("", _("（请选择）"))] * empty + list(choices)


# --- staff: register, end, honours, reveal ------------------------------------------------


class MemberRegisterForm(NamedErrorsForm):
    name = forms.CharField(label=_("姓名"), max_length=50, required=False, help_text=_("与身份证一致。"))
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        help_text=_("18 位；15 位旧号码会自动升位。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    joined_on = forms.DateField(label=_("入会日期"), required=False, widget=date_widget(), help_text=_("不填为今天。"))
    employer_name = forms.CharField(label=_("工作单位"), max_length=120, required=False)
    employment_form = forms.ChoiceField(label=_("就业形态"), choices=EmploymentForm.choices)
    is_migrant_worker = forms.BooleanField(label=_("农民工"), required=False)
    education = forms.ChoiceField(label=_("文化程度"), choices=_choices(Education.choices), required=False)
    skill_level = forms.ChoiceField(label=_("技能等级"), choices=_choices(SkillLevel.choices), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            user, label=_("所在工会"), help_text=_("基层工会、工会小组、街道（乡镇）或楼宇、区域性工会联合会。")
        )
        self.fields["employer"] = employer_field(user)
        self.order_fields(["union", "name", "id_number", "mobile", "joined_on", "employer", "employer_name"])
        pin_bound(self, "union", "employer")

    def clean(self):
        data = super().clean()
        check_every_field(
            self,
            {
                "name": clean_person_name,
                "id_number": lambda v: check_join_age(parse_id_number(v)),
                "mobile": parse_mobile,
                "employer_name": _employer,
            },
        )
        return data


class MemberCorrectForm(NamedErrorsForm):
    """Identity and contact corrections; an empty ID number or mobile leaves it as it is.

    The full ID number and mobile are not pre-filled: the page would show them to anyone
    who opens it. The clerk types the corrected value (the masked one is shown beside).
    """

    name = forms.CharField(label=_("姓名"), max_length=50, required=False, help_text=_("与身份证一致。"))
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    employer_name = forms.CharField(label=_("工作单位"), max_length=120, required=False)
    reason = forms.CharField(
        label=_("更正原因"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("必填，记入审计日志，例如“登记时身份证号抄错一位，已核对原件”。"),
    )

    def __init__(self, *args, member, user, **kwargs):
        kwargs.setdefault(
            "initial", {"name": member.name, "employer_name": member.employer_name, "employer": member.employer_id}
        )
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["id_number"].help_text = _("现为 %(m)s；不改请留空。") % {"m": member.id_masked}
        self.fields["mobile"].help_text = _("现为 %(m)s；不改请留空。") % {"m": member.mobile_masked}
        self.fields["employer"] = employer_field(user)
        self.order_fields(["name", "id_number", "mobile", "employer", "employer_name", "reason"])
        pin_bound(self, "employer")

    def clean(self):
        data = super().clean()
        employer = data.get("employer")
        if employer is not None and employer.pk == self.member.employer_id:
            data["employer"] = None  # unchanged
        elif employer is not None and data.get("employer_name") == self.member.employer_name:
            data["employer_name"] = ""  # a newly chosen enterprise brings its own name
        return data


class MembershipEndForm(NamedErrorsForm):
    ACTIONS = {"leave": _("退会"), "retire": _("退休")}

    action = forms.ChoiceField(label=_("办理事项"), choices=list(ACTIONS.items()), widget=forms.HiddenInput)
    ended_on = forms.DateField(label=_("日期"), required=False, widget=date_widget(), help_text=_("不填为今天。"))
    reason = forms.CharField(label=_("原因"), max_length=200, required=False, widget=forms.Textarea)


class HonourForm(NamedErrorsForm):
    kind = forms.ChoiceField(label=_("荣誉类别"), choices=_choices(Honour.Kind.choices))
    year = forms.IntegerField(label=_("授予年度"), required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].error_messages["required"] = _("请填写“授予年度”。")

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is None:
            raise forms.ValidationError(_("请填写“授予年度”，例如 %(y)s。") % {"y": timezone.localdate().year})
        return year


class RevealForm(NamedErrorsForm):
    purpose = forms.CharField(label=_("查看事由"), max_length=200, required=False)


# --- staff: applications, transfers --------------------------------------------------------


class RejectForm(NamedErrorsForm):
    reason = forms.CharField(label=_("驳回理由"), max_length=200, required=False)


class TransferRequestForm(NamedErrorsForm):
    """Destination chosen from a name search over all unions (its id only comes back)."""

    to_union = forms.IntegerField(label=_("转入工会"), required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("转接原因"), max_length=200, required=False)

    def clean_to_union(self):
        from .selectors import transfer_destination_get

        value = self.cleaned_data.get("to_union")
        union = transfer_destination_get(value) if value else None
        if union is None:
            raise forms.ValidationError(_("请先按名称搜索，再从结果中选择“转入工会”。"))
        return union


class TransferInForm(NamedErrorsForm):
    """The receiving union asks for a member of another union, found by ID number."""

    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        help_text=_("要转入人员的身份证号码（须为其他工会的在册会员）。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(label=_("转接原因"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_union"] = union_field(user, label=_("转入工会"))
        self.order_fields(["id_number", "to_union", "reason"])
        pin_bound(self, "to_union")

    def clean_id_number(self):
        value = (self.cleaned_data.get("id_number") or "").strip()
        if not value:
            raise forms.ValidationError(_("请填写要转入人员的“身份证号码”。"))
        return value


class TransferDecisionForm(NamedErrorsForm):
    note = forms.CharField(label=_("处理意见"), max_length=200, required=False)


# --- staff: import, join codes ------------------------------------------------------------


class ImportForm(NamedErrorsForm):
    file = BoundedFileField(
        label=_("名册文件"),
        help_text=_("Excel（.xlsx）或 CSV（.csv，UTF-8）文件，第一行为列名，请使用下载的模板。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    mode = forms.ChoiceField(
        label=_("导入方式"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(user, label=_("导入到工会"))
        self.order_fields(["union", "file", "mode"])
        self.fields["file"].error_messages["required"] = _("请选择要上传的“名册文件”。")
        self.fields["file"].error_messages["empty"] = _("上传的“名册文件”是空文件，请检查后重新选择。")
        self.fields["mode"].widget.attrs["class"] = "form-check-input"
        pin_bound(self, "union")


class JoinCodeForm(NamedErrorsForm):
    label = forms.CharField(
        label=_("名称"), max_length=120, required=False, help_text=_("例如：一楼大厅海报。不填则用工会或站点名称。")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            user, label=_("受理工会"), required=False, help_text=_("入会申请由该工会审批。")
        )
        self.fields["station"] = forms.ModelChoiceField(
            stations_for_user(user, MEMBER_MANAGE).filter(is_active=True).order_by("name"),
            label=_("或：服务站点"),
            required=False,
            empty_label=_("（不选）"),
            help_text=_("为服务站点生成时，申请由站点的主办工会审批。"),
            error_messages={"invalid_choice": _("所选服务站点不存在或不在您的管辖范围内。")},
        )
        self.fields["station"].widget.attrs["class"] = "form-select"
        self.fields["station"].widget.attrs["data-filter-options"] = "1"  # a search box narrows the list
        self.order_fields(["union", "station", "label"])
        pin_bound(self, "union")

    def clean(self):
        data = super().clean()
        if not data.get("union") and not data.get("station"):
            self.add_error("union", _("请选择“受理工会”，或选择一个服务站点。"))
        return data


# --- public: scan-to-join ------------------------------------------------------------------


class JoinForm(NamedErrorsForm):
    """The mobile join form: the minimum the union needs, checked in full by the service."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("与身份证一致。"),
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("审核通过后用此号码登录。"),
    )
    employer_name = forms.CharField(
        label=_("工作单位"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        help_text=_("平台、灵活就业可填所在平台或“无”。"),
    )
    employment_form = forms.ChoiceField(label=_("就业形态"), choices=_choices(EmploymentForm.choices), required=False)
    is_migrant_worker = forms.BooleanField(label=_("我是农民工（农业户籍、在城镇务工）"), required=False)
    password = forms.CharField(
        label=_("设置登录密码"),
        max_length=128,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字。审核通过后用手机号码和此密码登录。"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        max_length=128,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(label=_("我已阅读并同意《个人信息处理告知书》"), required=False)

    def clean(self):
        """Check every field at once (the service stops at the first problem), with the
        service's own validators, so a phone user sees all that needs fixing in one go."""
        data = super().clean()
        check_every_field(
            self,
            {
                "name": clean_person_name,
                "id_number": lambda v: check_join_age(parse_id_number(v)),
                "mobile": parse_mobile,
                "employment_form": lambda v: v or _raise(_("请选择就业形态。")),
                "consent": lambda v: v or _raise(_("请阅读并勾选同意《个人信息处理告知书》后再提交。")),
                **({"employer_name": _employer} if "employer_name" in self.fields else {}),
            },
        )
        password, password2 = data.get("password") or "", data.get("password2") or ""
        if not password:
            self.add_error("password", _("请设置“登录密码”，审核通过后用手机号码和此密码登录。"))
        elif password != password2:
            self.add_error("password2", _("两次输入的密码不一致，请重新输入。"))
        return data


# --- self-service -----------------------------------------------------------------------------


class ContactForm(NamedErrorsForm):
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("更换后请用新号码登录。"),
    )
    employer_name = forms.CharField(label=_("工作单位"), max_length=120, required=False)


class PasswordChangeForm(NamedErrorsForm):
    old_password = forms.CharField(
        label=_("原密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请输入“原密码”（您现在登录用的密码）。")},
    )
    new_password = forms.CharField(
        label=_("新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 10 位，不能全是数字，不要与姓名或手机号相近。"),
        error_messages={"required": _("请输入“新密码”。")},
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请再次输入新密码。")},
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", _("两次输入的新密码不一致，请重新输入。"))
        return data


class PasswordResetRequestForm(NamedErrorsForm):
    """Forgotten password, step 1: the mobile number the code goes to."""

    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("请输入“手机号码”（入会时登记、登录用的号码）。")},
    )


class PasswordResetConfirmForm(NamedErrorsForm):
    """Forgotten password, step 2: the code from the text message and the new password."""

    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("请输入“手机号码”（入会时登记、登录用的号码）。")},
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={"required": _("请输入短信中的 6 位“验证码”。")},
    )
    new_password = PasswordChangeForm.base_fields["new_password"]
    new_password2 = PasswordChangeForm.base_fields["new_password2"]

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password2") and data["new_password"] != data["new_password2"]:
            self.add_error("new_password2", _("两次输入的新密码不一致，请重新输入。"))
        return data


class LeaveForm(NamedErrorsForm):
    reason = forms.CharField(label=_("退会原因"), max_length=200, required=False, widget=forms.Textarea)
    confirm = forms.BooleanField(label=_("我确认退出工会，并知晓会员卡将立即失效"), required=False)

    def clean_confirm(self):
        if not self.cleaned_data.get("confirm"):
            raise forms.ValidationError(_("请勾选确认后再提交退会。"))
        return True
