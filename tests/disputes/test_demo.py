"""The demo seeds cases in every state, some overdue, a collective and a court-delegated one; twice is once."""

import datetime as dt
import random

import pytest

from disputes import selectors
from disputes.demo import seed_disputes
from disputes.models import Case
from organizations.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_covers_every_state_and_is_idempotent(tree, worker, freeze_today):
    UserFactory(username="admin", is_superuser=True)
    worker.username = "worker"
    worker.save()
    today = dt.date(2026, 11, 10)
    first = seed_disputes(rng=random.Random(1), today=today)["dispute_cases"]
    assert first >= 18
    assert seed_disputes(rng=random.Random(1), today=today) == {"dispute_cases": 0}
    assert set(Case.objects.values_list("status", flat=True)) == set(Case.Status.values)
    assert Case.objects.filter(is_collective=True).exists()
    assert Case.objects.filter(channel="court_delegated").exclude(court_reference="").exists()
    assert Case.objects.filter(track="legal_aid").exists()
    mediator = User.objects.get(username="mediator")
    mine = list(selectors.my_cases(mediator))
    clocks = selectors.clocks_for(mine, today=today)
    assert any(c.overdue for c in clocks.values() if c)
    assert any(c.suspended for c in clocks.values() if c)
    assert Case.objects.filter(applicant_user=worker).exists()
