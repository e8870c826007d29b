"""Data-subject rights of a member: a copy of everything held (PIPL art. 45), and the
retention rule for rejected join applications (PIPL art. 19).

`member_worker` (tests/members/conftest.py) is an active 浦东 member with a worker login.
"""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from activity.models import AuditEvent
from core import crypto
from members import services
from members.models import JoinApplication, Member
from members.tasks import purge_rejected_join_applications
from tests.factories import make_id_number

from .pages_helpers import body, submit_application

EXPORT = "my-data-export"


def _member_of(user) -> Member:
    return Member.objects.get(user=user)


@pytest.fixture
def other_member_worker(tree, owner):
    """A second worker member (黄浦), to show that one worker never gets another's data."""
    code = services.join_code_create(actor=owner, union=tree["hp_union"])
    app = submit_application(code, name="李另一人", mobile="13655556666", id_number=make_id_number(region="310101"))
    services.join_application_approve(actor=owner, application=JoinApplication.objects.get(pk=app.pk))
    return _member_of_mobile("136****6666").user


def _member_of_mobile(masked: str) -> Member:
    return Member.objects.select_related("user").get(mobile_masked=masked)


def _export(client, user) -> dict:
    client.force_login(user)
    response = client.post(reverse(EXPORT))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="my-personal-data-')
    assert response["Cache-Control"].startswith("no-store")
    return json.loads(response.content.decode("utf-8"))


# --- the export --------------------------------------------------------------------------


