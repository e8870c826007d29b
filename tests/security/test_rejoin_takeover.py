"""Re-join must never hand an existing account to a new credential (issue 16, finding 1).

The story: a worker with an account leaves the union. Someone who knows their name and
ID number applies through the public join form with their own mobile and password; a
clerk approves the "returning member". The applicant must not get into the old account;
the owner keeps their password, mobile and API token, and is told on the mobile on
record. Only the owner's proof (they sign in and change it themselves) or a clerk's
in-person check (audited) changes a credential, and every credential change revokes the
account's API tokens and its other sessions.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from activity.models import AuditEvent
from members import services
from members.models import JoinApplication, Member
from tests.conftest import client_for
from tests.factories import make_id_number

OWNER_MOBILE = "13911112222"
OWNER_PASSWORD = "Owner-pass-2024"
THIEF_MOBILE = "13677778888"
THIEF_PASSWORD = "Thief-pass-2024"
NAME = "张真人"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


_capture = None


@pytest.fixture(autouse=True)
def _commits(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def committed():
    """Run the block's on-commit work (the text messages) as a committed request would."""
    return _capture(execute=True)


def _token(username, password):
    return APIClient().post(reverse("api:api-token"), {"username": username, "password": password}, format="json")


def _me(token):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get(reverse("api:my-member"))


def _page_login(username, password) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


@pytest.fixture
def left_owner(tree, clerk):
    """A worker who joined by the join form, holds an API token, and then left the union."""
    idn = make_id_number(region="310115")
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name=NAME,
        id_number=idn,
        mobile=OWNER_MOBILE,
        employment_form="rider",
        consent=True,
        password=OWNER_PASSWORD,
    )
    ms = services.join_application_approve(actor=clerk, application=app)
    token = _token(OWNER_MOBILE, OWNER_PASSWORD).json()["token"]
    services.membership_leave(actor=clerk, membership=ms, reason="离职")
    member = Member.objects.select_related("user").get(pk=ms.member_id)
    return {"id_number": idn, "member": member, "user": member.user, "token": token, "code": code}


def _thief_applies_by_api(code, idn):
    form = {
        "name": NAME,
        "id_number": idn,
        "mobile": THIEF_MOBILE,
        "employment_form": "courier",
        "consent": True,
        "password": THIEF_PASSWORD,
    }
    response = APIClient().post(reverse("api:member-join", args=[services.join_code_public(code)]), form, format="json")
    assert response.status_code == 202, response.content
    return JoinApplication.objects.get(status="pending", mobile_masked="136****8888")


def _thief_applies_by_page(code, idn):
    form = {
        "name": NAME,
        "id_number": idn,
        "mobile": THIEF_MOBILE,
        "employer_name": "某平台",
        "employment_form": "courier",
        "password": THIEF_PASSWORD,
        "password2": THIEF_PASSWORD,
        "consent": "on",
    }
    response = Client().post(reverse("join", args=[services.join_code_public(code)]), form)
    assert response.status_code == 302, response.content.decode()
    return JoinApplication.objects.get(status="pending", mobile_masked="136****8888")


def _approve_by_api(clerk, app):
    with committed():
        response = client_for(clerk).post(reverse("api:member-join-application-approve", args=[app.pk]))
    assert response.status_code == 200, response.content


def _approve_by_page(clerk, app):
    client = Client()
    client.force_login(clerk)
    with committed():
        response = client.post(reverse("member-application-approve", args=[app.pk]))
    assert response.status_code == 302
    assert JoinApplication.objects.get(pk=app.pk).status == "approved"


def _assert_owner_keeps_the_account(left_owner, sms_outbox):
    user = left_owner["user"]
    member = Member.objects.get(pk=left_owner["member"].pk)
    # The applicant's new password opens nothing: not with their mobile, not with the owner's.
    assert authenticate(username=THIEF_MOBILE, password=THIEF_PASSWORD) is None
    assert authenticate(username=OWNER_MOBILE, password=THIEF_PASSWORD) is None
    assert _token(THIEF_MOBILE, THIEF_PASSWORD).status_code == 400
    assert _token(OWNER_MOBILE, THIEF_PASSWORD).status_code == 400
    assert not _page_login(THIEF_MOBILE, THIEF_PASSWORD)
    assert not _page_login(OWNER_MOBILE, THIEF_PASSWORD)
    # The owner's credentials are untouched and still work, token included.
    assert member.mobile_masked == "139****2222"
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) == user
    assert _page_login(OWNER_MOBILE, OWNER_PASSWORD)
    assert _me(left_owner["token"]).status_code == 200
    # The new membership belongs to the same person and account.
    assert member.current_membership.status == "active" and member.user_id == user.pk
    # The owner was told on the mobile on record; the applicant's mobile got a neutral note only.
    to_owner = [m for m in sms_outbox if m.mobile == OWNER_MOBILE]
    assert to_owner and "入会" in to_owner[-1].text
    assert all(OWNER_MOBILE[-4:] not in m.text and "2222" not in m.text for m in sms_outbox)


