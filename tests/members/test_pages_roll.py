"""Staff pages of the member roll: list, search, detail, register, reveal, leave/retire,
honours, export — for the owner, the in-scope clerk, the outsider, a worker and anonymous.
"""

import csv
import io
import re

import openpyxl
import pytest
from django.urls import reverse

from activity.models import AuditEvent
from members.models import Honour, Member, Membership
from tests.factories import make_id_number, make_member, nth_name

from .pages_helpers import ACTORS, HP_NAME, PD_ID, PD_MOBILE, PD_NAME, assert_staff_outcome, body, login_as

# --- the five actors on every page about one 浦东 member -------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", ["member-detail", "member-end", "member-transfer"])
def test_it_shows_member_pages_only_to_those_in_reach(client, request, pd_member, actor, url_name):
    login_as(client, request, actor)
    response = client.get(reverse(url_name, args=[pd_member.pk]))
    assert_staff_outcome(response, actor)
    if actor == "outsider":
        assert PD_NAME not in body(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_it_lists_only_members_in_reach(client, request, pd_member, hp_member, actor):
    login_as(client, request, actor)
    response = client.get(reverse("member-list"))
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code == 200:
        html = body(response)
        assert (PD_NAME in html) == (actor in ("owner", "clerk"))
        assert (HP_NAME in html) == (actor in ("owner", "outsider"))


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url_name", ["member-honours", "member-register", "member-applications", "member-transfers"])
def test_it_opens_the_roll_pages_for_staff_only(client, request, tree, actor, url_name):
    login_as(client, request, actor)
    response = client.get(reverse(url_name))
    assert_staff_outcome(response, actor, outsider=200)


@pytest.mark.parametrize(
    "query",
    [PD_NAME, PD_NAME[:2], "pdj", PD_ID, PD_ID[:6] + " " + PD_ID[6:], PD_MOBILE, "+86 138 1111 2222"],
)
def test_search_finds_the_member_by_name_initials_id_and_mobile(client, clerk, pd_member, hp_member, query):
    client.force_login(clerk)
    html = body(client.get(reverse("member-list"), {"q": query}))
    assert PD_NAME in html and HP_NAME not in html


def test_search_by_member_number_is_exact(client, clerk, pd_member):
    client.force_login(clerk)
    number = pd_member.current_membership.member_number
    assert PD_NAME in body(client.get(reverse("member-list"), {"q": number}))
    assert PD_NAME not in body(client.get(reverse("member-list"), {"q": number[:-1] + "9"}))


@pytest.mark.parametrize("query", [PD_ID, PD_MOBILE, PD_NAME, "pdj"])
def test_the_outsider_never_finds_the_member_by_search(client, outsider, pd_member, query):
    client.force_login(outsider)
    response = client.get(reverse("member-list"), {"q": query})
    assert response.status_code == 200
    html = body(response)
    assert reverse("member-detail", args=[pd_member.pk]) not in html and "没有符合条件的会员" in html
    assert PD_NAME not in html.replace(f'value="{query}"', "")


def test_filters_narrow_the_roll(client, owner, tree, pd_member, hp_member):
    rider = make_member(tree["pd_union"], actor=owner, name="骑手丙", employment_form="rider", is_migrant_worker=True)
    Honour.objects.create(member=hp_member, kind=Honour.Kind.CITY_MODEL, year=2020)
    client.force_login(owner)

    def names(**params):
        html = body(client.get(reverse("member-list"), params))
        return {n for n in (PD_NAME, HP_NAME, "骑手丙") if n in html}

    assert names(employment_form="rider") == {"骑手丙"}
    assert names(is_migrant_worker="true") == {"骑手丙"}
    assert names(honour="city_model") == {HP_NAME}
    assert names(under=tree["huangpu"].pk) == {HP_NAME}
    assert names(status="active") == {PD_NAME, HP_NAME, "骑手丙"}
    assert names(status="left") == set()
    assert names(joined_from="2000-01-01") == {PD_NAME, HP_NAME, "骑手丙"}
    assert names(joined_to="2000-01-01") == set()
    assert rider.member.name == "骑手丙"


def test_bad_filter_input_is_ignored_with_a_message_not_a_500(client, clerk, pd_member):
    client.force_login(clerk)
    response = client.get(
        reverse("member-list"), {"joined_from": "明天", "status": "nonsense", "under": "99999999999999999999999"}
    )
    assert response.status_code == 200
    assert "部分筛选条件无效" in body(response)


def test_the_roll_pages_by_keyset_with_a_next_page_link(client, owner, tree, monkeypatch):
    import members.views.roll as roll

    for i in range(5):
        make_member(tree["pd_union"], actor=owner, name=nth_name("页测", i))
    monkeypatch.setattr(roll, "PAGE_SIZE", 2)
    client.force_login(owner)
    first = body(client.get(reverse("member-list")))
    assert "下一页" in first and first.count("页测") == 2
    cursor = first.split("cursor=")[1].split('"')[0].split("&")[0]
    second = body(client.get(reverse("member-list"), {"cursor": cursor}))
    assert second.count("页测") == 2 and "第一页" in second
    shown_first = {nth_name("页测", i) for i in range(5) if nth_name("页测", i) in first}
    shown_second = {nth_name("页测", i) for i in range(5) if nth_name("页测", i) in second}
    assert shown_first == {"页测戊", "页测丁"} and shown_second == {"页测丙", "页测乙"}


@pytest.mark.parametrize("narrowed", [False, True])
def test_the_roll_pages_newest_first_whether_or_not_narrowed_to_a_subtree(client, owner, tree, monkeypatch, narrowed):
    """Narrowed (?under=) the page finds its ids first, then its rows: the same pages either way."""
    import members.views.roll as roll

    for i in range(5):
        make_member(tree["pd_union"], actor=owner, name=nth_name("序测", i))
    make_member(tree["hp_union"], actor=owner, name="序测黄浦")
    monkeypatch.setattr(roll, "PAGE_SIZE", 2)
    client.force_login(owner)
    params = {"under": tree["pudong"].pk} if narrowed else {}
    seen, cursor = [], None
    for _ in range(4):
        page = body(client.get(reverse("member-list"), {**params, **({"cursor": cursor} if cursor else {})}))
        created = [*(nth_name("序测", i) for i in range(5)), "序测黄浦"]
        seen += sorted((n for n in created if n in page), key=created.index, reverse=True)
        found = re.search(r'href="[^"]*[?&]cursor=([^"&]+)[^"]*" rel="next"', page)
        if not found:
            break
        cursor = found.group(1)
    expected = [nth_name("序测", i) for i in (4, 3, 2, 1, 0)]
    assert seen == (expected if narrowed else ["序测黄浦", *expected])


def test_the_list_page_costs_a_fixed_number_of_queries(client, owner, tree, django_assert_max_num_queries):
    for i in range(30):
        make_member(tree["pd_union" if i % 2 else "hp_union"], actor=owner, name=nth_name("计数", i))
    client.force_login(owner)
    client.get(reverse("member-list"))  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(reverse("member-list"))
    assert body(response).count("计数") == 30


def test_the_htmx_filter_answers_with_the_results_fragment(client, clerk, pd_member):
    client.force_login(clerk)
    response = client.get(
        reverse("member-list"), {"q": PD_NAME}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="member-results"
    )
    html = body(response)
    assert PD_NAME in html and "<html" not in html


# --- personal data: masked everywhere, revealed once to a permitted role ---------------------


@pytest.mark.parametrize("actor", ["owner", "clerk", "outsider"])
def test_no_page_shows_the_full_id_number(client, request, pd_member, hp_member, actor):
    login_as(client, request, actor)
    for url in (
        reverse("member-list"),
        reverse("member-list") + f"?q={PD_ID}",
        reverse("member-detail", args=[pd_member.pk]),
        reverse("member-honours"),
        reverse("member-transfers"),
    ):
        html = body(client.get(url))
        assert PD_ID not in html.replace(f"q={PD_ID}", "").replace(f'value="{PD_ID}"', "")
        assert PD_MOBILE not in html


def test_the_detail_shows_masked_data_and_the_reveal_button_only_to_permitted_roles(client, owner, clerk, pd_member):
    client.force_login(owner)
    html = body(client.get(reverse("member-detail", args=[pd_member.pk])))
    assert pd_member.id_masked in html and "显示完整证件号" in html
    client.force_login(clerk)
    html = body(client.get(reverse("member-detail", args=[pd_member.pk])))
    assert pd_member.id_masked in html and "显示完整证件号" not in html


@pytest.mark.parametrize("actor", ACTORS)
def test_reveal_is_for_permitted_roles_only_and_audited(client, request, pd_member, actor):
    login_as(client, request, actor)
    response = client.post(reverse("member-reveal", args=[pd_member.pk]), {"purpose": "核对帮扶申请"})
    expected = {"owner": 200, "clerk": 403, "outsider": 404}
    assert_staff_outcome(response, actor, staff=expected.get(actor, 200))
    html = body(response)
    revealed = AuditEvent.objects.filter(action="member.personal_data_viewed").count()
    if actor == "owner":
        assert PD_ID in html and PD_MOBILE in html and "审计" in html
        assert revealed == 1
        assert response["Cache-Control"].startswith("no-store")
    else:
        assert PD_ID not in html and revealed == 0


def test_reveal_with_htmx_answers_with_the_personal_data_fragment(client, owner, pd_member):
    client.force_login(owner)
    response = client.post(
        reverse("member-reveal", args=[pd_member.pk]), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="personal-data"
    )
    html = body(response)
    assert 'id="personal-data"' in html and PD_ID in html and "<html" not in html


def test_reveal_is_post_only(client, owner, pd_member):
    client.force_login(owner)
    assert client.get(reverse("member-reveal", args=[pd_member.pk])).status_code == 405


# --- register ----------------------------------------------------------------------------------


def test_the_clerk_registers_a_member(client, clerk, tree):
    client.force_login(clerk)
    idn = make_id_number(region="310115")
    response = client.post(
        reverse("member-register"),
        {
            "union": tree["pd_union"].pk,
            "name": "新会员",
            "id_number": idn,
            "mobile": "13912345678",
            "employment_form": "full_time",
            "education": "",
            "skill_level": "",
        },
    )
    member = Member.objects.get(name="新会员")
    assert response.status_code == 302 and response["Location"] == reverse("member-detail", args=[member.pk])
    assert member.current_membership.status == Membership.Status.ACTIVE
    assert AuditEvent.objects.filter(action="member.registered").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "310115199001011234", "校验位"),
        ("id_number", "31011520991301123X", "出生日期"),
        ("id_number", "12345", "18 位"),
        ("mobile", "1381234", "11 位"),
        ("name", "", "姓名"),
    ],
)
def test_bad_registration_input_is_explained_on_the_field(client, clerk, tree, field, value, message):
    client.force_login(clerk)
    data = {
        "union": tree["pd_union"].pk,
        "name": "新会员",
        "id_number": make_id_number(region="310115"),
        "mobile": "13912345678",
        "employment_form": "full_time",
    }
    data[field] = value
    response = client.post(reverse("member-register"), data)
    assert response.status_code == 400
    assert message in body(response)
    assert not Membership.objects.exists()


