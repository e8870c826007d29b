"""The demo: projects at every stage through the services, and a re-run adds nothing."""

import pytest

from projects.demo import STAGES, seed_projects
from projects.models import Demand, Enrolment, Evaluation, Overspend, Project
from tests.factories import make_member, nth_name

from .conftest import staff, worker_member

pytestmark = pytest.mark.django_db


def test_seed_projects_makes_every_stage_once(tree, owner):
    staff("projects", tree["city"])
    staff("city", tree["city"], "federation_admin")
    worker_member(tree["pd_union"], owner, "worker", "王小明")
    for i in range(8):
        make_member(tree["pd_union"], actor=owner, name=nth_name("演示", i))
    made = seed_projects()
    assert made["projects"] == len(STAGES) and made["demands"] == 5
    assert set(Project.objects.values_list("stage", flat=True)) == set(STAGES)
    assert Evaluation.objects.count() == 1
    assert Enrolment.objects.filter(status="waiting").exists()
    assert Demand.objects.filter(votes_count__gt=0).exists()
    assert Overspend.objects.filter(status="pending").count() == 1  # for the overspend page
    assert seed_projects() == {"projects": 0, "demands": 0}
