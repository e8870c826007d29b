"""Factories for tests/core/test_states.py: one object of each projects state machine."""

import datetime as dt

from django.utils import timezone

from organizations.models import User
from projects import services
from projects.models import Demand, Enrolment, Overspend, Project
from tests.factories import UserFactory, make_member


def _project(tree, owner):
    return services.project_create(
        actor=owner,
        union=tree["city"],
        title="表驱动项目",
        category="skills",
        year=2026,
        start_date=timezone.localdate() - dt.timedelta(days=1),
        end_date=timezone.localdate() + dt.timedelta(days=30),
        implementers=[tree["pudong"]],
        goals=[{"name": "人数", "target": 10}],
        budget=[{"name": "费用", "planned": "100"}],
    )


def _demand(tree, owner):
    return services.demand_post(actor=owner, category="daily", description="表驱动需求", union=tree["pd_union"])


def _enrolment(tree, owner):
    project = _project(tree, owner)
    Project.objects.filter(pk=project.pk).update(stage=Project.Stage.IMPLEMENTING)
    session = services.session_create(
        actor=owner,
        project=project,
        union=tree["pudong"],
        title="场次",
        starts_at=timezone.now() + dt.timedelta(days=2),
        place="x",
        capacity=5,
    )
    user = UserFactory(username="machine-worker", kind=User.Kind.WORKER)
    member = make_member(tree["pd_union"], actor=owner).member
    member.user = user
    member.save(update_fields=["user"])
    return services.enrolment_sign_up(actor=user, session=session)


def _overspend(tree, owner):
    project = _project(tree, owner)
    return Overspend.objects.create(line=project.budget_lines.get(), amount=1, reason="x", requested_by=owner)


FACTORIES = {Project: _project, Demand: _demand, Enrolment: _enrolment, Overspend: _overspend}


def evaluated_project(tree, owner, *, title="评估报告项目"):
    """A city project taken through every step to an evaluation (for the written-files checks)."""
    from organizations.models import RoleAssignment
    from projects.models import ReviewCriterion

    if not ReviewCriterion.objects.exists():
        ReviewCriterion.objects.create(name="综合", weight=100)
    reviewer = UserFactory(username="evaluation-reviewer")
    RoleAssignment.objects.create(user=reviewer, organization=tree["city"], role="project_officer")
    project = _project(tree, owner)
    Project.objects.filter(pk=project.pk).update(title=title)
    services.project_submit(actor=owner, project=project)
    services.review_submit(
        actor=reviewer,
        project=project,
        scores={str(c.pk): 80 for c in ReviewCriterion.objects.all()},
        decision="approve",
    )
    services.project_start(actor=owner, project=project)
    services.project_close(actor=owner, project=project)
    services.weights_set(actor=owner, year=project.year, reach=25, budget=25, satisfaction=25, timeliness=25)
    services.project_evaluate(actor=owner, project=project)
    return Project.objects.get(pk=project.pk)
