"""Hardship aid: standards, household files, notices, funds, budgets, grants and campaigns.

Money is Decimal yuan with two places. A budget's figures (amount, reserved, spent) are
changed only by conditional UPDATEs in services.funds, and the database refuses any row
where they would go negative or past the amount (CheckConstraints below): the rule holds
even for a writer that forgot the service. Every change of a budget writes a LedgerEntry
(append-only), so the figures can be recomputed from the ledger.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from core.scoping import ScopedQuerySet
from organizations.models import Organization

PATTERN_OPS = ["varchar_pattern_ops"]
MONEY = {"max_digits": 12, "decimal_places": 2}


class Tier(models.TextChoices):
    DEEP = "deep", _("深度困难")
    RELATIVE = "relative", _("相对困难")
    ACCIDENT = "accident", _("意外致困")
    NONE = "none", _("不符合困难条件")


class AidKind(models.TextChoices):
    LIVING = "living", _("生活救助")
    MEDICAL = "medical", _("医疗救助")
    EDUCATION = "education", _("助学")
    EMERGENCY = "emergency", _("应急救助")
    EMPLOYMENT = "employment", _("就业帮扶")
    WARMTH = "warmth", _("送温暖")


class Cause(models.TextChoices):
    ILLNESS = "illness", _("因病")
    DISABILITY = "disability", _("因残")
    SCHOOLING = "schooling", _("因学")
    SINGLE_PARENT = "single_parent", _("单亲家庭")
    UNEMPLOYMENT = "unemployment", _("失业")
    ACCIDENT = "accident", _("意外事故")
    DISASTER = "disaster", _("灾害")
    OTHER = "other", _("其他")


# Causes that, with a per-head income below the low-income line, make a household
# "relatively" poor (the standard's wording: illness, disability, children in school, single parent).
AGGRAVATING_CAUSES = frozenset({Cause.ILLNESS, Cause.DISABILITY, Cause.SCHOOLING, Cause.SINGLE_PARENT})
SUDDEN_CAUSES = frozenset({Cause.ACCIDENT, Cause.DISASTER})


class AidStandard(models.Model):
    """One version of the city's standard, in force from `effective_from` until the next one.

    Never edited once a file is decided under it (services refuse): a change is a new version,
    and decided files keep the version they were decided under.

    `amounts`: {tier: {kind: ["min", "max"]}} in yuan (strings, read as Decimal).
    `approval_levels`: [{"up_to": "2000.00" or null, "chain": "aid.street"}, …] ascending:
    the first level whose `up_to` covers the amount names the approval chain code.
    """

    version = models.PositiveIntegerField(_("版本"), unique=True)
    name = models.CharField(_("名称"), max_length=120)
    effective_from = models.DateField(_("生效日期"), unique=True)
    min_living_line = models.DecimalField(_("低保线（元/人·月）"), **MONEY)
    low_income_line = models.DecimalField(_("低收入线（元/人·月）"), **MONEY)
    notice_working_days = models.PositiveSmallIntegerField(_("公示最少工作日"), default=5)
    yearly_cap = models.DecimalField(_("每户年度救助上限（元）"), **MONEY)
    review_months = models.PositiveSmallIntegerField(_("复核周期（月）"), default=12)
    amounts = models.JSONField(_("各档各类救助金额"), default=dict)
    approval_levels = models.JSONField(_("审批层级"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("帮扶标准")
        verbose_name_plural = _("帮扶标准")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_living_line__gt=0) & Q(low_income_line__gte=F("min_living_line")),
                name="aid_standard_lines_ordered",
            ),
            models.CheckConstraint(condition=Q(notice_working_days__gte=1), name="aid_standard_notice_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（v{self.version}）"

    def amount_range(self, tier: str, kind: str) -> tuple[Decimal, Decimal] | None:
        rng = (self.amounts or {}).get(tier, {}).get(kind)
        if not rng:
            return None
        return Decimal(str(rng[0])), Decimal(str(rng[1]))

    def chain_for(self, amount: Decimal) -> str:
        for level in self.approval_levels or []:
            up_to = level.get("up_to")
            if up_to is None or amount <= Decimal(str(up_to)):
                return level["chain"]
        raise ValueError("standard has no approval level for the amount")


class FileStatus(models.TextChoices):
    APPLIED = "applied", _("已申请")
    INVESTIGATING = "investigating", _("入户调查")
    NOTICE = "notice", _("公示中")
    APPROVING = "approving", _("审批中")
    REGISTERED = "registered", _("已建档")
    REVIEW = "review", _("复核中")
    REJECTED = "rejected", _("未通过")
    LIFTED = "lifted", _("已解困脱困")
    SAFETY_NET = "safety_net", _("已转入政府保障")
    CLOSED = "closed", _("已关闭")


OPEN_STATUSES = (
    FileStatus.APPLIED,
    FileStatus.INVESTIGATING,
    FileStatus.NOTICE,
    FileStatus.APPROVING,
    FileStatus.REGISTERED,
    FileStatus.REVIEW,
)
ACTIVE_STATUSES = (FileStatus.REGISTERED, FileStatus.REVIEW)


class HardshipFile(models.Model):
    """A hardship file 困难职工档案 of a member's household."""

    member = models.ForeignKey(
        "members.Member", verbose_name=_("职工"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    union = models.ForeignKey(
        Organization, verbose_name=_("所在工会"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    org_path = models.CharField(max_length=255, editable=False)
    number = models.CharField(_("档案编号"), max_length=20, blank=True, editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=FileStatus.choices, default=FileStatus.APPLIED)
    standard = models.ForeignKey(
        AidStandard, verbose_name=_("适用标准"), on_delete=models.PROTECT, related_name="files", db_index=False
    )
    causes = models.JSONField(_("致困原因"), default=list)
    assets_note = models.CharField(_("家庭资产情况"), max_length=500, blank=True)
    tier_computed = models.CharField(_("测算档次"), max_length=10, choices=Tier.choices, blank=True)
    tier_explanation = models.CharField(_("测算依据"), max_length=300, blank=True)
    tier = models.CharField(_("困难档次"), max_length=10, choices=Tier.choices, blank=True)
    tier_override_reason = models.CharField(_("调整档次理由"), max_length=300, blank=True)
    per_capita_income = models.DecimalField(_("人均月收入（元）"), null=True, blank=True, **MONEY)
    requested_kind = models.CharField(_("申请救助类别"), max_length=12, choices=AidKind.choices, blank=True)
    requested_amount = models.DecimalField(_("申请救助金额（元）"), null=True, blank=True, **MONEY)
    budget = models.ForeignKey(
        "Budget", verbose_name=_("支出预算"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_due = models.DateField(_("复核到期日"), null=True, blank=True)
    is_emergency = models.BooleanField(_("应急救助（先救助后审核）"), default=False)
    applied_by_worker = models.BooleanField(_("职工本人申请"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("困难职工档案")
        verbose_name_plural = _("困难职工档案")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status", "id"],
                name="aid_file_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(
                fields=["org_path", "id"], name="aid_file_path_id_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            models.Index(fields=["review_due"], name="aid_file_review_due_idx", condition=Q(review_due__isnull=False)),
            models.Index(fields=["member"], name="aid_file_member_idx"),
        ]
        constraints = [
            # One open file per household (the member's): a second one is refused in the
            # service with the first named; this index holds it under concurrency.
            models.UniqueConstraint(
                fields=["member"], condition=Q(status__in=OPEN_STATUSES), name="aid_file_one_open_per_member"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class Relation(models.TextChoices):
    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    OTHER = "other", _("其他")


class Schooling(models.TextChoices):
    NONE = "", _("不在学")
    PRIMARY = "primary", _("小学")
    MIDDLE = "middle", _("初中")
    HIGH = "high", _("高中/中职")
    COLLEGE = "college", _("大学")


class HouseholdMember(models.Model):
    """One person of the household. Income, health and disability are encrypted (core.crypto)."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="household")
    org_path = models.CharField(max_length=255, editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与申请人关系"), max_length=8, choices=Relation.choices)
    age = models.PositiveSmallIntegerField(_("年龄"))
    id_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, blank=True, editable=False)
    schooling = models.CharField(_("在学情况"), max_length=8, choices=Schooling.choices, blank=True)
    income_enc = models.TextField(editable=False)
    health_enc = models.TextField(editable=False, blank=True)
    disability_enc = models.TextField(editable=False, blank=True)
    has_health_issue = models.BooleanField(_("患病"), default=False, editable=False)
    has_disability = models.BooleanField(_("残疾"), default=False, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["file", "id"]
        indexes = [models.Index(fields=["id_hash"], name="aid_household_id_hash_idx", condition=~Q(id_hash=""))]
        constraints = [
            models.UniqueConstraint(fields=["file", "id_hash"], condition=~Q(id_hash=""), name="aid_household_once"),
            models.UniqueConstraint(fields=["file", "name", "relation"], name="aid_household_name_once"),
        ]

    def __str__(self) -> str:
        return self.name


class Investigation(models.Model):
    """A home investigation 入户调查: when, by whom, what was found."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="investigations")
    org_path = models.CharField(max_length=255, editable=False)
    visited_on = models.DateField(_("调查日期"))
    investigators = models.CharField(_("调查人"), max_length=200)
    findings = models.TextField(_("调查情况"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("入户调查")
        verbose_name_plural = _("入户调查")
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.file} {self.visited_on}"


class PublicNotice(models.Model):
    """A public notice 公示: `end` is `working_days` working days from `start` (core.calendar)."""

    file = models.ForeignKey(HardshipFile, on_delete=models.CASCADE, related_name="notices")
    org_path = models.CharField(max_length=255, editable=False)
    start = models.DateField(_("公示开始日期"))
    end = models.DateField(_("公示结束日期"))
    working_days = models.PositiveSmallIntegerField(_("公示工作日数"))
    place = models.CharField(_("公示地点"), max_length=200, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-start", "-id"]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="aid_notice_end_after_start")]

    def __str__(self) -> str:
        return f"{self.file} {self.start}–{self.end}"


class Objection(models.Model):
    """An objection raised during a notice, and how it was resolved."""

    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="objections")
    org_path = models.CharField(max_length=255, editable=False)
    received_on = models.DateField(_("收到日期"))
    content = models.TextField(_("异议内容"))
    resolution = models.TextField(_("处理结果"), blank=True)
    upheld = models.BooleanField(_("异议成立"), null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["received_on", "id"]

    def __str__(self) -> str:
        return f"{self.notice} {self.received_on}"


class FundSource(models.TextChoices):
    UNION = "union", _("工会经费")
    DONATION = "donation", _("社会捐赠")
    GOVERNMENT = "government", _("政府资金")
    FEDERATION = "federation", _("上级工会拨付")


class Fund(models.Model):
    """A fund by source, held by an organisation (usually the city or a district)."""

    name = models.CharField(_("资金名称"), max_length=100)
    source = models.CharField(_("资金来源"), max_length=12, choices=FundSource.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="+"
    )
    org_path = models.CharField(max_length=255, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("帮扶资金")
        verbose_name_plural = _("帮扶资金")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Budget(models.Model):
    """A budget of one organisation, fund and year. left = amount − reserved − spent ≥ 0."""

    organization = models.ForeignKey(Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    fund = models.ForeignKey(Fund, verbose_name=_("资金"), on_delete=models.PROTECT, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("年度"))
    amount = models.DecimalField(_("预算金额"), default=Decimal("0.00"), **MONEY)
    reserved = models.DecimalField(_("已预留"), default=Decimal("0.00"), **MONEY)
    spent = models.DecimalField(_("已支出"), default=Decimal("0.00"), **MONEY)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("预算")
        verbose_name_plural = _("预算")
        ordering = ["-year", "id"]
        indexes = [
            models.Index(
                fields=["org_path", "year"], name="aid_budget_path_idx", opclasses=["varchar_pattern_ops", "int2_ops"]
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "fund", "year"], name="aid_budget_once"),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(reserved__gte=0) & Q(spent__gte=0),
                name="aid_budget_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=F("reserved") + F("spent")), name="aid_budget_never_overspent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund} {self.year}"

    @property
    def left(self) -> Decimal:
        return self.amount - self.reserved - self.spent


class Allocation(AppendOnlyModel):
    """Money moved from a parent organisation's budget to a child's (same fund and year)."""

    parent = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="allocations_out")
    child = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="allocations_in")
    org_path = models.CharField(max_length=255, editable=False)
    amount = models.DecimalField(_("下拨金额"), **MONEY)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("资金下拨")
        verbose_name_plural = _("资金下拨")
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="aid_allocation_positive")]


class LedgerKind(models.TextChoices):
    FUNDED = "funded", _("预算拨入")
    ALLOCATED_OUT = "allocated_out", _("下拨支出")
    RESERVED = "reserved", _("预留")
    RELEASED = "released", _("释放")
    PAID = "paid", _("支付")


class LedgerEntry(AppendOnlyModel):
    """One movement of a budget. amount > 0; the kind says which figure moved:
    funded/allocated_out move `amount`, reserved/released move `reserved`, paid moves
    `reserved` → `spent`."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="ledger")
    org_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField(_("类型"), max_length=14, choices=LedgerKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    grant = models.ForeignKey("Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("资金台账")
        verbose_name_plural = _("资金台账")
        ordering = ["-id"]
        # Covering (PostgreSQL): the budget page sums a budget's ledger by kind from the index alone.
        indexes = [models.Index(fields=["budget", "kind"], include=["amount"], name="aid_ledger_budget_kind_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="aid_ledger_positive")]


class GrantStatus(models.TextChoices):
    PROPOSED = "proposed", _("待审批")
    RESERVED = "reserved", _("已批准待发放")
    PAID = "paid", _("已发放")
    CANCELLED = "cancelled", _("已取消")
    REJECTED = "rejected", _("未批准")


class Campaign(models.Model):
    """A seasonal campaign (送温暖 / 助学) over the active files of a subtree."""

    class Kind(models.TextChoices):
        WARMTH = "warmth", _("送温暖")
        EDUCATION = "education", _("金秋助学")

    class Status(models.TextChoices):
        DRAFT = "draft", _("未开始")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("未完成")

    name = models.CharField(_("活动名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    organization = models.ForeignKey(Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    budget = models.ForeignKey(Budget, verbose_name=_("支出预算"), on_delete=models.PROTECT, related_name="+")
    amount_per_file = models.DecimalField(_("每户金额（元）"), **MONEY)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    progress_total = models.PositiveIntegerField(_("应处理户数"), default=0)
    progress_done = models.PositiveIntegerField(_("已处理户数"), default=0)
    message = models.CharField(_("结果说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Lost-message recovery (assistance.services.campaigns.campaigns_redispatch): when the run
    # was last sent, how often the sweep re-sent it, the running worker's lease (renewed per
    # chunk; empty while queued) and how many workers claimed the run since it was started.
    dispatched_at = models.DateTimeField(_("最近派发时间"), null=True, blank=True)
    redispatches = models.PositiveSmallIntegerField(_("重新派发次数"), default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("帮扶活动")
        verbose_name_plural = _("帮扶活动")
        ordering = ["-id"]
        indexes = [
            # The sweep's look-up every minute: only running campaigns.
            models.Index(fields=["dispatched_at"], name="campaign_running_idx", condition=models.Q(status="running"))
        ]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A grant to a file: reserved from a budget when approved, spent when paid."""

    file = models.ForeignKey(HardshipFile, on_delete=models.PROTECT, related_name="grants")
    org_path = models.CharField(max_length=255, editable=False)
    kind = models.CharField(_("救助类别"), max_length=12, choices=AidKind.choices)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    budget = models.ForeignKey(Budget, verbose_name=_("支出预算"), on_delete=models.PROTECT, related_name="grants")
    # What identifies a grant besides file and kind: the year ("2026") or a campaign ("c12").
    period = models.CharField(_("期间"), max_length=20)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    status = models.CharField(_("状态"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.PROPOSED)
    is_emergency = models.BooleanField(_("应急"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("救助发放")
        verbose_name_plural = _("救助发放")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status", "id"],
                name="aid_grant_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["file", "kind", "period"], name="aid_grant_once_per_period"),
            models.UniqueConstraint(
                fields=["campaign", "file"], condition=Q(campaign__isnull=False), name="aid_grant_once_per_campaign"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="aid_grant_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.file} {self.get_kind_display()} {self.amount}"
