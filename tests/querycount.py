"""One helper for "no N+1": a list answers with the same number of queries for 2 rows and for 12.

    assert_list_queries(client, ["/api/v1/members/", "/members/"], grow)

`grow(n)` brings every list the URLs show to at least n rows. Each URL is loaded once to
warm per-process caches, then counted; the world grows; each URL is counted again; the
second count must not exceed the first (and `max_queries`, if given). A list whose query
count follows its rows fails with both counts and the queries of the bigger load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(client, url: str) -> tuple[int, int, list[str]]:
    """(status, number of queries, their SQL) of one GET of `url` (after one warm-up GET)."""
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    return response.status_code, len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


def assert_list_queries(
    client,
    urls: str | Iterable[str],
    grow: Callable[[int], None],
    *,
    few: int = 2,
    many: int = 12,
    max_queries: int | None = None,
) -> dict[str, tuple[int, int]]:
    """Assert each URL's query count does not grow from `few` rows to `many`; return {url: (few, many)}."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    grow(few)
    small = {url: count_queries(client, url) for url in urls}
    grow(many)
    big = {url: count_queries(client, url) for url in urls}
    failures, counts = [], {}
    for url in urls:
        status_small, n_small, _sql = small[url]
        status_big, n_big, sql = big[url]
        assert status_small == status_big == 200, (url, status_small, status_big)
        counts[url] = (n_small, n_big)
        if n_big > n_small or (max_queries is not None and n_big > max_queries):
            failures.append((url, n_small, n_big, sql))
    assert not failures, "\n\n".join(
        f"{url}: {a} queries with {few} rows, {b} with {many}:\n  " + "\n  ".join(sql) for url, a, b, sql in failures
    )
    return counts
