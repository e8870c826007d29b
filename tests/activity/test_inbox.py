"""The inbox: pages (staff and worker), the API, the header's unread count; one's own messages only."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from activity.models import Notification, NotificationPreference
from activity.services import notify
from tests.conftest import client_for


def _tell(user, target, title="入会申请待审核", url="/members/applications/"):
    notify(
        kind="members.application_waiting", target=target, recipients=[user], title=title, url=url, org_path=target.path
    )
    return Notification.objects.filter(recipient=user).latest("id")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def messages(tree, clerk, outsider):
    mine = [_tell(clerk, tree[name], title=f"给浦东的提醒{name}") for name in ("pd_union", "lujiazui", "pudong")]
    theirs = _tell(outsider, tree["hp_union"], title="给黄浦的提醒")
    return {"mine": mine, "theirs": theirs}


def test_the_inbox_lists_only_my_messages_and_the_bell_counts_the_unread(client, clerk, messages):
    client.force_login(clerk)
    html = client.get(reverse("notifications")).content.decode()
    assert all(m.title in html for m in messages["mine"])
    assert "给黄浦的提醒" not in html
    header = html.split('data-testid="header-inbox"', 1)[1].split("</a>", 1)[0]
    assert ">3<" in header and reverse("notifications") in html


def test_opening_a_message_marks_it_read_and_follows_its_link(client, clerk, messages):
    client.force_login(clerk)
    first = messages["mine"][0]
    response = client.post(reverse("notification-open", args=[first.pk]))
    assert response.status_code == 302 and response["Location"] == "/members/applications/"
    first.refresh_from_db()
    assert first.read_at is not None
    header = client.get(reverse("notifications")).content.decode().split('data-testid="header-inbox"', 1)[1]
    assert ">2<" in header.split("</a>", 1)[0]
    unread = client.get(reverse("notifications"), {"show": "unread"}).content.decode()
    assert first.title not in unread and messages["mine"][1].title in unread


def test_mark_all_read_clears_the_inbox(client, clerk, messages):
    client.force_login(clerk)
    response = client.post(reverse("notifications-read-all"), follow=True)
    assert "已将 3 条消息标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=clerk, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=messages["theirs"].pk).read_at is None  # not someone else's
    header = response.content.decode().split('data-testid="header-inbox"', 1)[1].split("</a>", 1)[0]
    assert "badge" not in header


def test_someone_else_s_message_is_a_404_and_stays_unread(client, outsider, messages):
    client.force_login(outsider)
    response = client.post(reverse("notification-open", args=[messages["mine"][0].pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=messages["mine"][0].pk).read_at is None
    assert client.get(reverse("notification-open", args=[messages["theirs"].pk])).status_code == 405


def test_a_link_off_the_site_is_not_followed(client, clerk, tree):
    evil = _tell(clerk, tree["pd_union"], title="外链", url="https://evil.example/")
    client.force_login(clerk)
    response = client.post(reverse("notification-open", args=[evil.pk]))
    assert response["Location"] == reverse("notifications")


def test_the_inbox_pages_by_keyset(client, clerk):
    for i in range(35):  # one message per (object, kind, day): 35 days of notices
        notify(kind="activity.notice", target=clerk, recipients=[clerk], title=f"第{i:02d}条", on=_day(i))
    client.force_login(clerk)
    page = client.get(reverse("notifications")).context["page"]
    assert len(page.rows) == 30 and page.next_cursor
    second = client.get(reverse("notifications"), {"cursor": page.next_cursor}).context["page"]
    assert len(second.rows) == 5 and not second.next_cursor
    assert not {r.pk for r in page.rows} & {r.pk for r in second.rows}


def _day(i):
    return dt.date(2026, 1, 1) + dt.timedelta(days=i)


def test_the_home_page_shows_the_unread_as_its_to_do_list(client, clerk, messages):
    client.force_login(clerk)
    html = client.get(reverse("home")).content.decode()
    todo = html.split('id="inbox"', 1)[1].split("</section>", 1)[0]
    assert messages["mine"][0].title in todo and "给黄浦的提醒" not in todo


def test_the_worker_reads_their_messages_on_the_phone(client, worker, tree):
    message = _tell(worker, tree["pd_union"], title="您的入会申请已批准", url="/me/card/")
    client.force_login(worker)
    home = client.get(reverse("selfservice-home")).content.decode()
    tile = home.split('data-testid="my-inbox-tile"', 1)[1].split("</a>", 1)[0]
    assert ">1<" in tile
    page = client.get(reverse("my-notifications")).content.decode()
    assert "您的入会申请已批准" in page
    assert client.post(reverse("notification-open", args=[message.pk]))["Location"] == "/me/card/"
    assert client.post(reverse("notifications-read-all"))["Location"] == reverse("my-notifications")
    assert client.get(reverse("notifications"))["Location"] == reverse("selfservice-home")  # staff inbox: not theirs


def test_preferences_are_saved_per_kind(client, clerk, messages):
    client.force_login(clerk)
    page = client.get(reverse("notification-preferences"))
    assert page.status_code == 200 and "调解案件超期" in page.content.decode()
    response = client.post(reverse("notification-preferences"), {"disputes.case_overdue:sms": "on"})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=clerk, kind="disputes.case_overdue")
    assert pref.sms and not pref.email
    assert not NotificationPreference.objects.get(user=clerk, kind="disputes.case_day10").email


def test_anonymous_is_sent_to_sign_in(client, messages):
    assert client.get(reverse("notifications")).status_code == 302
    assert client.post(reverse("notification-open", args=[messages["mine"][0].pk])).status_code == 302
    assert client.get(reverse("my-notifications")).status_code == 302


# --- the API


def test_the_api_lists_my_messages_and_counts_the_unread(clerk, messages):
    api = client_for(clerk)
    rows = api.get("/api/v1/notifications/").json()["results"]
    assert {r["id"] for r in rows} == {m.pk for m in messages["mine"]}
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 3}
    read = api.post(f"/api/v1/notifications/{messages['mine'][0].pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert [r["id"] for r in api.get("/api/v1/notifications/?unread=true").json()["results"]] == [
        m.pk for m in reversed(messages["mine"][1:])
    ]
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert api.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}


def test_the_api_refuses_another_s_message_and_bad_input(outsider, messages):
    api = client_for(outsider)
    mine = messages["mine"][0].pk
    for response in (api.get(f"/api/v1/notifications/{mine}/"), api.post(f"/api/v1/notifications/{mine}/read/")):
        assert response.status_code == 404 and response.json()["error"]["code"]
    assert api.get("/api/v1/notifications/abc/").status_code == 404
    bad = api.get("/api/v1/notifications/?unread=perhaps")
    assert bad.status_code == 400 and "unread" in bad.json()["error"]["fields"]
    assert Notification.objects.get(pk=mine).read_at is None


def test_the_api_serves_workers_their_own_inbox_and_nobody_anonymous(worker, tree, messages):
    _tell(worker, tree["city"], title="候补转正")
    rows = client_for(worker).get("/api/v1/notifications/").json()["results"]
    assert [r["title"] for r in rows] == ["候补转正"]
    assert client_for(None).get("/api/v1/notifications/").status_code in (401, 403)


def test_the_api_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/notifications/",
        "/api/v1/notifications/{id}/read/",
        "/api/v1/notifications/read-all/",
        "/api/v1/notifications/unread-count/",
    ):
        assert path in schema["paths"], path
