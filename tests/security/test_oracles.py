"""Public (anonymous) endpoints are no oracles: known and unknown input get the same answer.

Issue 16, finding 2: the public join form told anyone holding a join code (they are on
posters) that a person was a member, of which union and with which member number, or
that an application was pending and where. The rule for every door that answers without
sign-in: the status code and the body's shape (JSON keys, or the page's message region)
must not depend on what the roll holds. Details go only to the signed-in person.

The routes are discovered, not listed: every URL pattern is tried anonymously (GET and
POST), and every OpenAPI operation declared without authentication is collected. Each
public route must have an entry in PUBLIC_ROUTES, either a check that sends a known and
an unknown input and compares the answers, or the reason it takes no input that could
tell anything about a person. A new public route fails the suite until it is classified.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from members import services
from tests.factories import make_id_number

# Why each public route cannot tell anything about a person (no check needed beyond "no 5xx").
NO_PERSONAL_INPUT = {
    "/accounts/logout/": "ends the caller's own session",
    "/admin/logout/": "ends the caller's own session",
    "/i18n/setlang/": "sets the caller's language",
    "/api/schema/": "the published API description",
    "/api/docs/": "the API documentation page",
    "/api/": "the JSON 404 for unknown API addresses",
    "/join/{code}/notice/": "the personal-data notice of the union behind a public join code",
    "/join/{code}/done/": "shows only what this browser session typed",
    "/verify/{token}/": "a member card's signed random token: holding it is holding the card",
    "GET /api/v1/join/{code}/": "names the union behind a public join code",
}

ANONYMOUS_REFUSALS = (401, 403, 405)
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
PARAM = re.compile(r"\{([^}]+)\}")


def _templates(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    out = []
    for p in resolver.url_patterns:
        route = re.sub(r"^\^|\$$", "", str(p.pattern))
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        if isinstance(p, URLResolver):
            out += _templates(p, prefix + route)
        elif isinstance(p, URLPattern):
            out.append("/" + (prefix + route).lstrip("/"))
    return sorted({o for o in out if "(?P" not in o})


def _refuses_anonymous(response) -> bool:
    if response.status_code in ANONYMOUS_REFUSALS:
        return True
    return response.status_code == 302 and response["Location"].startswith(LOGIN_PAGES)


def discovered_public_routes() -> set[str]:
    """Page/API templates an anonymous client reaches, plus schema operations without auth."""
    client = Client(raise_request_exception=False)
    found = set()
    for template in _templates():
        url = PARAM.sub("1", template)
        answers = [client.get(url), client.post(url)]
        if not all(_refuses_anonymous(r) for r in answers):
            found.add(template)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            # drf-spectacular leaves `security` out of an operation declared with auth=[].
            security = op.get("security")
            if not security or {} in security:
                found.add(f"{method.upper()} {path}")
    return found


# --- the checks ------------------------------------------------------------------------


def _shape(value):
    """The shape of a JSON value: keys and types, never the values."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


MESSAGE_REGION = re.compile(r"<main\b.*?</main>|<section class=\"ss-greeting.*?</section>", re.S)
NOISE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|(nonce=")[^"]+')


def _region(html: str) -> str:
    regions = MESSAGE_REGION.findall(html)
    return NOISE.sub(r"\1\2", "".join(regions) or html)


@pytest.fixture
def roll(tree, owner):
    """A member of 黄浦, a person with an application pending in 黄浦, and a 浦东 join code."""
    member_id = make_id_number(region="310101")
    services.member_register(
        actor=owner, union=tree["hp_union"], name="黄浦在册", id_number=member_id, mobile="13911110000"
    )
    pending_id = make_id_number(region="310101")
    hp_code = services.join_code_create(actor=owner, union=tree["hp_union"])
    services.join_application_submit(
        code=services.join_code_public(hp_code),
        name="黄浦待审",
        id_number=pending_id,
        mobile="13911110001",
        employment_form="rider",
        consent=True,
    )
    pd_code = services.join_code_create(actor=owner, union=tree["pd_union"])
    cache.clear()
    return {
        "member": member_id,
        "pending": pending_id,
        "new": make_id_number(region="310115"),
        "code": services.join_code_public(pd_code),
    }


def _join_api_answers(roll):
    answers = {}
    for who in ("member", "pending", "new"):
        cache.clear()  # the rate limit is not what is compared here
        form = {
            "name": "同名同姓",
            "id_number": roll[who],
            "mobile": "13600009999",
            "employment_form": "rider",
            "consent": True,
            "password": "Probe-pass-2024",
        }
        answers[who] = APIClient().post(f"/api/v1/join/{roll['code']}/", form, format="json")
    return answers


def _join_page_answers(roll):
    answers = {}
    for who in ("member", "pending", "new"):
        cache.clear()
        client = Client()
        form = {
            "name": "同名同姓",
            "id_number": roll[who],
            "mobile": "13600009999",
            "employment_form": "rider",
            "employer_name": "",
            "password": "Probe-pass-2024",
            "password2": "Probe-pass-2024",
            "consent": "on",
        }
        response = client.post(f"/join/{roll['code']}/", form, follow=True)
        answers[who] = response
    return answers


