"""Token authentication that reads the user's role assignments in the same query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from core.scoping import reach_paths, role_assignments
from organizations.authentication import TokenWithRolesAuthentication
from organizations.models import Organization, RoleAssignment
from organizations.selectors import role_assignments_of

pytestmark = pytest.mark.django_db

ORGS_URL = "/api/v1/organizations/"


def _token_client(user) -> tuple[APIClient, str]:
    key = Token.objects.create(user=user).key
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c, key


def test_it_reads_the_user_and_the_same_pairs_as_the_scoping_rules_source_in_one_query(tree, clerk):
    RoleAssignment.objects.create(user=clerk, organization=tree["nanjing"], role="auditor")
    RoleAssignment.objects.create(user=clerk, organization=tree["lujiazui"], role="aid_officer")
    gone = tree["hp_union"]
    RoleAssignment.objects.create(user=clerk, organization=gone, role="federation_admin")
    Organization.objects.filter(pk=gone.pk).update(status=Organization.Status.DISSOLVED)
    key = Token.objects.create(user=clerk).key

    with CaptureQueriesContext(connection) as ctx:
        user, token = TokenWithRolesAuthentication().authenticate_credentials(key)
        pairs = sorted(role_assignments(user))
        reach = reach_paths(user)
    assert len(ctx.captured_queries) == 1
    assert pairs == sorted(role_assignments_of(clerk))
    assert (gone.path, "federation_admin") not in pairs and len(pairs) == 3
    assert reach == (tree["pudong"].path, tree["nanjing"].path)
    assert user.pk == clerk.pk and token.key == key and token.user is user
    fresh = type(clerk).objects.get(pk=clerk.pk)
    for field in type(clerk)._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(fresh, field.attname), field.name
    assert token.created == Token.objects.get(key=key).created


def test_it_authenticates_a_user_without_roles_with_an_empty_reach(worker):
    key = Token.objects.create(user=worker).key
    user, _token = TokenWithRolesAuthentication().authenticate_credentials(key)
    assert user.pk == worker.pk and role_assignments(user) == [] and reach_paths(user) == ()


def test_it_refuses_an_unknown_token_and_an_inactive_user(tree, clerk):
    with pytest.raises(AuthenticationFailed):
        TokenWithRolesAuthentication().authenticate_credentials("0" * 40)
    key = Token.objects.create(user=clerk).key
    clerk.is_active = False
    clerk.save(update_fields=["is_active"])
    with pytest.raises(AuthenticationFailed):
        TokenWithRolesAuthentication().authenticate_credentials(key)


def test_it_takes_a_revoked_token_and_a_removed_role_into_account_on_the_next_request(tree, clerk):
    c, key = _token_client(clerk)
    assert c.get(ORGS_URL).status_code == 200
    RoleAssignment.objects.filter(user=clerk).delete()
    assert c.get(ORGS_URL).status_code == 403  # no staff reach left: nothing was cached
    RoleAssignment.objects.create(user=clerk, organization=tree["pudong"], role="clerk")
    assert c.get(ORGS_URL).status_code == 200
    Token.objects.filter(key=key).delete()
    refused = c.get(ORGS_URL)
    # 403 rather than 401: the session authenticator comes first and sends no challenge.
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "authentication_failed"
