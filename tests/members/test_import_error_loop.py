"""The import error loop (issue 15 item 2): honest counters, a re-uploadable error workbook."""

import io

import openpyxl
import pytest
from django.urls import reverse

from activity.models import AuditEvent
from members.models import ImportJob, Member
from tests.factories import UserFactory, make_id_number

from .test_pages_imports import good_rows, roster_csv, upload


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


BAD_ID = "310115199001011230"


def _failed_job(client, clerk, tree, capture):
    client.force_login(clerk)
    rows = [*good_rows(3), ["坏行", BAD_ID, "13700009999"]]
    upload(client, tree, roster_csv(rows), mode="all_or_nothing", capture=capture)
    return ImportJob.objects.get(), rows


def _workbook(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(content)).active


def test_a_failed_all_or_nothing_import_says_nothing_was_imported(
    client, clerk, tree, django_capture_on_commit_callbacks
):
    job, _rows = _failed_job(client, clerk, tree, django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert (job.created_count, job.updated_count, job.error_count) == (0, 0, 1)
    assert job.skipped_count == 3  # correct rows, not imported because one was wrong
    html = client.get(reverse("member-import-detail", args=[job.pk])).content.decode()
    assert "新增 3" not in html and "未导入" in html
    report = client.get(reverse("member-import-report", args=[job.pk]))
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "跳过" not in text and "未导入" in text
    listing = client.get(reverse("member-imports")).content.decode()
    assert "3 行无误" in listing and "1 行有误" in listing


def test_the_uploader_fixes_the_error_workbook_and_uploads_it_as_it_is(
    client, clerk, tree, django_capture_on_commit_callbacks
):
    job, rows = _failed_job(client, clerk, tree, django_capture_on_commit_callbacks)
    ws = _workbook(client.get(reverse("member-import-errors", args=[job.pk])))
    header = [c.value for c in ws[1]]
    assert header[:2] == ["行号", "错误说明"]
    values = [c.value for c in ws[2]]
    # The uploader typed these numbers: they get them back, so the row can be fixed.
    assert BAD_ID in values and "13700009999" in values
    ev = AuditEvent.objects.filter(action="member.import_errors_downloaded").latest("id")
    assert ev.data["full"] is True
    ws.cell(row=2, column=header.index("身份证号码") + 1, value=make_id_number(region="310115"))
    buf = io.BytesIO()
    ws.parent.save(buf)
    upload(
        client,
        tree,
        buf.getvalue(),
        name="errors.xlsx",
        mode="all_or_nothing",
        capture=django_capture_on_commit_callbacks,
    )
    again = ImportJob.objects.latest("id")
    assert again.status == "succeeded", again.message
    # The workbook of a failed batch holds every row: the whole roster goes in now.
    assert again.created_count == 4 and Member.objects.filter(name="坏行").exists()


def test_another_clerk_gets_the_error_workbook_masked(client, clerk, tree, django_capture_on_commit_callbacks):
    from organizations.models import RoleAssignment

    job, _rows = _failed_job(client, clerk, tree, django_capture_on_commit_callbacks)
    colleague = UserFactory(username="colleague")
    RoleAssignment.objects.create(user=colleague, organization=tree["pudong"], role="clerk")
    client.force_login(colleague)
    ws = _workbook(client.get(reverse("member-import-errors", args=[job.pk])))
    values = [str(c.value) for c in ws[2]]
    assert BAD_ID not in values and "13700009999" not in values
    assert "137****9999" in values  # masked like the ID number, not shown in full
    ev = AuditEvent.objects.filter(action="member.import_errors_downloaded").latest("id")
    assert ev.data["full"] is False and ev.actor_id == colleague.pk


def test_explanation_columns_are_ignored_on_upload(tree, clerk, tmp_path):
    from members.importer import import_rows

    path = tmp_path / "e.csv"
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["行号", "错误说明", "姓名", "身份证号码", "手机号码"])
        w.writerow(["5", "校验位错误", "李四", make_id_number(region="310115"), "13700001111"])
        w.writerow(["", "另有 1 行在导入过程中已被他人登记入会，见导入报告。", "", "", ""])
    res = import_rows(actor=clerk, union=tree["pd_union"], path=str(path), fmt="csv")
    assert (res.created, res.errors) == (1, 0)
