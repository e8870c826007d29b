"""Template helpers for the attachment partials."""

from django import template

register = template.Library()


@register.filter
def kind_label(attachment, labels) -> str:
    """The domain's label for the attachment's kind code (the code itself if unknown)."""
    return (labels or {}).get(attachment.kind, attachment.kind)
