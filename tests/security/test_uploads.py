"""Uploads: stored files are never reachable by URL, request bodies are bounded, and a file
of the wrong kind is refused with a message, never a 500."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve

from tests.conftest import client_for

STORED = "member-imports/1/upload.csv"


@pytest.fixture
def stored_file(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = tmp_path / STORED
    path.parent.mkdir(parents=True)
    path.write_text("姓名,身份证号码\n张三,110101199003070011\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("who", ["owner", "clerk", "outsider", "worker", "anonymous"])
def test_it_never_serves_uploaded_files_by_url(who, stored_file, settings, request, db):
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    for prefix in (settings.MEDIA_URL, "/media/", "/static/../var/media/"):
        response = client.get(prefix + STORED)
        assert response.status_code in (302, 404), (prefix, response.status_code)
        assert "110101199003070011" not in response.content.decode("utf-8", "replace")


def test_it_has_no_url_pattern_for_the_media_folder(settings):
    with pytest.raises(Resolver404):
        resolve(settings.MEDIA_URL + STORED)
    assert not settings.MEDIA_URL.startswith("/static/")


def test_it_answers_an_oversized_api_body_with_400(owner, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "kind": "street", "parent": 1})
    response = client_for(owner).post("/api/v1/organizations/", body, content_type="application/json")
    assert response.status_code == 400


def test_it_answers_an_oversized_form_with_400(owner, settings):
    client = Client()
    client.force_login(owner)
    response = client.post("/enterprises/new/", {"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("roster.exe", b"MZ\x90\x00 not a roster", ".xlsx"),
        ("photo.png", b"\x89PNG\r\n\x1a\n", ".xlsx"),
        ("roster.xls", b"\xd0\xcf\x11\xe0 old excel", "另存为"),
    ],
)
def test_it_refuses_an_upload_that_is_not_a_roster(owner, tree, settings, tmp_path, name, content, expected):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client_for(owner).post(
        "/api/v1/member-imports/",
        {"union": tree["pd_union"].pk, "mode": "all_or_nothing", "file": upload},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert expected in json.dumps(response.json(), ensure_ascii=False)
    assert not list(tmp_path.rglob("*.*"))  # nothing stored


# --- every upload route against the four attacks (issue 16, finding 7) -----------------
#
# A route that takes files is listed here with how to post to it; the discovery tests
# below fail when a form with a FileField or an API operation with a binary field is not
# in the table, so a new upload is attacked the day it is added.

MB = 1024 * 1024


def _import_page(client, tree, name, content):
    data = {"union": tree["pd_union"].pk, "mode": "all_or_nothing", "file": SimpleUploadedFile(name, content)}
    response = client.post("/members/imports/", data)
    return response, (response.content.decode() if response.status_code in (200, 400) else "")


def _import_api(client, tree, name, content):
    data = {"union": tree["pd_union"].pk, "mode": "all_or_nothing", "file": SimpleUploadedFile(name, content)}
    response = client.post("/api/v1/member-imports/", data, format="multipart")
    text = (
        json.dumps(response.json(), ensure_ascii=False)
        if response.get("Content-Type", "").startswith("application/json")
        else ""
    )
    return response, text


def _page_client(user):
    client = Client()
    client.force_login(user)
    return client


UPLOAD_ROUTES = {
    # path: (post function, client maker, form class or None, refusal statuses)
    "/members/imports/": (_import_page, _page_client, "members.forms.ImportForm", (400,)),  # the form, its errors
    "/api/v1/member-imports/": (_import_api, client_for, None, (400, 413)),
}


def _roster_xlsx() -> bytes:
    from members.importer import template_xlsx

    return template_xlsx()


def _rezip(base: bytes, replace: dict, extra: dict | None = None) -> bytes:
    """A copy of the zip `base` with members replaced ({name: bytes or a writer}) or added."""
    import io
    import zipfile

    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst,
    ):
        for info in src.infolist():
            content = replace.get(info.filename, src.read(info.filename))
            if callable(content):
                with dst.open(info.filename, "w", force_zip64=True) as fh:
                    content(fh)
            else:
                dst.writestr(info.filename, content)
        for name, content in (extra or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def _zip_bomb(inflated_mb: int = 120) -> bytes:
    """A well-formed xlsx of a few hundred KB whose sheet inflates to `inflated_mb` MB."""

    def sheet(fh):
        fh.write(
            b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            + "姓名".encode()
            + b'</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>'
        )
        block = b"A" * MB
        for _n in range(inflated_mb):
            fh.write(block)  # the row never closes: the old reader rescanned it every chunk

    return _rezip(_roster_xlsx(), {"xl/worksheets/sheet1.xml": sheet})


ATTACKS = {
    # name: (file name, content builder, words the refusal must contain)
    "zip-bomb": ("名册.xlsx", _zip_bomb, "压缩"),
    "exe-renamed-xlsx": ("名册.xlsx", lambda: b"MZ\x90\x00\x03" + b"\x00" * 4096, "不是有效的 Excel"),
    "csv-renamed-xlsx": (
        "名册.xlsx",
        lambda: "\ufeff姓名,身份证号码,手机号码\n张三,110101199003070011,13800000000\n".encode(),
        "不是有效的 Excel",
    ),
    "xlsx-renamed-csv": ("名册.csv", _roster_xlsx, "不是 CSV"),
    "path-traversal": (
        "名册.xlsx",
        lambda: _rezip(_roster_xlsx(), {}, {"../../../tmp/evil.sh": b"echo owned", "xl/../../evil.xml": b"<x/>"}),
        "路径",
    ),
    "absolute-path": ("名册.xlsx", lambda: _rezip(_roster_xlsx(), {}, {"/etc/cron.d/evil": b"* * * * *"}), "路径"),
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _assert_nothing_stored(media):
    from members.models import ImportJob

    assert not ImportJob.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.parametrize("route", sorted(UPLOAD_ROUTES))
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_every_upload_route_refuses_every_attack_and_stores_nothing(route, attack, owner, tree, media):
    post, client_maker, _form, statuses = UPLOAD_ROUTES[route]
    name, build, words = ATTACKS[attack]
    response, text = post(client_maker(owner), tree, name, build())
    assert response.status_code in statuses, (route, attack, response.status_code)
    assert words in text, (route, attack, text[:2000])
    _assert_nothing_stored(media)


@pytest.mark.parametrize("route", sorted(UPLOAD_ROUTES))
def test_every_upload_route_refuses_a_60_mb_body_at_the_door(route, owner, tree, media, settings):
    post, client_maker, _form, statuses = UPLOAD_ROUTES[route]
    content = b"\xef\xbb\xbf" + b"x" * (60 * MB)
    response, text = post(client_maker(owner), tree, "名册.csv", content)
    assert response.status_code in statuses, (route, response.status_code)
    assert "超过" in text and "MB" in text, text[:2000]
    _assert_nothing_stored(media)


@pytest.mark.parametrize("route", sorted(UPLOAD_ROUTES))
def test_every_upload_route_still_takes_a_good_roster(route, owner, tree, media, django_capture_on_commit_callbacks):
    from members.models import ImportJob

    post, client_maker, _form, _statuses = UPLOAD_ROUTES[route]
    with django_capture_on_commit_callbacks(execute=False):
        response, _text = post(client_maker(owner), tree, "名册.xlsx", _roster_xlsx())
    assert response.status_code in (201, 302), response.status_code
    assert ImportJob.objects.count() == 1


def test_it_answers_an_oversized_api_upload_with_413_in_the_error_shape(owner, tree, media, settings):
    settings.UPLOAD_LIMITS = {"/api/v1/member-imports/": MB}
    response, _text = _import_api(client_for(owner), tree, "名册.csv", b"x" * (2 * MB))
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "upload_too_large" and "1 MB" in error["message"]


def test_it_caps_the_inflated_size_of_an_xlsx(owner, tree, media, settings):
    import os

    settings.XLSX_MAX_UNCOMPRESSED_MB = 1
    noise = os.urandom(600 * 1024).hex().encode()  # 1.2 MB that hardly compresses: no ratio alarm
    content = _rezip(_roster_xlsx(), {}, {"xl/media/noise.bin": noise})
    response, text = _import_api(client_for(owner), tree, "名册.xlsx", content)
    assert response.status_code == 400 and "解压后超过 1 MB" in text
    _assert_nothing_stored(media)


def _form_classes_with_files():
    import importlib

    from django import forms
    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith(("django.", "rest_framework", "axes", "django_", "drf_", "csp", "otp")):
            continue
        try:
            importlib.import_module(f"{config.name}.forms")
        except ModuleNotFoundError:
            pass
    found = set()
    pending = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls.__module__.startswith("django."):
            continue
        fields = getattr(cls, "base_fields", {})
        if any(isinstance(f, forms.FileField) for f in fields.values()):
            found.add(f"{cls.__module__}.{cls.__qualname__}")
    return found


# Reusable base forms that no route posts to yet. A domain subclassing one is found (and must
# be listed) on its own; a domain route posting the base form as it is must be added to
# UPLOAD_ROUTES by hand, since this walk finds classes, not routes.
BASE_UPLOAD_FORMS = {"core.attachments.forms.AttachmentUploadForm"}


def test_every_form_that_takes_a_file_is_in_the_upload_table():
    listed = {form for _p, _c, form, _s in UPLOAD_ROUTES.values() if form}
    found = _form_classes_with_files() - BASE_UPLOAD_FORMS
    assert "members.forms.ImportForm" in found  # the finder works
    assert found <= listed, f"forms with a FileField missing from UPLOAD_ROUTES: {sorted(found - listed)}"


def test_every_api_operation_that_takes_a_file_is_in_the_upload_table():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = set()
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for media_schema in (operation.get("requestBody") or {}).get("content", {}).values():
                ref = media_schema.get("schema", {}).get("$ref", "")
                properties = components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
                if any(p.get("format") == "binary" for p in properties.values()):
                    found.add(path)
    assert "/api/v1/member-imports/" in found
    listed = set(UPLOAD_ROUTES) | set(ATTACHMENT_ROUTES)
    assert found <= listed, f"API uploads missing from UPLOAD_ROUTES / ATTACHMENT_ROUTES: {sorted(found - listed)}"


def test_a_page_refused_at_the_door_keeps_its_other_fields_and_passes_the_csrf_check(owner, tree, media, settings):
    """The file comes first in the body here: the fields after it must still be read."""
    import re

    settings.UPLOAD_LIMITS = {"/members/imports/": MB}
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/members/imports/").content.decode())
    data = {
        "file": SimpleUploadedFile("名册.csv", b"x" * (2 * MB)),
        "union": tree["pd_union"].pk,
        "mode": "valid_only",
        "csrfmiddlewaretoken": token.group(1),
    }
    response = client.post("/members/imports/", data)
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["file"], form.errors
    assert "“名册文件”超过 1 MB 的上限" in form.errors["file"][0]
    assert form["mode"].value() == "valid_only"
    _assert_nothing_stored(media)


# --- attachment routes (core.attachments: evidence and documents of a domain's object) ----
#
# The roster attacks above are about spreadsheets; an attachment route is attacked with
# what it takes instead: a program or a web page named like a PDF, a file over the cap, a
# body over the door's limit, a name that tries to leave the folder. Each route is
# (post function, who posts: "staff" or "worker"); the API discovery test above also
# checks that every API operation taking a file is listed here or in UPLOAD_ROUTES.

ATTACH_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
ATTACH_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def _attach_page(client, url, name, content):
    response = client.post(url, {"kind": "evidence", "file": SimpleUploadedFile(name, content)}, follow=True)
    return response, response.content.decode()


def _attach_api(client, url, name, content):
    response = client.post(url, {"kind": "evidence", "file": SimpleUploadedFile(name, content)}, format="multipart")
    return response, json.dumps(response.json(), ensure_ascii=False)


def _dispute_case_for(tree, owner, worker):
    from disputes import services as dispute_services
    from tests.factories import make_id_number

    body = dispute_services.body_create(
        actor=owner, organization=tree["lujiazui"], name="上传测试调解中心", kind="street"
    )
    return dispute_services.case_apply(
        worker=worker,
        body=body,
        track="mediation",
        kind="wages",
        name="张三",
        id_number=make_id_number(),
        facts="拖欠工资",
        claims=[{"description": "支付工资", "amount": "1000"}],
        respondent_name="某公司",
    )


ATTACHMENT_ROUTES = {
    # path template: (post function, client maker, who)
    "/disputes/{pk}/documents/": (_attach_page, _page_client, "staff"),
    "/api/v1/dispute-cases/{id}/documents/": (_attach_api, client_for, "staff"),
    "/me/disputes/{pk}/documents/": (_attach_page, _page_client, "worker"),
}
ATTACHMENT_ATTACKS = {
    "exe-named-pdf": ("证据.pdf", ATTACH_EXE, "不支持"),
    "html-named-pdf": ("证据.pdf", b"<html><body><script>alert(1)</script></body></html>", "不支持"),
    "program-named-jpg": ("照片.jpg", b"#!/bin/sh\nrm -rf /\n", "不支持"),
}


@pytest.fixture
def private_root(settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "private"
    return settings.PRIVATE_FILES_ROOT


def _attachment_target(route, tree, owner, worker):
    case = _dispute_case_for(tree, owner, worker)
    post, client_maker, who = ATTACHMENT_ROUTES[route]
    url = route.replace("{pk}", str(case.pk)).replace("{id}", str(case.pk))
    return post, client_maker(worker if who == "worker" else owner), url


def _assert_no_attachment_stored(private_root):
    from core.attachments.models import Attachment

    assert not Attachment.objects.exists()
    assert not private_root.exists() or not [p for p in private_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("route", sorted(ATTACHMENT_ROUTES))
@pytest.mark.parametrize("attack", sorted(ATTACHMENT_ATTACKS))
def test_every_attachment_route_refuses_a_disguised_file(route, attack, owner, tree, worker, private_root):
    post, client, url = _attachment_target(route, tree, owner, worker)
    name, content, words = ATTACHMENT_ATTACKS[attack]
    response, text = post(client, url, name, content)
    assert response.status_code in (200, 400), (route, attack, response.status_code)
    assert words in text, (route, attack, text[:2000])
    _assert_no_attachment_stored(private_root)


@pytest.mark.parametrize("route", sorted(ATTACHMENT_ROUTES))
def test_every_attachment_route_keeps_to_the_size_cap(route, owner, tree, worker, private_root, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    post, client, url = _attachment_target(route, tree, owner, worker)
    response, text = post(client, url, "证据.pdf", ATTACH_PDF + b"%" + b"x" * 2048)
    assert "太大" in text, (route, text[:2000])
    _assert_no_attachment_stored(private_root)


@pytest.mark.parametrize("route", sorted(ATTACHMENT_ROUTES))
def test_every_attachment_route_refuses_a_60_mb_body_at_the_door(route, owner, tree, worker, private_root):
    post, client, url = _attachment_target(route, tree, owner, worker)
    response, text = post(client, url, "证据.pdf", ATTACH_PDF + b"x" * (60 * MB))
    assert response.status_code in (200, 400, 413), (route, response.status_code)
    assert "超过" in text and "MB" in text, (route, text[:2000])
    _assert_no_attachment_stored(private_root)


@pytest.mark.parametrize("route", sorted(ATTACHMENT_ROUTES))
def test_every_attachment_route_stores_a_good_file_under_a_name_of_its_own(route, owner, tree, worker, private_root):
    from core.attachments.models import Attachment

    post, client, url = _attachment_target(route, tree, owner, worker)
    response, _text = post(client, url, "../../../etc/cron.d/证据.pdf", ATTACH_PDF)
    assert response.status_code in (200, 201), (route, response.status_code)
    attachment = Attachment.objects.get()
    assert "/" not in attachment.original_name and ".." not in attachment.original_name
    stored = [p for p in private_root.rglob("*") if p.is_file()]
    assert len(stored) == 1 and stored[0].read_bytes() == ATTACH_PDF
    assert "cron" not in str(stored[0]) and "证据" not in str(stored[0])
