"""Filters of the demand board, the project library and the sessions (pages and API)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from organizations.filters import SubtreeFilterMixin

from .models import Category, Demand, Project, Session


class DemandFilter(SubtreeFilterMixin):
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("类别"))
    status = django_filters.ChoiceFilter(choices=Demand.Status.choices, label=_("状态"))

    class Meta:
        model = Demand
        fields = ["category", "status", "under"]


class ProjectFilter(SubtreeFilterMixin):
    year = django_filters.NumberFilter(label=_("年度"))
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("类别"))
    stage = django_filters.ChoiceFilter(choices=Project.Stage.choices, label=_("阶段"))

    class Meta:
        model = Project
        fields = ["year", "category", "stage", "under"]


class SessionFilter(SubtreeFilterMixin):
    project = django_filters.NumberFilter(field_name="project_id", label=_("项目"))

    class Meta:
        model = Session
        fields = ["project", "under"]
