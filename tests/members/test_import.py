import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from core import crypto
from members.importer import COLUMNS, ImportFileError, import_job_create, import_rows, template_csv, template_xlsx
from members.models import ImportJob, Member, Membership
from tests.factories import make_id_number, make_member, make_mobile, nth_name

HEADERS = [h for _k, h, _r in COLUMNS]


def _row(**kw):
    row = {"name": "张三", "id_number": make_id_number(), "mobile": make_mobile()}
    row.update(kw)
    return row


def _csv(rows, headers=HEADERS) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx(rows, headers=HEADERS, merge=None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _run(tmp_path, actor, union, content: bytes, name: str, mode="all_or_nothing"):
    path = tmp_path / name
    path.write_bytes(content)
    return import_rows(actor=actor, union=union, path=str(path), fmt=name.rsplit(".", 1)[1], mode=mode)


def test_it_imports_a_csv_roster(tree, clerk, tmp_path):
    ids = [make_id_number() for _ in range(3)]
    rows = [
        ["王一", ids[0], "13800000001", "浦东测试科技有限公司", "外卖骑手", "是", "本科", "技师（二级）", "2024-05-01"],
        ["李二", ids[1], "13800000002", "", "", "否", "", "", ""],
        ["赵三", ids[2], "13800000003", "", "快递员", "", "", "", "2023/1/2"],
    ]
    res = _run(tmp_path, clerk, tree["pd_union"], _csv(rows), "roster.csv")
    assert (res.created, res.errors, res.written) == (3, 0, True)
    m = Member.objects.get(id_number_hash=crypto.id_hash(ids[0]))
    assert m.employment_form == "rider" and m.is_migrant_worker and m.skill_level == "level2"
    assert crypto.decrypt(m.id_number_enc) == ids[0] and crypto.decrypt(m.mobile_enc) == "13800000001"
    assert m.current_membership.joined_on.isoformat() == "2024-05-01"
    assert m.org_path == tree["pd_union"].path and m.name_initials == "wy"
    numbers = sorted(Membership.objects.values_list("member_number", flat=True))
    assert len(set(numbers)) == 3 and all(n.startswith("310115") for n in numbers)
    # The next registration continues the sequence.
    nxt = make_member(tree["pd_union"], actor=clerk)
    assert int(nxt.member_number) == int(numbers[-1]) + 1


def test_it_imports_an_xlsx_roster_and_gbk_csv(tree, clerk, tmp_path):
    rows = [["王一", make_id_number(), make_mobile(), "", "", "", "", "", ""]]
    assert _run(tmp_path, clerk, tree["pd_union"], _xlsx(rows), "r.xlsx").created == 1
    rows = [["李二", make_id_number(), make_mobile(), "某公司", "全日制", "否", "", "", ""]]
    gbk = _csv(rows).decode("utf-8").lstrip("\ufeff").encode("gb18030")
    assert _run(tmp_path, clerk, tree["pd_union"], gbk, "g.csv").created == 1


def test_all_or_nothing_leaves_nothing_when_a_row_is_wrong(tree, clerk, tmp_path):
    good = [_row() for _ in range(3)]
    rows = [[r["name"], r["id_number"], r["mobile"]] for r in good] + [["错", "310115199001011230", "13800000000"]]
    res = _run(tmp_path, clerk, tree["pd_union"], _csv(rows, HEADERS[:3]), "a.csv")
    assert not res.written and res.errors == 1 and "第 5 行" in res.message
    assert Member.objects.count() == 0 and Membership.objects.count() == 0


def test_valid_only_imports_the_good_rows(tree, clerk, tmp_path):
    good = [_row() for _ in range(3)]
    rows = [[r["name"], r["id_number"], r["mobile"]] for r in good] + [["错", "310115199001011230", "13800000000"]]
    res = _run(tmp_path, clerk, tree["pd_union"], _csv(rows, HEADERS[:3]), "a.csv", mode="valid_only")
    assert res.written and (res.created, res.errors) == (3, 1)


def test_it_catches_duplicates_in_the_file_and_against_the_roll(tree, clerk, owner, tmp_path):
    elsewhere = make_id_number()
    make_member(tree["hp_union"], actor=owner, id_number=elsewhere)
    here = make_member(tree["pd_union"], actor=clerk, name="老会员", mobile="13911112222")
    here_id = crypto.decrypt(here.member.id_number_enc)
    dup = make_id_number()
    rows = [
        ["甲", dup, "13800000001"],
        ["乙", dup, "13800000002"],
        ["丙", make_id_number(), "13800000001"],
        ["丁", elsewhere, "13800000004"],
        ["老会员", here_id, "13911112222"],
        ["老会员", make_id_number(), "13900000009"],
    ]
    res = import_rows(
        actor=clerk,
        union=tree["pd_union"],
        rows=[dict(zip(("name", "id_number", "mobile"), r, strict=True)) for r in rows],
        mode="valid_only",
    )
    assert (res.created, res.updated, res.skipped, res.errors) == (2, 0, 1, 3)
    assert Member.objects.filter(id_number_hash=crypto.id_hash(dup)).count() == 1


def test_it_updates_members_already_on_this_roll(tree, clerk):
    ms = make_member(tree["pd_union"], actor=clerk, name="王五", mobile="13911112222")
    idn = crypto.decrypt(ms.member.id_number_enc)
    res = import_rows(
        actor=clerk,
        union=tree["pd_union"],
        rows=[{"name": "王五", "id_number": idn, "mobile": "13911113333", "employment_form": "courier"}],
    )
    assert (res.created, res.updated) == (0, 1)
    m = Member.objects.get(pk=ms.member_id)
    assert m.mobile_masked == "139****3333" and m.employment_form == "courier"
    assert Membership.objects.filter(member=m).count() == 1


def test_it_rejoins_former_members(tree, clerk):
    from members.services import membership_leave

    ms = make_member(tree["pd_union"], actor=clerk)
    membership_leave(actor=clerk, membership=ms)
    idn = crypto.decrypt(ms.member.id_number_enc)
    res = import_rows(
        actor=clerk, union=tree["pd_union"], rows=[{"name": "张三", "id_number": idn, "mobile": "13911113333"}]
    )
    assert res.created == 1
    m = Member.objects.get(pk=ms.member_id)
    assert m.current_membership.status == "active" and m.current_membership_id != ms.pk


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        (["姓名", "身份证号码"], "缺少必填列：手机号码"),
        (["姓名", "身份证号码", "手机号码", "工资"], "无法识别的列：工资"),
        (["姓名", "姓名", "身份证号码", "手机号码"], "出现了两次"),
    ],
)
def test_it_refuses_wrong_headers(tree, clerk, tmp_path, headers, fragment):
    with pytest.raises(ImportFileError) as exc:
        _run(tmp_path, clerk, tree["pd_union"], _csv([], headers), "h.csv")
    assert fragment in str(exc.value)