def test_registering_a_second_active_membership_names_the_union(client, clerk, tree, pd_member):
    client.force_login(clerk)
    response = client.post(
        reverse("member-register"),
        {
            "union": tree["pd_union"].pk,
            "name": PD_NAME,
            "id_number": PD_ID,
            "mobile": PD_MOBILE,
            "employment_form": "full_time",
        },
    )
    assert response.status_code == 400 and tree["pd_union"].name in body(response)


def test_the_clerk_cannot_register_into_another_district(client, clerk, tree):
    client.force_login(clerk)
    response = client.post(
        reverse("member-register"),
        {
            "union": tree["hp_union"].pk,
            "name": "越界",
            "id_number": make_id_number(),
            "mobile": "13912345678",
            "employment_form": "full_time",
        },
    )
    assert response.status_code == 400 and "不在您的管辖范围内" in body(response)
    assert not Member.objects.filter(name="越界").exists()


def test_a_read_only_role_may_not_register_or_end(client, pd_auditor, pd_member):
    client.force_login(pd_auditor)
    assert client.get(reverse("member-register")).status_code == 403
    assert client.get(reverse("member-end", args=[pd_member.pk])).status_code == 403
    assert client.post(reverse("member-end", args=[pd_member.pk]), {"action": "leave"}).status_code == 403
    assert client.get(reverse("member-detail", args=[pd_member.pk])).status_code == 200


