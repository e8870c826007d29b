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

import contextlib
import logging
import multiprocessing
import multiprocessing.util
import os
import resource
import signal
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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


def _check(batch: list[tuple[int, tuple]]) -> tuple[list[tuple], str]:
    return _check_rows(batch, _CTX)


def _ready() -> int:
    return os.getpid()


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
    """A batch checked in the main process (same interface as a Future)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def result(self):
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

    `submit` returns a handle whose `result()` gives _check_rows' result; `backlog` says how
    many submitted batches may be in flight before the caller should take the oldest one.
    Create it before any thread of the import starts: workers are forked. A worker that dies
    (killed, out of memory) makes `result()` raise BrokenProcessPool: the import stops and
    writes nothing, instead of waiting for ever for a lost batch.
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
                with _without_after_fork_hooks():
                    self.pool = ProcessPoolExecutor(
                        workers,
                        mp_context=mp,
                        initializer=_init,
                        initargs=(ctx, translation.get_language(), os.getpid()),
                    )
                    # With fork the executor starts every worker at the first submit: do it now,
                    # before the import's writer thread exists (a fork copies only this thread).
                    self.pool.submit(_ready).result()
                self.workers = workers
            except (ValueError, OSError, AssertionError, BrokenProcessPool) as exc:
                # No fork here (not Linux/macOS), or no processes left: check in-process.
                log.warning("member import: checking rows in-process (%s)", exc)
                if self.pool is not None:
                    self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None
            finally:
                if daemonic is not None:
                    me._config["daemon"] = daemonic
        # Enough batches in flight to keep every worker busy while the oldest is planned.
        self.backlog = self.workers + 1 if self.pool is not None else 0

    def submit(self, batch: list[tuple[int, tuple]]):
        if self.pool is None:
            return _Done(_check_rows(batch, self.ctx))
        return self.pool.submit(_check, batch)

    def close(self) -> None:
        if self.pool is None:
            return
        # Batches still queued (an import stopped early) are dropped; the workers exit and
        # are reaped here, so their CPU time is counted below.
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None
        if self._rusage is not None:
            self.cpu_seconds = max(_children_cpu() - self._rusage, 0.0)


@contextlib.contextmanager
def _without_after_fork_hooks():
    """Fork the workers without the after-fork hooks other libraries registered.

    The workers check rows and touch no connection, and they end with os._exit. kombu's hook
    closes the broker connections a child inherited, and a channel the parent left waiting
    on a BRPOP (a worker ping, a purge) makes that close read the parent's socket: the child
    blocked for ever in its start-up, and the import with it at the pool's shutdown.
    """
    registry = multiprocessing.util._afterfork_registry
    saved = dict(registry)
    registry.clear()
    try:
        yield
    finally:
        registry.update(saved)


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
            yield batch, handle.result()
    while pending:
        batch, handle = pending.popleft()
        yield batch, handle.result()


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
