"""The organisations API for the five actors: owner, in-scope clerk, outsider, worker, anonymous.

Pudong objects are the subject throughout: the owner (city admin) and the Pudong clerk may
see and change them, the Huangpu clerk must not find them anywhere (404 on details, absent
from every list, search and filter), a worker and anonymous get nothing.
"""

import datetime as dt

import pytest
from django.urls import reverse

from organizations.models import Enterprise, Officer, Organization, OrgKind, RoleAssignment, ServiceStation, User
from organizations.services import coverage_refresh
from tests.conftest import _staff, client_for
from tests.factories import EnterpriseFactory, OfficerFactory, StationFactory, UserFactory, add_org, make_credit_code

ACTORS = ["owner", "clerk", "outsider", "worker", "anonymous"]
ANON = "401/403"
NOT_IN_REACH = "不存在或不在您的管辖范围内"

READ = {"owner": 200, "clerk": 200, "outsider": 404, "worker": 403, "anonymous": ANON}
CHANGE = {"owner": 200, "clerk": 200, "outsider": 404, "worker": 403, "anonymous": ANON}
# Creating under a Pudong organisation: the outsider names an id outside their reach,
# which is bad input (400 on the field), never a hint that it exists.
CREATE = {"owner": 201, "clerk": 201, "outsider": 400, "worker": 403, "anonymous": ANON}
LIST = {"owner": 200, "clerk": 200, "outsider": 200, "worker": 403, "anonymous": ANON}


def as_actor(request, actor):
    return client_for(None if actor == "anonymous" else request.getfixturevalue(actor))


def check(resp, expected):
    """The expected status, and every error in the one shape {"error": {"code", "message"}}."""
    if expected == ANON:
        assert resp.status_code in (401, 403), resp.content
    else:
        assert resp.status_code == expected, resp.content
    if resp.status_code >= 400:
        body = resp.json()
        assert set(body) == {"error"}
        assert body["error"]["code"] and body["error"]["message"]
    return resp.json() if resp.content else None


def ids(resp) -> set[int]:
    return {row["id"] for row in resp.json()["results"]}


def names(resp) -> set[str]:
    return {row["name"] for row in resp.json()["results"]}


def resolve(tree, params: dict) -> dict:
    """Query parameters with organisation keys of `tree` replaced by their ids."""
    return {k: (tree[v].pk if isinstance(v, str) and v in tree else v) for k, v in params.items()}


def parent_of(pk) -> Organization | None:
    return Organization.objects.get_parent(Organization.objects.get(pk=pk))


def url(name, *args):
    return reverse(f"api:{name}", args=args)


@pytest.fixture
def pd_auditor(tree):
    """In Pudong's reach but without org.manage: reads yes, writes 403."""
    return _staff("pd_auditor", tree["pudong"], "auditor")


@pytest.fixture
def pd_admin(tree):
    return _staff("pd_admin", tree["pudong"], "federation_admin")


@pytest.fixture
def hp_admin(tree):
    return _staff("hp_admin", tree["huangpu"], "federation_admin")


@pytest.fixture
def stations(tree):
    return {
        "pudong": StationFactory(organization=tree["lujiazui"], name="陆家嘴职工服务站"),
        "huangpu": StationFactory(organization=tree["nanjing"], name="南京东路职工服务站"),
    }


@pytest.fixture
def officers(tree):
    return {
        "pudong": OfficerFactory(organization=tree["pd_union"], name="张浦东"),
        "huangpu": OfficerFactory(organization=tree["hp_union"], name="李黄浦"),
    }


# --- organisations: reads -------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_organisations_within_reach(request, tree, actor):
    resp = as_actor(request, actor).get(url("organization-list"))
    check(resp, LIST[actor])
    if resp.status_code != 200:
        return
    seen = names(resp)
    pudong_names = {"浦东新区总工会", "陆家嘴街道总工会", "浦东测试科技有限公司工会"}
    huangpu_names = {"黄浦区总工会", "南京东路街道总工会", "黄浦测试商贸有限公司工会"}
    if actor == "owner":
        assert pudong_names | huangpu_names | {"上海市总工会"} == seen
    elif actor == "clerk":
        assert seen == pudong_names
    else:
        assert seen == huangpu_names


