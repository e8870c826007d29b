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
