"""Production settings pass Django's deployment checks; the schedule names real tasks."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def _production_env():
    # DJANGO_ALLOW_ASYNC_UNSAFE is a test-only switch of the browser tests (async.E001 in production).
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(
        DEBUG="0",
        SECRET_KEY="prod-" + Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        ALLOWED_HOSTS="union.example.cn",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        BLIND_INDEX_KEY=Fernet.generate_key().decode(),
    )
    return env


def test_it_passes_check_deploy_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_in_production():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_every_scheduled_task_exists():
    from unionportal.celery import app

    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_replica_urls_add_read_aliases_the_router_and_the_pin_middleware():
    probe = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'aliases': sorted(settings.DATABASES), 'routers': settings.DATABASE_ROUTERS,"
        " 'mw': 'core.replicas.ReadYourWritesMiddleware' in settings.MIDDLEWARE,"
        " 'port': settings.DATABASES['replica2']['PORT'], 'mirror': settings.DATABASES['replica1']['TEST']['MIRROR']}))"
    )
    env = {
        **_production_env(),
        "DJANGO_SETTINGS_MODULE": "unionportal.settings",
        "DATABASE_URL": "postgres://app@db1:5432/unionportal",
        "DATABASE_REPLICA_URLS": "postgres://app@db2:5432/unionportal, postgres://app@db3:6432/unionportal",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["aliases"] == ["default", "replica1", "replica2"]
    assert seen["routers"] == ["core.replicas.ReplicaRouter"]
    assert seen["mw"] is True
    assert seen["port"] == 6432
    assert seen["mirror"] == "default"


def test_tasks_are_routed_to_their_workload_queue():
    from unionportal.celery import app

    route = app.amqp.router.route
    assert route({}, "members.tasks.run_member_import")["queue"].name == "imports"
    assert route({}, "reports.tasks.build_report")["queue"].name == "reports"
    assert route({}, "activity.tasks.reminders_sweep")["queue"].name == "reminders"
    assert route({}, "activity.tasks.deliveries_send")["queue"].name == "reminders"
    assert route({}, "disputes.risk_recompute")["queue"].name == "default"
    # A worker started without -Q (the demo, the tests) consumes every queue.
    assert {queue.name for queue in app.conf.task_queues} == {"default", "imports", "reports", "reminders"}


def test_the_pgbouncer_mode_turns_off_server_side_cursors():
    probe = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({a: d.get('DISABLE_SERVER_SIDE_CURSORS', False) for a, d in settings.DATABASES.items()}))"
    )
    env = {
        **_production_env(),
        "DATABASE_URL": "postgres://app@127.0.0.1:6432/unionportal",
        "DATABASE_REPLICA_URLS": "postgres://app@db2:6432/unionportal",
        "DATABASE_POOLER": "pgbouncer",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"default": True, "replica1": True}

    env["DATABASE_POOLER"] = "pgpool"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DATABASE_POOLER" in result.stderr


def test_sentinels_drive_the_broker_and_the_cache():
    probe = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps({'broker': settings.CELERY_BROKER_URL,"
        " 'master': settings.CELERY_BROKER_TRANSPORT_OPTIONS['master_name'],"
        " 'pool': settings.CACHES['default']['OPTIONS']['pool_class'],"
        " 'sentinels': settings.CACHES['default']['OPTIONS']['sentinels']}))"
    )
    env = {**_production_env(), "REDIS_URL": "redis:///3", "REDIS_SENTINELS": "10.0.0.11:26379, 10.0.0.12:26380"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["broker"] == "sentinel://10.0.0.11:26379/3;sentinel://10.0.0.12:26380/3"
    assert seen["master"] == "unionportal"
    assert seen["pool"] == "unionportal.cache.SentinelPool"
    assert seen["sentinels"] == [["10.0.0.11", 26379], ["10.0.0.12", 26380]]
