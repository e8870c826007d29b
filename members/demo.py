"""Synthetic people for the demo city, the tests and the import benchmark.

`seed_members(rng=..., scale=1)` adds members across the demo city's grassroots unions
(idempotent), the `worker` login (an active member in 浦东新区) and a few pending join
applications. The generators make valid-looking but fictitious ID numbers and mobiles.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings

from .validators import id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁龙林欣佳睿晨阳雪琳晗颖婷倩雯"
REGIONS = ("310115", "310101", "310104", "310105", "310106", "310107", "320102", "340104", "410105", "510104", "420102")
MOBILE_PREFIXES = ("130", "131", "135", "136", "137", "138", "139", "150", "151", "158", "177", "186", "188", "199")
DEMO_PASSWORD = "unionportal-demo"


def fake_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def fake_id_number(
    rng: random.Random, *, region: str | None = None, birth: dt.date | None = None, sex: str | None = None
) -> str:
    """A checksum-valid 18-character resident ID number (fictitious)."""
    region = region or rng.choice(REGIONS)
    if birth is None:
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 42))
    seq = rng.randrange(0, 1000)
    if sex is not None:
        seq = seq - seq % 2 + (1 if sex == "M" else 0)
        seq = min(seq, 999 if sex == "M" else 998)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def fake_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def unique_people(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    """n (name, id number, mobile) with distinct ID numbers and mobiles."""
    ids: set[str] = set()
    mobiles: set[str] = set()
    people = []
    while len(people) < n:
        idn = fake_id_number(rng)
        mob = fake_mobile(rng)
        if idn in ids or mob in mobiles:
            continue
        ids.add(idn)
        mobiles.add(mob)
        people.append((fake_name(rng), idn, mob))
    return people


def seed_members(*, rng: random.Random, scale: int = 1) -> dict[str, int]:
    """Members across the demo city's grassroots unions, the `worker` login, pending applications.

    Idempotent: people are keyed by their ID number's blind index, so a re-run adds nothing.
    Writes go through the bulk importer and the services, like a clerk's would.
    """
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.db.models import Count
    from django.utils import timezone

    from core import crypto
    from core.errors import DomainError
    from organizations.models import Organization, OrgKind, User

    from . import services
    from .importer import import_rows
    from .models import EmploymentForm, JoinApplication, JoinCode, Member, Membership

    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    unions = list(
        Organization.objects.filter(kind=OrgKind.GRASSROOTS, status=Organization.Status.ACTIVE).order_by("path")
    )
    if admin is None or not unions:
        return {"members": 0, "applications": 0}
    forms = [f for f in EmploymentForm.values]
    created = 0
    targets = _member_targets(unions, scale)
    today = dt.date.today()
    active = dict(
        Membership.objects.filter(status=Membership.Status.ACTIVE, union__in=unions)
        .values("union")
        .annotate(n=Count("id"))
        .values_list("union", "n")
    )
    for union in unions:
        target = targets[union.pk]
        if active.get(union.pk, 0) >= target:
            continue  # seeded before
        # One fixed stream per union, whatever `rng` is: a re-run regenerates the same people.
        people = unique_people(random.Random(f"members-{union.pk}-{scale}"), target)
        joined_rng = random.Random(f"joined-{union.pk}")
        # People already on the roll (from an earlier run, or generated twice) are left out
        # before importing, so a re-run writes nothing at all, not even an import record.
        known = set(
            Member.objects.filter(id_number_hash__in=[crypto.id_hash(idn) for _n, idn, _m in people]).values_list(
                "id_number_hash", flat=True
            )
        )
        people = [p for p in people if crypto.id_hash(p[1]) not in known]
        if not people:
            continue
        rows = [
            {
                "name": name,
                "id_number": idn,
                "mobile": mob,
                "employer_name": union.name.removesuffix("工会"),
                "employment_form": rng.choice(forms[:4] if rng.random() < 0.8 else forms),
                "is_migrant_worker": rng.random() < 0.2,
                "joined_on": _joined_on(joined_rng, idn, union, today),
            }
            for name, idn, mob in people
        ]
        result = import_rows(actor=admin, union=union, rows=rows, mode="valid_only")
        created += result.created

    pudong = Organization.objects.filter(kind=OrgKind.DISTRICT, region_code="310115").first()
    worker_union, employer = _worker_union(unions, pudong)
    demo_rng = random.Random(20240501)
    worker_id = fake_id_number(demo_rng, region="310115", birth=dt.date(1990, 5, 1), sex="M")
    worker_mobile = "13900000001"
    with transaction.atomic():
        member = Member.objects.filter(id_number_hash=crypto.id_hash(worker_id)).first()
        if member is None:
            membership = services.member_register(
                actor=admin,
                union=worker_union,
                name="王小明",
                id_number=worker_id,
                mobile=worker_mobile,
                employment_form=EmploymentForm.COURIER if employer else EmploymentForm.RIDER,
                employer_name=employer.name if employer else WORKER_EMPLOYER,
                employer=employer,
                joined_on=dt.date(2019, 6, 18),
            )
            member = membership.member
        if member.user_id is None or User.objects.filter(username="worker").first() is None:
            user = User.objects.filter(username="worker").first() or User(username="worker", kind=User.Kind.WORKER)
            user.kind = User.Kind.WORKER
            user.display_name = member.name
            user.set_password(DEMO_PASSWORD)
            user.save()
            Member.objects.filter(user=user).exclude(pk=member.pk).update(user=None)
            member.user = user
            member.save(update_fields=["user", "updated_at"])

    applications = 0
    for union in _application_unions(unions):
        code = JoinCode.objects.filter(union=union, is_active=True).first() or services.join_code_create(
            actor=admin, union=union, label=f"{union.name}入会码"
        )
        if JoinApplication.objects.filter(union=union, status=JoinApplication.Status.PENDING).exists():
            continue
        for name, idn, mob in unique_people(rng, 3):
            try:
                filed = services.join_application_submit(
                    code=services.join_code_public(code),
                    name=name,
                    id_number=idn,
                    mobile=mob,
                    employment_form=rng.choice(forms),
                    employer_name=union.name.removesuffix("工会"),
                    consent=True,
                )
                applications += filed is not None  # None: the person is already on the roll
                if filed is not None:  # a queue that filled over the last two weeks, not in a second
                    JoinApplication.objects.filter(pk=filed.pk).update(
                        created_at=timezone.now() - dt.timedelta(hours=rng.randrange(2, 14 * 24))
                    )
            except (DomainError, ValidationError):
                continue  # a generated person who already exists is just skipped
    return {"members": created, "applications": applications, "transfers": _seed_transfers(member, unions)}


def _member_targets(unions, scale: int) -> dict[int, int]:
    """Members each union should have: 70–90% of its enterprise's employees.

    That is the membership rate of a real city's unionised enterprises; a union with no
    enterprise on record (a school's, a hospital's) gets the even share of 3000 × scale.
    """
    from django.db.models import Sum

    from organizations.models import Enterprise

    employees = dict(
        Enterprise.objects.filter(union__in=unions, is_active=True)
        .order_by()
        .values("union")
        .annotate(n=Sum("employees"))
        .values_list("union", "n")
    )
    share = max(1, (3000 * scale) // len(unions))
    # The browser tests reseed the demo for every test; they need every state, not every
    # member, so they seed a sample (DEMO_MEMBER_FRACTION, 1 everywhere else).
    fraction = getattr(settings, "DEMO_MEMBER_FRACTION", 1)
    out = {}
    for union in unions:
        n = employees.get(union.pk)
        rate = random.Random(f"rate-{union.path}").uniform(0.7, 0.9)
        out[union.pk] = max(1, round((n * rate if n else share) * fraction))
    return out


def _joined_on(rng: random.Random, id_number: str, union, today: dt.date) -> dt.date:
    """A join date in the union's lifetime, after the person turned 18, at least a week ago."""
    birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    earliest = max(birth + dt.timedelta(days=18 * 366), union.established_on or dt.date(2000, 1, 1))
    latest = today - dt.timedelta(days=7)
    if earliest >= latest:
        return latest
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days))


