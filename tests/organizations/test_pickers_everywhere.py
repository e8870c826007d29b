"""The searchable picker wherever an organisation or an enterprise is chosen (issue 15 item 3).

Enterprises are searched (never listed: a city holds some 150,000), organisations of the
domain forms list the top of the reach and find the rest, a multiple choice keeps what is
chosen while searching, and the admin's organisation and enterprise keys autocomplete.
"""

import re

import pytest
from django.urls import reverse

from activity.models import AuditEvent
from core.roles import PROJECT_MANAGE
from members.models import Member
from organizations.forms import capability_options_url
from organizations.models import OrgKind, RoleAssignment
from tests.factories import EnterpriseFactory, UserFactory, add_org, make_id_number, make_member, make_mobile


@pytest.fixture
def registry(tree):
    pd = [
        EnterpriseFactory(name=f"浦东搜索{'甲乙丙丁戊'[i]}科技有限公司", supervisor=tree["lujiazui"]) for i in range(5)
    ]
    hp = EnterpriseFactory(name="黄浦搜索科技有限公司", supervisor=tree["nanjing"])
    closed = EnterpriseFactory(name="浦东搜索已注销有限公司", supervisor=tree["lujiazui"], is_active=False)
    return {"pd": pd, "hp": hp, "closed": closed}


def _get(client, url, **params):
    """GET `url` (which already has a query) with more parameters."""
    from urllib.parse import urlencode

    return client.get(f"{url}&{urlencode(params, doseq=True)}" if params else url)


def _options(html: str) -> list[str]:
    return re.findall(r'<option value="(\d+)"', html)


# --- the enterprise search ---------------------------------------------------------------


def test_the_enterprise_search_finds_active_enterprises_in_reach_only(client, clerk, outsider, registry):
    client.force_login(clerk)
    url = reverse("enterprise-options")
    html = client.get(url, {"q": "搜索"}).content.decode()
    assert sorted(_options(html)) == sorted(str(e.pk) for e in registry["pd"])
    assert "黄浦搜索" not in html and "已注销" not in html
    client.force_login(outsider)
    html = client.get(url, {"q": "搜索"}).content.decode()
    assert _options(html) == [str(registry["hp"].pk)]


def test_the_enterprise_search_takes_a_full_credit_code(client, clerk, registry):
    client.force_login(clerk)
    ent = registry["pd"][2]
    html = client.get(reverse("enterprise-options"), {"q": ent.credit_code.lower()}).content.decode()
    assert _options(html) == [str(ent.pk)]


def test_the_enterprise_search_lists_nothing_before_typing_and_says_when_it_stops(client, clerk, registry, monkeypatch):
    client.force_login(clerk)
    url = reverse("enterprise-options")
    assert _options(client.get(url).content.decode()) == []
    monkeypatch.setattr("organizations.views.registry.ENTERPRISE_OPTION_LIMIT", 3)
    html = client.get(url, {"q": "浦东搜索"}).content.decode()
    assert len(_options(html)) == 3 and "只列出前 3 家" in html
    assert "没有名称含" in client.get(url, {"q": "无此企业"}).content.decode()


def test_workers_and_anonymous_cannot_search_the_registry(client, worker, registry):
    url = reverse("enterprise-options")
    assert client.get(url, {"q": "搜索"}).status_code in (302, 403)
    client.force_login(worker)
    assert client.get(url, {"q": "搜索"}).status_code in (302, 403, 404)


# --- members: register and correct with an employer from the registry ----------------------


def test_the_register_form_searches_the_registry_for_the_employer(client, clerk, registry):
    client.force_login(clerk)
    html = client.get(reverse("member-register")).content.decode()
    assert reverse("enterprise-options") in html and "工作单位（企业名录）" in html
    assert "浦东搜索" not in html  # nothing listed before a search


