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
    assert again == {"members": 0, "applications": 0, "transfers": 0} and Member.objects.count() == count
    worker = authenticate(username="worker", password=DEMO_PASSWORD)
    assert worker is not None and worker.kind == "worker"
    member = Member.objects.get(user=worker)
    assert member.current_membership.status == "active" and member.org_path.startswith(tree["pudong"].path)
    assert authenticate(username="13900000001", password=DEMO_PASSWORD) == worker


def test_seed_members_makes_valid_open_transfers_through_the_services(tree):
    """The demo's transfers follow the transfer table: one awaiting the worker's consent."""
    from core.selectors import transition_history
    from members.models import Transfer
    from organizations.models import RoleAssignment

    UserFactory(username="admin", is_superuser=True)
    RoleAssignment.objects.create(user=UserFactory(username="pudong"), organization=tree["pudong"], role="clerk")
    RoleAssignment.objects.create(user=UserFactory(username="huangpu"), organization=tree["huangpu"], role="clerk")
    made = seed_members(rng=random.Random(1))["transfers"]
    assert made == 2
    asked = Transfer.objects.get(member__user__username="worker")
    assert (asked.requested_side, asked.status) == ("to", "awaiting")
    sent = Transfer.objects.exclude(pk=asked.pk).get()
    assert (sent.requested_side, sent.status) == ("from", "requested")
    assert all(len(transition_history(t)) == 1 for t in (asked, sent))


def test_seed_members_spreads_join_dates_and_files_applications_where_the_logins_see_them(tree):
    """Issue 15, item 14: no roll that all joined today, no queue only the city can see."""
    import datetime as dt

    from members.models import Membership
    from members.selectors import join_applications_for_user
    from organizations.models import RoleAssignment

    UserFactory(username="admin", is_superuser=True)
    logins = {"street": tree["lujiazui"], "pudong": tree["pudong"], "huangpu": tree["huangpu"]}
    users = {}
    for name, org in logins.items():
        users[name] = UserFactory(username=name)
        RoleAssignment.objects.create(user=users[name], organization=org, role="clerk")
    seed_members(rng=random.Random(1))
    joined = list(Membership.objects.values_list("joined_on", flat=True))
    assert len({d.year for d in joined}) >= 10 and max(joined) < dt.date.today()
    for name, user in users.items():
        assert join_applications_for_user(user).filter(status="pending").exists(), name
