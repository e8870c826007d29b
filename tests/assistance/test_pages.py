"""Staff pages and the worker's own aid pages."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assistance.models import FileStatus, HardshipFile
from members.models import Member

from .helpers import open_file, registered, to_approving

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_staff_pages_render_and_filter(tree, standard, budget, pd_aid, hp_aid, street_aid):
    file = registered(pd_aid, tree["pd_union"], budget)
    waiting = to_approving(pd_aid, open_file(pd_aid, tree["pd_union"]), budget)
    c = _client(pd_aid)
    body = c.get("/aid/").content.decode()
    assert file.number in body and waiting.number in body
    body = c.get("/aid/?status=registered&tier=deep").content.decode()
    assert file.number in body and waiting.number not in body
    assert c.get("/aid/?review_due_before=2030-01-01").status_code == 200
    detail = c.get(f"/aid/files/{file.pk}/").content.decode()
    assert "人均月收入 1,050 元 &lt; 低保线 1,420 元 → 深度困难" in detail and "****" in detail
    assert "已建档" in detail
    assert "1050.00" in c.get(f"/aid/files/{file.pk}/?reveal=1").content.decode()
    assert waiting.number in _client(street_aid).get("/aid/approvals/").content.decode()
    assert "98,500.00" in c.get("/aid/budgets/").content.decode() or "98500" in c.get("/aid/budgets/").content.decode()
    assert c.get("/aid/campaigns/").status_code == 200
    assert _client(hp_aid).get(f"/aid/files/{file.pk}/").status_code == 404


def test_investigation_form_and_decision(tree, standard, budget, pd_aid, street_aid):
    file = open_file(pd_aid, tree["pd_union"])
    c = _client(pd_aid)
    r = c.post(
        f"/aid/files/{file.pk}/investigation/", {"visited_on": "2030-01-01", "investigators": "甲、乙", "findings": "x"}
    )
    assert r.status_code == 400 and "调查日期不能晚于今天" in r.content.decode()
    r = c.post(
        f"/aid/files/{file.pk}/investigation/",
        {"visited_on": dt.date.today().isoformat(), "investigators": "甲、乙", "findings": "属实"},
    )
    assert r.status_code == 302
    r = c.post(f"/aid/files/{file.pk}/notice/", {"start": "2026-09-28", "working_days": "2", "budget": budget.pk})
    assert r.status_code == 400 and "不得少于标准规定的 5 个工作日" in r.content.decode()
    r = c.post(f"/aid/files/{file.pk}/notice/", {"start": "2026-09-28", "budget": budget.pk})
    assert r.status_code == 302
    c.post(f"/aid/files/{file.pk}/notice-close/")
    r = _client(street_aid).post(
        f"/aid/files/{file.pk}/decide/", {"decision": "approve", "opinion": "同意"}, follow=True
    )
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.REGISTERED
    assert "办理记录" in r.content.decode()


def test_worker_applies_from_the_phone_and_is_told_what_is_missing(tree, standard, member_worker):
    c = _client(member_worker)
    assert "申请困难帮扶" in c.get("/me/aid/").content.decode()
    r = c.post("/me/aid/", {"causes": ["illness"], "requested_kind": "living", "requested_amount": "1000"})
    assert r.status_code == 302
    member = Member.objects.get(user=member_worker)
    c.post("/me/aid/household/", {"name": member.name, "relation": "self", "age": "35", "monthly_income": "1200"})
    r = c.post(
        "/me/aid/household/", {"name": "孩子", "relation": "child", "age": "10", "monthly_income": "-1"}, follow=True
    )
    assert "金额必须大于 0" in r.content.decode() or "金额" in r.content.decode()
    page = c.get("/me/aid/").content.decode()
    assert "诊断证明" in page and "户口簿" in page  # missing
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    r = c.post(
        "/me/aid/documents/", {"kind": "photo", "file": SimpleUploadedFile("home.png", png, "image/png")}, follow=True
    )
    assert r.status_code == 200
    r = c.post(
        "/me/aid/documents/",
        {"kind": "photo", "file": SimpleUploadedFile("x.exe", b"MZ" + b"\x00" * 50, "application/octet-stream")},
        follow=True,
    )
    assert "home.png" in c.get("/me/aid/").content.decode()
    file = HardshipFile.objects.get(member=member)
    assert file.applied_by_worker and file.household.count() == 1


def test_worker_and_anonymous_get_no_staff_pages(tree, worker):
    assert Client().get("/aid/").status_code == 302
    assert _client(worker).get("/aid/").status_code == 302


def test_cause_filter_and_a_refused_upload(tree, standard, budget, pd_aid):
    from core.models import Attachment

    ill = open_file(pd_aid, tree["pd_union"], causes=("illness",))
    jobless = open_file(pd_aid, tree["pd_union"], causes=("unemployment",))
    c = _client(pd_aid)
    body = c.get("/aid/?cause=unemployment").content.decode()
    assert jobless.number in body and ill.number not in body
    r = c.post(
        f"/aid/files/{ill.pk}/documents/",
        {"kind": "diagnosis", "file": SimpleUploadedFile("x.exe", b"MZ" + b"\x00" * 50, "application/octet-stream")},
        follow=True,
    )
    assert r.status_code == 200 and Attachment.objects.count() == 0
    pdf = b"%PDF-1.4\n%%EOF\n"
    c.post(
        f"/aid/files/{ill.pk}/documents/",
        {"kind": "diagnosis", "file": SimpleUploadedFile("d.pdf", pdf, "application/pdf")},
    )
    assert Attachment.objects.count() == 1
    assert "诊断证明" not in c.get(f"/aid/files/{ill.pk}/").content.decode().split("尚缺材料")[1].split("</p>")[0]


def test_the_workers_personal_data_download_includes_their_aid_file(tree, standard, member_worker):
    import json

    c = _client(member_worker)
    c.post("/me/aid/", {"causes": ["illness"], "requested_kind": "living", "requested_amount": "1000"})
    member = Member.objects.get(user=member_worker)
    c.post(
        "/me/aid/household/",
        {"name": member.name, "relation": "self", "age": "35", "monthly_income": "1200", "health": "慢性肾病"},
    )
    data = json.loads(b"".join([c.post("/me/data/export/").content]))
    aid = data["hardship_aid"][0]
    assert aid["household"][0]["monthly_income"] == "1200.00" and aid["household"][0]["health"] == "慢性肾病"


def test_pay_a_grant_and_start_a_campaign_from_the_pages(tree, standard, budget, pd_aid, hp_aid):
    from assistance import services
    from assistance.models import Campaign, Grant

    file = registered(pd_aid, tree["pd_union"], budget)
    grant = file.grants.get()
    assert _client(hp_aid).post(f"/aid/grants/{grant.pk}/pay/").status_code == 404
    r = _client(pd_aid).post(f"/aid/grants/{grant.pk}/pay/", follow=True)
    assert Grant.objects.get(pk=grant.pk).status == "paid" and "已发放" in r.content.decode()
    r = _client(pd_aid).post(f"/aid/grants/{grant.pk}/pay/", follow=True)
    assert "不能变更为" in r.content.decode()
    campaign = services.campaign_create(
        actor=pd_aid, organization=tree["pudong"], kind="warmth", name="送温暖", budget=budget, amount_per_file="300"
    )
    assert _client(hp_aid).post(f"/aid/campaigns/{campaign.pk}/start/").status_code == 404
    _client(pd_aid).post(f"/aid/campaigns/{campaign.pk}/start/")
    assert Campaign.objects.get(pk=campaign.pk).status == "running"


def test_objections_on_the_file_page(tree, standard, budget, pd_aid):
    from .helpers import investigate, to_notice

    file = to_notice(pd_aid, investigate(pd_aid, open_file(pd_aid, tree["pd_union"])), budget)
    c = _client(pd_aid)
    r = c.post(f"/aid/files/{file.pk}/objections/", {"received_on": "2026-11-01", "content": "逾期"}, follow=True)
    assert "异议须在公示期" in r.content.decode()
    c.post(f"/aid/files/{file.pk}/objections/", {"received_on": "2026-09-29", "content": "另有收入"})
    objection = file.notices.get().objections.get()
    r = c.post(f"/aid/objections/{objection.pk}/resolve/", {"resolution": "核实属实", "upheld": "on"}, follow=True)
    assert HardshipFile.objects.get(pk=file.pk).status == FileStatus.INVESTIGATING
