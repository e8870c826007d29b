"""Evidence and documents on a case (core.attachments): who may add, list, download and remove them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from activity.models import AuditEvent
from core.attachments.models import Attachment
from disputes import services
from tests.conftest import client_for
from tests.disputes.conftest import receive

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _pdf(name="工资条.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _page(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case(bodies, mediators, district_admin, freeze_today):
    c = receive(district_admin, bodies["pudong"])
    services.case_accept(case=c, actor=district_admin)
    return services.case_assign(case=c, actor=district_admin, mediator=mediators["wages"])


def test_the_mediator_uploads_on_the_case_page_and_downloads_it_audited(case, mediators):
    client = _page(mediators["wages"].user)
    response = client.post(f"/disputes/{case.pk}/documents/", {"kind": "wages", "file": _pdf()})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.kind == "wages" and attachment.org_path == case.org_path
    page = client.get(f"/disputes/{case.pk}/").content.decode()
    assert "工资条.pdf" in page and "工资凭证" in page
    download = client.get(f"/files/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="attachment.downloaded").count() == 1


def test_the_visibility_rule_of_cases_holds_for_their_files(case, mediators, district_admin):
    attachment = services.case_document_add(actor=district_admin, case=case, uploaded_file=_pdf(), kind="evidence")
    assert _page(mediators["head"].user).get(f"/files/{attachment.pk}/").status_code == 200
    # A plain mediator of the same body, not assigned: the case is not theirs, nor are its files.
    assert _page(mediators["other"].user).get(f"/files/{attachment.pk}/").status_code == 404
    assert client_for(mediators["other"].user).get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 404
    assert _page(mediators["huangpu"].user).get(f"/files/{attachment.pk}/").status_code == 404


def test_the_api_lists_adds_refuses_and_removes(case, mediators):
    api = client_for(mediators["wages"].user)
    url = f"/api/v1/dispute-cases/{case.pk}/documents/"
    created = api.post(url, {"kind": "contract", "file": _pdf("合同.pdf")}, format="multipart")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "合同.pdf" and created.json()["download_url"].endswith("/download/")
    refused = api.post(url, {"kind": "contract", "file": _pdf("合同.pdf", EXE)}, format="multipart")
    assert refused.status_code == 400 and "file" in str(refused.json())
    bad_kind = api.post(url, {"kind": "selfie", "file": _pdf()}, format="multipart")
    assert bad_kind.status_code == 400 and "材料类别" in str(bad_kind.json())
    assert [a["name"] for a in api.get(url).json()] == ["合同.pdf"]
    pk = created.json()["id"]
    no_reason = api.post(f"{url}remove/", {"attachment": pk, "reason": ""}, format="json")
    assert no_reason.status_code == 400
    removed = api.post(f"{url}remove/", {"attachment": pk, "reason": "重复上传"}, format="json")
    assert removed.status_code == 200
    assert api.get(url).json() == []
    assert Attachment.objects.get(pk=pk).deleted_reason == "重复上传"  # kept, hidden
    assert client_for(mediators["other"].user).get(url).status_code == 404


def test_the_worker_adds_documents_to_their_own_case_only(bodies, district_admin, worker, freeze_today):
    from disputes.models import Case
    from tests.disputes.conftest import applicant

    client = _page(worker)
    mine = services.case_apply(
        worker=worker,
        body=bodies["pudong"],
        track="mediation",
        kind="wages",
        name="张三",
        id_number=applicant()["id_number"],
        facts="拖欠工资",
        claims=[{"description": "支付工资", "amount": "3000"}],
        respondent_name="某公司",
    )
    other = receive(district_admin, bodies["pudong"])
    assert client.post(f"/me/disputes/{mine.pk}/documents/", {"kind": "evidence", "file": _pdf()}).status_code == 302
    assert client.post(f"/me/disputes/{other.pk}/documents/", {"kind": "evidence", "file": _pdf()}).status_code == 404
    attachment = Attachment.objects.get()
    assert attachment.object_id == mine.pk and attachment.uploaded_by == worker
    page = client.get("/me/disputes/").content.decode()
    assert "工资条.pdf" in page
    assert client.get(f"/files/{attachment.pk}/").status_code == 200
    # After the case ends the worker can no longer add to it.
    Case.objects.filter(pk=mine.pk).update(status="withdrawn")
    client.post(f"/me/disputes/{mine.pk}/documents/", {"kind": "evidence", "file": _pdf("迟到.pdf")})
    assert Attachment.objects.count() == 1
