"""FilterSets shared by the pages and the API. They filter an already-scoped queryset."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import Enterprise, Officer, Organization, OrgKind, RoleAssignment, ServiceStation


class SubtreeFilterMixin(django_filters.FilterSet):
    """`under=<organisation id>`: only rows in that organisation's subtree.

    The organisation is looked up in the requesting user's reach, so naming one outside it
    yields nothing rather than revealing that it exists.
    """

    under = django_filters.NumberFilter(method="filter_under", label=_("所属组织（含下级）"))
    subtree_field = "org_path"

    def subtree_root(self, value) -> str | None:
        """The path of organisation `value` if it is in the user's reach."""
        user = getattr(self.request, "user", None)
        return Organization.objects.for_user(user).filter(pk=value).values_list("path", flat=True).first()

    def filter_under(self, queryset, name, value):
        root = self.subtree_root(value)
        if root is None:
            return queryset.none()
        return queryset.filter(**{f"{self.subtree_field}__startswith": root})


class OrganizationFilter(SubtreeFilterMixin):
    subtree_field = "path"
    q = django_filters.CharFilter(method="filter_q", label=_("名称或代码"))
    kind = django_filters.MultipleChoiceFilter(choices=OrgKind.choices, label=_("类型"))
    status = django_filters.ChoiceFilter(choices=Organization.Status.choices, label=_("状态"))
    parent = django_filters.NumberFilter(method="filter_parent", label=_("直接上级"))
    region_code = django_filters.CharFilter(label=_("行政区划代码"))

    class Meta:
        model = Organization
        fields = ["q", "kind", "status", "parent", "under", "region_code"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value) | Q(credit_code=value.upper()))

    def filter_parent(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        parent = Organization.objects.for_user(user).filter(pk=value).values_list("path", "depth").first()
        if parent is None:
            return queryset.none()
        return queryset.filter(path__startswith=parent[0], depth=parent[1] + 1)


class EnterpriseFilter(SubtreeFilterMixin):
    q = django_filters.CharFilter(method="filter_q", label=_("名称或信用代码"))
    ownership = django_filters.ChoiceFilter(choices=Enterprise.Ownership.choices, label=_("经济类型"))
    size = django_filters.ChoiceFilter(choices=Enterprise.Size.choices, label=_("企业规模"))
    industry = django_filters.ChoiceFilter(choices=Enterprise.Industry.choices, label=_("行业门类"))
    has_union = django_filters.BooleanFilter(field_name="union", lookup_expr="isnull", exclude=True, label=_("已建会"))
    employees_min = django_filters.NumberFilter(field_name="employees", lookup_expr="gte", label=_("职工人数不少于"))
    is_active = django_filters.BooleanFilter(label=_("存续"))

    class Meta:
        model = Enterprise
        fields = ["q", "ownership", "size", "industry", "has_union", "employees_min", "is_active", "under"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(credit_code=value.upper()))


class ServiceStationFilter(SubtreeFilterMixin):
    subtree_field = "organization__path"
    kind = django_filters.ChoiceFilter(choices=ServiceStation.Kind.choices, label=_("类型"))
    q = django_filters.CharFilter(method="filter_q", label=_("名称或地址"))
    is_active = django_filters.BooleanFilter(label=_("开放中"))

    class Meta:
        model = ServiceStation
        fields = ["kind", "q", "is_active", "under"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(address__icontains=value))


class OfficerFilter(SubtreeFilterMixin):
    subtree_field = "organization__path"
    position = django_filters.ChoiceFilter(choices=Officer.Position.choices, label=_("职务"))
    election = django_filters.ChoiceFilter(choices=Officer.Election.choices, label=_("产生方式"))
    current = django_filters.BooleanFilter(field_name="term_end", lookup_expr="isnull", label=_("在任"))

    class Meta:
        model = Officer
        fields = ["position", "election", "current", "under"]


class RoleAssignmentFilter(SubtreeFilterMixin):
    subtree_field = "organization__path"
    role = django_filters.CharFilter(label=_("角色"))
    user = django_filters.CharFilter(field_name="user__username", label=_("用户名"))

    class Meta:
        model = RoleAssignment
        fields = ["role", "user", "under"]
