"""The members API for the five actors: owner, in-scope clerk, outsider, worker, anonymous.

The subject is a member of a Pudong grassroots union: the owner and the Pudong clerk see
it, the Huangpu clerk never finds it (404 on detail, absent from lists, search, export),
a worker and anonymous get nothing from staff endpoints.
"""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework import serializers as drf_serializers

from activity.models import AuditEvent
from core import crypto
from members import services
from members.models import ImportJob, JoinApplication, Member, Membership, Transfer
from tests.conftest import client_for
from tests.factories import make_id_number, make_member, make_mobile, nth_name

ACTORS = ["owner", "clerk", "outsider", "worker", "anonymous"]
ANON = "401/403"
READ = {"owner": 200, "clerk": 200, "outsider": 404, "worker": 403, "anonymous": ANON}
LIST = {"owner": 200, "clerk": 200, "outsider": 200, "worker": 403, "anonymous": ANON}


def as_actor(request, actor):
    return client_for(None if actor == "anonymous" else request.getfixturevalue(actor))


def check(resp, expected):
    if expected == ANON:
        assert resp.status_code in (401, 403), resp.content
    else:
        assert resp.status_code == expected, resp.content
    if resp.status_code >= 400:
        body = resp.json()
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]
        return body if expected != ANON and expected >= 400 and expected not in (403, 404) else None
    if getattr(resp, "streaming", False) or not resp.get("Content-Type", "").startswith("application/json"):
        return None
    return resp.json() if resp.content else None


@pytest.fixture
def pd_member(tree, owner):
    idn = make_id_number(region="310115")
    ms = make_member(tree["pd_union"], actor=owner, name="浦东会员", id_number=idn, mobile="13811112222")
    ms.member.plain_id = idn
    return ms.member


@pytest.fixture
def hp_member(tree, owner):
    return make_member(tree["hp_union"], actor=owner, name="黄浦会员").member


@pytest.mark.parametrize("actor", ACTORS)
def test_member_list_is_scoped(request, actor, pd_member, hp_member):
    body = check(as_actor(request, actor).get(reverse("api:member-list")), LIST[actor])
    if body:
        names = {r["name"] for r in body["results"]}
        assert ("浦东会员" in names) == (actor in ("owner", "clerk"))
        assert ("黄浦会员" in names) == (actor in ("owner", "outsider"))
        row = next((r for r in body["results"] if r["name"] == "浦东会员"), None)
        if row:
            assert row["id_masked"] == crypto.mask_id(pd_member.plain_id) and row["mobile_masked"] == "138****2222"
            assert pd_member.plain_id not in str(body)


@pytest.mark.parametrize("actor", ACTORS)
def test_member_detail(request, actor, pd_member):
    body = check(as_actor(request, actor).get(reverse("api:member-detail", args=[pd_member.pk])), READ[actor])
    if body:
        assert body["membership"]["status"] == "active" and len(body["memberships"]) == 1
        assert pd_member.plain_id not in str(body)


@pytest.mark.parametrize("actor", ACTORS)
def test_search_by_id_number_and_mobile_stays_in_reach(request, actor, pd_member):
    c = as_actor(request, actor)
    for q in (pd_member.plain_id, "13811112222", "浦东", "pdhy"):
        body = check(c.get(reverse("api:member-list"), {"q": q}), LIST[actor])
        if body:
            assert len(body["results"]) == (1 if actor in ("owner", "clerk") else 0), q


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("owner", 200), ("clerk", 403), ("outsider", 404), ("worker", 403), ("anonymous", ANON)],
)
def test_reveal_needs_the_capability_and_is_audited(request, actor, expected, pd_member):
    url = reverse("api:member-reveal", args=[pd_member.pk])
    body = check(as_actor(request, actor).post(url, {"purpose": "核对身份"}, format="json"), expected)
    viewed = AuditEvent.objects.filter(action="member.personal_data_viewed")
    if expected == 200:
        assert body == {"id_number": pd_member.plain_id, "mobile": "13811112222"}
        assert viewed.get().data["purpose"] == "核对身份"
    else:
        assert not viewed.exists()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("owner", 201), ("clerk", 201), ("outsider", 400), ("worker", 403), ("anonymous", ANON)],
)
def test_register(request, actor, expected, tree):
    payload = {
        "union": tree["pd_union"].pk,
        "name": "新会员",
        "id_number": make_id_number(),
        "mobile": make_mobile(),
        "employment_form": "courier",
    }
    body = check(as_actor(request, actor).post(reverse("api:member-list"), payload, format="json"), expected)
    if expected == 201:
        assert body["status"] == "active" and body["union"]["name"] == "浦东测试科技有限公司工会"


