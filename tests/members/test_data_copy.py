"""The personal-data copy in three forms (issue 15, item 9): a readable page, a PDF and
the JSON file, each audited, each complete, including the sections that apps above
members register through `register_personal_data_section`.

`member_worker` (tests/members/conftest.py) is an active 浦东 member with a worker login.
"""

import io

import pytest
from django.urls import reverse

from activity.models import AuditEvent
from core import crypto
from members import selectors
from members.models import Member

from .pages_helpers import body

PAGE, PDF, JSON = "my-data-copy", "my-data-pdf", "my-data-export"


def _member_of(user) -> Member:
    return Member.objects.get(user=user)


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def registered(monkeypatch):
    """Two sections as an app above members would register them: one labelled, one not."""
    monkeypatch.setattr(selectors, "_personal_data_sections", {})
    monkeypatch.setattr(selectors, "_personal_data_labels", {}, raising=False)
    selectors.register_personal_data_section(
        "aid_files", lambda m: [{"file_no": "KN-2026-7", "status": "审批中"}], label="困难帮扶档案"
    )
    selectors.register_personal_data_section("project_signups", lambda m: {"project": "夏季送清凉", "ok": True})


def test_the_data_page_offers_all_three_forms_as_post_forms(client, member_worker):
    client.force_login(member_worker)
    html = body(client.get(reverse("my-data")))
    for name in (PAGE, PDF, JSON):
        assert f'action="{reverse(name)}"' in html, name
    assert html.count("csrfmiddlewaretoken") >= 3


def test_the_readable_page_shows_everything_in_full(client, member_worker):
    member = _member_of(member_worker)
    client.force_login(member_worker)
    response = client.post(reverse(PAGE))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store")
    html = body(response)
    assert crypto.decrypt(member.id_number_enc) in html and "13700001234" in html
    assert "王小骑" in html and member.current_membership.union.name in html
    for heading in ("基本信息", "账号", "会籍", "入会申请", "与我有关的操作记录"):
        assert heading in html, heading
    # The other two forms are offered from the page itself.
    assert f'action="{reverse(PDF)}"' in html and f'action="{reverse(JSON)}"' in html


def test_the_pdf_holds_everything_in_full_in_chinese(client, member_worker):
    member = _member_of(member_worker)
    client.force_login(member_worker)
    response = client.post(reverse(PDF))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="my-personal-data-')
    assert response["Cache-Control"].startswith("no-store")
    text = _pdf_text(response.content)
    assert crypto.decrypt(member.id_number_enc) in text and "13700001234" in text
    assert "王小骑" in text and "基本信息" in text


@pytest.mark.parametrize("name,form", [(PAGE, "page"), (PDF, "pdf"), (JSON, "json")])
def test_each_form_is_audited_with_its_form_and_without_the_data(client, member_worker, name, form):
    member = _member_of(member_worker)
    client.force_login(member_worker)
    assert client.post(reverse(name)).status_code == 200
    event = AuditEvent.objects.get(action="member.data_exported")
    assert event.actor == member_worker and event.target_id == str(member.pk)
    assert event.data["form"] == form
    assert crypto.decrypt(member.id_number_enc) not in str(event.data) and "13700001234" not in str(event.data)


@pytest.mark.parametrize("name", [PAGE, PDF])
def test_get_does_not_show_or_audit(client, member_worker, name):
    client.force_login(member_worker)
    assert client.get(reverse(name)).status_code == 405
    assert not AuditEvent.objects.filter(action="member.data_exported").exists()


def test_registered_sections_appear_in_all_three_forms(client, member_worker, registered):
    client.force_login(member_worker)
    html = body(client.post(reverse(PAGE)))
    assert "困难帮扶档案" in html and "KN-2026-7" in html
    assert "project_signups" in html and "夏季送清凉" in html
    text = _pdf_text(client.post(reverse(PDF)).content)
    assert "困难帮扶档案" in text and "KN-2026-7" in text and "夏季送清凉" in text
    import json

    data = json.loads(client.post(reverse(JSON)).content)
    assert data["aid_files"] == [{"file_no": "KN-2026-7", "status": "审批中"}]
    assert data["project_signups"] == {"project": "夏季送清凉", "ok": True}


@pytest.mark.parametrize("name", [PAGE, PDF])
@pytest.mark.parametrize("actor", ["owner", "clerk"])
def test_staff_are_sent_away(client, request, member_worker, actor, name):
    client.force_login(request.getfixturevalue(actor))
    response = client.post(reverse(name))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="member.data_exported").exists()


@pytest.mark.parametrize("name", [PAGE, PDF])
def test_anonymous_is_sent_to_login_and_a_worker_without_record_gets_404(client, worker, name):
    response = client.post(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(worker)
    assert client.post(reverse(name)).status_code == 404


def test_the_readable_page_escapes_what_a_section_returns(client, member_worker, monkeypatch):
    monkeypatch.setattr(selectors, "_personal_data_sections", {})
    selectors.register_personal_data_section("notes", lambda m: {"text": "<script>alert(1)</script>"})
    client.force_login(member_worker)
    html = body(client.post(reverse(PAGE)))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