# --- leave / retire --------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "status"), [("leave", "left"), ("retire", "retired")])
def test_the_clerk_ends_a_membership_after_confirming(client, clerk, pd_member, action, status):
    client.force_login(clerk)
    page = body(client.get(reverse("member-end", args=[pd_member.pk]), {"action": action}))
    assert "不能撤销" in page and "data-confirm" in page
    response = client.post(reverse("member-end", args=[pd_member.pk]), {"action": action, "reason": "个人原因"})
    assert response.status_code == 302
    ms = Membership.objects.get(pk=pd_member.current_membership_id)
    assert ms.status == status and ms.end_reason == "个人原因"


def test_ending_with_a_future_date_is_refused_with_a_message(client, clerk, pd_member):
    client.force_login(clerk)
    response = client.post(reverse("member-end", args=[pd_member.pk]), {"action": "leave", "ended_on": "2999-01-01"})
    assert response.status_code == 400 and "不能晚于今天" in body(response)


def test_ending_twice_is_refused_not_a_500(client, clerk, pd_member):
    client.force_login(clerk)
    client.post(reverse("member-end", args=[pd_member.pk]), {"action": "leave"})
    response = client.post(reverse("member-end", args=[pd_member.pk]), {"action": "retire"})
    assert response.status_code == 400 and "不能变更" in body(response)


