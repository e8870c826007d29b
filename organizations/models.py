"""The organisation tree, the enterprise registry, officers, stations, users and roles."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from core.scoping import ScopedQuerySet

from .validators import validate_credit_code, validate_phone, validate_region_code


class User(AbstractUser):
    """A person who signs in: union staff (reach from role assignments) or a worker."""

    class Kind(models.TextChoices):
        STAFF = "staff", _("工会工作人员")
        WORKER = "worker", _("职工/会员")

    kind = models.CharField(_("账号类型"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_worker(self) -> bool:
        return self.kind == self.Kind.WORKER

    def save(self, *args, **kwargs):
        # A new password (set_password, through any door: the admin, `changepassword`, a
        # reset) revokes the API tokens issued against the old one. Django ends the other
        # sessions itself (the session hash follows the password) but not DRF tokens. This
        # sits here rather than in each service so that no door can forget it; a hash
        # upgrade at sign-in (check_password's setter) leaves `_password` unset and keeps them.
        password_changed = self.pk is not None and self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            from rest_framework.authtoken.models import Token

            Token.objects.filter(user=self).delete()


class OrgKind(models.TextChoices):
    CITY = "city", _("市总工会")
    DISTRICT = "district", _("区（县）总工会")
    STREET = "street", _("街道（乡镇）总工会")
    INDUSTRY_UNION = "industry_union", _("产业工会")
    INDUSTRY_FEDERATION = "industry_federation", _("行业工会联合会")
    REGIONAL_FEDERATION = "regional_federation", _("区域性工会联合会")
    PARK = "park", _("园区（开发区）总工会")
    BUILDING = "building", _("楼宇工会")
    GRASSROOTS = "grassroots", _("基层工会")
    UNION_GROUP = "union_group", _("工会小组")


K = OrgKind
# Which kind may sit directly under which ("three levels of organisation, four levels of
# network"). Roots may only be city federations.
ALLOWED_CHILD_KINDS: dict[str, frozenset[str]] = {
    K.CITY: frozenset({K.DISTRICT, K.INDUSTRY_UNION, K.INDUSTRY_FEDERATION, K.PARK}),
    K.DISTRICT: frozenset({K.STREET, K.PARK, K.INDUSTRY_FEDERATION, K.REGIONAL_FEDERATION, K.GRASSROOTS}),
    K.STREET: frozenset({K.REGIONAL_FEDERATION, K.BUILDING, K.INDUSTRY_FEDERATION, K.GRASSROOTS, K.UNION_GROUP}),
    K.INDUSTRY_UNION: frozenset({K.INDUSTRY_FEDERATION, K.GRASSROOTS}),
    K.INDUSTRY_FEDERATION: frozenset({K.GRASSROOTS}),
    K.REGIONAL_FEDERATION: frozenset({K.BUILDING, K.GRASSROOTS}),
    K.PARK: frozenset({K.BUILDING, K.INDUSTRY_FEDERATION, K.GRASSROOTS}),
    K.BUILDING: frozenset({K.GRASSROOTS, K.UNION_GROUP}),
    K.GRASSROOTS: frozenset({K.UNION_GROUP}),
    K.UNION_GROUP: frozenset(),
}
ROOT_KINDS = frozenset({K.CITY})
# Kinds that carry a GB/T 2260 administrative division code.
REGION_KINDS = frozenset({K.CITY, K.DISTRICT})
# Kinds that can own a join QR code and so receive members directly.
MEMBER_HOLDING_KINDS = frozenset({K.GRASSROOTS, K.UNION_GROUP, K.STREET, K.BUILDING, K.REGIONAL_FEDERATION})


class OrganizationQuerySet(ScopedQuerySet, MP_NodeQuerySet):
    scope_path_field = "path"


class OrganizationManager(MP_NodeManager.from_queryset(OrganizationQuerySet)):
    def get_queryset(self):
        return OrganizationQuerySet(self.model, using=self._db).order_by("path")


class Organization(MP_Node):
    """A union body in the city's tree. Never hard-deleted: dissolved or merged instead."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        MERGED = "merged", _("已合并")
        DISSOLVED = "dissolved", _("已撤销")

    steplen = 4
    # path is compared by prefix (LIKE 'xxxx%') to scope every query; the pattern_ops
    # index below serves that on PostgreSQL whatever the database collation.
    name = models.CharField(_("名称"), max_length=120)
    short_name = models.CharField(_("简称"), max_length=40, blank=True)
    kind = models.CharField(_("类型"), max_length=24, choices=OrgKind.choices)
    region_code = models.CharField(
        _("行政区划代码"),
        max_length=6,
        blank=True,
        validators=[validate_region_code],
        help_text=_("GB/T 2260 六位代码，市、区（县）总工会填写。"),
    )
    credit_code = models.CharField(
        _("工会法人统一社会信用代码"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_phone])
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("并入"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    ended_on = models.DateField(_("撤销/合并日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganizationManager()

    class Meta:
        verbose_name = _("工会组织")
        verbose_name_plural = _("工会组织")
        indexes = [
            models.Index(fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            # The children of a node: depth = d + 1 and a path prefix (dashboards, the tree
            # browser, the monthly report). For the root the prefix matches the whole tree, so
            # only depth first makes it a range scan (bench/notes: 39 ms -> 0.6 ms at 115k orgs).
            models.Index(
                fields=["depth", "path"], name="org_depth_path_idx", opclasses=["int4_ops", "varchar_pattern_ops"]
            ),
            models.Index(fields=["kind", "status"], name="org_kind_status_idx"),
            models.Index(fields=["name"], name="org_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"], condition=~models.Q(credit_code=""), name="org_credit_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def ancestor_paths(self) -> list[str]:
        """Paths of this node's ancestors, root first (no query)."""
        return [self.path[:i] for i in range(self.steplen, len(self.path), self.steplen)]


class Enterprise(models.Model):
    """An employer in the registry, supervised by a street/town or park union."""

    class Ownership(models.TextChoices):
        STATE = "state", _("国有")
        COLLECTIVE = "collective", _("集体")
        PRIVATE = "private", _("私营")
        FOREIGN = "foreign", _("外商投资")
        HMT = "hmt", _("港澳台投资")
        OTHER = "other", _("其他")

    class Size(models.TextChoices):
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")

    class Industry(models.TextChoices):
        # GB/T 4754-2017 sections
        A = "A", _("A 农、林、牧、渔业")
        B = "B", _("B 采矿业")
        C = "C", _("C 制造业")
        D = "D", _("D 电力、热力、燃气及水生产和供应业")
        E = "E", _("E 建筑业")
        F = "F", _("F 批发和零售业")
        G = "G", _("G 交通运输、仓储和邮政业")
        H = "H", _("H 住宿和餐饮业")
        I = "I", _("I 信息传输、软件和信息技术服务业")  # noqa: E741
        J = "J", _("J 金融业")
        K = "K", _("K 房地产业")
        L = "L", _("L 租赁和商务服务业")
        M = "M", _("M 科学研究和技术服务业")
        N = "N", _("N 水利、环境和公共设施管理业")
        O = "O", _("O 居民服务、修理和其他服务业")  # noqa: E741
        P = "P", _("P 教育")
        Q = "Q", _("Q 卫生和社会工作")
        R = "R", _("R 文化、体育和娱乐业")
        S = "S", _("S 公共管理、社会保障和社会组织")
        T = "T", _("T 国际组织")

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code])
    name = models.CharField(_("企业名称"), max_length=120)
    ownership = models.CharField(_("经济类型"), max_length=12, choices=Ownership.choices)
    size = models.CharField(_("企业规模"), max_length=8, choices=Size.choices)
    industry = models.CharField(_("行业门类"), max_length=1, choices=Industry.choices)
    employees = models.PositiveIntegerField(_("职工人数"), default=0)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    supervisor = models.ForeignKey(
        Organization, verbose_name=_("属地工会"), on_delete=models.PROTECT, related_name="supervised_enterprises"
    )
    union = models.ForeignKey(
        Organization,
        verbose_name=_("本单位工会"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="enterprises",
    )
    # Copy of supervisor.path: scopes this big table with one indexed prefix match.
    org_path = models.CharField(max_length=255, editable=False, db_index=False)
    is_active = models.BooleanField(_("存续"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["org_path"], name="ent_org_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name"], name="ent_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_union(self) -> bool:
        return self.union_id is not None


class Officer(models.Model):
    """A union officer: chair, vice-chair, committee member, or a professional union worker."""

    class Position(models.TextChoices):
        CHAIR = "chair", _("主席")
        VICE_CHAIR = "vice_chair", _("副主席")
        COMMITTEE = "committee", _("委员")
        FUNDS_COMMITTEE = "funds_committee", _("经费审查委员")
        WOMEN_COMMITTEE = "women_committee", _("女职工委员")
        PROFESSIONAL = "professional", _("职业化工会工作者")

    class Election(models.TextChoices):
        DIRECT = "direct", _("会员直选")
        CONGRESS = "congress", _("会员（代表）大会选举")
        APPOINTED = "appointed", _("上级任命/委派")
        HIRED = "hired", _("社会化招聘")

    organization = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="officers"
    )
    name = models.CharField(_("姓名"), max_length=50)
    position = models.CharField(_("职务"), max_length=20, choices=Position.choices)
    term_start = models.DateField(_("任期开始"))
    term_end = models.DateField(_("任期结束"), null=True, blank=True)
    election = models.CharField(_("产生方式"), max_length=12, choices=Election.choices)
    is_full_time = models.BooleanField(_("专职"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("工会干部")
        verbose_name_plural = _("工会干部")
        ordering = ["organization_id", "position", "-term_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__isnull=True) | models.Q(term_end__gte=models.F("term_start")),
                name="officer_term_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_position_display()}）"


class ServiceStation(models.Model):
    """A place where workers are served: centre, station, rest stop, nursing room, classroom."""

    class Kind(models.TextChoices):
        CENTRE = "centre", _("职工服务中心")
        STATION = "station", _("职工服务站")
        POINT = "point", _("职工服务点")
        REST = "rest", _("户外职工爱心接力站")
        NURSING = "nursing", _("爱心妈咪小屋")
        CLASSROOM = "classroom", _("职工学堂")

    organization = models.ForeignKey(
        Organization, verbose_name=_("主办工会"), on_delete=models.PROTECT, related_name="stations"
    )
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    opening_hours = models.CharField(_("开放时间"), max_length=120, blank=True)
    services = models.TextField(_("服务内容"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True, validators=[validate_phone])
    is_active = models.BooleanField(_("开放中"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("服务站点")
        verbose_name_plural = _("服务站点")
        ordering = ["organization_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="station_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="station_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    FEDERATION_ADMIN = "federation_admin", _("工会管理员")
    CLERK = "clerk", _("业务经办")
    AID_OFFICER = "aid_officer", _("帮扶专员")
    MEDIATOR = "mediator", _("调解员")
    PROJECT_OFFICER = "project_officer", _("项目专员")
    AUDITOR = "auditor", _("审计（只读）")


class RoleAssignment(models.Model):
    """Gives a staff user a role over an organisation and its whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("工会组织"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        ordering = ["user_id", "organization_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"


class CoverageDirty(models.Model):
    """A union whose members changed since its summaries were last brought up to date.

    Marked in the same transaction as the change; organizations.services.
    coverage_refresh_dirty claims and clears the marks (issue 15: figures followed the
    roll only every 30 minutes). One row per union, however many changes: a burst of
    registrations is coalesced into one refresh.
    """

    union = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("待刷新的会员统计")
        verbose_name_plural = _("待刷新的会员统计")

    def __str__(self) -> str:
        return f"{self.union_id}"


class CoverageSummary(models.Model):
    """Subtree totals per organisation, so dashboards never COUNT(*) a whole district.

    Rebuilt by organizations.services.coverage_refresh (a periodic Celery task, and on
    demand); figures may lag writes by one refresh.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="coverage", primary_key=True
    )
    descendants = models.PositiveIntegerField(default=0)
    grassroots_unions = models.PositiveIntegerField(default=0)
    enterprises = models.PositiveIntegerField(default=0)
    unionized_enterprises = models.PositiveIntegerField(default=0)
    employees = models.PositiveBigIntegerField(default=0)
    members = models.PositiveBigIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("覆盖率汇总")
        verbose_name_plural = _("覆盖率汇总")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.enterprises} enterprises"

    @property
    def formation_rate(self) -> float | None:
        return self.unionized_enterprises / self.enterprises if self.enterprises else None

    @property
    def membership_rate(self) -> float | None:
        return self.members / self.employees if self.employees else None
