"""Private attachments: checked by content, size-limited, scanned, stored outside any URL,
reachable only when the owner is, downloads audited, removal soft.

The owner in these tests is a members.Member (scoped by its copied org_path), as an aid
file or a dispute will be.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.test import Client

from activity.models import AuditEvent
from core.attachments import selectors, services
from core.attachments.forms import AttachmentUploadForm
from core.attachments.models import Attachment
from core.attachments.storage import private_storage
from core.errors import DomainError
from members.models import Member
from tests.conftest import client_for
from tests.factories import UserFactory, make_member

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<r/>", "word/document.xml": b"<w/>"})
DOCM_AS_DOCX = _zip(
    {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": b"<r/>",
        "word/document.xml": b"<w/>",
        "word/vbaProject.bin": b"macro",
    }
)
# The first entry's name is all filetype looks at: "word/" is enough to fool it.
FAKE_DOCX = _zip({"word/payload.exe": EXE, "run.bat": b"evil"})


def _xlsx() -> bytes:
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    return buf.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    # The browser's Content-Type is the uploader's claim: always a lie-friendly default here.
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files() -> list[Path]:
    root = Path(private_storage().location)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    return settings.PRIVATE_FILES_ROOT


@pytest.fixture
def pd_member(tree, owner):
    return make_member(tree["pd_union"], actor=owner, name="王小丫").member


@pytest.fixture
def hp_member(tree, owner):
    return make_member(tree["hp_union"], actor=owner, name="李大壮").member


@pytest.fixture
def pd_file(pd_member, clerk, private_root):
    return services.attachment_add(
        owner=pd_member, uploaded_file=upload("诊断证明 2026.pdf", PDF), kind="diagnosis", actor=clerk
    )


def scan_infected(path):
    return "infected"


def scan_clean(path):
    return "clean"


def scan_unavailable(path):
    return "unavailable"


def scan_crashes(path):
    raise ConnectionRefusedError("clamd is down")


# --- what may be uploaded -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("证明.pdf", PDF, "application/pdf"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        ("scan.png", PNG, "image/png"),
        ("phone.webp", WEBP, "image/webp"),
        ("IMG_0001.HEIC", HEIC, "image/heic"),
        ("劳动合同.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("收入.xlsx", _xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_it_accepts_documents_and_photos_by_their_content(name, content, mime, pd_member, clerk, private_root):
    attachment = services.attachment_add(owner=pd_member, uploaded_file=upload(name, content), kind="x", actor=clerk)
    assert attachment.mime_type == mime
    assert attachment.original_name == name
    assert attachment.size == len(content)
    assert attachment.org_path == pd_member.org_path
    assert attachment.scan_status == Attachment.ScanStatus.NOT_SCANNED
    assert private_storage().open(attachment.stored_name).read() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", EXE),
        ("报告.pdf", EXE),  # an executable renamed .pdf
        ("notes.txt", "纯文本".encode()),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("archive.zip", _zip({"a.txt": b"a"})),
        ("macro.docx", DOCM_AS_DOCX),
        ("fake.docx", FAKE_DOCX),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    ],
)
def test_it_refuses_what_is_not_an_allowed_document_by_content(name, content, pd_member, clerk, private_root):
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(
            owner=pd_member, uploaded_file=upload(name, content, "application/pdf"), kind="x", actor=clerk
        )
    assert "不支持此类文件" in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists() and not stored_files()


@pytest.mark.parametrize(("name", "ext"), [("virus.exe", ".exe"), ("证明.jpg", ".jpg"), ("a.pdf.bat", ".bat")])
def test_it_refuses_a_name_whose_extension_contradicts_the_content(name, ext, pd_member, clerk, private_root):
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(owner=pd_member, uploaded_file=upload(name, PDF), kind="x", actor=clerk)
    message = exc.value.message_dict["file"][0]
    assert ext in message and "PDF" in message
    assert not Attachment.objects.exists() and not stored_files()


def test_it_adds_the_right_extension_to_a_name_without_one(pd_member, clerk, private_root):
    attachment = services.attachment_add(owner=pd_member, uploaded_file=upload("blob", PDF), kind="x", actor=clerk)
    assert attachment.original_name == "blob.pdf"


def test_it_keeps_only_a_safe_display_name(pd_member, clerk, private_root):
    attachment = services.attachment_add(
        owner=pd_member, uploaded_file=upload('..\\..\\etc/"诊断\x00证明".pdf', PDF), kind="x", actor=clerk
    )
    assert attachment.original_name == "诊断证明.pdf"
    # The stored name is random: nothing of the uploader's name reaches the disk.
    assert "诊断" not in attachment.stored_name and ".." not in attachment.stored_name


def test_it_refuses_an_oversized_file_and_keeps_nothing(pd_member, clerk, private_root, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PDF) - 1
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(owner=pd_member, uploaded_file=upload("big.pdf", PDF), kind="x", actor=clerk)
    assert "不能超过" in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists() and not stored_files()


def test_it_refuses_an_empty_file_and_a_missing_kind(pd_member, clerk, private_root):
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(owner=pd_member, uploaded_file=upload("e.pdf", b""), kind="x", actor=clerk)
    assert "file" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind=" ", actor=clerk)
    assert "kind" in exc.value.message_dict


# --- the virus-scan hook ------------------------------------------------------------------


def test_it_refuses_an_infected_file_and_keeps_nothing(pd_member, clerk, private_root, settings):
    settings.ATTACHMENT_SCANNER = "tests.core.test_attachments.scan_infected"
    with pytest.raises(ValidationError) as exc:
        services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
    assert "病毒" in exc.value.message_dict["file"][0]
    assert not Attachment.objects.exists() and not stored_files()


def test_it_marks_a_clean_scan(pd_member, clerk, private_root, settings):
    settings.ATTACHMENT_SCANNER = "tests.core.test_attachments.scan_clean"
    attachment = services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
    assert attachment.scan_status == Attachment.ScanStatus.CLEAN


@pytest.mark.parametrize("scanner", ["scan_unavailable", "scan_crashes"])
def test_it_holds_back_a_file_the_scanner_could_not_check_until_a_rescan(
    scanner, pd_member, clerk, private_root, settings
):
    settings.ATTACHMENT_SCANNER = f"tests.core.test_attachments.{scanner}"
    attachment = services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
    assert attachment.scan_status == Attachment.ScanStatus.PENDING
    response = client_for(clerk).get(f"/api/v1/attachments/{attachment.pk}/download/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "scan_pending"

    page = _page_client(clerk).get(PAGE.format(attachment.pk))
    assert page.status_code == 409 and "病毒扫描" in page.content.decode()

    settings.ATTACHMENT_SCANNER = "tests.core.test_attachments.scan_clean"
    assert services.attachment_rescan_pending() == {"clean": 1, "infected": 0, "pending": 0}
    assert client_for(clerk).get(f"/api/v1/attachments/{attachment.pk}/download/").status_code == 200


def test_a_rescan_that_finds_a_virus_removes_the_file(
    pd_member, clerk, private_root, settings, django_capture_on_commit_callbacks
):
    settings.ATTACHMENT_SCANNER = "tests.core.test_attachments.scan_unavailable"
    attachment = services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
    settings.ATTACHMENT_SCANNER = "tests.core.test_attachments.scan_infected"
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_rescan_pending()
    attachment.refresh_from_db()
    assert attachment.scan_status == Attachment.ScanStatus.INFECTED and attachment.deleted_at is not None
    assert not stored_files()
    assert list(selectors.attachments_for(clerk, pd_member)) == []


# --- one transaction: no file without a row ------------------------------------------------


def test_a_failure_after_the_file_is_written_leaves_no_file(pd_member, clerk, private_root, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit database gone")

    monkeypatch.setattr(services, "log_action", broken_audit)
    with pytest.raises(RuntimeError):
        services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
    assert not Attachment.objects.exists()
    assert not stored_files()


def test_a_file_left_by_a_callers_rollback_is_swept(pd_member, clerk, private_root):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=clerk)
        raise RuntimeError("the domain service fails after attaching")
    assert not Attachment.objects.exists()
    assert len(stored_files()) == 1  # Django has no rollback hook: the sweep catches it
    kept = services.attachment_add(owner=pd_member, uploaded_file=upload("b.pdf", PDF), kind="x", actor=clerk)
    assert services.attachment_orphans_sweep(older_than=timedelta(hours=1)) == 0  # too young to judge
    assert services.attachment_orphans_sweep(older_than=timedelta(seconds=-1)) == 1
    assert [p.relative_to(private_root).as_posix() for p in stored_files()] == [kept.stored_name]


# --- where the files are -------------------------------------------------------------------


def test_files_live_outside_media_with_no_url_and_owner_only_permissions(pd_file, settings, private_root):
    path = Path(private_storage().path(pd_file.stored_name))
    assert path.is_relative_to(private_root)
    assert not path.is_relative_to(settings.MEDIA_ROOT) and not path.is_relative_to(settings.STATIC_ROOT)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(NotImplementedError):
        private_storage().url(pd_file.stored_name)
    for prefix in (settings.MEDIA_URL, "/media/", "/static/", "/private/"):
        assert Client().get(prefix + pd_file.stored_name).status_code in (302, 404)


def test_the_default_private_root_is_served_by_nothing(settings):
    from unionportal import settings as project_settings

    private = Path(project_settings.PRIVATE_FILES_ROOT)
    assert not private.is_relative_to(project_settings.MEDIA_ROOT)
    assert not private.is_relative_to(project_settings.STATIC_ROOT)
    assert not any(private.is_relative_to(d) for d in project_settings.STATICFILES_DIRS)
    assert not getattr(project_settings, "WHITENOISE_ROOT", None)  # whitenoise serves static files only


# --- who may read --------------------------------------------------------------------------

API = "/api/v1/attachments/{}/download/"
PAGE = "/files/{}/"


def _page_client(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("url", [API, PAGE])
def test_the_in_scope_clerk_and_the_owner_download_it(url, pd_file, clerk, owner):
    for user in (clerk, owner):
        client = client_for(user) if url == API else _page_client(user)
        response = client.get(url.format(pd_file.pk))
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            f'attachment; filename="attachment-{pd_file.pk}.pdf"; '
            "filename*=UTF-8''%E8%AF%8A%E6%96%AD%E8%AF%81%E6%98%8E%202026.pdf"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]
        # Opened in a tab anyway, a PDF's scripts get no origin to act in.
        assert response["Content-Security-Policy"].startswith("sandbox")


@pytest.mark.parametrize("url", [API, PAGE])
def test_the_out_of_scope_clerk_gets_404(url, pd_file, outsider):
    client = client_for(outsider) if url == API else _page_client(outsider)
    assert client.get(url.format(pd_file.pk)).status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.downloaded").exists()


def test_workers_and_anonymous_are_refused(pd_file, worker):
    assert client_for(worker).get(API.format(pd_file.pk)).status_code == 404
    assert _page_client(worker).get(PAGE.format(pd_file.pk)).status_code == 404
    assert client_for(None).get(API.format(pd_file.pk)).status_code in (401, 403)
    response = _page_client(None).get(PAGE.format(pd_file.pk))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_worker_downloads_when_the_owner_lets_them(pd_member, pd_file, worker, monkeypatch):
    # The owner decides: e.g. an aid file lets the worker it belongs to read its documents.
    monkeypatch.setattr(
        Member, "attachment_visible_to_worker", lambda self, user: self.user_id == user.pk, raising=False
    )
    assert client_for(worker).get(API.format(pd_file.pk)).status_code == 404
    Member.objects.filter(pk=pd_member.pk).update(user=worker)
    assert client_for(worker).get(API.format(pd_file.pk)).status_code == 200
    assert _page_client(worker).get(PAGE.format(pd_file.pk)).status_code == 200
    assert list(selectors.attachments_for(worker, Member.objects.get(pk=pd_member.pk))) == [pd_file]
    # …and add a photo to it from the phone (the owner's domain decides when it may).
    photo = services.attachment_add(
        owner=Member.objects.get(pk=pd_member.pk),
        uploaded_file=upload("IMG_0001.HEIC", HEIC),
        kind="photo",
        actor=worker,
    )
    assert photo.uploaded_by == worker


def test_reach_is_the_owners_not_only_the_copied_path(pd_member, pd_file, clerk, outsider, tree):
    # The member moved to 黄浦 (the copied path on the attachment is now stale).
    Member.objects.filter(pk=pd_member.pk).update(org_path=tree["hp_union"].path)
    assert client_for(clerk).get(API.format(pd_file.pk)).status_code == 404
    assert client_for(outsider).get(API.format(pd_file.pk)).status_code == 200
    assert services.attachment_paths_refresh(owner=Member.objects.get(pk=pd_member.pk)) == 1
    pd_file.refresh_from_db()
    assert pd_file.org_path == tree["hp_union"].path


def test_unknown_and_malformed_ids_are_404(clerk, db):
    assert client_for(clerk).get(API.format(999999)).status_code == 404
    assert _page_client(clerk).get("/files/abc/").status_code == 404


def test_a_download_is_audited_with_the_owners_organisation(pd_file, clerk, tree):
    response = client_for(clerk).get(API.format(pd_file.pk), REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="attachment.downloaded")
    assert event.actor == clerk and event.target_id == str(pd_file.pk)
    assert event.organization == tree["pd_union"] and event.ip_address == "10.1.2.3"
    assert event.data["name"] == "诊断证明 2026.pdf" and event.data["sha256"] == pd_file.sha256
    _page_client(clerk).get(PAGE.format(pd_file.pk))
    assert AuditEvent.objects.filter(action="attachment.downloaded").count() == 2


def test_adding_is_audited(pd_file, clerk, tree):
    event = AuditEvent.objects.get(action="attachment.added")
    assert event.actor == clerk and event.organization == tree["pd_union"]
    assert event.data["kind"] == "diagnosis" and event.data["size"] == len(PDF)


def test_an_actor_outside_the_owners_reach_cannot_attach(pd_member, outsider, worker, private_root):
    for actor in (outsider, worker):
        with pytest.raises(Http404):
            services.attachment_add(owner=pd_member, uploaded_file=upload("a.pdf", PDF), kind="x", actor=actor)
    assert not Attachment.objects.exists() and not stored_files()


def test_listing_costs_the_same_for_one_or_many(pd_member, clerk, private_root, django_assert_num_queries):
    for i in range(5):
        services.attachment_add(owner=pd_member, uploaded_file=upload(f"{i}.pdf", PDF), kind="x", actor=clerk)
    # The owner's reach, the content type (cached after the first call), the rows with uploaders.
    selectors.attachments_for(clerk, pd_member).count()
    with django_assert_num_queries(2):
        rows = list(selectors.attachments_for(clerk, pd_member))
        assert [str(r.uploaded_by) for r in rows] == [str(clerk)] * 5


def test_it_lists_an_owners_attachments_only_within_reach(pd_member, pd_file, hp_member, clerk, outsider, owner):
    services.attachment_add(owner=hp_member, uploaded_file=upload("b.pdf", PDF), kind="x", actor=outsider)
    assert list(selectors.attachments_for(clerk, pd_member)) == [pd_file]
    assert list(selectors.attachments_for(owner, pd_member)) == [pd_file]
    assert list(selectors.attachments_for(outsider, pd_member)) == []
    with pytest.raises(Http404):
        selectors.attachment_get_for_user(outsider, pd_file.pk)


def test_an_organization_can_own_attachments(tree, clerk, outsider, private_root):
    attachment = services.attachment_add(
        owner=tree["lujiazui"], uploaded_file=upload("章程.pdf", PDF), kind="charter", actor=clerk
    )
    assert attachment.org_path == tree["lujiazui"].path
    assert client_for(clerk).get(API.format(attachment.pk)).status_code == 200
    assert client_for(outsider).get(API.format(attachment.pk)).status_code == 404


# --- removal is soft -----------------------------------------------------------------------


def test_removal_hides_it_but_keeps_row_file_and_audit(pd_member, pd_file, clerk):
    services.attachment_remove(attachment=pd_file, actor=clerk, reason="上传错了文件")
    pd_file.refresh_from_db()
    assert pd_file.deleted_at is not None and pd_file.deleted_by == clerk and pd_file.deleted_reason == "上传错了文件"
    assert list(selectors.attachments_for(clerk, pd_member)) == []
    assert client_for(clerk).get(API.format(pd_file.pk)).status_code == 404
    assert private_storage().exists(pd_file.stored_name)
    assert AuditEvent.objects.get(action="attachment.removed").data["reason"] == "上传错了文件"
    with pytest.raises(DomainError):
        services.attachment_remove(attachment=pd_file, actor=clerk, reason="再删一次")


def test_removal_needs_a_reason_and_the_owners_reach(pd_file, clerk, outsider):
    with pytest.raises(ValidationError) as exc:
        services.attachment_remove(attachment=pd_file, actor=clerk, reason="  ")
    assert "reason" in exc.value.message_dict
    with pytest.raises(Http404):
        services.attachment_remove(attachment=pd_file, actor=outsider, reason="越权")
    pd_file.refresh_from_db()
    assert pd_file.deleted_at is None


def test_the_api_output_names_the_download(pd_member, pd_file, clerk, rf):
    from core.attachments.api import AttachmentOutputSerializer

    data = AttachmentOutputSerializer(selectors.attachments_for(clerk, pd_member), many=True).data
    assert data[0]["name"] == "诊断证明 2026.pdf" and data[0]["kind"] == "diagnosis"
    assert data[0]["download_url"] == API.format(pd_file.pk)
    assert data[0]["scan_status"] == "not_scanned"


# --- the upload form -----------------------------------------------------------------------


def test_the_upload_partial_shows_accept_and_the_limits_in_chinese(rf, settings):
    from django.template.loader import render_to_string

    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    form = AttachmentUploadForm(kinds=[("diagnosis", "诊断证明"), ("household_register", "户口簿")])
    request = rf.get("/")
    html = render_to_string("core/attachments/_upload.html", {"form": form, "action": "/x/"}, request=request)
    assert 'enctype="multipart/form-data"' in html
    assert 'accept=".pdf,' in html and "image/heic" in html
    assert "单个文件不超过 10.0\xa0MB" in html
    assert "诊断证明" in html and "户口簿" in html


def test_the_upload_form_refuses_an_oversized_file_early(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    form = AttachmentUploadForm(
        data={"kind": "diagnosis"}, files={"file": upload("a.pdf", PDF)}, kinds=[("diagnosis", "诊断证明")]
    )
    assert not form.is_valid()
    assert "不能超过" in form.errors["file"][0]


def test_the_list_partial_links_to_the_download(pd_member, pd_file, clerk, rf):
    from django.template.loader import render_to_string

    html = render_to_string(
        "core/attachments/_list.html",
        {"attachments": selectors.attachments_for(clerk, pd_member), "kind_labels": {"diagnosis": "诊断证明"}},
    )
    assert f'href="/files/{pd_file.pk}/"' in html and "诊断证明" in html and "诊断证明 2026.pdf" in html


# --- the admin -----------------------------------------------------------------------------


def test_the_admin_is_read_only_and_scoped(pd_file, hp_member, outsider, tree):
    hp_file = services.attachment_add(owner=hp_member, uploaded_file=upload("b.pdf", PDF), kind="x", actor=outsider)
    admin_user = UserFactory(username="pd_admin", is_staff=True)
    from organizations.models import RoleAssignment

    RoleAssignment.objects.create(user=admin_user, organization=tree["pudong"], role="clerk")
    client = _page_client(admin_user)
    listing = client.get("/admin/core/attachment/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "诊断证明 2026.pdf" in body and "b.pdf" not in body
    assert client.get(f"/admin/core/attachment/{pd_file.pk}/change/").status_code == 200
    assert client.get(f"/admin/core/attachment/{hp_file.pk}/change/").status_code == 404
    assert client.get("/admin/core/attachment/add/").status_code == 403
    assert client.post(f"/admin/core/attachment/{pd_file.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Attachment.objects.filter(pk=pd_file.pk, deleted_at__isnull=True).exists()


def test_the_admin_filters_by_district_through_the_filter_organizations_registers(pd_file, hp_member, outsider, tree):
    # core may not import organizations: the district filter reaches core's admin by registration.
    services.attachment_add(owner=hp_member, uploaded_file=upload("b.pdf", PDF), kind="x", actor=outsider)
    from organizations.models import RoleAssignment

    city_admin = UserFactory(username="city_admin", is_staff=True)
    RoleAssignment.objects.create(user=city_admin, organization=tree["city"], role="clerk")
    client = _page_client(city_admin)
    both = client.get("/admin/core/attachment/").content.decode()
    assert "所属区（县）" in both and "诊断证明 2026.pdf" in both and "b.pdf" in both
    pudong_only = client.get(f"/admin/core/attachment/?district={tree['pudong'].pk}").content.decode()
    assert "诊断证明 2026.pdf" in pudong_only and "b.pdf" not in pudong_only
