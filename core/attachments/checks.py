"""What an attachment may be: the allow-list, checked on the bytes, and a safe display name.

Decisions (each for a reason):
- The type comes from the content (magic bytes, `filetype`), never from the name or the
  browser's Content-Type: both are chosen by the uploader.
- Allowed: PDF, JPEG, PNG, WEBP, HEIC (what phones take photos in) and Office
  .docx/.xlsx. Office files are ZIP archives and `filetype` only looks at the first
  entries' names, which anyone can write; so a .docx/.xlsx is accepted only when the
  archive's directory really holds the main part (word/document.xml, xl/workbook.xml)
  and no macros (vbaProject.bin: a .docm renamed .docx). Old .doc/.xls (OLE files that
  carry macros and are hard to tell apart) and everything else are refused.
- A name whose extension names another type than the content (a .exe renamed .pdf, a
  .pdf renamed .jpg) is refused: the name would mislead whoever opens it. A name with
  no extension gets the right one added.
"""

from __future__ import annotations

import unicodedata
import zipfile

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Content type -> extensions a name may carry (the first is added to a name without one).
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
}
_OOXML_MAIN_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}
ALLOWED_LABEL = "PDF、JPG、PNG、WEBP、HEIC、Word（.docx）、Excel（.xlsx）"
ACCEPT_ATTR = ",".join(ext for exts in ALLOWED_TYPES.values() for ext in exts) + "," + ",".join(ALLOWED_TYPES)
HEAD_BYTES = 8192  # what filetype reads itself

_FORBIDDEN_IN_NAMES = set('/\\:*?"<>|')
MAX_NAME = 200


def detect_type(uploaded_file) -> str | None:
    """The allowed content type of the file by its bytes, or None if it is not allowed."""
    uploaded_file.seek(0)
    head = uploaded_file.read(HEAD_BYTES)
    uploaded_file.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        return None
    if mime in _OOXML_MAIN_PART and not _is_plain_ooxml(uploaded_file, _OOXML_MAIN_PART[mime]):
        return None
    return mime


def _is_plain_ooxml(uploaded_file, main_part: str) -> bool:
    # Reads only the archive's central directory, never decompresses (no zip-bomb cost).
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            names = {info.filename for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        uploaded_file.seek(0)
    if "[Content_Types].xml" not in names or main_part not in names:
        return False
    return not any(name.lower().endswith("vbaproject.bin") for name in names)


def clean_name(raw: str | None) -> str:
    """The uploader's file name made safe to show and to send back in a header.

    Keeps Chinese and other letters; drops folders, control characters and the
    characters Windows and HTTP headers cannot carry; never empty.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch not in _FORBIDDEN_IN_NAMES and unicodedata.category(ch)[0] != "C").strip(
        " ."
    )
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME]
    return name or _("附件")


def _extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ("." + ext.lower()) if dot and stem else ""


def name_for_type(name: str, mime: str) -> str:
    """`name` if its extension fits `mime`, with the right one added if it has none.

    Raises ValidationError (field "file") when the extension names another type.
    """
    allowed = ALLOWED_TYPES[mime]
    ext = _extension(name)
    if not ext:
        return (name[: MAX_NAME - len(allowed[0])] + allowed[0]) if name else allowed[0]
    if ext not in allowed:
        raise ValidationError(
            {
                "file": _("文件“%(name)s”的扩展名 %(ext)s 与文件内容（%(kind)s）不符：请上传原始文件，不要改扩展名。")
                % {"name": name, "ext": ext, "kind": allowed[0].lstrip(".").upper()}
            }
        )
    return name
