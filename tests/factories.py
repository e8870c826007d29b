"""factory_boy factories shared by every app's tests (Faker in zh_CN)."""

import random

import factory
from factory.django import DjangoModelFactory

from organizations.models import Enterprise, Officer, Organization, ServiceStation, User
from organizations.validators import CREDIT_CODE_CHARSET, credit_code_check_char

factory.Faker._DEFAULT_LOCALE = "zh_CN"


def make_credit_code(rng: random.Random | None = None, prefix: str = "91") -> str:
    """A valid GB 32100-2015 code: prefix + 6-digit region + 9-char org code + check char."""
    rng = rng or random
    body = prefix + "310115" + "".join(rng.choice(CREDIT_CODE_CHARSET[:10]) for _ in range(9))
    return body + credit_code_check_char(body)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    password = factory.django.Password("unionportal-test")
    kind = User.Kind.STAFF


def add_org(parent: Organization | None, **fields) -> Organization:
    """Insert an organisation directly (tests of services use the services instead)."""
    org = Organization(**fields)
    return (
        Organization.objects.add_root(instance=org)
        if parent is None
        else Organization.objects.add_child(parent, instance=org)
    )


class EnterpriseFactory(DjangoModelFactory):
    class Meta:
        model = Enterprise

    credit_code = factory.LazyFunction(make_credit_code)
    name = factory.Faker("company")
    ownership = Enterprise.Ownership.PRIVATE
    size = Enterprise.Size.SMALL
    industry = "C"
    employees = 120
    address = factory.Faker("address")
    org_path = factory.LazyAttribute(lambda o: o.supervisor.path)


class OfficerFactory(DjangoModelFactory):
    class Meta:
        model = Officer

    name = factory.Faker("name")
    position = Officer.Position.CHAIR
    term_start = factory.Faker("date_between", start_date="-4y", end_date="-1y")
    election = Officer.Election.DIRECT


class StationFactory(DjangoModelFactory):
    class Meta:
        model = ServiceStation

    name = factory.Sequence(lambda n: f"职工服务站{n}")
    kind = ServiceStation.Kind.STATION
    address = factory.Faker("address")
    opening_hours = "周一至周五 9:00-17:00"


# --- members (added with the members app) ---------------------------------------------

_member_rng = random.Random(31011)


_ORDINALS = "甲乙丙丁戊己庚辛壬癸"


def nth_name(prefix: str, i: int) -> str:
    """The i-th of a series of person names: 会员 -> 会员甲, 会员乙 … 会员乙甲 (names hold no digits)."""
    digits = ""
    while True:
        i, r = divmod(i, 10)
        digits = _ORDINALS[r] + digits
        if not i:
            return prefix + digits


def make_id_number(**kwargs) -> str:
    """A checksum-valid, fictitious resident ID number (see members.demo.fake_id_number)."""
    from members.demo import fake_id_number

    return fake_id_number(_member_rng, **kwargs)


def make_mobile() -> str:
    from members.demo import fake_mobile

    return fake_mobile(_member_rng)


def make_member(
    union: Organization, *, actor=None, name: str = "张三", id_number: str = "", mobile: str = "", **fields
):
    """An active member of `union`, registered through the service (the membership is returned)."""
    from members.services import member_register

    if actor is None:
        actor = UserFactory(username="member-factory-admin", is_superuser=True)
    return member_register(
        actor=actor,
        union=union,
        name=name,
        id_number=id_number or make_id_number(),
        mobile=mobile or make_mobile(),
        **fields,
    )
