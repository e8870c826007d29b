"""The CSP middleware sets the headers django-csp's own would, on every kind of response."""

import re

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django.test import RequestFactory

from core.csp import CSPMiddleware

REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"], "script-src": ["'self'", NONCE]}}


def _view(kind):
    def view(request):
        if kind == "nonce":
            str(request.csp_nonce)  # a page that renders the nonce
            return HttpResponse("<script nonce>")
        if kind == "json":
            return JsonResponse({"ok": True})
        if kind == "missing":
            return HttpResponseNotFound("no")
        response = HttpResponse("x")
        if kind == "exempt":
            response._csp_exempt = True
        elif kind == "exempt_ro":
            response._csp_exempt_ro = True
        elif kind == "update":
            response._csp_update = {"img-src": ["https://example.org"]}
        elif kind == "replace":
            response._csp_replace = {"script-src": ["'self'"]}
        elif kind == "preset":
            response[HEADER] = "default-src 'none'"
        return response

    return view


def _headers(middleware_class, kind, path):
    request = RequestFactory().get(path)
    response = middleware_class(_view(kind))(request)

    def same_nonce(value):  # each request draws its own
        return None if value is None else re.sub(r"'nonce-[^']+'", "'nonce-N'", value)

    return same_nonce(response.get(HEADER)), same_nonce(response.get(HEADER_REPORT_ONLY)), response.status_code


KINDS = ["plain", "json", "nonce", "missing", "exempt", "exempt_ro", "update", "replace", "preset"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", ["/api/v1/members/", "/members/", "/static/x.css"])
def test_it_sets_the_headers_django_csp_sets(kind, path):
    assert _headers(CSPMiddleware, kind, path) == _headers(DjangoCSPMiddleware, kind, path)
    assert _headers(CSPMiddleware, kind, path)[0] or kind in ("exempt", "preset")


@pytest.mark.parametrize("kind", KINDS)
def test_it_follows_changed_settings_report_only_and_excluded_prefixes(settings, kind):
    policy = {**settings.CONTENT_SECURITY_POLICY, "EXCLUDE_URL_PREFIXES": ["/static/"]}
    settings.CONTENT_SECURITY_POLICY = policy
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = REPORT_ONLY
    for path in ("/api/v1/members/", "/static/x.css"):
        assert _headers(CSPMiddleware, kind, path) == _headers(DjangoCSPMiddleware, kind, path)
    assert _headers(CSPMiddleware, "plain", "/static/x.css")[0] is None
    assert _headers(CSPMiddleware, "plain", "/")[1]


def test_it_leaves_debug_404s_alone(settings):
    settings.DEBUG = True
    assert (
        _headers(CSPMiddleware, "missing", "/x/")
        == _headers(DjangoCSPMiddleware, "missing", "/x/")
        == (
            None,
            None,
            404,
        )
    )


def test_it_refuses_a_nonce_asked_for_after_the_header_was_written():
    request = RequestFactory().get("/")
    CSPMiddleware(_view("plain"))(request)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)
