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
    assert found <= set(UPLOAD_ROUTES), f"API uploads missing from UPLOAD_ROUTES: {sorted(found - set(UPLOAD_ROUTES))}"


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
