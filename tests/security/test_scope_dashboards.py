"""The statistics dashboards and API inside the scope-leak harness: discovered, and never crossing districts."""

import pytest
from django.urls import reverse

from .test_scope_leaks import _api_get_paths, _body, _clients, _page_paths

# The tests only read: the fixtures tree, owner and sides come from one world built for the
# module instead of once per test.
from .world import HP_MARK, PD_MARK, module_owner, module_sides, module_tree, module_world  # noqa: F401


@pytest.fixture
def actors(owner, outsider):
    return _clients({"owner": owner, "outsider": outsider})


def test_the_harness_walks_the_dashboard_routes():
    pages = _page_paths()
    assert "/reports/dashboard/" in pages and "/reports/dashboard/{pk}/" in pages
    api = _api_get_paths()
    assert "/api/v1/statistics/" in api and "/api/v1/statistics/{id}/" in api


def test_a_district_never_reads_the_other_districts_dashboards(sides, tree, actors):
    outsider_api, outsider_page = actors["outsider"]
    owner_api, owner_page = actors["owner"]
    pd_orgs = [o for o in sides["pd"] if o.__class__.__name__ == "Organization"] + [tree["lujiazui"], tree["pd_union"]]
    assert len(pd_orgs) >= 4
    for org in pd_orgs:
        for period in ("", "?period=2026", "?period=2026-01"):
            page = outsider_page.get(reverse("stats-dashboard-org", args=[org.pk]) + period)
            api = outsider_api.get(reverse("api:statistics-organization", args=[org.pk]) + period)
            assert page.status_code == 404 and api.status_code == 404, (org, period)
            # The owner does see them, marker included where the subtree holds it (not vacuous).
            assert owner_page.get(reverse("stats-dashboard-org", args=[org.pk]) + period).status_code in (200, 400)
    # The outsider's own dashboard (their district and its drill-down) has none of 浦东.
    for url in ("/reports/dashboard/", f"/reports/dashboard/{tree['nanjing'].pk}/", "/api/v1/statistics/"):
        response = (outsider_api if url.startswith("/api/") else outsider_page).get(url)
        assert response.status_code == 200
        body = _body(response)
        assert PD_MARK not in body and "浦东" not in body, url
    street = _body(outsider_page.get(f"/reports/dashboard/{tree['nanjing'].pk}/"))
    assert HP_MARK in street  # the drill-down lists their own marked union
    assert PD_MARK in _body(owner_page.get(f"/reports/dashboard/{tree['lujiazui'].pk}/"))
