"""Every write to the organisation tree, the registry, officers, stations and roles.

Services are keyword-only, atomic, check the actor's capability at the place they act,
validate, write, and record an audit event. Views, API, admin and commands call these.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum, Value
from django.db.models.functions import Concat, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core import roles
from core.audit import log_action
from core.errors import NOT_IN_REACH, TransitionError
from core.scoping import forget_reach, has_capability, path_in_reach

from .models import (
    ALLOWED_CHILD_KINDS,
    REGION_KINDS,
    ROOT_KINDS,
    CoverageDirty,
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from .validators import normalize_credit_code

ORG_FIELDS = ("name", "short_name", "kind", "region_code", "credit_code", "address", "phone", "established_on")

# Big tables elsewhere copy an organisation's path (membership.org_path, case.org_path…).
# Apps register (model, path_field, org_fk_field) here in AppConfig.ready so that moving
# or merging an organisation rewrites every copy in the same transaction.
PATH_COPIES: list[tuple[type, str]] = [(Enterprise, "org_path")]

# Contributors to CoverageSummary.members: callables returning {org_path: count} of
# members held directly by each organisation. The members app registers one.
MEMBER_COUNTERS: list[Callable[[], dict[str, int]]] = []


def register_path_copy(model: type, field: str) -> None:
    if (model, field) not in PATH_COPIES:
        PATH_COPIES.append((model, field))


def register_member_counter(
    counter: Callable[[], dict[str, int]], *, at_paths: Callable[[list[str]], dict[str, int]] | None = None
) -> None:
    """`counter()` gives {union path: members held directly}; `at_paths(paths)` the same for a few paths."""
    if counter not in MEMBER_COUNTERS:
        MEMBER_COUNTERS.append(counter)
    if at_paths is not None and at_paths not in MEMBER_PATH_COUNTERS:
        MEMBER_PATH_COUNTERS.append(at_paths)


MEMBER_PATH_COUNTERS: list[Callable[[list[str]], dict[str, int]]] = []


# --- guards ---------------------------------------------------------------------------


def require(user, capability: str, org: Organization) -> None:
    """404 if `org` is outside the user's reach, 403 if inside but the role lacks `capability`."""
    if not path_in_reach(user, org.path):
        raise Http404(NOT_IN_REACH)
    if not has_capability(user, capability, org.path):
        raise PermissionDenied(_("您的角色在“%(org)s”没有此项操作权限。") % {"org": org.name})


def _check_child_kind(parent: Organization | None, kind: str) -> None:
    label = OrgKind(kind).label
    if parent is None:
        if kind not in ROOT_KINDS:
            raise ValidationError({"parent": _("“%(kind)s”必须设在上级工会之下，请选择上级组织。") % {"kind": label}})
        return
    if parent.status != Organization.Status.ACTIVE:
        raise ValidationError(
            {"parent": _("上级组织“%(name)s”已撤销或合并，不能在其下设立组织。") % {"name": parent.name}}
        )
    allowed = ALLOWED_CHILD_KINDS[parent.kind]
    if kind not in allowed:
        allowed_labels = "、".join(str(OrgKind(k).label) for k in OrgKind.values if k in allowed) or _(
            "（不可再设下级）"
        )
        raise ValidationError(
            {
                "kind": _("“%(parent_kind)s”之下不能设立“%(kind)s”。可设立的下级类型：%(allowed)s。")
                % {"parent_kind": OrgKind(parent.kind).label, "kind": label, "allowed": allowed_labels}
            }
        )


