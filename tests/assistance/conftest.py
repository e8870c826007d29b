"""Fixtures of the aid tests: officers at each level, the 2026 standard, a funded budget."""

import pytest

from organizations.models import RoleAssignment
from tests.factories import UserFactory

from .helpers import make_budget, publish_standard


def _officer(username, org):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role="aid_officer")
    return user


@pytest.fixture
def standard(owner):
    return publish_standard(owner)


@pytest.fixture
def pd_aid(tree):
    return _officer("pd_aid", tree["pudong"])


@pytest.fixture
def street_aid(tree):
    return _officer("ljz_aid", tree["lujiazui"])


@pytest.fixture
def city_aid(tree):
    return _officer("city_aid", tree["city"])


@pytest.fixture
def hp_aid(tree):
    return _officer("hp_aid", tree["huangpu"])


@pytest.fixture
def budget(tree, owner):
    return make_budget(owner, tree["pudong"])
