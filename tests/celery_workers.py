"""Real `celery worker` processes for the tests that need them, against the test's PostgreSQL and Redis.

A test's fixture opens `Workers(...)` on its queue(s) and yields it; `workers.start("a")`
starts one worker process (its own session, so a SIGKILL to its group takes its children
too), waits until it consumes, and logs to `<logs>/<name>.log`. Leaving the block kills
every worker still running, also when the test failed, and empties the queues.
`wait_for(...)` polls a condition and, when it times out, shows the tail of every log.

Without PostgreSQL (the `postgres_only` fixture) or Redis (`broker_url()`) these tests skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from django.db import connection

from unionportal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).parent / "celery")  # the virtualenv's, next to this python


def broker_url() -> str:
    """The Redis the workers and this process share; skips the test without one."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs a real broker: run with REDIS_URL=redis://… (as .ci/run does)")
    return redis_url


def database_url() -> str:
    """The test database (test_…), for the worker processes to connect to."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def log_tails(logs: Path | None) -> str:
    if logs is None:
        return ""
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(logs.glob("*.log")))


def wait_for(predicate: Callable[[], object], timeout: float, what: str, logs: Path | None = None) -> None:
    """Poll until `predicate()` is true; after `timeout` seconds fail, with the workers' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{log_tails(logs)}")


def purge(*queues: str) -> None:
    """Empty the queues, and drop their messages that killed workers took and never acknowledged.

    Redis keeps those apart (kombu's `unacked` hash) and hands them to the next worker that
    starts after the visibility timeout, also in a later test or run: a test that failed
    before its replacement worker took them back would leave them to the next run's first
    worker, which would then build the wrong job (ids start again in a new test database).
    """
    with celery_app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in queues:
            channel.queue_purge(queue)
        client = channel.client
        for tag, raw in client.hscan_iter(channel.unacked_key):
            _message, _exchange, routing_key = json.loads(raw)
            if routing_key in queues:
                client.pipeline().zrem(channel.unacked_index_key, tag).hdel(channel.unacked_key, tag).execute()


class Workers:
    """Worker processes on `queues`, started on demand, all killed when the block ends."""

    READY_TIMEOUT = 90  # generous for a loaded machine: a worker is usually up in 2–5 s

    def __init__(
        self,
        logs: Path,
        queues: str | Iterable[str],
        *,
        pool: str = "solo",
        concurrency: int | None = None,
        include: Iterable[str] = (),
        env: dict[str, str] | None = None,
    ):
        self.logs = logs
        self.queues = [queues] if isinstance(queues, str) else list(queues)
        self.queue = self.queues[0]
        self.pool, self.concurrency, self.include = pool, concurrency, list(include)
        self.env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker_url(),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DB_CONN_MAX_AGE": "0",
            **(env or {}),
        }
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Workers:
        purge(*self.queues)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self, name: str, *, env: dict[str, str] | None = None, ready: bool = True) -> subprocess.Popen:
        """Start one worker named `name`; with `ready`, return once it takes messages."""
        command = [CELERY, "-A", "unionportal", "worker", f"--pool={self.pool}", "-Q", ",".join(self.queues)]
        if self.concurrency is not None:
            command.append(f"--concurrency={self.concurrency}")
        command += ["-n", f"{name}-{self.queue}-{os.getpid()}@%h"]
        for module in self.include:
            command += ["--include", module]
        command += ["--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel=INFO"]
        log_path = self.logs / f"{name}.log"
        with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_path = log_path
        self.processes.append(process)
        if ready:
            self.wait_ready(process)
        return process

    def wait_ready(self, process: subprocess.Popen) -> None:
        """Wait for the worker's "ready." line (it consumes from then on); fail if it died first."""

        def up():
            if process.poll() is not None:
                raise AssertionError(f"the worker exited with {process.returncode}\n{log_tails(self.logs)}")
            return " ready." in process.log_path.read_text(errors="replace")

        wait_for(up, self.READY_TIMEOUT, f"the worker logging to {process.log_path.name} to be ready", self.logs)

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and its children: no acknowledgement, no goodbye."""
        if getattr(process, "killed", False):
            return  # once only: after the wait its pid may belong to another process
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.killed = True
        process.wait(timeout=10)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)
        purge(*self.queues)
