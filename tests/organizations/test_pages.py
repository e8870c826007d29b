"""Server-rendered staff pages and the worker home, for all five actors.

owner (city admin) and clerk (浦东) see 浦东 objects; outsider (黄浦 clerk) gets 404 on them
and never sees a 浦东 name in any list, search or fragment; workers land on /me/;
anonymous users are sent to the login page. Bad input is shown on the form in Chinese
and changes nothing.
"""

import re

import pytest
from django.urls import reverse

from activity.models import AuditEvent
from organizations.models import (
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
)
from organizations.services import coverage_refresh
from tests.factories import EnterpriseFactory, OfficerFactory, StationFactory, UserFactory, add_org, make_credit_code

PUDONG_NAMES = ("浦东新区总工会", "陆家嘴街道总工会", "浦东测试科技有限公司", "陆家嘴职工服务站")
ACTORS = ("owner", "clerk", "outsider", "worker", "anonymous")


@pytest.fixture
def pd_station(tree):
    return StationFactory(organization=tree["lujiazui"], name="陆家嘴职工服务站")


@pytest.fixture
def hp_station(tree):
    return StationFactory(organization=tree["nanjing"], name="南京东路爱心接力站", kind=ServiceStation.Kind.REST)


@pytest.fixture
def pd_officer(tree):
    return OfficerFactory(organization=tree["lujiazui"], name="张建华")


@pytest.fixture
def pd_auditor(tree):
    user = UserFactory(username="pd_auditor")
    RoleAssignment.objects.create(user=user, organization=tree["pudong"], role="auditor")
    return user


@pytest.fixture
def objects(tree, enterprises, pd_station, hp_station, pd_officer):
    return {
        **tree,
        "ent": enterprises["pudong"],
        "hp_ent": enterprises["huangpu"],
        "station": pd_station,
        "officer": pd_officer,
    }


def login_as(client, request, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))
    return client


def assert_outcome(response, actor, expected_staff=200, outsider=404):
    if actor == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif actor == "worker":
        assert response.status_code == 302
        assert response["Location"] == reverse("selfservice-home")
    elif actor == "outsider":
        assert response.status_code == outsider
    else:
        assert response.status_code == expected_staff


def assert_no_pudong(content: bytes):
    text = content.decode()
    for name in PUDONG_NAMES:
        assert name not in text


# --- pages about one 浦东 object: the five-actor matrix --------------------------------

PUDONG_OBJECT_PAGES = [
    ("org-detail", "lujiazui"),
    ("org-children", "pudong"),
    ("org-edit", "lujiazui"),
    ("org-create-child", "lujiazui"),
    ("org-move", "lujiazui"),
    ("org-dissolve", "pd_union"),
    ("org-merge", "lujiazui"),
    ("officer-create", "lujiazui"),
    ("station-create", "lujiazui"),
    ("officer-edit", "officer"),
    ("enterprise-detail", "ent"),
    ("enterprise-edit", "ent"),
    ("station-detail", "station"),
    ("station-edit", "station"),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("url_name", "key"), PUDONG_OBJECT_PAGES)
def test_it_shows_pudong_object_pages_only_to_those_in_reach(client, request, objects, actor, url_name, key):
    login_as(client, request, actor)
    response = client.get(reverse(url_name, args=[objects[key].pk]))
    assert_outcome(response, actor)
    if actor == "outsider":
        assert_no_pudong(response.content)


@pytest.mark.parametrize(
    ("url_name", "key"),
    [
        ("org-edit", "lujiazui"),
        ("org-move", "lujiazui"),
        ("org-dissolve", "pd_union"),
        ("officer-edit", "officer"),
        ("enterprise-edit", "ent"),
        ("station-edit", "station"),
        ("station-create", "lujiazui"),
    ],
)
def test_it_refuses_edit_pages_to_a_read_only_role_in_scope(client, objects, pd_auditor, url_name, key):
    client.force_login(pd_auditor)
    assert client.get(reverse(url_name, args=[objects[key].pk])).status_code == 403


