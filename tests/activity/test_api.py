"""The audit-events API: read-only, scoped to the reader's reach, for roles with audit.view.

Reading the audit log needs audit.view (federation admins and auditors). So besides the
usual five actors, a Pudong auditor is the in-scope reader and a Huangpu auditor the
outsider who must not find any Pudong event; the plain clerks lack the capability (403).
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from core.audit import log_action
from organizations.models import User
from tests.conftest import _staff, client_for

ANON = "401/403"
URL = reverse("api:audit-event-list")
ACTORS = ["owner", "pd_auditor", "clerk", "hp_auditor", "outsider", "worker", "anonymous"]
LIST = {
    "owner": 200,
    "pd_auditor": 200,
    "clerk": 403,
    "hp_auditor": 200,
    "outsider": 403,
    "worker": 403,
    "anonymous": ANON,
}


@pytest.fixture
def pd_auditor(tree):
    return _staff("pd_auditor", tree["pudong"], "auditor")


@pytest.fixture
def hp_auditor(tree):
    return _staff("hp_auditor", tree["huangpu"], "auditor")


@pytest.fixture
def events(tree, owner):
    return {
        "pudong": log_action(actor=owner, action="organization.updated", target=tree["lujiazui"], data={"x": 1}),
        "pudong_union": log_action(actor=owner, action="officer.created", target=tree["pd_union"]),
        "huangpu": log_action(actor=owner, action="organization.updated", target=tree["nanjing"]),
        "system": log_action(actor=None, action="coverage.refreshed"),
    }


def as_actor(request, actor):
    return client_for(None if actor == "anonymous" else request.getfixturevalue(actor))


def check(resp, expected):
    if expected == ANON:
        assert resp.status_code in (401, 403), resp.content
    else:
        assert resp.status_code == expected, resp.content
    if resp.status_code >= 400:
        assert set(resp.json()) == {"error"} and resp.json()["error"]["message"]
    return resp.json()


def ids(resp) -> set[int]:
    return {row["id"] for row in resp.json()["results"]}


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_audit_events_within_reach(request, events, actor):
    resp = as_actor(request, actor).get(URL)
    check(resp, LIST[actor])
    if resp.status_code != 200:
        return
    pudong = {events["pudong"].pk, events["pudong_union"].pk}
    seen = ids(resp)
    if actor == "owner":
        # Events with no organisation (system jobs) are for superusers only.
        assert seen == {events["pudong"].pk, events["pudong_union"].pk, events["huangpu"].pk}
    elif actor == "pd_auditor":
        assert seen == pudong
    else:
        assert seen == {events["huangpu"].pk}


def test_it_shows_what_happened_where(tree, events, pd_auditor):
    rows = client_for(pd_auditor).get(URL).json()["results"]
    row = next(r for r in rows if r["id"] == events["pudong"].pk)
    assert row["action"] == "organization.updated" and row["actor"] == "owner"
    assert row["organization"] == {"id": tree["lujiazui"].pk, "name": "陆家嘴街道总工会"}
    assert row["target_type"] == "organizations.organization" and row["data"] == {"x": 1}
    # Newest first.
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"action": "organization."},
        {"action": "officer"},
        {"target_type": "organizations.organization"},
        {"actor": "own"},
        {"under": "pudong"},
        {"under": "lujiazui"},
        {"date_from": "today"},
    ],
)
def test_it_never_lets_the_outsider_find_pudong_events(tree, events, hp_auditor, pd_auditor, params):
    today = str(timezone.localdate())
    params = {k: (tree[v].pk if v in tree else today if v == "today" else v) for k, v in params.items()}
    pudong = {events["pudong"].pk, events["pudong_union"].pk}
    resp = client_for(hp_auditor).get(URL, params)
    check(resp, 200)
    assert not ids(resp) & pudong
    assert ids(client_for(pd_auditor).get(URL, params)) & pudong


def test_it_filters_by_action_subtree_and_date(tree, events, owner):
    client = client_for(owner)
    assert ids(client.get(URL, {"action": "officer."})) == {events["pudong_union"].pk}
    assert ids(client.get(URL, {"under": tree["pudong"].pk})) == {events["pudong"].pk, events["pudong_union"].pk}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert ids(client.get(URL, {"date_from": str(tomorrow)})) == set()
    assert len(ids(client.get(URL, {"date_to": str(tomorrow)}))) == 3


def test_it_shows_system_events_to_superusers_only(events, owner):
    admin = User.objects.create(username="root", is_superuser=True, is_staff=True)
    assert events["system"].pk in ids(client_for(admin).get(URL))
    assert events["system"].pk not in ids(client_for(owner).get(URL))


def test_it_refuses_a_date_range_that_ends_before_it_starts(events, owner):
    body = check(client_for(owner).get(URL, {"date_from": "2025-02-01", "date_to": "2025-01-01"}), 400)
    assert "date_to" in body["error"]["fields"]


def test_it_refuses_a_malformed_filter_with_the_error_shape(events, owner):
    body = check(client_for(owner).get(URL, {"under": "abc", "date_from": "yesterday"}), 400)
    assert {"under", "date_from"} <= set(body["error"]["fields"])


def test_it_is_read_only(events, owner):
    client = client_for(owner)
    check(client.post(URL, {"action": "forged"}, format="json"), 405)
    assert client.delete(f"{URL}{events['pudong'].pk}/").status_code == 404  # no such route
    assert AuditEvent.objects.count() == 4


def test_it_lists_events_with_a_constant_number_of_queries(tree, owner, pd_auditor, django_assert_max_num_queries):
    counts = []
    for n in (3, 30):
        for _ in range(n):
            log_action(actor=owner, action="organization.updated", target=tree["pd_union"])
        client = client_for(User.objects.get(pk=pd_auditor.pk))
        with django_assert_max_num_queries(4) as ctx:
            resp = client.get(URL, {"under": tree["pudong"].pk})
        assert resp.status_code == 200 and len(resp.json()["results"]) >= n
        counts.append(len(ctx))
    assert counts[0] == counts[1]
