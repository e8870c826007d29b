"""The scope-leak harness: every API operation in the OpenAPI schema and every staff page,
asked by every actor, with objects in two sibling subtrees.

A 黄浦 clerk (outsider) must never receive anything carrying the 浦东 marker — not in a
list, search, filter, export, report, detail or related-object field. Workers and
anonymous users get no staff data at all. Routes are discovered, not listed: a new
endpoint is covered the day it is added.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

# Every test here reads; the one that adds a user (the aid officer) does so inside its own
# savepoint: the fixtures tree, owner and sides come from one world built for the module
# instead of once per test.
from .world import HP_MARK, PD_MARK, module_owner, module_sides, module_tree, module_world, signed_in  # noqa: F401

# Routes that are public by design (no staff data) or not GET-able pages.
PUBLIC_PREFIXES = (
    "/accounts/login/",
    "/api/schema/",
    "/api/docs/",
    "/i18n/",
    "/static/",
    "/api/v1/auth/token/",
    "/api/v1/join/",
    "/join/",
    "/verify/",
    # The worker's forgotten-password pages (no oracle: tests/security/test_oracles.py).
    "/accounts/password-reset/",
)
# Routes that show another subtree's data by design, each with the reason. Keep this short.
CROSS_SCOPE_BY_DESIGN = {
    # A member moving to a job in another district is transferred to a union there: the
    # clerk picks the destination by name. Only names of active grassroots unions are shown.
    "/members/transfers/destinations/": "union names only, to choose a transfer destination",
}
SKIP_PREFIXES = ("/admin/",)  # the admin has its own scoping tests
# The caller's own inbox: workers have one too (their own messages, never staff data).
OWN_INBOX_PREFIXES = ("/api/v1/notifications/",)
PARAM = re.compile(r"\{([^}]+)\}")


def _api_get_paths():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(path for path, ops in schema["paths"].items() if "get" in ops)


def _page_paths(resolver=None, prefix=""):
    """Every URL pattern as a '/…/{param}/' template (Django converters turned into {name})."""
    resolver = resolver or get_resolver()
    out = []
    for p in resolver.url_patterns:
        route = str(p.pattern)
        route = re.sub(r"^\^|\$$", "", route)
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        if isinstance(p, URLResolver):
            out += _page_paths(p, prefix + route)
        elif isinstance(p, URLPattern):
            out.append("/" + (prefix + route).lstrip("/"))
    return sorted({o for o in out if "(?P" not in o and not o.startswith(("/api/", *SKIP_PREFIXES))})


def _expand(template, ids):
    names = PARAM.findall(template)
    if not names:
        return [template]
    urls = []
    for value in ids:
        url = template
        for name in names:
            url = url.replace("{" + name + "}", str(value))
        urls.append(url)
    return urls


def _ids(objects):
    return sorted({o.pk for o in objects if isinstance(o.pk, int)})


def _body(response):
    """The response as text; an xlsx (a zip) as the text of its sheets, so a marker inside shows."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def _clients(users):
    """{name: (API client, page client)} for {name: user}."""
    return {name: signed_in(user) for name, user in users.items()}


@pytest.fixture
def actors(owner, clerk, outsider, worker):
    return _clients({"owner": owner, "clerk": clerk, "outsider": outsider, "worker": worker, "anonymous": None})


def _query_variants(sides, tree):
    pd_org = tree["pudong"].pk
    # Search with a prefix of the marker: pages echo the query back, the marker must come from data.
    term = PD_MARK[:4]
    return [
        "",
        f"?under={pd_org}",
        f"?q={term}",
        f"?parent={pd_org}",
        f"?organization={pd_org}",
        f"?union={pd_org}",
        f"?search={term}",
        "?format=csv",
        "?format=xlsx",
    ]