def test_it_refuses_merged_cells(tree, clerk, tmp_path):
    rows = [["王一", make_id_number(), make_mobile()], ["", make_id_number(), make_mobile()]]
    with pytest.raises(ImportFileError, match="合并单元格"):
        _run(tmp_path, clerk, tree["pd_union"], _xlsx(rows, HEADERS[:3], merge="A2:A3"), "m.xlsx")
    assert Member.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("x.xlsx", b"this is not a zip", "不是有效的 Excel"),
        ("x.csv", zipfile.ZipFile.__doc__.encode()[:0] + b"PK\x03\x04junk", "不是 CSV"),
        ("x.csv", b"\xef\xbb\xbf", "文件是空的"),
    ],
)
def test_it_refuses_what_is_not_a_spreadsheet(tree, clerk, tmp_path, name, content, fragment):
    with pytest.raises(ImportFileError, match=fragment):
        _run(tmp_path, clerk, tree["pd_union"], content, name)


def test_it_refuses_other_extensions_and_old_xls():
    from members.importer import detect_format

    with pytest.raises(ImportFileError, match="xls"):
        detect_format("roster.xls")
    with pytest.raises(ImportFileError, match="xlsx"):
        detect_format("roster.pdf")


def test_it_refuses_too_many_rows(tree, clerk, tmp_path, settings):
    settings.MEMBER_IMPORT_MAX_ROWS = 2
    rows = [[nth_name("人", i), make_id_number(), make_mobile()] for i in range(3)]
    with pytest.raises(ImportFileError, match="2 行数据的上限"):
        _run(tmp_path, clerk, tree["pd_union"], _csv(rows, HEADERS[:3]), "big.csv")
    with pytest.raises(ImportFileError, match="上限"):
        _run(tmp_path, clerk, tree["pd_union"], _xlsx(rows, HEADERS[:3]), "big.xlsx")
    assert Member.objects.count() == 0


