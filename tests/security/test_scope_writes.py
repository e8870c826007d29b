"""Write routes in the scope-leak harness: every POST/PUT/PATCH/DELETE of the API (from the
OpenAPI schema) and every staff page (from the URL resolver), sent by the 黄浦 clerk
against 浦东's marked objects, answers 404 — or, for a route that takes no object, a
refusal — and changes nothing in the database.

Bodies are made valid-looking from the schema (or from common form field names) so that a
refusal comes from the scope, not from a missing field: ids in the body point at 浦东.
"""

import hashlib

import pytest
from django.apps import apps
from django.db import connection
from drf_spectacular.generators import SchemaGenerator

from core.scoping import ScopedQuerySet

from .test_scope_leaks import PUBLIC_PREFIXES, _clients, _expand, _page_paths

# The walks only read or are refused, and each test runs in its own savepoint: the fixtures
# tree, owner and sides come from one world built for the module instead of once per test.
from .world import PD_MARK, module_owner, module_sides, module_tree, module_world, plain_not_found  # noqa: F401

WRITE_METHODS = ("post", "put", "patch", "delete")
# Self-service, sign-in and language routes act on the signed-in person, not on staff objects.
# /operations/: superusers only, any other user is refused with 403 before an object is looked
# up (tests/reports/test_operations.py); the outsider here is a staff user, not a superuser.
NOT_STAFF_WRITES = ("/me/", "/accounts/", "/i18n/", "/operations/")
# Object-less inbox routes act on the caller's own inbox (mark all read, their channels);
# the routes naming a message ({id}/{pk}) stay in the walk: another's message is a 404.
OWN_INBOX_WRITES = ("/api/v1/notifications/read-all/", "/notifications/read-all/", "/notifications/preferences/")
SNAPSHOT_APPS = ("organizations", "members", "activity", "reports", "core", "projects", "disputes", "assistance")


def snapshot() -> dict[str, str]:
    """{table: digest of every row, in key order}: row counts and every updated value."""
    out = {}
    for config in SNAPSHOT_APPS:
        try:
            models = apps.get_app_config(config).get_models()
        except LookupError:
            continue
        for model in models:
            rows = list(model._base_manager.order_by("pk").values_list())
            out[model._meta.db_table] = f"{len(rows)}:" + hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _changed(before, after):
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


