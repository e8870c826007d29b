"""Fuzzing: every operation of the OpenAPI schema, generated inputs, answered without a 5xx
and within the schema.

The schema is the one drf-spectacular serves, so a new endpoint is fuzzed the day it is
added. Requests go in-process through Django's WSGI handler (the whole middleware stack)
as the city owner with a token, on a database populated with both sibling subtrees.
Path ids are drawn from real objects half of the time, so PATCH, move, merge and dissolve
reach their services rather than stopping at a 404.

Bounded: a fixed number of derandomised examples per operation (valid and invalid input),
so a run is repeatable and takes well under a minute.
"""

from __future__ import annotations

import traceback

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.world import populated_world

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _load_schema():
    raw = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = WSGIHandler()
    return schema


SCHEMA = _load_schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def wsgi_in_test_transaction():
    """Serve requests on the test's own connection, as Django's test client does.

    The WSGI handler closes "old" connections at each request's start and end, which
    inside the test's transaction would throw that transaction away.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors():
    """Tracebacks of exceptions the views raised, to show next to a 5xx."""
    seen: list[str] = []

    def record(sender, request=None, **kwargs):
        seen.append(f"{request.method} {request.get_full_path()}\n{traceback.format_exc()}")

    got_request_exception.connect(record, weak=False)
    yield seen
    got_request_exception.disconnect(record)


def _real_ids(sides, tree) -> list[int]:
    ids = {o.pk for objects in sides.values() for o in objects if isinstance(o.pk, int)}
    ids |= {org.pk for org in tree.values()}
    return sorted(ids)


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker):
    """(tree, owner, sides): both sibling subtrees populated once for all the operations
    (rolled back when the class is done; each operation in a savepoint of it)."""
    with populated_world(django_db_blocker) as world:
        yield world


class TestGeneratedInput:
    @pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
    def test_it_answers_generated_input_without_5xx_and_within_the_schema(
        self, operation, world, db, wsgi_in_test_transaction, server_errors
    ):
        tree, owner, sides = world
        token = Token.objects.create(user=owner).key
        real_ids = _real_ids(sides, tree)
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            database=None,
            deadline=None,
            # The database fixtures are shared by the examples on purpose: later examples
            # meet the objects earlier ones created, as a real client would.
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        @given(case=cases, real_id=st.one_of(st.none(), st.sampled_from(real_ids)))
        def fuzz(case, real_id):
            if real_id is not None and case.path_parameters:
                for name in case.path_parameters:
                    if name == "id":
                        case.path_parameters[name] = real_id
            server_errors.clear()
            try:
                case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
            except Exception as exc:
                if server_errors:
                    raise AssertionError("\n\n".join(server_errors)) from exc
                raise

        fuzz()


def test_it_fuzzes_every_operation_the_api_publishes():
    labels = {op.label for op in OPERATIONS}
    assert "GET /api/v1/organizations/" in labels
    assert "POST /api/v1/auth/token/" in labels
    assert len(labels) >= 20


@pytest.mark.parametrize("who", ["owner", "clerk", "outsider", "worker", "anonymous"])
@pytest.mark.parametrize(
    ("method", "url"),
    [("get", "/api/v1/organizations/1.5/"), ("post", "/api/v1/organizations/1.5/move/"), ("get", "/api/v2/")],
)
def test_it_answers_an_unknown_api_address_with_a_json_404(who, method, url, request):
    from tests.conftest import client_for

    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = getattr(client_for(user), method)(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
    assert "编号" in response.json()["error"]["message"]


def test_it_documents_the_errors_every_operation_can_answer():
    raw = SCHEMA.raw_schema
    token = raw["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"400", "415", "429"} <= set(token)
    assert "401" not in token  # signing in needs no credentials
    organizations = raw["paths"]["/api/v1/organizations/"]
    assert {"401", "404"} <= set(organizations["get"]["responses"])  # 404: a malformed cursor
    assert {"401", "415"} <= set(organizations["post"]["responses"])
