"""Service projects in six steps: demands → design → review into the library →
implementation (sessions, sign-ups, check-in, spending) → feedback → evaluation.

Scoping: every row copies the path of the organisation it belongs to (`org_path`): a demand
the union it concerns, a project its designing union, a session its implementing union.
Projects are also seen by the unions that implement them (through `ProjectImplementer`,
which copies each implementer's path) and, once in the library, by every union below the
designer ("design at the top, deliver below"): `ProjectQuerySet.for_user` says so once.

Capacity: `Session.seats_taken` counts the enrolments that hold a place (enrolled, offered,
checked in); a CHECK keeps it between 0 and the capacity, and the sign-up service changes
it only under a row lock on the session, so two sign-ups for the last place queue.
Money: `BudgetLine.spent` may pass `planned` only by an approved overspend
(`approved_over`), held by a CHECK as well; every spend leaves an append-only `Expense`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.roles import VIEW
from core.scoping import EVERYTHING, ScopedQuerySet, reach_paths, scope_q
from organizations.models import Organization

PATTERN_OPS = ["varchar_pattern_ops"]
# organizations.Organization.steplen: the prefixes of a path are its ancestors.
PATH_STEP = 4


class Category(models.TextChoices):
    RIGHTS = "rights", _("维权服务")
    SKILLS = "skills", _("技能提升")
    CULTURE = "culture", _("文体活动")
    HEALTH = "health", _("健康服务")
    HARDSHIP = "hardship", _("困难帮扶")
    DAILY = "daily", _("生活服务")


def _path_field(verbose=None):
    return models.CharField(verbose or _("组织路径"), max_length=255, editable=False, default="")


# --- 1. demands -------------------------------------------------------------------------


class Demand(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("征集中")
        ANSWERED = "answered", _("已答复")
        ADOPTED = "adopted", _("已立项")
        MERGED = "merged", _("已合并")
        CLOSED = "closed", _("已关闭")

    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    description = models.TextField(_("需求描述"), max_length=2000)
    union = models.ForeignKey(Organization, verbose_name=_("所涉工会"), on_delete=models.PROTECT, related_name="+")
    org_path = _path_field()
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并到"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    votes_count = models.PositiveIntegerField(_("附议数"), default=0, editable=False)
    tags = models.CharField(_("标签"), max_length=200, blank=True)
    answer = models.TextField(_("答复"), blank=True, max_length=2000)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("职工需求")
        verbose_name_plural = _("职工需求")
        indexes = [
            # The board: open demands in reach, most seconded first.
            models.Index(
                fields=["org_path", "status", "-votes_count", "id"],
                name="demand_board_idx",
                opclasses=["varchar_pattern_ops", "text_ops", "int4_ops", "int8_ops"],
            ),
            # The city-wide board (a reach of everything): most seconded first, without a sort.
            models.Index(fields=["-votes_count", "-id"], condition=~Q(status="merged"), name="demand_board_all_idx"),
        ]

    def __str__(self):
        return self.description[:30]


class DemandVote(models.Model):
    """One member seconds one demand once (a merge carries votes over without doubling)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("需求附议")
        verbose_name_plural = _("需求附议")
        constraints = [models.UniqueConstraint(fields=["demand", "member"], name="demandvote_once")]

    def __str__(self):
        return f"{self.demand_id}/{self.member_id}"


# --- 2. design --------------------------------------------------------------------------


class ProjectQuerySet(ScopedQuerySet):
    scope_path_field = "org_path"

    def for_user(self, user, capability: str = VIEW):
        """Designed in reach, implemented in reach, or published in the library above the reach."""
        reach = reach_paths(user, capability)
        if reach == EVERYTHING:
            return self.all()
        if not reach:
            return self.none()
        ancestors = {p[:i] for p in reach for i in range(PATH_STEP, len(p) + 1, PATH_STEP)}
        implemented = ProjectImplementer.objects.filter(scope_q(user, "org_path", capability)).values("project_id")
        return self.filter(
            scope_q(user, "org_path", capability)
            | Q(pk__in=implemented)
            | (Q(stage__in=Project.PUBLISHED_STAGES) & Q(org_path__in=ancestors))
        )