def test_register_explains_bad_input(tree, clerk):
    c = client_for(clerk)
    payload = {"union": tree["pd_union"].pk, "name": "甲", "id_number": "310115199001011230", "mobile": "123"}
    body = check(c.post(reverse("api:member-list"), payload, format="json"), 400)
    assert "校验位" in body["error"]["fields"]["id_number"][0]
    payload["id_number"] = make_id_number()
    body = check(c.post(reverse("api:member-list"), payload, format="json"), 400)
    assert "11 位" in body["error"]["fields"]["mobile"][0]


def test_register_of_an_active_member_elsewhere_is_refused_with_the_union(tree, clerk, hp_member, owner):
    idn = crypto.decrypt(hp_member.id_number_enc)
    payload = {"union": tree["pd_union"].pk, "name": "黄浦会员", "id_number": idn, "mobile": make_mobile()}
    body = check(client_for(clerk).post(reverse("api:member-list"), payload, format="json"), 409)
    assert "黄浦测试商贸有限公司工会" in body["error"]["message"]


@pytest.mark.parametrize("actor", ACTORS)
def test_export_is_scoped_masked_and_audited(request, actor, pd_member, hp_member):
    resp = as_actor(request, actor).get(reverse("api:member-export"), {"export_format": "csv", "full": "true"})
    check(resp, LIST[actor])
    if resp.status_code != 200:
        return
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    names = {r[1] for r in rows[1:]}
    assert ("浦东会员" in names) == (actor in ("owner", "clerk"))
    assert ("黄浦会员" in names) == (actor in ("owner", "outsider"))
    # Only the owner's role holds personal_data.full: the clerk's export stays masked.
    assert (pd_member.plain_id in text) == (actor == "owner")
    assert AuditEvent.objects.filter(action="member.exported").count() == 1


def test_export_xlsx(tree, clerk, pd_member):
    import openpyxl

    resp = client_for(clerk).get(reverse("api:member-export"), {"export_format": "xlsx"})
    assert resp.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(resp.streaming_content)))
    values = [c for row in wb.active.iter_rows(values_only=True) for c in row]
    assert "浦东会员" in values and crypto.mask_id(pd_member.plain_id) in values


def test_member_list_query_count_is_flat(tree, owner, django_assert_max_num_queries):
    for i in range(12):
        ms = make_member(tree["pd_union"], actor=owner, name=nth_name("会员", i))
        if i % 3 == 0:
            services.honour_add(actor=owner, member=ms.member, kind="city_model", year=2020)
    c = client_for(owner)
    with django_assert_max_num_queries(4):
        body = check(c.get(reverse("api:member-list"), {"status": "active"}), 200)
    assert len(body["results"]) == 12
    with django_assert_max_num_queries(4):
        body = check(c.get(reverse("api:member-list"), {"honour": "city_model"}), 200)
    assert len(body["results"]) == 4
    with django_assert_max_num_queries(6):
        check(c.get(reverse("api:member-detail", args=[ms.member_id])), 200)
    with django_assert_max_num_queries(4):
        body = check(c.get(reverse("api:member-honour-list")), 200)
    assert len(body["results"]) == 4


def test_member_list_paginates_by_keyset(tree, owner):
    for i in range(5):
        make_member(tree["pd_union"], actor=owner, name=nth_name("会员", i))
    c = client_for(owner)
    first = check(c.get(reverse("api:member-list"), {"page_size": 2}), 200)
    assert len(first["results"]) == 2 and first["next"]
    second = check(c.get(first["next"]), 200)
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_leave_and_retire(tree, clerk, pd_member, outsider):
    check(client_for(outsider).post(reverse("api:member-leave", args=[pd_member.pk]), {}, format="json"), 404)
    body = check(
        client_for(clerk).post(reverse("api:member-retire", args=[pd_member.pk]), {"reason": "到龄"}, format="json"),
        200,
    )
    assert body["status"] == "retired"
    body = check(client_for(clerk).post(reverse("api:member-leave", args=[pd_member.pk]), {}, format="json"), 409)


# --- join --------------------------------------------------------------------------------