def test_it_lists_the_tree_in_path_order_with_parent_ids_in_reach(tree, clerk, owner):
    rows = client_for(clerk).get(url("organization-list")).json()["results"]
    assert [r["name"] for r in rows] == ["浦东新区总工会", "陆家嘴街道总工会", "浦东测试科技有限公司工会"]
    # The city is outside the clerk's reach: its id is not handed out as pudong's parent.
    assert rows[0]["parent"] is None
    assert rows[1]["parent"] == tree["pudong"].pk
    assert rows[0]["kind"] == "district" and rows[0]["kind_label"] == "区（县）总工会"
    owner_rows = client_for(owner).get(url("organization-list"), {"under": tree["pudong"].pk}).json()["results"]
    assert owner_rows[0]["parent"] == tree["city"].pk


def test_it_pages_the_tree_by_cursor(tree, owner):
    client = client_for(owner)
    first = client.get(url("organization-list"), {"page_size": 4}).json()
    assert len(first["results"]) == 4 and first["next"] and first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["next"] is None
    paths = [Organization.objects.get(pk=r["id"]).path for r in first["results"] + second["results"]]
    assert paths == sorted(paths)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "浦东"},
        {"q": "陆家嘴"},
        {"kind": "street"},
        {"kind": ["district", "grassroots"]},
        {"status": "active"},
        {"region_code": "310115"},
        {"under": "pudong"},
        {"parent": "pudong"},
        {"parent": "lujiazui"},
    ],
)
def test_it_never_lets_the_outsider_find_pudong_organisations(tree, outsider, clerk, params):
    params = resolve(tree, params)
    pudong_ids = {o.pk for o in Organization.objects.filter(path__startswith=tree["pudong"].path)}
    resp = client_for(outsider).get(url("organization-list"), params)
    check(resp, 200)
    assert not ids(resp) & pudong_ids
    # …while the same filter does find them for the Pudong clerk.
    assert ids(client_for(clerk).get(url("organization-list"), params)) & pudong_ids


def test_it_filters_by_subtree_and_kind(tree, owner):
    resp = client_for(owner).get(url("organization-list"), {"under": tree["pudong"].pk, "kind": "grassroots"})
    assert names(resp) == {"浦东测试科技有限公司工会"}
    resp = client_for(owner).get(url("organization-list"), {"parent": tree["city"].pk})
    assert names(resp) == {"浦东新区总工会", "黄浦区总工会"}


@pytest.mark.parametrize("actor", ACTORS)
def test_it_shows_an_organisation_in_reach(request, tree, actor):
    coverage_refresh()
    body = check(as_actor(request, actor).get(url("organization-detail", tree["pudong"].pk)), READ[actor])
    if READ[actor] == 200:
        assert body["name"] == "浦东新区总工会"
        assert body["region_code"] == "310115" and body["depth"] == 2 and body["numchild"] == 1
        assert body["coverage"]["descendants"] == 2
        assert body["coverage"]["grassroots_unions"] == 1


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_children_in_reach(request, tree, actor):
    resp = as_actor(request, actor).get(url("organization-children", tree["pudong"].pk))
    check(resp, READ[actor])
    if resp.status_code == 200:
        assert names(resp) == {"陆家嘴街道总工会"}


def test_it_hides_dissolved_children_unless_asked(tree, owner):
    gone = add_org(tree["lujiazui"], name="已撤销的工会", kind=OrgKind.GRASSROOTS, status="dissolved")
    client = client_for(owner)
    assert gone.pk not in ids(client.get(url("organization-children", tree["lujiazui"].pk)))
    resp = client.get(url("organization-children", tree["lujiazui"].pk), {"include_inactive": "true"})
    assert gone.pk in ids(resp)


def test_it_answers_a_malformed_id_with_404_not_500(tree, owner):
    check(client_for(owner).get("/api/v1/organizations/abc/"), 404)
    check(client_for(owner).get(url("organization-detail", 999999)), 404)


def test_it_rejects_a_bad_filter_value_with_the_error_shape(tree, owner):
    body = check(client_for(owner).get(url("organization-list"), {"kind": "nonsense"}), 400)
    assert "kind" in body["error"]["fields"]


