"""Read replicas: heavy reads go to a PostgreSQL streaming replica when one is configured.

Only reads marked heavy (dashboards, reports, exports, big lists) leave the primary:

    from core.replicas import heavy_reads

    with heavy_reads():
        figures = ...  # every ORM read in here may be served by a replica

or `@heavy_reads()` on a view or a task. Everything else, every write and every read
inside a transaction on the primary stays on the primary (alias "default"). So do the
reads that decide who the caller is and what they may see (users, sessions, tokens, role
assignments, lock-outs, second factors: `PRIMARY_ONLY`) even inside a heavy read, so that a
revoked role or a logout takes effect at once, not after the replica has replayed it.

A replica is used only while it is healthy: reachable, in recovery (a standby, not a
promoted server left behind) and replaying within `REPLICA_MAX_LAG_SECONDS` of its
primary. The check is cached per process for `REPLICA_HEALTH_SECONDS`; a replica that is
down or lagging is skipped (the read goes to the primary), never an error for the user.

Read-your-writes: a request that wrote (an unsafe method, or an ORM write seen by the
router) pins the browser to the primary for `REPLICA_PIN_SECONDS` with a cookie set by
`ReadYourWritesMiddleware`, so the page that follows a form shows what was just saved even
if the replica has not replayed it yet.

With no `DATABASE_REPLICA_URLS` the router is not installed and nothing here runs.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
from contextlib import ContextDecorator

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger(__name__)

PIN_COOKIE = "up_primary_until"

_heavy: contextvars.ContextVar[bool] = contextvars.ContextVar("heavy_reads", default=False)
# Monotonic-free wall-clock deadline (epoch seconds) until which reads stay on the primary.
_pinned_until: contextvars.ContextVar[float] = contextvars.ContextVar("pinned_until", default=0.0)
_wrote: contextvars.ContextVar[bool] = contextvars.ContextVar("wrote", default=False)
# The part of the pin that came with the request (an earlier request's write): kept even by
# independent heavy reads.
_cookie_until: contextvars.ContextVar[float] = contextvars.ContextVar("cookie_until", default=0.0)


# Models (app_label.model_name) always read from the primary: authentication and authorisation.
PRIMARY_ONLY = frozenset(
    {
        "organizations.user",
        "organizations.roleassignment",
        "sessions.session",
        "authtoken.token",
        "axes.accessattempt",
        "axes.accessfailurelog",
        "axes.accesslog",
        "otp_totp.totpdevice",
    }
)
_independent: contextvars.ContextVar[bool] = contextvars.ContextVar("independent_reads", default=False)
_forced: contextvars.ContextVar[bool] = contextvars.ContextVar("on_primary", default=False)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


class heavy_reads(ContextDecorator):
    """Mark the reads inside as heavy: a healthy replica may serve them.

    A context that has written reads from the primary (read-your-writes) unless
    `independent=True` says the reads inside do not depend on this context's own writes: a
    report build has marked its own run as running and records its progress, an export has
    written its audit entry, but the figures and rows come from data they never wrote (a
    build that refreshed the summaries itself must not pass `independent`). A browser
    pinned by an earlier request's write (the cookie) still reads from the primary.
    """

    def __init__(self, *, independent: bool = False):
        self.independent = independent

    def _recreate_cm(self):
        # A fresh instance per decorated call: the token must not be shared between threads.
        return type(self)(independent=self.independent)

    def __enter__(self):
        self._token = _heavy.set(True)
        self._itoken = _independent.set(self.independent)
        return self

    def __exit__(self, *exc):
        _independent.reset(self._itoken)
        _heavy.reset(self._token)
        return False


class on_primary(ContextDecorator):
    """Every read inside goes to the primary, heavy or not: a writer's read that must be exact,
    or a baseline measured against the replica (bench/replica_bench.py)."""

    def _recreate_cm(self):
        return type(self)()

    def __enter__(self):
        self._token = _forced.set(True)
        return self

    def __exit__(self, *exc):
        _forced.reset(self._token)
        return False


def pin_to_primary(seconds: float | None = None) -> None:
    """Keep this context's reads on the primary for `seconds` (default REPLICA_PIN_SECONDS)."""
    span = settings.REPLICA_PIN_SECONDS if seconds is None else seconds
    _pinned_until.set(max(_pinned_until.get(), time.time() + span))


