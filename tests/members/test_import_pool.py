"""Rows checked in worker processes (big files) give exactly what checking in-process gives."""

import csv
import io
import os

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django.utils import translation

from core import crypto
from members.importer import COLUMNS, import_rows
from members.models import ImportJob, Member, Membership
from tests.factories import make_id_number, make_member, make_mobile, nth_name

HEADERS = [h for _k, h, _r in COLUMNS]


@pytest.fixture
def small_batches(monkeypatch, settings):
    """Batches of 4 rows, and the pool used from the first row on (it needs 20,000 otherwise)."""
    from members.importer import run

    monkeypatch.setattr(run, "BATCH_SIZE", 4)
    settings.MEMBER_IMPORT_POOL_MIN_ROWS = 1


def _roster(tree, clerk, owner) -> list[list]:
    """Good rows around every kind of bad one, duplicates across batches, people already on a roll."""
    from members.services import membership_leave

    elsewhere = make_member(tree["hp_union"], actor=owner)
    here = make_member(tree["pd_union"], actor=clerk, name="老会员", mobile="13911112222")
    former = make_member(tree["pd_union"], actor=clerk, name="回来了")
    membership_leave(actor=clerk, membership=former)
    dup, dup_mobile = make_id_number(), make_mobile()
    rows = [
        [
            nth_name("新", i),
            make_id_number(),
            make_mobile(),
            '浦东,测试"公司"',
            "快递员",
            "是",
            "本科",
            "",
            "2024-05-01",
        ]
        for i in range(10)
    ]
    rows[1] = ["错", "310115199001011230", make_mobile(), "", "", "", "", "", ""]  # check digit
    rows[2][8] = "2024-13-01"  # no such date
    rows[3][4] = "宇航员"  # not an employment form
    rows[5][1] = dup
    rows[9][1] = dup  # duplicate in another batch
    rows[6][2] = dup_mobile
    rows[8][2] = dup_mobile
    rows += [
        ["某人", crypto.decrypt(elsewhere.member.id_number_enc), make_mobile(), "", "", "", "", "", ""],
        ["老会员", crypto.decrypt(here.member.id_number_enc), "13911113333", "", "外卖骑手", "", "", "", ""],
        ["回来了", crypto.decrypt(former.member.id_number_enc), make_mobile(), "", "", "", "", "", ""],
    ]
    return rows