# --- organisations: writes ------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_creates_an_organisation_under_a_parent_in_reach(request, tree, actor):
    payload = {"parent": tree["pudong"].pk, "name": "花木街道总工会", "kind": "street", "phone": "021-50501234"}
    resp = as_actor(request, actor).post(url("organization-list"), payload, format="json")
    body = check(resp, CREATE[actor])
    created = Organization.objects.filter(name="花木街道总工会")
    if CREATE[actor] == 201:
        org = created.get()
        assert body["id"] == org.pk and body["parent"] == tree["pudong"].pk
        assert parent_of(org.pk) == tree["pudong"]
    else:
        assert not created.exists()
    if actor == "outsider":
        assert NOT_IN_REACH in body["error"]["fields"]["parent"][0]


def test_it_refuses_writes_in_reach_without_the_capability(tree, pd_auditor):
    client = client_for(pd_auditor)
    check(client.get(url("organization-detail", tree["pudong"].pk)), 200)
    payload = {"parent": tree["pudong"].pk, "name": "花木街道总工会", "kind": "street"}
    check(client.post(url("organization-list"), payload, format="json"), 403)
    check(client.patch(url("organization-detail", tree["pudong"].pk), {"name": "x"}, format="json"), 403)
    check(client.post(url("organization-dissolve", tree["pd_union"].pk), {}, format="json"), 403)
    assert Organization.objects.get(pk=tree["pudong"].pk).name == "浦东新区总工会"


def test_it_refuses_an_invalid_credit_code_with_a_field_message(tree, clerk):
    payload = {
        "parent": tree["lujiazui"].pk,
        "name": "新工会",
        "kind": "grassroots",
        "credit_code": "81310115MA1K000000",
    }
    body = check(client_for(clerk).post(url("organization-list"), payload, format="json"), 400)
    assert "校验位" in body["error"]["fields"]["credit_code"][0]
    assert body["error"]["code"] == "invalid"
    assert not Organization.objects.filter(name="新工会").exists()


def test_it_refuses_a_grassroots_union_under_a_grassroots_union(tree, clerk):
    payload = {"parent": tree["pd_union"].pk, "name": "子工会", "kind": "grassroots"}
    body = check(client_for(clerk).post(url("organization-list"), payload, format="json"), 400)
    assert "不能设立" in body["error"]["fields"]["kind"][0]
    assert not Organization.objects.filter(name="子工会").exists()


def test_it_reports_missing_fields_by_name(tree, clerk):
    body = check(client_for(clerk).post(url("organization-list"), {}, format="json"), 400)
    assert {"parent", "name", "kind"} <= set(body["error"]["fields"])


def test_it_answers_malformed_json_with_the_error_shape(tree, clerk):
    resp = client_for(clerk).post(url("organization-list"), "{not json", content_type="application/json")
    assert check(resp, 400)["error"]["code"] == "parse_error"