def test_the_data_page_offers_the_download_as_a_post_form_with_csrf(client, member_worker):
    client.force_login(member_worker)
    html = body(client.get(reverse("my-data")))
    form = html.split(f'action="{reverse(EXPORT)}"')[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form
    after = html.split(f'action="{reverse(EXPORT)}"')[1].split("</form>")[0]
    assert "csrfmiddlewaretoken" in after and "下载 JSON" in after
    assert "style=" not in html.split("<body")[1]  # strict CSP: no inline styles


def test_it_gives_the_worker_everything_held_about_them_in_full(client, member_worker):
    member = _member_of(member_worker)
    data = _export(client, member_worker)
    person = data["member"]
    assert person["name"] == "王小骑"
    assert person["id_number"] == crypto.decrypt(member.id_number_enc) and len(person["id_number"]) == 18
    assert person["mobile"] == "13700001234"
    assert person["employer_name"] == "某外卖平台" and person["employment_form"]
    assert data["account"]["username"] == member_worker.get_username()
    [ms] = data["memberships"]
    assert ms["union"] == "浦东测试科技有限公司工会" and ms["status"] == "在册" and ms["member_number"]
    [app] = data["join_applications"]
    assert app["status"] == "已批准" and app["id_number"] == person["id_number"] and app["consent"] is True
    assert data["transfers"] == [] and data["honours"] == []
    assert all(set(e) == {"action", "time", "actor"} for e in data["audit_events"])


def test_it_lists_the_events_on_the_member_record_with_action_time_and_actor_only(client, member_worker):
    _export(client, member_worker)
    events = _export(client, member_worker)["audit_events"]
    assert [e["action"] for e in events] == ["member.data_exported"]
    assert events[0]["actor"] == member_worker.get_username() and events[0]["time"]


def test_the_file_is_readable_chinese_not_escaped(client, member_worker):
    client.force_login(member_worker)
    text = client.post(reverse(EXPORT)).content.decode("utf-8")
    assert "王小骑" in text and "\\u" not in text and "\n  " in text


def test_it_includes_honours_and_transfers(client, tree, owner, member_worker):
    member = _member_of(member_worker)
    services.honour_add(actor=owner, member=member, kind="city_model", year=2024, note="优秀骑手")
    services.transfer_request(actor=member_worker, member=member, to_union=tree["hp_union"], reason="换工作")
    data = _export(client, member_worker)
    assert [h["year"] for h in data["honours"]] == [2024] and data["honours"][0]["note"] == "优秀骑手"
    [t] = data["transfers"]
    assert t["from_union"] == "浦东测试科技有限公司工会" and t["reason"] == "换工作"


def test_another_worker_only_ever_gets_their_own_data(client, member_worker, other_member_worker):
    mine = _member_of(member_worker)
    data = _export(client, other_member_worker)
    assert data["member"]["name"] == "李另一人"
    text = json.dumps(data, ensure_ascii=False)
    assert "王小骑" not in text and crypto.decrypt(mine.id_number_enc) not in text and "13700001234" not in text


def test_the_export_is_audited_without_the_data_itself(client, member_worker):
    member = _member_of(member_worker)
    data = _export(client, member_worker)
    event = AuditEvent.objects.get(action="member.data_exported")
    assert event.actor == member_worker and event.target_id == str(member.pk)
    logged = json.dumps(event.data, ensure_ascii=False)
    assert data["member"]["id_number"] not in logged and "13700001234" not in logged


def test_get_is_not_allowed(client, member_worker):
    client.force_login(member_worker)
    assert client.get(reverse(EXPORT)).status_code == 405
    assert not AuditEvent.objects.filter(action="member.data_exported").exists()


@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider"])
def test_staff_are_sent_away(client, request, member_worker, actor):
    client.force_login(request.getfixturevalue(actor))
    response = client.post(reverse(EXPORT))
    assert response.status_code == 302 and response["Location"].startswith(reverse("home"))
    assert not AuditEvent.objects.filter(action="member.data_exported").exists()


def test_anonymous_is_sent_to_login(client, member_worker):
    response = client.post(reverse(EXPORT))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_worker_without_a_member_record_gets_404(client, worker):
    client.force_login(worker)
    assert client.post(reverse(EXPORT)).status_code == 404


def test_the_service_refuses_anyone_but_the_member(owner, member_worker, other_member_worker):
    member = _member_of(member_worker)
    for actor in (owner, other_member_worker):
        with pytest.raises(PermissionDenied):
            services.member_data_export(actor=actor, member=member)


def test_the_export_runs_a_bounded_number_of_queries(client, tree, owner, member_worker, django_assert_max_num_queries):
    member = _member_of(member_worker)
    for year in (2021, 2022, 2023):
        services.honour_add(actor=owner, member=member, kind="city_model", year=year)
    client.force_login(member_worker)
    # Members' own part is constant; each section an app above registers adds a few queries
    # (one per table it reads: projects reads votes, sign-ups and ratings), whatever the
    # number of rows.
    from members.selectors import _personal_data_sections

    with django_assert_max_num_queries(14 + 3 * len(_personal_data_sections)):
        assert client.post(reverse(EXPORT)).status_code == 200


# --- retention of rejected join applications -------------------------------------------


def _reject(app, owner, *, days_ago: int):
    app = services.join_application_reject(actor=owner, application=app, reason="材料不全")
    JoinApplication.objects.filter(pk=app.pk).update(reviewed_at=timezone.now() - dt.timedelta(days=days_ago))
    return app


def test_old_rejected_applications_are_purged_and_the_rest_kept(settings, owner, pd_code, member_worker):
    settings.JOIN_APPLICATION_RETENTION_DAYS = 180
    old = _reject(submit_application(pd_code, name="旧驳回"), owner, days_ago=181)
    recent = _reject(submit_application(pd_code, name="新驳回"), owner, days_ago=10)
    pending = submit_application(pd_code, name="待审核人")
    JoinApplication.objects.filter(pk=pending.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    approved_ids = set(JoinApplication.objects.filter(status="approved").values_list("pk", flat=True))
    JoinApplication.objects.filter(pk__in=approved_ids).update(reviewed_at=timezone.now() - dt.timedelta(days=400))

    assert services.join_applications_purge_expired() == 1

    remaining = set(JoinApplication.objects.values_list("pk", flat=True))
    assert old.pk not in remaining
    assert {recent.pk, pending.pk} | approved_ids <= remaining


def test_the_purge_is_audited_with_the_count_only(owner, pd_code):
    _reject(submit_application(pd_code, name="旧驳回"), owner, days_ago=200)
    services.join_applications_purge_expired()
    event = AuditEvent.objects.get(action="member.join_applications_purged")
    assert event.data["count"] == 1 and event.actor is None and event.target_id == ""
    assert "旧驳回" not in json.dumps(event.data, ensure_ascii=False)


def test_the_cutoff_follows_the_setting_and_now(settings, owner, pd_code):
    settings.JOIN_APPLICATION_RETENTION_DAYS = 30
    _reject(submit_application(pd_code, name="驳回人"), owner, days_ago=20)
    assert services.join_applications_purge_expired() == 0
    assert services.join_applications_purge_expired(now=timezone.now() + dt.timedelta(days=11)) == 1


def test_the_task_purges_and_is_idempotent(owner, pd_code):
    _reject(submit_application(pd_code, name="旧驳回"), owner, days_ago=365)
    assert purge_rejected_join_applications() == 1
    assert purge_rejected_join_applications() == 0


def test_the_purge_runs_daily_from_the_beat_schedule():
    from unionportal.celery import app

    entry = app.conf.beat_schedule["members-purge-rejected-applications"]
    assert entry["task"] == "members.tasks.purge_rejected_join_applications"
    schedule = entry["schedule"]
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1 and len(schedule.day_of_week) == 7  # once a day


def test_a_registered_section_joins_the_download(client, member_worker, monkeypatch):
    """An app above members adds its part of a person's data through the registry."""
    from members import selectors

    monkeypatch.setattr(selectors, "_personal_data_sections", {})
    selectors.register_personal_data_section("aid_files", lambda member: [{"file_of": member.name}])
    data = _export(client, member_worker)
    assert data["aid_files"] == [{"file_of": _member_of(member_worker).name}]
