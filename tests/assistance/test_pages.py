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


# --- the staff forms that were API-only: tier override, emergency aid, funds, budgets,
# allocations, campaigns (refusals name the field, nothing saved; other districts' objects 404)


def test_tier_override_page_needs_a_written_reason_and_is_audited(tree, standard, budget, pd_aid, hp_aid):
    from activity.models import AuditEvent

    file = open_file(pd_aid, tree["pd_union"])
    c = _client(pd_aid)
    assert "调整困难档次" in c.get(f"/aid/files/{file.pk}/").content.decode()
    r = c.post(f"/aid/files/{file.pk}/tier/", {"tier": "relative", "reason": "短"})
    assert r.status_code == 400 and "调整档次必须写明理由" in r.content.decode()
    assert HardshipFile.objects.get(pk=file.pk).tier == "deep"
    r = c.post(f"/aid/files/{file.pk}/tier/", {"tier": "relative", "reason": "配偶突发重病，收入将明显下降"})
    assert r.status_code == 302
    file.refresh_from_db()
    assert (file.tier, file.tier_computed) == ("relative", "deep")
    assert AuditEvent.objects.filter(action="aid.tier_overridden", target_id=str(file.pk)).exists()
    assert _client(hp_aid).get(f"/aid/files/{file.pk}/tier/").status_code == 404


def test_emergency_aid_page_pays_at_once_and_flags_the_file(tree, standard, budget, pd_aid, hp_aid):
    from assistance.models import Grant
    from tests.factories import make_id_number, make_member

    idn = make_id_number()
    member = make_member(tree["pd_union"], name="李应急", id_number=idn).member
    c = _client(pd_aid)
    assert "应急救助" in c.get("/aid/").content.decode()
    form = {"id_number": idn, "causes": ["accident"], "amount": "99999", "budget": budget.pk, "reason": "火灾"}
    r = c.post("/aid/emergency/", form)
    assert r.status_code == 400 and "金额应在" in r.content.decode()
    assert not HardshipFile.objects.filter(member=member).exists()
    # Another district's officer cannot find the person (nor use this budget).
    r = _client(hp_aid).post("/aid/emergency/", {**form, "amount": "1000"})
    assert r.status_code == 400 and not HardshipFile.objects.filter(member=member).exists()
    r = c.post("/aid/emergency/", {**form, "id_number": "310101199001011234", "amount": "1000"})
    assert r.status_code == 400 and "身份证号码" in r.content.decode()
    r = c.post("/aid/emergency/", {**form, "amount": "1000"})
    assert r.status_code == 302
    grant = Grant.objects.get(file__member=member)
    assert (grant.status, grant.is_emergency, grant.file.is_emergency) == ("paid", True, True)
    budget.refresh_from_db()
    assert budget.spent == 1000
    assert "应急救助（先救助后审核）" in c.get(r.url).content.decode()


def test_fund_budget_and_allocation_pages(tree, owner, standard, pd_aid, hp_aid, city_aid):
    from assistance.models import Budget, Fund
    from assistance.selectors import budget_from_ledger

    c = _client(city_aid)
    r = c.post("/aid/funds/new/", {"organization": tree["city"].pk, "name": "", "source": "union"})
    assert r.status_code == 400 and "请填写“资金名称”" in r.content.decode()
    r = c.post("/aid/funds/new/", {"organization": tree["city"].pk, "name": "市帮扶资金", "source": "union"})
    assert r.status_code == 302
    fund = Fund.objects.get(name="市帮扶资金")
    r = c.post("/aid/budgets/new/", {"fund": fund.pk, "organization": tree["city"].pk, "year": "26", "amount": "1"})
    assert r.status_code == 400 and "年度不正确" in r.content.decode()
    for org, amount in ((tree["city"], "500000"), (tree["pudong"], "0")):
        r = c.post("/aid/budgets/new/", {"fund": fund.pk, "organization": org.pk, "year": "2026", "amount": amount})
        assert r.status_code == 302
    parent = Budget.objects.get(fund=fund, organization=tree["city"])
    child = Budget.objects.get(fund=fund, organization=tree["pudong"])
    assert f"/aid/budgets/{parent.pk}/allocate/" in c.get("/aid/budgets/").content.decode()
    r = c.post(f"/aid/budgets/{parent.pk}/allocate/", {"child": child.pk, "amount": "900000"})
    assert r.status_code == 400 and "余额不足" in r.content.decode()
    r = c.post(f"/aid/budgets/{parent.pk}/allocate/", {"child": child.pk, "amount": "200000", "note": "一季度"})
    assert r.status_code == 302
    parent.refresh_from_db()
    child.refresh_from_db()
    assert (parent.amount, child.amount) == (300000, 200000)
    for b in (parent, child):
        assert budget_from_ledger(b) == {"amount": b.amount, "reserved": b.reserved, "spent": b.spent}
    # The district sees its budget but cannot allocate from the city's; Huangpu sees neither.
    assert _client(pd_aid).get(f"/aid/budgets/{parent.pk}/allocate/").status_code == 404
    assert _client(hp_aid).get(f"/aid/budgets/{child.pk}/allocate/").status_code == 404
    r = _client(hp_aid).post("/aid/funds/new/", {"organization": tree["pudong"].pk, "name": "x", "source": "union"})
    assert r.status_code == 400 and not Fund.objects.filter(name="x").exists()


def test_new_campaign_page(tree, standard, budget, pd_aid, hp_aid):
    from assistance.models import Campaign

    c = _client(pd_aid)
    assert "/aid/campaigns/new/" in c.get("/aid/campaigns/").content.decode()
    form = {"name": "2027 年送温暖", "kind": "warmth", "organization": tree["pudong"].pk, "budget": budget.pk}
    r = c.post("/aid/campaigns/new/", {**form, "amount_per_file": "-5"})
    assert r.status_code == 400 and "金额必须大于 0" in r.content.decode()
    assert not Campaign.objects.exists()
    r = c.post("/aid/campaigns/new/", {**form, "amount_per_file": "300"})
    assert r.status_code == 302
    assert Campaign.objects.get().status == "draft"
    r = _client(hp_aid).post("/aid/campaigns/new/", {**form, "amount_per_file": "300"})
    assert r.status_code == 400 and Campaign.objects.count() == 1


def test_the_file_list_filters_emergency_files(tree, standard, budget, pd_aid):
    from assistance import services
    from tests.factories import make_member

    plain = open_file(pd_aid, tree["pd_union"])
    member = make_member(tree["pd_union"], name="王应急").member
    grant = services.emergency_aid(
        actor=pd_aid, member=member, causes=["accident"], amount="800", budget=budget, reason="车祸"
    )
    body = _client(pd_aid).get("/aid/?emergency=1").content.decode()
    assert grant.file.number in body and plain.number not in body
    assert plain.number in _client(pd_aid).get("/aid/").content.decode()