def _check_region_code(org: Organization, parent: Organization | None) -> None:
    if org.kind in REGION_KINDS:
        if not org.region_code:
            raise ValidationError({"region_code": _("市、区（县）总工会须填写 6 位行政区划代码（GB/T 2260）。")})
        if org.kind == OrgKind.CITY and org.region_code[4:] != "00":
            raise ValidationError({"region_code": _("市级行政区划代码应以 00 结尾（如上海市 310000）。")})
        if org.kind == OrgKind.DISTRICT:
            if org.region_code[4:] == "00":
                raise ValidationError(
                    {"region_code": _("区（县）行政区划代码的后两位不能是 00（如浦东新区 310115）。")}
                )
            city = _nearest_region_ancestor(parent)
            if city is not None and city.region_code and city.region_code[:2] != org.region_code[:2]:
                raise ValidationError(
                    {
                        "region_code": _("区（县）代码 %(code)s 不属于上级“%(city)s”（%(city_code)s），请核对前两位。")
                        % {"code": org.region_code, "city": city.name, "city_code": city.region_code}
                    }
                )
    elif org.region_code:
        raise ValidationError({"region_code": _("只有市、区（县）总工会填写行政区划代码，请留空。")})


def _nearest_region_ancestor(org: Organization | None) -> Organization | None:
    while org is not None:
        if org.kind in REGION_KINDS and org.region_code:
            return org
        org = Organization.objects.get_parent(org)
    return None


def _clean(org: Organization, parent: Organization | None) -> None:
    org.credit_code = normalize_credit_code(org.credit_code)
    org.full_clean(exclude=["path", "depth", "numchild"], validate_constraints=False)
    if org.credit_code:
        # The holder may lie outside the actor's reach, so the message does not name it.
        if Organization.objects.filter(credit_code=org.credit_code).exclude(pk=org.pk).exists():
            raise ValidationError({"credit_code": _("该统一社会信用代码已被其他工会组织登记，请核对是否重复录入。")})
    _check_region_code(org, parent)


# --- organisations --------------------------------------------------------------------


@transaction.atomic
def organization_create(*, actor: User, parent: Organization | None, **fields) -> Organization:
    """Create an organisation under `parent` (a city federation at the root: superusers only)."""
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    if parent is None:
        if not actor.is_superuser:
            raise PermissionDenied(_("只有系统管理员可以建立市总工会（树的根）。"))
    else:
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        require(actor, roles.ORG_MANAGE, parent)
    kind = fields.get("kind") or ""
    if kind not in OrgKind.values:
        raise ValidationError({"kind": _("请选择组织类型。")})
    _check_child_kind(parent, kind)
    org = Organization(**fields)
    _clean(org, parent)
    org = (
        Organization.objects.add_root(instance=org)
        if parent is None
        else Organization.objects.add_child(parent, instance=org)
    )
    log_action(actor=actor, action="organization.created", target=org, data={"kind": kind})
    return org