def _write(path, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(rows)
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    return str(path)


def _import(tree, clerk, path, mode, settings, workers):
    settings.MEMBER_IMPORT_WORKERS = workers
    job = ImportJob.objects.create(
        union=tree["pd_union"], org_path=tree["pd_union"].path, file_name="r", file_format="csv"
    )
    res = import_rows(actor=clerk, union=tree["pd_union"], path=path, fmt="csv", mode=mode, job=job)
    # import_rows sets the file paths on the job (import_job_run saves them).
    report = default_storage.open(job.report_path).read().decode("utf-8-sig")
    errors = [list(r) for r in openpyxl.load_workbook(default_storage.open(job.error_path)).active.values]
    full = openpyxl.load_workbook(io.BytesIO(crypto.fernet().decrypt(default_storage.open(job.error_full_path).read())))
    return res, report, errors, [list(r) for r in full.active.values]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_workers_report_every_row_as_checking_in_process_does(
    tree, clerk, owner, tmp_path, settings, small_batches, language
):
    settings.MEDIA_ROOT = str(tmp_path)
    path = _write(tmp_path / "r.csv", _roster(tree, clerk, owner))
    with translation.override(language):
        in_process = _import(tree, clerk, path, "all_or_nothing", settings, workers=0)
        pooled = _import(tree, clerk, path, "all_or_nothing", settings, workers=2)
    assert in_process[0].cpu["workers"] == 0 and pooled[0].cpu["workers"] == 2
    assert pooled[0].cpu["checkers"] > 0
    # All or nothing: nothing written, and the same outcome, report and error workbooks row by row.
    assert not pooled[0].written and Member.objects.count() == 3
    same = ("rows", "created", "updated", "skipped", "errors", "first_error_row", "message", "written")
    assert [getattr(pooled[0], k) for k in same] == [getattr(in_process[0], k) for k in same]
    assert pooled[1:] == in_process[1:]
    assert pooled[0].errors == 6
    # The workers speak the uploader's language.
    checksum = "check character of the ID number" if language == "en" else "身份证号码校验位错误"
    assert checksum in pooled[1]


def test_workers_write_the_valid_rows_like_in_process(tree, clerk, owner, tmp_path, settings, small_batches):
    settings.MEDIA_ROOT = str(tmp_path)
    path = _write(tmp_path / "r.csv", _roster(tree, clerk, owner))
    res, report, _errors, _full = _import(tree, clerk, path, "valid_only", settings, workers=2)
    assert res.cpu["workers"] == 2 and res.written
    # Five new people and one rejoin, one update; six bad rows (three checks, two duplicates,
    # one member of another union).
    assert (res.rows, res.created, res.updated, res.errors) == (13, 6, 1, 6)
    assert Member.objects.count() == 3 + 5
    m = Member.objects.get(name=nth_name("新", 0))
    assert m.employer_name == '浦东,测试"公司"' and m.employment_form == "courier" and m.is_migrant_worker
    assert crypto.decrypt(m.id_number_enc) and m.current_membership.status == "active"
    assert Member.objects.get(name="老会员").employment_form == "rider"
    numbers = list(Membership.objects.filter(union=tree["pd_union"]).values_list("member_number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert "新增" in report and "更新" in report


@pytest.mark.django_db(transaction=True)
def test_pipelined_import_with_workers_writes_everything_or_nothing(
    postgres_only, tree, clerk, owner, tmp_path, settings, small_batches
):
    """PostgreSQL outside a transaction: workers check, the main process plans, a thread writes."""
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEMBER_IMPORT_WORKERS = 2
    good = [[nth_name("甲", i), make_id_number(), make_mobile()] for i in range(30)]
    path = _write(tmp_path / "r.csv", [*good, ["错", "310115199001011230", make_mobile()]])
    res = import_rows(actor=clerk, union=tree["pd_union"], path=path, fmt="csv", mode="all_or_nothing")
    assert res.cpu["workers"] == 2 and not res.written and Member.objects.count() == 0
    res = import_rows(actor=clerk, union=tree["pd_union"], path=path, fmt="csv", mode="valid_only")
    assert res.written and (res.created, res.errors) == (30, 1) and Member.objects.count() == 30
    assert "database" in res.cpu and "writer" in res.cpu
    for name, idn, mobile in good[::7]:
        m = Member.objects.get(id_number_hash=crypto.id_hash(idn))
        assert (m.name, crypto.decrypt(m.id_number_enc), crypto.decrypt(m.mobile_enc)) == (name, idn, mobile)
    assert len(set(Membership.objects.values_list("member_number", flat=True))) == 30


def test_a_checking_process_that_dies_stops_the_import_with_nothing_written(
    tree, clerk, owner, tmp_path, settings, small_batches, monkeypatch
):
    """A killed worker (out of memory, say) fails the import; it neither hangs nor writes a part."""
    from concurrent.futures.process import BrokenProcessPool

    from members.importer import pool

    real = pool._check_rows

    def dies_on_row_seven(batch, ctx):
        if any(rn == 7 for rn, _cells in batch):
            os._exit(9)
        return real(batch, ctx)

    # Patched before the workers are forked, so they run it.
    monkeypatch.setattr(pool, "_check_rows", dies_on_row_seven)
    settings.MEDIA_ROOT = str(tmp_path)
    path = _write(tmp_path / "r.csv", _roster(tree, clerk, owner))
    on_roll = Member.objects.count()  # the three people _roster put on the rolls
    with pytest.raises(BrokenProcessPool):
        _import(tree, clerk, path, "valid_only", settings, workers=2)
    assert Member.objects.count() == on_roll == 3


def test_the_checking_processes_skip_other_libraries_after_fork_hooks(
    tree, clerk, owner, tmp_path, settings, small_batches
):
    """kombu registers a hook that closes inherited broker connections after a fork; with a
    channel left waiting on a BRPOP it read the parent's socket and blocked the worker's start
    for ever (the import hung at the pool's shutdown). Here a hook that blocks stands for it:
    the workers must start, check and end without running it."""
    import multiprocessing.util
    import signal
    import threading

    class Holder:
        pass

    holder = Holder()  # the registry holds its objects weakly: keep this one alive
    ran = tmp_path / "hook-ran"

    def blocking_hook(_obj):
        ran.write_text("ran")
        threading.Event().wait()  # as kombu's read of the parent's socket: never returns

    multiprocessing.util.register_after_fork(holder, blocking_hook)
    settings.MEDIA_ROOT = str(tmp_path)
    path = _write(tmp_path / "r.csv", _roster(tree, clerk, owner))

    def hung(_signum, _frame):
        for child in multiprocessing.active_children():  # the blocked workers, not left behind
            child.kill()
        raise TimeoutError("the import hung: a checking process ran an after-fork hook")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        res = _import(tree, clerk, path, "valid_only", settings, workers=2)[0]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not ran.exists()
    assert res.cpu["workers"] == 2 and res.created == 6
    assert holder  # kept alive (registered weakly) until here
