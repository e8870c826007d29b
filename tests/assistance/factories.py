"""One object per aid state machine, for the table-driven test of every table (tests/core/test_states.py)."""

from assistance.models import Campaign, Grant, HardshipFile
from organizations.models import RoleAssignment
from tests.factories import UserFactory

from .helpers import make_budget, open_file, publish_standard


def _aid_officer(tree):
    user = UserFactory(username="states_aid")
    RoleAssignment.objects.create(user=user, organization=tree["pudong"], role="aid_officer")
    return user


def _file(tree, owner):
    publish_standard(owner)
    return open_file(_aid_officer(tree), tree["pd_union"])


def _grant(tree, owner):
    file = _file(tree, owner)
    budget = make_budget(owner, tree["pudong"])
    return Grant.objects.create(
        file=file, org_path=file.org_path, kind="living", amount="100", budget=budget, period="2026"
    )


def _campaign(tree, owner):
    budget = make_budget(owner, tree["pudong"])
    return Campaign.objects.create(
        name="送温暖",
        kind="warmth",
        organization=tree["pudong"],
        org_path=tree["pudong"].path,
        budget=budget,
        amount_per_file="100",
        created_by=owner,
    )


FACTORIES = {HardshipFile: _file, Grant: _grant, Campaign: _campaign}
