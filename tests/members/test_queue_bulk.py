"""The approval queue: bulk approve/reject with a result per row, a layout that fits (issue 15 item 8)."""

from django.urls import reverse

from members.models import JoinApplication, Membership

from .pages_helpers import submit_application

URL = "member-applications-bulk"


def _apps(pd_code, n):
    return [submit_application(pd_code, name=f"批量{'甲乙丙丁'[i]}", mobile=f"1390000{i:04d}") for i in range(n)]


def test_bulk_approve_reports_each_row(client, clerk, pd_code, hp_code):
    a, b, c = _apps(pd_code, 3)
    elsewhere = submit_application(hp_code, name="黄浦申请人", mobile="13900009999")
    client.force_login(clerk)
    client.post(reverse("member-application-reject", args=[c.pk]), {"reason": "信息不全"})
    resp = client.post(reverse(URL), {"ids": [a.pk, b.pk, c.pk, elsewhere.pk], "decision": "approve"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert Membership.objects.filter(member__name__in=["批量甲", "批量乙"], status="active").count() == 2
    # One line per chosen application: done, refused (already decided), not in reach.
    assert html.count('class="bulk-result') == 4
    assert "已批准" in html and "批量丙</a>：当前状态为“已驳回”" in html
    assert "黄浦申请人" not in html and "不存在或不在您的管辖范围内" in html
    assert JoinApplication.objects.get(pk=elsewhere.pk).status == "pending"


def test_bulk_reject_needs_one_reason_for_all(client, clerk, pd_code):
    a, b = _apps(pd_code, 2)
    client.force_login(clerk)
    resp = client.post(reverse(URL), {"ids": [a.pk, b.pk], "decision": "reject", "reason": ""})
    assert resp.status_code == 400 and "驳回理由" in resp.content.decode()
    assert JoinApplication.objects.filter(status="pending").count() == 2
    resp = client.post(reverse(URL), {"ids": [a.pk, b.pk], "decision": "reject", "reason": "非本单位职工"})
    assert resp.status_code == 200
    assert JoinApplication.objects.filter(status="rejected", reason="非本单位职工").count() == 2


def test_bulk_needs_a_choice(client, clerk, pd_code):
    client.force_login(clerk)
    resp = client.post(reverse(URL), {"decision": "approve"})
    assert resp.status_code == 400 and "请先勾选" in resp.content.decode()


def test_the_queue_offers_bulk_actions_and_keeps_its_layout(client, clerk, pd_code):
    _apps(pd_code, 1)
    client.force_login(clerk)
    html = client.get(reverse("member-applications")).content.decode()
    assert 'form="bulk-form"' in html and "批准所选" in html and "驳回所选" in html
    assert 'class="small col-union"' in html  # a column wide enough not to wrap a union's name
    assert "collapse d-md-block" in html  # the filter panel folds on a phone
