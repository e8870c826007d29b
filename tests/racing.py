"""Run calls from several threads at the same moment, each on its own database connection.

For the tests that really race on PostgreSQL (row locks, conditional UPDATEs): every thread
waits at a barrier, then makes its call; results come back in completion order.

- `at_once(fn, threads=4)`: the same call from every thread; any exception fails the test.
- `at_once_each([fn1, fn2, ...])`: one call per thread; any exception fails the test.
- `race([fn1, fn2, ...])`: one call per thread; returns `(results, errors)` for a test that
  expects some calls to be refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from django.db import connections


def race(fns: Sequence[Callable[[], object]], *, timeout: float = 120) -> tuple[list, list[Exception]]:
    """Call each of `fns` in its own thread, all released together; return (results, errors)."""
    barrier = threading.Barrier(len(fns))
    results: list = []
    errors: list[Exception] = []

    def one(fn):
        try:
            barrier.wait(timeout=10)
            results.append(fn())
        except Exception as exc:  # returned to the test, which asserts on it
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connections

    workers = [threading.Thread(target=one, args=(fn,)) for fn in fns]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in workers), "a racing thread did not finish"
    return results, errors


def at_once_each(fns: Sequence[Callable[[], object]], *, timeout: float = 120) -> list:
    results, errors = race(fns, timeout=timeout)
    assert errors == [], errors
    return results


def at_once(fn: Callable[[], object], *, threads: int = 4, timeout: float = 120) -> list:
    return at_once_each([fn] * threads, timeout=timeout)