def test_it_refuses_put_with_the_error_shape(tree, owner):
    resp = client_for(owner).put(url("organization-detail", tree["pudong"].pk), {"name": "x"}, format="json")
    assert check(resp, 405)["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("actor", ACTORS)
def test_it_updates_an_organisation_in_reach(request, tree, actor):
    resp = as_actor(request, actor).patch(
        url("organization-detail", tree["lujiazui"].pk),
        {"short_name": "陆家嘴", "address": "浦东南路 1 号"},
        format="json",
    )
    body = check(resp, CHANGE[actor])
    org = Organization.objects.get(pk=tree["lujiazui"].pk)
    if CHANGE[actor] == 200:
        assert body["short_name"] == org.short_name == "陆家嘴"
    else:
        assert org.short_name == ""


def test_it_refuses_an_invalid_region_code_on_update(tree, clerk):
    body = check(
        client_for(clerk).patch(
            url("organization-detail", tree["pudong"].pk), {"region_code": "990115"}, format="json"
        ),
        400,
    )
    assert "region_code" in body["error"]["fields"]
    assert Organization.objects.get(pk=tree["pudong"].pk).region_code == "310115"


@pytest.fixture
def zhangjiang(tree):
    return add_org(tree["pudong"], name="张江镇总工会", kind=OrgKind.STREET)


@pytest.mark.parametrize("actor", ACTORS)
def test_it_moves_an_organisation_within_reach(request, tree, zhangjiang, actor):
    resp = as_actor(request, actor).post(
        url("organization-move", tree["pd_union"].pk), {"new_parent": zhangjiang.pk}, format="json"
    )
    body = check(resp, CHANGE[actor])
    moved = Organization.objects.get(pk=tree["pd_union"].pk)
    if CHANGE[actor] == 200:
        assert body["parent"] == zhangjiang.pk
        assert parent_of(moved.pk) == zhangjiang
    else:
        assert parent_of(moved.pk) == tree["lujiazui"]


def test_it_refuses_a_move_that_makes_a_cycle(tree, clerk):
    resp = client_for(clerk).post(
        url("organization-move", tree["pudong"].pk), {"new_parent": tree["lujiazui"].pk}, format="json"
    )
    assert "循环" in check(resp, 400)["error"]["fields"]["new_parent"][0]
    assert Organization.objects.get(pk=tree["pudong"].pk).path == tree["pudong"].path


def test_it_refuses_a_move_outside_the_movers_reach(tree, clerk):
    resp = client_for(clerk).post(
        url("organization-move", tree["pd_union"].pk), {"new_parent": tree["nanjing"].pk}, format="json"
    )
    assert NOT_IN_REACH in check(resp, 400)["error"]["fields"]["new_parent"][0]
    assert parent_of(tree["pd_union"].pk) == tree["lujiazui"]


def test_it_refuses_a_move_to_an_unsuitable_parent(tree, owner):
    resp = client_for(owner).post(
        url("organization-move", tree["lujiazui"].pk), {"new_parent": tree["nanjing"].pk}, format="json"
    )
    assert "kind" in check(resp, 400)["error"]["fields"]
    assert parent_of(tree["lujiazui"].pk) == tree["pudong"]


@pytest.mark.parametrize("actor", ACTORS)
def test_it_dissolves_a_childless_organisation(request, tree, actor):
    resp = as_actor(request, actor).post(
        url("organization-dissolve", tree["pd_union"].pk), {"reason": "企业注销"}, format="json"
    )
    body = check(resp, CHANGE[actor])
    status = Organization.objects.get(pk=tree["pd_union"].pk).status
    if CHANGE[actor] == 200:
        assert body["status"] == status == "dissolved" and body["ended_on"]
    else:
        assert status == "active"


def test_it_refuses_to_dissolve_an_organisation_with_active_children(tree, clerk):
    body = check(client_for(clerk).post(url("organization-dissolve", tree["lujiazui"].pk), {}, format="json"), 409)
    assert body["error"]["code"] == "invalid_transition"
    assert "下级组织" in body["error"]["message"]
    assert Organization.objects.get(pk=tree["lujiazui"].pk).status == "active"


def test_it_refuses_to_dissolve_twice_with_409(tree, clerk):
    client = client_for(clerk)
    check(client.post(url("organization-dissolve", tree["pd_union"].pk), {}, format="json"), 200)
    check(client.post(url("organization-dissolve", tree["pd_union"].pk), {}, format="json"), 409)


@pytest.mark.parametrize("actor", ACTORS)
def test_it_merges_an_organisation_into_another_in_reach(request, tree, zhangjiang, actor):
    resp = as_actor(request, actor).post(
        url("organization-merge", tree["lujiazui"].pk), {"into": zhangjiang.pk, "on": "2025-01-01"}, format="json"
    )
    body = check(resp, CHANGE[actor])
    merged = Organization.objects.get(pk=tree["lujiazui"].pk)
    if CHANGE[actor] == 200:
        assert body["status"] == "merged" and body["merged_into"] == zhangjiang.pk
        assert parent_of(tree["pd_union"].pk) == zhangjiang
        assert merged.ended_on == dt.date(2025, 1, 1)
    else:
        assert merged.status == "active"
        assert parent_of(tree["pd_union"].pk) == tree["lujiazui"]


def test_it_refuses_a_merge_into_another_district(tree, clerk):
    resp = client_for(clerk).post(url("organization-merge", tree["lujiazui"].pk), {"into": tree["nanjing"].pk})
    assert NOT_IN_REACH in check(resp, 400)["error"]["fields"]["into"][0]
    assert Organization.objects.get(pk=tree["lujiazui"].pk).status == "active"


def test_it_refuses_a_merge_of_different_kinds(tree, owner):
    resp = client_for(owner).post(url("organization-merge", tree["lujiazui"].pk), {"into": tree["pudong"].pk})
    assert "into" in check(resp, 400)["error"]["fields"]


def test_it_shows_a_merge_target_outside_reach_as_null(tree, owner, clerk):
    # An owner merges a Pudong street into a Huangpu street; the Pudong clerk no longer
    # reaches the target, so the id is withheld.
    client_for(owner).post(url("organization-merge", tree["lujiazui"].pk), {"into": tree["nanjing"].pk})
    body = client_for(clerk).get(url("organization-detail", tree["lujiazui"].pk)).json()
    assert body["status"] == "merged" and body["merged_into"] is None
    assert client_for(owner).get(url("organization-detail", tree["lujiazui"].pk)).json()["merged_into"] == (
        tree["nanjing"].pk
    )


# --- enterprises ----------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_enterprises_within_reach(request, enterprises, actor):
    resp = as_actor(request, actor).get(url("enterprise-list"))
    check(resp, LIST[actor])
    if resp.status_code == 200:
        expected = {
            "owner": {"浦东测试科技有限公司", "黄浦测试商贸有限公司"},
            "clerk": {"浦东测试科技有限公司"},
            "outsider": {"黄浦测试商贸有限公司"},
        }[actor]
        assert names(resp) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"q": "浦东"},
        {"q": "credit"},
        {"under": "pudong"},
        {"under": "lujiazui"},
        {"has_union": "true"},
        {"industry": "C"},
    ],
)
def test_it_never_lets_the_outsider_find_pudong_enterprises(tree, enterprises, outsider, clerk, params):
    target = enterprises["pudong"]
    params = {k: (tree[v].pk if v in tree else target.credit_code if v == "credit" else v) for k, v in params.items()}
    assert target.pk not in ids(client_for(outsider).get(url("enterprise-list"), params))
    assert target.pk in ids(client_for(clerk).get(url("enterprise-list"), params))


