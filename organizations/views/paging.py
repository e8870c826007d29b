"""Keyset ("load more") paging for big lists: no OFFSET, no COUNT(*) of the whole reach."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str


def _encode(value, pk) -> str:
    if isinstance(value, dt.datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, pk], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str):
    """(value, pk) from a cursor, or None for anything malformed (it then starts over)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict):
            value = dt.datetime.fromisoformat(value["dt"])
        if not isinstance(pk, int) or not isinstance(value, str | int | dt.datetime):
            return None
        return value, pk
    except (ValueError, TypeError, KeyError):
        return None


def _fit(qs: QuerySet, field: str, position):
    """The cursor's value converted to the column's type, or None if it does not fit (start over).

    A hand-edited cursor ("abc" for an integer column) must restart the list, not 500.
    """
    value, pk = position
    if abs(pk) >= 2**63:
        return None
    try:
        model_field = qs.model._meta.get_field(field)
    except FieldDoesNotExist:
        return position
    try:
        value = model_field.to_python(value)
    except (ValidationError, TypeError, ValueError):
        return None
    return (value, pk) if value is not None else None


def rows_in_order(qs: QuerySet, ids: list[int]) -> list:
    """The rows of `qs` with these primary keys, in the order of `ids` (one query by primary key).

    The second half of an ids-first page; a row gone since its id was read is left out.
    """
    by_id = {(row["id"] if isinstance(row, dict) else row.pk): row for row in qs.order_by().filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


def keyset_page(
    qs: QuerySet, *, field: str, descending: bool, cursor: str, size: int, ids_first: bool = False
) -> KeysetPage:
    """One page of `qs` ordered by (`field`, id), starting after `cursor`.

    `ids_first`: find the page's ids, then read only those rows (see
    unionportal.api_base.IdsFirstCursorPagination); for big lists narrowed to a subtree.
    """
    if descending:
        qs = qs.order_by(f"-{field}", "-id")
    else:
        qs = qs.order_by(field, "id")
    position = _decode(cursor) if cursor else None
    if position is not None:
        position = _fit(qs, field, position)
    if position is not None:
        value, pk = position
        op = "lt" if descending else "gt"
        qs = qs.filter(Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": pk}))
    if ids_first:
        rows = rows_in_order(qs, list(qs.values_list("id", flat=True)[: size + 1]))
    else:
        rows = list(qs[: size + 1])
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode(getattr(last, field), last.pk)
    return KeysetPage(rows=rows, next_cursor=next_cursor)
