"""The Django admin is scoped like every other screen, and writes through the services."""

import pytest
from django.urls import reverse

from activity.models import AuditEvent
from core.audit import log_action
from organizations.models import (
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from organizations.services import coverage_refresh
from tests.factories import EnterpriseFactory, OfficerFactory, StationFactory, UserFactory, make_credit_code

ACTORS = ("owner", "clerk", "outsider", "worker", "anonymous")


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def sign_in(client, request, actor, *, staff=True):
    """Sign `actor` in with the admin flag a superuser would have given them."""
    if actor == "anonymous":
        return None
    user = request.getfixturevalue(actor)
    if staff and actor != "worker":
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client.force_login(user)
    return user


@pytest.fixture
def objects(tree, enterprises):
    return {
        **tree,
        **{f"ent_{k}": v for k, v in enterprises.items()},
        "pd_officer": OfficerFactory(organization=tree["pd_union"], name="浦东主席"),
        "hp_officer": OfficerFactory(organization=tree["hp_union"], name="黄浦主席"),
        "pd_station": StationFactory(organization=tree["lujiazui"], name="陆家嘴职工服务站"),
        "hp_station": StationFactory(organization=tree["nanjing"], name="南京东路职工服务站"),
    }


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def pd_admin(tree):
    """A federation admin of 浦东 (all capabilities there) with admin access."""
    user = UserFactory(username="pd_admin", is_staff=True)
    RoleAssignment.objects.create(user=user, organization=tree["pudong"], role="federation_admin")
    return user


@pytest.fixture
def pd_auditor(tree):
    user = UserFactory(username="pd_auditor", is_staff=True)
    RoleAssignment.objects.create(user=user, organization=tree["pudong"], role="auditor")
    return user


def rows(response):
    return list(response.context["cl"].result_list)


# --- who gets in ----------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_it_shows_each_actor_only_their_part_of_the_tree(client, request, objects, actor):
    sign_in(client, request, actor)
    response = client.get(changelist(Organization))
    if actor in ("worker", "anonymous"):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        return
    assert response.status_code == 200
    names = {org.name for org in rows(response)}
    assert ("浦东新区总工会" in names) == (actor in ("owner", "clerk"))
    assert ("黄浦区总工会" in names) == (actor in ("owner", "outsider"))
    assert ("上海市总工会" in names) == (actor == "owner")


def test_it_shows_the_superuser_everything(client, objects, superuser):
    client.force_login(superuser)
    assert len(rows(client.get(changelist(Organization)))) == Organization.objects.count()
    assert len(rows(client.get(changelist(Enterprise)))) == 2
    assert client.get(change(objects["hp_union"])).status_code == 200


def test_it_keeps_staff_without_the_admin_flag_out(client, objects, clerk):
    client.force_login(clerk)
    response = client.get(changelist(Organization))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "model, pudong_label, huangpu_label",
    [
        (Enterprise, "浦东测试科技有限公司", "黄浦测试商贸有限公司"),
        (Officer, "浦东主席", "黄浦主席"),
        (ServiceStation, "陆家嘴职工服务站", "南京东路职工服务站"),
    ],
)
def test_it_lists_only_rows_in_reach(client, request, objects, model, pudong_label, huangpu_label):
    for actor, sees, hidden in (("clerk", pudong_label, huangpu_label), ("outsider", huangpu_label, pudong_label)):
        sign_in(client, request, actor)
        response = client.get(changelist(model))
        labels = {getattr(obj, "name", str(obj)) for obj in rows(response)}
        assert sees in labels and hidden not in labels


def test_it_lists_role_assignments_and_coverage_in_reach_only(client, request, objects, outsider):
    coverage_refresh()
    sign_in(client, request, "clerk")
    roles = rows(client.get(changelist(RoleAssignment)))
    assert [r.organization.name for r in roles] == ["浦东新区总工会"]
    summaries = {s.organization.name for s in rows(client.get(changelist(CoverageSummary)))}
    assert "浦东新区总工会" in summaries and "黄浦区总工会" not in summaries


