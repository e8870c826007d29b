"""Forms of the project pages; each POST is carried out by a service (through service_form)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import PROJECT_MANAGE
from organizations.forms import OrgChoiceField, OrgMultipleChoiceField, capability_options_url, pin_bound, top_of_reach
from organizations.models import Organization, OrgKind

from .models import Category, Demand, Goal, Project


def _orgs(user, kinds):
    return (
        Organization.objects.for_user(user, PROJECT_MANAGE)
        .filter(kind__in=kinds, status=Organization.Status.ACTIVE)
        .order_by("path")
    )


class ProjectDesignForm(forms.Form):
    union = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("设计单位"))
    title = forms.CharField(max_length=100, label=_("项目名称"))
    category = forms.ChoiceField(choices=Category.choices, label=_("类别"))
    year = forms.IntegerField(min_value=2000, max_value=2100, label=_("年度"))
    summary = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}), label=_("项目简介")
    )
    start_date = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    implementers = forms.ModelMultipleChoiceField(queryset=Organization.objects.none(), label=_("实施单位"))
    demands = forms.ModelMultipleChoiceField(
        queryset=Demand.objects.none(),
        required=False,
        label=_("关联需求"),
        help_text=_("附议最多的 50 条未立项需求；入库时它们转为“已立项”。"),
    )
    delivery_mode = forms.ChoiceField(choices=Project.Delivery.choices, label=_("实施方式"))
    purchase_method = forms.ChoiceField(
        choices=[("", "—"), *Project.Purchase.choices], required=False, label=_("购买方式")
    )
    contractor = forms.CharField(max_length=100, required=False, label=_("承接社会组织"))
    contract_amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False, label=_("合同金额（元）"))
    contract_start = forms.DateField(
        required=False, label=_("合同开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    contract_end = forms.DateField(
        required=False, label=_("合同结束日期"), widget=forms.DateInput(attrs={"type": "date"})
    )

    # Several goals, budget lines and milestones: rows named like the service's refusals
    # ("goals.1.target"), so a refused row is marked where it is. The first goal and the
    # first budget line are required; a row left blank is skipped.
    GOAL_ROWS, BUDGET_ROWS, MILESTONE_ROWS = 4, 5, 4

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(self.GOAL_ROWS):
            n = i + 1
            self.fields[f"goals.{i}.name"] = forms.CharField(
                max_length=100, required=i == 0, label=_("目标 %(n)s") % {"n": n}
            )
            self.fields[f"goals.{i}.metric"] = forms.ChoiceField(
                choices=Goal.Metric.choices, required=False, label=_("目标 %(n)s 指标") % {"n": n}
            )
            self.fields[f"goals.{i}.target"] = forms.IntegerField(
                min_value=1, required=i == 0, label=_("目标 %(n)s 目标值") % {"n": n}
            )
            self.fields[f"goals.{i}.unit"] = forms.CharField(
                max_length=10, required=False, label=_("目标 %(n)s 单位") % {"n": n}
            )
        for i in range(self.BUDGET_ROWS):
            n = i + 1
            self.fields[f"budget.{i}.name"] = forms.CharField(
                max_length=100, required=i == 0, label=_("预算科目 %(n)s") % {"n": n}
            )
            self.fields[f"budget.{i}.planned"] = forms.DecimalField(
                max_digits=12,
                decimal_places=2,
                min_value=0,
                required=i == 0,
                label=_("科目 %(n)s 预算（元）") % {"n": n},
            )
        for i in range(self.MILESTONE_ROWS):
            n = i + 1
            self.fields[f"milestones.{i}.name"] = forms.CharField(
                max_length=100, required=False, label=_("进度节点 %(n)s") % {"n": n}
            )
            self.fields[f"milestones.{i}.due_date"] = forms.DateField(
                required=False,
                label=_("节点 %(n)s 计划日期") % {"n": n},
                widget=forms.DateInput(attrs={"type": "date"}),
            )
        # Searchable pickers (issue 15): the top of the reach is listed, the rest is one search away.
        for name, kinds in (
            ("union", [OrgKind.CITY, OrgKind.DISTRICT, OrgKind.STREET]),
            ("implementers", [OrgKind.DISTRICT, OrgKind.STREET, OrgKind.INDUSTRY_UNION, OrgKind.PARK]),
        ):
            picker = OrgMultipleChoiceField if name == "implementers" else OrgChoiceField
            self.fields[name] = picker(
                _orgs(user, kinds),
                option_queryset=top_of_reach(_orgs(user, kinds)),
                options_url=capability_options_url(PROJECT_MANAGE, kinds),
                label=self.fields[name].label,
            )
        pin_bound(self, "union", "implementers")
        self.fields["year"].initial = timezone.localdate().year
        top = (
            Demand.objects.for_user(user)
            .filter(status__in=[Demand.Status.OPEN, Demand.Status.ANSWERED])
            .order_by("-votes_count", "-id")
            .values_list("pk", flat=True)[:50]
        )
        self.fields["demands"].queryset = Demand.objects.filter(pk__in=list(top)).order_by("-votes_count", "-id")
        self.fields["demands"].label_from_instance = lambda d: f"{d.description[:40]}（{d.votes_count}）"
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        # A half-filled row: say which half is missing, on that field.
        for group, a, b, what in (
            ("goals", "name", "target", _("目标值")),
            ("budget", "name", "planned", _("预算金额")),
            ("milestones", "name", "due_date", _("计划日期")),
        ):
            rows = {"goals": self.GOAL_ROWS, "budget": self.BUDGET_ROWS, "milestones": self.MILESTONE_ROWS}[group]
            for i in range(rows):
                name, value = data.get(f"{group}.{i}.{a}"), data.get(f"{group}.{i}.{b}")
                key_a, key_b = f"{group}.{i}.{a}", f"{group}.{i}.{b}"
                if name and value in (None, "") and key_b not in self.errors:
                    self.add_error(
                        key_b, _("填写了第 %(n)s 行的名称，请同时填写%(what)s。") % {"n": i + 1, "what": what}
                    )
                elif not name and value not in (None, "") and key_a not in self.errors:
                    self.add_error(
                        key_a, _("填写了第 %(n)s 行的%(what)s，请同时填写名称。") % {"n": i + 1, "what": what}
                    )
        return data

    def rows(self, group: str) -> list[dict]:
        """The filled rows of a group as the service takes them."""
        count = {"goals": self.GOAL_ROWS, "budget": self.BUDGET_ROWS, "milestones": self.MILESTONE_ROWS}[group]
        out = []
        for i in range(count):
            row = {k.split(".")[2]: v for k, v in self.cleaned_data.items() if k.startswith(f"{group}.{i}.")}
            if not row.get("name"):
                continue
            if group == "goals":
                row["metric"] = row.get("metric") or Goal.Metric.BENEFICIARIES
            out.append(row)
        return out

    def row_fields(self, group: str) -> list[list]:
        """Bound fields by row, for the template."""
        count = {"goals": self.GOAL_ROWS, "budget": self.BUDGET_ROWS, "milestones": self.MILESTONE_ROWS}[group]
        return [[self[k] for k in self.fields if k.startswith(f"{group}.{i}.")] for i in range(count)]

    @property
    def goal_rows(self):
        return self.row_fields("goals")

    @property
    def budget_rows(self):
        return self.row_fields("budget")

    @property
    def milestone_rows(self):
        return self.row_fields("milestones")


class OverspendForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label=_("超支金额（元）"))
    reason = forms.CharField(max_length=200, label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class CriteriaForm(forms.Form):
    """The review criteria, one row each (names and whole-percent weights summing to 100)."""

    ROWS = 8

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        criteria = list(criteria)
        for i in range(self.ROWS):
            n = i + 1
            c = criteria[i] if i < len(criteria) else None
            self.fields[f"criteria.{i}.name"] = forms.CharField(
                max_length=60, required=False, label=_("指标 %(n)s 名称") % {"n": n}, initial=c.name if c else ""
            )
            self.fields[f"criteria.{i}.weight"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=100,
                label=_("指标 %(n)s 权重（%%）") % {"n": n},
                initial=c.weight if c else None,
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    @property
    def rows(self):
        return [(self[f"criteria.{i}.name"], self[f"criteria.{i}.weight"]) for i in range(self.ROWS)]

    def criteria(self) -> list[dict]:
        d = self.cleaned_data
        return [
            {"name": d.get(f"criteria.{i}.name"), "weight": d.get(f"criteria.{i}.weight")} for i in range(self.ROWS)
        ]


class WeightsForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, label=_("年度"))
    reach = forms.IntegerField(min_value=0, max_value=100, label=_("覆盖达成权重（%）"))
    budget = forms.IntegerField(min_value=0, max_value=100, label=_("预算执行权重（%）"))
    satisfaction = forms.IntegerField(min_value=0, max_value=100, label=_("满意度权重（%）"))
    timeliness = forms.IntegerField(min_value=0, max_value=100, label=_("按时完成权重（%）"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class SessionForm(forms.Form):
    union = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("实施单位"))
    title = forms.CharField(max_length=100, label=_("场次名称"))
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(max_length=100, label=_("地点"))
    capacity = forms.IntegerField(min_value=1, max_value=100000, label=_("名额"))

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["union"].queryset = Organization.objects.filter(
            pk__in=project.implementers.values("union_id")
        ).order_by("path")
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
