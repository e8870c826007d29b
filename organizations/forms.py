"""Forms of the staff pages. They collect and type-check input; the services decide.

Every rule of the domain (allowed child kinds, credit-code check, reach, cycles) lives in
organizations.services; a view calls the service with `cleaned_data` and puts a refusal
back onto the form with core.pages.apply_service_error, so each message appears once,
next to the field it is about.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db.models import Min
from django.forms.models import ModelChoiceIterator, fields_for_model
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from core.login_names import login_name
from core.roles import ORG_MANAGE

from .models import ALLOWED_CHILD_KINDS, ROOT_KINDS, Enterprise, Officer, Organization, OrgKind, ServiceStation
from .selectors import organizations_for_user
from .services import ENTERPRISE_FIELDS, OFFICER_FIELDS, ORG_FIELDS, STATION_FIELDS, SUPERVISOR_KINDS

# A plain <select> stays usable up to a few hundred options; beyond that the search box
# next to it narrows the list (see org_options in views).
OPTION_LIMIT = 500


class LoginNameMixin:
    """Sign-in forms: the name takes its one spelling before authenticate() and the lock-out."""

    def clean_username(self):
        return login_name(self.cleaned_data.get("username"))


# Explanations of a refused sign-in that only the person who typed the right password may
# read, e.g. "your application is under review" (members registers it: organizations sits
# below members). Each is `hint(login_name, password) -> str | None`; it must cost the
# same whether or not it finds anything, and must say nothing unless the password proves
# the typist is the person it is about.
_sign_in_hints: list = []


def register_sign_in_hint(hint) -> None:
    """Add an explanation the login page may give instead of the stock refusal."""
    if hint not in _sign_in_hints:
        _sign_in_hints.append(hint)


class LoginForm(LoginNameMixin, AuthenticationForm):
    """The login page's form (staff usernames and workers' mobile numbers)."""

    hinted = False

    def get_invalid_login_error(self):
        # Reached only after authenticate() failed, so the failure is already counted
        # (django-axes): a hint gives no extra guesses.
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username and password:
            for hint in _sign_in_hints:
                message = hint(username, password)
                if message:
                    self.hinted = True  # the page shows it as information, not as an error
                    return forms.ValidationError(message, code="invalid_login")
        return super().get_invalid_login_error()


class AdminLoginForm(LoginNameMixin, AdminAuthenticationForm):
    """The admin site's login form: the same spelling rule as the login page."""


