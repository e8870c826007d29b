"""Bounded uploads: request bodies refused at the door, archives checked before opening.

An upload used to be written to disk whole and then opened: a 60 MB roster was stored
before any check, and a 65 KB xlsx that inflates to 64 MB held the only worker for 23 s
(issue 16, finding 7). Three guards, in the order a request meets them:

1. `UploadLimitMiddleware` compares the declared Content-Length with the route's limit
   before a byte of the body is read (Django's WSGI request never reads past it). The
   API answers 413 in the error shape; a page gets its form back, the file field saying
   what the limit is (`BoundedFileField`), the file's bytes read and dropped, never stored.
   In production nginx's `client_max_body_size` refuses even earlier (README, Production).
2. `check_zip_archive` reads only the zip's central directory: member count, names
   (no absolute or `..` paths), the total inflated size and each member's ratio.
3. `sniff` refuses content that does not match the name (an .exe renamed .xlsx).
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import IO

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

MB = 1024 * 1024


class UploadRefused(ValueError):
    """A file refused by content; `message` is for the person who sent it (Chinese)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


# --- 1. request bodies ------------------------------------------------------------------


def body_limit(path: str) -> int:
    """Bytes a request body may have on this path: the longest matching prefix, else the default."""
    best, limit = "", int(settings.REQUEST_BODY_MAX_BYTES)
    for prefix, value in settings.UPLOAD_LIMITS.items():
        if path.startswith(prefix) and len(prefix) > len(best):
            best, limit = prefix, int(value)
    return limit


def _megabytes(limit: int) -> str:
    return f"{limit / MB:g}"


def too_large_message(limit: int) -> str:
    return _("上传的内容超过 %(mb)s MB 的上限：请拆分为多个较小的文件后分别上传。") % {"mb": _megabytes(limit)}


class RefusedUpload(UploadedFile):
    """Stands in request.FILES for a file dropped at the door; BoundedFileField reports it."""

    def __init__(self, name: str, limit: int):
        super().__init__(file=None, name=name, size=0)
        self.limit = limit


class _DropFiles(FileUploadHandler):
    """Reads the other fields of a too-large form and drops every file, noting its field."""

    def __init__(self, request, dropped: list):
        super().__init__(request)
        self.dropped = dropped

    def new_file(self, field_name, file_name, *args, **kwargs):
        self.dropped.append((field_name, file_name))
        raise SkipFile

    def receive_data_chunk(self, raw_data, start):  # pragma: no cover - never reached after SkipFile
        return None

    def file_complete(self, file_size):  # pragma: no cover
        return None


class UploadLimitMiddleware:
    """Refuses a request whose declared body is over its route's limit, before reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.path)
        if length > limit:
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "upload_too_large", "message": too_large_message(limit)}},
                    status=413,
                    json_dumps_params={"ensure_ascii": False},
                )
            if not request.content_type.startswith("multipart/"):
                # Not a form with files (no field to put the message on): a plain refusal.
                return HttpResponse(too_large_message(limit), status=413, content_type="text/plain; charset=utf-8")
            self._drop_files(request, limit)
        return self.get_response(request)

    @staticmethod
    def _drop_files(request, limit: int) -> None:
        """A page form: keep its small fields (CSRF token, choices), drop the files unread.

        The other fields are bounded by DATA_UPLOAD_MAX_MEMORY_SIZE; the file bytes pass
        through a handler that keeps none of them, so nothing reaches the disk.
        """
        dropped: list = []
        request.upload_handlers = [_DropFiles(request, dropped)]
        request.POST  # noqa: B018 - parse now, with the handler above
        for field_name, file_name in dropped:
            request.FILES.appendlist(field_name, RefusedUpload(file_name, limit))


class BoundedFileField(forms.FileField):
    """A form's file field that names the size limit when the middleware dropped the file."""

    def to_python(self, data):
        if isinstance(data, RefusedUpload):
            raise forms.ValidationError(
                _("“%(label)s”超过 %(mb)s MB 的上限：请拆分为多个较小的文件后分别上传。")
                % {"label": self.label, "mb": _megabytes(data.limit)},
                code="upload_too_large",
            )
        return super().to_python(data)


