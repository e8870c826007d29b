"""The page kit: who may open a page, service refusals on forms, files, keyset paging.

Staff pages take `staff_required`: anonymous users go to the login page, workers to
their self-service home, signed-in users without any role get a friendly 403 page.
`worker_required` is the same for the worker's self-service pages.

A form whose POST calls a service goes through `service_form` (refusals on the fields,
status 400, what the user typed kept); a hand-written view puts a refusal on its form
with `apply_service_error`, or shows `core.errors.refusal(exc).text` in a message box.
`file_response` answers a download (never cached), `keyset_page` pages a big list
without OFFSET or COUNT(*); `keyset_page_by` does the same for an order of several
columns (a search ordered like the index that serves it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import connections
from django.db.models import BooleanField, CharField, F, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Collate
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render, resolve_url

from .errors import DomainError, refusal
from .scoping import is_staff_user


def login_redirect(request) -> HttpResponse:
    if request.htmx:
        # A fragment request from an expired session: send the whole page to the login
        # page instead of swapping the login form into a table cell.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?next={request.htmx.current_url_abs_path or '/'}"
        return response
    return redirect_to_login(request.get_full_path())


def no_role_response(request, *, status: int = 403) -> HttpResponse:
    """The page for a signed-in account that has no staff role and is not a worker."""
    return render(request, "accounts/no_role.html", status=status)


def staff_required(view):
    """Let only signed-in users with some staff reach through."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return login_redirect(request)
        if getattr(user, "is_worker", False):
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = resolve_url("selfservice-home")
                return response
            return redirect("selfservice-home")
        if not is_staff_user(user):
            return no_role_response(request)
        return view(request, *args, **kwargs)

    return wrapper


def worker_required(view):
    """Let only signed-in worker accounts through; staff go to their own home page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return login_redirect(request)
        if not getattr(user, "is_worker", False):
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def apply_service_error(form, exc: Exception) -> None:
    """Put a service's refusal onto the form: per field where the form has the field.

    The translation is core.errors.refusal, the same as the API's and the admin's;
    anything that is not a refusal is raised again.
    """
    found = refusal(exc)
    if found is None or isinstance(exc, Http404 | PermissionDenied):
        raise exc
    found.on_form(form)


def service_form(request, form, *, template: str, context, save):
    """A form page whose POST is carried out by a service.

    `save(cleaned_data)` calls the service and returns (success message, redirect target:
    a URL name and its arguments, or a URL). A service's refusal lands on the form's
    fields and the page is shown again with status 400, keeping what the user typed.
    `context` is a dict, or a function returning one when the page is shown (so a POST
    that succeeds does not build a page it never renders).
    """
    if request.method == "POST" and form.is_valid():
        try:
            message, target = save(form.cleaned_data)
        except (ValidationError, DomainError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, message)
            return redirect(*target)
    if callable(context):
        context = context()
    return render(request, template, {**context, "form": form}, status=400 if form.errors else 200)


def private(response: HttpResponse) -> HttpResponse:
    """Personal data in the answer: no cache may keep it."""
    response["Cache-Control"] = "no-store, private"
    return response


def file_response(name: str, content_type: str, body) -> HttpResponse:
    """bytes, a file object or an iterator of bytes, as an attachment (never cached)."""
    if isinstance(body, bytes):
        response = HttpResponse(body, content_type=content_type)
    elif hasattr(body, "read"):
        response = FileResponse(body, content_type=content_type)
    else:
        response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return private(response)


# --- keyset ("load more") paging for big lists: no OFFSET, no COUNT(*) of the whole reach


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
    core.api_defaults.IdsFirstCursorPagination); for big lists narrowed to a subtree.
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


# --- keyset paging over several columns (searches ordered like their index) ---------------


def byte_order(qs: QuerySet, field: str):
    """`field` as an ORDER BY / comparison expression, text compared byte by byte.

    On PostgreSQL a text column is wrapped in COLLATE "C": an index built with that
    collation serves both a prefix LIKE and the order (a varchar_pattern_ops index serves
    the LIKE but not an ORDER BY), and the order does not depend on the database's locale.
    SQLite's default BINARY collation is already byte order.
    """
    model_field = qs.model._meta.get_field(field)
    if connections[qs.db].vendor == "postgresql" and isinstance(model_field, CharField | TextField):
        return Collate(F(field), "C")
    return F(field)


class RowAfter(Func):
    """`(a, b, c) > (x, y, z)`: a row comparison, which PostgreSQL turns into one index bound
    (an OR of per-column comparisons would be a filter read row by row). SQLite has had row
    values since 3.15."""

    output_field = BooleanField()

    def __init__(self, columns: list, values: list):
        super().__init__(*columns, *[Value(v) for v in values])
        self.width = len(columns)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            parts.append(sql)
            params.extend(p)
        left, right = ", ".join(parts[: self.width]), ", ".join(parts[self.width :])
        return f"({left}) > ({right})", params


def _encode_keys(values: list) -> str:
    raw = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_keys(qs: QuerySet, keys: tuple[str, ...], cursor: str) -> list | None:
    """The cursor's values converted to the columns' types, or None (start over) for anything
    malformed or hand-edited."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    out = []
    for key, value in zip(keys, values, strict=True):
        if not isinstance(value, str | int) or isinstance(value, bool):
            return None
        if isinstance(value, int) and abs(value) >= 2**63:
            return None
        try:
            value = qs.model._meta.get_field(key).to_python(value)
        except (ValidationError, TypeError, ValueError):
            return None
        if value is None:
            return None
        out.append(value)
    return out


def keyset_page_by(qs: QuerySet, *, keys: tuple[str, ...], cursor: str, size: int) -> KeysetPage:
    """One page of `qs` ordered by `keys` ascending (text in byte order), after `cursor`.

    The last key must be unique (the primary key). Made for an index on exactly these
    columns: the first page and every later one are one index range read of `size` + 1
    entries, at any depth.
    """
    columns = [byte_order(qs, key) for key in keys]
    position = _decode_keys(qs, keys, cursor) if cursor else None
    # The keys are also selected under their own names, so that the cursor can be read from
    # the last row whether the rows are model objects or the dicts of a values() list that
    # does not show every key.
    aliases = [f"keyset_{i}" for i in range(len(keys))]
    qs = qs.annotate(**{alias: F(key) for alias, key in zip(aliases, keys, strict=True)}).order_by(*columns)
    if position is not None:
        qs = qs.filter(RowAfter(columns, position))
    rows = list(qs[: size + 1])
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode_keys([last[a] if isinstance(last, dict) else getattr(last, a) for a in aliases])
    return KeysetPage(rows=rows, next_cursor=next_cursor)