def test_it_keeps_the_account_when_a_stranger_rejoins_by_api(left_owner, clerk, sms_outbox):
    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    _assert_owner_keeps_the_account(left_owner, sms_outbox)


def test_it_keeps_the_account_when_a_stranger_rejoins_by_page(left_owner, clerk, sms_outbox):
    app = _thief_applies_by_page(left_owner["code"], left_owner["id_number"])
    _approve_by_page(clerk, app)
    _assert_owner_keeps_the_account(left_owner, sms_outbox)


def test_the_applicant_is_told_the_same_whether_new_or_returning(left_owner, tree, clerk, sms_outbox):
    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    to_thief = [m.text for m in sms_outbox if m.mobile == THIEF_MOBILE]
    sms_outbox.clear()
    other = services.join_application_submit(
        code=services.join_code_public(left_owner["code"]),
        name="新申请人",
        id_number=make_id_number(region="310115"),
        mobile="13600001111",
        employment_form="rider",
        consent=True,
        password="Newbie-pass-2024",
    )
    with committed():
        services.join_application_approve(actor=clerk, application=other)
    to_newbie = [m.text for m in sms_outbox if m.mobile == "13600001111"]
    assert to_thief and to_thief == to_newbie


def test_a_clerk_verifying_in_person_changes_the_credentials_and_revokes_the_token(left_owner, clerk, sms_outbox):
    # The owner really did change phones: the clerk checks the ID card in person.
    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    sms_outbox.clear()
    with committed():
        response = client_for(clerk).post(
            reverse("api:member-join-application-verify-identity", args=[app.pk]),
            {"note": "本人持身份证到服务站办理"},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert authenticate(username=THIEF_MOBILE, password=THIEF_PASSWORD) == left_owner["user"]
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) is None
    assert _me(left_owner["token"]).status_code in (401, 403)  # the token is gone
    assert AuditEvent.objects.filter(action="member.identity_verified_in_person").exists()
    assert any(m.mobile == OWNER_MOBILE for m in sms_outbox)  # the old number hears of it too
    # Once only.
    again = client_for(clerk).post(
        reverse("api:member-join-application-verify-identity", args=[app.pk]), {"note": "再次"}, format="json"
    )
    assert again.status_code == 409


def test_in_person_verification_is_for_the_unions_clerk_only(left_owner, clerk, outsider):
    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    url = reverse("api:member-join-application-verify-identity", args=[app.pk])
    assert client_for(outsider).post(url, {"note": "x"}, format="json").status_code == 404
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) == left_owner["user"]


def test_the_page_lets_a_clerk_record_an_in_person_check(left_owner, clerk):
    app = _thief_applies_by_page(left_owner["code"], left_owner["id_number"])
    _approve_by_page(clerk, app)
    client = Client()
    client.force_login(clerk)
    queue = client.get(reverse("member-applications"), {"status": "approved"}).content.decode()
    assert reverse("member-application-verify", args=[app.pk]) in queue
    response = client.post(reverse("member-application-verify", args=[app.pk]), {"note": "核验身份证原件"})
    assert response.status_code == 302
    assert authenticate(username=THIEF_MOBILE, password=THIEF_PASSWORD) == left_owner["user"]


# --- every credential change revokes tokens and other sessions ---------------------------


def test_a_self_service_mobile_change_revokes_tokens_and_other_sessions(left_owner, tree, clerk):
    # Back in the union, signed in on two browsers, with a token.
    services.member_register(
        actor=clerk, union=tree["pd_union"], name=NAME, id_number=left_owner["id_number"], mobile=OWNER_MOBILE
    )
    here, elsewhere = Client(), Client()
    assert here.post(reverse("login"), {"username": OWNER_MOBILE, "password": OWNER_PASSWORD}).status_code == 302
    assert elsewhere.post(reverse("login"), {"username": OWNER_MOBILE, "password": OWNER_PASSWORD}).status_code == 302
    response = here.post(reverse("my-data"), {"mobile": "13922223333", "employer_name": "新单位"})
    assert response.status_code == 302
    assert _me(left_owner["token"]).status_code in (401, 403)  # the token is gone
    assert here.get(reverse("my-data")).status_code == 200  # the session that changed it stays
    assert elsewhere.get(reverse("my-data")).status_code == 302  # the others are signed out


