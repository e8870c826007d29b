"""The one domain error type that pages and the API turn into a clear message."""

from django.utils.translation import gettext_lazy as _


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


NOT_IN_REACH = _("对象不存在，或不在您的管辖范围内。")