def date_widget() -> forms.DateInput:
    """The browser's date picker; values in ISO form so that it can read them back."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


EMPTY_CHOICE = _("（请选择）")
_DASHES = "---------"  # Django's empty choice, which means nothing to a clerk


def _stock_messages(field) -> dict:
    """Django's own error messages of a field's class (the ones the portal rewords)."""
    out: dict = {}
    for cls in reversed(type(field).__mro__):
        if cls.__module__.startswith("django."):  # a portal field's own defaults are chosen on purpose
            out.update(cls.__dict__.get("default_error_messages", {}))
    return out


def name_field_errors(field) -> None:
    """Give a form field the portal's wording: each message names the field and the fix.

    Only Django's stock messages are replaced; a message a form sets on purpose stays.
    Django's "---------" empty choice becomes "（请选择）". Idempotent.
    """
    if getattr(field, "_portal_named", False):
        return
    field._portal_named = True
    label = field.label or ""
    stock = _stock_messages(field)
    mine = {}
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField | forms.MultipleChoiceField):
        mine["required"] = _("请选择“%(label)s”。") % {"label": label}
        mine["invalid_choice"] = _("“%(label)s”的选项无效，请从列表中选择。") % {"label": label}
    else:
        mine["required"] = _("请填写“%(label)s”。") % {"label": label}
    if isinstance(field, forms.DateField):
        mine["invalid"] = _("“%(label)s”不是有效日期，请按 2024-05-01 的格式填写。") % {"label": label}
    elif isinstance(field, forms.IntegerField):
        mine["invalid"] = _("“%(label)s”应为整数。") % {"label": label}
    elif isinstance(field, forms.DecimalField | forms.FloatField):
        mine["invalid"] = _("“%(label)s”应为数字。") % {"label": label}
    elif isinstance(field, forms.EmailField):
        mine["invalid"] = _("“%(label)s”不是有效的电子邮箱地址，请核对。") % {"label": label}
    elif isinstance(field, forms.URLField):
        mine["invalid"] = _("“%(label)s”不是有效的网址，请核对。") % {"label": label}
    for key, message in mine.items():
        if key not in field.error_messages or field.error_messages[key] == stock.get(key):
            field.error_messages[key] = message
    validators = []
    for v in field.validators:
        if isinstance(v, MaxLengthValidator) and v.message == MaxLengthValidator.message:
            v = MaxLengthValidator(
                v.limit_value, message=_("“%(label)s”最多 %(n)s 个字，请删减。") % {"label": label, "n": v.limit_value}
            )
        elif isinstance(v, MinValueValidator) and v.message == MinValueValidator.message:
            v = MinValueValidator(
                v.limit_value, message=_("“%(label)s”不能小于 %(n)s。") % {"label": label, "n": v.limit_value}
            )
        elif isinstance(v, MaxValueValidator) and v.message == MaxValueValidator.message:
            v = MaxValueValidator(
                v.limit_value, message=_("“%(label)s”不能大于 %(n)s。") % {"label": label, "n": v.limit_value}
            )
        validators.append(v)
    field.validators = validators
    if isinstance(field, forms.ModelChoiceField):
        if field.empty_label == _DASHES:
            field.empty_label = EMPTY_CHOICE
    elif isinstance(field, forms.ChoiceField):
        choices = list(field.choices)
        if any(label == _DASHES for _v, label in choices):
            field.choices = [(v, EMPTY_CHOICE if label == _DASHES else label) for v, label in choices]
    widget_choices = getattr(field.widget, "choices", None)
    if isinstance(widget_choices, list) and any(label == _DASHES for _v, label in widget_choices):
        field.widget.choices = [(v, EMPTY_CHOICE if label == _DASHES else label) for v, label in widget_choices]


class BootstrapForm(forms.Form):
    """A plain form whose widgets carry Bootstrap's classes and whose messages are the portal's.

    Fields added after __init__ (organisation pickers) are named when first rendered or
    validated, so every form of the portal says "请填写“名称”。" rather than Django's
    "该字段是必填项。" (issue 15).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 3)

    def _name_fields(self) -> None:
        for field in self.fields.values():
            name_field_errors(field)

    def __getitem__(self, name):
        self._name_fields()
        return super().__getitem__(name)

    def full_clean(self):
        self._name_fields()
        return super().full_clean()


def _model_fields(model, names, **overrides):
    fields = fields_for_model(model, fields=list(names))
    for field in fields.values():
        if isinstance(field, forms.DateField):
            field.widget = date_widget()
    fields.update(overrides)
    return fields


def org_label(org: Organization) -> str:
    """An option label that shows the tree level by indentation."""
    return f"{'　' * max(org.depth - 1, 0)}{org.name}"


class _LimitedIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        seen = set()
        if self.field.option_queryset is not None:
            for obj in self.field.option_queryset[: self.field.option_limit]:
                seen.add(obj.pk)
                yield self.choice(obj)
        for obj in self.field.pinned:
            if obj.pk not in seen:
                seen.add(obj.pk)
                yield self.choice(obj)

    def __len__(self):
        listed = self.field.option_limit if self.field.option_queryset is not None else 0
        return listed + len(self.field.pinned) + (self.field.empty_label is not None)


class SearchableChoiceMixin:
    """A select that lists a few options and finds the rest through a search box (issue 15).

    `queryset` decides what is accepted (always scoped to the user: nothing outside the
    reach can be named); `option_queryset` what is listed before anyone types, capped at
    OPTION_LIMIT (None: nothing, the list is one search away); `options_url` the endpoint
    the search box above the select asks (templates/includes/field.html). A chosen or
    initial value is pinned so that it stays listed.
    """

    iterator = _LimitedIterator
    option_order: tuple[str, ...] = ("path",)

    def __init__(self, queryset, *, option_queryset=None, options_url: str = "", list_options: bool = True, **kwargs):
        if option_queryset is None and list_options:
            option_queryset = queryset
        self.option_queryset = option_queryset.order_by(*self.option_order) if option_queryset is not None else None
        self.option_limit = OPTION_LIMIT
        self.pinned: list = []
        super().__init__(queryset, **kwargs)
        if options_url:
            self.widget.attrs["data-options-url"] = options_url

    def pin(self, value) -> None:
        """Make sure the chosen or initial value(s) are listed even beyond the cap."""
        values = value if isinstance(value, list | tuple) else [value]
        pks = []
        for v in values:
            pk = getattr(v, "pk", v)
            if isinstance(pk, int) or (isinstance(pk, str) and pk.isdigit() and len(pk) < 19):
                pks.append(int(pk))
        if pks:
            self.pinned.extend(self.queryset.filter(pk__in=pks[:OPTION_LIMIT]).order_by(*self.option_order))


