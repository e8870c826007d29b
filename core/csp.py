"""django-csp's middleware, with the policy of a plain response built once instead of per response."""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

# What a view can set on its response to change the policy (django-csp's decorators).
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_built: dict[bool, str] = {}


def _forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


setting_changed.connect(_forget)


def _policy(report_only: bool) -> str:
    policy = _built.get(report_only)
    if policy is None:
        policy = _built[report_only] = build_policy(report_only=report_only)
    return policy


class CSPMiddleware(BaseCSPMiddleware):
    """The same headers as django-csp's, without building the policy for every response.

    Building it (twice: the policy and the report-only one) cost ~0.2 ms of CPU on every
    response, more than some API requests spend on their query. A response that used no
    nonce and carries no per-view policy (every API answer, most pages' fragments) gets the
    policy built once from the settings (rebuilt when a test changes them); anything else
    goes through django-csp. tests/core/test_csp.py compares the headers of both.
    """

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND):
            return response
        for header, exempt, setting, report_only in (
            (HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            csp = _policy(report_only)
            if not csp or header in response or getattr(response, exempt, False) is not False:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = csp
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