@pytest.mark.parametrize("actor", ["outsider", "worker", "anonymous"])
def test_others_cannot_end_a_membership(client, request, pd_member, actor):
    login_as(client, request, actor)
    response = client.post(reverse("member-end", args=[pd_member.pk]), {"action": "leave"})
    assert response.status_code in (302, 404)
    assert Membership.objects.get(pk=pd_member.current_membership_id).status == "active"


# --- honours ---------------------------------------------------------------------------------


def test_the_clerk_adds_an_honour_and_it_is_listed(client, clerk, outsider, pd_member):
    client.force_login(clerk)
    response = client.post(
        reverse("member-honour-add", args=[pd_member.pk]), {"kind": "city_craftsman", "year": 2023, "note": "数控"}
    )
    assert response.status_code == 302
    html = body(client.get(reverse("member-honours"), {"kind": "city_craftsman"}))
    assert PD_NAME in html and "市级工匠" in html
    assert PD_NAME not in body(client.get(reverse("member-honours"), {"kind": "city_model"}))
    client.force_login(outsider)
    assert PD_NAME not in body(client.get(reverse("member-honours")))
    assert (
        client.post(reverse("member-honour-add", args=[pd_member.pk]), {"kind": "city_model", "year": 2020}).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "", "year": 2020}, "荣誉类别"),
        ({"kind": "city_model", "year": 1900}, "1950"),
        ({"kind": "city_model", "year": "abc"}, "授予年度"),
    ],
)
def test_bad_honour_input_is_explained(client, clerk, pd_member, data, message):
    client.force_login(clerk)
    response = client.post(reverse("member-honour-add", args=[pd_member.pk]), data)
    assert response.status_code == 400 and message in body(response)
    assert not Honour.objects.exists()