class OrgChoiceField(SearchableChoiceMixin, forms.ModelChoiceField):
    """Choose an organisation in the user's reach (a searchable select).

    A choice the service refuses (a cycle, a wrong kind) is explained by the service.
    """

    default_error_messages = {"invalid_choice": _("所选组织不存在或不在您的管辖范围内，请重新选择。")}

    def label_from_instance(self, obj):
        return org_label(obj)


class OrgMultipleChoiceField(SearchableChoiceMixin, forms.ModelMultipleChoiceField):
    """Choose several organisations in the user's reach; the search keeps the chosen ones."""

    default_error_messages = {
        "invalid_choice": _("所选组织不存在或不在您的管辖范围内，请重新选择。"),
        "invalid_pk_value": _("所选组织不存在或不在您的管辖范围内，请重新选择。"),
    }

    def label_from_instance(self, obj):
        return org_label(obj)


class EnterpriseChoiceField(SearchableChoiceMixin, forms.ModelChoiceField):
    """Choose an enterprise of the registry in the user's reach: nothing is listed until a
    search (a city holds some 150,000), by name or credit code (the enterprise-options page)."""

    option_order = ("name", "id")
    default_error_messages = {"invalid_choice": _("所选企业不存在或不在您的管辖范围内，请重新搜索选择。")}

    def __init__(self, queryset, **kwargs):
        kwargs.setdefault("list_options", False)
        kwargs.setdefault("options_url", reverse("enterprise-options"))
        super().__init__(queryset, **kwargs)

    def label_from_instance(self, obj):
        return enterprise_label(obj)


def enterprise_label(ent: Enterprise) -> str:
    """An enterprise as a picker lists it: the name, and the credit code's tail to tell namesakes apart."""
    return f"{ent.name}（…{ent.credit_code[-6:]}）"


def top_of_reach(queryset):
    """The first two levels of what `queryset` holds: what a picker lists before anyone types.

    A city federation's reach is hundreds of unions (≈70 KB of <option>s on every list
    page); the rest is one search away (the options endpoint), and a chosen one is pinned.
    """
    top = queryset.order_by().aggregate(top=Min("depth"))["top"]
    return queryset if top is None else queryset.filter(depth__lte=top + 1)


def pin_bound(form: forms.Form, *names: str) -> None:
    """Keep the submitted (or initial) value of these capped searchable selects among their options."""
    for name in names:
        field = form.fields[name]
        if form.is_bound:
            key = form.add_prefix(name)
            value = form.data.getlist(key) if hasattr(form.data, "getlist") else form.data.get(key)
            if not isinstance(field, forms.ModelMultipleChoiceField) and isinstance(value, list):
                value = value[-1:] if value else None
        else:
            value = form.initial.get(name)
            if hasattr(value, "all"):
                value = list(value.all())
        field.pin(value)


def options_url(purpose: str, org: Organization | None = None, **params) -> str:
    params = {"purpose": purpose, **params}
    if org is not None:
        params["org"] = org.pk
    return f"{reverse('org-options')}?{urlencode(params)}"


def capability_options_url(capability: str, kinds=()) -> str:
    """The search of active organisations of `kinds` in the user's reach for `capability`
    (the option sets of the domain forms above this app: projects, aid, mediation)."""
    params = {"capability": capability}
    if kinds:
        params["kinds"] = ",".join(kinds)
    return options_url("capability", **params)


def capability_options(user, capability: str, kinds=()):
    qs = organizations_for_user(user, capability).filter(status=Organization.Status.ACTIVE)
    return qs.filter(kind__in=list(kinds)) if kinds else qs


# --- option sets, shared by the forms and the option search endpoint -----------------


def _active_in_reach(user):
    """Active organisations where the user may manage organisations: every target below is a write's."""
    return organizations_for_user(user, ORG_MANAGE).filter(status=Organization.Status.ACTIVE)


def move_target_options(user, org: Organization):
    """Active organisations in reach that may hold `org`'s kind, outside its own subtree."""
    parent_kinds = [kind for kind, allowed in ALLOWED_CHILD_KINDS.items() if org.kind in allowed]
    return _active_in_reach(user).filter(kind__in=parent_kinds).exclude(path__startswith=org.path)


