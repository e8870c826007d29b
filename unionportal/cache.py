"""Django's Redis cache, degrading to "nothing cached" while Redis is unreachable.

The cache holds only what can be recomputed or forgotten (rate-limit counters, throttle
history), so a Redis outage must cost freshness, never a page: reads miss, writes are
dropped, and one warning a minute says so. Sign-in lock-out does not depend on it
(django-axes counts failures in the database).
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("unionportal.cache")
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_last_warning = 0.0


def _warn(exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning > 60:
        _last_warning = now
        logger.warning("Redis cache unavailable, serving without cache: %s", exc)


class ResilientRedisCache(RedisCache):
    """RedisCache whose every operation falls back as if the key were absent."""

    def _degrade(self, method: str, fallback, *args, **kwargs):
        try:
            return getattr(super(), method)(*args, **kwargs)
        except UNAVAILABLE as exc:
            _warn(exc)
            if isinstance(fallback, BaseException):
                raise fallback from exc
            return fallback

    def get(self, key, default=None, version=None):
        return self._degrade("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._degrade("get_many", {}, keys, version)

    def has_key(self, key, version=None):
        return self._degrade("has_key", False, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._degrade("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._degrade("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._degrade("delete_many", None, keys, version)

    def incr(self, key, delta=1, version=None):
        # As for a missing key: callers already handle ValueError by starting a new count.
        return self._degrade("incr", ValueError(f"Key {key!r} not found (cache unavailable)"), key, delta, version)

    def clear(self):
        """Delete this cache's keys only.

        Django's clear() is FLUSHDB, which would also wipe Celery's queued and unacknowledged
        messages when the broker shares the Redis database (as REDIS_URL makes it do).
        """
        if not self.key_prefix:
            raise ValueError("ResilientRedisCache needs a KEY_PREFIX so that clear() can spare the broker's keys")
        try:
            client = self._cache.get_client(write=True)
            batch = []
            for key in client.scan_iter(match=f"{self.key_prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)
        except UNAVAILABLE as exc:
            _warn(exc)
            return False
        return True


class SentinelPool:
    """Connection pool factory for the cache when Redis is reached through Sentinel.

    Django's Redis cache builds its pool with `pool_class.from_url(LOCATION, **OPTIONS)`;
    here LOCATION only names the database (`redis:///0`) and OPTIONS carry the sentinels
    and the monitored name. The pool asks the sentinels for the current primary on every
    new connection, so after a failover the next connection goes to the promoted one.
    """

    @classmethod
    def from_url(cls, url, *, sentinels, service_name, **options):
        from urllib.parse import urlparse

        from redis.sentinel import Sentinel, SentinelConnectionPool

        db = int((urlparse(url).path or "/0").strip("/") or 0)
        timeouts = {key: options[key] for key in ("socket_timeout", "socket_connect_timeout") if key in options}
        manager = Sentinel(sentinels, sentinel_kwargs=timeouts, **timeouts)
        return SentinelConnectionPool(service_name, manager, db=db, **options)
