"""The admin kit: a Django admin scoped like every other screen (ScopedAdminMixin,
ServiceAdminMixin, add_service_error). Organisation-specific parts (the district list
filter, the organisations a foreign key may name) are in organizations.admin_filters.

Who gets into the admin
    Django's own rule stays: only accounts with `is_staff` reach /admin/. The flag is not
    derived from roles: a superuser sets it on purpose, for the few federation staff who
    need the admin (the demo sets it for `city`). Giving it to a non-superuser is safe
    because everything behind it is scoped:

    - every changelist, change page, history page and autocomplete reads through
      `Model.objects.for_user(request.user)`, so rows outside the reach do not exist
      (404), exactly as in pages and the API;
    - add/change/delete rights come from the role capabilities at the object's
      organisation (`has_capability`, e.g. org.manage, role.manage), never from
      Django's model permissions, which we never grant; models of other apps whose
      admins still use Django permissions (Celery beat, tokens, axes, groups) stay
      invisible to non-superusers;
    - foreign-key choices (supervisor, union, organisation, parent) are limited to
      active organisations in the reach of the admin's change capability (org.manage,
      role.manage, member.manage), both in the widget and when the form is
      validated, so a hand-made POST cannot point outside it;
    - writes go through the services (which check the actor again, validate and audit);
      service errors come back as form errors, never a 500. Organisations, enterprises,
      officers and stations are never deleted from the admin (dissolve, or mark
      inactive); role assignments are revoked through role_revoke.
"""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.db.models import Q
from django.http import Http404

from . import roles
from .errors import NOT_IN_REACH, SERVICE_ERRORS, refusal
from .scoping import has_capability, has_capability_anywhere, path_in_reach, reach_paths, scope_q

__all__ = [
    "SERVICE_ERRORS",
    "ScopedAdminMixin",
    "ServiceAdminMixin",
    "add_service_error",
    "reach_list_filters",
    "register_fk_choices",
    "register_reach_list_filter",
]


# Foreign-key choices limited to the reach, by related model. organizations registers
# Organization (active organisations in the reach) in its AppConfig.ready: core may not
# import it, and a new app registers its own scoped models the same way.
_fk_choices: dict = {}


def register_fk_choices(model, choices) -> None:
    """`choices(user, extra_q_or_None, capability)` gives the rows a foreign key to `model` may point at."""
    _fk_choices[model] = choices


# The "by district in the reach" list filter, for core's own admins (attachments).
# organizations registers its ReachListFilter in AppConfig.ready, for the same reason.
_reach_list_filters: list = []


def register_reach_list_filter(list_filter) -> None:
    """A list filter class that narrows a scoped changelist to part of the reach."""
    if list_filter not in _reach_list_filters:
        _reach_list_filters.append(list_filter)


def reach_list_filters() -> tuple:
    """The registered reach filters (none when no app registered one)."""
    return tuple(_reach_list_filters)


def add_service_error(form: forms.Form, exc: Exception, field_map: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: on the field it names, else at the top (core.errors.refusal)."""
    refusal(exc).on_form(form, field_map)


class ScopedAdminMixin:
    """Scoping, capability-based rights and FK limits for a ModelAdmin of a scoped model.

    `scope_path_field` is taken from the model unless the admin sets it (for models
    without a ScopedQuerySet, such as CoverageSummary). `org_fk_limits` narrows the
    organisations a foreign key may point at, e.g. {"union": Q(kind="grassroots")}.
    """

    scope_path_field: str | None = None
    change_capability: str = roles.ORG_MANAGE
    org_fk_limits: dict[str, Q] = {}
    show_full_result_count = False  # one COUNT(*) per page, not two, on big tables

    # -- reading

    def get_scope_path_field(self) -> str:
        # Declared on the model, or on its ScopedQuerySet (Organization: "path").
        return (
            self.scope_path_field
            or getattr(self.model, "scope_path_field", None)
            or self.model._default_manager.all().scope_path_field
        )

    def get_queryset(self, request):
        manager = self.model._default_manager
        if hasattr(manager, "for_user"):
            qs = manager.for_user(request.user)
        else:
            qs = manager.filter(scope_q(request.user, self.get_scope_path_field()))
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_object(self, request, object_id, from_field=None):
        # Outside the reach a row does not exist: 404, as in every page and the API.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(NOT_IN_REACH)
        return obj

    def object_path(self, obj) -> str:
        value = obj
        for part in self.get_scope_path_field().split("__"):
            value = getattr(value, part)
        return value or ""

    # -- rights (role capabilities, not Django model permissions)

    def has_module_permission(self, request):
        return request.user.is_active and bool(reach_paths(request.user))

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or path_in_reach(request.user, self.object_path(obj))

    def has_add_permission(self, request):
        return has_capability_anywhere(request.user, self.change_capability)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return has_capability_anywhere(request.user, self.change_capability)
        return has_capability(request.user, self.change_capability, self.object_path(obj))

    def has_delete_permission(self, request, obj=None):
        return False

    # -- foreign keys limited to the reach

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = _fk_choices.get(db_field.related_model)
        if choices is not None:
            # A foreign key names where the write lands: the reach of the capability that writes.
            kwargs["queryset"] = choices(request.user, self.org_fk_limits.get(db_field.name), self.change_capability)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceAdminMixin(ScopedAdminMixin):
    """A ModelAdmin whose writes go through a service, with the service's refusals as form errors.

    The service runs at the end of form validation (inside its own savepoint), so that a
    refusal is shown on the form like any validation error; save_model then has nothing
    left to do. Subclasses implement `service_save(request, form, change)` and return the
    saved object. `service_field_map` renames service error keys to form fields.
    """

    service_field_map: dict[str, str] = {}

    def service_save(self, request, form, change: bool):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(base):
            def _post_clean(self):
                super()._post_clean()
                if self._errors:
                    return
                try:
                    with transaction.atomic():
                        self.instance = model_admin.service_save(request, self, change)
                except SERVICE_ERRORS as exc:
                    add_service_error(self, exc, model_admin.service_field_map)

        ServiceForm.__name__ = base.__name__
        return ServiceForm

    def save_model(self, request, obj, form, change):
        """Already saved by the service during validation (see get_form)."""

    def save_related(self, request, form, formsets, change):
        """These models have no many-to-many fields or inlines to save."""

    def changed_values(self, form, allowed) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}
