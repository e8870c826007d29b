"""Template helpers shared by the staff and self-service pages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import forms, template
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from core.scoping import has_capability, has_capability_anywhere, org_in_reach

register = template.Library()


@register.filter
def action_name(code: str) -> str:
    """An audit action code as people read it: "member.join_approved" -> 批准入会申请."""
    from core.audit import action_label

    return action_label(code or "")


KIND_BADGES = {
    "city": "text-bg-danger",
    "district": "text-bg-primary",
    "street": "text-bg-info",
    "industry_union": "text-bg-warning",
    "industry_federation": "text-bg-warning",
    "regional_federation": "text-bg-secondary",
    "park": "text-bg-success",
    "building": "text-bg-secondary",
    "grassroots": "text-bg-light border",
    "union_group": "text-bg-light border",
}
STATUS_BADGES = {"active": "text-bg-success", "merged": "text-bg-secondary", "dissolved": "text-bg-dark"}


@register.filter
def kind_badge(kind: str) -> str:
    """Bootstrap badge classes for an organisation kind."""
    return KIND_BADGES.get(kind, "text-bg-secondary")


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.filter
def percent(value) -> str:
    """0.4567 -> '45.7%'; None (nothing to divide by) -> '—'."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{value * 100:.1f}%"


@register.simple_tag(takes_context=True)
def can(context, capability: str, path: str | None = None) -> bool:
    """Whether the current user holds `capability` at `path` (anywhere if no path)."""
    user = context["request"].user
    if path is None:
        return has_capability_anywhere(user, capability)
    return has_capability(user, capability, path)


@register.simple_tag(takes_context=True)
def org_name(context, org) -> str:
    """An organisation's name, or "辖区外工会" when it lies outside the reader's reach (as the API's null)."""
    shown = org_in_reach(context["request"].user, org)
    return shown.name if shown is not None else _("辖区外工会")


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (None or '' removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = value
    encoded = urlencode(sorted(params.lists()), doseq=True)
    return f"?{encoded}" if encoded else "?"


def base_css_class(widget) -> str:
    """Bootstrap's class for a widget: check box, select, or text-like control."""
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


@register.inclusion_tag("includes/field.html")
def bs_field(field, wrapper_class: str = "mb-3", show_label: bool = True):
    """One form field with its label, Bootstrap classes, inline errors and help text."""
    widget = field.field.widget
    classes = widget.attrs.get("class", "").split()
    # Forms not built on BootstrapForm (django-filter's) get the base class here.
    base = base_css_class(widget)
    if base not in classes:
        classes.append(base)
    if field.errors and "is-invalid" not in classes:
        classes.append("is-invalid")
        widget.attrs["aria-invalid"] = "true"
        widget.attrs["aria-describedby"] = f"{field.auto_id}_errors"
    widget.attrs["class"] = " ".join(classes)
    options_url = widget.attrs.get("data-options-url", "")
    multiple = bool(getattr(widget, "allow_multiple_selected", False))
    if options_url:
        extra = {}
        if multiple:
            # The search box sends the chosen values along; the answer keeps them selected.
            extra["keep"] = field.html_name
        if not field.field.required and not multiple:
            extra["optional"] = "1"
        if extra:
            options_url = f"{options_url}{'&' if '?' in options_url else '?'}{urlencode(extra)}"
    return {
        "field": field,
        "wrapper_class": wrapper_class,
        "show_label": show_label,
        "is_checkbox": isinstance(widget, forms.CheckboxInput),
        "options_url": options_url,
        "multiple": multiple,
        # All options are in the page: the search box narrows them in the browser (app.js).
        "filter_local": not options_url and "data-filter-options" in widget.attrs,
        "search_placeholder": _("输入名称搜索"),
    }


@register.inclusion_tag("includes/form_errors.html")
def form_errors(form):
    """The form's non-field errors as one alert."""
    return {"errors": form.non_field_errors()}


# --- numbers, money and dates in Chinese conventions -----------------------------------
# Django's zh-hans locale groups digits by ten thousand with no separator ("12345");
# statistics and money on Chinese government-service sites are written with a comma every
# three digits ("12,345", "¥1,234.00"), which is what these filters give in every language.
# Dates need no filter: `|date:"DATE_FORMAT"` is "2026年11月21日" in zh-hans.


def _grouped(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


@register.filter
def num(value) -> str:
    """A count with thousands grouped by three: 12345 -> '12,345'; None or '' -> '—'."""
    if value is None or value == "" or isinstance(value, bool):
        return "—"
    try:
        return _grouped(Decimal(str(value)), 0)
    except (InvalidOperation, ValueError):
        return str(value)


@register.filter
def yuan(value) -> str:
    """An amount of money in yuan: 1234.5 -> '¥1,234.50'; -8 -> '-¥8.00'; None -> '—'."""
    if value is None or value == "" or isinstance(value, bool):
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{_grouped(abs(amount), 2)}"
