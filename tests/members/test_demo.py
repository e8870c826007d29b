import random

from django.contrib.auth import authenticate

from members.demo import DEMO_PASSWORD, seed_members
from members.models import JoinApplication, Member
from tests.factories import UserFactory


def test_seed_members_is_idempotent_and_makes_the_worker_login(tree):
    UserFactory(username="admin", is_superuser=True)
    first = seed_members(rng=random.Random(1))
    count = Member.objects.count()
    assert first["members"] > 1000 and count == first["members"] + 1
    assert JoinApplication.objects.filter(status="pending").count() == first["applications"] > 0
    again = seed_members(rng=random.Random(2))
    assert again == {"members": 0, "applications": 0} and Member.objects.count() == count
    worker = authenticate(username="worker", password=DEMO_PASSWORD)
    assert worker is not None and worker.kind == "worker"
    member = Member.objects.get(user=worker)
    assert member.current_membership.status == "active" and member.org_path.startswith(tree["pudong"].path)
    assert authenticate(username="13900000001", password=DEMO_PASSWORD) == worker