@pytest.mark.parametrize("actor", ACTORS)
def test_it_shows_an_enterprise_in_reach(request, enterprises, actor):
    body = check(as_actor(request, actor).get(url("enterprise-detail", enterprises["pudong"].pk)), READ[actor])
    if READ[actor] == 200:
        assert body["supervisor"]["name"] == "陆家嘴街道总工会"
        assert body["union"]["name"] == "浦东测试科技有限公司工会" and body["has_union"] is True
        assert body["industry_label"].startswith("C")


def _enterprise_payload(tree, **overrides):
    payload = {
        "credit_code": make_credit_code(),
        "name": "浦东新建企业有限公司",
        "ownership": "private",
        "size": "small",
        "industry": "I",
        "employees": 80,
        "supervisor": tree["lujiazui"].pk,
    }
    return {**payload, **overrides}


@pytest.mark.parametrize("actor", ACTORS)
def test_it_registers_an_enterprise_under_a_supervisor_in_reach(request, tree, actor):
    resp = as_actor(request, actor).post(url("enterprise-list"), _enterprise_payload(tree), format="json")
    body = check(resp, CREATE[actor])
    created = Enterprise.objects.filter(name="浦东新建企业有限公司")
    if CREATE[actor] == 201:
        ent = created.get()
        assert body["id"] == ent.pk and ent.org_path == tree["lujiazui"].path and body["union"] is None
    else:
        assert not created.exists()
    if actor == "outsider":
        assert NOT_IN_REACH in body["error"]["fields"]["supervisor"][0]


def test_it_refuses_an_enterprise_with_an_invalid_credit_code(tree, clerk):
    payload = _enterprise_payload(tree, credit_code="91310115MA1K00000")
    body = check(client_for(clerk).post(url("enterprise-list"), payload, format="json"), 400)
    assert "18 位" in body["error"]["fields"]["credit_code"][0]
    assert not Enterprise.objects.exists()


def test_it_refuses_a_union_outside_reach_for_an_enterprise(tree, clerk):
    payload = _enterprise_payload(tree, union=tree["hp_union"].pk)
    body = check(client_for(clerk).post(url("enterprise-list"), payload, format="json"), 400)
    assert NOT_IN_REACH in body["error"]["fields"]["union"][0]


def test_it_refuses_a_duplicate_credit_code(tree, enterprises, clerk):
    payload = _enterprise_payload(tree, credit_code=enterprises["pudong"].credit_code)
    body = check(client_for(clerk).post(url("enterprise-list"), payload, format="json"), 400)
    assert "credit_code" in body["error"]["fields"]


