"""Fixtures of the member tests: the page tests' people and codes (most other member tests
define their own in-module), and the real imports worker of the two worker tests."""

import uuid

import pytest

pytest.register_assert_rewrite("tests.members.pages_helpers")

from members import services  # noqa: E402
from members.models import JoinApplication  # noqa: E402
from tests.celery_workers import Workers, broker_url  # noqa: E402
from tests.factories import UserFactory, make_member  # noqa: E402

from .pages_helpers import HP_ID, HP_NAME, PD_ID, PD_MOBILE, PD_NAME, submit_application  # noqa: E402


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A streamed export read in English leaves English active in the thread (the locale
    middleware's answer is consumed after it ran); later tests of this worker expect Chinese."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def pd_member(tree, owner):
    return make_member(tree["pd_union"], actor=owner, name=PD_NAME, id_number=PD_ID, mobile=PD_MOBILE).member


@pytest.fixture
def hp_member(tree, owner):
    return make_member(tree["hp_union"], actor=owner, name=HP_NAME, id_number=HP_ID).member


@pytest.fixture
def pd_auditor(tree):
    """A read-only role in 浦东: sees members, may not act on them (403)."""
    from organizations.models import RoleAssignment

    user = UserFactory(username="pd_auditor")
    RoleAssignment.objects.create(user=user, organization=tree["pudong"], role="auditor")
    return user


@pytest.fixture
def pd_code(tree, owner):
    return services.join_code_create(actor=owner, union=tree["pd_union"], label="浦东科技一楼大厅")


@pytest.fixture
def hp_code(tree, owner):
    return services.join_code_create(actor=owner, union=tree["hp_union"], label="黄浦商贸门口")


@pytest.fixture
def pd_application(pd_code) -> JoinApplication:
    return submit_application(pd_code, name="浦东申请人")


@pytest.fixture
def member_worker(tree, owner):
    """A worker account that is an active member of the 浦东 union (through an approved application)."""
    from members.models import JoinApplication as JA

    code = services.join_code_create(actor=owner, union=tree["pd_union"])
    app = submit_application(code, name="王小骑", mobile="13700001234", password="Rider-pass-2024")
    services.join_application_approve(actor=owner, application=JA.objects.get(pk=app.pk))
    from members.models import Member

    return Member.objects.select_related("user").get(mobile_masked="137****1234").user


@pytest.fixture
def prefork_worker(postgres_only, transactional_db, tmp_path, settings):
    """One imports worker with the production pool (prefork); yields (workers, its process).

    It starts up while the test prepares its file: call `workers.wait_ready(worker)` before sending.
    """
    broker_url()  # skips without Redis, before anything is changed
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = {
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "MEMBER_IMPORT_WORKERS": "2",
        "MEMBER_IMPORT_POOL_MIN_ROWS": "1",
        "LOG_LEVEL": "INFO",
    }
    with Workers(tmp_path, f"imports-{uuid.uuid4().hex[:8]}", pool="prefork", concurrency=1, env=env) as workers:
        yield workers, workers.start("importer", ready=False)