@transaction.atomic
def organization_update(*, actor: User, organization: Organization, **fields) -> Organization:
    """Change an organisation's own fields (not its place in the tree, not its kind)."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    require(actor, roles.ORG_MANAGE, org)
    if not org.is_active:
        raise TransitionError(_("“%(name)s”已撤销或合并，不能再修改。") % {"name": org.name})
    if "kind" in fields and fields["kind"] != org.kind:
        if org.numchild:
            raise ValidationError({"kind": _("该组织已有下级，不能更改类型；请先调整下级组织。")})
        _check_child_kind(Organization.objects.get_parent(org), fields["kind"])
    changed = {}
    for name, value in fields.items():
        if name not in ORG_FIELDS:
            raise TypeError(f"unknown organisation field: {name}")
        if getattr(org, name) != value:
            changed[name] = [str(getattr(org, name) or ""), str(value or "")]
            setattr(org, name, value)
    if not changed:
        return org
    _clean(org, Organization.objects.get_parent(org))
    org.save(update_fields=[*changed.keys(), "updated_at"])
    log_action(actor=actor, action="organization.updated", target=org, data={"changed": changed})
    return org


def _rewrite_copied_paths(old: str, new: str) -> None:
    """Rewrite every copied org path under `old` to sit under `new` (one UPDATE per table)."""
    for model, field in PATH_COPIES:
        model._base_manager.filter(**{f"{field}__startswith": old}).update(
            **{field: Concat(Value(new), Substr(F(field), len(old) + 1))}
        )


def _lock_orgs(*pks: int) -> list[Organization]:
    """Lock organisation rows in one fixed order (ascending pk); return them in the order asked.

    Move and merge lock two rows each. Taken in argument order, "merge A into B" and
    "merge B into A" (or "move A under B" at the same moment) each held one row and waited
    for the other: a deadlock, which PostgreSQL breaks by failing one request with a 500.
    With one order for everybody the second request waits for the first, then sees the
    new state and is refused (or proceeds) by the rules.
    """
    locked = {}
    for pk in sorted(set(pks)):
        locked[pk] = Organization.objects.select_for_update().get(pk=pk)
    return [locked[pk] for pk in pks]


@transaction.atomic
def organization_move(*, actor: User, organization: Organization, new_parent: Organization) -> Organization:
    """Move an organisation (and its subtree) under another parent, both within the actor's reach."""
    org, new_parent = _lock_orgs(organization.pk, new_parent.pk)
    require(actor, roles.ORG_MANAGE, org)
    if not path_in_reach(actor, new_parent.path):
        raise ValidationError({"new_parent": _("目标上级组织不在您的管辖范围内，不能移入。")})
    require(actor, roles.ORG_MANAGE, new_parent)
    if org.is_root():
        raise ValidationError({"new_parent": _("市总工会是组织树的根，不能移动。")})
    if new_parent.path.startswith(org.path):
        raise ValidationError({"new_parent": _("不能把组织移到它自己或它的下级之下（会形成循环）。")})
    if Organization.objects.get_parent(org).pk == new_parent.pk:
        return org
    _check_child_kind(new_parent, org.kind)
    old_path = org.path
    Organization.objects.move(org, new_parent, pos="sorted-child" if Organization.node_order_by else "last-child")
    org.refresh_from_db()
    _rewrite_copied_paths(old_path, org.path)
    log_action(
        actor=actor,
        action="organization.moved",
        target=org,
        data={"old_path": old_path, "new_parent": new_parent.pk, "new_parent_name": new_parent.name},
    )
    return org


@transaction.atomic
def organization_dissolve(
    *, actor: User, organization: Organization, on: dt.date | None = None, reason: str = ""
) -> Organization:
    """Mark an organisation dissolved. Refused while it still has active children."""
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    require(actor, roles.ORG_MANAGE, org)
    if not org.is_active:
        raise TransitionError(
            _("“%(name)s”已经是“%(status)s”状态。") % {"name": org.name, "status": org.get_status_display()}
        )
    if org.is_root():
        raise TransitionError(_("市总工会不能撤销。"))
    active_children = Organization.objects.get_children(org).filter(status=Organization.Status.ACTIVE).count()
    if active_children:
        raise TransitionError(
            _("“%(name)s”还有 %(n)s 个正常状态的下级组织，请先撤销、合并或移走它们。")
            % {"name": org.name, "n": active_children}
        )
    org.status = Organization.Status.DISSOLVED
    org.ended_on = on or timezone.localdate()
    org.save(update_fields=["status", "ended_on", "updated_at"])
    RoleAssignment.objects.filter(organization=org).delete()
    log_action(actor=actor, action="organization.dissolved", target=org, data={"reason": reason})
    return org