@pytest.mark.parametrize("actor", ACTORS)
def test_it_updates_an_enterprise_in_reach(request, enterprises, actor):
    ent = enterprises["pudong"]
    resp = as_actor(request, actor).patch(url("enterprise-detail", ent.pk), {"employees": 321}, format="json")
    body = check(resp, CHANGE[actor])
    ent.refresh_from_db()
    if CHANGE[actor] == 200:
        assert body["employees"] == ent.employees == 321
    else:
        assert ent.employees == 120


def test_it_withholds_an_enterprises_union_outside_the_readers_reach(tree, enterprises, owner, clerk):
    ent = enterprises["pudong"]
    check(client_for(owner).patch(url("enterprise-detail", ent.pk), {"union": tree["hp_union"].pk}, format="json"), 200)
    body = client_for(clerk).get(url("enterprise-detail", ent.pk)).json()
    assert body["union"] is None and body["supervisor"]["id"] == tree["lujiazui"].pk
    assert "黄浦" not in str(body)


# --- stations -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_stations_within_reach(request, stations, actor):
    resp = as_actor(request, actor).get(url("station-list"))
    check(resp, LIST[actor])
    if resp.status_code == 200:
        expected = {
            "owner": {"陆家嘴职工服务站", "南京东路职工服务站"},
            "clerk": {"陆家嘴职工服务站"},
            "outsider": {"南京东路职工服务站"},
        }[actor]
        assert names(resp) == expected


@pytest.mark.parametrize("params", [{"q": "陆家嘴"}, {"under": "pudong"}, {"kind": "station"}, {"is_active": "true"}])
def test_it_never_lets_the_outsider_find_pudong_stations(tree, stations, outsider, clerk, params):
    params = resolve(tree, params)
    assert stations["pudong"].pk not in ids(client_for(outsider).get(url("station-list"), params))
    assert stations["pudong"].pk in ids(client_for(clerk).get(url("station-list"), params))


@pytest.mark.parametrize("actor", ACTORS)
def test_it_shows_a_station_in_reach(request, stations, actor):
    body = check(as_actor(request, actor).get(url("station-detail", stations["pudong"].pk)), READ[actor])
    if READ[actor] == 200:
        assert body["organization"]["name"] == "陆家嘴街道总工会" and body["kind_label"] == "职工服务站"


@pytest.mark.parametrize("actor", ACTORS)
def test_it_creates_a_station_for_an_organisation_in_reach(request, tree, actor):
    payload = {
        "organization": tree["lujiazui"].pk,
        "name": "陆家嘴爱心接力站",
        "kind": "rest",
        "address": "浦东南路 100 号",
        "latitude": "31.234500",
        "longitude": "121.505000",
    }
    body = check(as_actor(request, actor).post(url("station-list"), payload, format="json"), CREATE[actor])
    created = ServiceStation.objects.filter(name="陆家嘴爱心接力站")
    assert created.exists() == (CREATE[actor] == 201)
    if actor == "outsider":
        assert NOT_IN_REACH in body["error"]["fields"]["organization"][0]


def test_it_refuses_a_station_off_the_globe(tree, clerk):
    payload = {"organization": tree["lujiazui"].pk, "name": "站", "kind": "point", "address": "某路", "latitude": "91"}
    assert (
        "latitude" in check(client_for(clerk).post(url("station-list"), payload, format="json"), 400)["error"]["fields"]
    )


@pytest.mark.parametrize("actor", ACTORS)
def test_it_updates_a_station_in_reach(request, stations, actor):
    station = stations["pudong"]
    resp = as_actor(request, actor).patch(url("station-detail", station.pk), {"is_active": False}, format="json")
    check(resp, CHANGE[actor])
    station.refresh_from_db()
    assert station.is_active == (CHANGE[actor] != 200)


# --- officers -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_officers_within_reach(request, officers, actor):
    resp = as_actor(request, actor).get(url("officer-list"))
    check(resp, LIST[actor])
    if resp.status_code == 200:
        expected = {"owner": {"张浦东", "李黄浦"}, "clerk": {"张浦东"}, "outsider": {"李黄浦"}}[actor]
        assert names(resp) == expected


