"""Every login door, with every spelling of a locked name (issue 16, finding 4).

A mobile number can be typed many ways: "+86 139-2618-1234", "0086…", full-width digits
from a Chinese input method, spaces from a copied contact card. If the lock-out counted
those as different usernames, an attacker would get five more guesses per spelling and
the right password through "+86…" would get in while "139…" is locked. So each door is
asked, with each spelling, while the name is locked (every answer must be a refusal) and
after the lock is lifted (the right password must work again through every spelling).

The doors are discovered as well as listed: a new login form or token endpoint fails
`test_every_login_door_is_in_the_table` until it is added here.
"""

from __future__ import annotations

import pytest
from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_member

PASSWORD = "unionportal-test"  # tests.factories.UserFactory's
MOBILE = "13926181234"
MOBILE_SPELLINGS = [
    "１３９２６１８１２３４",  # full-width digits (Chinese input methods)
    "+8613926181234",
    "+86 139 2618 1234",
    "＋８６１３９２６１８１２３４",
    "008613926181234",
    "0086-139-2618-1234",
    "8613926181234",
    "139 2618 1234",
    "139-2618-1234",
    " 13926181234 ",
    "\t13926181234\n",
]
USERNAME = "sysadmin"
# Case counts as the same name for the lock (no extra guesses), but Django usernames stay
# case-sensitive for signing in, so "SysAdmin" is checked only while locked.
USERNAME_SPELLINGS = [" sysadmin ", "ｓｙｓａｄｍｉｎ", "\tsysadmin"]
USERNAME_LOCK_ONLY = ["SysAdmin", "SYSADMIN"]


def _page(path):
    def attempt(username, password):
        client = Client()
        response = client.post(path, {"username": username, "password": password})
        signed_in = response.status_code == 302 and "_auth_user_id" in client.session
        return signed_in, response

    return attempt


def _token(username, password):
    cache.clear()  # the token endpoint's rate limit (20/min) is another test's subject
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    return response.status_code == 200 and "token" in response.json(), response


# Every door that takes a name and a password, and which accounts may pass it: the admin
# login takes staff with is_staff only, so workers' mobiles are not tried there.
DOORS = {
    "/accounts/login/": (_page("/accounts/login/"), ("mobile", "username")),
    "/admin/login/": (_page("/admin/login/"), ("username",)),
    "/api/v1/auth/token/": (_token, ("mobile", "username")),
}


def _discovered_login_doors(resolver=None, prefix=""):
    """Pages whose view is a sign-in view (Django's LoginView or the admin's login)."""
    resolver = resolver or get_resolver()
    found = set()
    for p in resolver.url_patterns:
        route = str(p.pattern).lstrip("^").rstrip("$")
        if isinstance(p, URLResolver):
            found |= _discovered_login_doors(p, prefix + route)
            continue
        if not isinstance(p, URLPattern):
            continue
        view_class = getattr(p.callback, "view_class", None)
        is_login = (view_class and issubclass(view_class, auth_views.LoginView)) or p.name == "login"
        if is_login:
            found.add("/" + prefix + route)
    return found


def _discovered_token_doors():
    """API operations whose request body takes a username and a password."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    found = set()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                if {"username", "password"} <= set(properties):
                    found.add(path)
    return found


def test_every_login_door_is_in_the_table():
    discovered = _discovered_login_doors() | _discovered_token_doors()
    assert "/accounts/login/" in discovered and "/api/v1/auth/token/" in discovered  # the finder works
    assert discovered <= set(DOORS), f"login doors missing from DOORS: {sorted(discovered - set(DOORS))}"


@pytest.fixture
def axes_on(db):
    with override_settings(AXES_ENABLED=True):
        axes_reset()
        yield
        axes_reset()


@pytest.fixture
def accounts(tree):
    from organizations.models import User

    admin = UserFactory(username=USERNAME, is_staff=True, is_superuser=True)
    worker = UserFactory(username="w-doors", kind=User.Kind.WORKER)
    membership = make_member(tree["pd_union"], name="李锁定", mobile=MOBILE)
    membership.member.user = worker
    membership.member.save(update_fields=["user"])
    return {"mobile": (MOBILE, MOBILE_SPELLINGS, worker), "username": (USERNAME, USERNAME_SPELLINGS, admin)}


def _lock(name, settings):
    """Fail the limit with the canonical spelling, on the login page."""
    attempt = DOORS["/accounts/login/"][0]
    for _n in range(settings.AXES_FAILURE_LIMIT):
        signed_in, _response = attempt(name, "wrong-password")
        assert not signed_in


@pytest.mark.parametrize("kind", ["mobile", "username"])
def test_every_door_refuses_every_spelling_of_a_locked_name_and_lets_it_in_after_unlock(
    axes_on, accounts, settings, kind
):
    canonical, spellings, _user = accounts[kind]
    _lock(canonical, settings)
    locked_spellings = spellings + (USERNAME_LOCK_ONLY if kind == "username" else [])
    doors = [(path, attempt) for path, (attempt, kinds) in DOORS.items() if kind in kinds]
    for path, attempt in doors:
        for spelling in [canonical, *locked_spellings]:
            signed_in, response = attempt(spelling, PASSWORD)
            assert not signed_in, (path, spelling)
            assert response.status_code == 429, (path, spelling, response.status_code)

    axes_reset()
    for path, attempt in doors:
        for spelling in [canonical, *spellings]:
            signed_in, response = attempt(spelling, PASSWORD)
            assert signed_in, (path, spelling, response.status_code)


@pytest.mark.parametrize("kind", ["mobile", "username"])
def test_failures_under_different_spellings_and_doors_count_against_one_name(axes_on, accounts, settings, kind):
    canonical, spellings, _user = accounts[kind]
    spellings = spellings + (USERNAME_LOCK_ONLY if kind == "username" else [])
    doors = [attempt for attempt, kinds in DOORS.values() if kind in kinds]
    for n in range(settings.AXES_FAILURE_LIMIT):
        signed_in, _response = doors[n % len(doors)](spellings[n % len(spellings)], "wrong-password")
        assert not signed_in
    signed_in, response = DOORS["/api/v1/auth/token/"][0](canonical, PASSWORD)
    assert not signed_in and response.status_code == 429


def test_a_successful_sign_in_by_mobile_forgets_the_failures_counted_under_the_mobile(axes_on, accounts, settings):
    attempt = DOORS["/accounts/login/"][0]
    for _round in range(2):
        for n in range(settings.AXES_FAILURE_LIMIT - 1):
            assert not attempt(MOBILE_SPELLINGS[n], "wrong-password")[0]
        signed_in, response = attempt("+86 139 2618 1234", PASSWORD)
        assert signed_in, response.status_code


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("＋８６ １３９-２６１８-１２３４", "13926181234"),
        ("(+86) 139.2618.1234", "13926181234"),
        ("8613926181234", "13926181234"),
        ("12926181234", "12926181234"),  # not a mobile: left as typed
        (" member-factory-admin ", "member-factory-admin"),  # dashes in a username stay
        ("Owner", "Owner"),  # signing in stays case-sensitive
        ("ｏｗｎｅｒ", "owner"),
    ],
)
def test_login_name_gives_one_spelling(typed, name):
    from core.login_names import lockout_username, login_name

    assert login_name(typed) == name
    assert lockout_username(None, {"username": typed}) == name.casefold()