def test_a_clerk_registers_a_member_with_an_employer_chosen_from_the_registry(client, clerk, tree, registry):
    client.force_login(clerk)
    ent = registry["pd"][1]
    response = client.post(
        reverse("member-register"),
        {
            "union": tree["pd_union"].pk,
            "name": "王选企",
            "id_number": make_id_number(),
            "mobile": make_mobile(),
            "employment_form": "full_time",
            "employer": ent.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = Member.objects.get(name="王选企")
    assert member.employer_id == ent.pk and member.employer_name == ent.name


def test_an_employer_out_of_reach_is_refused_on_its_field(client, clerk, tree, registry):
    client.force_login(clerk)
    response = client.post(
        reverse("member-register"),
        {
            "union": tree["pd_union"].pk,
            "name": "王越界",
            "id_number": make_id_number(),
            "mobile": make_mobile(),
            "employment_form": "full_time",
            "employer": registry["hp"].pk,
        },
    )
    assert response.status_code == 400
    assert "所选企业不存在或不在您的管辖范围内" in response.content.decode()
    assert not Member.objects.filter(name="王越界").exists()


def test_a_correction_links_the_member_to_a_registry_enterprise_and_audits_it(client, clerk, tree, registry):
    member = make_member(tree["pd_union"], actor=clerk, name="李更正", employer_name="旧单位").member
    client.force_login(clerk)
    url = reverse("member-correct", args=[member.pk])
    page = client.get(url).content.decode()
    assert reverse("enterprise-options") in page
    ent = registry["pd"][3]
    response = client.post(
        url, {"name": "李更正", "employer": ent.pk, "employer_name": "旧单位", "reason": "核对劳动合同"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.employer_id == ent.pk and member.employer_name == ent.name
    event = AuditEvent.objects.filter(action="member.corrected").latest("id")
    assert event.data["changed"]["employer"] == ["", ent.name]
    assert event.data["changed"]["employer_name"] == ["旧单位", ent.name]


def test_the_correction_service_refuses_an_enterprise_out_of_reach(clerk, tree, registry):
    from django.core.exceptions import ValidationError

    from members import services

    member = make_member(tree["pd_union"], actor=clerk, name="李越界").member
    with pytest.raises(ValidationError) as exc:
        services.member_correct(actor=clerk, member=member, employer=registry["hp"], reason="x")
    assert "employer" in exc.value.message_dict


def test_the_join_code_station_select_has_a_search_box(client, clerk):
    client.force_login(clerk)
    html = client.get(reverse("member-join-codes")).content.decode()
    assert 'data-filter-select="id_station"' in html


# --- the domain forms above: projects and mediation --------------------------------------------


@pytest.fixture
def project_officer(tree):
    user = UserFactory(username="city_po")
    RoleAssignment.objects.create(user=user, organization=tree["city"], role="project_officer")
    return user


@pytest.fixture
def deep_streets(tree):
    return [add_org(tree["pudong"], name=f"深层街道{'甲乙丙'[i]}", kind=OrgKind.STREET) for i in range(3)]


def test_the_project_form_lists_the_top_of_the_reach_and_searches_the_rest(client, project_officer, deep_streets):
    client.force_login(project_officer)
    html = client.get(reverse("project-new")).content.decode()
    assert html.count('class="input-group input-group-sm mb-1 option-search"') >= 2
    assert "capability=project.manage" in html and "按住 Ctrl" not in html
    union_select = re.search(r'<select name="union".*?</select>', html, re.S).group(0)
    assert "浦东新区总工会" in union_select and "深层街道甲" not in union_select  # streets are one search away
    url = capability_options_url(PROJECT_MANAGE, [OrgKind.DISTRICT, OrgKind.STREET])
    found = _get(client, url, q="深层街道").content.decode()
    assert all(s.name in found for s in deep_streets)


def test_the_capability_search_stays_in_the_users_reach(client, tree, deep_streets):
    officer = UserFactory(username="hp_po")
    RoleAssignment.objects.create(user=officer, organization=tree["huangpu"], role="project_officer")
    client.force_login(officer)
    url = capability_options_url(PROJECT_MANAGE, [OrgKind.STREET])
    response = _get(client, url, q="深层街道")
    assert response.status_code == 200 and _options(response.content.decode()) == []
    assert "南京东路街道总工会" in _get(client, url, q="街道").content.decode()  # the search does work
    # A capability the user lacks anywhere gives nothing; an unknown one is not a page.
    response = _get(client, capability_options_url("member.manage"), q="街道")
    assert response.status_code == 200 and _options(response.content.decode()) == []
    assert client.get(reverse("org-options"), {"purpose": "capability", "capability": "nope"}).status_code == 404
    assert client.get(capability_options_url(PROJECT_MANAGE, ["nope"])).status_code == 404


def test_searching_a_multiple_choice_keeps_what_is_chosen(client, project_officer, tree, deep_streets):
    client.force_login(project_officer)
    url = capability_options_url(PROJECT_MANAGE, [OrgKind.DISTRICT, OrgKind.STREET]) + "&keep=implementers"
    html = _get(client, url, q="深层街道乙", implementers=[tree["huangpu"].pk, deep_streets[0].pk]).content.decode()
    selected = re.findall(r'<option value="(\d+)" selected>', html)
    assert sorted(selected) == sorted([str(tree["huangpu"].pk), str(deep_streets[0].pk)])
    assert str(deep_streets[1].pk) in _options(html)


def test_a_chosen_deep_implementer_stays_listed_after_a_refused_post(client, project_officer, deep_streets):
    client.force_login(project_officer)
    response = client.post(reverse("project-new"), {"implementers": [deep_streets[2].pk]})
    assert response.status_code == 400
    assert re.search(rf'<option value="{deep_streets[2].pk}" selected>', response.content.decode())


def test_the_workers_mediation_body_select_has_a_search_box(client, tree):
    from disputes.forms import ApplyForm

    html = ApplyForm(bodies=[]).as_p()
    assert 'data-filter-options="1"' in html


# --- the admin -----------------------------------------------------------------------------


def test_the_admin_searches_organisations_and_enterprises_instead_of_listing_them(client, owner, tree, registry):
    owner.is_staff = True
    owner.save()
    client.force_login(owner)
    html = client.get(reverse("admin:organizations_organization_change", args=[tree["pd_union"].pk])).content.decode()
    parent_select = re.search(r'<select name="parent".*?</select>', html, re.S).group(0)
    assert "admin-autocomplete" in parent_select
    assert "黄浦区总工会" not in parent_select and "陆家嘴街道总工会" in parent_select  # only the chosen one
    member = make_member(tree["pd_union"], actor=owner, name="管理员改").member
    html = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    employer_select = re.search(r'<select name="employer".*?</select>', html, re.S).group(0)
    assert "admin-autocomplete" in employer_select and "浦东搜索" not in employer_select


def test_the_admin_parent_search_offers_only_organisations_that_can_hold_others(client, owner, tree):
    owner.is_staff = True
    owner.save()
    group = add_org(tree["pd_union"], name="搜索小组", kind=OrgKind.UNION_GROUP)
    client.force_login(owner)
    params = {"app_label": "organizations", "model_name": "organization", "field_name": "merged_into", "term": "搜索"}
    add_org(tree["lujiazui"], name="搜索基层工会", kind=OrgKind.GRASSROOTS)
    found = client.get(reverse("admin:autocomplete"), params).json()["results"]
    names = [r["text"] for r in found]
    assert "搜索基层工会" in names and group.name not in names


def test_the_correction_api_links_an_employer_in_reach_and_refuses_one_outside(api, clerk, tree, registry):
    member = make_member(tree["pd_union"], actor=clerk, name="李接口").member
    api.force_authenticate(clerk)
    url = f"/api/v1/members/{member.pk}/correct/"
    response = api.post(url, {"employer": registry["hp"].pk, "reason": "核对"}, format="json")
    assert response.status_code == 400 and "employer" in str(response.json())
    response = api.post(url, {"employer": registry["pd"][0].pk, "reason": "核对"}, format="json")
    assert response.status_code == 200, response.json()
    member.refresh_from_db()
    assert member.employer_id == registry["pd"][0].pk and member.employer_name == registry["pd"][0].name