@pytest.mark.parametrize(
    "params", [{"under": "pudong"}, {"under": "pd_union"}, {"position": "chair"}, {"current": "true"}]
)
def test_it_never_lets_the_outsider_find_pudong_officers(tree, officers, outsider, clerk, params):
    params = resolve(tree, params)
    assert officers["pudong"].pk not in ids(client_for(outsider).get(url("officer-list"), params))
    assert officers["pudong"].pk in ids(client_for(clerk).get(url("officer-list"), params))


@pytest.mark.parametrize("actor", ACTORS)
def test_it_shows_an_officer_in_reach(request, officers, actor):
    body = check(as_actor(request, actor).get(url("officer-detail", officers["pudong"].pk)), READ[actor])
    if READ[actor] == 200:
        assert body["position_label"] == "主席" and body["organization"]["id"] == officers["pudong"].organization_id


@pytest.mark.parametrize("actor", ACTORS)
def test_it_registers_an_officer_for_an_organisation_in_reach(request, tree, actor):
    payload = {
        "organization": tree["pd_union"].pk,
        "name": "王副主席",
        "position": "vice_chair",
        "term_start": "2024-01-01",
        "election": "direct",
    }
    body = check(as_actor(request, actor).post(url("officer-list"), payload, format="json"), CREATE[actor])
    assert Officer.objects.filter(name="王副主席").exists() == (CREATE[actor] == 201)
    if actor == "outsider":
        assert NOT_IN_REACH in body["error"]["fields"]["organization"][0]


def test_it_refuses_a_term_that_ends_before_it_starts(tree, officers, clerk):
    officer = officers["pudong"]
    resp = client_for(clerk).patch(
        url("officer-detail", officer.pk), {"term_end": str(officer.term_start - dt.timedelta(days=1))}, format="json"
    )
    assert "任期" in check(resp, 400)["error"]["fields"]["term_end"][0]
    officer.refresh_from_db()
    assert officer.term_end is None


@pytest.mark.parametrize("actor", ACTORS)
def test_it_updates_an_officer_in_reach(request, officers, actor):
    officer = officers["pudong"]
    resp = as_actor(request, actor).patch(url("officer-detail", officer.pk), {"term_end": "2030-12-31"}, format="json")
    check(resp, CHANGE[actor])
    officer.refresh_from_db()
    assert (officer.term_end == dt.date(2030, 12, 31)) == (CHANGE[actor] == 200)


# --- role assignments -----------------------------------------------------------------
# Managing roles needs role.manage (federation admins): the Pudong clerk is in reach but
# lacks it (403); the in-scope actor is a Pudong admin, the outsider a Huangpu admin.

ROLE_ACTORS = ["owner", "pd_admin", "clerk", "hp_admin", "worker", "anonymous"]
ROLE_READ = {"owner": 200, "pd_admin": 200, "clerk": 403, "hp_admin": 404, "worker": 403, "anonymous": ANON}
ROLE_LIST = {"owner": 200, "pd_admin": 200, "clerk": 403, "hp_admin": 200, "worker": 403, "anonymous": ANON}
ROLE_CREATE = {"owner": 201, "pd_admin": 201, "clerk": 403, "hp_admin": 400, "worker": 403, "anonymous": ANON}
ROLE_DELETE = {"owner": 204, "pd_admin": 204, "clerk": 403, "hp_admin": 404, "worker": 403, "anonymous": ANON}


@pytest.fixture
def pd_street_clerk(tree):
    return _staff("pd_street", tree["lujiazui"], "clerk")


@pytest.mark.parametrize("actor", ROLE_ACTORS)
def test_it_lists_role_assignments_for_role_managers(request, tree, pd_admin, hp_admin, pd_street_clerk, actor):
    resp = as_actor(request, actor).get(url("role-assignment-list"))
    check(resp, ROLE_LIST[actor])
    if resp.status_code != 200:
        return
    users = {row["user"]["username"] for row in resp.json()["results"]}
    if actor == "owner":
        assert {"pd_admin", "hp_admin", "pd_street"} <= users
    elif actor == "pd_admin":
        assert {"pd_admin", "pd_street"} <= users and "hp_admin" not in users
    else:
        assert "pd_street" not in users and "pd_admin" not in users


def test_it_never_lets_an_outsider_find_pudong_role_assignments(tree, pd_street_clerk, hp_admin):
    client = client_for(hp_admin)
    for params in ({"user": "pd_street"}, {"under": tree["pudong"].pk}, {"role": "clerk"}):
        assert "pd_street" not in str(client.get(url("role-assignment-list"), params).json())


