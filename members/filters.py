"""FilterSets for the member roll and its queues, shared by pages and the API.

They narrow an already-scoped queryset; none of them widens it.
"""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from core.pages import prefix_range
from organizations.filters import SubtreeFilterMixin

from .models import EmploymentForm, Honour, ImportJob, JoinApplication, Member, Membership, Transfer
from .selectors import member_search, member_search_keys


class MemberFilter(SubtreeFilterMixin):
    q = django_filters.CharFilter(
        method="filter_q",
        label=_("搜索"),
        help_text=_("姓名（前缀）、拼音首字母、会员编号、手机号码或身份证号码（精确）"),
    )
    status = django_filters.ChoiceFilter(
        field_name="current_membership__status", choices=Membership.Status.choices, label=_("会籍状态")
    )
    employment_form = django_filters.MultipleChoiceFilter(choices=EmploymentForm.choices, label=_("就业形态"))
    is_migrant_worker = django_filters.BooleanFilter(label=_("农民工"))
    honour = django_filters.ChoiceFilter(choices=Honour.Kind.choices, method="filter_honour", label=_("荣誉类别"))
    joined_from = django_filters.DateFilter(
        field_name="current_membership__joined_on", lookup_expr="gte", label=_("入会日期起")
    )
    joined_to = django_filters.DateFilter(
        field_name="current_membership__joined_on", lookup_expr="lte", label=_("入会日期止")
    )

    class Meta:
        model = Member
        fields = ["q", "under", "status", "employment_form", "is_migrant_worker", "honour", "joined_from", "joined_to"]

    def filter_q(self, queryset, name, value):
        return member_search(queryset, value)

    def filter_under(self, queryset, name, value):
        if not member_search_keys(self.form.cleaned_data.get("q") or ""):
            return super().filter_under(queryset, name, value)
        # A name or initials search narrowed to a street: the subtree as a byte-order range,
        # so that PostgreSQL keeps reading the search's ordered index (see core.pages.prefix_range;
        # with a second LIKE it scanned and sorted the street's ~29k members for common initials).
        root = self.subtree_root(value)
        return queryset.none() if root is None else prefix_range(queryset, "org_path", root)

    def filter_honour(self, queryset, name, value):
        # EXISTS rather than a join: no duplicate rows, no DISTINCT over a big roll.
        return queryset.filter(Exists(Honour.objects.filter(member=OuterRef("pk"), kind=value)))


class JoinApplicationFilter(SubtreeFilterMixin):
    status = django_filters.ChoiceFilter(choices=JoinApplication.Status.choices, label=_("状态"))

    class Meta:
        model = JoinApplication
        fields = ["status", "under"]


class TransferFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Transfer.Status.choices, label=_("状态"))
    direction = django_filters.ChoiceFilter(
        choices=[("in", _("转入本辖区")), ("out", _("转出本辖区"))], method="filter_direction", label=_("方向")
    )

    class Meta:
        model = Transfer
        fields = ["status", "direction"]

    def filter_direction(self, queryset, name, value):
        from core.scoping import scope_q

        user = getattr(self.request, "user", None)
        return queryset.filter(scope_q(user, "to_path" if value == "in" else "from_path"))


class HonourFilter(SubtreeFilterMixin):
    subtree_field = "member__org_path"
    kind = django_filters.ChoiceFilter(choices=Honour.Kind.choices, label=_("荣誉类别"))
    year = django_filters.NumberFilter(label=_("授予年度"))

    class Meta:
        model = Honour
        fields = ["kind", "year", "under"]


class ImportJobFilter(SubtreeFilterMixin):
    status = django_filters.ChoiceFilter(choices=ImportJob.Status.choices, label=_("状态"))

    class Meta:
        model = ImportJob
        fields = ["status", "under"]
