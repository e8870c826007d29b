"""The mediation rows the bench adds (bench/gen_disputes.py) on a tiny city, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from django.conf import settings

from bench.city import CityPlan
from bench.gen_disputes import generate_disputes
from bench.generate import load_city
from core import crypto
from disputes import clock, selectors, services
from disputes.models import OPEN_STATES, Case, CaseParty, ClockEvent, MediationBody, Mediator
from organizations.models import OrgKind, RoleAssignment
from tests.factories import UserFactory

AS_OF = dt.date(2025, 6, 30)
CASES = 400


@pytest.fixture
def disputes_city(db):
    plan = CityPlan(members=400, seed=3)
    load_city(plan, as_of=AS_OF, keys=(settings.FIELD_ENCRYPTION_KEYS[0], settings.BLIND_INDEX_KEY), chunk=150)
    out = generate_disputes(members=400, as_of=AS_OF, cases=CASES, log=lambda *a: None)
    return out


def test_it_adds_bodies_mediators_and_cases_once(disputes_city):
    assert disputes_city["cases"] == Case.objects.count() == CASES
    assert MediationBody.objects.filter(kind="district").count() == 16
    assert Mediator.objects.filter(is_head=True).count() == MediationBody.objects.count()
    assert RoleAssignment.objects.filter(role="mediator").count() == Mediator.objects.count()
    assert generate_disputes(members=400, as_of=AS_OF, cases=CASES, log=lambda *a: None) == {}
    assert Case.objects.count() == CASES
    # Every state of the workflow the lists and the overview show is there.
    assert {"visited", "closed", "declined", "withdrawn"} <= set(disputes_city["by_status"])


def test_cases_are_consistent_with_the_rules_of_the_app(disputes_city):
    events: dict[int, list] = {}
    for e in ClockEvent.objects.order_by("on", "id"):
        events.setdefault(e.case_id, []).append(clock.Event(e.kind, e.on, e.days))
    for seq in events.values():
        for i, event in enumerate(seq):
            clock.check_sequence(seq[:i], event)  # raises on a sequence the services would refuse
    for case in Case.objects.all():
        assert case.body.org_path == case.org_path
        assert case.is_collective == (case.workers_involved >= 10)
        assert (case.mediator is None) or case.mediator.body_id == case.body_id
        assert crypto.decrypt(case.facts_enc)
        assert case.claims.exists() and case.parties.filter(role="applicant").exists()
        if case.is_collective:
            assert case.escalated_to.kind == OrgKind.DISTRICT
        if case.status in ("closed", "visited"):
            assert case.closed_on is not None
        if case.track == Case.Track.MEDIATION and case.status in OPEN_STATES and case.status != "received":
            assert case.pk in events
    for party in CaseParty.objects.select_related("member")[:50]:
        assert party.id_number_hash == party.member.id_number_hash
        assert crypto.decrypt(party.id_number_enc) == crypto.decrypt(party.member.id_number_enc)


def test_the_overview_from_the_summaries_agrees_with_the_cases(disputes_city):
    user = UserFactory()
    district = MediationBody.objects.filter(kind="district").order_by("pk").first().organization
    RoleAssignment.objects.create(user=user, organization=district, role="federation_admin")
    figures = selectors.district_overview(user)
    cases = list(Case.objects.filter(org_path__startswith=district.path))
    assert cases, "the sample city puts cases in the first district"
    open_ = [c for c in cases if c.status in OPEN_STATES]
    closed_ok = [c for c in cases if c.status in ("closed", "visited") and not c.failure_reason]
    agreed = sum(c.status in ("agreed", "confirming", "fulfilled") for c in cases) + len(closed_ok)
    failed = sum(c.status == "failed" or (c.status in ("closed", "visited") and bool(c.failure_reason)) for c in cases)
    closed = [c for c in cases if c.closed_on]
    overdue = 0
    for c in open_:
        if c.track == Case.Track.MEDIATION:
            overdue += services.case_clock(c, today=AS_OF).overdue
    assert figures["total"] == len(cases)
    assert figures["open"] == len(open_)
    assert figures["collective"] == sum(c.is_collective for c in open_)
    assert figures["agreed"] == agreed and figures["failed"] == failed
    assert figures["overdue"] == overdue
    if closed:
        days = sum((c.closed_on - c.received_on).days for c in closed) / len(closed)
        assert figures["average_days"] == round(days, 1)
    assert sum(figures["by_kind"].values()) == len(cases)


def test_the_mediation_benchmark_runs_on_the_tiny_city(disputes_city):
    from bench import disputes_bench

    out = disputes_bench.measure(today=AS_OF, runs=2)
    assert out["disputes_cases"] == CASES
    for name in ("my_cases", "body_queue", "district_overview"):
        assert out[f"disputes_{name}_p95_ms"] >= 0
    assert out["disputes_risk_enterprises"] > 0