def test_scan_to_join_end_to_end(tree, clerk, outsider, api):
    body = check(client_for(clerk).post(reverse("api:member-join-code-list"), {"union": tree["pd_union"].pk}), 201)
    code = body["code"]
    info = check(api.get(reverse("api:member-join", args=[code])), 200)
    assert info["union_name"] == "浦东测试科技有限公司工会"
    idn = make_id_number()
    form = {
        "name": "骑手小王",
        "id_number": idn,
        "mobile": "13612345678",
        "employment_form": "rider",
        "consent": True,
        "password": "Qishou-2024-pw",
    }
    receipt = check(api.post(reverse("api:member-join", args=[code]), form, format="json"), 202)
    assert set(receipt) == {"union_name", "message"}
    app_id = JoinApplication.objects.get(status="pending").pk
    queue = check(client_for(clerk).get(reverse("api:member-join-application-list"), {"status": "pending"}), 200)
    assert [r["id"] for r in queue["results"]] == [app_id] and idn not in str(queue)
    other = check(client_for(outsider).get(reverse("api:member-join-application-list")), 200)
    assert other["results"] == []
    check(client_for(outsider).post(reverse("api:member-join-application-approve", args=[app_id])), 404)
    ms = check(client_for(clerk).post(reverse("api:member-join-application-approve", args=[app_id])), 200)
    assert ms["member_number"].startswith("310115")
    check(client_for(clerk).post(reverse("api:member-join-application-approve", args=[app_id])), 409)
    token = check(
        api.post(reverse("api:api-token"), {"username": "13612345678", "password": "Qishou-2024-pw"}, format="json"),
        200,
    )["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = check(api.get(reverse("api:my-member")), 200)
    assert me["member_number"] == ms["member_number"] and me["union_name"] == "浦东测试科技有限公司工会"
    me = check(api.patch(reverse("api:my-member"), {"mobile": "13612345679"}, format="json"), 200)
    assert me["mobile_masked"] == "136****5679"
    check(api.get(reverse("api:member-list")), 403)


def test_join_refuses_bad_codes_and_bad_input(tree, clerk, api):
    check(api.get(reverse("api:member-join", args=["forged:abc"])), 409)
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    signed = services.join_code_public(code)
    form = {"name": "甲", "id_number": "123", "mobile": "13612345678", "employment_form": "rider", "consent": True}
    body = check(api.post(reverse("api:member-join", args=[signed]), form, format="json"), 400)
    assert "18 位" in body["error"]["fields"]["id_number"][0]
    services.join_code_revoke(actor=clerk, code=code)
    body = check(api.get(reverse("api:member-join", args=[signed])), 409)
    assert "停用" in body["error"]["message"]


@pytest.mark.parametrize("actor", ACTORS)
def test_join_application_queue_for_each_actor(request, actor, tree, clerk):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    app = services.join_application_submit(
        code=services.join_code_public(code),
        name="乙",
        id_number=make_id_number(),
        mobile=make_mobile(),
        employment_form="courier",
        consent=True,
    )
    c = as_actor(request, actor)
    body = check(c.get(reverse("api:member-join-application-list")), LIST[actor])
    if body is not None:
        assert bool(body["results"]) == (actor in ("owner", "clerk"))
    check(c.get(reverse("api:member-join-application-detail", args=[app.pk])), READ[actor])
    reject = {"owner": 200, "clerk": 200, "outsider": 404, "worker": 403, "anonymous": ANON}[actor]
    check(c.post(reverse("api:member-join-application-reject", args=[app.pk]), {"reason": "重复"}), reject)
    app.refresh_from_db()
    assert (app.status == JoinApplication.Status.REJECTED) == (reject == 200)


# --- transfers and honours ---------------------------------------------------------------


def test_transfer_through_the_api(tree, clerk, outsider, pd_member):
    c_from, c_to = client_for(clerk), client_for(outsider)
    body = check(
        c_from.post(
            reverse("api:member-transfer-list"),
            {"member": pd_member.pk, "to_union": tree["hp_union"].pk, "reason": "换工作"},
            format="json",
        ),
        201,
    )
    tid = body["id"]
    assert check(c_to.get(reverse("api:member-transfer-list"), {"direction": "in"}), 200)["results"][0]["id"] == tid
    check(c_to.get(reverse("api:member-detail", args=[pd_member.pk])), 404)
    check(c_from.post(reverse("api:member-transfer-accept", args=[tid]), {}, format="json"), 404)
    body = check(c_to.post(reverse("api:member-transfer-accept", args=[tid]), {}, format="json"), 200)
    assert body["status"] == "accepted" and len(body["history"]) == 2
    check(c_from.get(reverse("api:member-detail", args=[pd_member.pk])), 404)
    assert not check(c_from.get(reverse("api:member-list")), 200)["results"]
    assert check(c_to.get(reverse("api:member-detail", args=[pd_member.pk])), 200)["membership"]["status"] == "active"
    # The old union still sees the transfer itself (history), not the member.
    assert check(c_from.get(reverse("api:member-transfer-detail", args=[tid])), 200)["status"] == "accepted"


def test_receiving_union_requests_by_id_number(tree, outsider, pd_member):
    body = check(
        client_for(outsider).post(
            reverse("api:member-transfer-list"),
            {"id_number": pd_member.plain_id, "to_union": tree["hp_union"].pk},
            format="json",
        ),
        202,
    )
    assert set(body) == {"detail"}  # the same answer for any number (tests/members/test_transfer_pull_in.py)
    t = Transfer.objects.get()
    assert t.member == pd_member and t.requested_side == "to" and t.status == "awaiting"


def test_transfer_request_by_a_stranger_is_404(tree, outsider, pd_member):
    check(
        client_for(outsider).post(
            reverse("api:member-transfer-list"),
            {"id_number": pd_member.plain_id, "to_union": tree["pd_union"].pk},
            format="json",
        ),
        404,
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("owner", 201), ("clerk", 201), ("outsider", 400), ("worker", 403), ("anonymous", ANON)],
)
def test_honours(request, actor, expected, pd_member):
    c = as_actor(request, actor)
    check(
        c.post(
            reverse("api:member-honour-list"),
            {"member": pd_member.pk, "kind": "national_may_day", "year": 2021},
            format="json",
        ),
        expected,
    )
    body = check(c.get(reverse("api:member-honour-list"), {"kind": "national_may_day"}), LIST[actor])
    if body is not None:
        assert len(body["results"]) == (1 if expected == 201 else 0)


