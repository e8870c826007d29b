"""The demo city: idempotent, valid row by row, with logins that reach the right subtrees."""

from decimal import Decimal

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings

from activity.models import AuditEvent
from members.models import JoinApplication, Member, Membership, Transfer
from organizations.demo import DEMO_PASSWORD
from organizations.models import (
    ALLOWED_CHILD_KINDS,
    ROOT_KINDS,
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from organizations.services import SUPERVISOR_KINDS
from organizations.validators import validate_credit_code

DISTRICT_CODES = {
    "黄浦区总工会": "310101",
    "徐汇区总工会": "310104",
    "长宁区总工会": "310105",
    "静安区总工会": "310106",
    "普陀区总工会": "310107",
    "虹口区总工会": "310109",
    "杨浦区总工会": "310110",
    "闵行区总工会": "310112",
    "宝山区总工会": "310113",
    "嘉定区总工会": "310114",
    "浦东新区总工会": "310115",
    "金山区总工会": "310116",
    "松江区总工会": "310117",
    "青浦区总工会": "310118",
    "奉贤区总工会": "310120",
    "崇明区总工会": "310151",
}
MODELS = (
    Organization,
    Enterprise,
    Officer,
    ServiceStation,
    User,
    RoleAssignment,
    CoverageSummary,
    AuditEvent,
    Member,
    Membership,
    JoinApplication,
    Transfer,
)


def seed(**options):
    call_command("seed_demo", verbosity=0, **options)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def org(name):
    return Organization.objects.get(name=name)


@pytest.fixture(scope="module")
def _seeded(django_db_setup, django_db_blocker):
    """Seed once for the module inside a transaction that is rolled back at its end.

    Each test still runs in its own savepoint (the `db` fixture), so tests that re-seed
    or change rows do not leak into the next one, and nothing leaks into other modules.
    """
    # The same fast hasher conftest gives every test, or the demo passwords would not verify.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with fast, django_db_blocker.unblock(), transaction.atomic():
        seed()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def city(_seeded, db):
    return Organization.objects.get(depth=1, region_code="310000")


def test_it_does_not_duplicate_anything_when_run_again(city):
    first = counts()
    seed()
    assert counts() == first
    assert Organization.objects.filter(kind=OrgKind.DISTRICT).count() == 16
    assert AuditEvent.objects.filter(action="demo.seeded").count() == 1


def test_it_builds_the_sixteen_districts_with_their_real_codes(city):
    districts = dict(Organization.objects.filter(kind=OrgKind.DISTRICT).values_list("name", "region_code"))
    assert districts == DISTRICT_CODES
    assert city.name == "上海市总工会" and city.kind == OrgKind.CITY
    assert all(d.path[:4] == city.path and d.depth == 2 for d in Organization.objects.filter(kind=OrgKind.DISTRICT))
    for district in Organization.objects.filter(kind=OrgKind.DISTRICT):
        streets = Organization.objects.get_children(district).filter(kind=OrgKind.STREET)
        assert 3 <= streets.count() <= 10
        assert all(s.name.endswith("总工会") for s in streets)
    pudong_streets = set(Organization.objects.get_children(org("浦东新区总工会")).values_list("name", flat=True))
    assert {"陆家嘴街道总工会", "张江镇总工会", "惠南镇总工会"} <= pudong_streets


def test_it_builds_every_kind_of_union_body(city):
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == set(OrgKind.values)
    assert Organization.objects.get_parent(org("上海张江高科技园区总工会")).name == "浦东新区总工会"
    assert org("浦东新区快递行业工会联合会").kind == OrgKind.INDUSTRY_FEDERATION
    assert Organization.objects.get_parent(org("上海市教育工会")).pk == city.pk
    rider = org("陆家嘴街道外卖骑手工会小组")
    assert rider.kind == OrgKind.UNION_GROUP and Organization.objects.get_parent(rider).kind == OrgKind.STREET
    assert Officer.objects.filter(election=Officer.Election.DIRECT).exists()
    assert set(ServiceStation.objects.values_list("kind", flat=True)) == set(ServiceStation.Kind.values)


def test_it_writes_only_rows_that_pass_validation_and_the_tree_rules(city):
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    kinds_by_path = dict(Organization.objects.values_list("path", "kind"))
    for node in Organization.objects.all():
        node.full_clean()
        if node.depth == 1:
            assert node.kind in ROOT_KINDS
        else:
            parent_kind = kinds_by_path[node.path[: -Organization.steplen]]
            assert node.kind in ALLOWED_CHILD_KINDS[parent_kind], node.name
        if node.credit_code:
            validate_credit_code(node.credit_code)
    for ent in Enterprise.objects.select_related("supervisor", "union"):
        ent.full_clean()
        validate_credit_code(ent.credit_code)
        district_code = ent.credit_code[2:8]
        assert district_code in DISTRICT_CODES.values()
        assert ent.org_path == ent.supervisor.path
        assert ent.supervisor.kind in SUPERVISOR_KINDS
        assert ent.union is None or ent.union.kind == OrgKind.GRASSROOTS
    # Officers and stations: field validators only (their FK and CHECK constraints are the
    # database's own; a full_clean per row would add a query each for nothing).
    for officer in Officer.objects.all():
        officer.clean_fields()
        assert officer.term_end is None or officer.term_end >= officer.term_start
    for station in ServiceStation.objects.all():
        station.clean_fields()
        if station.latitude is not None:
            assert Decimal("30.7") <= station.latitude <= Decimal("31.9")
            assert Decimal("120.9") <= station.longitude <= Decimal("122.0")


def test_it_gives_a_real_citys_share_of_enterprises_a_union_in_their_district(city):
    total = Enterprise.objects.count()
    unionized = Enterprise.objects.filter(union__isnull=False).count()
    assert total >= 300
    assert 0.6 <= unionized / total <= 0.9  # union formation rate (issue 15, item 14)
    codes = Enterprise.objects.values_list("credit_code", flat=True)
    assert len(set(codes)) == total
    for ent in Enterprise.objects.select_related("supervisor", "union")[:200]:
        district_path = ent.supervisor.path[: 2 * Organization.steplen]
        assert Organization.objects.get(path=district_path).region_code == ent.credit_code[2:8]
        if ent.union is not None:
            assert ent.union.path.startswith(district_path)
            assert ent.union.name == f"{ent.name}工会"


def test_it_refreshes_the_coverage_figures(city):
    assert CoverageSummary.objects.count() == Organization.objects.count()
    summary = CoverageSummary.objects.get(organization=city)
    assert summary.enterprises == Enterprise.objects.count()
    assert summary.unionized_enterprises == Enterprise.objects.filter(union__isnull=False).count()


@pytest.mark.parametrize("username", ["admin", "city", "pudong", "huangpu", "street", "mediator"])
def test_it_creates_logins_that_sign_in_with_the_demo_password(city, username):
    request = RequestFactory().post("/accounts/login/")
    user = authenticate(request, username=username, password=DEMO_PASSWORD)
    assert user is not None and user.kind == User.Kind.STAFF
    assert user.display_name and not user.display_name.isascii()


def test_it_gives_each_login_the_right_reach(city):
    pudong, huangpu, lujiazui = org("浦东新区总工会"), org("黄浦区总工会"), org("陆家嘴街道总工会")
    assert User.objects.get(username="admin").is_superuser
    city_user = User.objects.get(username="city")
    assert Organization.objects.for_user(city_user).count() == Organization.objects.count()

    pd_user = User.objects.get(username="pudong")
    visible = Organization.objects.for_user(pd_user)
    assert visible.count() == Organization.objects.get_descendant_count(pudong) + 1
    assert not visible.filter(path__startswith=huangpu.path).exists()
    assert not Enterprise.objects.for_user(pd_user).filter(org_path__startswith=huangpu.path).exists()
    assert Enterprise.objects.for_user(pd_user).exists()

    hp_user = User.objects.get(username="huangpu")
    assert not Organization.objects.for_user(hp_user).filter(path__startswith=pudong.path).exists()
    assert Organization.objects.for_user(hp_user).filter(name="南京东路街道总工会").exists()

    street_user = User.objects.get(username="street")
    names = set(Organization.objects.for_user(street_user).values_list("name", flat=True))
    assert "陆家嘴街道总工会" in names and "浦东新区总工会" not in names
    assert all(
        p.startswith(lujiazui.path) for p in Organization.objects.for_user(street_user).values_list("path", flat=True)
    )


def test_it_keeps_changed_passwords_unless_asked_to_reset_them(city):
    user = User.objects.get(username="pudong")
    user.set_password("another-password-1")
    user.save()
    seed()
    user.refresh_from_db()
    assert not user.check_password(DEMO_PASSWORD)
    seed(reset_passwords=True)
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_it_grows_a_larger_city_that_contains_the_smaller_one(city):
    small_codes = set(Enterprise.objects.values_list("credit_code", flat=True))
    small_orgs = Organization.objects.count()
    seed(scale=2)
    assert small_codes < set(Enterprise.objects.values_list("credit_code", flat=True))
    assert Organization.objects.count() > small_orgs
    assert Organization.objects.filter(kind=OrgKind.DISTRICT).count() == 16
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    grown = counts()
    seed(scale=2)
    assert counts() == grown


def test_it_refuses_an_impossible_scale(city):
    from django.core.management.base import CommandError

    before = counts()
    with pytest.raises(CommandError):
        seed(scale=0)
    assert counts() == before


# --- a believable demo: every login has work, rates of a real city (issue 15, item 14) ----------


@pytest.mark.parametrize("username", ["city", "pudong", "huangpu", "street"])
def test_every_staff_login_has_join_applications_waiting(city, username):
    from members.selectors import join_applications_for_user

    user = User.objects.get(username=username)
    assert join_applications_for_user(user).filter(status=JoinApplication.Status.PENDING).count() >= 3


def test_members_are_seventy_to_ninety_percent_of_the_employees_of_unionised_enterprises(city):
    from django.db.models import Sum

    unionised = Enterprise.objects.filter(union__isnull=False)
    employees = unionised.aggregate(n=Sum("employees"))["n"]
    members = Membership.objects.filter(status="active", union__in=unionised.values("union")).count()
    assert 0.7 <= members / employees <= 0.9
    summary = CoverageSummary.objects.get(organization=city)
    assert summary.members == Membership.objects.filter(status="active").count()
    assert 0.5 <= summary.members / summary.employees <= 0.9  # the home page's membership rate


def test_members_joined_over_many_years(city):
    import datetime as dt

    years = {d.year for d in Membership.objects.values_list("joined_on", flat=True)}
    assert len(years) >= 10 and max(years) <= dt.date.today().year
    assert not Membership.objects.filter(joined_on__gt=dt.date.today()).exists()
    # Not everyone on one day: no single day holds more than 1% of the roll.
    from django.db.models import Count

    busiest = Membership.objects.values("joined_on").annotate(n=Count("id")).order_by("-n").first()["n"]
    assert busiest <= Membership.objects.count() / 100


def test_the_demo_worker_is_a_rider_in_a_pudong_riders_union_group(city):
    worker = Member.objects.select_related("current_membership__union").get(user__username="worker")
    union = worker.current_membership.union
    assert worker.employment_form == "rider"
    assert union.kind == OrgKind.UNION_GROUP and "骑手" in union.name
    assert union.path.startswith(org("浦东新区总工会").path)
    assert "咨询" not in worker.employer_name and worker.employer_name
    assert worker.current_membership.joined_on.year < 2026


def test_a_rerun_is_fast(city):
    import time

    started = time.monotonic()
    seed()
    assert time.monotonic() - started < 15