# --- 2. archives ------------------------------------------------------------------------

# Below this a member is not worth a ratio alarm (xml of a tiny sheet compresses well).
_RATIO_FLOOR = 1 * MB


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in posixpath.normpath(name).split("/") or ".." in name.split("/")


def check_zip_archive(
    fileobj: IO[bytes] | str,
    *,
    max_total_bytes: int,
    max_ratio: int,
    max_members: int,
) -> None:
    """Refuse a zip (xlsx) whose directory promises too much, before anything is inflated.

    Python's zipfile never inflates a member past its declared size (and then fails the
    CRC), so the declared sizes checked here bound what reading the archive can cost.
    """
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UploadRefused(
            _("文件内容不是有效的 Excel（.xlsx）文件：请用 Excel 打开后“另存为” .xlsx 再上传，或下载导入模板。"),
            "not_xlsx",
        ) from None
    finally:
        if hasattr(fileobj, "seek"):
            fileobj.seek(0)
    if len(infos) > max_members:
        raise UploadRefused(
            _("Excel 文件内部结构异常（包含 %(n)s 个部件）：请用 Excel 打开后另存为 .xlsx 再上传。")
            % {"n": len(infos)},
            "zip_members",
        )
    if any(_unsafe_name(info.filename) for info in infos):
        raise UploadRefused(
            _("Excel 文件内部含有不安全的路径（绝对路径或“..”）：请用 Excel 打开后另存为 .xlsx 再上传。"),
            "zip_path",
        )
    total = sum(info.file_size for info in infos)
    if total > max_total_bytes:
        raise UploadRefused(
            _("Excel 文件解压后超过 %(mb)s MB 的上限：请拆分为多个文件后分别上传。")
            % {"mb": _megabytes(max_total_bytes)},
            "zip_too_large",
        )
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            raise UploadRefused(
                _(
                    "Excel 文件的压缩比异常（解压后膨胀到压缩前的 %(ratio)s 倍以上），不像正常的名册：请用 Excel 打开后另存为 .xlsx 再上传。"
                )
                % {"ratio": max_ratio},
                "zip_ratio",
            )


def check_xlsx(fileobj: IO[bytes] | str) -> None:
    """An xlsx upload: a safe zip within the configured limits, with a workbook inside."""
    check_zip_archive(
        fileobj,
        max_total_bytes=int(settings.XLSX_MAX_UNCOMPRESSED_MB) * MB,
        max_ratio=int(settings.XLSX_MAX_COMPRESSION_RATIO),
        max_members=int(settings.XLSX_MAX_MEMBERS),
    )
    with zipfile.ZipFile(fileobj) as archive:
        names = set(archive.namelist())
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise UploadRefused(
            _("文件内容不是有效的 Excel（.xlsx）文件：请用 Excel 打开后“另存为” .xlsx 再上传，或下载导入模板。"),
            "not_xlsx",
        )


# --- 3. content matches the name --------------------------------------------------------


# Zip (xlsx, docx), Windows and Linux executables, PDF, old Office: never a CSV.
_BINARY_MAGIC = (b"PK\x03\x04", b"MZ", b"\x7fELF", b"%PDF", b"\xd0\xcf\x11\xe0")


def _is_text(head: bytes) -> bool:
    """Decodes as UTF-8 or GB18030 (Excel on Chinese Windows), a cut last character allowed."""
    import codecs

    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def sniff(fileobj: IO[bytes], kind: str) -> None:
    """Refuse content that is not what the name says: `kind` is "xlsx" or "csv"."""
    import filetype

    head = fileobj.read(8192)
    fileobj.seek(0)
    if kind == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise UploadRefused(
                _("文件内容不是有效的 Excel（.xlsx）文件：请用 Excel 打开后“另存为” .xlsx 再上传，或下载导入模板。"),
                "not_xlsx",
            )
        check_xlsx(fileobj)
        return
    if b"\x00" in head or head.startswith(_BINARY_MAGIC) or (filetype.guess(head) and not _is_text(head)):
        raise UploadRefused(_("文件内容不是 CSV 文本，请确认文件格式，或下载导入模板。"), "not_csv")
