"""The English catalog is complete and its compiled form is committed; Chinese number, money and date formats.

No browser here: these run in every `make test`. A fresh machine has no GNU gettext, so
the committed .mo is what serves English; it must hold exactly what the .po says.
"""

import ast
import datetime as dt
import gettext
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from organizations.templatetags.portal_tags import num, yuan

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"


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
