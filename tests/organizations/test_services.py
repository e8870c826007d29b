"""The organisation services refuse bad input with a clear message and change nothing."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from activity.models import AuditEvent
from core.errors import TransitionError
from organizations import services
from organizations.models import CoverageSummary, Enterprise, Organization, OrgKind
from tests.factories import EnterpriseFactory, make_credit_code


def _snapshot():
    return list(Organization.objects.order_by("pk").values_list("pk", "path", "status", "name"))


def test_it_creates_a_street_under_a_district_and_audits_it(tree, clerk):
    street = services.organization_create(
        actor=clerk, parent=tree["pudong"], name="花木街道总工会", kind=OrgKind.STREET
    )
    assert Organization.objects.get_parent(street).pk == tree["pudong"].pk
    event = AuditEvent.objects.get(action="organization.created", target_id=str(street.pk))
    assert event.actor == clerk and event.org_path == street.path


def test_it_refuses_a_grassroots_union_under_a_grassroots_union(tree, clerk):
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        services.organization_create(actor=clerk, parent=tree["pd_union"], name="下属工会", kind=OrgKind.GRASSROOTS)
    assert "基层工会" in str(exc.value.message_dict["kind"])
    assert _snapshot() == before


@pytest.mark.parametrize("code", ["12345", "91310115MA1K4ABC1O", "91310115MA1K4ABC1X"])
def test_it_refuses_invalid_credit_codes(tree, clerk, code):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(
            actor=clerk, parent=tree["lujiazui"], name="某公司工会", kind=OrgKind.GRASSROOTS, credit_code=code
        )
    assert "统一社会信用代码" in " ".join(exc.value.message_dict["credit_code"])
    assert not Organization.objects.filter(name="某公司工会").exists()


def test_it_accepts_a_valid_credit_code_in_lower_case(tree, clerk):
    code = make_credit_code(prefix="81")
    org = services.organization_create(
        actor=clerk, parent=tree["lujiazui"], name="某公司工会", kind=OrgKind.GRASSROOTS, credit_code=code.lower()
    )
    assert org.credit_code == code


@pytest.mark.parametrize(
    ("code", "fragment"),
    [("31011", "6 位数字"), ("990101", "省级代码"), ("310100", "后两位不能是 00"), ("320101", "不属于上级")],
)
def test_it_refuses_bad_district_region_codes(tree, owner, code, fragment):
    with pytest.raises(ValidationError) as exc:
        services.organization_create(
            actor=owner, parent=tree["city"], name="新区总工会", kind=OrgKind.DISTRICT, region_code=code
        )
    assert fragment in " ".join(exc.value.message_dict["region_code"])


def test_it_refuses_to_move_an_org_into_its_own_subtree(tree, clerk):
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        services.organization_move(actor=clerk, organization=tree["lujiazui"], new_parent=tree["pd_union"])
    assert "循环" in exc.value.message_dict["new_parent"][0]
    assert _snapshot() == before


def test_it_refuses_to_move_an_org_outside_the_movers_reach(tree, clerk):
    before = _snapshot()
    with pytest.raises(ValidationError) as exc:
        services.organization_move(actor=clerk, organization=tree["pd_union"], new_parent=tree["nanjing"])
    assert "管辖范围" in exc.value.message_dict["new_parent"][0]
    assert _snapshot() == before


def test_it_hides_an_org_outside_reach_as_not_found(tree, clerk):
    with pytest.raises(Http404):
        services.organization_update(actor=clerk, organization=tree["hp_union"], name="改名")


def test_it_forbids_a_read_only_role_to_change_things(tree, clerk):
    from organizations.models import RoleAssignment
    from tests.factories import UserFactory

    auditor = UserFactory(username="auditor")
    RoleAssignment.objects.create(user=auditor, organization=tree["pudong"], role="auditor")
    with pytest.raises(PermissionDenied):
        services.organization_update(actor=auditor, organization=tree["lujiazui"], name="改名")


def test_it_moves_a_subtree_and_rewrites_copied_paths(tree, owner, enterprises):
    pd_union = tree["pd_union"]
    new_street = services.organization_create(
        actor=owner, parent=tree["pudong"], name="花木街道总工会", kind=OrgKind.STREET
    )
    ent = EnterpriseFactory(supervisor=tree["lujiazui"])
    services.organization_move(actor=owner, organization=tree["lujiazui"], new_parent=tree["huangpu"])
    tree["lujiazui"].refresh_from_db()
    pd_union.refresh_from_db()
    ent.refresh_from_db()
    assert pd_union.path.startswith(tree["huangpu"].path)
    assert ent.org_path == tree["lujiazui"].path
    assert new_street.pk  # untouched sibling


def test_it_refuses_to_dissolve_an_org_with_active_children(tree, clerk):
    with pytest.raises(TransitionError) as exc:
        services.organization_dissolve(actor=clerk, organization=tree["lujiazui"])
    assert "下级组织" in str(exc.value)
    tree["lujiazui"].refresh_from_db()
    assert tree["lujiazui"].status == Organization.Status.ACTIVE


def test_it_dissolves_a_leaf_and_refuses_to_do_it_twice(tree, clerk):
    org = services.organization_dissolve(actor=clerk, organization=tree["pd_union"], reason="企业注销")
    assert org.status == Organization.Status.DISSOLVED and org.ended_on
    with pytest.raises(TransitionError):
        services.organization_dissolve(actor=clerk, organization=tree["pd_union"])


def test_it_merges_a_street_into_another_moving_children_and_enterprises(tree, owner, enterprises):
    huamu = services.organization_create(actor=owner, parent=tree["pudong"], name="花木街道总工会", kind=OrgKind.STREET)
    services.organization_merge(actor=owner, organization=tree["lujiazui"], into=huamu)
    tree["pd_union"].refresh_from_db()
    enterprises["pudong"].refresh_from_db()
    assert Organization.objects.get_parent(tree["pd_union"]).pk == huamu.pk
    assert enterprises["pudong"].supervisor_id == huamu.pk and enterprises["pudong"].org_path == huamu.path
    merged = Organization.objects.get(pk=tree["lujiazui"].pk)
    assert merged.status == Organization.Status.MERGED and merged.merged_into_id == huamu.pk


def test_it_refuses_an_enterprise_supervised_outside_reach(tree, clerk):
    with pytest.raises(ValidationError) as exc:
        services.enterprise_create(
            actor=clerk,
            credit_code=make_credit_code(),
            name="越界公司",
            ownership="private",
            size="small",
            industry="C",
            employees=10,
            supervisor=tree["nanjing"],
        )
    assert "管辖范围" in exc.value.message_dict["supervisor"][0]
    assert not Enterprise.objects.filter(name="越界公司").exists()


def test_it_refuses_a_worker_a_staff_role(tree, owner, worker):
    with pytest.raises(ValidationError):
        services.role_assign(actor=owner, user=worker, organization=tree["pudong"], role="clerk")


def test_it_sums_coverage_over_subtrees(tree, enterprises):
    services.coverage_refresh()
    city = CoverageSummary.objects.get(organization=tree["city"])
    pudong = CoverageSummary.objects.get(organization=tree["pudong"])
    assert (city.enterprises, city.unionized_enterprises) == (2, 1)
    assert (pudong.enterprises, pudong.unionized_enterprises, pudong.formation_rate) == (1, 1, 1.0)
    assert city.grassroots_unions == 2 and city.descendants == 6


def test_it_refuses_a_duplicate_union_credit_code_naming_the_field(tree, clerk):
    code = make_credit_code(prefix="81")
    services.organization_create(
        actor=clerk, parent=tree["lujiazui"], name="甲公司工会", kind=OrgKind.GRASSROOTS, credit_code=code
    )
    with pytest.raises(ValidationError) as exc:
        services.organization_create(
            actor=clerk, parent=tree["lujiazui"], name="乙公司工会", kind=OrgKind.GRASSROOTS, credit_code=code
        )
    assert "重复" in exc.value.message_dict["credit_code"][0]
