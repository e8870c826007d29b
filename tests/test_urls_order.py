"""The URL patterns' order is a matter of speed only: no route is shadowed by another."""

import re

from django.urls import get_resolver, resolve
from django.urls.resolvers import URLResolver

_SAMPLES = {"int": "7", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000007", "path": "x"}


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern), p


def _sample(route: str) -> str:
    """A path the route matches: path() converters and the routers' regex groups filled in."""
    s = route.replace("(?P<format>[a-z0-9]+)", "json")
    s = re.sub(r"\(\?P<\w+>[^)]*\)", "7", s)
    s = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLES.get(m.group(1) or "str", "x"), s)
    return "/" + s.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")


def test_it_keeps_the_api_apart_from_the_pages():
    # The API is tried first (unionportal/urls.py): no page may live under /api/.
    api, pages = [], []
    for route, _p in _routes(get_resolver().url_patterns):
        (api if route.startswith("api/v1/") else pages).append(route)
    assert len(api) > 100
    assert [r for r in pages if r.startswith("api/v1")] == []


def test_it_resolves_every_api_route_to_its_own_view():
    checked = 0
    for route, _p in _routes(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        match = resolve(_sample(route))
        # Django drops the leading "^" of each joined regex segment in match.route.
        assert match.route == re.sub(r"(^|/)\^", r"\1", route), f"{route} is answered by {match.route}"
        checked += 1
    assert checked > 100