@transaction.atomic
def organization_merge(
    *, actor: User, organization: Organization, into: Organization, on: dt.date | None = None
) -> Organization:
    """Merge `organization` into `into`: its children and enterprises move there; it is closed.

    Members' future memberships follow through MERGE_HOOKS registered by the members app.
    """
    org, into = _lock_orgs(organization.pk, into.pk)
    require(actor, roles.ORG_MANAGE, org)
    if not path_in_reach(actor, into.path):
        raise ValidationError({"into": _("合并目标不在您的管辖范围内。")})
    require(actor, roles.ORG_MANAGE, into)
    if org.pk == into.pk or into.path.startswith(org.path):
        raise ValidationError({"into": _("不能并入自己或自己的下级组织。")})
    if not org.is_active or not into.is_active:
        raise TransitionError(_("只能合并两个正常状态的组织。"))
    if org.kind != into.kind:
        raise ValidationError({"into": _("只能并入同类型的组织（“%(kind)s”）。") % {"kind": org.get_kind_display()}})
    for child in list(Organization.objects.get_children(org)):
        old = child.path
        Organization.objects.move(child, into, pos="last-child")
        child.refresh_from_db()
        _rewrite_copied_paths(old, child.path)
    Enterprise.objects.filter(supervisor=org).update(supervisor=into, org_path=into.path)
    Enterprise.objects.filter(union=org).update(union=into)
    ServiceStation.objects.filter(organization=org).update(organization=into)
    for hook in MERGE_HOOKS:
        hook(source=org, target=into, actor=actor)
    org.refresh_from_db()
    org.status = Organization.Status.MERGED
    org.merged_into = into
    org.ended_on = on or timezone.localdate()
    org.save(update_fields=["status", "merged_into", "ended_on", "updated_at"])
    RoleAssignment.objects.filter(organization=org).delete()
    log_action(actor=actor, action="organization.merged", target=org, data={"into": into.pk, "into_name": into.name})
    return org


MERGE_HOOKS: list[Callable[..., None]] = []


def register_merge_hook(hook: Callable[..., None]) -> None:
    if hook not in MERGE_HOOKS:
        MERGE_HOOKS.append(hook)


# --- enterprises ----------------------------------------------------------------------

ENTERPRISE_FIELDS = (
    "credit_code",
    "name",
    "ownership",
    "size",
    "industry",
    "employees",
    "address",
    "supervisor",
    "union",
    "is_active",
)
SUPERVISOR_KINDS = frozenset({OrgKind.STREET, OrgKind.PARK, OrgKind.DISTRICT, OrgKind.REGIONAL_FEDERATION})


def _check_enterprise_links(actor: User, ent: Enterprise) -> None:
    sup = ent.supervisor
    if not path_in_reach(actor, sup.path):
        raise ValidationError({"supervisor": _("属地工会不在您的管辖范围内。")})
    if sup.kind not in SUPERVISOR_KINDS or not sup.is_active:
        raise ValidationError(
            {"supervisor": _("属地工会应为正常状态的街道（乡镇）、园区、区域性联合会或区（县）总工会。")}
        )
    if ent.union_id is not None:
        union = ent.union
        if not path_in_reach(actor, union.path):
            raise ValidationError({"union": _("所选工会不在您的管辖范围内。")})
        if union.kind != OrgKind.GRASSROOTS:
            raise ValidationError({"union": _("本单位工会应为基层工会。")})


@transaction.atomic
def enterprise_create(*, actor: User, **fields) -> Enterprise:
    ent = Enterprise(**fields)
    ent.credit_code = normalize_credit_code(ent.credit_code)
    _check_enterprise_links(actor, ent)
    require(actor, roles.ORG_MANAGE, ent.supervisor)
    ent.org_path = ent.supervisor.path
    ent.full_clean()
    ent.save()
    log_action(actor=actor, action="enterprise.created", target=ent, organization=ent.supervisor)
    return ent


