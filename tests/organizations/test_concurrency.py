"""Races in the organisation tree that only PostgreSQL's row locks show (skipped on SQLite):
the coverage refresh run twice at once, and merges/moves locking two rows."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from organizations import services
from organizations.models import CoverageSummary, Organization, OrgKind
from tests.factories import EnterpriseFactory, add_org
from tests.racing import at_once, at_once_each, race

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_coverage_refreshes_do_not_collide(postgres_only, tree):
    EnterpriseFactory(supervisor=tree["lujiazui"], union=tree["pd_union"])
    for _round in range(5):
        at_once(services.coverage_refresh)
    assert CoverageSummary.objects.count() == Organization.objects.count()
    assert CoverageSummary.objects.get(organization=tree["pudong"]).enterprises == 1


def test_concurrent_home_page_loads_do_not_collide(postgres_only, tree, clerk, owner):
    """The first loads after a new root appeared: each used to rebuild the summaries in the GET."""
    users = [clerk, owner] * 2
    for _round in range(3):
        CoverageSummary.objects.all().delete()

        def load(user):
            client = Client(raise_request_exception=True)
            client.force_login(user)
            return client.get(reverse("home")).status_code

        results = at_once_each([lambda u=u: load(u) for u in users])
        assert results == [200] * 4


# --- lock order in merge and move -------------------------------------------------------


class _PauseAfterFirstLock:
    """Each thread waits, after its first row lock, until the other thread holds its own.

    Two services taking two row locks in opposite orders then deadlock every time, instead
    of once in a while; with one fixed order the second thread blocks on the first lock and
    the pause just times out.
    """

    def __init__(self, parties: int, timeout: float = 3.0):
        self.barrier = threading.Barrier(parties, timeout=timeout)
        self.local = threading.local()

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "FOR UPDATE" in sql and not getattr(self.local, "paused", False):
            self.local.paused = True
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return result


def _race_with_pause(calls):
    pause = _PauseAfterFirstLock(len(calls))

    def run(call):
        with connections["default"].execute_wrapper(pause):
            return call()

    return race([lambda c=c: run(c) for c in calls])


def _siblings(tree):
    a = add_org(Organization.objects.get(pk=tree["lujiazui"].pk), name="甲工会", kind=OrgKind.GRASSROOTS)
    b = add_org(Organization.objects.get(pk=tree["lujiazui"].pk), name="乙工会", kind=OrgKind.GRASSROOTS)
    return a, b


def test_two_merges_in_opposite_directions_do_not_deadlock(postgres_only, tree, owner):
    a, b = _siblings(tree)
    results, errors = _race_with_pause(
        [
            lambda: services.organization_merge(actor=owner, organization=a, into=b),
            lambda: services.organization_merge(actor=owner, organization=b, into=a),
        ]
    )
    # One merge wins; the other finds its partner closed and is refused with a clear message.
    assert len(results) == 1, errors
    assert [type(e).__name__ for e in errors] == ["TransitionError"], errors


def test_a_move_and_a_merge_of_the_same_two_rows_do_not_deadlock(postgres_only, tree, owner):
    from django.core.exceptions import ValidationError

    from core.errors import DomainError

    a, b = _siblings(tree)
    results, errors = _race_with_pause(
        [
            # The old orders: move locked the moved row, then the new parent (a, b); merge
            # the merged row, then its target (b, a).
            lambda: services.organization_move(actor=owner, organization=a, new_parent=b),
            lambda: services.organization_merge(actor=owner, organization=b, into=a),
        ]
    )
    # No deadlock: whatever is refused is refused by a rule, with a message.
    assert all(isinstance(e, ValidationError | DomainError) for e in errors), errors
    assert Organization.objects.get(pk=b.pk).status == Organization.Status.MERGED
