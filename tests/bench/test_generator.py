"""Smoke test of the synthetic-city generator and one benchmark, on a tiny city in the test database.

The generator's PostgreSQL-only parts (COPY FREEZE, dropping and re-creating indexes, the
worker processes) run in `make bench`; here the same rows go in through the same code
path (COPY on PostgreSQL, row inserts on SQLite) so the city is checked on both.
"""

import datetime as dt

import pytest
from django.conf import settings

from bench import measures
from bench.city import CityPlan
from bench.generate import check_columns, check_database, load_city, member_chunk
from core import crypto
from members.models import Member, MemberNumberCounter, Membership
from members.services import member_register
from members.validators import parse_id_number, parse_mobile
from organizations.demo import DISTRICTS
from organizations.models import Organization, OrgKind
from organizations.services import coverage_refresh
from tests.factories import UserFactory, make_id_number, make_mobile

AS_OF = dt.date(2025, 6, 30)
MEMBERS = 400


def _keys():
    return settings.FIELD_ENCRYPTION_KEYS[0], settings.BLIND_INDEX_KEY


@pytest.fixture
def city(db):
    plan = CityPlan(members=MEMBERS, seed=3)
    plan.check()
    result = load_city(plan, as_of=AS_OF, keys=_keys(), chunk=150, log=lambda *a: None)
    coverage_refresh()
    return plan, result


def test_it_knows_every_column_of_the_tables_it_loads():
    check_columns()  # raises SystemExit naming the columns if a model changed


def test_it_builds_a_tree_treebeard_finds_no_problem_in(city):
    plan, result = city
    assert result["members"] == MEMBERS
    assert Organization.objects.count() == len(plan.orgs)
    assert Organization.objects.find_problems() == ([], [], [], [], [])
    assert check_database(sample=50) == dict.fromkeys(check_database(sample=0), 0)


def test_it_puts_the_sixteen_real_districts_under_the_city(city):
    root = Organization.objects.get_root_nodes().get()
    districts = Organization.objects.get_children(root).filter(kind=OrgKind.DISTRICT)
    assert sorted(districts.values_list("region_code", flat=True)) == sorted(d.code for d in DISTRICTS)
    assert Organization.objects.filter(kind=OrgKind.GRASSROOTS).count() >= len(DISTRICTS)


def test_members_are_valid_encrypted_and_blind_indexed_like_the_app_does(city):
    for m in Member.objects.order_by("?")[:40]:
        idn, mob = crypto.decrypt(m.id_number_enc), crypto.decrypt(m.mobile_enc)
        assert parse_id_number(idn).number == idn  # 18 characters with a valid check character
        assert parse_mobile(mob) == mob
        assert m.id_number_hash == crypto.id_hash(idn) and m.mobile_hash == crypto.mobile_hash(mob)
        assert m.id_masked == crypto.mask_id(idn) and m.mobile_masked == crypto.mask_mobile(mob)
        assert m.birth_date == parse_id_number(idn).birth_date and m.sex == parse_id_number(idn).sex
        current = m.current_membership
        assert current.member_id == m.pk and current.org_path == m.org_path == current.union.path


def test_member_numbers_are_unique_and_the_counters_continue_after_them(city):
    numbers = list(Membership.objects.values_list("member_number", flat=True))
    assert len(numbers) == len(set(numbers)) > MEMBERS  # some members transferred in: two memberships
    assert Membership.objects.filter(status="transferred_out").exists()
    counter = MemberNumberCounter.objects.select_related("union").order_by("-next_seq").first()
    used = Membership.objects.filter(union=counter.union).values_list("member_number", flat=True)
    assert max(int(n[-6:]) for n in used) == counter.next_seq - 1
    admin = UserFactory(username="bench-test-admin", is_superuser=True)
    ms = member_register(
        actor=admin, union=counter.union, name="新会员", id_number=make_id_number(), mobile=make_mobile()
    )
    assert ms.member_number == f"{counter.prefix}{counter.next_seq:06d}"


def test_the_coverage_summary_agrees_with_a_live_count(city):
    admin = UserFactory(username="bench-test-admin", is_superuser=True)
    root = Organization.objects.get_root_nodes().get()
    summary, live = measures.dashboard_summary(admin, root), measures.dashboard_live(admin, root)
    assert summary["members"] == live["members"] == Membership.objects.filter(status="active").count()
    assert summary["enterprises"] == live["enterprises"] > 0


def test_the_same_seed_gives_the_same_city_and_people():
    one, two = CityPlan(members=MEMBERS, seed=3), CityPlan(members=MEMBERS, seed=3)
    assert [(o.path, o.name, o.members) for o in one.orgs] == [(o.path, o.name, o.members) for o in two.orgs]
    other = CityPlan(members=MEMBERS, seed=4)
    assert [o.name for o in other.orgs] != [o.name for o in one.orgs]
    number, first, holders = next(one.chunks(150))
    task = (3, number, first, MEMBERS, AS_OF, _keys(), holders)
    (members_a, memberships_a, seq_a, n_a), (members_b, memberships_b, seq_b, n_b) = (
        member_chunk(task),
        member_chunk(task),
    )
    assert memberships_a == memberships_b and seq_a == seq_b and n_a == n_b
    tokens = {3, 8}  # id_number_enc, mobile_enc: Fernet tokens have random IVs; every other column is equal

    def columns(text):
        return [[v for i, v in enumerate(line.split("\t")) if i not in tokens] for line in text.decode().splitlines()]

    assert columns(members_a) == columns(members_b)


def test_a_benchmark_runs_on_the_tiny_city(city):
    admin = UserFactory(username="bench-test-admin", is_superuser=True)
    root = Organization.objects.get_root_nodes().get()
    res = measures.measure_lookups(admin, root, n=10)
    assert res["lookup_samples"] == 10
    assert 0 < res["lookup_id_p50_ms"] <= res["lookup_id_p95_ms"]
    assert 0 < res["lookup_mobile_p50_ms"] <= res["lookup_mobile_p95_ms"]
