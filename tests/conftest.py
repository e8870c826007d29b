"""Shared fixtures: two sibling districts, and the five actors every endpoint is tested with.

owner       – city federation admin (reach: everything under the city)
clerk       – clerk of 浦东新区 (in scope for `pudong` objects)
outsider    – clerk of 黄浦区 (a sibling subtree: must never see `pudong` objects)
worker      – a worker account (no staff reach)
anonymous   – not signed in
"""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from organizations.models import OrgKind, RoleAssignment, User
from tests.factories import EnterpriseFactory, UserFactory, add_org
from tests.snapshot import install_fast_flush


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL: commits that do not wait for the disk, flushes by DELETE.

    What a commit makes visible, and when, is unchanged (only a server crash could lose
    the last commits of a throw-away test database), so transactional tests no longer
    wait for the WAL flush at each commit. The flush after each transactional test
    empties the tables by DELETE rather than TRUNCATE (tests/snapshot.py): the same empty
    tables in milliseconds rather than seconds.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].startswith("django.db.backends.postgresql"):
        options = db.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
        install_fast_flush()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """argon2 costs ~1 s per user created; tests that check hashing read settings.py itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Text messages go to core.sms.outbox (a list of SmsMessage), emptied for each test."""
    from core import sms

    settings.SMS_BACKEND = "core.sms.TestBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture(autouse=True, scope="session")
def _private_files_in_a_temporary_folder(tmp_path_factory):
    """Attachments written by any test land in a throw-away folder, never in var/private."""
    from django.test import override_settings

    with override_settings(PRIVATE_FILES_ROOT=tmp_path_factory.mktemp("private-files")):
        yield


def make_tree():
    """Two sibling districts under the city, a street and a grassroots union in each."""
    city = add_org(None, name="上海市总工会", short_name="市总工会", kind=OrgKind.CITY, region_code="310000")
    pudong = add_org(city, name="浦东新区总工会", kind=OrgKind.DISTRICT, region_code="310115")
    huangpu = add_org(city, name="黄浦区总工会", kind=OrgKind.DISTRICT, region_code="310101")
    lujiazui = add_org(pudong, name="陆家嘴街道总工会", kind=OrgKind.STREET)
    nanjing = add_org(huangpu, name="南京东路街道总工会", kind=OrgKind.STREET)
    pd_union = add_org(lujiazui, name="浦东测试科技有限公司工会", kind=OrgKind.GRASSROOTS)
    hp_union = add_org(nanjing, name="黄浦测试商贸有限公司工会", kind=OrgKind.GRASSROOTS)
    return {
        "city": city,
        "pudong": pudong,
        "huangpu": huangpu,
        "lujiazui": lujiazui,
        "nanjing": nanjing,
        "pd_union": pd_union,
        "hp_union": hp_union,
    }


@pytest.fixture
def tree(db):
    return make_tree()


def _staff(username, org, role):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def owner(tree):
    return _staff("owner", tree["city"], "federation_admin")


@pytest.fixture
def clerk(tree):
    return _staff("pd_clerk", tree["pudong"], "clerk")


@pytest.fixture
def outsider(tree):
    return _staff("hp_clerk", tree["huangpu"], "clerk")


@pytest.fixture
def worker(db):
    return UserFactory(username="13800000000", kind=User.Kind.WORKER)


@pytest.fixture
def enterprises(tree):
    return {
        "pudong": EnterpriseFactory(name="浦东测试科技有限公司", supervisor=tree["lujiazui"], union=tree["pd_union"]),
        "huangpu": EnterpriseFactory(name="黄浦测试商贸有限公司", supervisor=tree["nanjing"], union=None),
    }


@pytest.fixture
def api():
    return APIClient()


def client_for(user):
    """An API client signed in as `user` (None: anonymous)."""
    c = APIClient()
    if user is not None:
        c.force_authenticate(user=user)
    return c


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks / concurrency): run with DATABASE_URL=postgres://…")
