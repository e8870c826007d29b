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


@pytest.fixture
def member_worker(tree, owner):
    """A worker account that is an active member of the 浦东 union (through an approved application)."""
    from members import services
    from members.models import JoinApplication, Member
    from tests.members.pages_helpers import submit_application

    code = services.join_code_create(actor=owner, union=tree["pd_union"])
    app = submit_application(code, name="王小困", mobile="13700005678", password="Rider-pass-2024")
    services.join_application_approve(actor=owner, application=JoinApplication.objects.get(pk=app.pk))
    return Member.objects.select_related("user").get(mobile_masked="137****5678").user
