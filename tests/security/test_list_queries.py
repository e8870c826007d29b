"""No N+1 on any list: every list endpoint of the API (walked from the OpenAPI schema) and
every staff list page (walked from the URL resolver) answers with as many queries for 12
rows of everything as for 2 (tests/querycount.py)."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from members import services as member_services
from organizations import services as org_services
from organizations.models import OrgKind, RoleAssignment, ServiceStation
from reports.runs import report_request
from tests.factories import (
    EnterpriseFactory,
    OfficerFactory,
    StationFactory,
    UserFactory,
    add_org,
    make_id_number,
    make_member,
    make_mobile,
    nth_name,
)
from tests.querycount import assert_list_queries

from .test_scope_leaks import PUBLIC_PREFIXES, _api_get_paths, _page_paths

# Not lists: files, templates, option fragments, forms, the caller's own records.
NOT_LISTS = (
    "export",
    "template",
    "options",
    "/new/",
    "/me/",
    "destinations",
    "/focus/",
    "/accounts/",
    "/bulk/",
    "/read-all/",  # the inbox's "mark all read" (POST only)
    "/operations/",  # superusers only (the owner here is a city head): tests/reports/test_operations.py
)


@pytest.fixture
def world(tree, owner):
    """grow(n): at least n rows of every list under 浦东 (created through the services)."""
    made = {"n": 0}

    def grow(n):
        for i in range(made["n"], n):
            union = add_org(tree["lujiazui"], name=f"列表工会{i}", kind=OrgKind.GRASSROOTS)
            EnterpriseFactory(name=f"列表企业{i}", supervisor=tree["lujiazui"], union=union)
            OfficerFactory(organization=union, name=f"列表主席{i}")
            StationFactory(organization=tree["lujiazui"], name=f"列表站点{i}", kind=ServiceStation.Kind.REST)
            staff = UserFactory(username=f"list_staff_{i}")
            RoleAssignment.objects.create(user=staff, organization=union, role="clerk")
            ms = make_member(union, actor=owner, name=nth_name("列表会员", i), joined_on=dt.date(2024, 1, 1))
            member_services.honour_add(actor=owner, member=ms.member, kind="city_craftsman", year=2025)
            code = member_services.join_code_create(actor=owner, union=union, label=f"列表入会码{i}")
            member_services.join_application_submit(
                code=member_services.join_code_public(code),
                name=nth_name("列表申请人", i),
                id_number=make_id_number(),
                mobile=make_mobile(),
                employment_form="rider",
                consent=True,
                password="Applicant-pass-2026",
            )
            member_services.transfer_request(actor=owner, member=ms.member, to_union=tree["hp_union"])
            report_request(actor=owner, organization=union, kind="yearly", period="2025")  # queued, not built
        made["n"] = max(made["n"], n)
        org_services.coverage_refresh()

    return grow


def _lists(templates):
    return [
        t
        for t in templates
        if "{" not in t and not t.startswith(PUBLIC_PREFIXES) and not any(x in t for x in NOT_LISTS)
    ]


def test_every_api_list_keeps_its_query_count(world, owner):
    client = APIClient()
    client.force_authenticate(user=owner)
    urls = _lists(_api_get_paths())
    assert len(urls) >= 8, urls
    assert_list_queries(client, urls, world)


def test_every_staff_list_page_keeps_its_query_count(world, owner, client):
    client.force_login(owner)
    urls = _lists(_page_paths())
    assert len(urls) >= 8, urls
    assert_list_queries(client, urls, world)


def test_the_helper_catches_a_list_that_queries_per_row(world, owner, monkeypatch):
    """Break one list on purpose (its selector forgets select_related) and the helper fails."""
    from organizations import selectors
    from organizations.models import Enterprise

    monkeypatch.setattr(selectors, "enterprises_for_user", lambda user: Enterprise.objects.for_user(user))
    client = APIClient()
    client.force_authenticate(user=owner)
    with pytest.raises(AssertionError, match="queries with 2 rows"):
        assert_list_queries(client, "/api/v1/enterprises/", world)
