"""Roster import pages: upload, progress polling, per-row report, files, template."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import ImportJob, Member
from tests.factories import make_id_number, nth_name

from .pages_helpers import ACTORS, assert_staff_outcome, body, login_as

HEADERS = ["姓名", "身份证号码", "手机号码"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def roster_csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def good_rows(n, start=0):
    return [[nth_name("导入", i), make_id_number(region="310115"), f"1370000{i:04d}"] for i in range(start, start + n)]


def upload(client, tree, content, *, name="名册.csv", mode="valid_only", capture=None):
    data = {"union": tree["pd_union"].pk, "mode": mode, "file": SimpleUploadedFile(name, content)}
    if capture is None:
        return client.post(reverse("member-imports"), data)
    with capture(execute=True):
        return client.post(reverse("member-imports"), data)


def test_an_import_runs_and_shows_the_report(client, clerk, tree, django_capture_on_commit_callbacks):
    client.force_login(clerk)
    rows = [*good_rows(3), ["坏行", "310115199001011230", "13700009999"]]
    response = upload(client, tree, roster_csv(rows), capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("member-import-detail", args=[job.pk])
    assert job.status == "succeeded" and job.created_count == 3 and job.error_count == 1
    html = body(client.get(response["Location"]))
    assert "逐行结果" in html and "校验位" in html and "坏行" in html and "导入甲" in html
    assert 'hx-trigger="every 1s"' not in html  # finished: the page stops polling
    assert rows[0][1] not in html  # the report holds masked ID numbers only
    assert Member.objects.filter(name__startswith="导入").count() == 3

    report = client.get(reverse("member-import-report", args=[job.pk]))
    assert report.status_code == 200 and "行号" in body(report)
    errors = client.get(reverse("member-import-errors", args=[job.pk]))
    content = errors.content  # bytes now: the uploader's copy is decrypted (issue 15)
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.active["A1"].value == "行号"


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(client, clerk, tree, django_capture_on_commit_callbacks):
    client.force_login(clerk)
    rows = [*good_rows(2), ["坏行", "12345", "13700009999"]]
    upload(client, tree, roster_csv(rows), mode="all_or_nothing", capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    assert job.status == "failed" and not Member.objects.exists()
    html = body(client.get(reverse("member-import-detail", args=[job.pk])))
    assert "未导入" in html and "整批未导入" in html


def test_a_queued_job_polls_every_second_with_a_progress_bar(client, clerk, tree):
    client.force_login(clerk)
    upload(client, tree, roster_csv(good_rows(2)))  # no on_commit run: stays queued
    job = ImportJob.objects.get()
    assert job.status == "pending"
    html = body(client.get(reverse("member-import-detail", args=[job.pk])))
    assert 'hx-trigger="every 1s"' in html and 'role="progressbar"' in html and "排队等待处理" in html
    assert '<meta http-equiv="refresh"' in html  # and without JavaScript the page reloads
    fragment = client.get(
        reverse("member-import-detail", args=[job.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-progress"
    )
    assert 'id="import-progress"' in body(fragment) and "<html" not in body(fragment)
    ImportJob.objects.filter(pk=job.pk).update(status="running", phase="importing", processed_rows=10000)
    fragment = body(
        client.get(
            reverse("member-import-detail", args=[job.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-progress"
        )
    )
    assert "正在逐行校验" in fragment and ("10,000" in fragment or "10000" in fragment)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名册.pdf", b"%PDF-1.4", "xlsx"),
        ("名册.xlsx", b"not a spreadsheet at all", ""),
        ("名册.csv", b"", "空文件"),
    ],
)
def test_bad_files_get_a_message_not_a_500(
    client, clerk, tree, django_capture_on_commit_callbacks, name, content, message
):
    client.force_login(clerk)
    response = upload(client, tree, content, name=name, capture=django_capture_on_commit_callbacks)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert message in body(response)
    else:
        job = ImportJob.objects.get()
        html = body(client.get(response["Location"]))
        assert job.status == "failed" and job.message in html
    assert not Member.objects.exists()


def test_the_upload_form_explains_missing_fields(client, clerk):
    client.force_login(clerk)
    response = client.post(reverse("member-imports"), {"mode": "valid_only"})
    html = body(response)
    assert response.status_code == 400 and "请选择要上传的“名册文件”" in html and "导入到工会" in html


def test_the_clerk_cannot_import_into_another_district(client, clerk, tree):
    client.force_login(clerk)
    response = client.post(
        reverse("member-imports"),
        {"union": tree["hp_union"].pk, "mode": "valid_only", "file": SimpleUploadedFile("a.csv", roster_csv([]))},
    )
    assert response.status_code == 400 and "不在您的管辖范围内" in body(response)
    assert not ImportJob.objects.exists()


def test_a_read_only_role_sees_jobs_but_cannot_upload(client, pd_auditor, tree):
    client.force_login(pd_auditor)
    html = body(client.get(reverse("member-imports")))
    assert "上传名册" not in html
    response = client.post(
        reverse("member-imports"),
        {"union": tree["pd_union"].pk, "mode": "valid_only", "file": SimpleUploadedFile("a.csv", roster_csv([]))},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_template_downloads_with_chinese_headers(client, clerk, fmt):
    client.force_login(clerk)
    response = client.get(reverse("member-import-template"), {"format": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        assert response.content.decode("utf-8-sig").startswith("姓名,身份证号码,手机号码")
    else:
        wb = openpyxl.load_workbook(io.BytesIO(response.content))
        assert [c.value for c in wb.active[1]][:3] == HEADERS


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", ["member-import-detail", "member-import-report", "member-import-errors"])
def test_job_pages_are_for_those_in_reach(
    client, request, tree, clerk, actor, url_name, django_capture_on_commit_callbacks
):
    client.force_login(clerk)
    upload(client, tree, roster_csv([*good_rows(1), ["坏", "1", "1"]]), capture=django_capture_on_commit_callbacks)
    job = ImportJob.objects.get()
    client.logout()
    login_as(client, request, actor)
    response = client.get(reverse(url_name, args=[job.pk]))
    assert_staff_outcome(response, actor)


@pytest.mark.parametrize("actor", ACTORS)
def test_the_import_list_is_scoped(client, request, tree, owner, actor):
    from members import importer

    importer.import_job_create(
        actor=owner,
        union=tree["pd_union"],
        uploaded_file=SimpleUploadedFile("浦东名册.csv", roster_csv([])),
        mode="valid_only",
    )
    login_as(client, request, actor)
    response = client.get(reverse("member-imports"))
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code == 200:
        assert ("浦东名册.csv" in body(response)) == (actor in ("owner", "clerk"))