def test_an_admin_password_change_revokes_tokens(left_owner, tree):
    from organizations.models import User

    admin = User.objects.create_superuser("root", password="Root-pass-2024-x")
    client = Client()
    client.force_login(admin)
    user = left_owner["user"]
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    response = client.post(url, {"password1": "Brand-new-pass-2024", "password2": "Brand-new-pass-2024"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _me(left_owner["token"]).status_code in (401, 403)  # the token is gone


def test_a_self_service_password_change_needs_the_old_password_and_revokes_access(left_owner, tree, clerk, sms_outbox):
    services.member_register(
        actor=clerk, union=tree["pd_union"], name=NAME, id_number=left_owner["id_number"], mobile=OWNER_MOBILE
    )
    here, elsewhere = Client(), Client()
    for c in (here, elsewhere):
        assert c.post(reverse("login"), {"username": OWNER_MOBILE, "password": OWNER_PASSWORD}).status_code == 302
    url = reverse("my-password")
    wrong = here.post(
        url, {"old_password": "Not-my-pass-1", "new_password": "Fresh-pass-2025", "new_password2": "Fresh-pass-2025"}
    )
    assert wrong.status_code == 400 and "原密码" in wrong.content.decode()
    assert _me(left_owner["token"]).status_code == 200
    with committed():
        response = here.post(
            url, {"old_password": OWNER_PASSWORD, "new_password": "Fresh-pass-2025", "new_password2": "Fresh-pass-2025"}
        )
    assert response.status_code == 302
    assert authenticate(username=OWNER_MOBILE, password="Fresh-pass-2025") == left_owner["user"]
    assert _me(left_owner["token"]).status_code in (401, 403)
    assert here.get(reverse("my-data")).status_code == 200
    assert elsewhere.get(reverse("my-data")).status_code == 302
    assert [m.mobile for m in sms_outbox] == [OWNER_MOBILE]
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=left_owner["user"]).exists()


@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider", "anonymous"])
def test_the_password_page_is_for_workers_only(client, request, actor):
    if actor != "anonymous":
        client.force_login(request.getfixturevalue(actor))
    response = client.get(reverse("my-password"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("home") if actor != "anonymous" else reverse("login"))


def test_the_password_page_explains_what_is_wrong(client, worker):
    client.force_login(worker)
    assert client.get(reverse("my-password")).status_code == 200
    response = client.post(reverse("my-password"), {"old_password": "", "new_password": "x", "new_password2": "y"})
    html = response.content.decode()
    assert response.status_code == 400 and "原密码" in html


@pytest.mark.parametrize("active", [True, False])
def test_a_roster_import_never_changes_the_login_mobile_of_an_account(left_owner, tree, clerk, active):
    """An import is a clerk's file, not the owner's proof: it keeps an account's sign-in mobile."""
    from members.importer import import_rows

    if active:
        services.member_register(
            actor=clerk, union=tree["pd_union"], name=NAME, id_number=left_owner["id_number"], mobile=OWNER_MOBILE
        )
    import_rows(
        actor=clerk,
        union=tree["pd_union"],
        rows=[{"name": NAME, "id_number": left_owner["id_number"], "mobile": THIEF_MOBILE}],
    )
    member = Member.objects.get(pk=left_owner["member"].pk)
    assert member.mobile_masked == "139****2222"
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) == left_owner["user"]
    assert _me(left_owner["token"]).status_code == 200


def test_an_unchecked_claim_expires_and_its_password_hash_is_dropped(left_owner, clerk, settings):
    import datetime as dt

    from django.utils import timezone

    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    app.refresh_from_db()
    assert app.identity_check == "pending" and app.password_hash
    JoinApplication.objects.filter(pk=app.pk).update(
        reviewed_at=timezone.now() - dt.timedelta(days=settings.JOIN_IDENTITY_CHECK_DAYS + 1)
    )
    services.join_applications_purge_expired()
    app.refresh_from_db()
    assert app.identity_check == "expired" and app.password_hash == ""
    response = client_for(clerk).post(
        reverse("api:member-join-application-verify-identity", args=[app.pk]), {"note": "迟到的核验"}, format="json"
    )
    assert response.status_code == 409
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) == left_owner["user"]


def test_the_owner_sees_a_pending_claim_and_can_refuse_it(left_owner, clerk, outsider):
    app = _thief_applies_by_api(left_owner["code"], left_owner["id_number"])
    _approve_by_api(clerk, app)
    owner = Client()
    assert owner.post(reverse("login"), {"username": OWNER_MOBILE, "password": OWNER_PASSWORD}).status_code == 302
    page = owner.get(reverse("my-data")).content.decode()
    assert "136****8888" in page and reverse("my-claim-refuse", args=[app.pk]) in page
    # Nobody else can refuse it for them.
    stranger = Client()
    stranger.force_login(clerk)
    assert stranger.post(reverse("my-claim-refuse", args=[app.pk])).status_code == 302
    assert JoinApplication.objects.get(pk=app.pk).identity_check == "pending"
    response = owner.post(reverse("my-claim-refuse", args=[app.pk]))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.identity_check == "refused" and app.password_hash == ""
    assert AuditEvent.objects.filter(action="member.identity_claim_refused").exists()
    late = client_for(clerk).post(
        reverse("api:member-join-application-verify-identity", args=[app.pk]), {"note": "柜台核验"}, format="json"
    )
    assert late.status_code == 409
    assert authenticate(username=OWNER_MOBILE, password=OWNER_PASSWORD) == left_owner["user"]