@transaction.atomic
def enterprise_update(*, actor: User, enterprise: Enterprise, **fields) -> Enterprise:
    ent = Enterprise.objects.select_for_update().select_related("supervisor").get(pk=enterprise.pk)
    require(actor, roles.ORG_MANAGE, ent.supervisor)
    changed = {}
    for name, value in fields.items():
        if name not in ENTERPRISE_FIELDS:
            raise TypeError(f"unknown enterprise field: {name}")
        if name == "credit_code":
            value = normalize_credit_code(value)
        if getattr(ent, name) != value:
            changed[name] = [str(getattr(ent, name) or ""), str(value or "")]
            setattr(ent, name, value)
    if not changed:
        return ent
    _check_enterprise_links(actor, ent)
    require(actor, roles.ORG_MANAGE, ent.supervisor)
    ent.org_path = ent.supervisor.path
    ent.full_clean()
    ent.save()
    log_action(
        actor=actor, action="enterprise.updated", target=ent, organization=ent.supervisor, data={"changed": changed}
    )
    return ent


# --- officers and stations ------------------------------------------------------------

OFFICER_FIELDS = ("name", "position", "term_start", "term_end", "election", "is_full_time")
STATION_FIELDS = ("name", "kind", "address", "latitude", "longitude", "opening_hours", "services", "phone", "is_active")


def _save_owned(*, actor, obj, fields: dict, allowed: Iterable[str], action: str):
    changed = {}
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"unknown field: {name}")
        if getattr(obj, name) != value:
            changed[name] = [str(getattr(obj, name) or ""), str(value or "")]
            setattr(obj, name, value)
    if obj.pk and not changed:
        return obj
    require(actor, roles.ORG_MANAGE, obj.organization)
    if not obj.organization.is_active:
        raise ValidationError({"organization": _("所属工会已撤销或合并。")})
    obj.full_clean()
    obj.save()
    log_action(
        actor=actor,
        action=action,
        target=obj,
        organization=obj.organization,
        data={"changed": changed} if action.endswith("updated") else {},
    )
    return obj


@transaction.atomic
def officer_create(*, actor: User, organization: Organization, **fields) -> Officer:
    return _save_owned(
        actor=actor,
        obj=Officer(organization=organization),
        fields=fields,
        allowed=OFFICER_FIELDS,
        action="officer.created",
    )


@transaction.atomic
def officer_update(*, actor: User, officer: Officer, **fields) -> Officer:
    officer = Officer.objects.select_for_update().select_related("organization").get(pk=officer.pk)
    return _save_owned(actor=actor, obj=officer, fields=fields, allowed=OFFICER_FIELDS, action="officer.updated")


@transaction.atomic
def station_create(*, actor: User, organization: Organization, **fields) -> ServiceStation:
    return _save_owned(
        actor=actor,
        obj=ServiceStation(organization=organization),
        fields=fields,
        allowed=STATION_FIELDS,
        action="station.created",
    )


@transaction.atomic
def station_update(*, actor: User, station: ServiceStation, **fields) -> ServiceStation:
    station = ServiceStation.objects.select_for_update().select_related("organization").get(pk=station.pk)
    return _save_owned(actor=actor, obj=station, fields=fields, allowed=STATION_FIELDS, action="station.updated")


# --- roles ----------------------------------------------------------------------------


@transaction.atomic
def role_assign(*, actor: User, user: User, organization: Organization, role: str) -> RoleAssignment:
    """Give `user` `role` over `organization`'s subtree. Workers cannot hold staff roles."""
    require(actor, roles.ROLE_MANAGE, organization)
    if user.kind != User.Kind.STAFF:
        raise ValidationError({"user": _("职工账号不能授予工作人员角色。")})
    if role not in roles.ROLE_CAPABILITIES:
        raise ValidationError({"role": _("请选择有效的角色。")})
    if not organization.is_active:
        raise ValidationError({"organization": _("不能在已撤销或合并的组织上授权。")})
    assignment, created = RoleAssignment.objects.get_or_create(user=user, organization=organization, role=role)
    if created:
        log_action(
            actor=actor,
            action="role.assigned",
            target=assignment,
            organization=organization,
            data={"user": user.username, "role": role},
        )
    forget_reach(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: User, assignment: RoleAssignment) -> None:
    require(actor, roles.ROLE_MANAGE, assignment.organization)
    log_action(
        actor=actor,
        action="role.revoked",
        target=assignment,
        organization=assignment.organization,
        data={"user": assignment.user.username, "role": assignment.role},
    )
    assignment.delete()
    forget_reach(assignment.user)


