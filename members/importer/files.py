"""Reading roster files: format, headers, rows (csv and xlsx), size limits."""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.parsers import expat

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

from .. import xlsx

# (key, Chinese header, required). Column order of the template.
COLUMNS: list[tuple[str, str, bool]] = [
    ("name", "姓名", True),
    ("id_number", "身份证号码", True),
    ("mobile", "手机号码", True),
    ("employer_name", "工作单位", False),
    ("employment_form", "就业形态", False),
    ("is_migrant_worker", "是否农民工", False),
    ("education", "文化程度", False),
    ("skill_level", "技能等级", False),
    ("joined_on", "入会日期", False),
]
HEADER_ALIASES = {
    "姓名": "name",
    "身份证号码": "id_number",
    "身份证号": "id_number",
    "公民身份号码": "id_number",
    "手机号码": "mobile",
    "手机号": "mobile",
    "工作单位": "employer_name",
    "就业形态": "employment_form",
    "是否农民工": "is_migrant_worker",
    "农民工": "is_migrant_worker",
    "文化程度": "education",
    "技能等级": "skill_level",
    "入会日期": "joined_on",
}
# The error workbook's explanation columns: ignored on upload, so that a clerk can fix the
# rows in the workbook and upload it as it is (issue 15).
EXPLANATION_HEADERS = ("行号", "错误说明")
REPORT_HEADER = ["行号", "姓名", "身份证号码（已脱敏）", "结果", "说明"]
OUTCOME_LABELS = {
    "created": "新增",
    "updated": "更新",
    "skipped": "跳过",
    "error": "错误",
    "not_imported": "未导入",
}
TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "", "×"})


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (format, headers, merged cells, size)."""

    status_code = 400
    default_code = "import_file_invalid"


def _choice_map(choices) -> dict[str, str]:
    out = {}
    for value, label in choices.choices:
        out[str(label)] = value
        out[value] = value
    return out


# --- reading files --------------------------------------------------------------------


def detect_format(file_name: str) -> str:
    ext = Path(file_name or "").suffix.lower()
    if ext == ".xlsx":
        return "xlsx"
    if ext == ".csv":
        return "csv"
    if ext in (".xls", ".et", ".wps"):
        raise ImportFileError(_("不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 .csv 后再上传。"))
    raise ImportFileError(_("请上传 Excel（.xlsx）或 CSV（.csv）格式的会员名册，可先下载导入模板。"))


def check_upload(fileobj, fmt: str) -> None:
    """The file's content matches its format, and an xlsx is a safe zip within the limits."""
    from core.uploads import UploadRefused, sniff

    try:
        sniff(fileobj, fmt)
    except UploadRefused as exc:
        raise ImportFileError(exc.message, code=exc.code, field="file") from None


def _max_rows() -> int:
    return int(getattr(settings, "MEMBER_IMPORT_MAX_ROWS", 1_000_000))


def _too_many(limit: int) -> ImportFileError:
    return ImportFileError(
        _("文件超过 %(n)s 行数据的上限，请拆分为多个文件后分别导入。") % {"n": f"{limit:,}"}, code="too_many_rows"
    )


def _open_csv(path: str) -> Iterator[list[str]]:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head or head.startswith(b"PK\x03\x04"):
        raise ImportFileError(_("文件内容不是 CSV 文本，请确认文件格式，或下载导入模板。"))
    encoding = "utf-8-sig"
    try:
        # Incremental: a multi-byte character cut at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        encoding = "gb18030"  # Excel on Chinese Windows saves CSV in GBK
    fh = open(path, encoding=encoding, newline="", errors="strict")
    try:
        yield from csv.reader(fh)
    except UnicodeDecodeError:
        raise ImportFileError(_("文件编码无法识别，请以 UTF-8 或 GBK 编码保存 CSV 后重新上传。")) from None
    except csv.Error as exc:
        raise ImportFileError(_("CSV 文件格式有误（%(e)s），请用 Excel 重新保存后上传。") % {"e": exc}) from None
    finally:
        fh.close()


