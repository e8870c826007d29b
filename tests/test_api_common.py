"""What every API endpoint shares: token auth, the one error shape, the schema and its docs."""

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from core.api import exception_handler
from core.errors import DomainError, TransitionError
from tests.conftest import client_for

TOKEN_URL = reverse("api:api-token")
ORGS_URL = reverse("api:organization-list")
PASSWORD = "unionportal-test"  # tests.factories.UserFactory


@pytest.fixture(autouse=True)
def fresh_throttle():
    # The token endpoint is throttled per client address through the cache.
    cache.clear()
    yield
    cache.clear()


def assert_error_shape(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


# --- token auth -----------------------------------------------------------------------


def test_it_issues_a_token_that_authenticates_later_requests(tree, clerk):
    anonymous = APIClient()
    resp = anonymous.post(TOKEN_URL, {"username": "pd_clerk", "password": PASSWORD}, format="json")
    assert resp.status_code == 200
    token = resp.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    resp = client.get(ORGS_URL)
    assert resp.status_code == 200
    assert {row["name"] for row in resp.json()["results"]} >= {"浦东新区总工会"}
    # The same token again: one token per user.
    again = anonymous.post(TOKEN_URL, {"username": "pd_clerk", "password": PASSWORD}, format="json")
    assert again.json()["token"] == token


def test_it_refuses_bad_credentials_with_the_error_shape(tree, clerk):
    resp = APIClient().post(TOKEN_URL, {"username": "pd_clerk", "password": "wrong"}, format="json")
    error = assert_error_shape(resp, 400, "invalid_credentials")
    assert "密码" in error["message"]


def test_it_names_missing_token_fields(db):
    error = assert_error_shape(APIClient().post(TOKEN_URL, {}, format="json"), 400, "invalid")
    assert set(error["fields"]) == {"username", "password"}


def test_it_refuses_an_unknown_token_with_the_error_shape(tree):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    resp = client.get(ORGS_URL)
    assert resp.status_code in (401, 403)
    assert_error_shape(resp, resp.status_code, "authentication_failed")


def test_it_gives_a_workers_token_no_staff_api(tree, worker):
    resp = APIClient().post(TOKEN_URL, {"username": worker.username, "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {resp.json()['token']}")
    assert_error_shape(client.get(ORGS_URL), 403, "permission_denied")


def test_it_refuses_anonymous_requests_with_the_error_shape(tree):
    resp = APIClient().get(ORGS_URL)
    assert resp.status_code in (401, 403)
    assert_error_shape(resp, resp.status_code, "not_authenticated")


def test_it_throttles_password_guessing(tree, clerk):
    client = APIClient()
    statuses = [
        client.post(TOKEN_URL, {"username": "pd_clerk", "password": f"guess{i}"}, format="json").status_code
        for i in range(30)
    ]
    assert 429 in statuses
    resp = client.post(TOKEN_URL, {"username": "pd_clerk", "password": PASSWORD}, format="json")
    assert_error_shape(resp, 429, "throttled")
    assert resp["Retry-After"]


# --- the one error shape --------------------------------------------------------------


def _handle(exc):
    return exception_handler(exc, {})


def test_it_turns_a_services_field_errors_into_fields():
    resp = _handle(ValidationError({"kind": ["不能设立"], "__all__": ["整体有误"]}))
    assert resp.status_code == 400
    assert resp.data["error"]["code"] == "invalid"
    assert resp.data["error"]["fields"] == {"kind": ["不能设立"], "non_field_errors": ["整体有误"]}
    assert resp.data["error"]["message"] == "不能设立"


def test_it_turns_a_plain_validation_error_into_a_message():
    resp = _handle(ValidationError("代码有误"))
    assert resp.status_code == 400 and resp.data == {"error": {"code": "invalid", "message": "代码有误"}}


def test_it_turns_refused_transitions_into_409():
    resp = _handle(TransitionError("已撤销"))
    assert resp.status_code == 409
    assert resp.data == {"error": {"code": "invalid_transition", "message": "已撤销"}}
    resp = _handle(DomainError("超出预算", code="over_budget", field="amount"))
    assert resp.status_code == 409 and resp.data["error"]["fields"] == {"amount": ["超出预算"]}


def test_it_turns_django_permission_denied_and_404_into_the_shape():
    resp = _handle(PermissionDenied("您的角色没有此项操作权限。"))
    assert resp.status_code == 403
    assert resp.data["error"] == {"code": "permission_denied", "message": "您的角色没有此项操作权限。"}
    resp = _handle(Http404("No Organization matches the given query."))
    assert resp.status_code == 404 and resp.data["error"]["code"] == "not_found"
    # The message never echoes the model or the query.
    assert "Organization" not in resp.data["error"]["message"]


def test_it_leaves_unexpected_errors_to_django():
    assert _handle(RuntimeError("boom")) is None


def test_it_answers_a_bad_cursor_with_the_error_shape(tree, owner):
    assert_error_shape(client_for(owner).get(ORGS_URL, {"cursor": "garbage"}), 404, "not_found")


# --- schema and docs ------------------------------------------------------------------


def test_it_builds_the_schema_without_warnings(tmp_path, db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/organizations/{id}/move/", "/api/v1/enterprises/", "/api/v1/audit-events/"):
        assert path in text


def test_it_serves_the_schema(db):
    resp = APIClient().get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    schema = resp.json()
    assert "/api/v1/auth/token/" in schema["paths"]
    tags = {tag for ops in schema["paths"].values() for op in ops.values() for tag in op.get("tags", [])}
    assert {"organizations", "enterprises", "stations", "officers", "roles", "audit", "auth"} <= tags


def test_it_serves_the_docs_without_any_external_url(db):
    client = APIClient()
    resp = client.get("/api/docs/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert urls, "the page loads its assets"
    for url in urls:
        assert not re.match(r"^(https?:)?//", url), url
    # Assets come from our own static files, and the init script from our own endpoint.
    script_urls = re.findall(r"""<script[^>]+src=["']([^"']+)["']""", html)
    for url in script_urls:
        if url.startswith("/static/"):
            continue
        script = client.get(url)
        assert script.status_code == 200
        assert not re.search(r"https?://", script.content.decode())


def test_it_renders_the_browsable_api_without_listing_accounts(tree, owner, worker):
    client = client_for(owner)
    for target in (
        ORGS_URL,
        reverse("api:organization-detail", args=[tree["pudong"].pk]),
        reverse("api:role-assignment-list"),
    ):
        resp = client.get(target, HTTP_ACCEPT="text/html")
        assert resp.status_code == 200
        # Workers sign in with their mobile numbers: no form may offer accounts as choices.
        assert worker.username not in resp.content.decode()


@pytest.mark.parametrize("pk", ["²", "١٢", "７"])
def test_it_answers_a_non_ascii_digit_id_with_404_not_500(tree, clerk, pk):
    # str.isdigit() accepts superscripts and other scripts' digits; the database does not.
    resp = client_for(clerk).get(f"/api/v1/members/{pk}/")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"