def _rows_written() -> int | None:
    """Rows inserted, updated or deleted on this connection so far, in any table (None: unknown).

    A request after which this number has not moved wrote nothing, so the snapshot (a
    digest of every row, ~100 queries) is taken only after a request that wrote something
    (a session, a refused write rolled back to its savepoint): the check stays exact, and
    the ~300 requests of a walk that write nothing cost one query each.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        elif connection.vendor == "postgresql" and connection.in_atomic_block:
            # Counts of the current transaction (the test's), every table and partition.
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        else:
            return None
        return int(cursor.fetchone()[0])


class _Unchanged:
    """Asserts after each request that no row changed since `before`, snapshotting only when rows were written."""

    def __init__(self, before):
        self.before = before
        self.written = _rows_written()
        self.snapshots = 0

    def check(self, *context):
        written = _rows_written()
        if written is not None and written == self.written:
            return
        self.written = written
        self.snapshots += 1
        after = snapshot()
        assert _changed(self.before, after) == [], (*context, _changed(self.before, after))


def _target_ids(sides, tree) -> list[int]:
    """Ids of 浦东's marked objects that are the id of no row the outsider may act on, in any scoped model.

    Chosen from the world's data alone, never by asking the scoping rule under test: a rule
    that wrongly lets the 黄浦 clerk reach some of 浦东's objects must not also take those
    objects out of the walk (it would then pass on the ids left). Ids are per table, so an
    id of 浦东's may also be the id of 黄浦's row in another table (浦东's enterprise and 黄浦's
    officer are both 1 or 2): such an id is left out, as a route on that table would rightly
    answer the outsider. Which rows are 黄浦's is read from each model's declared tree path
    (`scope_path_field`), not from for_user; for the models whose for_user adds rows from
    elsewhere (projects implemented or published elsewhere, transfers' two ends), every row
    that is not one of 浦东's marked objects counts as the outsider's.
    """
    pd_ids = {o.pk for o in sides["pd"] if isinstance(o.pk, int)}
    pd_rows = {(type(o), o.pk) for o in sides["pd"]}
    hp_path = tree["huangpu"].path
    theirs = set()
    for model in apps.get_models():
        # The audit log is written by no route (only as a side effect, which the snapshot sees).
        if model._meta.label == "activity.AuditEvent" or not hasattr(model._default_manager, "for_user"):
            continue
        qs = model._default_manager.all()
        owner_cls = next(k for k in type(qs).__mro__ if "for_user" in vars(k))
        if owner_cls is ScopedQuerySet:
            theirs |= set(qs.filter(**{f"{qs._path_field()}__startswith": hp_path}).values_list("pk", flat=True))
        else:
            theirs |= {pk for pk in qs.values_list("pk", flat=True) if (model, pk) not in pd_rows}
    return sorted(pd_ids - theirs)


def _pd_ref(sides, name: str):
    """An id for a body field named `name`: the 浦东 object of that kind, else 浦东's marked union."""
    key = name.replace("_id", "").replace("_", "")
    for obj in sides["pd"]:
        if type(obj).__name__.lower() == key:
            return obj.pk
    return next(o.pk for o in sides["pd"] if PD_MARK in getattr(o, "name", "") and hasattr(o, "path"))


def _value(prop: dict, name: str, sides, components):
    if "$ref" in prop:
        prop = components[prop["$ref"].split("/")[-1]]
    if "allOf" in prop:
        return _value(prop["allOf"][0], name, sides, components)
    if "oneOf" in prop:
        return _value(prop["oneOf"][0], name, sides, components)
    if "enum" in prop:
        return next(v for v in prop["enum"] if v not in ("", None))
    kind, fmt = prop.get("type"), prop.get("format", "")
    if kind == "integer":
        return _pd_ref(sides, name)
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if fmt == "date":
        return "2025-06-01"
    if fmt == "binary":
        return None
    return "测试"


def _api_body(operation: dict, sides, components) -> tuple[dict, str]:
    """A body for the operation, and its format (json, or multipart for an upload)."""
    content = (operation.get("requestBody") or {}).get("content", {})
    fmt = "json" if "application/json" in content or not content else "multipart"
    schema = content.get("application/json" if fmt == "json" else "multipart/form-data", {}).get("schema")
    if not schema:
        return {}, fmt
    if "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    body = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        value = _value(prop, name, sides, components)
        if value is None and fmt == "multipart":
            from django.core.files.uploadedfile import SimpleUploadedFile

            value = SimpleUploadedFile("roster.csv", "姓名,身份证号码\n测试,110101199003070018\n".encode(), "text/csv")
        if value is not None:
            body[name] = value
    return body, fmt


def _api_write_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})
    for path, ops in sorted(schema["paths"].items()):
        if path.startswith(PUBLIC_PREFIXES) or path.startswith("/api/v1/me/") or path in OWN_INBOX_WRITES:
            continue
        for method in WRITE_METHODS:
            if method in ops:
                yield path, method, ops[method], components


def _page_body(sides) -> dict:
    """Common form field names of the staff pages, each pointing at a 浦东 object."""
    union = _pd_ref(sides, "union")
    member = _pd_ref(sides, "member")
    return {
        **{name: union for name in ("union", "to_union", "parent", "new_parent", "into", "organization", "supervisor")},
        "member": member,
        "id_number": "110101199003070018",
        "name": f"{PD_MARK}改名",
        "short_name": "改",
        "kind": "grassroots",
        "reason": "测试",
        "note": "测试",
        "purpose": "核对身份",
        "on": "2025-06-01",
        "action": "leave",
        "label": "测试",
        "year": "2025",
        "position": "chair",
        "term_start": "2024-01-01",
        "election": "direct",
        "address": "测试路1号",
        "employees": "10",
        "credit_code": "91310115MA1K000000",
    }


@pytest.fixture
def outsider_clients(outsider, sides):
    return _clients({"outsider": outsider})["outsider"]


def _break_the_rule(monkeypatch, app_label=None):
    """Break the scoping rule on purpose, for the self-tests.

    Without `app_label`: the `view` reach forgets the assignments' paths (any staff user
    reaches the whole city). With it: only the `view` reads of that app's scoped models
    forget the reach, and nothing else changes. The 黄浦 clerk then finds
    浦东's objects and is refused with 403 instead of 404, or acts on them.
    """
    from core import roles, scoping

    if app_label is None:
        real = scoping.reach_paths

        def broken(user, capability=roles.VIEW):
            if capability == roles.VIEW and real(user, capability):
                return scoping.EVERYTHING
            return real(user, capability)

        monkeypatch.setattr(scoping, "reach_paths", broken)
        return
    real_for_user = ScopedQuerySet.for_user

    def widened(self, user, capability=roles.VIEW):
        if capability == roles.VIEW and self.model._meta.app_label == app_label and scoping.is_staff_user(user):
            return self.all()
        return real_for_user(self, user, capability)

    monkeypatch.setattr(ScopedQuerySet, "for_user", widened)


