"""Fixtures of the service-projects tests: a city officer, district officers, members and a
project taken to the stage a test needs through the services (never by writing rows)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from organizations.models import RoleAssignment, User
from projects import services
from projects.models import ReviewCriterion
from tests.factories import UserFactory, make_member

# Relative to today: sign-ups need sessions in the future, whatever day the suite runs.
START = timezone.localdate() - dt.timedelta(days=30)
END = timezone.localdate() + dt.timedelta(days=120)


def staff(username, org, role="project_officer"):
    user = UserFactory(username=username)
    RoleAssignment.objects.create(user=user, organization=org, role=role)
    return user


def worker_member(union, owner, username, name="张三"):
    """An active member of `union` with a worker account bound to them."""
    user = UserFactory(username=username, kind=User.Kind.WORKER)
    member = make_member(union, actor=owner, name=name).member
    member.user = user
    member.save(update_fields=["user"])
    return user, member


@pytest.fixture
def city_officer(tree):
    return staff("city_po", tree["city"])


@pytest.fixture
def reviewer(tree):
    return staff("city_reviewer", tree["city"])


@pytest.fixture
def pd_officer(tree):
    return staff("pd_po", tree["pudong"])


@pytest.fixture
def hp_officer(tree):
    return staff("hp_po", tree["huangpu"])


@pytest.fixture
def criteria(db):
    return [
        ReviewCriterion.objects.create(name="需求契合度", weight=40),
        ReviewCriterion.objects.create(name="方案可行性", weight=35),
        ReviewCriterion.objects.create(name="预算合理性", weight=25),
    ]


@pytest.fixture
def pd_worker(tree, owner):
    return worker_member(tree["pd_union"], owner, "13900000001", "李四")


def make_project(actor, union, implementers, **overrides):
    fields = dict(
        title="新就业形态劳动者健康体检",
        category="health",
        year=START.year,
        start_date=START,
        end_date=END,
        implementers=implementers,
        goals=[{"name": "服务人数", "target": 100, "metric": "beneficiaries"}],
        budget=[{"name": "体检费", "planned": "10000.00"}, {"name": "宣传费", "planned": "500"}],
    )
    fields.update(overrides)
    return services.project_create(actor=actor, union=union, **fields)


def to_library(project, *, designer, reviewer, criteria):
    services.project_submit(actor=designer, project=project)
    scores = {str(c.pk): 90 for c in criteria}
    services.review_submit(actor=reviewer, project=project, scores=scores, decision="approve", opinion="同意")
    project.refresh_from_db()
    return project


@pytest.fixture
def implementing(tree, city_officer, reviewer, criteria):
    """A city project delivered by 浦东, in implementation."""
    project = make_project(city_officer, tree["city"], [tree["pudong"]])
    to_library(project, designer=city_officer, reviewer=reviewer, criteria=criteria)
    return services.project_start(actor=city_officer, project=project)


@pytest.fixture
def session_factory(tree, city_officer, implementing):
    def make(capacity=10, union=None, **kw):
        return services.session_create(
            actor=city_officer,
            project=implementing,
            union=union or tree["pudong"],
            title=kw.get("title", "第一场体检"),
            starts_at=kw.get("starts_at", timezone.now() + dt.timedelta(days=7)),
            place="浦东职工服务中心",
            capacity=capacity,
        )

    return make


__all__ = ["Decimal", "START", "END", "staff", "worker_member", "make_project", "to_library"]