def merge_target_options(user, org: Organization):
    return _active_in_reach(user).filter(kind=org.kind).exclude(path__startswith=org.path)


def supervisor_options(user):
    return _active_in_reach(user).filter(kind__in=SUPERVISOR_KINDS)


def union_options(user):
    return _active_in_reach(user).filter(kind=OrgKind.GRASSROOTS)


def any_org_options(user):
    return organizations_for_user(user)


# --- organisations ---------------------------------------------------------------------


def _kind_choices(kinds) -> list[tuple[str, str]]:
    return [(value, label) for value, label in OrgKind.choices if value in kinds]


class OrganizationForm(BootstrapForm):
    """Create a child (parent fixed by the URL) or edit an organisation's own fields.

    `kind` accepts any kind; the select lists only those allowed under the parent, and
    the service explains a disallowed one.
    """

    def __init__(self, *args, parent: Organization | None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ALLOWED_CHILD_KINDS[parent.kind] if parent is not None else ROOT_KINDS
        # A new list for the widget only: the field itself still accepts every kind.
        self.fields["kind"].widget.choices = [("", EMPTY_CHOICE), *_kind_choices(allowed)]


OrganizationForm.base_fields = _model_fields(
    Organization,
    ORG_FIELDS,
    kind=forms.ChoiceField(label=_("类型"), choices=[("", EMPTY_CHOICE), *OrgKind.choices]),
)
OrganizationForm.declared_fields = {}


class OrganizationMoveForm(BootstrapForm):
    def __init__(self, *args, user, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"] = OrgChoiceField(
            organizations_for_user(user, ORG_MANAGE),
            option_queryset=move_target_options(user, organization),
            options_url=options_url("move", organization),
            label=_("新的上级组织"),
            help_text=_("只列出您管辖范围内、可以设立该类型组织的上级。"),
        )
        self.fields["new_parent"].widget.attrs["class"] = "form-select"
        pin_bound(self, "new_parent")


class OrganizationDissolveForm(BootstrapForm):
    on = forms.DateField(label=_("撤销日期"), widget=date_widget())
    reason = forms.CharField(
        label=_("撤销原因"), max_length=500, widget=forms.Textarea, help_text=_("例如：企业注销、组织调整。")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class OrganizationMergeForm(BootstrapForm):
    on = forms.DateField(label=_("合并日期"), widget=date_widget())

    def __init__(self, *args, user, organization: Organization, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["into"] = OrgChoiceField(
            organizations_for_user(user, ORG_MANAGE),
            option_queryset=merge_target_options(user, organization),
            options_url=options_url("merge", organization),
            label=_("并入的组织"),
            help_text=_("只能并入同类型、正常状态的组织。下级组织、企业和服务站点将一并转入。"),
        )
        self.fields["into"].widget.attrs["class"] = "form-select"
        self.order_fields(["into", "on"])
        pin_bound(self, "into")


# --- enterprises, officers, stations ---------------------------------------------------


class EnterpriseForm(BootstrapForm):
    def __init__(self, *args, user, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisor"] = OrgChoiceField(
            organizations_for_user(user, ORG_MANAGE),
            option_queryset=supervisor_options(user),
            options_url=options_url("supervisor"),
            label=_("属地工会"),
            help_text=_("企业所在的街道（乡镇）、园区、区域性联合会或区（县）总工会。"),
        )
        self.fields["union"] = OrgChoiceField(
            organizations_for_user(user, ORG_MANAGE),
            option_queryset=union_options(user),
            options_url=options_url("union"),
            label=_("本单位工会"),
            required=False,
            empty_label=_("（尚未建会）"),
            help_text=_("企业已建立工会时选择其基层工会。"),
        )
        for name in ("supervisor", "union"):
            self.fields[name].widget.attrs["class"] = "form-select"
        if not editing:
            del self.fields["is_active"]
        pin_bound(self, "supervisor", "union")


EnterpriseForm.base_fields = _model_fields(
    Enterprise, [f for f in ENTERPRISE_FIELDS if f not in ("supervisor", "union")]
)
EnterpriseForm.declared_fields = {}


class OfficerForm(BootstrapForm):
    pass


OfficerForm.base_fields = _model_fields(Officer, OFFICER_FIELDS)
OfficerForm.declared_fields = {}


class StationForm(BootstrapForm):
    pass


StationForm.base_fields = _model_fields(ServiceStation, STATION_FIELDS)
StationForm.declared_fields = {}