@pytest.mark.parametrize("key", ["huangpu", "hp_union", "ent_huangpu", "hp_officer", "hp_station"])
def test_it_returns_404_for_an_object_outside_the_reach(client, request, objects, key):
    sign_in(client, request, "clerk")
    assert client.get(change(objects[key])).status_code == 404
    assert client.post(change(objects[key]), {"name": "改名"}).status_code == 404
    assert objects[key].__class__.objects.get(pk=objects[key].pk).name == objects[key].name


@pytest.mark.parametrize("key", ["pudong", "ent_pudong", "pd_officer", "pd_station"])
def test_it_shows_in_reach_rows_read_only_to_a_read_only_role(client, objects, pd_auditor, key):
    client.force_login(pd_auditor)
    response = client.get(change(objects[key]))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert client.post(change(objects[key]), {"name": "改名"}).status_code == 403
    assert client.get(add(objects[key].__class__)).status_code == 403


def test_it_lists_the_enterprises_with_a_constant_number_of_queries(
    client, request, objects, django_assert_max_num_queries
):
    sign_in(client, request, "owner")
    with django_assert_max_num_queries(14):
        assert client.get(changelist(Enterprise)).status_code == 200
    for i in range(25):
        EnterpriseFactory(name=f"浦东批量企业{i}", supervisor=objects["lujiazui"], union=objects["pd_union"])
    with django_assert_max_num_queries(14):
        response = client.get(changelist(Enterprise))
    assert len(rows(response)) == 27


def test_it_lists_organisations_and_officers_with_a_constant_number_of_queries(
    client, request, objects, django_assert_max_num_queries
):
    sign_in(client, request, "owner")
    for i in range(20):
        OfficerFactory(organization=objects["pd_union"], name=f"委员{i}")
    with django_assert_max_num_queries(14):
        assert client.get(changelist(Officer)).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(changelist(Organization)).status_code == 200


# --- foreign keys limited to the reach ------------------------------------------------


