from core.scoping import has_capability, minimal_paths, reach_paths
from organizations.models import Enterprise, Organization


def test_it_keeps_only_the_outermost_paths():
    assert minimal_paths(["0001", "00010002", "0002", "00020003000A"]) == ("0001", "0002")


def test_it_limits_a_district_clerk_to_their_district(tree, clerk):
    names = set(Organization.objects.for_user(clerk).values_list("name", flat=True))
    assert "浦东新区总工会" in names and "陆家嘴街道总工会" in names
    assert "黄浦区总工会" not in names and "上海市总工会" not in names


def test_it_hides_other_districts_enterprises(enterprises, clerk, outsider):
    assert list(Enterprise.objects.for_user(clerk)) == [enterprises["pudong"]]
    assert list(Enterprise.objects.for_user(outsider)) == [enterprises["huangpu"]]


def test_it_gives_workers_and_anonymous_nothing(tree, worker):
    from django.contrib.auth.models import AnonymousUser

    assert reach_paths(worker) == ()
    assert not Organization.objects.for_user(worker).exists()
    assert not Organization.objects.for_user(AnonymousUser()).exists()


def test_it_unions_several_assignments(tree, clerk):
    from core.scoping import forget_reach
    from organizations.models import RoleAssignment

    RoleAssignment.objects.create(user=clerk, organization=tree["nanjing"], role="auditor")
    forget_reach(clerk)
    names = set(Organization.objects.for_user(clerk).values_list("name", flat=True))
    assert {"浦东新区总工会", "南京东路街道总工会", "黄浦测试商贸有限公司工会"} <= names
    assert "黄浦区总工会" not in names
    assert has_capability(clerk, "audit.view", tree["hp_union"].path)
    assert not has_capability(clerk, "org.manage", tree["hp_union"].path)


# --- capability-aware reach -----------------------------------------------------------


def _mixed(tree, clerk):
    """The 浦东 clerk who is also an auditor of 黄浦: view in both, audit.view in 黄浦 only."""
    from core.scoping import forget_reach
    from organizations.models import RoleAssignment

    RoleAssignment.objects.create(user=clerk, organization=tree["huangpu"], role="auditor")
    forget_reach(clerk)
    return clerk


def test_it_gives_each_capability_the_subtrees_of_the_roles_that_grant_it(tree, clerk):
    user = _mixed(tree, clerk)
    assert reach_paths(user) == (tree["pudong"].path, tree["huangpu"].path)
    assert reach_paths(user, "audit.view") == (tree["huangpu"].path,)
    assert reach_paths(user, "member.manage") == (tree["pudong"].path,)
    assert reach_paths(user, "personal_data.full") == ()


def test_it_reads_only_the_capability_reach_through_for_user(tree, clerk):
    user = _mixed(tree, clerk)
    audited = set(Organization.objects.for_user(user, capability="audit.view").values_list("name", flat=True))
    assert "黄浦区总工会" in audited and "南京东路街道总工会" in audited
    assert "浦东新区总工会" not in audited and "陆家嘴街道总工会" not in audited
    managed = set(Organization.objects.for_user(user, "org.manage").values_list("name", flat=True))
    assert "浦东新区总工会" in managed and "黄浦区总工会" not in managed


def test_it_agrees_with_has_capability_at_every_node(tree, clerk):
    from core.roles import ALL_CAPABILITIES
    from core.scoping import path_in_reach

    user = _mixed(tree, clerk)
    for org in tree.values():
        for capability in ALL_CAPABILITIES:
            in_reach = Organization.objects.for_user(user, capability).filter(pk=org.pk).exists()
            assert in_reach == has_capability(user, capability, org.path) == path_in_reach(user, org.path, capability)


def test_it_refuses_an_unknown_capability(tree, clerk):
    import pytest

    with pytest.raises(ValueError):
        reach_paths(clerk, "audit.veiw")


def test_it_computes_each_capability_reach_once_per_request(tree, clerk, django_assert_num_queries):
    user = _mixed(tree, clerk)
    with django_assert_num_queries(1):  # the assignments, once, for every capability
        for _ in range(3):
            reach_paths(user)
            reach_paths(user, "audit.view")
            reach_paths(user, "report.view")


def test_it_gives_superusers_everything_and_workers_nothing_for_any_capability(tree, worker):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_superuser=True)
    assert reach_paths(admin, "audit.view") == ("",)
    assert reach_paths(worker, "audit.view") == ()
