"""Fault drills with real parts: Redis down, the database restarting under the app, and a
Celery worker killed in the middle of a task.

(a) Redis down: pages, sign-in and the API keep working (the cache degrades to nothing
    cached), and background work is kept in the task outbox and sent when it is back.
(b) Database restart: every server connection is terminated between two requests; the
    next request reconnects (CONN_HEALTH_CHECKS) instead of failing.
(c) Worker killed: a real worker is killed with SIGKILL mid-task; the message, never
    acknowledged (acks_late), is delivered to a new worker and the effect happens once.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
import uuid
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from core.models import TaskOutbox
from core.outbox import enqueue, resend_outbox
from organizations.models import CoverageSummary
from organizations.tasks import refresh_coverage_summaries
from tests.celery_workers import Workers, wait_for
from tests.test_settings import ROOT
from unionportal.celery import app as celery_app

from . import fault_tasks
from .test_scope_leaks import PUBLIC_PREFIXES, _expand, _page_paths

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens here
PASSWORD = "unionportal-test"


def _dead_cache(backend="unionportal.cache.ResilientRedisCache"):
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": backend,
                "LOCATION": DEAD_REDIS,
                "KEY_PREFIX": "unionportal-cache",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
    )


# --- (a) Redis down ---------------------------------------------------------------------


def test_it_serves_sign_in_pages_and_the_api_while_redis_is_down(sides, tree, owner):
    with _dead_cache():
        client = Client()
        assert client.get("/accounts/login/").status_code == 200
        response = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD})
        assert response.status_code == 302
        checked = 0
        for template in _page_paths():
            if template.startswith(PUBLIC_PREFIXES):
                continue
            for url in _expand(template, [tree["pudong"].pk]):
                response = client.get(url)
                assert response.status_code < 500, (url, response.status_code)
                checked += response.status_code == 200
        assert checked > 8
        for path in ("/", "/orgs/", "/enterprises/", "/stations/", "/audit/"):
            assert client.get(path).status_code == 200, path
        # The token endpoint is throttled through the cache: it must still answer.
        token = APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
        assert token.status_code == 200
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
        assert api.get("/api/v1/organizations/").status_code == 200


def test_it_would_fail_with_django_s_plain_redis_cache(owner):
    """Why the resilient backend exists: the plain one turns an outage into errors."""
    with (
        _dead_cache("django.core.cache.backends.redis.RedisCache"),
        pytest.raises(RedisConnectionError),
    ):
        APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")


def _settings_with_redis():
    """unionportal/settings.py as executed for a deployment with Redis."""
    saved = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/3"
    try:
        spec = importlib.util.spec_from_file_location("settings_probe", ROOT / "unionportal" / "settings.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            del os.environ["REDIS_URL"]
        else:
            os.environ["REDIS_URL"] = saved
    return module


def test_it_configures_the_resilient_cache_and_a_fast_failing_broker_when_redis_is_used():
    module = _settings_with_redis()
    assert module.CELERY_BROKER_TRANSPORT_OPTIONS["max_retries"] <= 3
    cache = module.CACHES["default"]
    assert cache["BACKEND"] == "unionportal.cache.ResilientRedisCache"
    assert cache["KEY_PREFIX"]  # cache.clear() must spare the broker's keys
    assert cache["OPTIONS"]["socket_connect_timeout"] <= 2
    assert module.CELERY_TASK_ACKS_LATE and module.CELERY_TASK_REJECT_ON_WORKER_LOST


def test_it_clears_the_cache_without_wiping_the_broker_queues(settings):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs a real Redis: run with REDIS_URL=redis://… (as .ci/run does)")
    import redis
    from django.core.cache import cache

    queue_key = f"fault-drill-queue-{uuid.uuid4().hex[:8]}"
    raw = redis.Redis.from_url(redis_url)
    raw.lpush(queue_key, b"a queued task message")
    try:
        cache.set("drill-entry", "cached")
        assert cache.get("drill-entry") == "cached"
        cache.clear()
        assert cache.get("drill-entry") is None
        assert raw.llen(queue_key) == 1
    finally:
        raw.delete(queue_key)


def test_it_degrades_cache_clear_while_redis_is_down(db):
    from django.core.cache import cache

    with _dead_cache():
        assert cache.clear() is False
        assert cache.get("anything", "fallback") == "fallback"
        assert cache.add("k", 1) is False
        with pytest.raises(ValueError):
            cache.incr("k")


@contextlib.contextmanager
def _broker(url: str, *, eager: bool):
    """Point the Celery app at another broker (and eager mode) for the block."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager, conf.broker_transport_options

    def reset_pools():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url, conf.task_always_eager = url, eager
    conf.broker_transport_options = _settings_with_redis().CELERY_BROKER_TRANSPORT_OPTIONS
    reset_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager, conf.broker_transport_options = saved
        reset_pools()