def _open_xlsx(path: str) -> Iterator[tuple]:
    from openpyxl.utils.exceptions import InvalidFileException

    from core.uploads import UploadRefused, check_xlsx

    try:
        # Again at run time: a job queued before the upload check, or a file from elsewhere.
        check_xlsx(path)
    except UploadRefused as exc:
        raise ImportFileError(exc.message, code=exc.code) from None
    try:
        wb = xlsx.Workbook(path)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError, AttributeError):
        raise ImportFileError(
            _("文件不是有效的 Excel（.xlsx）文件，请用 Excel 打开确认后另存为 .xlsx 再上传。")
        ) from None
    try:
        # Merged cells hide values (only the first cell holds one): refuse rather than guess.
        if wb.has_merged_cells():
            raise ImportFileError(_("表格中有合并单元格，请取消合并并在每一行填写完整后再上传。"), code="merged_cells")
        limit = _max_rows()
        declared = wb.declared_rows()
        if declared is not None and declared - 1 > limit:
            raise _too_many(limit)
        try:
            yield from wb.rows()
        except xlsx.RowTooLong as exc:
            raise ImportFileError(
                _("Excel 文件第 %(row)s 行过长（超过 %(n)s 个字符），不像正常的名册：请检查该行后重新保存再上传。")
                % {"row": exc.row, "n": f"{xlsx.MAX_ROW_CHARS:,}"},
                code="row_too_long",
            ) from None
        except (expat.ExpatError, ValueError):
            raise ImportFileError(_("Excel 文件内容已损坏，请用 Excel 打开后重新保存再上传。")) from None
    finally:
        wb.close()


def estimate_rows(path: str, fmt: str) -> int | None:
    """Data rows in the file, for the progress bar (lines of a CSV; an xlsx's declared size)."""
    try:
        if fmt == "csv":
            lines = 0
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    lines += chunk.count(b"\n")
            return max(lines - 1, 0)
        wb = xlsx.Workbook(path)
        try:
            declared = wb.declared_rows()
        finally:
            wb.close()
        return max(declared - 1, 0) if declared else None
    except Exception:  # only an estimate: the import itself reports a bad file properly
        return None


def read_rows(path: str, fmt: str) -> tuple[dict[str, int], Iterator[tuple[int, tuple]]]:
    """Header map {key: column index} and an iterator of (spreadsheet row number, cells)."""
    it = _open_xlsx(path) if fmt == "xlsx" else _open_csv(path)
    header_row = None
    row_no = 0
    for cells in it:
        row_no += 1
        if any(c not in (None, "") for c in cells):
            header_row = cells
            break
    if header_row is None:
        raise ImportFileError(_("文件是空的：第一行应为表头（姓名、身份证号码、手机号码……），请使用导入模板。"))
    header = _check_headers(header_row)
    ignored = frozenset(
        i for i, cell in enumerate(header_row) if re.sub(r"[\s*＊]", "", str(cell or "")) in EXPLANATION_HEADERS
    )

    def rows() -> Iterator[tuple[int, tuple]]:
        n = row_no
        limit = _max_rows()
        count = 0
        for cells in it:
            n += 1
            if ignored:  # an explanation alone (the error workbook's notes) is a blank line
                cells = tuple(None if i in ignored else c for i, c in enumerate(cells))
            if not any(cells) and not any(c not in (None, "") for c in cells):
                continue  # a blank line (a 0 in a cell is not blank)
            count += 1
            if count > limit:
                raise _too_many(limit)
            yield n, cells

    return header, rows()


def _check_headers(cells) -> dict[str, int]:
    header: dict[str, int] = {}
    unknown = []
    for i, cell in enumerate(cells):
        text = re.sub(r"[\s*＊]", "", str(cell or ""))
        if not text:
            continue
        key = HEADER_ALIASES.get(text)
        if key is None and text in EXPLANATION_HEADERS:
            continue
        if key is None:
            unknown.append(text)
        elif key in header:
            raise ImportFileError(_("表头“%(h)s”出现了两次，请删除重复的列。") % {"h": text}, code="bad_headers")
        else:
            header[key] = i
    if unknown:
        known = "、".join(h for _k, h, _r in COLUMNS)
        raise ImportFileError(
            _("表头中有无法识别的列：%(cols)s。可用的列为：%(known)s；请使用导入模板。")
            % {"cols": "、".join(unknown), "known": known},
            code="bad_headers",
        )
    missing = [h for k, h, required in COLUMNS if required and k not in header]
    if missing:
        raise ImportFileError(
            _("表头缺少必填列：%(cols)s，请使用导入模板。") % {"cols": "、".join(missing)}, code="bad_headers"
        )
    return header