def test_it_hides_manage_buttons_from_a_read_only_role(client, objects, pd_auditor):
    client.force_login(pd_auditor)
    response = client.get(reverse("org-detail", args=[objects["lujiazui"].pk]))
    assert response.status_code == 200
    assert reverse("org-edit", args=[objects["lujiazui"].pk]) not in response.content.decode()
    assert client.get(reverse("enterprise-create")).status_code == 403


def test_it_shows_manage_buttons_to_the_clerk(client, objects, clerk):
    client.force_login(clerk)
    html = client.get(reverse("org-detail", args=[objects["lujiazui"].pk])).content.decode()
    for name in (
        "org-edit",
        "org-create-child",
        "org-move",
        "org-dissolve",
        "org-merge",
        "officer-create",
        "station-create",
    ):
        assert reverse(name, args=[objects["lujiazui"].pk]) in html
    assert "张建华" in html and "陆家嘴职工服务站" in html and "浦东测试科技有限公司" in html


def test_org_detail_shows_breadcrumb_children_and_coverage(client, objects, owner):
    coverage_refresh()
    client.force_login(owner)
    response = client.get(reverse("org-detail", args=[objects["pudong"].pk]))
    html = response.content.decode()
    assert "上海市总工会" in html or "市总工会" in html  # breadcrumb
    assert "陆家嘴街道总工会" in html  # child
    assert 'data-figure="formation-rate">100.0%' in html  # the one 浦东 enterprise has a union


# --- list pages: every actor, and no 浦东 name for the outsider ------------------------

