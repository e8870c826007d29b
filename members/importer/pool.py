"""Checking rows in worker processes while the main process plans and writes.

Checking a row (parse, validate, blind-index, encrypt, pre-format its text) is pure Python
and needs no database: ~25 µs a row on one core, the larger part of an import's Python
side. A pool of forked processes does it for big files, batch by batch, while the main
process reads the file, plans (duplicates, the roll) and writes; results come back in file
order, so every row's outcome and message are exactly what checking in-process gives.

Small files (below MEMBER_IMPORT_POOL_MIN_ROWS) and machines without fork are checked in
the main process: starting workers costs more than it saves there.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
from collections import deque

from django.conf import settings
from django.utils import translation

from .rows import _check_rows, _RowContext

log = logging.getLogger(__name__)

_CTX: _RowContext | None = None


def _init(ctx: _RowContext, language: str | None, parent: int) -> None:
    """Runs once in each worker: the row context and the uploader's language for messages."""
    global _CTX
    _CTX = ctx
    _die_with_parent(parent)
    # A worker forked from a Celery child inherits its signal handlers: Pool.terminate()
    # must end it, and Ctrl-C is the parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if language:
        translation.activate(language)


def _check(batch: list[tuple[int, tuple]]) -> list[tuple]:
    return _check_rows(batch, _CTX)


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive the import: when its parent is killed (a Celery hard time
    limit, SIGKILL), Linux sends it SIGKILL too (prctl PR_SET_PDEATHSIG, as billiard does)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Pool.terminate() in the parent still ends it
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _Done:
    """A batch checked in the main process (same interface as an AsyncResult)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


def pool_size() -> int:
    """Worker processes for a big import: MEMBER_IMPORT_WORKERS, or (-1) one per CPU, at most 4."""
    configured = int(getattr(settings, "MEMBER_IMPORT_WORKERS", -1))
    if configured >= 0:
        return configured
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 4)


class Checker:
    """Checks batches of rows, in a pool of processes when the file is big enough, in order.

    `submit` returns a handle whose `get()` gives _check_rows' result; `backlog` says how many
    submitted batches may be in flight before the caller should take the oldest one.
    Create it before any thread of the import starts: workers are forked.
    """

    def __init__(self, ctx: _RowContext, *, expected_rows: int | None):
        self.ctx = ctx
        self.pool = None
        self.workers = 0
        self.cpu_seconds = 0.0  # the workers' CPU time, known after close()
        self._rusage = None
        workers = pool_size()
        min_rows = int(getattr(settings, "MEMBER_IMPORT_POOL_MIN_ROWS", 20_000))
        if workers and expected_rows is not None and expected_rows >= min_rows:
            # Celery's prefork children are marked daemonic, and multiprocessing refuses to let a
            # daemonic process have children (they could be orphaned when it is killed). These
            # cannot: they die with their parent (_die_with_parent), and close() ends them.
            me = multiprocessing.current_process()
            daemonic = me._config.get("daemon")
            try:
                mp = multiprocessing.get_context("fork")
                self._rusage = _children_cpu()
                me._config["daemon"] = False
                self.pool = mp.Pool(workers, initializer=_init, initargs=(ctx, translation.get_language(), os.getpid()))
                self.workers = workers
            except (ValueError, OSError, AssertionError) as exc:
                # No fork here (not Linux/macOS), or no processes left: check in-process.
                log.warning("member import: checking rows in-process (%s)", exc)
                self.pool = None
            finally:
                if daemonic is not None:
                    me._config["daemon"] = daemonic
        # Enough batches in flight to keep every worker busy while the oldest is planned.
        self.backlog = self.workers + 1 if self.pool is not None else 0

    def submit(self, batch: list[tuple[int, tuple]]):
        if self.pool is None:
            return _Done(_check_rows(batch, self.ctx))
        return self.pool.apply_async(_check, (batch,))

    def close(self) -> None:
        if self.pool is None:
            return
        self.pool.terminate()
        self.pool.join()
        self.pool = None
        if self._rusage is not None:
            self.cpu_seconds = max(_children_cpu() - self._rusage, 0.0)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def in_order(checker: Checker, batches):
    """Yield (batch, checked) in file order, keeping at most checker.backlog batches in flight."""
    pending: deque = deque()
    for batch in batches:
        pending.append((batch, checker.submit(batch)))
        while len(pending) > checker.backlog:
            batch, handle = pending.popleft()
            yield batch, handle.get()
    while pending:
        batch, handle = pending.popleft()
        yield batch, handle.get()


def backend_cpu(pid: int | None) -> float | None:
    """CPU seconds of a local PostgreSQL backend (from /proc), or None where it cannot be read."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


__all__ = ["Checker", "backend_cpu", "in_order", "pool_size"]
