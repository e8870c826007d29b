"""The domain errors, and the ONE translation of a refusal into what a user reads.

A service refuses with `DomainError` (a business rule: HTTP 409), `TransitionError` (a
state change the state machine does not allow) or Django's `ValidationError` (bad input:
HTTP 400). `refusal(exc)` turns any of them, and the `Http404`/`PermissionDenied` a
service may raise, into one `Refusal`; every surface renders that one value:

- the API: `core.api.exception_handler` answers {"error": {code, message, fields?}};
- pages: `core.pages.apply_service_error` / `service_form` put it on the form's fields,
  `Refusal.text` is the line for a message box (`messages.error`);
- the admin: `core.admin.add_service_error` puts it on the admin form, `Refusal.text`
  goes into `message_user` for actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class DomainError(Exception):
    """A refused business action (a rule, not bad syntax): HTTP 409 in the API.

    `field` names the form field the message belongs to, when there is one.
    """

    status_code = 409
    default_code = "refused"

    def __init__(self, message, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class TransitionError(DomainError):
    """A state change the state machine does not allow from the current state."""

    default_code = "invalid_transition"


NOT_IN_REACH = gettext_lazy("对象不存在，或不在您的管辖范围内。")

# What a service may raise that pages, API and admin show as a refusal (not a 500).
SERVICE_ERRORS = (ValidationError, PermissionDenied, Http404, DomainError)


@dataclass(frozen=True)
class Refusal:
    """A refusal as users read it, whatever surface shows it.

    `fields` holds per-field messages (NON_FIELD_ERRORS for the form as a whole) when the
    error named fields; `messages` all lines in order; `message` the one line the API
    puts first; `text` the line for a message box.
    """

    code: str
    status: int
    message: str
    messages: tuple[str, ...]
    fields: dict[str, list[str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.messages)

    def on_form(self, form, field_map: dict[str, str] | None = None) -> None:
        """Put the refusal on a Django form: on the field it names where the form has it, else at the top."""
        field_map = field_map or {}
        if not self.fields:
            for line in self.messages:
                form.add_error(None, line)
            return
        for name, lines in self.fields.items():
            target = field_map.get(name, name)
            for line in lines:
                form.add_error(target if target in form.fields else None, line)


def refusal(exc: Exception) -> Refusal | None:
    """The one translation of a service's refusal; None for anything that is not one (a bug: let it raise)."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            fields = {name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()}
            first = next((lines[0] for lines in fields.values() if lines), None)
            return Refusal(
                code="invalid",
                status=400,
                message=first if first is not None else _("输入有误。"),
                messages=tuple(str(m) for m in exc.messages),
                fields=fields,
            )
        lines = tuple(str(m) for m in exc.messages)
        return Refusal(code="invalid", status=400, message="；".join(lines), messages=lines)
    if isinstance(exc, DomainError):
        line = str(exc.message)
        return Refusal(
            code=exc.code,
            status=exc.status_code,
            message=line,
            messages=(line,),
            fields={exc.field: [line]} if exc.field else {},
        )
    if isinstance(exc, Http404):
        line = str(NOT_IN_REACH)
        return Refusal(code="not_found", status=404, message=line, messages=(line,))
    if isinstance(exc, PermissionDenied):
        line = str(exc) or _("您的角色没有此项操作权限。")
        return Refusal(code="permission_denied", status=403, message=line, messages=(line,))
    return None