def test_it_keeps_background_work_in_the_outbox_while_the_broker_is_down(tree, django_capture_on_commit_callbacks):
    CoverageSummary.objects.all().delete()
    started = time.monotonic()
    with _broker(DEAD_REDIS, eager=False), django_capture_on_commit_callbacks(execute=True):
        enqueue(refresh_coverage_summaries)
    assert time.monotonic() - started < 5, "a dead broker must not hold the request"
    job = TaskOutbox.objects.get()
    assert job.task_name == "organizations.tasks.refresh_coverage_summaries"
    assert "6390" in job.last_error

    # Still down: the resend keeps the job and counts the attempt.
    with _broker(DEAD_REDIS, eager=False):
        assert resend_outbox() == 0
    assert TaskOutbox.objects.get().attempts == 2
    assert not CoverageSummary.objects.exists()

    # The broker is back (eager: the task runs here, as a worker would run it).
    with _broker(DEAD_REDIS, eager=True):
        assert resend_outbox() == 1
    assert not TaskOutbox.objects.exists()
    assert CoverageSummary.objects.filter(organization=tree["city"]).exists()


def test_it_sends_at_once_when_the_broker_is_up(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(refresh_coverage_summaries)
    assert not TaskOutbox.objects.exists()
    assert CoverageSummary.objects.filter(organization=tree["city"]).exists()


def test_it_schedules_the_outbox_resend_every_minute():
    entry = celery_app.conf.beat_schedule["activity-resend-task-outbox"]
    assert entry["task"] == "activity.tasks.resend_outbox"


# --- (b) database restart ---------------------------------------------------------------


def _wsgi_get(handler, path: str, cookie: str) -> int:
    """One request through the real WSGI handler, connection housekeeping included.

    (Django's test client would switch that housekeeping off: it is what is tested here.)
    """
    environ = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, HTTP_COOKIE=cookie, SERVER_NAME="testserver", HTTP_HOST="testserver")
    statuses = []
    body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    body.close()  # sends request_finished
    return int(statuses[0].split()[0])


def _kill_server_connection_of(pid: int) -> None:
    """Terminate one server process from outside, as a database restart would."""
    params = connection.get_connection_params()
    with contextlib.closing(psycopg2.connect(**params)) as admin:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0]


def test_it_recovers_from_a_database_restart_without_a_restart_of_its_own(postgres_only, transactional_db, owner):
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # connections are kept between requests
    client = Client()
    client.force_login(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    handler = WSGIHandler()

    assert _wsgi_get(handler, "/", cookie) == 200
    kept = connection.connection
    assert kept is not None and not kept.closed  # kept for the next request
    _kill_server_connection_of(kept.get_backend_pid())

    assert _wsgi_get(handler, "/orgs/", cookie) == 200  # health check failed: reconnected
    assert connection.connection is not kept
    assert _wsgi_get(handler, "/", cookie) == 200


def test_it_would_answer_500_once_without_the_health_check(postgres_only, transactional_db, owner):
    """Why CONN_HEALTH_CHECKS is on: without it the first request after a restart fails."""
    client = Client()
    client.force_login(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    handler = WSGIHandler()
    assert _wsgi_get(handler, "/", cookie) == 200
    connection.health_check_enabled = False
    try:
        _kill_server_connection_of(connection.connection.get_backend_pid())
        assert _wsgi_get(handler, "/orgs/", cookie) == 500
    finally:
        connection.health_check_enabled = True
    assert _wsgi_get(handler, "/orgs/", cookie) == 200


# --- (c) a worker killed mid-task ---------------------------------------------------------


def _rows(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture
def drill_worker(postgres_only, transactional_db, tmp_path):
    """Start real `celery worker` processes on a private queue; kill them all at the end."""
    queue = f"fault-drill-{uuid.uuid4().hex[:8]}"
    env = {"CELERY_VISIBILITY_TIMEOUT": "2", "FAULT_DRILL_WORKER": "1"}
    with Workers(tmp_path, queue, include=["tests.security.fault_tasks"], env=env) as workers:
        fault_tasks.create_tables()
        try:
            yield workers
        finally:
            workers.close()  # before the tables go: a worker may still be writing to them
            fault_tasks.drop_tables()


def test_it_redelivers_a_task_whose_worker_was_killed_and_the_effect_happens_once(drill_worker):
    job = uuid.uuid4().hex
    first = drill_worker.start("first")
    celery_app.send_task(
        "tests.security.fault_tasks.slow_effect", args=[job, 3.0], queue=drill_worker.queue, retry=False
    )
    attempts = f"SELECT finished FROM {fault_tasks.ATTEMPTS} WHERE job = '{job}' ORDER BY id"
    effects = f"SELECT job FROM {fault_tasks.EFFECTS} WHERE job = '{job}'"
    # Generous bounds for a loaded machine; the drill itself takes about ten seconds.
    wait_for(lambda: len(_rows(attempts)) == 1, 60, "the first worker to start the task", drill_worker.logs)

    drill_worker.kill(first)  # the whole worker, mid-task: no ack, no goodbye
    assert _rows(effects) == []

    # The replacement starts after the visibility timeout (2 s in this drill): at start-up it
    # hands the unacknowledged message out again. Production waits CELERY_VISIBILITY_TIMEOUT.
    time.sleep(2.5)
    drill_worker.start("second")
    wait_for(
        lambda: len(_rows(effects)) == 1, 60, "the second worker to finish the redelivered task", drill_worker.logs
    )
    assert _rows(attempts) == [(False,), (True,)]  # killed once, then run to completion once
    time.sleep(1)
    assert len(_rows(effects)) == 1
    assert [row[0] for row in _rows(attempts)].count(True) == 1
