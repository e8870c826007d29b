"""`{% inbox_preview %}`: the home page's to-do list, the user's latest unread messages."""

from django import template

from ..selectors import notifications_for

register = template.Library()

PREVIEW_SIZE = 5


@register.inclusion_tag("activity/_inbox_preview.html", takes_context=True)
def inbox_preview(context):
    request = context["request"]
    rows = list(notifications_for(request.user, unread_only=True).order_by("-created_at", "-id")[: PREVIEW_SIZE + 1])
    return {"rows": rows[:PREVIEW_SIZE], "more": len(rows) > PREVIEW_SIZE, "csrf_token": context.get("csrf_token")}