def test_it_explains_an_id_typed_as_a_number(tree, clerk, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    job = ImportJob.objects.create(
        union=tree["pd_union"], org_path=tree["pd_union"].path, file_name="x", file_format="xlsx"
    )
    rows = [{"name": "王一", "id_number": 3.10115199001011e17, "mobile": make_mobile()}]
    res = import_rows(actor=clerk, union=tree["pd_union"], rows=rows, mode="valid_only", job=job)
    assert res.errors == 1
    assert "文本" in default_storage.open(job.report_path).read().decode("utf-8-sig")


def test_a_job_runs_reports_and_deletes_the_upload(tree, clerk, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    good = make_id_number()
    rows = [["王一", good, make_mobile()], ["李二", "310115199001011230", make_mobile()]]
    upload = SimpleUploadedFile("名册.csv", _csv(rows, HEADERS[:3]))
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(actor=clerk, union=tree["pd_union"], uploaded_file=upload, mode="valid_only")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created_count, job.error_count) == (1, 1)
    assert not job.upload_path and not list((tmp_path / "member-imports" / str(job.pk)).glob("upload*"))
    report = default_storage.open(job.report_path).read().decode("utf-8-sig")
    assert good not in report and crypto.mask_id(good) in report and "校验位" in report
    errors = openpyxl.load_workbook(default_storage.open(job.error_path)).active
    values = [c for row in errors.iter_rows(values_only=True) for c in row]
    assert "310115199001011230" not in values and "310***********1230" in values
    # Running it again is a no-op (the status claim fails).
    from members.importer import import_job_run

    assert import_job_run(job.pk) is False


def test_templates_have_the_chinese_headers():
    wb = openpyxl.load_workbook(io.BytesIO(template_xlsx()))
    assert [c.value for c in wb.worksheets[0][1]] == HEADERS
    assert template_csv().decode("utf-8-sig").strip().split(",") == HEADERS


def test_a_file_of_several_batches_gives_the_same_results(tree, clerk, tmp_path, monkeypatch):
    """Duplicates across batch boundaries are caught; numbering continues across batches."""
    from members.importer import run

    monkeypatch.setattr(run, "BATCH_SIZE", 4)
    dup = make_id_number()
    rows = [[f"人{'甲乙丙丁戊己庚辛壬'[i]}", make_id_number(), make_mobile()] for i in range(9)]
    rows[3] = ["错", "310115199001011230", make_mobile()]
    rows[5][1] = dup
    rows[8][1] = dup
    res = _run(tmp_path, clerk, tree["pd_union"], _csv(rows, HEADERS[:3]), "w.csv", mode="valid_only")
    assert (res.rows, res.created, res.errors) == (9, 7, 2)
    assert Member.objects.count() == 7
    assert len(set(Membership.objects.values_list("member_number", flat=True))) == 7
    m = Member.objects.get(id_number_hash=crypto.id_hash(rows[0][1]))
    assert crypto.decrypt(m.id_number_enc) == rows[0][1] and crypto.decrypt(m.mobile_enc) == rows[0][2]
