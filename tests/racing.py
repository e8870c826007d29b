"""Run one call from several threads at the same moment, each on its own database connection.

For the tests that really race on PostgreSQL (row locks, conditional UPDATEs): every thread
waits at a barrier, then calls `fn()`; the results come back in completion order, and any
exception a thread raised fails the test with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def at_once(fn: Callable[[], object], *, threads: int = 4, timeout: float = 120) -> list:
    barrier = threading.Barrier(threads)
    results: list = []
    errors: list[BaseException] = []

    def one():
        try:
            barrier.wait(timeout=10)
            results.append(fn())
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in workers), "a racing thread did not finish"
    assert errors == [], errors
    return results