def check_join_api(roll):
    answers = _join_api_answers(roll)
    statuses = {who: r.status_code for who, r in answers.items()}
    assert len(set(statuses.values())) == 1, statuses
    shapes = {who: _shape(r.json()) for who, r in answers.items()}
    assert shapes["member"] == shapes["pending"] == shapes["new"], shapes
    bodies = {who: r.json() for who, r in answers.items()}
    assert bodies["member"] == bodies["pending"] == bodies["new"], bodies
    for r in answers.values():
        text = r.content.decode()
        assert "会员编号" not in text and "黄浦" not in text, text


def check_join_page(roll):
    answers = _join_page_answers(roll)
    chains = {who: ([c[1] for c in r.redirect_chain], r.status_code) for who, r in answers.items()}
    assert chains["member"] == chains["pending"] == chains["new"], chains
    regions = {who: _region(r.content.decode()) for who, r in answers.items()}
    assert regions["member"] == regions["pending"] == regions["new"]
    assert "会员编号" not in regions["member"] and "黄浦" not in regions["member"]


def check_login_page(roll):
    cache.clear()
    known = Client().post("/accounts/login/", {"username": "13911110000", "password": "Wrong-pass-2024"})
    unknown = Client().post("/accounts/login/", {"username": "13900000000", "password": "Wrong-pass-2024"})
    assert known.status_code == unknown.status_code
    assert _region(known.content.decode()).replace("13911110000", "X") == _region(unknown.content.decode()).replace(
        "13900000000", "X"
    )


def check_admin_login(roll):
    known = Client().post("/admin/login/", {"username": "owner", "password": "Wrong-pass-2024"})
    unknown = Client().post("/admin/login/", {"username": "nobody-here", "password": "Wrong-pass-2024"})
    assert known.status_code == unknown.status_code
    assert _region(known.content.decode()).replace("owner", "X") == _region(unknown.content.decode()).replace(
        "nobody-here", "X"
    )


def check_token(roll):
    known = APIClient().post("/api/v1/auth/token/", {"username": "13911110000", "password": "Wrong-pass-2024"})
    unknown = APIClient().post("/api/v1/auth/token/", {"username": "13900000000", "password": "Wrong-pass-2024"})
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()


def _worker_account_for(mobile):
    """Give the roll's member with `mobile` a worker login (the reset is for workers)."""
    from core import crypto
    from members.models import Member
    from organizations.models import User
    from tests.factories import UserFactory

    member = Member.objects.get(mobile_hash=crypto.mobile_hash(mobile))
    member.user = UserFactory(username=f"w-{mobile}", kind=User.Kind.WORKER)
    member.save(update_fields=["user"])


def check_password_reset(roll):
    _worker_account_for("13911110000")
    answers = {}
    for who, mobile in (("known", "13911110000"), ("unknown", "13900000000")):
        cache.clear()
        response = Client().post("/accounts/password-reset/", {"mobile": mobile}, follow=True)
        answers[who] = (
            [c[0] for c in response.redirect_chain],
            response.status_code,
            _region(response.content.decode()).replace(mobile[:3] + "****" + mobile[-4:], "X").replace(mobile, "X"),
        )
    assert answers["known"] == answers["unknown"]


def check_password_reset_confirm(roll):
    _worker_account_for("13911110000")
    cache.clear()
    services.password_reset_request(mobile="13911110000", ip_address="10.0.0.1")  # a live code exists
    answers = {}
    for who, mobile in (("known", "13911110000"), ("unknown", "13900000000")):
        cache.clear()
        form = {
            "mobile": mobile,
            "code": "000000",
            "new_password": "Probe-pass-2026",
            "new_password2": "Probe-pass-2026",
        }
        response = Client().post("/accounts/password-reset/confirm/", form)
        answers[who] = (response.status_code, _region(response.content.decode()).replace(mobile, "X"))
    assert answers["known"] == answers["unknown"]


PUBLIC_ROUTES = {
    "/accounts/password-reset/": check_password_reset,
    "/accounts/password-reset/confirm/": check_password_reset_confirm,
    "/join/{code}/": check_join_page,
    "POST /api/v1/join/{code}/": check_join_api,
    "/api/v1/join/{code}/": check_join_api,
    "/accounts/login/": check_login_page,
    "/admin/login/": check_admin_login,
    "/api/v1/auth/token/": check_token,
    "POST /api/v1/auth/token/": check_token,
}


def test_every_public_route_is_classified(db):
    unclassified = sorted(discovered_public_routes() - set(PUBLIC_ROUTES) - set(NO_PERSONAL_INPUT))
    assert unclassified == [], (
        f"public routes without an oracle check: {unclassified}; add them to PUBLIC_ROUTES "
        "(a known and an unknown input compared) or NO_PERSONAL_INPUT (with the reason)"
    )


def test_the_discovery_finds_the_known_doors(db):
    """The harness would pass vacuously if discovery found nothing."""
    found = discovered_public_routes()
    assert {"/join/{code}/", "POST /api/v1/join/{code}/", "/accounts/login/", "/api/v1/auth/token/"} <= found


@pytest.mark.parametrize("route", sorted(set(PUBLIC_ROUTES)))
def test_it_gives_the_same_answer_for_known_and_unknown_input(route, roll):
    PUBLIC_ROUTES[route](roll)