# --- coverage summaries ---------------------------------------------------------------


def _roll_up(direct: dict[str, int], paths: list[str], steplen: int) -> dict[str, int]:
    """Sum per-path counts into every ancestor path (each row counted in all its prefixes)."""
    total: dict[str, int] = defaultdict(int)
    known = set(paths)
    for path, n in direct.items():
        for end in range(steplen, len(path) + 1, steplen):
            prefix = path[:end]
            if prefix in known:
                total[prefix] += n
    return total


def coverage_refresh() -> int:
    """Rebuild CoverageSummary for every organisation from grouped counts (no per-org COUNT).

    Cost: one GROUP BY per source table plus O(rows × depth) in Python, not one query per node.
    """
    # "As of" the start: a summary is never newer than the data it was counted from.
    now = timezone.now()
    steplen = Organization.steplen
    orgs = list(Organization.objects.order_by().values_list("pk", "path", "kind", "status"))
    paths = [p for _pk, p, _k, _s in orgs]
    ent_rows = (
        Enterprise.objects.filter(is_active=True)
        .order_by()
        .values("org_path")
        .annotate(n=Count("id"), unionized=Count("id", filter=Q(union__isnull=False)), emp=Sum("employees"))
    )
    ents, unionized, employees = {}, {}, {}
    for row in ent_rows:
        ents[row["org_path"]] = row["n"]
        unionized[row["org_path"]] = row["unionized"]
        employees[row["org_path"]] = row["emp"] or 0
    grassroots = {p: 1 for _pk, p, k, s in orgs if k == OrgKind.GRASSROOTS and s == Organization.Status.ACTIVE}
    active = {p: 1 for _pk, p, _k, s in orgs if s == Organization.Status.ACTIVE}
    members: dict[str, int] = defaultdict(int)
    for counter in MEMBER_COUNTERS:
        for path, n in counter().items():
            members[path] += n
    sums = {
        name: _roll_up(d, paths, steplen)
        for name, d in (
            ("enterprises", ents),
            ("unionized", unionized),
            ("employees", employees),
            ("grassroots", grassroots),
            ("active", active),
            ("members", members),
        )
    }
    rows = [
        CoverageSummary(
            organization_id=pk,
            descendants=max(sums["active"].get(path, 0) - (1 if status == Organization.Status.ACTIVE else 0), 0),
            grassroots_unions=sums["grassroots"].get(path, 0),
            enterprises=sums["enterprises"].get(path, 0),
            unionized_enterprises=sums["unionized"].get(path, 0),
            employees=sums["employees"].get(path, 0),
            members=sums["members"].get(path, 0),
            refreshed_at=now,
        )
        for pk, path, _kind, status in orgs
    ]
    # An upsert, in primary-key order, instead of "delete all, insert all": two refreshes at
    # once (the periodic task, a page asking for a new root) each inserted the rows the
    # other had just inserted and failed on the primary key. Now the later one simply
    # writes its figures over the earlier's; the same key order means no lock cycle.
    # Summaries are never stale rows to delete: a summary goes with its organisation (CASCADE).
    rows.sort(key=lambda row: row.organization_id)
    with transaction.atomic():
        CoverageSummary.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["organization"],
            update_fields=[*COVERAGE_FIGURES, "refreshed_at"],
        )
    return len(rows)


# --- figures that follow the roll (issue 15 item 6) -------------------------------------------