class Project(models.Model):
    class Stage(models.TextChoices):
        DRAFT = "draft", _("草稿")
        IN_REVIEW = "in_review", _("论证中")
        RETURNED = "returned", _("已退回")
        REJECTED = "rejected", _("未入库")
        LIBRARY = "library", _("已入库")
        IMPLEMENTING = "implementing", _("实施中")
        FEEDBACK = "feedback", _("结果反馈")
        EVALUATED = "evaluated", _("已评估")

    class Delivery(models.TextChoices):
        OWN = "own", _("自主实施")
        PURCHASED = "purchased", _("购买服务")

    class Purchase(models.TextChoices):
        TENDER = "tender", _("招标采购")
        VENTURE = "venture", _("公益创投")

    PUBLISHED_STAGES = ("library", "implementing", "feedback", "evaluated")
    EDITABLE_STAGES = ("draft", "returned")

    title = models.CharField(_("项目名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=12, choices=Category.choices)
    summary = models.TextField(_("项目简介"), blank=True, max_length=4000)
    year = models.PositiveSmallIntegerField(_("年度"))
    union = models.ForeignKey(Organization, verbose_name=_("设计单位"), on_delete=models.PROTECT, related_name="+")
    org_path = _path_field()
    stage = models.CharField(_("阶段"), max_length=14, choices=Stage.choices, default=Stage.DRAFT)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    delivery_mode = models.CharField(_("实施方式"), max_length=10, choices=Delivery.choices, default=Delivery.OWN)
    purchase_method = models.CharField(_("购买方式"), max_length=10, choices=Purchase.choices, blank=True)
    contractor = models.CharField(_("承接社会组织"), max_length=100, blank=True)
    contract_amount = models.DecimalField(_("合同金额（元）"), max_digits=12, decimal_places=2, null=True, blank=True)
    contract_start = models.DateField(_("合同开始日期"), null=True, blank=True)
    contract_end = models.DateField(_("合同结束日期"), null=True, blank=True)
    demands = models.ManyToManyField(Demand, verbose_name=_("关联需求"), blank=True, related_name="projects")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("入库时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        indexes = [
            models.Index(
                fields=["org_path", "stage", "id"],
                name="project_path_stage_idx",
                opclasses=["varchar_pattern_ops", "text_ops", "int8_ops"],
            ),
            models.Index(fields=["year", "stage", "category"], name="project_library_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="project_dates_ordered"),
            models.CheckConstraint(
                condition=Q(contract_amount__isnull=True) | Q(contract_amount__gte=0), name="project_contract_nonneg"
            ),
        ]

    def __str__(self):
        return self.title


class ProjectImplementer(models.Model):
    """A union that delivers the project (in the designer's subtree); its path scopes it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="implementers")
    union = models.ForeignKey(Organization, verbose_name=_("实施单位"), on_delete=models.PROTECT, related_name="+")
    org_path = _path_field()

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("实施单位")
        verbose_name_plural = _("实施单位")
        constraints = [models.UniqueConstraint(fields=["project", "union"], name="implementer_once")]
        indexes = [models.Index(fields=["org_path"], name="implementer_path_idx", opclasses=PATTERN_OPS)]

    def __str__(self):
        return f"{self.project_id}/{self.union_id}"


class Goal(models.Model):
    class Metric(models.TextChoices):
        BENEFICIARIES = "beneficiaries", _("受益人数")
        SESSIONS = "sessions", _("活动场次")
        OTHER = "other", _("其他")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="goals")
    name = models.CharField(_("目标"), max_length=100)
    metric = models.CharField(_("指标"), max_length=14, choices=Metric.choices, default=Metric.BENEFICIARIES)
    target = models.PositiveIntegerField(_("目标值"))
    unit = models.CharField(_("单位"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("项目目标")
        verbose_name_plural = _("项目目标")
        constraints = [models.CheckConstraint(condition=Q(target__gt=0), name="goal_target_positive")]

    def __str__(self):
        return f"{self.name} {self.target}{self.unit}"


class BudgetLine(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="budget_lines")
    name = models.CharField(_("预算科目"), max_length=100)
    planned = models.DecimalField(_("预算（元）"), max_digits=12, decimal_places=2)
    spent = models.DecimalField(_("已支出（元）"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    approved_over = models.DecimalField(
        _("已批准超支（元）"), max_digits=12, decimal_places=2, default=Decimal("0.00"), editable=False
    )

    class Meta:
        verbose_name = _("预算科目")
        verbose_name_plural = _("预算科目")
        constraints = [
            models.CheckConstraint(condition=Q(planned__gte=0), name="budget_planned_nonneg"),
            models.CheckConstraint(condition=Q(spent__gte=0), name="budget_spent_nonneg"),
            models.CheckConstraint(condition=Q(approved_over__gte=0), name="budget_over_nonneg"),
            # Never silently over: past the plan only by an approved overspend.
            models.CheckConstraint(
                condition=Q(spent__lte=F("planned") + F("approved_over")), name="budget_spent_within_allowed"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def allowed(self) -> Decimal:
        return self.planned + self.approved_over


class Expense(models.Model):
    """Append-only ledger of spending against a budget line."""

    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="expenses")
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("支出记录")
        verbose_name_plural = _("支出记录")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="expense_positive")]

    def __str__(self):
        return f"{self.line_id}: {self.amount}"


class Overspend(models.Model):
    """A request to spend past a line's plan; approved by someone other than the requester."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="overspends")
    amount = models.DecimalField(_("超支金额（元）"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("理由"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("超支申请")
        verbose_name_plural = _("超支申请")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="overspend_positive")]

    def __str__(self):
        return f"{self.line_id}: +{self.amount}"


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(_("节点"), max_length=100)
    due_date = models.DateField(_("计划日期"))
    done_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("进度节点")
        verbose_name_plural = _("进度节点")
        ordering = ["due_date", "id"]

    def __str__(self):
        return self.name


# --- 3. review --------------------------------------------------------------------------


class ReviewCriterion(models.Model):
    """A criterion reviewers score (0–100) with its weight; the weights of the active set sum to 100."""

    name = models.CharField(_("评审指标"), max_length=60)
    weight = models.PositiveSmallIntegerField(_("权重（%）"))
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("评审指标")
        verbose_name_plural = _("评审指标")
        constraints = [models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="criterion_weight")]

    def __str__(self):
        return f"{self.name}（{self.weight}%）"


class Review(models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", _("同意入库")
        RETURN = "return", _("退回修改")
        REJECT = "reject", _("不予入库")
        RECUSED = "recused", _("回避")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    org_path = _path_field()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("结论"), max_length=8, choices=Decision.choices)
    opinion = models.TextField(_("评审意见"), blank=True, max_length=2000)
    scores = models.JSONField(_("各项得分"), default=dict, blank=True)
    total = models.DecimalField(_("加权得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("评审意见")
        verbose_name_plural = _("评审意见")
        constraints = [models.UniqueConstraint(fields=["project", "reviewer", "round"], name="review_once_per_round")]

    def __str__(self):
        return f"{self.project_id}/{self.reviewer_id}: {self.decision}"


# --- 4. implementation ------------------------------------------------------------------


class Session(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sessions")
    union = models.ForeignKey(Organization, verbose_name=_("实施单位"), on_delete=models.PROTECT, related_name="+")
    org_path = _path_field()
    title = models.CharField(_("场次名称"), max_length=100)
    starts_at = models.DateTimeField(_("开始时间"))
    place = models.CharField(_("地点"), max_length=100)
    capacity = models.PositiveIntegerField(_("名额"))
    seats_taken = models.PositiveIntegerField(_("已占名额"), default=0, editable=False)
    waiting_seq = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("活动场次")
        verbose_name_plural = _("活动场次")
        indexes = [
            models.Index(
                fields=["org_path", "starts_at"],
                name="session_path_start_idx",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="session_capacity_positive"),
            # Never overbooked, whatever the code above does.
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0) & Q(seats_taken__lte=F("capacity")),
                name="session_seats_within_capacity",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ENROLLED = "enrolled", _("已报名")
        WAITING = "waiting", _("候补中")
        OFFERED = "offered", _("候补待确认")
        CANCELLED = "cancelled", _("已取消")
        CHECKED_IN = "checked_in", _("已签到")

    HOLDS_SEAT = ("enrolled", "offered", "checked_in")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="enrolments")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    org_path = _path_field()
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    position = models.PositiveIntegerField(_("候补序号"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(_("候补确认截止"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("报名")
        verbose_name_plural = _("报名")
        constraints = [
            # Signing up twice is refused; after a cancellation the member may sign up again.
            models.UniqueConstraint(
                fields=["session", "member"], condition=~Q(status="cancelled"), name="enrolment_one_live"
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status", "position"], name="enrolment_queue_idx"),
            models.Index(fields=["status", "offer_expires_at"], name="enrolment_offer_idx"),
            models.Index(fields=["member", "status"], name="enrolment_member_idx"),
        ]

    def __str__(self):
        return f"{self.session_id}/{self.member_id}: {self.status}"


class CheckIn(models.Model):
    """One per enrolment: a second scan of the same card counts once (scans only counts)."""

    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="checkin")
    scanned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    scans = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("签到")
        verbose_name_plural = _("签到")

    def __str__(self):
        return f"{self.enrolment_id}"


# --- 5. feedback ------------------------------------------------------------------------


class Rating(models.Model):
    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="rating")
    org_path = _path_field()
    score = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("评价"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("参与者评价")
        verbose_name_plural = _("参与者评价")
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_1_to_5")]

    def __str__(self):
        return f"{self.enrolment_id}: {self.score}"


class Result(models.Model):
    """What was achieved against one goal, with evidence attached (core.attachments)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="results")
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="results")
    org_path = _path_field()
    achieved = models.PositiveIntegerField(_("完成值"))
    note = models.CharField(_("说明"), max_length=500, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("实施结果")
        verbose_name_plural = _("实施结果")
        constraints = [models.UniqueConstraint(fields=["goal"], name="result_one_per_goal")]

    def __str__(self):
        return f"{self.goal_id}: {self.achieved}"


# --- 6. evaluation ----------------------------------------------------------------------


class EvaluationWeights(models.Model):
    """The city's weights for a year; a CHECK holds their sum at 100."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    reach = models.PositiveSmallIntegerField(_("覆盖达成权重（%）"))
    budget = models.PositiveSmallIntegerField(_("预算执行权重（%）"))
    satisfaction = models.PositiveSmallIntegerField(_("满意度权重（%）"))
    timeliness = models.PositiveSmallIntegerField(_("按时完成权重（%）"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("绩效评估权重")
        verbose_name_plural = _("绩效评估权重")
        constraints = [
            models.CheckConstraint(
                condition=Q(reach__lte=100) & Q(budget__lte=100) & Q(satisfaction__lte=100) & Q(timeliness__lte=100),
                name="weights_each_le_100",
            ),
            models.CheckConstraint(
                condition=Q(reach=100 - F("budget") - F("satisfaction") - F("timeliness")), name="weights_sum_100"
            ),
        ]

    def __str__(self):
        return str(self.year)


class Evaluation(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="evaluation")
    org_path = _path_field()
    reach_score = models.DecimalField(_("覆盖达成"), max_digits=5, decimal_places=2)
    budget_score = models.DecimalField(_("预算执行"), max_digits=5, decimal_places=2)
    satisfaction_score = models.DecimalField(_("满意度"), max_digits=5, decimal_places=2)
    timeliness_score = models.DecimalField(_("按时完成"), max_digits=5, decimal_places=2)
    total = models.DecimalField(_("综合得分"), max_digits=5, decimal_places=2)
    weights = models.JSONField(_("所用权重"), default=dict)
    explanation = models.JSONField(_("计分说明"), default=list)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("绩效评估")
        verbose_name_plural = _("绩效评估")

    def __str__(self):
        return f"{self.project_id}: {self.total}"
