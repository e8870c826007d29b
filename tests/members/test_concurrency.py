"""Races that only a real database with row locks can show (PostgreSQL; skipped on SQLite)."""

import pytest
from django.db import connection

from core.errors import DomainError, TransitionError
from members import services
from members.models import JoinApplication, Member, MemberNumberCounter, Membership
from tests.factories import make_id_number, make_mobile, nth_name
from tests.racing import at_once_each, race

pytestmark = pytest.mark.django_db(transaction=True)


def test_member_numbers_stay_unique_under_concurrent_registration(postgres_only, tree, clerk):
    union = tree["pd_union"]
    people = [(make_id_number(), make_mobile()) for _ in range(8)]

    def register(i):
        return services.member_register(
            actor=clerk, union=union, name=nth_name("并发", i), id_number=people[i][0], mobile=people[i][1]
        ).member_number

    numbers = at_once_each([lambda i=i: register(i) for i in range(8)])
    assert len(set(numbers)) == 8
    assert MemberNumberCounter.objects.get(union=union).next_seq == 9
    connection.close()


def test_double_approval_creates_one_membership(postgres_only, tree, clerk, owner):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="双批",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="courier",
        consent=True,
    )
    actors = [clerk, owner, clerk, owner]
    results, errors = race([lambda a=a: services.join_application_approve(actor=a, application=app) for a in actors])
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, TransitionError) for e in errors)
    assert Membership.objects.count() == 1
    assert JoinApplication.objects.get(pk=app.pk).status == JoinApplication.Status.APPROVED


def test_one_person_gets_one_active_membership_when_two_unions_register_at_once(postgres_only, tree, owner):
    idn = make_id_number()
    unions = [tree["pd_union"], tree["hp_union"]] * 2

    def register(i):
        return services.member_register(actor=owner, union=unions[i], name="抢登", id_number=idn, mobile=make_mobile())

    results, errors = race([lambda i=i: register(i) for i in range(4)])
    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(e, DomainError) for e in errors)
    assert Member.objects.count() == 1
    assert Membership.objects.filter(status="active").count() == 1


def test_pipelined_import_writes_everything_or_nothing(postgres_only, tree, clerk, tmp_path):
    """Outside a transaction the importer writes on a second connection: check both outcomes."""
    import csv

    from members.importer import import_rows

    rows = [["甲", make_id_number(), make_mobile()] for _ in range(30)]
    path = tmp_path / "r.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "身份证号码", "手机号码"])
        w.writerows(rows)
        w.writerow(["错", "310115199001011230", make_mobile()])
    res = import_rows(actor=clerk, union=tree["pd_union"], path=str(path), fmt="csv", mode="all_or_nothing")
    assert not res.written and Member.objects.count() == 0
    res = import_rows(actor=clerk, union=tree["pd_union"], path=str(path), fmt="csv", mode="valid_only")
    assert res.written and res.created == 30 and Member.objects.count() == 30
    numbers = list(Membership.objects.values_list("member_number", flat=True))
    assert len(set(numbers)) == 30
    # Importing again: everyone is already on this roll, nothing changes.
    res = import_rows(actor=clerk, union=tree["pd_union"], path=str(path), fmt="csv", mode="valid_only")
    assert (res.created, res.skipped, res.errors) == (0, 30, 1)
