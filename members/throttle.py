"""One limit on join applications per client address, whatever the door (page or API).

The page and the API used to count apart (10 per 15 minutes against 300 an hour), so a
script simply used the looser door. Both now call `join_rate_hit` for every submitted
application (valid or not), against JOIN_RATE_LIMIT per JOIN_RATE_WINDOW_SECONDS.

The count lives in the cache (Redis in production). While Redis is down the cache
stores nothing, every count starts again at one, and the limit is lenient: a worker
must be able to join during an outage; the cost is a queue a script could fill, which
clerks can reject in bulk. Reading a join code (GET) is not counted.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import BaseThrottle

MSG_TOO_MANY = _("提交过于频繁，请 %(minutes)s 分钟后再试；如需帮助请拨打职工服务热线 12351。")


def client_address(request) -> str:
    """The client address as the server sees it (a reverse proxy must set REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def rate_hit(key: str, *, limit: int, window: int) -> bool:
    """Count one event under `key` in a fixed window; True while it is within `limit`."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr, or the cache is unavailable
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def join_rate_hit(address: str) -> bool:
    """Count one application from `address`; True while it is within the limit."""
    return rate_hit(
        f"members:join-rate:{address}", limit=settings.JOIN_RATE_LIMIT, window=settings.JOIN_RATE_WINDOW_SECONDS
    )


def too_many_message() -> str:
    return str(MSG_TOO_MANY) % {"minutes": max(1, settings.JOIN_RATE_WINDOW_SECONDS // 60)}


class JoinRateThrottle(BaseThrottle):
    """The API door of the same limit: counts POSTs only, in the page's counter."""

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return join_rate_hit(client_address(request))

    def wait(self) -> float:
        return float(settings.JOIN_RATE_WINDOW_SECONDS)
