"""The replica router and read-your-writes middleware, without a replica server (the real
streaming replica is in test_replica.py)."""

from __future__ import annotations

import contextvars
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from core import replicas


@pytest.fixture
def replica_alias(settings, monkeypatch):
    databases = dict(settings.DATABASES)
    databases["replica1"] = {**databases["default"], "TEST": {"MIRROR": "default"}}
    monkeypatch.setattr(replicas, "replica_aliases", lambda: ["replica1"])
    settings.REPLICA_PIN_SECONDS = 15
    return "replica1"


def run_fresh(fn):
    return contextvars.Context().run(fn)


def test_only_heavy_reads_leave_the_primary(replica_alias, monkeypatch):
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: True)
    router = replicas.ReplicaRouter()

    def heavy():
        with replicas.heavy_reads():
            return router.db_for_read(None)

    assert run_fresh(lambda: router.db_for_read(None)) == "default"
    assert run_fresh(heavy) == "replica1"


def test_an_unhealthy_replica_is_skipped(replica_alias, monkeypatch):
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: False)
    router = replicas.ReplicaRouter()

    def heavy():
        with replicas.heavy_reads():
            return router.db_for_read(None)

    assert run_fresh(heavy) == "default"


def test_a_write_pins_the_context_to_the_primary(replica_alias, monkeypatch):
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: True)
    router = replicas.ReplicaRouter()

    def write_then_read():
        assert router.db_for_write(None) == "default"
        with replicas.heavy_reads():
            return router.db_for_read(None)

    assert run_fresh(write_then_read) == "default"


def test_heavy_reads_as_a_decorator_is_thread_safe_per_call():
    @replicas.heavy_reads()
    def inside():
        return replicas._heavy.get()

    assert run_fresh(inside) is True
    assert run_fresh(lambda: replicas._heavy.get()) is False


def test_middleware_sets_the_pin_cookie_after_a_write_and_honours_it(replica_alias):
    factory = RequestFactory()
    seen = {}

    def view(request):
        seen["pinned"] = replicas.pinned()
        return HttpResponse("ok")

    middleware = replicas.ReadYourWritesMiddleware(view)
    response = run_fresh(lambda: middleware(factory.post("/members/1/edit/")))
    assert seen["pinned"] is True
    cookie = response.cookies[replicas.PIN_COOKIE]
    assert float(cookie.value) > time.time()
    assert cookie["httponly"]

    # The next page (a GET) carries the cookie: still on the primary.
    request = factory.get("/members/1/")
    request.COOKIES[replicas.PIN_COOKIE] = cookie.value
    response = run_fresh(lambda: middleware(request))
    assert seen["pinned"] is True
    assert replicas.PIN_COOKIE not in response.cookies

    # Without it, or with an expired or garbled one: not pinned.
    for value in (None, f"{time.time() - 1:.0f}", "not-a-number"):
        request = factory.get("/members/1/")
        if value is not None:
            request.COOKIES[replicas.PIN_COOKIE] = value
        run_fresh(lambda r=request: middleware(r))
        assert seen["pinned"] is False


def test_a_forged_far_future_cookie_pins_for_the_configured_span_at_most(replica_alias, settings):
    factory = RequestFactory()
    request = factory.get("/")
    request.COOKIES[replicas.PIN_COOKIE] = f"{time.time() + 10**9:.0f}"
    spans = {}

    def view(request):
        spans["until"] = replicas._pinned_until.get()
        return HttpResponse("ok")

    run_fresh(lambda: replicas.ReadYourWritesMiddleware(view)(request))
    assert spans["until"] <= time.time() + settings.REPLICA_PIN_SECONDS + 1


def test_replicas_are_never_migrated():
    router = replicas.ReplicaRouter()
    assert router.allow_migrate("default", "members") is True
    assert router.allow_migrate("replica1", "members") is False


def test_on_primary_keeps_even_heavy_and_independent_reads_on_the_primary(replica_alias, monkeypatch):
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: True)
    router = replicas.ReplicaRouter()

    def forced():
        with replicas.on_primary(), replicas.heavy_reads(independent=True):
            return router.db_for_read(None)

    assert run_fresh(forced) == "default"


def test_independent_heavy_reads_ignore_own_writes_but_not_an_earlier_requests_pin(replica_alias, monkeypatch):
    monkeypatch.setattr(replicas.health, "healthy", lambda alias: True)
    router = replicas.ReplicaRouter()

    def after_own_write():
        router.db_for_write(None)
        with replicas.heavy_reads(independent=True):
            return router.db_for_read(None)

    assert run_fresh(after_own_write) == "replica1"

    factory = RequestFactory()
    request = factory.get("/members/export/")
    request.COOKIES[replicas.PIN_COOKIE] = f"{time.time() + 10:.0f}"
    seen = {}

    def view(request):
        with replicas.heavy_reads(independent=True):
            seen["alias"] = router.db_for_read(None)
        return HttpResponse("ok")

    run_fresh(lambda: replicas.ReadYourWritesMiddleware(view)(request))
    assert seen["alias"] == "default"


def test_authorisation_reads_stay_on_the_primary_inside_heavy_reads(replica_alias, monkeypatch):
    from members.models import Member
    from organizations.models import RoleAssignment, User

    monkeypatch.setattr(replicas.health, "healthy", lambda alias: True)
    router = replicas.ReplicaRouter()

    def heavy(model):
        with replicas.heavy_reads():
            return router.db_for_read(model)

    assert run_fresh(lambda: heavy(User)) == "default"
    assert run_fresh(lambda: heavy(RoleAssignment)) == "default"
    assert run_fresh(lambda: heavy(Member)) == "replica1"
