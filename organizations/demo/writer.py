"""Writes the demo city: reconciles the database with the specs, one district per transaction.

The seed is a system bootstrap, not a user action, so it writes rows directly (treebeard
paths computed here, bulk inserts) instead of going through the actor-checked services.
Every row is still checked with the model's field validators and ALLOWED_CHILD_KINDS
before it is written, and tests run full_clean over everything it builds.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import reset_queries, transaction
from django.db.models import F

from core.audit import log_action
from core.scoping import forget_reach
from organizations.models import (
    ALLOWED_CHILD_KINDS,
    ROOT_KINDS,
    CoverageSummary,
    Enterprise,
    Officer,
    Organization,
    OrgKind,
    RoleAssignment,
    ServiceStation,
    User,
)
from organizations.services import coverage_refresh

from .city import EnterpriseSpec, OrgSpec, build_district, city_spec
from .data import CITY_CODE, DEMO_LOGINS, DEMO_PASSWORD, DISTRICTS, INDUSTRY_UNIONS

MAX_SCALE = 300
_BATCH = 500  # rows per INSERT and ids per IN (...) (well under SQLite's variable limit)
_ORG_EXCLUDE = ("path", "depth", "numchild", "merged_into")


def _subtree_range(path: str) -> tuple[str, str]:
    """Bounds of the paths under `path`, as a range an index serves on every backend.

    SQLite's LIKE is case-insensitive and so never uses the index for `startswith`; a
    re-run at a large scale would rescan the table once per street.
    """
    return path, path + Organization.alphabet[-1] * (255 - len(path))


def _chunks(items: list, size: int = _BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DemoBuilder:
    """Reconciles the database with the demo city, one district per transaction."""

    def __init__(self, *, scale: int = 1, reset_passwords: bool = False, log=None):
        if not 1 <= scale <= MAX_SCALE:
            raise ValueError(f"scale must be between 1 and {MAX_SCALE}")
        self.scale = scale
        self.reset_passwords = reset_passwords
        self.log = log or (lambda msg: None)
        self.created: dict[str, int] = defaultdict(int)
        self._pending: list[tuple[OrgSpec, Organization]] = []
        self._numchild_inc: dict[str, int] = defaultdict(int)

    # -- public

    def run(self) -> dict[str, int]:
        started = time.monotonic()
        with transaction.atomic():
            city = city_spec()
            self._ensure_root(city)
            self._place(city, full=False)
            districts = city.children[len(INDUSTRY_UNIONS) :]
            top_level = [city, *districts]
            for iu in city.children[: len(INDUSTRY_UNIONS)]:
                self._place(iu, full=True)
                top_level += list(iu.walk())
            self._flush(top_level, [])
        for d_index, (district, spec) in enumerate(zip(DISTRICTS, districts, strict=True)):
            with transaction.atomic():
                enterprises = build_district(spec, district, d_index, self.scale)
                self._place(spec, full=False)
                for child in spec.children:
                    self._place(child, full=True)
                # The district node's own officers and stations went with the top level.
                self._flush([s for child in spec.children for s in child.walk()], enterprises)
            self.log(f"{district.name}：完成")
            # With DEBUG on, Django keeps every SQL string; bulk inserts would pile up.
            reset_queries()
        with transaction.atomic():
            self._logins(city)
        changed = any(self.created.values())
        if changed or CoverageSummary.objects.count() != Organization.objects.count():
            coverage_refresh()
        if changed:
            log_action(
                actor=None,
                action="demo.seeded",
                target=Organization.objects.get(pk=city.pk),
                data={"scale": self.scale, "created": dict(self.created)},
            )
        self.created["seconds"] = round(time.monotonic() - started, 2)
        return dict(self.created)

    # -- organisations

    def _ensure_root(self, spec: OrgSpec) -> None:
        root = Organization.objects.filter(depth=1, kind=OrgKind.CITY, region_code=CITY_CODE).first()
        if root is None:
            root = Organization.objects.filter(depth=1, name=spec.name).first()
        if root is None:
            assert spec.kind in ROOT_KINDS
            root = Organization(name=spec.name, kind=spec.kind, **spec.fields)
            root.clean_fields(exclude=_ORG_EXCLUDE)
            root = Organization.objects.add_root(instance=root)
            spec.new = True
            self.created["organizations"] += 1
        spec.path, spec.depth, spec.pk = root.path, root.depth, root.pk

    def _place(self, spec: OrgSpec, *, full: bool) -> None:
        """Give `spec`'s children (all descendants if `full`) a path, reusing existing rows.

        `spec` itself is already placed. Existing rows are read with one query for the
        subtree (or for the children only when not `full`), never one per node.
        """
        index: dict[tuple[str, tuple[str, str]], tuple[int, str]] = {}
        maxstep: dict[str, int] = defaultdict(int)
        if not spec.new:
            qs = Organization.objects.filter(path__range=_subtree_range(spec.path)).exclude(pk=spec.pk)
            if not full:
                qs = qs.filter(depth=spec.depth + 1)
            steplen = Organization.steplen
            for pk, path, name, region, credit in qs.order_by().values_list(
                "pk", "path", "name", "region_code", "credit_code"
            ):
                parent = path[:-steplen]
                for key in (("name", name), ("region", region), ("credit", credit)):
                    if key[1]:
                        index.setdefault((parent, key), (pk, path))
                maxstep[parent] = max(maxstep[parent], Organization._str2int(path[-steplen:]))
        seen: set[tuple[str, str]] = set()
        stack = [(spec, child) for child in reversed(spec.children)]
        while stack:
            parent, child = stack.pop()
            if (parent.path, child.name) in seen:
                # Two specs would map to one row on the next run and double its officers.
                raise ValueError(f"duplicate sibling name in the demo spec: {child.name}")
            seen.add((parent.path, child.name))
            found = (
                None if parent.new else next(filter(None, (index.get((parent.path, k)) for k in child.keys())), None)
            )
            if found:
                child.pk, child.path = found
                child.depth = parent.depth + 1
                child.new = False
            else:
                self._new_org(parent, child, maxstep)
            if full:
                stack.extend((child, grandchild) for grandchild in reversed(child.children))

    def _new_org(self, parent: OrgSpec, spec: OrgSpec, maxstep: dict[str, int]) -> None:
        if spec.kind not in ALLOWED_CHILD_KINDS[parent.kind]:
            raise ValueError(f"{spec.name}: kind {spec.kind} may not sit under {parent.kind}")
        maxstep[parent.path] += 1
        spec.depth = parent.depth + 1
        spec.path = Organization._get_path(parent.path, spec.depth, maxstep[parent.path])
        spec.new = True
        org = Organization(path=spec.path, depth=spec.depth, numchild=0, name=spec.name, kind=spec.kind, **spec.fields)
        try:
            org.clean_fields(exclude=_ORG_EXCLUDE)
        except ValidationError as exc:
            raise ValueError(f"{spec.name}: {exc}") from exc
        self._pending.append((spec, org))
        self._numchild_inc[parent.path] += 1

    def _flush(self, specs: Iterable[OrgSpec], enterprises: list[EnterpriseSpec]) -> None:
        """Insert the pending organisations, then the enterprises, officers and stations."""
        pending, self._pending = self._pending, []
        by_path = {org.path: org for _spec, org in pending}
        existing_parents: dict[int, list[str]] = defaultdict(list)
        for path, inc in self._numchild_inc.items():
            if path in by_path:
                by_path[path].numchild += inc
            else:
                existing_parents[inc].append(path)
        self._numchild_inc = defaultdict(int)
        Organization.objects.bulk_create([org for _s, org in pending], batch_size=_BATCH)
        for spec, org in pending:
            spec.pk = org.pk
        missing = [spec for spec, _o in pending if spec.pk is None]
        if missing:  # backends that do not return ids from a bulk insert
            ids = dict(
                Organization.objects.filter(path__in=[s.path for s in missing]).values_list("path", "pk"),
            )
            for spec in missing:
                spec.pk = ids[spec.path]
        for inc, paths in existing_parents.items():
            for chunk in _chunks(paths):
                Organization.objects.filter(path__in=chunk).update(numchild=F("numchild") + inc)
        self.created["organizations"] += len(pending)
        self._enterprises(enterprises)
        specs = list(specs)
        self._owned(specs, Officer, "officers", ("name", "position"))
        self._owned(specs, ServiceStation, "stations", ("name",))

    def _enterprises(self, specs: list[EnterpriseSpec]) -> None:
        codes = [e.fields["credit_code"] for e in specs]
        existing: set[str] = set()
        for chunk in _chunks(codes):
            existing.update(Enterprise.objects.filter(credit_code__in=chunk).values_list("credit_code", flat=True))
        rows = []
        for e in specs:
            if e.fields["credit_code"] in existing:
                continue
            ent = Enterprise(
                supervisor_id=e.supervisor.pk,
                union_id=e.union.pk if e.union else None,
                org_path=e.supervisor.path,
                **e.fields,
            )
            try:
                ent.clean_fields(exclude=("supervisor", "union"))
            except ValidationError as exc:
                raise ValueError(f"{ent.name}: {exc}") from exc
            rows.append(ent)
        Enterprise.objects.bulk_create(rows, batch_size=_BATCH)
        self.created["enterprises"] += len(rows)

    def _owned(self, specs: list[OrgSpec], model, attr: str, key_fields: tuple[str, ...]) -> None:
        """Create the officers or stations of `specs` that are not there yet."""
        old_ids = [s.pk for s in specs if not s.new and getattr(s, attr)]
        existing: set[tuple] = set()
        for chunk in _chunks(old_ids):
            existing.update(model.objects.filter(organization_id__in=chunk).values_list("organization_id", *key_fields))
        rows = []
        for spec in specs:
            for values in getattr(spec, attr):
                if (spec.pk, *(values[f] for f in key_fields)) in existing:
                    continue
                obj = model(organization_id=spec.pk, **values)
                try:
                    obj.clean_fields(exclude=("organization",))
                except ValidationError as exc:
                    raise ValueError(f"{spec.name} / {values.get('name')}: {exc}") from exc
                rows.append(obj)
        model.objects.bulk_create(rows, batch_size=_BATCH)
        self.created[attr] += len(rows)

    # -- logins

    def _logins(self, city: OrgSpec) -> None:
        districts = {
            s.fields["region_code"]: s for s in city.children if s.kind == OrgKind.DISTRICT and s.pk is not None
        }
        pudong = districts["310115"]
        street = Organization.objects.filter(
            path__startswith=pudong.path, depth=pudong.depth + 1, name="陆家嘴街道总工会"
        ).first()
        targets = {"city": city.pk, "310115": pudong.pk, "310101": districts["310101"].pk}
        if street is not None:
            targets["陆家嘴街道总工会"] = street.pk
        password_hash = None
        users = {u.username: u for u in User.objects.filter(username__in=[d.username for d in DEMO_LOGINS])}
        for login in DEMO_LOGINS:
            user = users.get(login.username)
            if user is None or self.reset_passwords:
                # One hash for all demo logins: argon2 is slow on purpose.
                password_hash = password_hash or make_password(DEMO_PASSWORD)
            if user is None:
                user = User.objects.create(
                    username=login.username,
                    display_name=login.display_name,
                    kind=User.Kind.STAFF,
                    is_superuser=login.is_superuser,
                    is_staff=login.is_staff,
                    password=password_hash,
                )
                self.created["users"] += 1
            elif self.reset_passwords:
                user.password = password_hash
                user.is_active = True
                user.save(update_fields=["password", "is_active"])
            if login.role and login.org in targets:
                assignment, made = RoleAssignment.objects.get_or_create(
                    user=user, organization_id=targets[login.org], role=login.role
                )
                if made:
                    self.created["roles"] += 1
                    log_action(
                        actor=None,
                        action="role.assigned",
                        target=assignment,
                        organization=assignment.organization,
                        data={"user": user.username, "role": login.role, "by": "seed_demo"},
                    )
                forget_reach(user)
