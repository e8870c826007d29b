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
