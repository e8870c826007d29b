"""People, memberships, member numbers, join codes and applications, transfers, honours, imports.

Personal data (ID number, mobile) is never stored in plain text: each is kept as a Fernet
token (`*_enc`), a keyed blind index for exact lookup (`*_hash`) and a masked form for
display (`*_masked`). See core/crypto.py (the fields are registered for key rotation in apps.py).

Scoping: a member is seen through the union of their latest membership — the active one
while they are a member — copied onto `Member.org_path`. After a transfer the old union
keeps its (ended) Membership row for history but no longer reaches the person.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.roles import VIEW
from core.scoping import ScopedQuerySet, scope_q
from organizations.models import Enterprise, Organization

PATTERN_OPS = ["varchar_pattern_ops"]


class EmploymentForm(models.TextChoices):
    FULL_TIME = "full_time", _("全日制")
    PART_TIME = "part_time", _("非全日制")
    DISPATCHED = "dispatched", _("劳务派遣")
    FLEXIBLE = "flexible", _("灵活就业")
    COURIER = "courier", _("快递员")
    RIDER = "rider", _("外卖骑手")
    RIDE_HAILING = "ride_hailing", _("网约车司机")
    TRUCK_DRIVER = "truck_driver", _("货车司机")
    DOMESTIC = "domestic", _("家政服务员")
    PLATFORM_OTHER = "platform_other", _("其他平台就业")


NEW_EMPLOYMENT_FORMS = frozenset(
    {
        EmploymentForm.COURIER,
        EmploymentForm.RIDER,
        EmploymentForm.RIDE_HAILING,
        EmploymentForm.TRUCK_DRIVER,
        EmploymentForm.DOMESTIC,
        EmploymentForm.PLATFORM_OTHER,
    }
)


class Education(models.TextChoices):
    PRIMARY = "primary", _("小学及以下")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中/中专/技校")
    COLLEGE = "college", _("大专")
    BACHELOR = "bachelor", _("本科")
    POSTGRADUATE = "postgraduate", _("研究生")


class SkillLevel(models.TextChoices):
    NONE = "none", _("无")
    LEVEL5 = "level5", _("初级工（五级）")
    LEVEL4 = "level4", _("中级工（四级）")
    LEVEL3 = "level3", _("高级工（三级）")
    LEVEL2 = "level2", _("技师（二级）")
    LEVEL1 = "level1", _("高级技师（一级）")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Member(models.Model):
    """A person on the roll (one row per real person, keyed by the ID number's blind index)."""

    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(_("姓名拼音首字母"), max_length=30, blank=True, editable=False)
    id_number_enc = models.TextField(editable=False)
    # Unique through Meta.constraints, not unique=True: on PostgreSQL that would also add a
    # second, LIKE-pattern index nobody uses (exact matches only), paid on every insert.
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    mobile_enc = models.TextField(editable=False)
    mobile_hash = models.CharField(max_length=64, editable=False)
    mobile_masked = models.CharField(_("手机号码"), max_length=11, editable=False)
    # Mostly empty on big rolls: indexed (partially, below) only where set, so bulk imports
    # do not maintain an index entry per NULL.
    employer = models.ForeignKey(
        Enterprise,
        verbose_name=_("工作单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    employer_name = models.CharField(_("工作单位名称"), max_length=120, blank=True)
    employment_form = models.CharField(
        _("就业形态"), max_length=16, choices=EmploymentForm.choices, default=EmploymentForm.FULL_TIME
    )
    is_migrant_worker = models.BooleanField(_("农民工"), default=False)
    education = models.CharField(_("文化程度"), max_length=16, choices=Education.choices, blank=True)
    skill_level = models.CharField(_("技能等级"), max_length=8, choices=SkillLevel.choices, blank=True)
    # One account per person, enforced by a partial unique index (only rows that have one):
    # most members imported by clerks never sign in.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("职工账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member_records",
        db_index=False,
    )
    # The latest membership (the active one while the person is a member) and its union's
    # path: one indexed column scopes this 10M-row table without a join.
    # A denormalised pointer kept by the services and the importer. Not indexed and not a
    # database FK: memberships are never deleted (Membership.member is PROTECT), and the
    # check would cost a lookup per row of every bulk import.
    current_membership = models.ForeignKey(
        "Membership",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    org_path = models.CharField(max_length=255, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["org_path", "id"], name="member_path_id_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            # Name and initials search: (column, org_path, id) in byte order, built by
            # migration 0006 (a "C" collation cannot be declared for SQLite here).
            models.Index(fields=["mobile_hash"], name="member_mobile_hash_idx"),
            models.Index(fields=["employer"], name="member_employer_idx", condition=Q(employer__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="member_id_hash_unique"),
            models.UniqueConstraint(fields=["user"], condition=Q(user__isnull=False), name="member_user_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"


class Membership(models.Model):
    """A person's membership of one union, from joining to leaving or transferring out."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("申请中")
        ACTIVE = "active", _("在册")
        TRANSFERRED_OUT = "transferred_out", _("已转出")
        LEFT = "left", _("已退会")
        RETIRED = "retired", _("已退休")
        DECEASED = "deceased", _("已故")

    # Both foreign keys are served by the composite indexes below, not by single-column ones.
    member = models.ForeignKey(
        Member, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="memberships", db_index=False
    )
    union = models.ForeignKey(
        Organization, verbose_name=_("所在工会"), on_delete=models.PROTECT, related_name="memberships", db_index=False
    )
    org_path = models.CharField(max_length=255, editable=False)
    member_number = models.CharField(_("会员编号"), max_length=24)  # unique: see Meta.constraints
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    joined_on = models.DateField(_("入会日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("会籍")
        verbose_name_plural = _("会籍")
        ordering = ["-joined_on", "-id"]
        indexes = [
            models.Index(
                fields=["org_path", "id"], name="membership_path_id_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            models.Index(fields=["member", "-id"], name="membership_member_idx"),
            models.Index(fields=["union", "status"], name="membership_union_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member_number"], name="membership_number_unique"),
            # One person, at most one active membership (ACFTU constitution art. 1: one union).
            models.UniqueConstraint(fields=["member"], condition=Q(status="active"), name="membership_one_active"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("joined_on")),
                name="membership_dates_order",
            ),
        ]

    def __str__(self) -> str:
        return self.member_number

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MemberNumberCounter(models.Model):
    """The next member-number sequence of one union, locked row-wise while numbers are drawn.

    Member number = prefix (6-digit region code of the union's district + 7-digit union
    block) + 6-digit sequence. The prefix is fixed when the counter is created, so numbers
    never change when the union later moves in the tree.
    """

    union = models.OneToOneField(Organization, on_delete=models.PROTECT, primary_key=True, related_name="+")
    prefix = models.CharField(max_length=16)
    next_seq = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("会员编号计数器")
        verbose_name_plural = _("会员编号计数器")

    def __str__(self) -> str:
        return f"{self.prefix}…{self.next_seq}"


class JoinCode(models.Model):
    """The token behind a scan-to-join QR code: owned by a union (optionally posted at a station)."""

    union = models.ForeignKey(Organization, verbose_name=_("受理工会"), on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey(
        "organizations.ServiceStation",
        verbose_name=_("服务站点"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    org_path = models.CharField(max_length=255, editable=False)
    token = models.CharField(max_length=32, editable=False)  # unique: see Meta.constraints
    label = models.CharField(_("名称"), max_length=120, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("入会二维码")
        verbose_name_plural = _("入会二维码")
        ordering = ["-id"]
        indexes = [models.Index(fields=["org_path"], name="joincode_path_idx", opclasses=PATTERN_OPS)]
        constraints = [models.UniqueConstraint(fields=["token"], name="joincode_token_unique")]

    def __str__(self) -> str:
        return self.label or str(self.union)


class JoinApplication(models.Model):
    """A worker's application to join, from a join code, waiting for the owning union."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    class IdentityCheck(models.TextChoices):
        """The applicant's credentials, when the person already had an account (a returning member)."""

        NONE = "", _("无需核验")
        PENDING = "pending", _("待本人核验")
        IN_PERSON = "in_person", _("已当面核验")
        EXPIRED = "expired", _("核验已过期")
        REFUSED = "refused", _("本人已拒绝")

    code = models.ForeignKey(JoinCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    union = models.ForeignKey(Organization, verbose_name=_("受理工会"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    name = models.CharField(_("姓名"), max_length=50)
    id_number_enc = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_masked = models.CharField(_("身份证号码"), max_length=18, editable=False)
    mobile_enc = models.TextField(editable=False)
    mobile_hash = models.CharField(max_length=64, editable=False)
    mobile_masked = models.CharField(_("手机号码"), max_length=11, editable=False)
    employer_name = models.CharField(_("工作单位"), max_length=120, blank=True)
    employment_form = models.CharField(_("就业形态"), max_length=16, choices=EmploymentForm.choices)
    is_migrant_worker = models.BooleanField(_("农民工"), default=False)
    # Hash of the password the applicant chose (never the password itself); becomes the
    # password of a NEW worker account on approval. For a person who already has an
    # account it is applied only after a clerk checks them in person (identity_check).
    password_hash = models.CharField(max_length=255, blank=True, editable=False)
    # A returning member's approval keeps the account's password and mobile: the mobile
    # and password given here wait for an in-person check (issue 16, account takeover).
    identity_check = models.CharField(
        _("身份核验"), max_length=10, choices=IdentityCheck.choices, default=IdentityCheck.NONE, blank=True
    )
    consent = models.BooleanField(_("同意个人信息处理告知"), default=False)
    notice_version = models.CharField(_("告知书版本"), max_length=20)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("驳回理由"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("入会申请")
        verbose_name_plural = _("入会申请")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["org_path", "status", "id"],
                name="joinapp_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_ops", "int8_ops"],
            ),
            models.Index(fields=["id_number_hash"], name="joinapp_id_hash_idx"),
        ]
        constraints = [
            # One open application per person: a second scan while one waits is refused.
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=Q(status="pending"), name="joinapp_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"


class TransferQuerySet(ScopedQuerySet):
    def for_user(self, user, capability: str = VIEW):
        """Both ends of a transfer see it: the union it leaves and the union it goes to.

        Except that the receiving end does not see a request still awaiting the worker's or
        the releasing union's consent: otherwise asking by ID number would tell it whether,
        and where, a person is a member before anyone agreed.
        """
        return self.filter(
            scope_q(user, "from_path", capability)
            | (scope_q(user, "to_path", capability) & ~Q(status=Transfer.Status.AWAITING))
        )


class Transfer(models.Model):
    """Moving a membership to another union (会员关系转接), accepted by the receiving union."""

    class Status(models.TextChoices):
        # Asked for by the receiving union: the worker or the releasing union must agree
        # before the receiving union may accept (else any clerk could pull anyone in).
        AWAITING = "awaiting", _("待本人或转出工会同意")
        REQUESTED = "requested", _("待接收")
        ACCEPTED = "accepted", _("已接收")
        REJECTED = "rejected", _("已拒绝")
        DECLINED = "declined", _("未获同意")
        CANCELLED = "cancelled", _("已撤回")

    OPEN_STATUSES = (Status.AWAITING, Status.REQUESTED)

    class Side(models.TextChoices):
        FROM = "from", _("转出工会")
        TO = "to", _("转入工会")
        WORKER = "worker", _("会员本人")

    member = models.ForeignKey(Member, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="transfers")
    from_membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    from_union = models.ForeignKey(Organization, verbose_name=_("转出工会"), on_delete=models.PROTECT, related_name="+")
    to_union = models.ForeignKey(Organization, verbose_name=_("转入工会"), on_delete=models.PROTECT, related_name="+")
    from_path = models.CharField(max_length=255, editable=False)
    to_path = models.CharField(max_length=255, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_side = models.CharField(_("发起方"), max_length=8, choices=Side.choices)
    reason = models.CharField(_("转接原因"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=200, blank=True)
    new_membership = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("会员关系转接")
        verbose_name_plural = _("会员关系转接")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["from_path", "id"], name="transfer_from_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            models.Index(
                fields=["to_path", "id"], name="transfer_to_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=Q(status__in=["awaiting", "requested"]), name="transfer_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name}：{self.from_union} → {self.to_union}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Honour(models.Model):
    """An honour a member holds: model worker, May-Day medal, craftsman."""

    class Kind(models.TextChoices):
        NATIONAL_MODEL = "national_model", _("全国劳动模范")
        PROVINCIAL_MODEL = "provincial_model", _("省部级劳动模范")
        CITY_MODEL = "city_model", _("市级劳动模范")
        NATIONAL_MAY_DAY = "national_may_day", _("全国五一劳动奖章")
        CITY_MAY_DAY = "city_may_day", _("市五一劳动奖章")
        CITY_CRAFTSMAN = "city_craftsman", _("市级工匠")

    member = models.ForeignKey(Member, verbose_name=_("会员"), on_delete=models.PROTECT, related_name="honours")
    kind = models.CharField(_("荣誉类别"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("授予年度"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "member__org_path"

    class Meta:
        verbose_name = _("荣誉")
        verbose_name_plural = _("荣誉")
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "year"], name="honour_unique"),
            models.CheckConstraint(condition=Q(year__gte=1950) & Q(year__lte=2100), name="honour_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.year}）"


class ImportJob(models.Model):
    """One roster upload: claimed by a worker task, with progress and a per-row report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("处理中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("未导入")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("全部正确才导入")
        VALID_ONLY = "valid_only", _("只导入正确的行")

    union = models.ForeignKey(Organization, verbose_name=_("导入到工会"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    mode = models.CharField(_("导入方式"), max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    file_name = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(max_length=8)
    # Relative to MEDIA_ROOT. The upload holds plain ID numbers, so it is deleted as soon
    # as the job has run; the report and error file hold masked IDs only.
    upload_path = models.CharField(max_length=255, blank=True)
    report_path = models.CharField(max_length=255, blank=True)
    error_path = models.CharField(max_length=255, blank=True)
    # The uploader's own error workbook with the numbers they typed, encrypted at rest
    # (members.importer.import_job_errors serves it to them only).
    error_full_path = models.CharField(max_length=255, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=12, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Lost-message recovery (members.importer.jobs.import_jobs_redispatch): when the task was
    # last sent, how often the sweep re-sent it, the running worker's lease (renewed while it
    # runs) and how many workers claimed it.
    dispatched_at = models.DateTimeField(_("最近派发时间"), null=True, blank=True)
    redispatches = models.PositiveSmallIntegerField(_("重新派发次数"), default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("会员导入任务")
        verbose_name_plural = _("会员导入任务")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["org_path", "id"], name="importjob_path_idx", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            # The sweep's look-up every minute: only unfinished jobs, however many exist.
            models.Index(
                fields=["dispatched_at"],
                name="importjob_unfinished_idx",
                condition=models.Q(status__in=["pending", "running"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.get_status_display()}）"


class PasswordResetCode(models.Model):
    """A one-time code sent by SMS to a worker's mobile to set a new password (issue 15).

    Only a hash of the code is kept (the code itself exists only in the text message). A
    code is short-lived (PASSWORD_RESET_CODE_SECONDS), used once, and dies after
    PASSWORD_RESET_MAX_ATTEMPTS wrong guesses; asking again replaces it. Rows are found by
    the mobile's blind index, as at sign-in. Not scoped: no staff page reads them.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mobile_hash = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(max_length=255, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("密码重置验证码")
        verbose_name_plural = _("密码重置验证码")
        indexes = [models.Index(fields=["mobile_hash", "-created_at"], name="pwreset_mobile_idx")]

    def __str__(self) -> str:
        return f"#{self.pk}"
