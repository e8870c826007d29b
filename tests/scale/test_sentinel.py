"""Redis Sentinel: a primary, a replica and three sentinels on loopback; the portal (cache and
Celery broker) reaches Redis through the sentinels. The primary is killed mid-run; the
sentinels promote the replica; no queued task is lost, the running worker carries on, and
the portal keeps enqueuing and caching."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection

from tests.security import fault_tasks

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
MASTER = "unionportal"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def effects() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT job FROM {fault_tasks.EFFECTS}")
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def topology(tmp_path):
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    processes: list[subprocess.Popen] = []

    def spawn(*args: str, name: str) -> subprocess.Popen:
        log = open(tmp_path / f"{name}.log", "w")
        process = subprocess.Popen([REDIS_SERVER, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        processes.append(process)
        return process

    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    primary_port, replica_port = free_port(), free_port()
    primary = spawn("--port", str(primary_port), *common, name="primary")
    spawn("--port", str(replica_port), "--replicaof", "127.0.0.1", str(primary_port), *common, name="replica")
    wait_for(
        lambda: redis.Redis(port=replica_port).info("replication")["master_link_status"] == "up",
        "the replica to sync",
    )
    sentinels = []
    for n in range(3):
        port = free_port()
        conf = tmp_path / f"sentinel{n}.conf"
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 5000\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        spawn(str(conf), "--sentinel", name=f"sentinel{n}")
        sentinels.append(port)
    for port in sentinels:
        wait_for(
            lambda p=port: (
                int(redis.Redis(port=p).sentinel_master(MASTER)["num-other-sentinels"]) == 2
                and int(redis.Redis(port=p).sentinel_master(MASTER)["num-slaves"]) == 1
            ),
            "the sentinels to find each other and the replica",
        )
    yield {
        "primary": primary,
        "primary_port": primary_port,
        "replica_port": replica_port,
        "sentinels": sentinels,
        "logs": tmp_path,
    }
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_a_failover_loses_no_task_and_the_portal_keeps_serving(postgres_only, transactional_db, topology):
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": "redis:///0",
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in topology["sentinels"]),
        "REDIS_SENTINEL_MASTER": MASTER,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DB_CONN_MAX_AGE": "0",
        "FAULT_DRILL_WORKER": "1",
    }
    live, parked = f"live-{uuid.uuid4().hex[:6]}", f"parked-{uuid.uuid4().hex[:6]}"
    celery = str(Path(sys.executable).parent / "celery")
    workers = []

    def start_worker(queue: str) -> None:
        log = open(topology["logs"] / f"worker-{queue}.log", "w")
        workers.append(
            subprocess.Popen(
                [celery, "-A", "unionportal", "worker", "--pool=solo", "-Q", queue, "-n", f"{queue}@%h"]
                + ["--include", "tests.security.fault_tasks", "--without-heartbeat", "--without-mingle"]
                + ["--without-gossip", "--loglevel=INFO"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def portal(queue: str, *jobs: str) -> dict:
        result = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "scale" / "sentinel_probe.py"), queue, *jobs],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    fault_tasks.create_tables()
    try:
        start_worker(live)
        before = [f"before-{n}" for n in range(5)]
        assert portal(live, *before) == {"cache": "cached", "sent": 5}
        wait_for(lambda: set(before) <= effects(), "the tasks sent before the failover")

        # Messages waiting in a queue no worker takes yet: they must survive the failover.
        waiting = [f"waiting-{n}" for n in range(5)]
        assert portal(parked, *waiting)["sent"] == 5
        primary = redis.Redis(port=topology["primary_port"])
        replica = redis.Redis(port=topology["replica_port"])
        wait_for(
            lambda: (
                replica.info("replication")["slave_repl_offset"] >= primary.info("replication")["master_repl_offset"]
            ),
            "the replica to hold every queued message",
        )

        topology["primary"].kill()  # SIGKILL: no goodbye to the sentinels or the worker
        topology["primary"].wait(timeout=10)
        sentinel = redis.Redis(port=topology["sentinels"][0])
        wait_for(
            lambda: int(sentinel.sentinel_get_master_addr_by_name(MASTER)[1]) == topology["replica_port"],
            "the sentinels to promote the replica",
        )
        wait_for(lambda: replica.info("replication")["role"] == "master", "the replica to take writes")

        after = [f"after-{n}" for n in range(5)]
        assert portal(live, *after) == {"cache": "cached", "sent": 5}  # the portal serves
        wait_for(lambda: set(after) <= effects(), "the running worker to carry on after the failover", timeout=60)
        start_worker(parked)
        wait_for(lambda: set(waiting) <= effects(), "the messages queued before the failover", timeout=60)
        assert effects() == set(before) | set(waiting) | set(after)
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        fault_tasks.drop_tables()