def check_api_writes(sides, tree, api) -> tuple[int, int]:
    """The API half of the harness; returns (object routes refused, body routes refused)."""
    ids = _target_ids(sides, tree)
    # Small ids are taken by 黄浦's rows in many tables (inbox, summaries…): two ids of 浦东's
    # per route are enough to prove a refusal.
    assert len(ids) >= 2, ids
    unchanged = _Unchanged(snapshot())
    by_object, by_body = 0, 0
    for template, method, operation, components in _api_write_operations():
        body, fmt = _api_body(operation, sides, components)
        urls = _expand(template, ids) if "{" in template else [template]
        for url in urls:
            response = getattr(api, method)(url, body, format=fmt)
            if "{" in template:
                assert response.status_code == 404, (method, url, body, response.status_code, response.content[:200])
                by_object += 1
            else:
                assert response.status_code in (400, 403, 404), (method, url, body, response.status_code)
                by_body += 1
            unchanged.check(method, url, body)
    return by_object, by_body


def test_the_outsider_can_write_nothing_of_the_other_subtree_through_the_api(sides, tree, outsider_clients):
    by_object, by_body = check_api_writes(sides, tree, outsider_clients[0])
    assert by_object >= 20 and by_body >= 8, (by_object, by_body)


def test_the_write_harness_catches_a_write_outside_the_reach(sides, tree, outsider_clients, monkeypatch):
    """Break the scoping rule on purpose in one capability: the `view` reach forgets the
    assignments' paths (any staff user reaches the whole city). The 黄浦 clerk then finds
    浦东's objects and is refused with 403 instead of 404, or acts on them: the same walk,
    at the same ids, must fail."""
    ids = _target_ids(sides, tree)
    _break_the_rule(monkeypatch)
    assert _target_ids(sides, tree) == ids  # the walk aims where it did: the rule does not choose
    with pytest.raises(AssertionError) as failed:
        check_api_writes(sides, tree, outsider_clients[0])
    # It fails on a route answering the outsider with something other than 404 (or changing a row).
    assert "/api/v1/" in str(failed.value)


def check_page_writes(sides, tree, page) -> int:
    """The page half of the harness; returns the number of object routes refused with 404."""
    ids = _target_ids(sides, tree)
    # As for the API: a walk over ids of nothing would pass on 404s alone.
    assert len(ids) >= 2, ids
    data = _page_body(sides)
    unchanged = _Unchanged(snapshot())
    refused = 0
    for template in _page_paths():
        if template.startswith(PUBLIC_PREFIXES) or template.startswith(NOT_STAFF_WRITES):
            continue
        if template in OWN_INBOX_WRITES:
            continue
        urls = _expand(template, ids) if "{" in template else [template]
        for url in urls:
            response = page.post(url, data)
            assert response.status_code < 500, (url, response.status_code)
            if "{" in template:
                # 405: a read-only page (no form); every form on an object answers 404.
                assert response.status_code in (404, 405), (url, response.status_code)
                refused += response.status_code == 404
            unchanged.check(url)
    return refused


@pytest.mark.usefixtures("plain_not_found")
def test_the_outsider_can_write_nothing_of_the_other_subtree_on_staff_pages(sides, tree, outsider_clients):
    refused = check_page_writes(sides, tree, outsider_clients[1])
    assert refused >= 30, refused


@pytest.mark.usefixtures("plain_not_found")
@pytest.mark.parametrize(
    "app_label, prefix",
    [(None, "/"), ("assistance", "/aid/")],
    ids=["view-reach-everywhere", "assistance-reads-only"],
)
def test_the_page_write_harness_catches_a_write_outside_the_reach(
    sides, tree, outsider_clients, monkeypatch, app_label, prefix
):
    """The API self-test above, for the pages: with the rule broken the same page walk must
    fail — also when only one app's reads are broken, which leaves the rest of the walk
    answering 404 as it should."""
    ids = _target_ids(sides, tree)
    _break_the_rule(monkeypatch, app_label)
    assert _target_ids(sides, tree) == ids
    with pytest.raises(AssertionError) as failed:
        check_page_writes(sides, tree, outsider_clients[1])
    # A form on a 浦东 object answers the outsider with something other than 404 (or changes a row).
    assert str(failed.value).startswith(f"('{prefix}"), failed.value


@pytest.mark.django_db
def test_the_snapshot_sees_an_update(sides, owner):
    from organizations import services

    before = snapshot()
    services.organization_update(actor=owner, organization=sides["pd"][1], short_name="改")
    assert "organizations_organization" in _changed(before, snapshot())


@pytest.mark.django_db
def test_the_walk_sees_a_write_between_two_requests(sides, owner):
    """The per-request check skips the snapshot only when no row was written: a write is seen."""
    from organizations import services

    unchanged = _Unchanged(snapshot())
    unchanged.check("nothing written yet")
    services.organization_update(actor=owner, organization=sides["pd"][1], short_name="改")
    with pytest.raises(AssertionError, match="organizations_organization"):
        unchanged.check("after an update")