def coverage_mark_dirty(union_ids: Iterable[int]) -> None:
    """Note that these unions' members changed; a refresh is queued when the transaction commits.

    Call inside the transaction of the change. Debounced: the mark is one row per union,
    and the task drains every mark at once, so a burst of changes costs one refresh and
    the extra tasks find nothing to do.
    """
    from core.outbox import enqueue

    ids = sorted({int(i) for i in union_ids if i})
    if not ids:
        return
    # ON CONFLICT DO UPDATE, not DO NOTHING: an existing mark may be claimed right now by a
    # refresh that counted before this change commits and will delete the mark. Updating
    # the row waits for that refresh's lock, then finds the row gone and inserts it again,
    # so the change is never left unmarked (DO NOTHING would skip it without waiting).
    now = timezone.now()
    CoverageDirty.objects.bulk_create(
        [CoverageDirty(union_id=i, marked_at=now) for i in ids],
        update_conflicts=True,
        unique_fields=["union"],
        update_fields=["marked_at"],
    )
    # By name: organizations.tasks imports this module (no import cycle).
    enqueue("organizations.tasks.refresh_dirty_coverage")


def coverage_refresh_dirty(*, limit: int = 500) -> int:
    """Bring the member figures of the marked unions and their ancestors up to date; returns the unions done.

    Incremental, no COUNT(*) of a subtree: for each marked union, the members it holds
    directly are counted (an indexed equality on its path) and compared with what its
    summary implies (its total minus its children's totals); the difference is added to
    the union and every ancestor. Safe to run concurrently: marks are claimed with
    SKIP LOCKED, a union's own total and its children's are read in one statement, the
    additions are atomic (members = members + delta) and applied root first, one row at a
    time, so two runs lock rows in the same order and never deadlock. The periodic full
    rebuild (coverage_refresh) remains the reference; a difference left by a race is
    corrected by the next mark of that union.
    """
    done = 0
    with transaction.atomic():
        claimed = list(
            CoverageDirty.objects.select_for_update(skip_locked=True)
            .order_by("union_id")[:limit]
            .values_list("union_id", flat=True)
        )
        if not claimed:
            return 0
        unions = list(Organization.objects.filter(pk__in=claimed).only("pk", "path", "depth"))
        direct: dict[str, int] = defaultdict(int)
        for counter in MEMBER_PATH_COUNTERS:
            for path, n in counter([u.path for u in unions]).items():
                direct[path] += n
        now = timezone.now()
        steplen = Organization.steplen
        for union in unions:
            summaries = {
                s.organization_id: s
                for s in CoverageSummary.objects.filter(
                    Q(organization=union)
                    | Q(organization__path__startswith=union.path, organization__depth=union.depth + 1)
                )
            }
            own = summaries.pop(union.pk, None)
            if own is None:
                continue  # no summary yet: the next full rebuild creates it with the right figure
            implied = own.members - sum(s.members for s in summaries.values())
            delta = direct.get(union.path, 0) - implied
            if delta:
                ancestors = [union.path[:i] for i in range(steplen, len(union.path) + 1, steplen)]
                ids = dict(Organization.objects.filter(path__in=ancestors).values_list("path", "pk"))
                for path in ancestors:  # root first: the same lock order in every run
                    CoverageSummary.objects.filter(organization_id=ids[path]).update(
                        members=F("members") + delta, refreshed_at=now
                    )
            else:
                CoverageSummary.objects.filter(organization_id=union.pk).update(refreshed_at=now)
            done += 1
        CoverageDirty.objects.filter(union_id__in=claimed).delete()
    return done


def coverage_fresh_since(moment: dt.datetime) -> bool:
    """Whether every organisation has a summary rebuilt at or after `moment` (two cheap aggregates)."""
    summaries = CoverageSummary.objects.aggregate(n=Count("pk"), oldest=Min("refreshed_at"))
    return (
        summaries["oldest"] is not None
        and summaries["oldest"] >= moment
        and summaries["n"] >= Organization.objects.count()
    )


COVERAGE_FIGURES = (
    "descendants",
    "grassroots_unions",
    "enterprises",
    "unionized_enterprises",
    "employees",
    "members",
)