def test_honours_list_costs_a_fixed_number_of_queries(client, owner, tree, django_assert_max_num_queries):
    for i in range(20):
        ms = make_member(tree["pd_union"], actor=owner, name=nth_name("劳模", i))
        Honour.objects.create(member=ms.member, kind=Honour.Kind.CITY_MODEL, year=2000 + i)
    client.force_login(owner)
    client.get(reverse("member-honours"))
    with django_assert_max_num_queries(10):
        response = client.get(reverse("member-honours"))
    assert body(response).count("劳模") >= 20


# --- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_export_contains_only_members_in_reach_masked(client, request, pd_member, hp_member, actor):
    login_as(client, request, actor)
    response = client.get(reverse("member-export"), {"format": "csv"})
    assert_staff_outcome(response, actor, outsider=200)
    if response.status_code != 200:
        return
    text = body(response)
    assert (PD_NAME in text) == (actor in ("owner", "clerk"))
    assert (HP_NAME in text) == (actor in ("owner", "outsider"))
    assert PD_ID not in text
    assert AuditEvent.objects.filter(action="member.exported").exists()


def test_export_xlsx_follows_the_list_filters(client, clerk, tree, pd_member):
    make_member(tree["pd_union"], actor=clerk, name="另一位", employment_form="courier")
    client.force_login(clerk)
    response = client.get(reverse("member-export"), {"format": "xlsx", "employment_form": "courier"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    wb = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "会员编号" and [r[1] for r in rows[1:]] == ["另一位"]


def test_a_full_export_is_given_only_to_permitted_roles(client, owner, clerk, pd_member):
    client.force_login(owner)
    text = body(client.get(reverse("member-export"), {"format": "csv", "full": "1"}))
    assert PD_ID in text
    client.force_login(clerk)
    text = body(client.get(reverse("member-export"), {"format": "csv", "full": "1"}))
    assert PD_ID not in text and pd_member.id_masked in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][4] == "身份证号码"


def test_a_bad_export_format_is_a_message_not_a_500(client, clerk, pd_member):
    client.force_login(clerk)
    response = client.get(reverse("member-export"), {"format": "pdf"}, follow=True)
    assert response.status_code == 200 and "xlsx 或 csv" in body(response)


def test_union_options_only_list_member_holding_unions_in_reach(client, clerk, tree):
    client.force_login(clerk)
    html = body(client.get(reverse("member-union-options"), {"q": "工会"}))
    assert tree["pd_union"].name in html and tree["hp_union"].name not in html and "浦东新区总工会" not in html


@pytest.mark.parametrize(
    "url_name",
    [
        "member-list",
        "member-honours",
        "member-applications",
        "member-transfers",
        "member-imports",
        "member-join-codes",
    ],
)
@pytest.mark.parametrize("value", [["abc", 1], [{"dt": "2020-01-01T00:00:00"}, 1], [10**30, 5], [1.5, 2], "junk"])
def test_a_hand_edited_cursor_starts_over_instead_of_failing(client, owner, pd_member, url_name, value):
    import base64
    import json

    client.force_login(owner)
    cursor = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    response = client.get(reverse(url_name), {"cursor": cursor})
    assert response.status_code == 200


def test_the_join_code_list_costs_a_fixed_number_of_queries(client, owner, tree, django_assert_max_num_queries):
    from members import services
    from tests.factories import StationFactory

    for i in range(15):
        station = StationFactory(organization=tree["lujiazui"], name=f"站点{i}")
        services.join_code_create(actor=owner, station=station)
        services.join_code_create(actor=owner, union=tree["hp_union"], label=f"码{i}")
    client.force_login(owner)
    client.get(reverse("member-join-codes"))
    with django_assert_max_num_queries(14):
        response = client.get(reverse("member-join-codes"))
    assert body(response).count("站点") >= 15


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_headers_follow_the_language_of_the_request(client, clerk, pd_member, fmt):
    client.force_login(clerk)
    response = client.get(reverse("member-export"), {"format": fmt}, HTTP_ACCEPT_LANGUAGE="en")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "csv":
        header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        header = list(next(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)))
    assert header[:2] == ["Member number", "Name"] and "Migrant worker" in header
    assert not any("\u4e00" <= ch <= "\u9fff" for h in header for ch in h)