def enterprise_form(supervisor, union=None, **extra):
    data = {
        "credit_code": make_credit_code(),
        "name": "上海浦东新建科技有限公司",
        "ownership": "private",
        "size": "small",
        "industry": "I",
        "employees": "80",
        "address": "上海市浦东新区张杨路1号",
        "supervisor": str(supervisor.pk),
        "union": str(union.pk) if union else "",
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_it_offers_only_in_reach_organisations_as_choices(client, request, objects):
    sign_in(client, request, "clerk")
    form = client.get(add(Enterprise)).context["adminform"].form
    supervisors = set(form.fields["supervisor"].queryset.values_list("name", flat=True))
    unions = set(form.fields["union"].queryset.values_list("name", flat=True))
    assert "陆家嘴街道总工会" in supervisors and "南京东路街道总工会" not in supervisors
    assert "浦东测试科技有限公司工会" not in supervisors  # a grassroots union supervises nobody
    assert unions == {"浦东测试科技有限公司工会"}
    officer_orgs = client.get(add(Officer)).context["adminform"].form.fields["organization"].queryset
    assert not officer_orgs.filter(path__startswith=objects["huangpu"].path).exists()


def test_it_limits_autocomplete_to_the_reach_and_the_field(client, request, objects):
    sign_in(client, request, "clerk")
    url = reverse("admin:autocomplete")
    params = {"app_label": "organizations", "model_name": "enterprise", "field_name": "supervisor", "term": "总工会"}
    found = {r["text"] for r in client.get(url, params).json()["results"]}
    assert found == {"浦东新区总工会", "陆家嘴街道总工会"}
    params["field_name"] = "union"
    params["term"] = "工会"
    assert {r["text"] for r in client.get(url, params).json()["results"]} == {"浦东测试科技有限公司工会"}


def test_it_refuses_a_supervisor_outside_the_reach(client, request, objects):
    sign_in(client, request, "clerk")
    response = client.post(add(Enterprise), enterprise_form(objects["nanjing"]))
    assert response.status_code == 200
    assert "supervisor" in response.context["adminform"].form.errors
    assert not Enterprise.objects.filter(name="上海浦东新建科技有限公司").exists()


# --- writes go through the services ---------------------------------------------------


def test_it_creates_an_enterprise_through_the_service(client, request, objects):
    user = sign_in(client, request, "clerk")
    response = client.post(add(Enterprise), enterprise_form(objects["lujiazui"], objects["pd_union"]))
    assert response.status_code == 302
    ent = Enterprise.objects.get(name="上海浦东新建科技有限公司")
    assert ent.org_path == objects["lujiazui"].path
    assert AuditEvent.objects.filter(action="enterprise.created", target_id=str(ent.pk), actor=user).exists()


def test_it_shows_the_services_refusal_on_the_form(client, request, objects):
    sign_in(client, request, "clerk")
    data = enterprise_form(objects["lujiazui"], credit_code="91310115000000000X")
    response = client.post(add(Enterprise), data)
    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors
    assert not Enterprise.objects.filter(name="上海浦东新建科技有限公司").exists()


def org_form(org, parent, **changes):
    data = {
        "parent": str(parent.pk) if parent else "",
        "name": org.name if org else "",
        "short_name": "",
        "kind": org.kind if org else "",
        "region_code": org.region_code if org else "",
        "credit_code": "",
        "address": "",
        "phone": "",
        "established_on": "",
    }
    data.update(changes)
    return data


def test_it_creates_an_organisation_through_the_service(client, request, objects):
    user = sign_in(client, request, "clerk")
    data = org_form(None, objects["lujiazui"], name="陆家嘴金融城楼宇工会", kind=OrgKind.BUILDING)
    assert client.post(add(Organization), data).status_code == 302
    org = Organization.objects.get(name="陆家嘴金融城楼宇工会")
    assert org.path.startswith(objects["lujiazui"].path) and org.depth == objects["lujiazui"].depth + 1
    assert AuditEvent.objects.filter(action="organization.created", target_id=str(org.pk), actor=user).exists()


def test_it_refuses_a_grassroots_union_under_a_grassroots_union(client, request, objects):
    sign_in(client, request, "clerk")
    data = org_form(None, objects["pd_union"], name="套娃工会", kind=OrgKind.GRASSROOTS)
    response = client.post(add(Organization), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "kind" in errors and "基层工会" in str(errors["kind"])
    assert not Organization.objects.filter(name="套娃工会").exists()


def test_it_edits_an_organisation_through_the_service(client, request, objects):
    sign_in(client, request, "clerk")
    org = objects["pd_union"]
    data = org_form(org, objects["lujiazui"], name="浦东测试科技有限公司工会（新）", phone="021-50001234")
    assert client.post(change(org), data).status_code == 302
    org.refresh_from_db()
    assert org.name == "浦东测试科技有限公司工会（新）"
    event = AuditEvent.objects.get(action="organization.updated", target_id=str(org.pk))
    assert set(event.data["changed"]) == {"name", "phone"}


def test_it_moves_an_organisation_through_organization_move(client, request, objects):
    sign_in(client, request, "clerk")
    org = objects["pd_union"]
    assert client.post(change(org), org_form(org, objects["pudong"])).status_code == 302
    org.refresh_from_db()
    assert org.depth == objects["pudong"].depth + 1 and org.path.startswith(objects["pudong"].path)
    assert AuditEvent.objects.filter(action="organization.moved", target_id=str(org.pk)).exists()


def test_it_refuses_a_move_outside_the_reach(client, request, objects):
    sign_in(client, request, "clerk")
    org = objects["pd_union"]
    old_path = org.path
    response = client.post(change(org), org_form(org, objects["nanjing"], name="改名不应生效"))
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    org.refresh_from_db()
    assert org.path == old_path and org.name == "浦东测试科技有限公司工会"


def test_it_undoes_the_whole_save_when_the_move_is_refused(client, request, objects):
    from tests.factories import add_org

    other = add_org(objects["lujiazui"], name="浦东另一家公司工会", kind=OrgKind.GRASSROOTS)
    sign_in(client, request, "clerk")
    org = objects["pd_union"]
    response = client.post(change(org), org_form(org, other, name="改名不应生效"))
    assert response.status_code == 200
    assert "基层工会" in str(response.context["adminform"].form.errors)
    org.refresh_from_db()
    assert org.name == "浦东测试科技有限公司工会" and org.path.startswith(objects["lujiazui"].path)
    assert not AuditEvent.objects.filter(action="organization.updated").exists()


def test_it_lets_a_superuser_edit_the_root_without_a_parent(client, objects, superuser):
    client.force_login(superuser)
    city = objects["city"]
    response = client.post(change(city), org_form(city, None, short_name="市总工会", phone="021-12351"))
    assert response.status_code == 302
    city.refresh_from_db()
    assert city.phone == "021-12351" and city.depth == 1


def test_it_creates_and_edits_officers_and_stations_through_the_services(client, request, objects):
    sign_in(client, request, "clerk")
    data = {
        "organization": str(objects["pd_union"].pk),
        "name": "李建华",
        "position": "vice_chair",
        "term_start": "2024-01-01",
        "term_end": "2028-12-31",
        "election": "direct",
    }
    assert client.post(add(Officer), data).status_code == 302
    officer = Officer.objects.get(name="李建华")
    assert AuditEvent.objects.filter(action="officer.created", target_id=str(officer.pk)).exists()
    station = objects["pd_station"]
    data = {
        "name": station.name,
        "kind": "rest",
        "address": "上海市浦东新区陆家嘴环路1号",
        "latitude": "31.2380",
        "longitude": "121.5050",
        "opening_hours": "全天开放",
        "services": "饮水、休息",
        "phone": "",
        "is_active": "on",
    }
    assert client.post(change(station), data).status_code == 302
    station.refresh_from_db()
    assert station.kind == "rest"
    assert AuditEvent.objects.filter(action="station.updated", target_id=str(station.pk)).exists()


# --- nothing is deleted ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["pd_union", "ent_pudong", "pd_officer", "pd_station"])
def test_it_never_deletes_registry_rows(client, objects, superuser, key):
    client.force_login(superuser)
    obj = objects[key]
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert obj.__class__.objects.filter(pk=obj.pk).exists()


def test_it_dissolves_instead_of_deleting(client, request, objects):
    sign_in(client, request, "clerk")
    data = {"action": "dissolve_selected", "_selected_action": [objects["pd_union"].pk, objects["lujiazui"].pk]}
    response = client.post(changelist(Organization), data, follow=True)
    assert response.status_code == 200
    union, street = (Organization.objects.get(pk=objects[k].pk) for k in ("pd_union", "lujiazui"))
    # Children first: the union goes, then its street has no active child left.
    assert union.status == Organization.Status.DISSOLVED
    assert street.status == Organization.Status.DISSOLVED
    assert AuditEvent.objects.filter(action="organization.dissolved").count() == 2


def test_it_reports_a_refused_dissolution_and_changes_nothing(client, request, objects):
    sign_in(client, request, "clerk")
    data = {"action": "dissolve_selected", "_selected_action": [objects["lujiazui"].pk]}
    response = client.post(changelist(Organization), data, follow=True)
    assert "下级组织" in response.content.decode()
    assert Organization.objects.get(pk=objects["lujiazui"].pk).status == Organization.Status.ACTIVE


# --- roles ----------------------------------------------------------------------------


def test_it_assigns_and_revokes_roles_through_the_services(client, objects, pd_admin):
    newcomer = UserFactory(username="newcomer")
    client.force_login(pd_admin)
    data = {"user": str(newcomer.pk), "organization": str(objects["lujiazui"].pk), "role": "clerk"}
    assert client.post(add(RoleAssignment), data).status_code == 302
    assignment = RoleAssignment.objects.get(user=newcomer)
    assert AuditEvent.objects.filter(action="role.assigned", target_id=str(assignment.pk)).exists()
    url = reverse("admin:organizations_roleassignment_delete", args=[assignment.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert AuditEvent.objects.filter(action="role.revoked").exists()


def test_it_refuses_role_management_to_a_clerk(client, request, objects):
    sign_in(client, request, "clerk")
    assert client.get(add(RoleAssignment)).status_code == 403
    assignment = RoleAssignment.objects.get(user__username="pd_clerk")
    url = reverse("admin:organizations_roleassignment_delete", args=[assignment.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


def test_it_offers_only_users_of_the_reach_or_unplaced_staff(client, objects, pd_admin, outsider):
    newcomer = UserFactory(username="newcomer")
    UserFactory(username="13900000000", kind=User.Kind.WORKER)
    client.force_login(pd_admin)
    users = client.get(add(RoleAssignment)).context["adminform"].form.fields["user"].queryset
    names = set(users.values_list("username", flat=True))
    assert {"pd_admin", "newcomer"} <= names
    assert "hp_clerk" not in names and "13900000000" not in names
    assert newcomer.username in {u.username for u in rows(client.get(changelist(User)))}


# --- users ----------------------------------------------------------------------------


def test_it_lets_only_superusers_change_accounts(client, objects, pd_admin, superuser):
    client.force_login(pd_admin)
    target = RoleAssignment.objects.get(role="federation_admin").user
    assert client.get(change(target)).status_code == 200
    assert client.post(change(target), {"username": target.username}).status_code == 403
    hp_user = User.objects.create(username="hp_only")
    RoleAssignment.objects.create(user=hp_user, organization=objects["huangpu"], role="clerk")
    assert client.get(change(hp_user)).status_code == 404

    client.force_login(superuser)
    data = {
        "username": "hp_only",
        "display_name": "黄浦经办",
        "kind": "staff",
        "email": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "08:00:00",
    }
    assert client.post(change(hp_user), data).status_code == 302
    hp_user.refresh_from_db()
    assert hp_user.display_name == "黄浦经办"
    assert AuditEvent.objects.filter(action="user.updated", target_id=str(hp_user.pk)).exists()


def test_it_lets_a_superuser_create_an_account_and_audits_it(client, db, superuser):
    client.force_login(superuser)
    data = {
        "username": "jingan",
        "display_name": "静安区经办",
        "kind": "staff",
        "password1": "a-long-enough-passphrase-1",
        "password2": "a-long-enough-passphrase-1",
    }
    assert client.post(add(User), data).status_code == 302
    user = User.objects.get(username="jingan")
    assert user.display_name == "静安区经办" and user.check_password("a-long-enough-passphrase-1")
    assert AuditEvent.objects.filter(action="user.created", target_id=str(user.pk), actor=superuser).exists()


# --- the audit log --------------------------------------------------------------------


@pytest.fixture
def events(objects, owner):
    return {
        "pudong": log_action(actor=owner, action="organization.updated", target=objects["pd_union"]),
        "huangpu": log_action(actor=owner, action="enterprise.updated", target=objects["ent_huangpu"]),
        "system": log_action(actor=None, action="auth.login_failed"),
    }


def test_it_keeps_audit_events_read_only_even_for_superusers(client, events, superuser):
    client.force_login(superuser)
    event = events["pudong"]
    assert client.get(reverse("admin:activity_auditevent_add")).status_code == 403
    response = client.get(change(event))
    assert response.status_code == 200 and response.context["has_change_permission"] is False
    assert client.post(change(event), {"action": "tampered"}).status_code == 403
    delete = reverse("admin:activity_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "organization.updated"
    assert len(rows(client.get(changelist(AuditEvent)))) == AuditEvent.objects.count()


def test_it_shows_audit_events_in_reach_to_roles_that_may_read_them(client, events, pd_admin, clerk):
    client.force_login(pd_admin)
    listed = rows(client.get(changelist(AuditEvent)))
    assert events["pudong"] in listed
    assert events["huangpu"] not in listed and events["system"] not in listed
    assert client.get(change(events["huangpu"])).status_code == 404
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)
    assert client.get(changelist(AuditEvent)).status_code == 403


def test_it_searches_and_filters_audit_events(client, events, superuser):
    client.force_login(superuser)
    by_action = rows(client.get(changelist(AuditEvent), {"action": "enterprise.updated"}))
    assert by_action == [events["huangpu"]]
    searched = rows(client.get(changelist(AuditEvent), {"q": "浦东测试科技"}))
    assert events["pudong"] in searched and events["huangpu"] not in searched
    today = events["pudong"].created_at.date()
    params = {"created_at__gte": today.isoformat(), "created_at__lt": "2999-01-01"}
    assert len(rows(client.get(changelist(AuditEvent), params))) == AuditEvent.objects.count()