# --- imports -----------------------------------------------------------------------------


def _roster(rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["姓名", "身份证号码", "手机号码"])
    w.writerows(rows)
    return io.BytesIO(("\ufeff" + buf.getvalue()).encode("utf-8"))


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("owner", 201), ("clerk", 201), ("outsider", 400), ("worker", 403), ("anonymous", ANON)],
)
def test_import_upload_status_and_files(
    request, actor, expected, tree, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    good = make_id_number()
    f = _roster([["王一", good, make_mobile()], ["李二", "310115199001011230", make_mobile()]])
    f.name = "名册.csv"
    c = as_actor(request, actor)
    with django_capture_on_commit_callbacks(execute=True):
        resp = c.post(
            reverse("api:member-import-list"),
            {"union": tree["pd_union"].pk, "mode": "valid_only", "file": f},
            format="multipart",
        )
    body = check(resp, expected)
    if expected != 201:
        assert not ImportJob.objects.exists() and not Member.objects.exists()
        return
    job = check(c.get(reverse("api:member-import-detail", args=[body["id"]])), 200)
    assert job["status"] == "succeeded" and job["created_count"] == 1 and job["error_count"] == 1
    report = c.get(reverse("api:member-import-report", args=[body["id"]]))
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert good not in text and crypto.mask_id(good) in text
    errors = c.get(reverse("api:member-import-errors", args=[body["id"]]))
    assert errors.status_code == 200
    check(
        client_for(request.getfixturevalue("outsider")).get(reverse("api:member-import-detail", args=[body["id"]])), 404
    )


def test_import_upload_of_a_non_spreadsheet_is_a_clear_400(tree, clerk, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    f = io.BytesIO(b"%PDF-1.4")
    f.name = "roster.pdf"
    body = check(
        client_for(clerk).post(
            reverse("api:member-import-list"),
            {"union": tree["pd_union"].pk, "mode": "valid_only", "file": f},
            format="multipart",
        ),
        400,
    )
    assert ".xlsx" in body["error"]["message"]


def test_import_job_that_fails_whole_reports_why(tree, clerk, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = str(tmp_path)
    f = io.BytesIO(("\ufeff姓名,身份证,工资\n甲,1,2\n").encode())
    f.name = "bad.csv"
    c = client_for(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        body = check(
            c.post(
                reverse("api:member-import-list"),
                {"union": tree["pd_union"].pk, "mode": "all_or_nothing", "file": f},
                format="multipart",
            ),
            201,
        )
    job = check(c.get(reverse("api:member-import-detail", args=[body["id"]])), 200)
    assert job["status"] == "failed" and "工资" in job["message"]


def test_import_template_download(clerk):
    resp = client_for(clerk).get(reverse("api:member-import-template"), {"export_format": "csv"})
    assert resp.status_code == 200 and "身份证号码" in resp.content.decode("utf-8-sig")
    resp = client_for(clerk).get(reverse("api:member-import-template"))
    assert resp.status_code == 200 and resp.content[:2] == b"PK"


def test_member_without_membership_data_never_leaks_to_worker(tree, worker, pd_member):
    check(client_for(worker).get(reverse("api:my-member")), 404)
    assert Membership.objects.count() == 1


def test_queue_transfer_and_import_lists_have_flat_query_counts(
    tree, clerk, owner, outsider, django_assert_max_num_queries
):
    code = services.join_code_create(actor=clerk, union=tree["pd_union"])
    for _i in range(6):
        services.join_application_submit(
            code=services.join_code_public(code),
            name="申请人",
            id_number=make_id_number(),
            mobile=make_mobile(),
            employment_form="courier",
            consent=True,
        )
        ms = make_member(tree["pd_union"], actor=owner)
        services.transfer_request(actor=clerk, member=ms.member, to_union=tree["hp_union"])
        ImportJob.objects.create(
            union=tree["pd_union"],
            org_path=tree["pd_union"].path,
            created_by=clerk,
            file_name="x.csv",
            file_format="csv",
        )
    c = client_for(clerk)
    for name in ("api:member-join-application-list", "api:member-transfer-list", "api:member-import-list"):
        with django_assert_max_num_queries(4):
            body = check(c.get(reverse(name)), 200)
        assert len(body["results"]) == 6, name
    with django_assert_max_num_queries(4):
        body = check(client_for(outsider).get(reverse("api:member-transfer-list"), {"direction": "in"}), 200)
    assert len(body["results"]) == 6


def _declared(serializer, instance) -> dict:
    """DRF's own rendering of a serializer's declared fields (what Serializer.to_representation does)."""
    out = {}
    for field in serializer._readable_fields:
        value = field.get_attribute(instance)
        if value is None:
            out[field.field_name] = None
        elif isinstance(field, drf_serializers.BaseSerializer):
            out[field.field_name] = _declared(field, value)
        else:
            out[field.field_name] = field.to_representation(value)
    return out


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_member_list_rows_say_what_the_declared_fields_say(tree, owner, clerk, language):
    """The list builds its rows directly from values() rows; they must match the declared fields."""
    from django.utils import translation
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from members import selectors
    from members.api import MemberOutputSerializer

    active = make_member(tree["pd_union"], actor=owner, name="在册会员", employer_name="浦东某厂").member
    retired = make_member(tree["pd_union"], actor=owner, name="退休会员", employment_form="flexible")
    services.membership_retire(actor=owner, membership=retired, reason="到龄")
    request = Request(APIRequestFactory().get("/"))
    request.user = clerk
    with translation.override(language):
        serializer = MemberOutputSerializer(context={"request": request})
        rows = {row["id"]: row for row in selectors.member_list_rows(clerk)}
        members = list(selectors.members_for_user(clerk))
        assert {m.pk for m in members} == set(rows) >= {active.pk, retired.member_id}
        for member in members:
            declared = _declared(serializer, member)
            assert serializer.to_representation(rows[member.pk]) == declared
            assert serializer.to_representation(member) == declared
        statuses = {r["membership"]["status_label"] for r in (serializer.to_representation(v) for v in rows.values())}
    assert statuses == ({"Current", "Retired"} if language == "en" else {"在册", "已退休"})


def test_a_list_request_without_filters_skips_the_filterset_and_one_with_filters_uses_it(tree, owner):
    for i in range(3):
        make_member(tree["pd_union"], actor=owner, name=nth_name("筛选", i))
    make_member(tree["hp_union"], actor=owner, name="黄浦筛选")
    c = client_for(owner)
    everyone = check(c.get(reverse("api:member-list"), {"page_size": 10}), 200)
    assert len(everyone["results"]) == 4
    narrowed = check(c.get(reverse("api:member-list"), {"page_size": 10, "under": tree["pudong"].pk}), 200)
    assert {r["name"] for r in narrowed["results"]} == {"筛选甲", "筛选乙", "筛选丙"}
    body = check(c.get(reverse("api:member-list"), {"under": "not-a-number"}), 400)
    assert "under" in body["error"]["fields"]


def test_list_pages_found_by_ids_first_walk_the_whole_subtree_in_order(tree, owner, django_assert_max_num_queries):
    """The member list reads a page's ids, then only those rows: every member once, newest first."""
    expected = [make_member(tree["pd_union"], actor=owner, name=nth_name("分页", i)).member_id for i in range(7)]
    make_member(tree["hp_union"], actor=owner, name="黄浦不在其中")
    c = client_for(owner)
    seen, url, params = [], reverse("api:member-list"), {"page_size": 3, "under": tree["pudong"].pk}
    while url:
        with django_assert_max_num_queries(5):
            body = check(c.get(url, params), 200)
        seen += [r["id"] for r in body["results"]]
        assert all(r["name"].startswith("分页") and r["membership"]["union"] for r in body["results"])
        url, params = body["next"], None
    assert seen == sorted(expected, reverse=True)
