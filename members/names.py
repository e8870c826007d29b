"""Pinyin initials of Chinese names, for search by initials (张三丰 -> zsf)."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch.lower() if ch.isalnum() else ""
    letters = lazy_pinyin(ch, style=Style.FIRST_LETTER, errors="ignore")
    return letters[0][:1].lower() if letters and letters[0] else ""


@lru_cache(maxsize=200_000)
def name_initials(name: str) -> str:
    """Lower-case initials of each character's most common reading (polyphones may differ)."""
    return "".join(_char_initial(ch) for ch in name)[:30]