@pytest.mark.parametrize("actor", ROLE_ACTORS)
def test_it_shows_a_role_assignment_to_role_managers(request, tree, pd_street_clerk, actor):
    assignment = RoleAssignment.objects.get(user=pd_street_clerk)
    body = check(as_actor(request, actor).get(url("role-assignment-detail", assignment.pk)), ROLE_READ[actor])
    if ROLE_READ[actor] == 200:
        assert body["user"]["username"] == "pd_street" and body["role_label"] == "业务经办"


@pytest.mark.parametrize("actor", ROLE_ACTORS)
def test_it_assigns_a_role_within_reach(request, tree, actor):
    UserFactory(username="newcomer")
    payload = {"user": "newcomer", "organization": tree["lujiazui"].pk, "role": "clerk"}
    body = check(as_actor(request, actor).post(url("role-assignment-list"), payload, format="json"), ROLE_CREATE[actor])
    assert RoleAssignment.objects.filter(user__username="newcomer").exists() == (ROLE_CREATE[actor] == 201)
    if actor == "hp_admin":
        assert NOT_IN_REACH in body["error"]["fields"]["organization"][0]


def test_it_refuses_a_staff_role_for_a_worker_account(tree, owner, worker):
    payload = {"user": worker.username, "organization": tree["lujiazui"].pk, "role": "clerk"}
    body = check(client_for(owner).post(url("role-assignment-list"), payload, format="json"), 400)
    assert "user" in body["error"]["fields"]


def test_it_refuses_an_unknown_username(tree, owner):
    payload = {"user": "nobody", "organization": tree["lujiazui"].pk, "role": "clerk"}
    body = check(client_for(owner).post(url("role-assignment-list"), payload, format="json"), 400)
    assert "nobody" in body["error"]["fields"]["user"][0]


@pytest.mark.parametrize("actor", ROLE_ACTORS)
def test_it_revokes_a_role_within_reach(request, tree, pd_street_clerk, actor):
    assignment = RoleAssignment.objects.get(user=pd_street_clerk)
    check(as_actor(request, actor).delete(url("role-assignment-detail", assignment.pk)), ROLE_DELETE[actor])
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists() == (ROLE_DELETE[actor] != 204)


# --- query counts ---------------------------------------------------------------------


def _grow(tree, what: str, n: int) -> None:
    """Add n rows of `what` under Pudong, each with the relations the output shows."""
    start = Organization.objects.count()
    for i in range(n):
        if what == "organization":
            add_org(tree["lujiazui"], name=f"批量工会{start + i}", kind=OrgKind.GRASSROOTS)
        elif what == "enterprise":
            EnterpriseFactory(supervisor=tree["lujiazui"], union=tree["pd_union"])
        elif what == "station":
            StationFactory(organization=tree["pd_union"])
        elif what == "officer":
            OfficerFactory(organization=tree["pd_union"])
        else:  # password hashing is slow and irrelevant here: create the users directly
            user = User.objects.create(username=f"bulk{User.objects.count()}")
            RoleAssignment.objects.create(user=user, organization=tree["pd_union"], role="clerk")
    coverage_refresh()


@pytest.mark.parametrize(
    "name, params",
    [
        ("organization-list", {}),
        ("organization-list", {"under": "pudong", "q": "工会"}),
        ("organization-children", "lujiazui"),
        ("enterprise-list", {"under": "pudong"}),
        ("station-list", {}),
        ("officer-list", {}),
        ("role-assignment-list", {}),
    ],
)
def test_it_lists_with_a_constant_number_of_queries(tree, pd_admin, name, params, django_assert_max_num_queries):
    if isinstance(params, str):
        target, params = url(name, tree[params].pk), {}
    else:
        target = url(name)
        params = resolve(tree, params)
    counts = []
    for n in (2, 20):
        _grow(tree, name.split("-")[0] if not name.startswith("role") else "role", n)
        client = client_for(User.objects.get(pk=pd_admin.pk))  # a fresh user: reach not yet cached
        with django_assert_max_num_queries(5) as ctx:
            resp = client.get(target, params)
        assert resp.status_code == 200 and len(resp.json()["results"]) >= n
        counts.append(len(ctx))
    assert counts[0] == counts[1]
