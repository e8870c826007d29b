"""Authentication: argon2, password rules, lock-out, audit of sign-ins, session expiry, CSRF
on every form, a strict Content-Security-Policy, and TLS-only cookies with HSTS in production.

Pages and API operations are discovered, not listed, so a new form or endpoint is checked
for CSRF and CSP the day it is added.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from activity.models import AuditEvent
from tests.factories import UserFactory
from tests.test_settings import ROOT, _production_env

from .test_scope_leaks import PUBLIC_PREFIXES, _expand, _page_paths

PASSWORD = "unionportal-test"  # tests.factories.UserFactory's
CJK = re.compile(r"[\u4e00-\u9fff]")


def _project_settings():
    """unionportal.settings as written (tests swap the hasher for speed on django.conf.settings)."""
    return sys.modules["unionportal.settings"]


def _login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


# --- hashing and password rules -------------------------------------------------------


def test_it_hashes_new_passwords_with_argon2():
    hashers = _project_settings().PASSWORD_HASHERS
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=hashers):
        encoded = make_password("一句很长的口令-2026")
        assert encoded.startswith("argon2$argon2id$")
        assert identify_hasher(encoded).algorithm == "argon2"
        assert check_password("一句很长的口令-2026", encoded)
        assert not check_password("一句很长的口令-2025", encoded)


def test_it_upgrades_an_old_pbkdf2_hash_to_argon2_at_the_next_sign_in(db):
    hashers = _project_settings().PASSWORD_HASHERS
    with override_settings(PASSWORD_HASHERS=hashers):
        user = UserFactory(username="legacy")
        user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
        user.save(update_fields=["password"])
        assert _login(Client(), "legacy", PASSWORD).status_code == 302
        user.refresh_from_db()
        assert user.password.startswith("argon2$")


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("abc12345", "至少需要 10 个字符"),
        ("password1234", "太常见"),
        ("20260101123456", "不能全是数字"),
    ],
)
def test_it_rejects_weak_passwords_with_a_chinese_message_saying_how_to_fix_it(password, expected):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        validate_password(password)
    messages = info.value.messages
    assert any(expected in m for m in messages), messages
    assert all(CJK.search(m) and "密码" in m for m in messages), messages


def test_it_rejects_a_password_that_resembles_the_username(db):
    user = UserFactory(username="zhangweihua")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as info:
        validate_password("zhangweihua1", user=user)
    assert any("太相似" in m for m in info.value.messages), info.value.messages


def test_it_accepts_a_long_uncommon_password(db):
    validate_password("工会门户-春天的第三个口令", user=UserFactory(username="lisi"))


# --- lock-out (django-axes) -----------------------------------------------------------


@pytest.fixture
def axes_on(db):
    """django-axes is off in tests by default (tests.testenv); this test switches it on."""
    with override_settings(AXES_ENABLED=True):
        axes_reset()
        yield
        axes_reset()


def test_it_locks_the_account_after_the_failure_limit_with_a_chinese_page(axes_on, owner, settings):
    client = Client()
    limit = settings.AXES_FAILURE_LIMIT
    for _attempt in range(limit - 1):
        response = _login(client, "owner", "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码" in response.content.decode() or response.context["form"].errors
    response = _login(client, "owner", "wrong-password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "账号已暂时锁定" in page
    assert f"连续 {limit} 次密码错误" in page
    assert "15 分钟后再试" in page
    # Even the right password is refused while the lock holds, on the page and through the API.
    response = _login(client, "owner", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    api = APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert api.status_code == 429
    assert api.json()["error"]["code"] == "locked_out"
    assert "锁定" in api.json()["error"]["message"]
    assert int(api["Retry-After"]) > 0


def test_it_locks_a_username_per_address_so_colleagues_behind_the_same_nat_can_still_sign_in(axes_on, owner, clerk):
    client = Client()
    for _attempt in range(5):
        _login(client, "owner", "wrong-password")
    assert _login(Client(), "pd_clerk", PASSWORD).status_code == 302
    assert _login(Client(), "owner", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_it_locks_out_through_the_api_token_endpoint_too(axes_on, owner, settings):
    api = APIClient()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = api.post("/api/v1/auth/token/", {"username": "owner", "password": "nope"}, format="json")
        assert response.status_code == 400
    response = api.post("/api/v1/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    assert response.status_code == 429
    assert _login(Client(), "owner", PASSWORD).status_code == 429


def test_it_forgets_earlier_failures_after_a_successful_sign_in(axes_on, owner, settings):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "owner", "wrong-password")
    assert _login(client, "owner", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "owner", "wrong-password").status_code == 200


# --- audit of sign-ins ----------------------------------------------------------------


def test_it_audits_sign_ins_failures_and_sign_outs(owner):
    client = Client()
    assert _login(client, "owner", "wrong-password", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert _login(client, "nobody-here", "whatever").status_code == 200
    assert _login(client, "owner", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302
    client.post("/accounts/logout/", REMOTE_ADDR="10.0.0.7")

    failed = list(AuditEvent.objects.filter(action="auth.login_failed").order_by("id"))
    assert [e.data["username"] for e in failed] == ["owner", "nobody-here"]
    assert failed[0].ip_address == "10.0.0.7"
    assert all("password" not in json.dumps(e.data) for e in failed)
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == owner and login.ip_address == "10.0.0.7"
    assert AuditEvent.objects.filter(action="auth.logout", actor=owner).count() == 1


def test_it_audits_failed_api_token_requests(owner):
    APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": "nope"}, format="json")
    assert AuditEvent.objects.filter(action="auth.login_failed", data__username="owner").count() == 1


# --- sessions -------------------------------------------------------------------------


def test_it_ends_sessions_after_eight_hours_and_at_browser_close(owner):
    assert _project_settings().SESSION_COOKIE_AGE == 8 * 3600
    client = Client()
    response = _login(client, "owner", PASSWORD)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"]
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes
    session = Session.objects.get(session_key=cookie.value)
    assert session.expire_date <= timezone.now() + timedelta(hours=8, seconds=5)


def test_it_sends_an_expired_session_back_to_the_login_page(owner):
    client = Client()
    _login(client, "owner", PASSWORD)
    assert client.get("/").status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- CSRF -----------------------------------------------------------------------------


def _resolvable(url: str) -> bool:
    try:
        resolve(url.split("?")[0])
    except Resolver404:
        return False
    return True


def test_it_refuses_a_sign_in_post_without_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    assert _login(client, "owner", PASSWORD).status_code == 403
    token = client.get("/accounts/login/").cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": "owner", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_it_refuses_every_page_post_without_the_csrf_token(tree, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    checked = 0
    for template in _page_paths():
        for url in _expand(template, [tree["pudong"].pk]):
            if not _resolvable(url):
                continue
            response = client.post(url, {"name": "跨站伪造"})
            assert response.status_code == 403, (url, response.status_code)
            checked += 1
    assert checked > 15


def _api_write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch", "delete") and any(operation.get("security", [])):
                yield method, path


def test_it_refuses_every_api_write_by_session_cookie_without_the_csrf_token(tree, owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    checked = 0
    for method, template in _api_write_operations():
        for url in _expand(template, [tree["pudong"].pk]):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 403, (method, url, response.status_code)
            assert "CSRF" in response.json()["error"]["message"]
            checked += 1
    assert checked > 10


# --- Content-Security-Policy ----------------------------------------------------------

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _check_csp(url, response):
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {url}"
    directives = _directives(header)
    for name in ("script-src", "style-src"):
        sources = directives.get(name) or directives["default-src"]
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, (url, name, sources)
        assert not any(s in ("*", "http:", "https:", "data:") for s in sources), (url, name, sources)
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    nonce = next((s[len("'nonce-") : -1] for s in directives["script-src"] if s.startswith("'nonce-")), None)
    body = response.content.decode()
    for attributes in SCRIPT_TAG.findall(body):
        if "src=" not in attributes:
            assert nonce and f'nonce="{nonce}"' in attributes, f"inline <script> without the nonce on {url}"
    # The policy blocks inline event handlers and style attributes: a page using them is broken.
    assert not INLINE_HANDLER.search(body), f"inline event handler on {url}"
    assert not STYLE_ATTRIBUTE.search(body), f"style attribute on {url} (blocked by style-src)"


def test_it_sends_a_strict_content_security_policy_on_every_page(sides, tree, owner):
    anonymous, staff = Client(), Client()
    staff.force_login(owner)
    checked = 0
    _check_csp("/accounts/login/", anonymous.get("/accounts/login/"))
    for template in _page_paths():
        client = anonymous if template.startswith(PUBLIC_PREFIXES) else staff
        for url in _expand(template, [tree["pudong"].pk]):
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            _check_csp(url, response)
            checked += 1
    assert checked > 8


# --- production: TLS-only cookies and HSTS --------------------------------------------

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
secure = Client(HTTP_HOST="union.example.cn").get("/api/v1/", secure=True)
plain = Client(HTTP_HOST="union.example.cn").get("/accounts/login/")
print(json.dumps({
    "debug": settings.DEBUG,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
    "session_cookie_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT,
    "hsts_seconds": settings.SECURE_HSTS_SECONDS,
    "hsts_subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "hsts_header": secure.get("Strict-Transport-Security"),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "first_hasher": settings.PASSWORD_HASHERS[0],
    "totp_for_full_data": settings.REQUIRE_TOTP_FOR_FULL_PERSONAL_DATA,
    "axes_enabled": settings.AXES_ENABLED,
}))
"""


def test_it_sends_cookies_over_tls_only_and_hsts_in_production():
    env = _production_env()
    env["DJANGO_SETTINGS_MODULE"] = "unionportal.settings"
    env.pop("AXES_ENABLED", None)
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["debug"] is False
    assert values["session_cookie_secure"] and values["csrf_cookie_secure"] and values["session_cookie_httponly"]
    assert values["ssl_redirect"]
    assert values["hsts_seconds"] >= 31536000 and values["hsts_subdomains"]
    assert values["hsts_header"].startswith("max-age=31536000")
    assert "includeSubDomains" in values["hsts_header"]
    assert values["plain_status"] == 301 and values["plain_location"].startswith("https://union.example.cn/")
    assert values["first_hasher"].endswith("Argon2PasswordHasher")
    assert values["axes_enabled"] is True
    assert values["totp_for_full_data"] is True