def note_write() -> None:
    _wrote.set(True)
    pin_to_primary()


def pinned() -> bool:
    return _pinned_until.get() > time.time()


def reset() -> None:
    """Forget this context's writes and pin: a new unit of work (a Celery task) starts clean.

    A worker runs one task after another in the same context; without this, one task's
    write would keep the next tasks' heavy reads on the primary.
    """
    _wrote.set(False)
    _pinned_until.set(0.0)
    _cookie_until.set(0.0)


class _Health:
    """Per-process cache of each replica's health: (healthy, checked_at, why)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, tuple[bool, float, str]] = {}

    def forget(self) -> None:
        with self._lock:
            self._state.clear()

    def healthy(self, alias: str) -> bool:
        now = time.monotonic()
        with self._lock:
            cached = self._state.get(alias)
        if cached and now - cached[1] < settings.REPLICA_HEALTH_SECONDS:
            return cached[0]
        ok, why = self._check(alias)
        with self._lock:
            self._state[alias] = (ok, now, why)
        if not ok:
            log.warning("replica %s skipped: %s", alias, why)
        return ok

    def why(self, alias: str) -> str:
        with self._lock:
            cached = self._state.get(alias)
        return cached[2] if cached else ""

    @staticmethod
    def _check(alias: str) -> tuple[bool, str]:
        connection = connections[alias]
        try:
            with connection.cursor() as cursor:
                # Lag: zero when everything received has been replayed, else the age of the
                # last replayed transaction (the standard way to read a standby's lag).
                cursor.execute(
                    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
                    " THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
                )
                in_recovery, lag = cursor.fetchone()
        except Exception as exc:
            connection.close_if_unusable_or_obsolete()
            try:
                connection.close()
            except Exception:
                pass
            return False, f"unreachable ({exc.__class__.__name__})"
        if not in_recovery:
            return False, "not a standby (promoted or misconfigured)"
        if float(lag) > settings.REPLICA_MAX_LAG_SECONDS:
            return False, f"lagging {float(lag):.1f} s"
        return True, ""


health = _Health()


class ReplicaRouter:
    """DATABASE_ROUTERS entry: heavy reads to a healthy replica, the rest to the primary."""

    def __init__(self):
        self._cycle = None

    def _replicas(self):
        if self._cycle is None:
            self._cycle = itertools.cycle(replica_aliases() or [DEFAULT_DB_ALIAS])
        return self._cycle

    def db_for_read(self, model, **hints):
        if not _heavy.get() or _forced.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        if pinned() and not (_independent.get() and _cookie_until.get() <= time.time()):
            return DEFAULT_DB_ALIAS
        if model is not None and model._meta.label_lower in PRIMARY_ONLY:
            return DEFAULT_DB_ALIAS
        aliases = replica_aliases()
        for _ in range(len(aliases)):
            alias = next(self._replicas())
            if health.healthy(alias):
                return alias
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        note_write()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Replicas are read-only copies: schema changes reach them by replication.
        return db == DEFAULT_DB_ALIAS


class ReadYourWritesMiddleware:
    """Pins a browser that just wrote to the primary for REPLICA_PIN_SECONDS (a cookie)."""

    SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reset()
        try:
            until = float(request.COOKIES.get(PIN_COOKIE, "0") or 0)
        except ValueError:
            until = 0.0
        if until > time.time():
            _cookie_until.set(min(until, time.time() + settings.REPLICA_PIN_SECONDS))
            _pinned_until.set(_cookie_until.get())
        if request.method not in self.SAFE:
            note_write()
        response = self.get_response(request)
        if _wrote.get():
            response.set_cookie(
                PIN_COOKIE,
                f"{time.time() + settings.REPLICA_PIN_SECONDS:.0f}",
                max_age=int(settings.REPLICA_PIN_SECONDS),
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
