"""Every key page on a desktop and on a phone: screenshot, page weight, axe-core, layout.

Writes screenshots/<viewport>-<page>.png, and screenshots/report-<viewport>-<group>.json with each
page's weight and axe findings, for a reviewer (and the final report) to read.
"""

import json

import pytest

from members import services as member_services
from organizations.models import Enterprise, Organization, OrgKind, ServiceStation, User
from tests.factories import make_id_number

from .conftest import (
    DEMO_PASSWORD,
    PAGE_BUDGET,
    SCREENSHOTS,
    WORKER_USERNAME,
    axe_violations,
    format_violations,
    login,
    page_weight,
    serious,
    shot,
)

pytestmark = pytest.mark.browser

MEMBER_PASSWORD = "riders-2026-shanghai"


def _pages(group: str) -> list[tuple[str, str, str]]:
    """(login, name, path) of the key pages of one group; login "" is signed out."""
    pudong = Organization.objects.get(name="浦东新区总工会")
    lujiazui = Organization.objects.get(name="陆家嘴街道总工会")
    huangpu = Organization.objects.get(name="黄浦区总工会")
    if group == "public":
        return [("", "login", "/accounts/login/"), (WORKER_USERNAME, "worker-home", "/me/")]
    if group == "tree":
        return [
            ("pudong", "home", "/"),
            ("pudong", "tree", "/orgs/"),
            ("pudong", "tree-search", "/orgs/?q=街道"),
            ("pudong", "org-detail", f"/orgs/{lujiazui.pk}/"),
            ("pudong", "org-create-child", f"/orgs/{lujiazui.pk}/add-child/"),
            ("pudong", "org-dissolve", f"/orgs/{lujiazui.pk}/dissolve/"),
            ("pudong", "not-found", f"/orgs/{huangpu.pk}/"),
        ]
    if group == "members":
        return _member_pages(lujiazui)
    ent = Enterprise.objects.filter(org_path__startswith=lujiazui.path, union__isnull=True).order_by("name").first()
    station = ServiceStation.objects.filter(organization__path__startswith=pudong.path).order_by("name").first()
    return [
        ("pudong", "enterprise-list", "/enterprises/"),
        ("pudong", "enterprise-list-empty", "/enterprises/?q=没有这样的企业"),
        ("pudong", "enterprise-detail", f"/enterprises/{ent.pk}/"),
        ("pudong", "enterprise-edit", f"/enterprises/{ent.pk}/edit/"),
        ("pudong", "station-list", "/stations/"),
        ("pudong", "station-detail", f"/stations/{station.pk}/"),
        ("city", "audit-log", "/audit/"),
    ]


def _member_pages(lujiazui) -> list[tuple[str, str, str]]:
    """A join code, a member who joined with it (and can sign in), one pending application."""
    union = Organization.objects.filter(path__startswith=lujiazui.path, kind=OrgKind.GRASSROOTS).order_by("path")[0]
    clerk = User.objects.get(username="pudong")
    code = member_services.join_code_create(actor=clerk, union=union)
    public = member_services.join_code_public(code)
    people = [("李小红", "13700001234"), ("王待审", "13700005678")]
    applications = [
        member_services.join_application_submit(
            code=public,
            name=name,
            id_number=make_id_number(),
            mobile=mobile,
            employment_form="rider",
            employer_name="陆家嘴外卖站点",
            consent=True,
            password=MEMBER_PASSWORD,
        )
        for name, mobile in people
    ]
    membership = member_services.join_application_approve(actor=clerk, application=applications[0])
    return [
        ("", "join-form", f"/join/{public}/"),
        ("13700001234", "member-card", "/me/card/"),
        ("13700001234", "member-membership", "/me/membership/"),
        ("pudong", "member-list", "/members/"),
        ("pudong", "member-detail", f"/members/{membership.member_id}/"),
        ("pudong", "member-applications", "/members/applications/"),
        ("pudong", "member-imports", "/members/imports/"),
        ("pudong", "member-join-codes", "/members/join-codes/"),
        ("pudong", "member-transfers", "/members/transfers/"),
    ]


def _tour(page, live_server, pages, viewport: str, report: dict) -> list[str]:
    problems = []
    for name, path in pages:
        if viewport == "phone":
            # The budget is about phones on slow connections; the assets are the same on a desktop.
            weight = page_weight(page, live_server.url + path)
        else:
            weight = None
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
        found = axe_violations(page)
        violations = serious(found)
        # A phone widens its layout viewport to fit wide content: compare with the screen's width.
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        shot(page, f"{viewport}-{name}")
        report[name] = {
            "path": path,
            "axe_serious_or_critical": [v["id"] for v in violations],
            "axe_moderate_or_minor": [v["id"] for v in found if v not in violations],
            "horizontal_overflow_px": overflow,
        }
        if weight is not None:
            report[name].update(
                kb_compressed=round(weight.encoded / 1024, 1),
                kb_raw=round(weight.raw / 1024, 1),
                requests=len(weight.files),
            )
        if weight is not None and weight.encoded > PAGE_BUDGET:
            problems.append(f"{name}: over the page weight budget\n{weight}")
        if violations:
            problems.append(f"{name}: axe-core\n{format_violations(violations)}")
        if overflow > 0:
            problems.append(f"{name}: the page is {overflow}px wider than the {viewport} screen")
    return problems


def _write_report(name: str, report: dict) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"report-{name}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


# Several small tests rather than one long tour, so that `-n 2` shares them out.
@pytest.mark.parametrize("group", ["public", "tree", "registry", "members"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_key_pages_are_light_accessible_and_fit_the_screen(demo, request, viewport, group):
    page = request.getfixturevalue(f"audit_{viewport}")
    report: dict = {}
    problems = []
    signed_in = None
    for username, name, path in _pages(group):
        if username != signed_in:
            page.context.clear_cookies()
            if username:
                login(
                    page,
                    demo,
                    username,
                    MEMBER_PASSWORD if username.isdigit() and group == "members" else DEMO_PASSWORD,
                )
            signed_in = username
        problems += _tour(page, demo, [(name, path)], viewport, report)
    _write_report(f"{viewport}-{group}", report)
    assert not problems, "\n\n".join(problems)