# Each page with a 黄浦 name the outsider should see there.
LIST_PAGES = {
    "home": "黄浦区总工会",
    "org-tree": "黄浦区总工会",
    "enterprise-list": "黄浦测试商贸有限公司",
    "station-list": "南京东路爱心接力站",
    "enterprise-create": "南京东路街道总工会",
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_it_lists_only_what_is_in_reach(client, request, objects, actor, url_name):
    login_as(client, request, actor)
    response = client.get(reverse(url_name))
    assert_outcome(response, actor, outsider=200)
    if actor == "outsider":
        assert_no_pudong(response.content)
        assert LIST_PAGES[url_name] in response.content.decode()


def test_the_enterprise_list_shows_the_clerk_only_pudong(client, objects, clerk):
    client.force_login(clerk)
    html = client.get(reverse("enterprise-list")).content.decode()
    assert "浦东测试科技有限公司" in html and "黄浦测试商贸有限公司" not in html


def test_the_station_list_shows_the_clerk_only_pudong(client, objects, clerk):
    client.force_login(clerk)
    html = client.get(reverse("station-list")).content.decode()
    assert "陆家嘴职工服务站" in html and "南京东路爱心接力站" not in html


@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider"])
def test_the_tree_search_never_finds_outside_reach(client, request, objects, actor):
    login_as(client, request, actor)
    response = client.get(reverse("org-tree"), {"q": "陆家嘴"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="org-results")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    if actor == "outsider":
        assert "陆家嘴" not in html.replace("没有找到", "")
        assert "没有找到符合条件的组织" in html
    else:
        assert "陆家嘴街道总工会" in html


def test_the_tree_search_filters_by_kind_and_shows_the_path(client, objects, owner):
    client.force_login(owner)
    html = client.get(reverse("org-tree"), {"kind": OrgKind.GRASSROOTS}).content.decode()
    assert "浦东测试科技有限公司工会" in html and "黄浦测试商贸有限公司工会" in html
    assert "陆家嘴街道总工会" in html  # in the result's path
    assert "南京东路街道总工会</a>" not in html  # a street is not a grassroots union


def test_the_tree_starts_at_the_reach_roots(client, objects, clerk):
    client.force_login(clerk)
    html = client.get(reverse("org-tree")).content.decode()
    assert "浦东新区总工会" in html and "上海市总工会" not in html and "黄浦区总工会" not in html
    assert reverse("org-children", args=[objects["pudong"].pk]) in html


def test_the_children_fragment_lists_children_with_kind_and_count(client, objects, clerk):
    client.force_login(clerk)
    response = client.get(reverse("org-children", args=[objects["pudong"].pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "陆家嘴街道总工会" in html and "街道（乡镇）总工会" in html and "下级 1" in html


def test_the_children_fragment_sends_an_expired_session_to_login(client, objects):
    response = client.get(
        reverse("org-children", args=[objects["pudong"].pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/orgs/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


@pytest.mark.parametrize("purpose", ["any", "supervisor", "union"])
def test_the_option_search_stays_in_reach(client, objects, outsider, purpose):
    client.force_login(outsider)
    html = client.get(reverse("org-options"), {"purpose": purpose}).content.decode()
    assert_no_pudong(html.encode())
    assert "<option" in html


def test_the_option_search_for_a_pudong_move_is_404_for_the_outsider(client, objects, outsider, clerk):
    client.force_login(outsider)
    url = reverse("org-options")
    assert client.get(url, {"purpose": "move", "org": objects["lujiazui"].pk}).status_code == 404
    client.force_login(clerk)
    html = client.get(url, {"purpose": "move", "org": objects["pd_union"].pk, "q": "陆家嘴"}).content.decode()
    assert "陆家嘴街道总工会" in html


def test_the_enterprise_list_filters_and_sorts(client, objects, owner):
    EnterpriseFactory(name="浦东大型制造公司", supervisor=objects["lujiazui"], employees=5000, union=None)
    client.force_login(owner)
    url = reverse("enterprise-list")
    html = client.get(url, {"sort": "-employees"}).content.decode()
    assert html.index("浦东大型制造公司") < html.index("浦东测试科技有限公司")
    html = client.get(url, {"has_union": "false"}).content.decode()
    assert "浦东大型制造公司" in html and "浦东测试科技有限公司" not in html
    html = client.get(url, {"under": objects["huangpu"].pk}).content.decode()
    assert "黄浦测试商贸有限公司" in html and "浦东大型制造公司" not in html


def test_the_enterprise_list_tolerates_bad_parameters(client, objects, owner):
    client.force_login(owner)
    response = client.get(reverse("enterprise-list"), {"employees_min": "many", "cursor": "!!", "sort": "x"})
    assert response.status_code == 200
    assert "部分筛选条件无效" in response.content.decode()


def test_the_outsider_cannot_scope_a_list_to_a_pudong_org(client, objects, outsider):
    client.force_login(outsider)
    response = client.get(reverse("enterprise-list"), {"under": objects["pudong"].pk})
    assert response.status_code == 200
    assert_no_pudong(response.content)
    assert "没有符合筛选条件的企业" in response.content.decode()


def test_the_enterprise_list_loads_more_by_cursor(client, tree, owner):
    for i in range(55):
        EnterpriseFactory(name=f"测试企业{i:03d}", supervisor=tree["lujiazui"])
    client.force_login(owner)
    url = reverse("enterprise-list")
    first = client.get(url).content.decode()
    assert "测试企业049" in first and "测试企业050" not in first
    cursor = re.search(r'href="\?cursor=([^"&]+)"', first).group(1)
    more = client.get(url, {"cursor": cursor}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="enterprise-more")
    html = more.content.decode()
    assert "<html" not in html and "测试企业050" in html and "测试企业054" in html and "测试企业049" not in html
    assert "已显示全部" in html


def test_the_empty_enterprise_list_says_what_to_do(client, tree, clerk):
    client.force_login(clerk)
    html = client.get(reverse("enterprise-list")).content.decode()
    assert "管辖范围内还没有登记企业" in html and reverse("enterprise-create") in html


# --- query counts ----------------------------------------------------------------------


@pytest.fixture
def many(tree):
    for i in range(30):
        street = tree["lujiazui"] if i % 2 else tree["nanjing"]
        EnterpriseFactory(name=f"批量企业{i}", supervisor=street, union=tree["pd_union"] if i % 2 else None)
        StationFactory(organization=street)
    for i in range(20):
        street = add_org(Organization.objects.get(pk=tree["pudong"].pk), name=f"测试街道{i}", kind=OrgKind.STREET)
        add_org(street, name=f"测试街道{i}基层工会", kind=OrgKind.GRASSROOTS)
    coverage_refresh()


@pytest.mark.parametrize(
    ("url_name", "params", "headers", "limit"),
    [
        ("enterprise-list", {}, {}, 8),
        ("enterprise-list", {"q": "批量", "sort": "-employees"}, {}, 8),
        ("station-list", {}, {}, 9),
        ("org-tree", {}, {}, 6),
        ("org-tree", {"q": "测试"}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "org-results"}, 6),
        ("org-options", {"purpose": "any"}, {}, 6),
        ("home", {}, {}, 8),
    ],
)
def test_list_pages_use_a_fixed_number_of_queries(
    client, many, owner, django_assert_max_num_queries, url_name, params, headers, limit
):
    client.force_login(owner)
    with django_assert_max_num_queries(limit):
        response = client.get(reverse(url_name), params, **headers)
    assert response.status_code == 200


def test_the_children_fragment_uses_a_fixed_number_of_queries(client, many, tree, clerk, django_assert_max_num_queries):
    client.force_login(clerk)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("org-children", args=[tree["pudong"].pk]), HTTP_HX_REQUEST="true")
    assert response.content.decode().count('class="tree-node"') == 21


def test_org_detail_uses_a_fixed_number_of_queries(client, many, tree, owner, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("org-detail", args=[tree["pudong"].pk]))
    assert response.status_code == 200


# --- home, login, logout, worker home --------------------------------------------------


def test_home_shows_the_figures_of_the_users_subtree(client, objects, clerk, django_capture_on_commit_callbacks):
    client.force_login(clerk)
    assert not CoverageSummary.objects.exists()
    with django_capture_on_commit_callbacks() as sent:
        html = client.get(reverse("home")).content.decode()
    # A GET never rebuilds the summaries (two at once collided): it asks the worker to.
    assert not CoverageSummary.objects.exists()
    assert "正在汇总" in html
    assert len(sent) == 1
    sent[0]()  # the refresh task (run in-process in tests)
    assert CoverageSummary.objects.exists()
    html = client.get(reverse("home")).content.decode()
    assert "正在汇总" not in html
    assert 'data-figure="enterprises">1<' in html
    assert 'data-figure="grassroots">1<' in html
    assert 'data-figure="organizations">3<' in html  # 浦东 itself, 陆家嘴 and its grassroots union
    assert 'data-figure="formation-rate">100.0%' in html
    assert 'data-figure="employees">120<' in html
    assert "业务经办" in html  # the role assignment


def test_home_for_the_owner_counts_the_whole_city(client, objects, owner):
    coverage_refresh()  # the periodic refresh has run
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert 'data-figure="enterprises">2<' in html and 'data-figure="formation-rate">50.0%' in html


def test_a_signed_in_user_without_role_sees_a_friendly_page(client, tree):
    client.force_login(UserFactory(username="nobody"))
    response = client.get(reverse("home"))
    assert response.status_code == 200 and "还没有分配角色" in response.content.decode()
    assert client.get(reverse("org-tree")).status_code == 403
    assert client.get(reverse("selfservice-home"))["Location"] == reverse("home")


def test_staff_login_lands_on_the_staff_home(client, clerk):
    response = client.post(reverse("login"), {"username": "pd_clerk", "password": "unionportal-test"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "覆盖情况" in response.content.decode()


def test_worker_login_lands_on_the_self_service_home(client, worker):
    response = client.post(reverse("login"), {"username": worker.username, "password": "unionportal-test"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("selfservice-home")
    html = response.content.decode()
    assert "我的会员卡" in html and "覆盖情况" not in html and "组织树" not in html


def test_a_wrong_password_shows_a_chinese_error(client, clerk):
    response = client.post(reverse("login"), {"username": "pd_clerk", "password": "wrong"})
    assert response.status_code == 200 and "请输入一个正确的" in response.content.decode()


def test_logout_is_post_only(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("actor", ACTORS)
def test_the_self_service_home_is_for_workers(client, request, tree, actor):
    login_as(client, request, actor)
    response = client.get(reverse("selfservice-home"))
    if actor == "worker":
        assert response.status_code == 200
        assert_no_pudong(response.content)
    elif actor == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response["Location"] == reverse("home")


def test_pages_carry_no_inline_styles_or_handlers(client, objects, owner):
    pages = [client.get(reverse("login"))]
    client.force_login(owner)
    for url in (
        reverse("home"),
        reverse("org-tree"),
        reverse("org-detail", args=[objects["pudong"].pk]),
        reverse("enterprise-list"),
        reverse("org-edit", args=[objects["lujiazui"].pk]),
        reverse("audit-log"),
    ):
        pages.append(client.get(url))
    for response in pages:
        assert response.status_code == 200
        html, url = response.content.decode(), response.request["PATH_INFO"]
        assert not re.search(r"\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
        assert "<script>" not in html and "cdn" not in html.lower()
        assert 'action="/i18n/setlang/"' in html


# --- bad input: shown on the page in Chinese, nothing changes --------------------------


def test_an_invalid_credit_code_is_refused_on_the_enterprise_form(client, tree, clerk):
    client.force_login(clerk)
    bad = make_credit_code()[:17] + ("0" if make_credit_code()[17] != "0" else "1")
    good = make_credit_code()
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    response = client.post(
        reverse("enterprise-create"),
        {
            "credit_code": bad,
            "name": "填错代码的公司",
            "ownership": "private",
            "size": "small",
            "industry": "C",
            "employees": "10",
            "supervisor": tree["lujiazui"].pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "统一社会信用代码校验位错误" in html and "is-invalid" in html
    assert 'value="填错代码的公司"' in html  # input kept
    assert not Enterprise.objects.filter(name="填错代码的公司").exists()


def test_an_invalid_credit_code_is_refused_on_the_org_form(client, tree, clerk):
    client.force_login(clerk)
    org = tree["lujiazui"]
    response = client.post(
        reverse("org-edit", args=[org.pk]), {"name": org.name, "kind": org.kind, "credit_code": "123"}
    )
    assert response.status_code == 400
    assert "统一社会信用代码应为 18 位" in response.content.decode()
    org.refresh_from_db()
    assert org.credit_code == ""


def test_a_grassroots_union_under_a_grassroots_union_is_refused(client, tree, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("org-create-child", args=[tree["pd_union"].pk]), {"name": "嵌套基层工会", "kind": OrgKind.GRASSROOTS}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "“基层工会”之下不能设立“基层工会”" in html and "工会小组" in html
    assert not Organization.objects.filter(name="嵌套基层工会").exists()


def test_moving_an_org_into_its_own_subtree_is_refused(client, tree, clerk):
    client.force_login(clerk)
    org = tree["lujiazui"]
    response = client.post(reverse("org-move", args=[org.pk]), {"new_parent": tree["pd_union"].pk})
    assert response.status_code == 400
    assert "不能把组织移到它自己或它的下级之下" in response.content.decode()
    assert Organization.objects.get(pk=org.pk).path == org.path


def test_moving_an_org_outside_reach_is_refused(client, tree, clerk):
    client.force_login(clerk)
    org = tree["lujiazui"]
    response = client.post(reverse("org-move", args=[org.pk]), {"new_parent": tree["huangpu"].pk})
    html = response.content.decode()
    assert response.status_code == 400
    assert "所选组织不存在或不在您的管辖范围内" in html
    assert "黄浦区总工会" not in html
    assert Organization.objects.get(pk=org.pk).path == org.path


def test_moving_to_a_parent_of_the_wrong_kind_is_refused(client, tree, clerk):
    client.force_login(clerk)
    street = tree["lujiazui"]
    response = client.post(reverse("org-move", args=[street.pk]), {"new_parent": tree["pd_union"].pk})
    assert response.status_code == 400  # own subtree; now a street under another street:
    other = add_org(Organization.objects.get(pk=tree["pudong"].pk), name="花木街道总工会", kind=OrgKind.STREET)
    response = client.post(reverse("org-move", args=[street.pk]), {"new_parent": other.pk})
    assert "之下不能设立" in response.content.decode()
    assert Organization.objects.get(pk=street.pk).path == street.path


def test_dissolving_an_org_with_active_children_is_refused(client, tree, clerk):
    client.force_login(clerk)
    org = tree["lujiazui"]
    response = client.post(reverse("org-dissolve", args=[org.pk]), {"on": "2025-01-01", "reason": "调整"})
    assert response.status_code == 400
    assert "还有 1 个正常状态的下级组织" in response.content.decode()
    assert Organization.objects.get(pk=org.pk).status == Organization.Status.ACTIVE


def test_a_required_field_left_empty_is_named(client, tree, clerk):
    client.force_login(clerk)
    response = client.post(reverse("org-dissolve", args=[tree["pd_union"].pk]), {"on": "", "reason": ""})
    assert response.status_code == 400
    page = response.content.decode()
    # Named in the portal's wording (issue 15), not Django's "该字段是必填项。"
    assert "该字段是必填项" not in page
    assert "请填写“撤销日期”" in page and "请填写“撤销原因”" in page


# --- the forms that work ---------------------------------------------------------------


def test_the_clerk_creates_a_child_org(client, tree, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("org-create-child", args=[tree["lujiazui"].pk]),
        {"name": "陆家嘴金融城楼宇工会", "kind": OrgKind.BUILDING, "phone": "021-58881234"},
    )
    child = Organization.objects.get(name="陆家嘴金融城楼宇工会")
    assert response["Location"] == reverse("org-detail", args=[child.pk])
    assert Organization.objects.get_parent(child).pk == tree["lujiazui"].pk
    assert AuditEvent.objects.filter(action="organization.created", target_id=str(child.pk)).exists()


def test_the_clerk_edits_moves_dissolves_and_merges(client, tree, clerk):
    client.force_login(clerk)
    pudong = Organization.objects.get(pk=tree["pudong"].pk)
    response = client.post(
        reverse("org-edit", args=[tree["lujiazui"].pk]),
        {"name": "陆家嘴街道总工会", "short_name": "陆家嘴", "kind": OrgKind.STREET, "established_on": "2001-05-01"},
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=tree["lujiazui"].pk).short_name == "陆家嘴"

    response = client.post(reverse("org-move", args=[tree["pd_union"].pk]), {"new_parent": pudong.pk})
    assert response.status_code == 302
    assert Organization.objects.get_parent(Organization.objects.get(pk=tree["pd_union"].pk)).pk == pudong.pk

    response = client.post(
        reverse("org-dissolve", args=[tree["pd_union"].pk]), {"on": "2025-03-01", "reason": "企业注销"}
    )
    assert response.status_code == 302
    assert Organization.objects.get(pk=tree["pd_union"].pk).status == Organization.Status.DISSOLVED

    other = add_org(Organization.objects.get(pk=tree["pudong"].pk), name="花木街道总工会", kind=OrgKind.STREET)
    response = client.post(reverse("org-merge", args=[tree["lujiazui"].pk]), {"into": other.pk, "on": "2025-04-01"})
    assert response["Location"] == reverse("org-detail", args=[other.pk])
    assert Organization.objects.get(pk=tree["lujiazui"].pk).status == Organization.Status.MERGED


def test_the_clerk_registers_and_edits_an_enterprise(client, tree, clerk):
    client.force_login(clerk)
    code = make_credit_code()
    data = {
        "credit_code": code.lower(),
        "name": "浦东新登记有限公司",
        "ownership": "private",
        "size": "small",
        "industry": "I",
        "employees": "35",
        "address": "浦东新区世纪大道 1 号",
        "supervisor": tree["lujiazui"].pk,
        "union": "",
    }
    response = client.post(reverse("enterprise-create"), data)
    ent = Enterprise.objects.get(credit_code=code)
    assert response["Location"] == reverse("enterprise-detail", args=[ent.pk])
    data.update(union=tree["pd_union"].pk, employees="40", is_active="on")
    response = client.post(reverse("enterprise-edit", args=[ent.pk]), data)
    assert response.status_code == 302
    ent.refresh_from_db()
    assert ent.union_id == tree["pd_union"].pk and ent.employees == 40


def test_the_enterprise_form_refuses_a_supervisor_outside_reach(client, tree, clerk):
    client.force_login(clerk)
    response = client.post(
        reverse("enterprise-create"),
        {
            "credit_code": make_credit_code(),
            "name": "越界公司",
            "ownership": "private",
            "size": "small",
            "industry": "C",
            "employees": "5",
            "supervisor": tree["nanjing"].pk,
        },
    )
    assert response.status_code == 400
    assert "所选组织不存在或不在您的管辖范围内" in response.content.decode()
    assert not Enterprise.objects.filter(name="越界公司").exists()


def test_the_clerk_adds_and_edits_officers_and_stations(client, tree, clerk):
    client.force_login(clerk)
    org = tree["lujiazui"]
    response = client.post(
        reverse("officer-create", args=[org.pk]),
        {"name": "李梅", "position": "chair", "term_start": "2024-01-01", "election": "direct", "is_full_time": "on"},
    )
    assert response.status_code == 302
    officer = Officer.objects.get(name="李梅")
    response = client.post(
        reverse("officer-edit", args=[officer.pk]),
        {
            "name": "李梅",
            "position": "chair",
            "term_start": "2024-01-01",
            "term_end": "2023-01-01",
            "election": "direct",
        },
    )
    assert response.status_code == 400  # a term cannot end before it starts
    officer.refresh_from_db()
    assert officer.term_end is None

    response = client.post(
        reverse("station-create", args=[org.pk]),
        {
            "name": "陆家嘴爱心妈咪小屋",
            "kind": "nursing",
            "address": "银城中路 100 号",
            "phone": "123",
            "is_active": "on",
        },
    )
    assert response.status_code == 400 and "电话号码格式不正确" in response.content.decode()
    response = client.post(
        reverse("station-create", args=[org.pk]),
        {
            "name": "陆家嘴爱心妈咪小屋",
            "kind": "nursing",
            "address": "银城中路 100 号",
            "latitude": "31.2397",
            "longitude": "121.4998",
            "is_active": "on",
        },
    )
    station = ServiceStation.objects.get(name="陆家嘴爱心妈咪小屋")
    assert response["Location"] == reverse("station-detail", args=[station.pk])
    response = client.post(
        reverse("station-edit", args=[station.pk]),
        {"name": "陆家嘴爱心妈咪小屋", "kind": "nursing", "address": "银城中路 100 号", "opening_hours": "9:00-18:00"},
    )
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.opening_hours == "9:00-18:00" and station.is_active is False


def test_the_outsider_cannot_post_to_pudong_forms(client, tree, outsider):
    client.force_login(outsider)
    response = client.post(reverse("org-dissolve", args=[tree["pd_union"].pk]), {"on": "2025-01-01", "reason": "x"})
    assert response.status_code == 404
    assert Organization.objects.get(pk=tree["pd_union"].pk).status == Organization.Status.ACTIVE


@pytest.mark.parametrize("cursor", ["abc", "WyJhYmMiLDFd", "WzEsMTAwMDAwMDAwMDAwMDAwMDAwMDAwMF0", "WyJ4Iiwie31d"])
def test_a_hand_edited_cursor_restarts_the_list_instead_of_failing(client, owner, enterprises, cursor):
    client.force_login(owner)
    response = client.get("/enterprises/", {"sort": "-employees", "cursor": cursor})
    assert response.status_code == 200
    assert enterprises["pudong"].name in response.content.decode()


def test_a_burst_of_home_loads_rebuilds_the_summaries_once(
    client, objects, clerk, owner, monkeypatch, django_capture_on_commit_callbacks
):
    """Every load that finds a summary missing asks for the refresh; the queued refreshes
    after the first find the summaries rebuilt since they were asked for, and skip."""
    from organizations import services, tasks

    runs = []
    real = services.coverage_refresh
    monkeypatch.setattr(tasks, "coverage_refresh", lambda: runs.append(1) or real())
    with django_capture_on_commit_callbacks() as sent:
        for user in (clerk, owner, clerk):
            client.force_login(user)
            client.get(reverse("home"))
    assert len(sent) == 3
    for send in sent:
        send()
    assert len(runs) == 1
    assert CoverageSummary.objects.exists()