# The demo worker's employer: a fictitious delivery contractor of a food-delivery platform.
WORKER_EMPLOYER = "上海申达即时配送服务有限公司"


def _worker_union(unions, pudong):
    """Where the demo worker, a food-delivery rider, belongs: 浦东's rider union group.

    Riders join through the street's union group for new forms of employment (the way
    Shanghai's streets organise them); failing that, a 浦东 logistics company's union.
    Returns (union, employer Enterprise or None).
    """
    from organizations.models import Enterprise, Organization, OrgKind

    if pudong is None:
        return unions[0], None
    group = (
        Organization.objects.filter(
            kind=OrgKind.UNION_GROUP, path__startswith=pudong.path, name__contains="骑手", status="active"
        )
        .order_by("path")
        .first()
    )
    if group is not None:
        return group, None
    employer = (
        Enterprise.objects.filter(union__in=unions, union__path__startswith=pudong.path, name__regex="快递|物流")
        .select_related("union")
        .order_by("credit_code")
        .first()
    )
    if employer is not None:
        return employer.union, employer
    return next((u for u in unions if u.path.startswith(pudong.path)), unions[0]), None


def _application_unions(unions) -> list:
    """Unions to hold the pending join applications: where every demo login sees some.

    Two in the `street` login's street (so `street`, `pudong` and `city` all have a queue),
    two elsewhere in `pudong`'s district, two in `huangpu`'s, and one outside them all.
    Without those logins (tests' small trees), the first six unions.
    """
    from organizations.models import RoleAssignment

    paths = dict(
        RoleAssignment.objects.filter(user__username__in=("street", "pudong", "huangpu")).values_list(
            "user__username", "organization__path"
        )
    )
    if not paths:
        return unions[:6]
    street, pudong, huangpu = paths.get("street"), paths.get("pudong"), paths.get("huangpu")

    def spread(candidates, n):
        step = max(1, len(candidates) // n)
        return candidates[::step][:n]

    def under(path):
        return [u for u in unions if path and u.path.startswith(path)]

    chosen = spread(under(street), 2)
    chosen += spread([u for u in under(pudong) if u not in chosen], 2)
    chosen += spread(under(huangpu), 2)
    rest = [u for u in unions if not any(p and u.path.startswith(p) for p in (street, pudong, huangpu))]
    chosen += spread(rest, 1)
    return chosen


def _seed_transfers(worker_member, unions) -> int:
    """Two open transfers through the services, as the demo logins would make them.

    `huangpu` asks for the demo worker (a 浦东 member) by ID: it waits for the worker's
    consent on /me/transfer/ (or 浦东's agreement). `pudong` sends one of its members to
    黄浦: it waits for `huangpu` to accept. Skipped when any transfer exists (idempotent).
    """
    from organizations.models import RoleAssignment, User

    from . import services
    from .models import Member, Transfer

    pudong = User.objects.filter(username="pudong").first()
    huangpu = User.objects.filter(username="huangpu").first()
    if pudong is None or huangpu is None or Transfer.objects.exists():
        return 0
    hp_path = RoleAssignment.objects.filter(user=huangpu).values_list("organization__path", flat=True).first()
    pd_path = RoleAssignment.objects.filter(user=pudong).values_list("organization__path", flat=True).first()
    in_hp = [u for u in unions if hp_path and u.path.startswith(hp_path)]
    # A rider moves to another delivery or logistics job, if 黄浦 has such a union.
    to_hp = next((u for u in in_hp if any(w in u.name for w in ("快递", "物流", "配送"))), in_hp[0] if in_hp else None)
    if to_hp is None or not pd_path or not worker_member.org_path.startswith(pd_path):
        return 0
    made = 0
    services.transfer_request(actor=huangpu, member=worker_member, to_union=to_hp, reason="新单位申请转入")
    made += 1
    leaving = (
        Member.objects.filter(org_path__startswith=pd_path, current_membership__status="active", user__isnull=True)
        .exclude(pk=worker_member.pk)
        .order_by("pk")
        .first()
    )
    if leaving is not None:
        services.transfer_request(actor=pudong, member=leaving, to_union=to_hp, reason="调往黄浦工作")
        made += 1
    return made