def test_it_never_shows_the_other_subtree_through_the_api(sides, tree, actors):
    pd_ids = _ids(sides["pd"])
    api_outsider = actors["outsider"][0]
    checked = 0
    for template in _api_get_paths():
        urls = _expand(template, pd_ids)
        if "{" not in template:
            urls = [template + q for q in _query_variants(sides, tree)]
        for url in urls:
            response = api_outsider.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code == 200:
                assert PD_MARK not in _body(response), f"outsider sees 浦东 data at {url}"
            checked += 1
    assert checked > 20


def test_it_gives_workers_and_anonymous_no_staff_api(sides, actors):
    for template in _api_get_paths():
        if template.startswith(PUBLIC_PREFIXES):
            continue
        for who in ("worker", "anonymous"):
            for url in _expand(template, _ids(sides["pd"])[:3]):
                response = actors[who][0].get(url)
                if who == "worker" and template.startswith(OWN_INBOX_PREFIXES) and response.status_code == 200:
                    body = _body(response)
                    assert PD_MARK not in body and HP_MARK not in body, (who, url)
                    continue
                assert response.status_code in (401, 403, 404), (who, url, response.status_code)


def test_it_lets_the_in_scope_clerk_and_the_owner_see_their_data(sides, actors):
    """The harness would pass vacuously if nobody saw anything: check the positives too."""
    seen = {"owner": 0, "clerk": 0}
    for template in _api_get_paths():
        if "{" in template or template.startswith(PUBLIC_PREFIXES):
            continue
        for who in seen:
            response = actors[who][0].get(template)
            assert response.status_code < 500
            if response.status_code == 200 and PD_MARK in _body(response):
                seen[who] += 1
    assert seen["owner"] >= 3 and seen["clerk"] >= 3, seen


def test_it_never_shows_the_other_subtree_on_staff_pages(sides, tree, actors):
    pd_ids = _ids(sides["pd"])
    page_outsider = actors["outsider"][1]
    checked = 0
    for template in _page_paths():
        if template.startswith(PUBLIC_PREFIXES):
            continue
        urls = _expand(template, pd_ids) if "{" in template else [template + q for q in _query_variants(sides, tree)]
        for url in urls:
            response = page_outsider.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code == 200 and template not in CROSS_SCOPE_BY_DESIGN:
                body = _body(response)
                assert PD_MARK not in body, f"outsider sees 浦东 data on {url}"
            checked += 1
    assert checked > 10


def test_it_gives_anonymous_no_staff_pages(sides, actors):
    client = actors["anonymous"][1]
    for template in _page_paths():
        if template.startswith(PUBLIC_PREFIXES):
            continue
        for url in _expand(template, _ids(sides["pd"])[:3]):
            response = client.get(url)
            assert response.status_code in (302, 401, 403, 404, 405), (url, response.status_code)
            if response.status_code == 200:
                assert PD_MARK not in _body(response) and HP_MARK not in _body(response)


def test_the_aid_forms_offer_an_aid_officer_nothing_of_the_sibling_district(sides, tree):
    """The aid pages' choices (budgets, funds, organisations) come from the aid.manage reach:
    黄浦's aid officer is offered 黄浦's marked budgets and never 浦东's, on every aid page."""
    from organizations.models import RoleAssignment
    from tests.factories import UserFactory

    officer = UserFactory(username="hp_aid_harness")
    RoleAssignment.objects.create(user=officer, organization=tree["huangpu"], role="aid_officer")
    client = Client()
    client.force_login(officer)
    checked = 0
    for template in _page_paths():
        if not template.startswith("/aid/"):
            continue
        for url in _expand(template, _ids(sides["pd"])) if "{" in template else [template]:
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            if response.status_code == 200:
                assert PD_MARK not in _body(response), f"黄浦 aid officer sees 浦东 data on {url}"
            checked += 1
    assert checked > 10
    for url in ("/aid/campaigns/new/", "/aid/emergency/", "/aid/budgets/new/"):
        body = _body(client.get(url))
        assert HP_MARK in body, url  # the officer's own budgets or funds are offered
        assert tree["pudong"].name not in body, url
    assert tree["huangpu"].name in _body(client.get("/aid/funds/new/"))
