"""Labour-dispute mediation: bodies, mediators, cases on the statutory clock, agreements, early warning.

Scoping: every case copies the path of its mediation body's organisation (`org_path`), so a
district sees its whole subtree with one indexed prefix match. Rows that hang off a case
(parties, claims, sessions, clock events…) are scoped through `case__org_path`.

The deadline is never stored: it is derived from the append-only ClockEvent rows (start,
suspend, resume, extend) by `disputes.clock`, so a pause can never corrupt it.

Dispute facts and applicants' ID numbers are personal data: Fernet tokens (core.crypto),
with a keyed blind index for the ID number, masked on every screen.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.scoping import ScopedQuerySet
from organizations.models import Enterprise, Organization

PATTERN_OPS = ["varchar_pattern_ops"]
COLLECTIVE_THRESHOLD = 10  # 劳动争议调解仲裁法 art. 7: 10 or more workers with a common claim


class BodyKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业劳动争议调解委员会")
    STREET = "street", _("街道（乡镇）工会调解中心")
    DISTRICT = "district", _("区工会调解中心")


class DisputeKind(models.TextChoices):
    WAGES = "wages", _("拖欠工资")
    CONTRACT = "contract", _("劳动合同")
    DISMISSAL = "dismissal", _("解除合同与经济补偿")
    SOCIAL_INSURANCE = "social_insurance", _("社会保险")
    WORK_INJURY = "work_injury", _("工伤")
    WORKING_HOURS = "working_hours", _("工作时间与休息休假")
    OTHER = "other", _("其他")


class MediationBody(models.Model):
    """A mediation committee or centre hanging at a node of the organisation tree."""

    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=12, choices=BodyKind.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="mediation_bodies"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("所在企业"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    org_path = models.CharField(max_length=255, editable=False)
    is_active = models.BooleanField(_("运行中"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("调解组织")
        verbose_name_plural = _("调解组织")
        ordering = ["org_path", "id"]
        indexes = [models.Index(fields=["org_path"], name="medbody_path_idx", opclasses=PATTERN_OPS)]

    def __str__(self) -> str:
        return self.name


class Mediator(models.Model):
    class Employment(models.TextChoices):
        FULL_TIME = "full_time", _("专职")
        PART_TIME = "part_time", _("兼职")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("账号"), on_delete=models.PROTECT, related_name="mediator_posts"
    )
    body = models.ForeignKey(
        MediationBody, verbose_name=_("调解组织"), on_delete=models.PROTECT, related_name="mediators"
    )
    name = models.CharField(_("姓名"), max_length=50)
    employment = models.CharField(_("专兼职"), max_length=10, choices=Employment.choices)
    # A list of DisputeKind values; the load is derived (open cases assigned), never stored.
    specialities = models.JSONField(_("擅长类型"), default=list, blank=True)
    is_head = models.BooleanField(_("调解组织负责人"), default=False)
    is_active = models.BooleanField(_("在岗"), default=True)
    org_path = models.CharField(max_length=255, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        ordering = ["body_id", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "body"], name="mediator_user_body_unique")]
        indexes = [models.Index(fields=["org_path"], name="mediator_path_idx", opclasses=PATTERN_OPS)]

    def __str__(self) -> str:
        return self.name


OPEN_STATES = ("received", "accepted", "assigned", "in_mediation")


class CaseQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATES)


class Case(models.Model):
    class Track(models.TextChoices):
        MEDIATION = "mediation", _("劳动争议调解")
        LEGAL_AID = "legal_aid", _("法律援助")

    class Channel(models.TextChoices):
        WALK_IN = "walk_in", _("来访")
        HOTLINE = "hotline", _("12351 热线")
        ONLINE = "online", _("网上申请")
        PETITION = "petition", _("信访")
        COURT_DELEGATED = "court_delegated", _("法院委派调解")
        COURT_ENTRUSTED = "court_entrusted", _("法院委托调解")
        REFERRAL = "referral", _("调解不成转法律援助")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已收件")
        ACCEPTED = "accepted", _("已受理")
        DECLINED = "declined", _("不予受理")
        ASSIGNED = "assigned", _("已指派")
        IN_MEDIATION = "in_mediation", _("调解中")
        AGREED = "agreed", _("达成协议")
        FAILED = "failed", _("调解不成")
        WITHDRAWN = "withdrawn", _("已撤回")
        CONFIRMING = "confirming", _("司法确认中")
        FULFILLED = "fulfilled", _("履行已核查")
        CLOSED = "closed", _("已结案")
        VISITED = "visited", _("已回访")

    class Referral(models.TextChoices):
        NONE = "", _("无")
        ARBITRATION = "arbitration", _("劳动人事争议仲裁")
        COURT = "court", _("人民法院")
        LEGAL_AID = "legal_aid", _("法律援助")

    COURT_CHANNELS = frozenset({Channel.COURT_DELEGATED, Channel.COURT_ENTRUSTED})

    number = models.CharField(_("案号"), max_length=30, unique=True, editable=False)
    track = models.CharField(_("业务"), max_length=10, choices=Track.choices, default=Track.MEDIATION)
    body = models.ForeignKey(MediationBody, verbose_name=_("调解组织"), on_delete=models.PROTECT, related_name="cases")
    org_path = models.CharField(max_length=255, editable=False)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    court_name = models.CharField(_("委派/委托法院"), max_length=80, blank=True)
    court_reference = models.CharField(_("法院案号"), max_length=60, blank=True)
    # The court's own date, not derived: the earlier of it and the statutory end wins.
    court_return_deadline = models.DateField(_("法院要求退回日期"), null=True, blank=True)
    respondent_enterprise = models.ForeignKey(
        Enterprise,
        verbose_name=_("被申请单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute_cases",
    )
    respondent_name = models.CharField(_("被申请单位名称"), max_length=120)
    kind = models.CharField(_("争议类型"), max_length=20, choices=DisputeKind.choices)
    facts_enc = models.TextField(editable=False, blank=True)
    facts_length = models.PositiveIntegerField(default=0, editable=False)
    workers_involved = models.PositiveIntegerField(_("涉及职工人数"), default=1)
    is_collective = models.BooleanField(_("集体争议"), default=False)
    escalated_to = models.ForeignKey(
        Organization, verbose_name=_("已上报"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=14, choices=Status.choices, default=Status.RECEIVED)
    mediator = models.ForeignKey(
        Mediator, verbose_name=_("承办调解员"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    received_on = models.DateField(_("收到申请日期"))
    decline_reason = models.CharField(_("不予受理理由"), max_length=200, blank=True)
    failure_reason = models.CharField(_("调解不成原因"), max_length=200, blank=True)
    referral = models.CharField(_("转处"), max_length=12, choices=Referral.choices, blank=True, default="")
    referred_from = models.ForeignKey(
        "self", verbose_name=_("转自案件"), null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("自助申请账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dispute_cases",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("调解案件")
        verbose_name_plural = _("调解案件")
        ordering = ["-is_collective", "-id"]
        indexes = [
            # Lists: a subtree (prefix) + status, collective first, newest first.
            models.Index(
                fields=["org_path", "status", "id"],
                name="case_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["mediator", "status"], name="case_mediator_status_idx"),
            models.Index(fields=["body", "status"], name="case_body_status_idx"),
            models.Index(
                fields=["respondent_enterprise", "received_on"],
                name="case_enterprise_idx",
                condition=Q(respondent_enterprise__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_collective=True) | Q(workers_involved__lt=COLLECTIVE_THRESHOLD),
                name="case_collective_when_ten_or_more",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_court_linked(self) -> bool:
        return self.channel in self.COURT_CHANNELS

    # Evidence and documents (core.attachments): staff by the visibility rule of
    # disputes.selectors.cases_for_user; a worker only on the case they applied for.
    attachment_staff_selector = "disputes.selectors.cases_for_user"

    def attachment_visible_to_worker(self, user) -> bool:
        return self.applicant_user_id is not None and self.applicant_user_id == user.pk


class Claim(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="claims")
    description = models.CharField(_("请求事项"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("请求事项")
        verbose_name_plural = _("请求事项")
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0) | Q(amount__isnull=True), name="claim_amount_ge_0")
        ]

    def __str__(self) -> str:
        return self.description


class CaseParty(models.Model):
    class Role(models.TextChoices):
        APPLICANT = "applicant", _("申请人")
        REPRESENTATIVE = "representative", _("代表人")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(_("身份"), max_length=16, choices=Role.choices, default=Role.APPLICANT)
    name = models.CharField(_("姓名"), max_length=50)
    member = models.ForeignKey(
        "members.Member", verbose_name=_("会员"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    id_number_enc = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    mobile_masked = models.CharField(_("手机号码"), max_length=11, blank=True, editable=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["id_number_hash"], name="party_id_hash_idx")]

    def __str__(self) -> str:
        return self.name


class ClockEvent(models.Model):
    """One event of a case's statutory clock. Append-only: the deadline is derived from these."""

    class Kind(models.TextChoices):
        START = "start", _("起算")
        SUSPEND = "suspend", _("中止")
        RESUME = "resume", _("恢复")
        EXTEND = "extend", _("经双方同意延长")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="clock_events")
    kind = models.CharField(_("事件"), max_length=8, choices=Kind.choices)
    on = models.DateField(_("日期"))
    days = models.PositiveIntegerField(_("延长天数"), default=0)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("时限事件")
        verbose_name_plural = _("时限事件")
        ordering = ["case_id", "on", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DomainError(_("时限事件只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DomainError(_("时限事件只能追加，不能删除。"))


class Session(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("地点"), max_length=120)
    attendees = models.CharField(_("参加人员"), max_length=300)
    notes = models.TextField(_("调解记录"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["case_id", "held_at", "id"]

    def __str__(self) -> str:
        return f"{self.held_at:%Y-%m-%d %H:%M} {self.place}"


class Agreement(models.Model):
    case = models.OneToOneField(Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="agreement")
    text = models.TextField(_("协议内容"))
    signed_by_applicants = models.BooleanField(_("申请人已签字"), default=False)
    signed_by_respondent = models.BooleanField(_("被申请人已签字"), default=False)
    signed_by_mediator = models.BooleanField(_("调解员已签字"), default=False)
    effective_on = models.DateField(_("生效日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return str(_("调解协议 %(n)s") % {"n": self.case.number})


class JudicialConfirmation(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("审查中")
        CONFIRMED = "confirmed", _("裁定有效")
        REFUSED = "refused", _("驳回申请")

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="confirmation")
    court = models.CharField(_("受理法院"), max_length=80)
    applied_on = models.DateField(_("申请日期"))
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    decided_on = models.DateField(_("裁定日期"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("司法确认")
        verbose_name_plural = _("司法确认")

    def __str__(self) -> str:
        return f"{self.court} {self.get_outcome_display()}"


class Fulfilment(models.Model):
    class Outcome(models.TextChoices):
        PAID = "paid", _("已履行")
        PARTLY = "partly", _("部分履行")
        NOT = "not", _("未履行")

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="fulfilment")
    outcome = models.CharField(_("履行情况"), max_length=8, choices=Outcome.choices)
    amount_paid = models.DecimalField(_("已支付金额（元）"), max_digits=14, decimal_places=2, default=0)
    checked_on = models.DateField(_("核查日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("履行核查")
        verbose_name_plural = _("履行核查")
        constraints = [models.CheckConstraint(condition=Q(amount_paid__gte=0), name="fulfilment_paid_ge_0")]

    def __str__(self) -> str:
        return self.get_outcome_display()


class ReturnVisit(models.Model):
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="return_visit")
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1–5）"))
    comments = models.CharField(_("意见"), max_length=300, blank=True)
    visited_on = models.DateField(_("回访日期"))
    by_worker = models.BooleanField(_("职工自评"), default=False)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "case__org_path"

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        constraints = [
            models.CheckConstraint(condition=Q(satisfaction__gte=1, satisfaction__lte=5), name="visit_satisfaction_1_5")
        ]

    def __str__(self) -> str:
        return f"{self.satisfaction}/5"


class EnterpriseRisk(models.Model):
    """An enterprise's early-warning score, recomputed by a Celery task from recent cases."""

    enterprise = models.OneToOneField(Enterprise, on_delete=models.CASCADE, related_name="dispute_risk")
    org_path = models.CharField(max_length=255, editable=False)
    score = models.PositiveSmallIntegerField(_("风险分"))
    explanation = models.JSONField(_("依据"), default=list)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("企业风险")
        verbose_name_plural = _("企业风险")
        ordering = ["-score", "id"]
        indexes = [
            models.Index(
                fields=["org_path", "score"], name="risk_path_score_idx", opclasses=["varchar_pattern_ops", "int2_ops"]
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.score}"


class BodySummary(models.Model):
    """The district overview's figures for one mediation body, kept current.

    Rewritten from the body's cases inside the transaction of every case or clock change
    (disputes.summary, under this row's lock, so concurrent writers queue and the last one
    counts everything committed), and by a periodic task for the states that time alone
    changes (overdue). The overview adds up these rows over a subtree: a few hundred rows
    instead of every case of a district (0.7 s at 10M members, README).
    """

    body = models.OneToOneField(MediationBody, primary_key=True, on_delete=models.CASCADE, related_name="summary")
    org_path = models.CharField(max_length=255, editable=False)
    total = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    collective_open = models.PositiveIntegerField(default=0)
    agreed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    closed_count = models.PositiveIntegerField(default=0)
    closed_days = models.BigIntegerField(default=0)  # sum over closed cases of (closed_on - received_on)
    by_kind = models.JSONField(default=dict)
    overdue_as_of = models.DateField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("调解组织汇总")
        verbose_name_plural = _("调解组织汇总")
        indexes = [models.Index(fields=["org_path"], name="medsummary_path_idx", opclasses=PATTERN_OPS)]

    def __str__(self) -> str:
        return f"{self.body_id}: {self.total}"
