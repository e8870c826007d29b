"""The hardship-aid rows of the synthetic city (bench/gen_aid.py) on a small city in the test
database: every state, households encrypted with the generator's keys, budgets equal to
their ledger, the approval queue filled, and a second run that adds nothing."""

import datetime as dt

import pytest
from django.conf import settings

from assistance import selectors
from assistance.models import Budget, FileStatus, Grant, HardshipFile, HouseholdMember
from bench import gen_aid
from bench.city import CityPlan
from bench.generate import load_city
from core import crypto
from core.models import ApprovalRun
from organizations.models import Organization, OrgKind, RoleAssignment
from organizations.services import coverage_refresh
from tests.factories import UserFactory

AS_OF = dt.date(2026, 6, 30)
MEMBERS = 6000


@pytest.fixture
def city(db):
    keys = settings.FIELD_ENCRYPTION_KEYS[0], settings.BLIND_INDEX_KEY
    plan = CityPlan(members=MEMBERS, seed=3)
    load_city(plan, as_of=AS_OF, keys=keys, chunk=2000, log=lambda *a: None)
    coverage_refresh()
    return gen_aid.ensure(members=MEMBERS, seed=3, as_of=AS_OF, keys=keys, log=lambda *a: None)


def test_files_in_proportion_and_a_second_run_adds_nothing(city):
    files = HardshipFile.objects.count()
    assert city["aid_generated"] and files == city["aid_files"]
    assert MEMBERS // 200 * 0.9 <= files <= MEMBERS // 200
    again = gen_aid.ensure(members=MEMBERS, seed=3, as_of=AS_OF, keys=(None, None), log=lambda *a: None)
    assert again == {"aid_files": files, "aid_generated": False}
    assert HardshipFile.objects.count() == files


def test_households_are_encrypted_and_the_worker_is_blind_indexed(city):
    for row in HouseholdMember.objects.select_related("file__member")[:40]:
        assert float(crypto.decrypt(row.income_enc)) >= 0
        assert bool(row.health_enc) == row.has_health_issue
        if row.relation == "self":
            assert row.id_hash == row.file.member.id_number_hash
    assert not HardshipFile.objects.filter(household__isnull=True).exists()


def test_budgets_equal_their_ledger_and_grants_follow_the_state(city):
    for b in Budget.objects.all():
        assert selectors.budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
        assert b.left >= 0
    assert not Grant.objects.filter(file__status__in=("applied", "notice"), is_emergency=False).exists()
    assert set(Grant.objects.filter(file__status="approving").values_list("status", flat=True)) <= {"proposed"}
    approving = HardshipFile.objects.filter(status=FileStatus.APPROVING).count()
    assert ApprovalRun.objects.filter(status="running").count() == approving


def test_the_district_aid_officer_sees_the_queue(city):
    district = Organization.objects.filter(kind=OrgKind.DISTRICT).order_by("path").first()
    officer = UserFactory(username="gen-aid-officer")
    RoleAssignment.objects.create(user=officer, organization=district, role="aid_officer")
    expected = HardshipFile.objects.filter(status=FileStatus.APPROVING, org_path__startswith=district.path).count()
    assert selectors.approval_queue(officer).count() == expected
