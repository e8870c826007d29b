"""The English catalog is complete and its compiled form is committed; Chinese number, money and date formats.

No browser here: these run in every `make test`. A fresh machine has no GNU gettext, so
the committed .mo is what serves English; it must hold exactly what the .po says.
"""

import ast
import datetime as dt
import gettext
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import override_settings
from django.utils import translation

from organizations.templatetags.portal_tags import num, yuan

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale" / "en" / "LC_MESSAGES"
SOURCE_DIRS = (
    "core",
    "activity",
    "members",
    "organizations",
    "reports",
    "unionportal",
    "templates",
    "assistance",
    "disputes",
    "projects",
)


def _po_entries(path: Path) -> dict[str, tuple[str, ...]]:
    """msgid (with context and plural joined as gettext keys them) -> msgstr(s), fuzzy ones marked."""
    entries: dict[str, tuple[str, ...]] = {}
    block: dict[str, str] = {}
    key = None
    fuzzy = False

    def flush():
        nonlocal block, fuzzy
        if "msgid" in block and block["msgid"]:
            msgid = block["msgid"]
            if "msgctxt" in block:
                msgid = f"{block['msgctxt']}\x04{msgid}"
            strs = tuple(v for k, v in sorted(block.items()) if k.startswith("msgstr"))
            entries[msgid] = ("#fuzzy",) if fuzzy else strs
        block, fuzzy = {}, False

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            key = None
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            block[key] += ast.literal_eval(line)
        else:
            key, _, rest = line.partition(" ")
            block[key] = ast.literal_eval(rest)
    flush()
    return entries


def test_every_message_has_an_english_translation():
    entries = _po_entries(LOCALE / "django.po")
    assert len(entries) > 500
    untranslated = [msgid for msgid, strs in entries.items() if not all(strs) or strs == ("#fuzzy",)]
    assert untranslated == [], f"translate these in locale/en/LC_MESSAGES/django.po: {untranslated[:20]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_every_message_in_the_code_is_in_the_catalog(tmp_path):
    """A string marked for translation but never extracted would stay Chinese in English.

    Runs makemessages over a copy of the sources (so the committed catalog is not touched)
    and expects nothing new: after adding strings, run
    `manage.py makemessages -l en --add-location file --no-obsolete`, translate, compile.
    """
    copy = tmp_path / "src"
    for name in SOURCE_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copytree(ROOT / "locale", copy / "locale")
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[]):
            call_command("makemessages", locale=["en"], verbosity=0, no_obsolete=True, add_location="file")
    finally:
        os.chdir(cwd)
    extracted = _po_entries(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = _po_entries(LOCALE / "django.po")  # parsed once, not once per extracted message
    missing = sorted(msgid for msgid in extracted if msgid not in committed)
    assert missing == [], f"not yet in locale/en/LC_MESSAGES/django.po: {missing[:20]}"


def test_the_committed_mo_matches_the_po():
    """After editing the .po, run `manage.py compilemessages -l en` and commit the .mo too."""
    with (LOCALE / "django.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    compiled = {(k[0] if isinstance(k, tuple) else k) for k in catalog if k}
    assert compiled == set(_po_entries(LOCALE / "django.po"))


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("组织树", "Organisation tree"),
        ("按名称或统一社会信用代码搜索", "Search by name or unified social credit code"),
        ("统一社会信用代码校验位错误：第 18 位应为 %(expected)s，请核对是否抄错。", "The check character"),
        ("找不到您要的内容", "We could not find what you are looking for"),
    ],
)
def test_it_speaks_english_when_asked(text, english):
    with translation.override("en"):
        assert translation.gettext(text).startswith(english)
    with translation.override("zh-hans"):
        assert translation.gettext(text) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234, "1,234"), (0, "0"), (1234567, "1,234,567"), ("42", "42"), (None, "—"), ("", "—"), ("abc", "abc")],
)
def test_num_groups_thousands_by_three(value, expected):
    assert num(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234"), "¥1,234.00"),
        (1234.5, "¥1,234.50"),
        (Decimal("0.005"), "¥0.01"),
        (Decimal("-8"), "-¥8.00"),
        (1234567.891, "¥1,234,567.89"),
        (None, "—"),
        ("x", "x"),
    ],
)
def test_yuan_writes_money_the_chinese_way(value, expected):
    assert yuan(value) == expected


def test_dates_read_the_chinese_way_in_chinese_and_the_english_way_in_english():
    template = Template('{{ d|date:"DATE_FORMAT" }} {{ t|date:"DATETIME_FORMAT" }}')
    context = Context({"d": dt.date(2026, 11, 21), "t": dt.datetime(2026, 11, 21, 9, 5)})
    with translation.override("zh-hans"):
        assert template.render(context) == "2026年11月21日 2026年11月21日 09:05"
    with translation.override("en"):
        assert template.render(context).startswith("Nov. 21, 2026")
